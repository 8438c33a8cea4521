import json
import os
import shutil
from pathlib import Path

import pytest

from pmtype import persist
from pmtype.errors import ModelIncompatible, ModelNotFound, ModelTampered, OutputExists
from pmtype.model import load_model


@pytest.fixture
def copy(model_dir, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(model_dir, target)
    return target


def test_a_saved_model_loads(copy):
    assert load_model(copy).model_id.startswith("tiny-")


def test_the_model_id_tells_models_of_the_same_data_apart(model_dir, corpus_csv, tmp_path):
    from pmtype.training import train

    again = train([corpus_csv], tmp_path / "tiny", use_seed=False)["model_id"]
    other = train([corpus_csv], tmp_path / "tiny", use_seed=False, drop_boilerplate=True, overwrite=True)["model_id"]
    assert again == load_model(model_dir).model_id  # the same data, settings and code: the same id
    assert other != again and other.startswith("tiny-")


def test_one_changed_byte_is_refused(copy):
    path = copy / "model.joblib"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelTampered) as e:
        load_model(copy)
    assert str(e.value) == (
        f"{path} does not match the SHA-256 in its manifest; it was changed after it was written. "
        "Refusing to load it: rebuild with 'pmtype train'"
    )


def test_an_edited_manifest_hash_is_refused(copy):
    m = json.loads((copy / "manifest.json").read_text())
    m["model_sha256"] = "0" * 64
    (copy / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ModelTampered):
        load_model(copy)


def test_a_broken_manifest_is_refused(copy):
    (copy / "manifest.json").write_text("{not json")
    with pytest.raises(ModelTampered) as e:
        load_model(copy)
    assert str(e.value) == f"{copy / 'manifest.json'} is not a valid pmtype manifest; rebuild the model with 'pmtype train'"


def test_a_missing_manifest_is_refused(copy):
    (copy / "manifest.json").unlink()
    with pytest.raises(ModelTampered) as e:
        load_model(copy)
    assert str(e.value) == f"{copy} has no manifest.json; refusing to load an unverified model. Rebuild it with 'pmtype train'"


def test_another_scikit_learn_version_is_refused(copy):
    m = json.loads((copy / "manifest.json").read_text())
    m["versions"]["scikit-learn"] = "0.24.2"
    (copy / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ModelIncompatible) as e:
        load_model(copy)
    import sklearn

    assert str(e.value) == (
        f"{copy} was built with scikit-learn 0.24.2 (installed {sklearn.__version__}); "
        "rebuild it with 'pmtype train'"
    )


def test_missing_and_non_folder_paths_are_refused(tmp_path):
    with pytest.raises(ModelNotFound) as e:
        load_model(tmp_path / "nope")
    assert str(e.value) == f"no model at {tmp_path / 'nope'}; build one with 'pmtype train'"
    f = tmp_path / "file.joblib"
    f.write_text("x")
    with pytest.raises(ModelNotFound) as e:
        load_model(f)
    assert "is not a model folder" in str(e.value)


def test_saving_never_overwrites_unless_asked(copy):
    with pytest.raises(OutputExists):
        persist.save_model({"x": 1}, copy, {})
    persist.save_model({"x": 1}, copy, {"model_id": "m"}, overwrite=True)
    obj, manifest = persist.load_model(copy)
    assert obj == {"x": 1} and manifest["model_id"] == "m"
    assert not [p for p in copy.parent.iterdir() if p.name.startswith(".")]


def test_an_overwrite_moves_the_old_model_aside_under_a_name_that_holds_the_writer(copy, monkeypatch):
    moves = []
    replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (moves.append(os.path.basename(dst)), replace(src, dst)))
    persist.save_model({"x": 1}, copy, {"model_id": "m"}, overwrite=True)
    aside = f".{copy.name}.{os.getpid()}-{persist.HOST_TAG}.old"
    assert moves == [aside, copy.name]
    assert persist.MOVED_ASIDE_NAME.fullmatch(aside)["name"] == copy.name


