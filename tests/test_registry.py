"""Model versions, the default pointer, comparing two models and promoting one."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import BUSINESS_POSTING, SWAP, TECH_POSTING, install_model as _install
from pmtype import config, persist
from pmtype.batch import label_file
from pmtype.errors import (
    BadInputFile,
    BadModelName,
    BadOption,
    BadTrainingData,
    CannotWrite,
    ModelNotFound,
    ModelTampered,
    NotAModelVersion,
    OutputExists,
)
from pmtype.metrics import _point_metrics
from pmtype.model import default_model_path, load_model
from pmtype.registry import (
    BETTER,
    INCONCLUSIVE,
    NOT_WORSE,
    WORSE,
    Unfinished,
    _batch_metrics,
    compare,
    format_comparison,
    list_models,
    paired_bootstrap,
    remove_unfinished,
    remove_version,
    train_version,
    use_model,
    verdict,
    version_path,
)

def _manifest(folder):
    return json.loads((folder / "manifest.json").read_text())


def _pointer():
    """The file naming the default version."""
    return config.models_dir() / ".default-version"


# --- names and the default pointer -------------------------------------------------------

@pytest.mark.parametrize("name", ["../x", ".hidden", "a/b", "DEFAULT", "Default", "dEFAULT", "-x", "a b",
                                  ".default-version"])
def test_a_version_name_is_one_plain_folder_name(name):
    with pytest.raises(BadModelName) as e:
        version_path(name)
    assert str(e.value) == (
        f"'{name}' is not a model version name: use letters, digits, '.', '_' and '-', "
        "starting with a letter or digit (other spellings of 'default', such as 'DEFAULT', are reserved)"
    )


@pytest.mark.parametrize("name", ["", "  ", "\t", Path(""), Path(" ")])
def test_an_empty_version_name_is_said_to_be_empty(name):
    for call in (version_path, use_model, remove_version):
        with pytest.raises(BadModelName) as e:
            call(name)
        assert str(e.value) == "an empty model name was given: give a version name ('pmtype models' lists them)"
        assert e.value.exit_code == 2


@pytest.mark.parametrize("name", ["", " ", Path("")])
def test_an_empty_name_for_a_new_version_is_said_to_be_empty(name, tmp_path):
    with pytest.raises(BadModelName) as e:
        train_version([tmp_path / "x.csv"], name=name)
    assert str(e.value) == ("an empty model name was given: name the new version, or give no name for one made of "
                            "the time and the data's hash")


def test_a_name_that_holds_a_line_break_is_named_on_one_line():
    for call in (lambda: version_path("a\nb"), lambda: use_model("a\nb"), lambda: remove_version("a\nb")):
        with pytest.raises(BadModelName) as e:
            call()
        assert str(e.value) == (
            "'a\\nb' is not a model version name: use letters, digits, '.', '_' and '-', "
            "starting with a letter or digit (other spellings of 'default', such as 'DEFAULT', are reserved)"
        )
    with pytest.raises(ModelNotFound) as e:
        load_model("no\nsuch")  # a path, as no version name holds a line break
    assert str(e.value) == "no model at no\\nsuch; build one with 'pmtype train'"


def test_the_pointer_can_be_no_version_folder_in_any_letter_case(model_dir):
    """On macOS and Windows 'DEFAULT' and 'default' are one name: the pointer must be no version's."""
    from pmtype.model import DEFAULT_POINTER, VERSION_NAME

    for spelling in (DEFAULT_POINTER, DEFAULT_POINTER.upper(), DEFAULT_POINTER.lower()):
        assert not VERSION_NAME.fullmatch(spelling)
    _install(model_dir, "default")
    _install(model_dir, "b")
    use_model("b")
    names = [p.name.casefold() for p in config.models_dir().iterdir()]
    assert sorted(names) == sorted(["default", "b", ".default-version"])  # no two alike in any case
    assert [v.name for v in list_models()] == ["b", "default"]  # the pointer is no version


def test_no_models_directory_lists_nothing():
    assert list_models() == []


def test_the_folder_default_is_the_default_without_a_pointer(model_dir):
    _install(model_dir, "default")
    _install(model_dir, "other")
    versions = {v.name: v for v in list_models()}
    assert versions["default"].is_default and not versions["other"].is_default
    assert default_model_path() == config.models_dir() / "default"


def test_use_makes_a_version_the_default_and_label_says_so(model_dir, tmp_path):
    _install(model_dir, "a")
    b = _install(model_dir, "b")
    assert not any(v.is_default for v in list_models())
    chosen = use_model("b")
    assert chosen.name == "b" and chosen.is_default
    assert _pointer().read_text() == "b\n"
    assert not (config.models_dir() / "DEFAULT").exists()
    assert [(v.name, v.is_default) for v in list_models()] == [("a", False), ("b", True)]
    assert default_model_path() == b
    assert load_model(None).model_id == _manifest(b)["model_id"]
    src = tmp_path / "in.csv"
    pd.DataFrame({"description": [TECH_POSTING, BUSINESS_POSTING]}).to_csv(src, index=False)
    label_file(src, tmp_path / "out.csv")  # no model given: the default version
    got = pd.read_csv(tmp_path / "out.csv", dtype=str)
    assert set(got["pm_model"]) == {_manifest(b)["model_id"]}


def test_pm_model_is_the_model_id_in_the_manifest(model_dir, tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame({"description": [TECH_POSTING, "", BUSINESS_POSTING]}).to_csv(src, index=False)
    label_file(src, tmp_path / "out.csv", model=model_dir)
    got = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert got["pm_model"].tolist() == [_manifest(model_dir)["model_id"]] * 3


def test_use_refuses_a_missing_version():
    with pytest.raises(ModelNotFound) as e:
        use_model("nope")
    assert str(e.value) == f"no model version 'nope' in {config.models_dir()}; 'pmtype models' lists them"


def test_use_refuses_a_tampered_version_and_keeps_the_old_default(model_dir):
    _install(model_dir, "good")
    use_model("good")
    bad = _install(model_dir, "bad")
    with open(bad / "model.joblib", "ab") as f:
        f.write(b"x")
    with pytest.raises(ModelTampered):
        use_model("bad")
    assert _pointer().read_text() == "good\n"


@pytest.mark.parametrize("pointer", [".default-version", "DEFAULT"])  # pmtype's pointer, and an older pmtype's
def test_a_pointer_to_a_missing_version_is_an_error_not_a_rebuild(pointer):
    config.models_dir().mkdir(parents=True)
    (config.models_dir() / pointer).write_text("gone\n")
    with pytest.raises(ModelNotFound) as e:
        load_model(None)
    assert str(e.value) == (
        f"the default model gone (named in {config.models_dir() / pointer}) is missing; "
        "choose another with 'pmtype models use NAME', or the built-in one with 'pmtype models use default'"
    )
    assert not (config.models_dir() / "gone").exists()


@pytest.mark.parametrize("pointer", [".default-version", "DEFAULT"])
@pytest.mark.parametrize("content,shown", [("../../etc\n", "'../../etc'"), ("DEFAULT", "'DEFAULT'"),
                                           ("a\nb\n", "'a\\nb'"), (b"\xff\xfe", "'\ufffd\ufffd'")])
def test_a_pointer_that_names_no_version_is_an_error(pointer, content, shown):
    config.models_dir().mkdir(parents=True)
    path = config.models_dir() / pointer
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ModelNotFound) as e:
        default_model_path()
    assert str(e.value) == (
        f"{path} names {shown}, which is not a model version; choose one with 'pmtype models use NAME'"
    )


