"""Keeping model versions safe: removing one, -o into the models folder, two runs writing one
version at once, ``-o .``, and a PMTYPE_MODELS_DIR that names a file."""

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import install_model as _install
from pmtype import config, persist
from pmtype.errors import (BadModelName, CannotWrite, ModelInUse, ModelNotFound, NestedModelFolder, NotAModelVersion,
                           OutputExists)
from pmtype.model import default_model_path, load_model
from pmtype.registry import (
    Unfinished,
    list_models,
    remove_unfinished,
    remove_version,
    train_version,
    use_model,
    version_path,
)

RESERVED = ("is not a model version name: use letters, digits, '.', '_' and '-', starting with a letter "
            "or digit (other spellings of 'default', such as 'DEFAULT', are reserved)")


def _model_id(folder):
    return json.loads((folder / persist.MANIFEST_FILE).read_text())["model_id"]


@pytest.fixture
def no_training(monkeypatch):
    """Training fails the test: what is refused must be refused before the work."""
    def fit_model(*args, **kwargs):
        raise AssertionError("the model was trained")

    monkeypatch.setattr("pmtype.training.fit_model", fit_model)


# --- removing a version ----------------------------------------------------------------

def test_remove_version_removes_it_and_nothing_else(model_dir):
    a = _install(model_dir, "a")
    _install(model_dir, "b")
    use_model("b")
    removed = remove_version("a")
    assert (removed.name, removed.path, removed.model_id, removed.is_default) == ("a", a, _model_id(model_dir), False)
    assert [v.name for v in list_models()] == ["b"]
    assert sorted(p.name for p in config.models_dir().iterdir()) == [".default-version", "b"]
    assert default_model_path() == config.models_dir() / "b"


def test_the_default_version_is_not_removed(model_dir):
    b = _install(model_dir, "b")
    use_model("b")
    with pytest.raises(ModelInUse) as e:
        remove_version("b")
    assert str(e.value) == ("'b' is the default model; make another version the default first "
                            "('pmtype models use NAME'), then remove it")
    assert load_model("b").model_id == _model_id(b)


def test_the_built_in_default_is_not_removed_while_it_is_the_default(model_dir):
    _install(model_dir, "default")
    _install(model_dir, "other")
    with pytest.raises(ModelInUse) as e:
        remove_version("default")
    assert str(e.value) == ("'default' is the default model; make another version the default first "
                            "('pmtype models use NAME'), then remove it")
    use_model("other")
    assert remove_version("default").name == "default"
    assert [v.name for v in list_models()] == ["other"]


def test_a_broken_version_can_be_removed_and_so_can_any_while_the_pointer_is_broken(model_dir):
    bad = _install(model_dir, "bad")
    (bad / persist.MANIFEST_FILE).write_text("{not json")
    _install(model_dir, "fine")
    (config.models_dir() / ".default-version").write_text("../elsewhere\n")
    assert remove_version("bad").problem == (f"{bad / persist.MANIFEST_FILE} is not a valid pmtype manifest; "
                                             "rebuild the model with 'pmtype train'")
    assert remove_version("fine").name == "fine"
    assert list_models() == []


def test_a_folder_no_version_can_be_named_is_listed_as_unusable(model_dir):
    """'DEFAULT' (the pointer's name before, which -o models/DEFAULT could make) and other such folders."""
    for name in ("DEFAULT", "a b", "v1"):
        _install(model_dir, name)
    versions = {v.name: v for v in list_models()}
    assert versions["v1"].problem is None
    for name in ("DEFAULT", "a b"):
        assert versions[name].problem == f"'{name}' {RESERVED}"


@pytest.mark.parametrize("name", ["../x", ".cache", ".default-version", "DEFAULT", "a/b"])
def test_only_a_version_name_is_removed(name):
    with pytest.raises(BadModelName) as e:
        remove_version(name)
    assert str(e.value) == f"'{name}' {RESERVED}"