def test_a_model_this_code_cannot_unpickle_is_refused(copy):
    """A file whose hash is right but whose classes this pmtype no longer has."""
    from pmtype.persist import sha256_of

    path = copy / "model.joblib"
    path.write_bytes(b"cpmtype.no_such_module\nGone\n)\x81.")  # a pickle naming a class that is gone
    m = json.loads((copy / "manifest.json").read_text())
    m["model_sha256"] = sha256_of(path)
    (copy / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ModelIncompatible) as e:
        load_model(copy)
    assert str(e.value) == (
        f"{copy} cannot be read by this pmtype (ModuleNotFoundError); rebuild it with 'pmtype train'"
    )


def _save_when_all_are_ready(barrier, results, folder, i):
    barrier.wait()
    try:
        persist.save_model({"x": i}, folder, {"model_id": f"m{i}"})
        results.put(("written", i))
    except OutputExists as e:
        results.put(("refused", str(e)))


def test_of_runs_saving_one_new_folder_at_once_one_wins_and_the_others_are_told(tmp_path):
    import multiprocessing

    context = multiprocessing.get_context("fork")
    runs = 4
    barrier, results = context.Barrier(runs), context.Queue()
    target = tmp_path / "race"
    processes = [context.Process(target=_save_when_all_are_ready, args=(barrier, results, target, i))
                 for i in range(runs)]
    for p in processes:
        p.start()
    got = [results.get(timeout=60) for _ in processes]
    for p in processes:
        p.join(timeout=60)
    written = [i for kind, i in got if kind == "written"]
    assert len(written) == 1
    assert {message for kind, message in got if kind == "refused"} <= {
        f"{target} already exists; choose another name or pass --overwrite (overwrite=True in Python)",
        f"{target} was written by another run while this model was trained; choose another name or pass --overwrite (overwrite=True in Python)"}
    obj, manifest = persist.load_model(target)
    assert obj == {"x": written[0]} and manifest["model_id"] == f"m{written[0]}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race"]


def test_a_folder_written_while_the_model_was_saved_is_kept(copy, tmp_path, monkeypatch):
    import joblib

    target = tmp_path / "new"
    dump = joblib.dump

    def dump_then_lose(obj, path, *args, **kwargs):
        dump(obj, path, *args, **kwargs)
        shutil.copytree(copy, target)  # another run's model gets there first

    monkeypatch.setattr(joblib, "dump", dump_then_lose)
    with pytest.raises(OutputExists) as e:
        persist.save_model({"x": 1}, target, {"model_id": "m"})
    assert str(e.value) == (f"{target} was written by another run while this model was trained; "
                            "choose another name or pass --overwrite (overwrite=True in Python)")
    assert e.value.path == target
    assert load_model(target).model_id == load_model(copy).model_id
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy", "new"]


def test_saving_to_dot_never_crashes_and_never_replaces_the_working_directory(copy, monkeypatch):
    monkeypatch.chdir(copy)
    before = (copy / "model.joblib").read_bytes()
    for overwrite, message in ((False, f"{copy} already exists; choose another name or pass --overwrite (overwrite=True in Python)"),
                               (True, f"{copy} is the working directory, or holds it: replacing it would "
                                      "leave you in a deleted folder; run train from outside it")):
        with pytest.raises(OutputExists) as e:
            persist.save_model({"x": 1}, Path("."), {"model_id": "m"}, overwrite=overwrite)
        assert str(e.value) == message
    assert (copy / "model.joblib").read_bytes() == before


def test_a_relative_folder_with_no_name_of_its_own_is_saved_beside_its_parent(tmp_path, monkeypatch):
    (tmp_path / "a" / "b").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "a" / "b")
    persist.save_model({"x": 1}, Path("../../m/x/.."), {"model_id": "m"})
    assert persist.load_model(tmp_path / "m")[0] == {"x": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "m"]


# --- overwriting replaces a model, never what was put beside it ----------------------------