def test_an_older_pmtypes_pointer_is_read_until_a_version_is_chosen_then_removed(model_dir):
    _install(model_dir, "old")
    _install(model_dir, "new")
    (config.models_dir() / "DEFAULT").write_text("old\n")  # what pmtype wrote before
    assert default_model_path() == config.models_dir() / "old"
    assert {v.name: v.is_default for v in list_models()} == {"old": True, "new": False}
    use_model("new")
    assert default_model_path() == config.models_dir() / "new"
    assert _pointer().read_text() == "new\n" and not (config.models_dir() / "DEFAULT").exists()
    (config.models_dir() / "DEFAULT").write_text("old\n")  # an older pmtype sharing the folder: ours wins
    assert default_model_path() == config.models_dir() / "new"


def test_a_folder_where_the_pointer_goes_is_a_one_line_error(model_dir):
    _install(model_dir, "b")
    _pointer().mkdir()
    with pytest.raises(CannotWrite) as e:
        use_model("b")
    assert str(e.value) == (f"{_pointer()} is a folder; pmtype keeps the default model's name in a file of "
                            "that name: move the folder away")
    assert default_model_path() == config.models_dir() / "default"


def test_a_folder_that_is_not_a_model_is_listed_with_its_problem(model_dir):
    _install(model_dir, "fine")
    (config.models_dir() / "junk").mkdir()
    (config.models_dir() / ".fine.tmp").mkdir()  # a write in progress: not listed
    versions = {v.name: v for v in list_models()}
    assert set(versions) == {"fine", "junk"}
    assert versions["fine"].problem is None and versions["fine"].metrics["macro_f1"] > 0.5
    assert versions["junk"].problem == (f"{config.models_dir() / 'junk'} is not a model folder "
                                        "(no manifest.json, no model.joblib)")


EDITS = [  # a manifest edited by hand (the model file unchanged, so its hash still matches), and what is wrong
    (lambda m: {**m, "created": 20261127}, "'created' is 20261127, not text"),
    (lambda m: {**m, "created": 5}, "'created' is 5, not text"),
    (lambda m: {**m, "model_id": ["a"]}, "'model_id' is [\"a\"], not text"),
    (lambda m: {**m, "data": ["a", "list"]}, "'data' is [\"a\", \"list\"], not a mapping"),
    (lambda m: {**m, "data": {**m["data"], "rows": "20"}}, "'data.rows' is '20', not a whole number"),
    (lambda m: {**m, "data": {**m["data"], "by_label": {"business": 1.5}}},
     "'data.by_label' is {\"business\": 1.5}, not a mapping to whole numbers"),
    (lambda m: {**m, "band": "0.15"}, "'band' is '0.15', not a number from 0 to 0.5"),
    (lambda m: {**m, "band": 0.7}, "'band' is 0.7, not a number from 0 to 0.5"),
    (lambda m: {**m, "band": -0.1}, "'band' is -0.1, not a number from 0 to 0.5"),
    (lambda m: {**m, "versions": {"pmtype": 1}}, "'versions' is {\"pmtype\": 1}, not a mapping to text"),
    (lambda m: {**m, "model_file": "../model.joblib"}, "'model_file' is '../model.joblib', not a file name"),
    (lambda m: {**m, "metrics": {"cross_validation": {"metrics": {"macro_f1": {"value": "high"}}}}},
     "'metrics.cross_validation.metrics.macro_f1.value' is 'high', not a number"),
    (lambda m: {**m, "metrics": {**m["metrics"], "cross_validation": {
        **m["metrics"]["cross_validation"], "metrics": {"accuracy": {"value": "0.9"}}}}},
     "'metrics.cross_validation.metrics.accuracy.value' is '0.9', not a number"),
    (lambda m: {**m, "metrics": {"cross_validation": {"metrics": {"ece": 0.1}}}},
     "'metrics.cross_validation.metrics.ece' is 0.1, not a mapping with a 'value'"),
    (lambda m: {**m, "training": {**m["training"], "seed": "42"}}, "'training.seed' is '42', not a whole number"),
    (lambda m: {**m, "training": {**m["training"], "columns": {"text": "body"}}},
     "'training.columns' is {\"text\": \"body\"}, not a mapping to lists of column names"),
    (lambda m: {k: v for k, v in m.items() if k != "versions"}, "it has no 'versions'"),
    (lambda m: [m], "it is not a JSON object"),
]


@pytest.mark.parametrize("edit,problem", EDITS)
def test_a_manifest_edited_into_another_shape_is_one_error_wherever_it_is_used(model_dir, edit, problem):
    """Listing, loading (classify -m, label, evaluate…) and describing (info) give the same one line."""
    from pmtype.registry import describe

    _install(model_dir, "fine")
    _install(model_dir, "edited")
    manifest_path = config.models_dir() / "edited" / persist.MANIFEST_FILE
    manifest_path.write_text(json.dumps(edit(json.loads(manifest_path.read_text()))))
    message = (f"{manifest_path} is not a valid pmtype manifest: {problem}; "
               "rebuild the model with 'pmtype train'")
    versions = {v.name: v for v in list_models()}
    assert versions["fine"].problem is None
    assert versions["edited"].problem == message
    assert versions["edited"].model_id is None and versions["edited"].metrics == {}
    for use in (load_model, describe, use_model):
        with pytest.raises(ModelTampered) as e:
            use("edited")
        assert str(e.value) == message


def test_the_band_is_the_manifest_s_as_info_shows_it(model_dir):
    """README: "The band is the `band` in a model's manifest." One edited there is the band info shows
    and the one predict, classify and label use."""
    from pmtype.registry import describe

    _install(model_dir, "wide")
    manifest_path = config.models_dir() / "wide" / persist.MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text())
    manifest["band"] = 0.5
    manifest_path.write_text(json.dumps(manifest))
    assert "band       p_technical within 0.5 of 0.5 is uncertain" in describe("wide").splitlines()
    model = load_model("wide")
    assert model.band == 0.5
    assert model.predict([TECH_POSTING])[0].status == "uncertain"  # every p but 0 and 1 is inside