def test_a_missing_version_or_a_folder_that_holds_no_model_is_not_removed(model_dir):
    with pytest.raises(ModelNotFound) as e:
        remove_version("nope")
    assert str(e.value) == f"no model version 'nope' in {config.models_dir()}; 'pmtype models' lists them"
    notes = config.models_dir() / "notes"
    notes.mkdir(parents=True)
    (notes / "todo.txt").write_text("keep me")
    with pytest.raises(NotAModelVersion) as e:
        remove_version("notes")
    assert str(e.value) == (f"{notes} holds no model (no manifest.json or model.joblib); pmtype removes only "
                            "model versions: remove it yourself")
    assert (notes / "todo.txt").read_text() == "keep me"


def test_a_version_stops_being_one_before_its_files_are_deleted(model_dir, monkeypatch):
    """Removed by renaming it to a temporary name first: a removal stopped half-way leaves no half
    version, only a temporary folder that remove_unfinished removes once this process is gone."""
    a = _install(model_dir, "a")
    seen = []

    def rmtree(path, ignore_errors=False):  # the deletion stops before it starts
        seen.append((path, a.exists(), [v.name for v in list_models()]))

    monkeypatch.setattr(shutil, "rmtree", rmtree)
    remove_version("a")
    [(aside, still_there, listed)] = seen
    assert not still_there and listed == []
    writer = persist.TEMPORARY_NAME.fullmatch(aside.name)
    assert aside.parent == config.models_dir() and aside.is_dir()
    assert (writer["name"], writer["pid"], writer["host"]) == ("a", str(os.getpid()), persist.HOST_TAG)
    monkeypatch.undo()
    assert remove_unfinished(max_age=0) == Unfinished()  # a live process's: left alone
    assert not (config.models_dir() / "a").exists()  # and never put back as the version


# --- a version named by a path ----------------------------------------------------------------

def test_a_version_may_be_named_by_a_path_that_is_one_plain_name(model_dir, corpus_csv, no_training):
    _install(model_dir, "v1")
    _install(model_dir, "v2")
    assert version_path(Path("v1")) == config.models_dir() / "v1"
    assert use_model(Path("v1")).name == "v1"
    assert (config.models_dir() / ".default-version").read_text() == "v1\n"
    assert remove_version(Path("v2")).name == "v2"
    assert [v.name for v in list_models()] == ["v1"]
    with pytest.raises(OutputExists) as e:  # taken as the name it is, so refused as an existing version
        train_version([corpus_csv], name=Path("v1"), use_seed=False)
    assert str(e.value) == (f"model version 'v1' already exists in {config.models_dir()}; "
                            "versions are never replaced: choose another name")
    for call in (use_model, remove_version):
        with pytest.raises(BadModelName) as e:
            call(Path("models") / "v1")
        assert str(e.value) == f"'models/v1' {RESERVED}"


@pytest.mark.parametrize("name,kind", [(1, "int"), (b"v1", "bytes"), (None, "NoneType")])
def test_a_version_name_that_is_neither_text_nor_a_path_is_a_type_error(name, kind, corpus_csv, no_training):
    calls = [version_path, use_model, remove_version]
    if name is not None:  # train_version's name=None is a version named by the time and the data
        calls.append(lambda n: train_version([corpus_csv], name=n, use_seed=False))
    for call in calls:
        with pytest.raises(TypeError) as e:
            call(name)
        assert str(e.value) == f"a model version name is a str or a path-like object such as pathlib.Path, not {kind}"


# --- overwriting a model folder ----------------------------------------------------------------