def test_overwriting_refuses_a_model_folder_that_holds_more_than_the_model(copy):
    (copy / "NOTES.md").write_text("mine")
    (copy / "report").mkdir()
    (copy / "report" / "metrics.json").write_text("{}")
    model_id = load_model(copy).model_id
    with pytest.raises(OutputExists) as e:
        persist.save_model({"x": 1}, copy, {"model_id": "m"}, overwrite=True)
    assert str(e.value) == f"{copy} holds more than a model (NOTES.md, report); move them or give another -o"
    assert e.value.path == copy
    assert sorted(p.name for p in copy.iterdir()) == ["NOTES.md", "manifest.json", "model.joblib", "report"]
    assert load_model(copy).model_id == model_id
    assert not [p for p in copy.parent.iterdir() if p.name.startswith(".")]


def test_a_model_folder_with_many_other_things_names_three(copy):
    for name in ("a.txt", "b.txt", "c.txt", "d.txt"):
        (copy / name).write_text("mine")
    with pytest.raises(OutputExists) as e:
        persist.check_replaceable(copy, overwrite=True)
    assert str(e.value) == f"{copy} holds more than a model (a.txt, b.txt, c.txt, …); move them or give another -o"


def test_a_model_folder_holding_what_pmtype_writes_and_nothing_else_is_replaced(copy):
    assert sorted(p.name for p in copy.iterdir()) == sorted(persist.MODEL_FOLDER_FILES)
    persist.save_model({"x": 1}, copy, {"model_id": "m"}, overwrite=True)
    assert persist.load_model(copy)[0] == {"x": 1}
    assert sorted(p.name for p in copy.iterdir()) == sorted(persist.MODEL_FOLDER_FILES)
    (copy / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")  # a file browser looked at the folder: no user's work
    persist.save_model({"x": 2}, copy, {"model_id": "m"}, overwrite=True)
    assert persist.load_model(copy)[0] == {"x": 2}


def test_something_put_into_the_model_folder_while_the_new_one_is_written_is_kept(copy, monkeypatch):
    import joblib

    dump = joblib.dump

    def dump_then_notes_appear(obj, path, *args, **kwargs):
        dump(obj, path, *args, **kwargs)
        (copy / "NOTES.md").write_text("written meanwhile")

    monkeypatch.setattr(joblib, "dump", dump_then_notes_appear)
    with pytest.raises(OutputExists) as e:
        persist.save_model({"x": 1}, copy, {"model_id": "m"}, overwrite=True)
    assert str(e.value) == f"{copy} holds more than a model (NOTES.md); move them or give another -o"
    assert (copy / "NOTES.md").read_text() == "written meanwhile"
    assert not [p for p in copy.parent.iterdir() if p.name.startswith(".")]


# --- a folder that is no model ----------------------------------------------------------------

def test_a_folder_with_neither_manifest_nor_model_file_is_not_a_model_folder(tmp_path):
    folder = tmp_path / "somewhere"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    for check in (load_model, persist.verify_model, persist.read_manifest):
        with pytest.raises(ModelNotFound) as e:
            check(folder)
        assert str(e.value) == f"{folder} is not a model folder (no manifest.json, no model.joblib)"


# --- the manifest's format ----------------------------------------------------------------------

def test_a_manifest_of_another_format_is_refused_and_one_without_a_format_loads(copy):
    m = json.loads((copy / "manifest.json").read_text())
    assert m["format"] == persist.FORMAT_VERSION
    (copy / "manifest.json").write_text(json.dumps({**m, "format": 7}))
    with pytest.raises(ModelIncompatible) as e:
        load_model(copy)
    assert str(e.value) == (f"{copy} is a model of format 7; this pmtype reads format {persist.FORMAT_VERSION}: "
                            "rebuild it with 'pmtype train'")
    (copy / "manifest.json").write_text(json.dumps({k: v for k, v in m.items() if k != "format"}))
    assert load_model(copy).model_id == m["model_id"]  # written before manifests recorded a format