def test_a_manifest_without_the_optional_fields_says_unknown_not_none(model_dir):
    """An older or partial manifest: listed and described without claims it does not make."""
    from pmtype.registry import describe

    folder = _install(model_dir, "partial")
    full = _manifest(folder)
    (folder / "manifest.json").write_text(json.dumps({k: full[k] for k in ("model_sha256", "versions")}))
    [version] = list_models()
    assert (version.problem, version.model_id, version.created, version.rows, version.metrics) == (
        None, "unknown", None, None, {})
    lines = describe("partial").splitlines()
    assert [line for line in lines if not line.startswith(("folder", "versions"))] == [
        "model      unknown", "created    unknown", "data       unknown", "sources    unknown",
        "training   unknown", "scope      unknown", "band       unknown", "languages  unknown"]  # and no notes
    assert load_model("partial").model_id == full["model_id"]  # it loads: the model has them


@pytest.mark.parametrize("fmt", [7, 0])
def test_a_manifest_of_another_format_is_refused_wherever_it_is_used(model_dir, fmt):
    from pmtype.errors import ModelIncompatible
    from pmtype.registry import describe

    folder = _install(model_dir, "future")
    assert _manifest(folder)["format"] == persist.FORMAT_VERSION
    (folder / "manifest.json").write_text(json.dumps({**_manifest(folder), "format": fmt}))
    message = (f"{folder} is a model of format {fmt}; this pmtype reads format {persist.FORMAT_VERSION}: "
               "rebuild it with 'pmtype train'")
    assert list_models()[0].problem == message
    for use in (load_model, describe, use_model):
        with pytest.raises(ModelIncompatible) as e:
            use("future")
        assert str(e.value) == message


def test_a_manifest_pmtype_wrote_passes_the_shape_check(model_dir):
    from pmtype.registry import describe

    text = describe(model_dir)
    assert text.startswith(f"model      {_manifest(model_dir)['model_id']}\n")
    assert "cross-validated: accuracy " in text


def _refuse(token):
    raise ValueError(f"{token} is not JSON")


def test_a_figure_that_cannot_be_computed_is_written_as_null_and_shown_as_n_a(model_dir):
    """Python's json writes NaN as the bare token NaN, which jq and JSON.parse refuse: an undefined
    cross-validated figure is null in the manifest, and reads back as NaN (n/a), as training gave it."""
    from pmtype.registry import describe

    manifest = persist.read_manifest(model_dir)
    cv = manifest["metrics"]["cross_validation"]["metrics"]
    cv["roc_auc"] = {"value": float("nan")}
    cv["business_precision"] = {"value": float("nan"), "low": float("nan"), "high": float("inf")}
    persist.save_model(load_model(model_dir), config.models_dir() / "undefined", manifest)
    written = json.loads((config.models_dir() / "undefined" / persist.MANIFEST_FILE).read_text(),
                         parse_constant=_refuse)
    assert written["metrics"]["cross_validation"]["metrics"]["roc_auc"] == {"value": None}
    assert written["metrics"]["cross_validation"]["metrics"]["business_precision"] == {
        "value": None, "low": None, "high": None}
    [version] = list_models()
    assert version.problem is None and np.isnan(version.metrics["roc_auc"])
    assert describe("undefined").splitlines()[-1].endswith(", roc_auc n/a")
    assert np.isnan(persist.read_manifest(version.path)["metrics"]["cross_validation"]["metrics"]
                    ["business_precision"]["value"])
    assert load_model("undefined").model_id == manifest["model_id"]


# --- what killed writes leave behind -----------------------------------------------------