def test_overwrite_refuses_a_model_folder_that_holds_more_than_the_model_before_training(model_dir, corpus_csv,
                                                                                        tmp_path, no_training):
    mine = tmp_path / "mine_model"
    shutil.copytree(model_dir, mine)
    (mine / "NOTES.md").write_text("mine")
    (mine / "report").mkdir()
    with pytest.raises(OutputExists) as e:
        train_version([corpus_csv], output=mine, use_seed=False, overwrite=True)
    assert str(e.value) == f"{mine} holds more than a model (NOTES.md, report); move them or give another -o"
    assert sorted(p.name for p in mine.iterdir()) == ["NOTES.md", "manifest.json", "model.joblib", "report"]


# --- -o into the models folder -------------------------------------------------------------

@pytest.mark.parametrize("overwrite", [False, True])
def test_output_into_the_models_folder_never_replaces_a_version(model_dir, corpus_csv, no_training, overwrite):
    v2 = _install(model_dir, "v2")
    use_model("v2")
    before = (v2 / "model.joblib").read_bytes()
    for output in (v2, config.models_dir() / "." / "v2"):
        with pytest.raises(OutputExists) as e:
            train_version([corpus_csv], output=output, use_seed=False, overwrite=overwrite)
        assert str(e.value) == (f"model version 'v2' already exists in {config.models_dir()}; "
                                "versions are never replaced: choose another name")
    assert (v2 / "model.joblib").read_bytes() == before and default_model_path() == v2


def test_output_into_the_models_folder_from_inside_it(model_dir, corpus_csv, no_training, monkeypatch):
    _install(model_dir, "v2")
    monkeypatch.chdir(config.models_dir())
    with pytest.raises(OutputExists) as e:
        train_version([corpus_csv], output="v2", use_seed=False, overwrite=True)
    assert str(e.value) == (f"model version 'v2' already exists in {config.models_dir()}; "
                            "versions are never replaced: choose another name")


@pytest.mark.parametrize("name", ["DEFAULT", "Default", ".default-version", ".hidden", "a b"])
def test_output_into_the_models_folder_takes_a_version_name(corpus_csv, no_training, name):
    config.models_dir().mkdir(parents=True)
    with pytest.raises(BadModelName) as e:
        train_version([corpus_csv], output=config.models_dir() / name, use_seed=False, overwrite=True)
    assert str(e.value) == f"'{name}' {RESERVED}"
    assert sorted(p.name for p in config.models_dir().iterdir() if not p.name.startswith(".cache")) == []


def test_output_inside_a_model_or_the_models_folders_own_files_is_refused_before_training(
        model_dir, corpus_csv, tmp_path, no_training, monkeypatch):
    default = _install(model_dir, "default")
    (config.models_dir() / ".cache").mkdir()
    elsewhere = tmp_path / "mine"
    shutil.copytree(model_dir, elsewhere)
    inside = {
        default / "sub": "is inside the folder of model version 'default'; a model cannot be written into "
                         "another: choose another -o",
        config.models_dir() / "v9" / "a" / "b": "is inside the folder of model version 'v9'; a model cannot be "
                                                 "written into another: choose another -o",
        config.models_dir() / ".cache" / "m": f"is inside {config.models_dir() / '.cache'}, which pmtype keeps "
                                              "for itself in the models folder: choose another -o",
        elsewhere / "sub" / "m": f"is inside the model folder {elsewhere}; a model cannot be written into "
                                 "another: choose another -o",
    }
    for output, message in inside.items():
        for overwrite in (False, True):
            with pytest.raises(NestedModelFolder) as e:
                train_version([corpus_csv], output=output, use_seed=False, overwrite=overwrite)
            assert isinstance(e.value, BadModelName) and e.value.exit_code == 2
            assert str(e.value) == f"{output} {message}"
    monkeypatch.chdir(elsewhere)
    with pytest.raises(NestedModelFolder) as e:
        train_version([corpus_csv], output="sub", use_seed=False)
    assert str(e.value) == f"sub is inside the model folder {elsewhere}; a model cannot be written into another: " \
                           "choose another -o"
    assert sorted(p.name for p in config.models_dir().iterdir()) == [".cache", "default"]
    assert sorted(p.name for p in default.iterdir()) == ["manifest.json", "model.joblib"]
    assert sorted(p.name for p in elsewhere.iterdir()) == ["manifest.json", "model.joblib"]