def _dead_pid():
    """The id of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _aged(path, seconds):
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)
    return path


def test_the_pointer_is_written_through_a_temporary_file_named_by_its_writer(model_dir, monkeypatch):
    _install(model_dir, "b")
    renamed = []
    replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (renamed.append(os.path.basename(src)), replace(src, dst)))
    use_model("b")
    assert len(renamed) == 1 and re.fullmatch(
        rf"\.\.default-version\.{os.getpid()}-{persist.HOST_TAG}\.[a-z0-9_]{{8}}\.tmp", renamed[0])
    assert persist.TEMPORARY_NAME.fullmatch(renamed[0])  # so remove_unfinished tidies it after a kill


def test_remove_unfinished_removes_only_what_killed_writes_left(model_dir):
    root = config.models_dir()
    _install(model_dir, "fine")
    dead, alive = _dead_pid(), os.getpid()
    (root / f".fine.{dead}.abcd1234.tmp").mkdir()  # a killed training's model folder
    (root / f".fine.{dead}.abcd1234.tmp" / "model.joblib").write_bytes(b"half")
    (root / f".DEFAULT.{dead}.x_9y8z7w.tmp").write_text("fine\n")  # a killed 'models use'
    (root / f".next.{alive}.efgh5678.tmp").mkdir()  # a write in progress
    _aged(root / f".next.{alive}.efgh5678.tmp", 7200)  # however old
    (root / ".old.ijkl9012.tmp").mkdir()  # written before pmtype named the writer, two hours ago
    (root / ".old.ijkl9012.tmp" / "model.joblib").write_bytes(b"half")  # what it holds tells it is pmtype's
    _aged(root / ".old.ijkl9012.tmp", 7200)
    (root / ".DEFAULT.mnop3456.tmp").write_text("fine\n")
    _aged(root / ".DEFAULT.mnop3456.tmp", 7200)
    (root / ".young.qrst7890.tmp").mkdir()  # the same, but a minute old
    _aged(root / ".young.qrst7890.tmp", 60)
    kept = [".cache", ".fine.tmp", ".notes.tmp", f".fine.{dead}.short.tmp", f".fine.{alive}.old", ".fine.old.bak",
            f"fine.{dead}.abcd1234.tmp", f".fine.{dead}.abcd1234.tmp.bak"]
    for name in kept:
        (root / name).mkdir()
        _aged(root / name, 7200)
    (root / f".fine.{dead}.old").mkdir()  # moved aside by a killed overwrite after 'fine' was replaced
    _install(model_dir, ".fine.old")  # the same, before pmtype named the writer, two hours ago
    _aged(root / ".fine.old", 7200)
    (root / f".link.{dead}.uvwx1234.tmp").symlink_to(root / "fine")  # a link: neither it nor its target
    removed = remove_unfinished().removed
    assert removed == sorted([root / f".fine.{dead}.abcd1234.tmp", root / f".DEFAULT.{dead}.x_9y8z7w.tmp",
                              root / ".old.ijkl9012.tmp", root / ".DEFAULT.mnop3456.tmp",
                              root / f".fine.{dead}.old", root / ".fine.old"])
    assert sorted(p.name for p in root.iterdir()) == sorted(
        kept + ["fine", f".next.{alive}.efgh5678.tmp", ".young.qrst7890.tmp", f".link.{dead}.uvwx1234.tmp"])
    assert (root / "fine" / "manifest.json").is_file()
    assert remove_unfinished() == Unfinished()


def test_hidden_things_of_a_user_that_look_like_pmtypes_names_are_left_alone(model_dir):
    """Names without a writer (what an older pmtype wrote) fit any hidden name: only what they hold tells."""
    root = config.models_dir()
    _install(model_dir, "fine")
    dead = _dead_pid()
    (root / ".notes.old").mkdir()  # a user's folder: never "put back" as a version
    (root / ".notes.old" / "todo.txt").write_text("keep me")
    (root / f".notes.{dead}.old").mkdir()  # named as pmtype names a moved-aside model, but no model's files
    (root / f".notes.{dead}.old" / "todo.txt").write_text("keep me")
    (root / ".default-version.old").write_text("fine\n")  # a user's copy of the pointer
    (root / ".backup.20261120.tmp").write_text("my backup")
    (root / ".DEFAULT.abcd1234.tmp").write_text("not a version name\n")
    (root / ".cues-0123456789abcdef.jsonl.gz.abcd1234.tmp").write_text("plain text")
    (root / ".scratch.abcd1234.tmp").mkdir()  # empty: nothing says it is pmtype's
    _install(model_dir, ".fine.old")  # a model, but with a user's notes beside it
    (root / ".fine.old" / "NOTES.md").write_text("keep me")
    (root / ".spare.old").mkdir()  # a model file without its manifest
    (root / ".spare.old" / "model.joblib").write_bytes(b"mine")
    users = sorted(p.name for p in root.iterdir() if p.name != "fine")
    for name in users:
        _aged(root / name, 7200)
    assert remove_unfinished() == Unfinished()
    assert sorted(p.name for p in root.iterdir()) == sorted(users + ["fine"])
    assert (root / ".notes.old" / "todo.txt").read_text() == "keep me"
    assert (root / ".backup.20261120.tmp").read_text() == "my backup"
    assert [v.name for v in list_models()] == ["fine"]


def test_what_an_older_pmtype_left_is_tidied_by_what_it_holds(model_dir):
    root = config.models_dir()
    _install(model_dir, "fine")
    _install(model_dir, ".gone.old")  # a model moved aside, its place empty: put back
    _install(model_dir, ".fine.old")  # a model moved aside and replaced: removed
    (root / ".next.abcd1234.tmp").mkdir()  # a model being written
    (root / ".next.abcd1234.tmp" / "model.joblib").write_bytes(b"half")
    (root / "..default-version.efgh5678.tmp").write_text("fine\n")  # the pointer being written
    (root / ".DEFAULT.ijkl9012.tmp").write_text("")
    (root / ".cues-0123456789abcdef.jsonl.gz.mnop3456.tmp").write_bytes(b"\x1f\x8bhalf")
    for p in root.iterdir():
        if p.name != "fine":
            _aged(p, 7200)
    done = remove_unfinished()
    assert done == Unfinished(removed=[root / "..default-version.efgh5678.tmp", root / ".DEFAULT.ijkl9012.tmp",
                                       root / ".cues-0123456789abcdef.jsonl.gz.mnop3456.tmp",
                                       root / ".fine.old", root / ".next.abcd1234.tmp"],
                              restored=[root / "gone"])
    assert sorted(p.name for p in root.iterdir()) == ["fine", "gone"]
    assert load_model("gone").model_id == load_model(model_dir).model_id


def test_a_model_moved_aside_by_a_killed_overwrite_is_put_back_when_its_place_is_empty(model_dir):
    root = config.models_dir()
    dead = _dead_pid()
    _install(model_dir, f".default.{dead}.old")  # killed between moving 'default' aside and replacing it
    (root / f".default.{dead}.abcd1234.tmp").mkdir()  # the new model that never got into place
    _install(model_dir, f".spare.{os.getpid()}.old")  # a live overwrite's: not ours to touch
    done = remove_unfinished()
    assert done == Unfinished(removed=[root / f".default.{dead}.abcd1234.tmp"], restored=[root / "default"])
    assert load_model(root / "default", build_if_missing=False).model_id == load_model(model_dir).model_id
    assert sorted(p.name for p in root.iterdir()) == sorted(["default", f".spare.{os.getpid()}.old"])
    assert remove_unfinished() == Unfinished()


def test_a_process_id_is_judged_only_on_the_machine_that_gave_it(tmp_path):
    dead, alive, here = _dead_pid(), os.getpid(), persist.HOST_TAG
    there = "0123abcd" if here != "0123abcd" else "4567cdef"
    for name, age in [(f".a.{dead}-{here}.abcd1234.tmp", 0),  # a killed run of this machine: gone at once
                      (f".b.{alive}-{here}.abcd1234.tmp", 7200),  # a live run of this machine: kept, however old
                      (f".c.{dead}-{there}.abcd1234.tmp", 60),  # another machine's, a minute old: may be running
                      (f".d.{alive}-{there}.abcd1234.tmp", 7200),  # another machine's, two hours old: left there
                      (f".e.{dead}-{there}.old", 60),
                      (f".f.{alive}-{there}.old", 7200)]:
        (tmp_path / name).mkdir()
        if name.startswith(".f."):
            (tmp_path / name / "manifest.json").write_text("{}")  # a model: put back
        _aged(tmp_path / name, age)
    done = remove_unfinished(tmp_path)
    assert done == Unfinished(removed=[tmp_path / f".a.{dead}-{here}.abcd1234.tmp",
                                       tmp_path / f".d.{alive}-{there}.abcd1234.tmp"],
                              restored=[tmp_path / "f"])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f".b.{alive}-{here}.abcd1234.tmp", f".c.{dead}-{there}.abcd1234.tmp", f".e.{dead}-{there}.old", "f"])


def test_remove_unfinished_also_tidies_the_cue_cache(tmp_path):
    dead = _dead_pid()
    cache = tmp_path / ".cache"
    cache.mkdir()
    (cache / "cues-0123456789abcdef.jsonl.gz").write_bytes(b"kept")
    left = cache / f".cues-0123456789abcdef.jsonl.gz.{dead}-{persist.HOST_TAG}.abcd1234.tmp"
    left.write_bytes(b"half")
    writing = cache / f".cues-0123456789abcdef.jsonl.gz.{os.getpid()}-{persist.HOST_TAG}.efgh5678.tmp"
    writing.write_bytes(b"half")
    assert remove_unfinished(tmp_path) == Unfinished(removed=[left])
    assert sorted(p.name for p in cache.iterdir()) == sorted(["cues-0123456789abcdef.jsonl.gz", writing.name])
    (tmp_path / ".cache").rename(tmp_path / "real-cache")
    (tmp_path / ".cache").symlink_to(tmp_path / "real-cache")  # a link: not followed
    (tmp_path / "real-cache" / left.name).write_bytes(b"half")
    assert remove_unfinished(tmp_path) == Unfinished()


def test_remove_unfinished_takes_a_folder_and_an_age(tmp_path):
    (tmp_path / ".m.abcd1234.tmp").mkdir()
    (tmp_path / ".m.abcd1234.tmp" / "manifest.json").write_text("{}")
    _aged(tmp_path / ".m.abcd1234.tmp", 120)
    assert remove_unfinished(tmp_path) == Unfinished()
    assert remove_unfinished(tmp_path, max_age=60).removed == [tmp_path / ".m.abcd1234.tmp"]
    assert remove_unfinished(tmp_path / "missing") == Unfinished()


def test_a_process_that_may_not_be_signalled_is_alive(monkeypatch, tmp_path):
    def kill(pid, sig):
        raise PermissionError(1, "Operation not permitted")

    (tmp_path / ".m.4242.abcd1234.tmp").mkdir()
    monkeypatch.setattr(os, "kill", kill)
    assert remove_unfinished(tmp_path) == Unfinished()
    assert (tmp_path / ".m.4242.abcd1234.tmp").is_dir()


def test_what_cannot_be_removed_is_skipped_not_raised(monkeypatch, tmp_path):
    dead = _dead_pid()
    (tmp_path / f".a.{dead}.abcd1234.tmp").mkdir()
    (tmp_path / f".b.{dead}.abcd1234.tmp").mkdir()

    def rmtree(path, *args, **kwargs):
        if os.path.basename(path).startswith(".a."):
            raise PermissionError(13, "Permission denied", path)
        return real_rmtree(path, *args, **kwargs)

    import shutil

    real_rmtree = shutil.rmtree
    monkeypatch.setattr(shutil, "rmtree", rmtree)
    assert remove_unfinished(tmp_path) == Unfinished(removed=[tmp_path / f".b.{dead}.abcd1234.tmp"])
    assert (tmp_path / f".a.{dead}.abcd1234.tmp").is_dir()


# --- training versions ------------------------------------------------------------------

def test_training_removes_what_a_killed_training_left_and_says_where_the_default_is(model_dir, corpus_csv):
    root = config.models_dir()
    _install(model_dir, "other")
    use_model("other")
    dead = _dead_pid()
    (root / f".default.{dead}.abcd1234.tmp").mkdir()
    (root / f".default.{os.getpid()}.efgh5678.tmp").mkdir()  # another training, still running
    outcome = train_version([corpus_csv], output=root / "default", use_seed=False)
    assert outcome.unfinished == Unfinished(removed=[root / f".default.{dead}.abcd1234.tmp"])
    assert outcome.other_default == "other"
    assert sorted(p.name for p in root.iterdir() if p.name.endswith(".tmp")) == [
        f".default.{os.getpid()}.efgh5678.tmp"]
    use_model("default")
    again = train_version([corpus_csv], output=root / "default", use_seed=False, overwrite=True)
    assert again.unfinished == Unfinished() and again.other_default is None



def test_train_without_a_name_writes_a_new_version_named_by_time_and_data(corpus_csv):
    outcome = train_version([corpus_csv], use_seed=False)
    name = outcome.path.name
    assert outcome.path.parent == config.models_dir()
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{8}", name)
    assert name.endswith(outcome.manifest["data"]["sha256"][:8])
    assert outcome.manifest["name"] == name and outcome.manifest["model_id"] == name
    assert not outcome.promoted and outcome.comparison is None
    assert [v.name for v in list_models()] == [name]


def test_a_named_version_is_never_replaced(corpus_csv):
    first = train_version([corpus_csv], name="mine", use_seed=False)
    assert first.path == config.models_dir() / "mine"
    stamp = (first.path / "manifest.json").read_bytes()
    for overwrite in (False, True):
        with pytest.raises(OutputExists) as e:
            train_version([corpus_csv], name="mine", use_seed=False, overwrite=overwrite)
        assert str(e.value) == (f"model version 'mine' already exists in {config.models_dir()}; "
                                "versions are never replaced: choose another name")
    assert (first.path / "manifest.json").read_bytes() == stamp


def test_name_and_output_together_are_refused(corpus_csv, tmp_path):
    with pytest.raises(BadModelName) as e:
        train_version([corpus_csv], name="x", output=tmp_path / "y", use_seed=False)
    assert str(e.value) == "give a version name or an output folder, not both"


# --- comparing ----------------------------------------------------------------------------

def test_the_fast_bootstrap_metrics_match_evaluate():
    rng = np.random.default_rng(3)
    for n in (5, 40, 400):
        y = rng.integers(0, 2, n)
        p = np.round(rng.random(n), 1)  # ties, as calibrated probabilities have
        fast = _batch_metrics(y[None, :], p[None, :])
        slow = _point_metrics(y, p)
        assert set(fast) == {"accuracy", "brier", "ece", "macro_f1", "roc_auc"}  # the ones compare bootstraps
        for name, values in fast.items():
            assert values[0] == pytest.approx(slow[name], abs=1e-12), name


@pytest.mark.parametrize("diff,low,high,expected", [
    (0.05, 0.01, 0.09, BETTER),
    (-0.05, -0.09, -0.01, WORSE),
    (-0.004, -0.015, -0.001, WORSE),  # significantly lower, even if by little
    (0.0, 0.0, 0.0, NOT_WORSE),  # the same predictions
    (0.01, -0.02, 0.04, NOT_WORSE),  # the margin itself is allowed
    (0.01, -0.05, 0.07, INCONCLUSIVE),
])
def test_verdict(diff, low, high, expected):
    said, reason = verdict(diff, low, high, margin=0.02)
    assert said == expected
    assert reason.startswith(f"macro-F1 {diff:+.3f}, 95% interval of the difference [{low:+.3f}, {high:+.3f}]")


def test_a_verdict_on_an_undefined_difference_claims_no_winner():
    nan = float("nan")
    assert verdict(nan, nan, nan) == (INCONCLUSIVE, "macro-F1 n/a, 95% interval of the difference [n/a, n/a]: "
                                                    "the difference cannot be computed on these postings")


def test_the_paired_bootstrap_of_one_model_against_itself_is_exactly_zero():
    rng = np.random.default_rng(0)
    y = rng.choice(["technical", "business"], 60)
    p = rng.random(60)
    result = paired_bootstrap(y, p, p, n_boot=300)
    for name, entry in result.items():
        assert entry["new"] == entry["current"]
        assert entry["diff"] == {"value": 0.0, "low": 0.0, "high": 0.0}, name


def test_a_figure_a_comparison_cannot_compute_is_shown_as_n_a_not_nan():
    """compare refuses a file of one label, but a comparison of one (paired_bootstrap is public) shows its
    ROC-AUC as every command shows an undefined figure: n/a, for both models and their difference."""
    from pmtype.registry import Comparison

    metrics = paired_bootstrap(["technical"] * 6, [0.9, 0.8, 0.7, 0.6, 0.4, 0.9], [0.6] * 6, n_boot=100)
    d = metrics["macro_f1"]["diff"]
    c = Comparison("new", "current", "a", "b", "reference.csv", 6, metrics, [],
                   *verdict(d["value"], d["low"], d["high"]), margin=0.02)
    text = format_comparison(c)
    assert "nan" not in text
    assert text.splitlines()[7].split() == ["roc_auc", "n/a", "n/a", "n/a"]
    assert text.splitlines()[5].split()[:3] == ["macro_f1", "0.455", "[0.333,"]


def test_compare_a_worse_model(model_dir, swapped_model_dir, corpus_csv):
    c = compare(swapped_model_dir, corpus_csv, against=model_dir, n_boot=300)
    assert c.verdict == WORSE and not c.promotable
    assert c.n == 20 and len(c.flips) == 20
    assert {f.effect for f in c.flips} == {"broke"}
    assert c.metrics["macro_f1"]["new"]["value"] < 0.2 < 0.8 < c.metrics["macro_f1"]["current"]["value"]
    assert c.notes == [f"{corpus_csv}: left out 16 rows labelled not_pm (the comparison covers technical and "
                       "business postings)",
                       "only 20 postings compared on: the 95% intervals, and the verdict drawn from them, are "
                       "rough at this size (a bootstrap cannot show what so few postings leave out)"]
    text = format_comparison(c)
    assert text.splitlines()[-1].startswith("verdict: worse (macro-F1 -")
    assert "20 postings change label: 0 now match the given label, 20 no longer do" in text
    # rows are the file's: the corpus alternates technical (row 2) and business (row 3)
    first = min(c.flips, key=lambda f: f.row)
    assert (first.row, first.given, first.current_label, first.new_label) == (2, "technical", "technical", "business")
    again = compare(model_dir, corpus_csv, against=swapped_model_dir, n_boot=300)
    assert again.verdict == BETTER and {f.effect for f in again.flips} == {"fixed"}


def test_compare_names_a_flipped_posting_by_its_whole_title_on_one_line(model_dir, swapped_model_dir, corpus_csv, tmp_path):
    """A title cell holding line breaks or markup is the posting's one first line, markup removed."""
    frame = pd.read_csv(corpus_csv)
    frame["title"] = frame["title"].astype(object)
    frame.loc[0, "title"] = "Senior Product Manager\nDeveloper Platform"
    frame.loc[1, "title"] = "<h2>Product Manager</h2><p>Growth &amp; Pricing</p>"
    src = tmp_path / "messy.csv"
    frame.to_csv(src, index=False)
    c = compare(swapped_model_dir, src, against=model_dir, n_boot=200)
    titles = {f.row: f.title for f in c.flips}
    assert (titles[2], titles[3]) == ("Senior Product Manager Developer Platform", "Product Manager Growth & Pricing")


def test_compare_a_model_with_itself_and_with_the_default(model_dir, corpus_csv):
    _install(model_dir, "current")
    use_model("current")
    c = compare(model_dir, corpus_csv, n_boot=200)  # against the default
    assert c.current_path == str(config.models_dir() / "current")
    assert c.verdict == NOT_WORSE and c.flips == []
    assert c.as_dict()["metrics"]["accuracy"]["diff"]["value"] == 0.0
    same = (f"the new model is the model it is compared with ({c.new}, the default model unless --against "
            "names another): every difference is 0, and the verdict says nothing of it")
    assert c.new == c.current and c.notes[-1] == same


def test_compare_says_nothing_of_sameness_for_two_models(model_dir, swapped_model_dir, corpus_csv):
    c = compare(swapped_model_dir, corpus_csv, against=model_dir, n_boot=200)
    assert not any("compared with" in note for note in c.notes)


def test_compare_takes_loaded_models_too(model_dir, swapped_model_dir, corpus_csv):
    from pmtype.registry import LOADED_IN_MEMORY

    by_folder = compare(swapped_model_dir, corpus_csv, against=model_dir, n_boot=200)
    loaded = compare(load_model(swapped_model_dir), corpus_csv, against=load_model(model_dir), n_boot=200)
    assert (loaded.new_path, loaded.current_path) == (LOADED_IN_MEMORY, LOADED_IN_MEMORY)
    assert (loaded.verdict, loaded.metrics) == (by_folder.verdict, by_folder.metrics)