def test_output_inside_a_folder_with_a_manifest_json_of_its_own_is_no_nested_model(corpus_csv, tmp_path, monkeypatch):
    project = tmp_path / "web-project"  # a web app's or browser extension's manifest, no model
    project.mkdir()
    (project / "manifest.json").write_text('{"name": "my extension", "manifest_version": 3}')
    monkeypatch.chdir(project)
    trained = train_version([corpus_csv], output="pm-model", use_seed=False)
    assert (project / "pm-model" / "model.joblib").is_file()
    assert load_model(project / "pm-model").model_id == trained.manifest["model_id"]


def test_output_into_the_models_folder_makes_a_new_version_and_rebuilds_the_built_in_default(corpus_csv):
    mine = train_version([corpus_csv], output=config.models_dir() / "mine", use_seed=False)
    assert mine.manifest["model_id"].startswith("mine-") and load_model("mine").model_id == mine.manifest["model_id"]
    for _ in range(2):  # what 'make model' runs: -o models/default --overwrite
        default = train_version([corpus_csv], output=config.models_dir() / "default", use_seed=False,
                                overwrite=True)
        assert load_model(None).model_id == default.manifest["model_id"]
    assert sorted(v.name for v in list_models()) == ["default", "mine"]


# --- two runs writing one version -----------------------------------------------------------

def _another_run_finishes_first(monkeypatch, model_dir):
    """While this run writes its model, another run puts its model where this one's is going."""
    import joblib

    dump = joblib.dump

    def dump_then_lose(obj, path, *args, **kwargs):
        dump(obj, path, *args, **kwargs)
        name = persist.TEMPORARY_NAME.fullmatch(os.path.basename(os.path.dirname(path)))["name"]
        shutil.copytree(model_dir, config.models_dir() / name)

    monkeypatch.setattr(joblib, "dump", dump_then_lose)


def test_of_two_runs_training_one_named_version_the_second_is_told(model_dir, corpus_csv, monkeypatch):
    _another_run_finishes_first(monkeypatch, model_dir)
    with pytest.raises(OutputExists) as e:
        train_version([corpus_csv], name="race", use_seed=False)
    assert str(e.value) == (f"model version 'race' was written to {config.models_dir()} by another run while "
                            "this one was trained; versions are never replaced: train again under another name")
    assert _model_id(config.models_dir() / "race") == _model_id(model_dir)  # the first run's model is kept
    assert [p.name for p in config.models_dir().iterdir() if persist.TEMPORARY_NAME.fullmatch(p.name)] == []


def test_of_two_runs_writing_one_auto_named_version_the_second_is_told(model_dir, corpus_csv, monkeypatch):
    _another_run_finishes_first(monkeypatch, model_dir)
    with pytest.raises(OutputExists) as e:
        train_version([corpus_csv], use_seed=False)
    [version] = list_models()
    assert str(e.value) == (f"model version '{version.name}' was written to {config.models_dir()} by another run "
                            "of the same data in the same second; versions are never replaced: train again")
    assert version.model_id == _model_id(model_dir)


# --- -o . -----------------------------------------------------------------------------------

def test_output_dot_inside_a_model_folder_is_refused_before_training(model_dir, corpus_csv, tmp_path,
                                                                     no_training, monkeypatch):
    here = tmp_path / "mdir"
    shutil.copytree(model_dir, here)
    (here / "sub").mkdir()
    for cwd, output in ((here, "."), (here / "sub", "..")):
        monkeypatch.chdir(cwd)
        with pytest.raises(OutputExists) as e:
            train_version([corpus_csv], output=output, use_seed=False, overwrite=True)
        assert str(e.value) == (f"{here} is the working directory, or holds it: replacing it would leave you "
                                "in a deleted folder; run train from outside it")
    monkeypatch.chdir(here)
    with pytest.raises(OutputExists) as e:
        train_version([corpus_csv], output=".", use_seed=False)
    assert str(e.value) == f"{here} already exists; choose another name or pass --overwrite (overwrite=True in Python)"
    assert _model_id(here) == _model_id(model_dir)