def test_compare_on_few_postings_notes_that_its_intervals_and_verdict_are_rough(model_dir, swapped_model_dir,
                                                                              tmp_path, corpus_csv):
    src = tmp_path / "four.csv"
    pd.read_csv(corpus_csv).query("label != 'not_pm'").groupby("label").head(2).to_csv(src, index=False)
    c = compare(swapped_model_dir, src, against=model_dir, n_boot=200)
    assert c.n == 4 and c.notes == [
        "only 4 postings compared on: the 95% intervals, and the verdict drawn from them, are rough at this size "
        "(a bootstrap cannot show what so few postings leave out)"]


def test_compare_needs_technical_and_business_rows(model_dir, tmp_path):
    src = tmp_path / "not_pm.csv"
    pd.DataFrame({"description": ["Teach third grade."], "label": ["not_pm"]}).to_csv(src, index=False)
    with pytest.raises(BadTrainingData) as e:
        compare(model_dir, src, against=model_dir)
    assert str(e.value) == f"{src} has no postings labelled technical or business to compare on"


def test_compare_needs_both_labels_a_margin_and_resamples(model_dir, tmp_path, corpus_csv):
    src = tmp_path / "technical.csv"
    pd.DataFrame({"description": [TECH_POSTING] * 2, "label": ["technical"] * 2}).to_csv(src, index=False)
    with pytest.raises(BadTrainingData) as e:
        compare(model_dir, src, against=model_dir)
    assert str(e.value) == (f"{src} has postings of one label only (technical); comparing models needs "
                            "reference postings of both labels")
    for options, message in (({"margin": -1}, "--margin must be a number, at least 0"),
                             ({"margin": float("nan")}, "--margin must be a number, at least 0"),
                             ({"margin": "0.1"}, "--margin must be a number, at least 0"),
                             ({"n_boot": 0}, "the bootstrap needs at least 1 resample"),
                             ({"n_boot": 10.5}, "the bootstrap needs a whole number of resamples")):
        with pytest.raises(BadOption) as e:
            compare(model_dir, corpus_csv, against=model_dir, **options)
        assert str(e.value) == message


def test_compare_refusing_a_file_says_which_rows_it_left_out(model_dir, tmp_path, corpus_csv):
    """The business rows are there, but with no text: the refusal says so, as evaluate's does."""
    src = tmp_path / "reference.csv"
    pd.DataFrame({"description": [TECH_POSTING, "", "12345"],
                  "label": ["technical", "business", "business"]}).to_csv(src, index=False)
    with pytest.raises(BadTrainingData) as e:
        compare(model_dir, src, against=model_dir)
    assert str(e.value) == (f"{src} has postings of one label only (technical); comparing models needs "
                            "reference postings of both labels: left out 1 row with empty text (row 3); "
                            "left out 1 row whose text is a number or has no letters (row 4)")
    with pytest.raises(BadTrainingData) as e:
        train_version([corpus_csv], name="never", use_seed=False, promote_on=src)
    assert str(e.value).endswith("both labels: left out 1 row with empty text (row 3); "
                                 "left out 1 row whose text is a number or has no letters (row 4)")
    pd.DataFrame({"description": ["", "Teach third grade."], "label": ["technical", "not_pm"]}).to_csv(src, index=False)
    with pytest.raises(BadTrainingData) as e:
        compare(model_dir, src, against=model_dir)
    assert str(e.value) == (f"{src} has no postings labelled technical or business to compare on: "
                            "left out 1 row with empty text (row 2)")