def test_an_output_named_by_dot_dot_is_named_after_its_folder(corpus_csv, tmp_path):
    outcome = train_version([corpus_csv], output=tmp_path / "new" / "x" / "..", use_seed=False)
    assert outcome.path == tmp_path / "new"
    assert outcome.manifest["model_id"].startswith("new-") and outcome.manifest["name"] == "new"
    assert load_model(tmp_path / "new").model_id == outcome.manifest["model_id"]


# --- PMTYPE_MODELS_DIR ------------------------------------------------------------------------

def test_a_models_dir_that_is_a_file_is_an_error_at_once(tmp_path, monkeypatch, corpus_csv, no_training):
    def build(*args, **kwargs):
        raise AssertionError("the default model was built")

    monkeypatch.setattr("pmtype.training.build_default_model", build)
    blocker = tmp_path / "small.csv"
    blocker.write_text("x")
    for value, message in (
        (blocker, f"PMTYPE_MODELS_DIR names {blocker}, which is a file, not a folder; point PMTYPE_MODELS_DIR "
                  "at a folder for the models, or unset it"),
        (blocker / "models", f"PMTYPE_MODELS_DIR names {blocker / 'models'}, which cannot be a folder: {blocker} "
                             "is a file; point PMTYPE_MODELS_DIR at a folder for the models, or unset it"),
    ):
        monkeypatch.setenv("PMTYPE_MODELS_DIR", str(value))
        for call in (config.models_dir, lambda: load_model(None), list_models, lambda: use_model("v1"),
                     lambda: train_version([corpus_csv], use_seed=False)):
            with pytest.raises(CannotWrite) as e:
                call()
            assert str(e.value) == message
        assert remove_unfinished() == Unfinished()  # tidying never stops the caller: what follows says it
    assert blocker.read_text() == "x"


def test_a_models_dir_that_is_a_link_to_nothing_is_an_error_at_once(tmp_path, monkeypatch, corpus_csv, no_training):
    link = tmp_path / "models"
    link.symlink_to(tmp_path / "nowhere")
    monkeypatch.setenv("PMTYPE_MODELS_DIR", str(link))
    message = (f"PMTYPE_MODELS_DIR names {link}, a symbolic link to nothing ({tmp_path / 'nowhere'}); point "
               "PMTYPE_MODELS_DIR at a folder for the models, or unset it")
    for call in (config.models_dir, lambda: train_version([corpus_csv], use_seed=False, name="x")):
        with pytest.raises(CannotWrite) as e:  # not after training, as 'models/x cannot be written: file exists'
            call()
        assert str(e.value) == message


@pytest.mark.parametrize("variable", ["PMTYPE_MODELS_DIR", "PMTYPE_SEED_CORPUS"])
def test_a_variable_of_blanks_is_unset(monkeypatch, variable):
    monkeypatch.delenv(variable)
    unset = config.models_dir() if variable == "PMTYPE_MODELS_DIR" else config.seed_corpus_path()
    monkeypatch.setenv(variable, "  ")
    assert (config.models_dir() if variable == "PMTYPE_MODELS_DIR" else config.seed_corpus_path()) == unset


def test_a_models_dir_that_does_not_exist_yet_is_fine(tmp_path, monkeypatch):
    monkeypatch.setenv("PMTYPE_MODELS_DIR", str(tmp_path / "not" / "yet"))
    assert config.models_dir() == tmp_path / "not" / "yet"
    assert list_models() == []