def test_a_posting_with_no_letter_in_what_pmtype_reads_is_left_out_not_scored_as_nan(model_dir, tmp_path):
    """Letters past the first MAX_CHARS characters are never read: the model gives such a posting no
    p_technical, even forced. compare printed 'nan' for Brier, ECE and ROC-AUC, and evaluate failed on
    the NaN; now the row is left out and said, as a row with no letters is."""
    from pmtype.evaluation import evaluate

    src = tmp_path / "reference.csv"
    unread = "0 " * (config.MAX_CHARS // 2 + 1) + TECH_POSTING
    pd.DataFrame({"description": [TECH_POSTING, BUSINESS_POSTING, unread, BUSINESS_POSTING],
                  "label": ["technical", "business", "technical", "business"]}).to_csv(src, index=False)
    note = (f"{src}: left out 1 row with no letter in the first {config.MAX_CHARS} characters, all that "
            "pmtype reads of a posting (row 4)")
    c = compare(model_dir, src, against=model_dir, n_boot=50)
    assert c.n == 3 and c.notes[0] == note
    assert "nan" not in format_comparison(c)
    result = evaluate(src, model=model_dir)
    assert result["n"] == 3 and result["notes"][0] == note


def test_promote_on_a_file_of_one_label_fails_before_training(corpus_csv, tmp_path):
    src = tmp_path / "technical.csv"
    pd.DataFrame({"description": [TECH_POSTING] * 2, "label": ["technical"] * 2}).to_csv(src, index=False)
    with pytest.raises(BadTrainingData) as e:
        train_version([corpus_csv], name="never", use_seed=False, promote_on=src)
    assert str(e.value).startswith(f"{src} has postings of one label only (technical)")
    assert not (config.models_dir() / "never").exists()


def test_load_model_takes_a_version_name_or_a_folder(model_dir, swapped_model_dir, tmp_path, monkeypatch):
    from pmtype.model import model_folder

    _install(swapped_model_dir, "flip")
    assert model_folder("flip") == config.models_dir() / "flip"
    assert model_folder(None) == default_model_path()
    monkeypatch.chdir(tmp_path)
    assert model_folder("elsewhere/flip") == Path("elsewhere/flip")  # a path, not a name
    (tmp_path / "here").mkdir()
    assert model_folder("here") == Path("here")  # a name no version has: a folder, where there is one
    for name in ("nosuch", "DEFAULT"):  # the pointer file is never a version
        with pytest.raises(ModelNotFound) as e:
            model_folder(name)
        assert str(e.value) == (f"no model version '{name}' in {config.models_dir()} and no model folder "
                                f"{name}; 'pmtype models' lists the versions")
    swapped = json.loads((swapped_model_dir / "manifest.json").read_text())["model_id"]
    assert load_model("flip").model_id == swapped
    assert load_model(model_dir).model_id != swapped


def test_compare_names_an_unknown_model(model_dir, corpus_csv):
    with pytest.raises(ModelNotFound) as e:
        compare("nosuch", corpus_csv, against=model_dir)
    assert str(e.value) == (f"no model version 'nosuch' in {config.models_dir()} and no model folder nosuch; "
                            "'pmtype models' lists the versions")


# --- promoting ------------------------------------------------------------------------------

def test_promote_with_no_default_yet_builds_it_and_promotes_a_model_not_worse(corpus_csv):
    """Every command builds the default from the seed corpus on first use: it is what the new model must beat."""
    built = config.models_dir() / "default"
    said = []
    outcome = train_version([corpus_csv], name="first", use_seed=False, promote_on=corpus_csv, progress=said.append)
    assert f"No default model yet: building it from the seed corpus into {built} (once)…" in said
    assert outcome.promoted and outcome.comparison.verdict in (BETTER, NOT_WORSE)
    assert outcome.comparison.current_path == str(built)
    assert outcome.decision == f"first is now the default model (verdict against default: {outcome.comparison.verdict})"
    assert default_model_path() == config.models_dir() / "first"
    assert (built / "manifest.json").is_file()


def test_promote_with_no_default_yet_refuses_a_worse_model(swapped_csv, corpus_csv):
    outcome = train_version([swapped_csv], name="bad", use_seed=False, promote_on=corpus_csv)
    assert not outcome.promoted and outcome.comparison.verdict == WORSE
    assert outcome.decision == ("not promoted (verdict against default: worse); default stays the default "
                                "and bad is kept as a version")
    assert not _pointer().exists() and default_model_path() == config.models_dir() / "default"
    assert (config.models_dir() / "default" / "manifest.json").is_file()
    assert (config.models_dir() / "bad" / "manifest.json").is_file()


def test_promote_when_the_pointer_names_a_missing_version_promotes_with_nothing_to_compare(corpus_csv):
    config.models_dir().mkdir(parents=True)
    _pointer().write_text("gone\n")
    outcome = train_version([corpus_csv], name="first", use_seed=False, promote_on=corpus_csv)
    assert outcome.promoted and outcome.comparison is None
    assert outcome.decision == (f"first is now the default model (the default model gone, named in {_pointer()}, "
                                "is missing: there was nothing to compare with)")
    assert _pointer().read_text() == "first\n"
    assert not (config.models_dir() / "default").exists()  # nothing was built


def test_promote_a_version_of_the_missing_defaults_name_puts_it_in_its_place(corpus_csv):
    config.models_dir().mkdir(parents=True)
    _pointer().write_text("gone\n")  # its folder removed by hand: no default to compare with, nor to keep
    outcome = train_version([corpus_csv], name="gone", use_seed=False, promote_on=corpus_csv)
    assert outcome.promoted and outcome.comparison is None  # never compared with itself
    assert outcome.decision == (f"gone is now the default model (the default model gone, named in {_pointer()}, "
                                "is missing: there was nothing to compare with)")
    assert _pointer().read_text() == "gone\n"
    assert load_model(None).model_id == outcome.manifest["model_id"]


def test_promote_with_a_generator_of_paths_trains_on_its_files(corpus_csv):
    config.models_dir().mkdir(parents=True)
    _pointer().write_text("gone\n")
    outcome = train_version((path for path in [corpus_csv]), name="first", use_seed=False, promote_on=corpus_csv)
    assert outcome.manifest["data"]["sources"] == ["postings.csv"]


def test_promote_refuses_a_worse_model_and_keeps_it_as_a_version(model_dir, swapped_csv, corpus_csv):
    _install(model_dir, "good")
    use_model("good")
    outcome = train_version([swapped_csv], name="bad", use_seed=False, promote_on=corpus_csv)
    assert not outcome.promoted and outcome.comparison.verdict == WORSE
    assert outcome.decision == ("not promoted (verdict against good: worse); good stays the default "
                                "and bad is kept as a version")
    assert default_model_path() == config.models_dir() / "good"
    assert (config.models_dir() / "bad" / "manifest.json").is_file()


def test_promote_accepts_a_better_model(swapped_model_dir, corpus_csv):
    _install(swapped_model_dir, "bad")
    use_model("bad")
    outcome = train_version([corpus_csv], name="good", use_seed=False, promote_on=corpus_csv)
    assert outcome.promoted and outcome.comparison.verdict == BETTER
    assert outcome.decision == "good is now the default model (verdict against bad: better)"
    assert _pointer().read_text() == "good\n"


def test_promote_needs_a_version_in_the_models_directory(corpus_csv, tmp_path):
    with pytest.raises(NotAModelVersion) as e:
        train_version([corpus_csv], output=tmp_path / "elsewhere", use_seed=False, promote_on=corpus_csv)
    assert str(e.value) == (f"{tmp_path / 'elsewhere'} is not in the models directory {config.models_dir()}, "
                            "so it cannot become the default; train with --name NAME, or without -o")
    assert not (tmp_path / "elsewhere").exists()


def test_promote_checks_the_reference_file_before_training(corpus_csv, tmp_path):
    with pytest.raises(BadInputFile) as e:
        train_version([corpus_csv], name="never", use_seed=False, promote_on=tmp_path / "missing.csv")
    assert str(e.value) == f"{tmp_path / 'missing.csv'} does not exist"
    assert not (config.models_dir() / "never").exists()


@pytest.mark.parametrize("how", ["pointer", "folder named default"])
def test_promote_refuses_to_write_over_the_default_it_would_compare_with(model_dir, swapped_csv, corpus_csv, how):
    """The new model is compared with the current default: it cannot replace that default's folder first."""
    name = "current" if how == "pointer" else "default"
    current = _install(model_dir, name)
    if how == "pointer":
        use_model(name)
    before = (current / "model.joblib").read_bytes()
    with pytest.raises(OutputExists) as e:
        train_version([swapped_csv], output=current, overwrite=True, use_seed=False, promote_on=corpus_csv)
    assert str(e.value) == (f"{current} is the default model, which --promote-if-better would compare the new "
                            "model with: write the new model to another folder or version")
    assert (current / "model.joblib").read_bytes() == before


def test_a_version_cannot_be_named_like_the_built_in_default(corpus_csv):
    with pytest.raises(BadModelName) as e:
        train_version([corpus_csv], name="default", use_seed=False)
    assert str(e.value) == ("'default' is the folder of the built-in default model (the default when no version "
                            "is chosen); choose another name")
    assert not (config.models_dir() / "default").exists()


def test_models_lists_a_tampered_version_as_unusable(model_dir):
    _install(model_dir, "good")
    bad = _install(model_dir, "bad")
    with open(bad / "model.joblib", "ab") as f:
        f.write(b"x")
    versions = {v.name: v for v in list_models()}
    assert versions["good"].problem is None
    assert versions["bad"].problem.startswith(f"{bad / 'model.joblib'} does not match the SHA-256 in its manifest")


def test_models_and_the_pointer_are_readable_by_others_under_the_usual_umask(corpus_csv):
    """tempfile makes files private to their owner; a shared models folder needs what open() gives."""
    old = os.umask(0o022)
    try:
        outcome = train_version([corpus_csv], name="shared", use_seed=False)
        use_model("shared")
    finally:
        os.umask(old)
    assert outcome.path.stat().st_mode & 0o777 == 0o755
    for name in ("model.joblib", "manifest.json"):
        assert (outcome.path / name).stat().st_mode & 0o777 == 0o644
    assert _pointer().stat().st_mode & 0o777 == 0o644


# --- a models folder that cannot be written ----------------------------------------------

def _read_only(*a, **k):
    import errno

    raise OSError(errno.EROFS, "Read-only file system")


@pytest.mark.parametrize("action", ["use", "remove"])
def test_a_read_only_models_folder_is_a_one_line_error(model_dir, monkeypatch, action):
    import tempfile

    _install(model_dir, "a")
    _install(model_dir, "b")
    use_model("a")
    if action == "use":  # the pointer's temporary file cannot be made
        monkeypatch.setattr(tempfile, "mkstemp", _read_only)
        expected = f"{_pointer()} cannot be written: read-only file system"
    else:  # the version cannot be renamed aside
        monkeypatch.setattr(os, "rename", _read_only)
        expected = f"{version_path('b')} cannot be removed: read-only file system"
    with pytest.raises(CannotWrite) as e:
        (use_model if action == "use" else remove_version)("b")
    assert str(e.value) == expected
    assert default_model_path().name == "a" and version_path("b").is_dir()


def test_classify_keeps_the_model_it_loaded_until_the_default_changes(model_dir, monkeypatch):
    import pmtype.model
    from pmtype import classify

    _install(model_dir, "a")
    _install(model_dir, "b")
    use_model("a")
    loads = []
    load = pmtype.model.load_model
    monkeypatch.setattr(pmtype.model, "load_model", lambda *a, **k: (loads.append(a), load(*a, **k))[1])
    for _ in range(3):
        classify(TECH_POSTING)
    assert len(loads) == 1
    use_model("b")  # another default: loaded afresh
    classify(TECH_POSTING)
    assert len(loads) == 2
    model_file = version_path("b") / persist.MODEL_FILE
    model_file.write_bytes(model_file.read_bytes() + b"\0")  # changed on disk: loaded again, and refused
    with pytest.raises(ModelTampered):
        classify(TECH_POSTING)
