"""The commands for model versions, comparing, checking labels and suggesting what to label."""

import io
import json
import os
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import BUSINESS_POSTING, SWAP, TECH_POSTING, install_model as _install
from corpus import rows
from pmtype import config
from pmtype.cli import app

runner = CliRunner()



def run(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


# --- train, models, models use -------------------------------------------------------------

def test_a_default_version_removed_by_hand_is_named_and_the_built_in_model_can_be_chosen_again(corpus_csv):
    r = run("train", corpus_csv, "--no-seed", "--name", "mine")
    assert r.exit_code == 0, r.output
    assert run("models", "use", "mine").exit_code == 0
    shutil.rmtree(config.models_dir() / "mine")  # by hand, not with 'models remove'
    missing = (f"the default model mine (named in {config.models_dir() / '.default-version'}) is missing; choose "
               "another with 'pmtype models use NAME', or the built-in one with 'pmtype models use default'")
    r = run("classify", "Own our public APIs with engineers.")
    assert (r.exit_code, r.stderr) == (1, f"Error: {missing}\n")
    r = run("models")
    assert r.exit_code == 0 and r.stdout.startswith("no model versions in ")
    assert r.stderr == f"Note: {missing}\n"
    r = run("models", "use", "default")  # built from the (here tiny) seed corpus: it was never built
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("default is now the default model (default-")
    assert "building the built-in model from the seed corpus" in r.stderr
    assert run("classify", "Own our public APIs with engineers.").exit_code == 0
    r = run("models")
    assert r.stderr == "" and [line[:9] for line in r.stdout.splitlines()[1:]] == ["* default"]


def test_train_makes_versions_that_models_lists_and_use_chooses(corpus_csv):
    r = run("train", corpus_csv, "--no-seed")
    assert r.exit_code == 0, r.output
    name = re.search(r"make it the default with: pmtype models use (\S+)", r.stdout).group(1)
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{8}", name)
    assert f"model {name} written to {config.models_dir() / name}" in r.stdout
    r = run("train", corpus_csv, "--no-seed", "--name", "mine")
    assert r.exit_code == 0, r.output
    assert f"written to {config.models_dir() / 'mine'}" in r.stdout
    r = run("models")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["name", "created", "rows", "macro_f1", "accuracy", "roc_auc", "ece", "model", "id"]
    assert [line.split()[0] for line in lines[1:3]] == [name, "mine"]
    assert lines[-1] == ("(no default among them: the built-in model, built from the seed corpus on first use, is "
                         "the default; 'pmtype models use NAME' chooses one of these)")
    r = run("models", "use", "mine")
    assert r.exit_code == 0, r.output
    manifest = json.loads((config.models_dir() / "mine" / "manifest.json").read_text())
    assert r.stdout.strip() == f"mine is now the default model ({manifest['model_id']})"
    r = run("models")
    assert [(line[0], line[2:].split()[0]) for line in r.stdout.splitlines()[1:]] == [(" ", name), ("*", "mine")]
    assert "1.000" in r.stdout  # the tiny corpus is easy: cross-validated metrics are shown


def test_models_with_none_yet():
    r = run("models")
    assert r.exit_code == 0
    assert r.stdout.strip() == f"no model versions in {config.models_dir()}; train one with 'pmtype train'"


def test_models_removes_what_a_killed_training_left_and_says_so(model_dir):
    _install(model_dir, "fine")
    before = run("models")
    assert before.exit_code == 0 and before.stderr == ""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # its id is now a dead process's
    litter = config.models_dir() / f".next.{proc.pid}.abcd1234.tmp"
    litter.mkdir()
    running = config.models_dir() / f".other.{os.getpid()}.efgh5678.tmp"
    running.mkdir()
    r = run("models")
    assert r.exit_code == 0, r.output
    assert r.stderr == (f"Removed what interrupted runs left unfinished in {config.models_dir()}: "
                        f".next.{proc.pid}.abcd1234.tmp\n")
    assert r.stdout == before.stdout
    assert not litter.exists() and running.is_dir()
    again = run("models")
    assert again.exit_code == 0 and again.stderr == "" and again.stdout == before.stdout


def test_models_says_what_it_removed_folder_by_folder(model_dir):
    from pmtype import persist

    _install(model_dir, "fine")
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # its id is now a dead process's
    writer = f"{proc.pid}-{persist.HOST_TAG}"
    (config.models_dir() / f".next.{writer}.abcd1234.tmp").mkdir()
    (config.models_dir() / f".DEFAULT.{writer}.efgh5678.tmp").write_text("next\n")
    cache = config.models_dir() / ".cache"
    cache.mkdir()
    (cache / f".cues-0123456789abcdef.jsonl.gz.{writer}.ijkl9012.tmp").write_bytes(b"half")
    r = run("models")
    assert r.exit_code == 0, r.output
    assert r.stderr == (f"Removed what interrupted runs left unfinished in {config.models_dir()}: "
                        f".DEFAULT.{writer}.efgh5678.tmp, .next.{writer}.abcd1234.tmp\n"
                        f"Removed what interrupted runs left unfinished in {cache}: "
                        f".cues-0123456789abcdef.jsonl.gz.{writer}.ijkl9012.tmp\n")


def test_models_puts_back_a_model_a_killed_overwrite_moved_aside_and_says_so(model_dir):
    _install(model_dir, "fine")
    before = run("models")
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # its id is now a dead process's
    os.replace(config.models_dir() / "fine", config.models_dir() / f".fine.{proc.pid}.old")
    r = run("models")
    assert r.exit_code == 0, r.output
    assert r.stderr == (f"Put back {config.models_dir() / 'fine'}, which an interrupted training had moved "
                        "aside to replace it.\n")
    assert r.stdout == before.stdout


def test_train_into_the_models_folder_notes_when_another_model_is_the_default(model_dir, corpus_csv, tmp_path):
    note = "Note: the default model is other; run 'pmtype models use default' to use this one."
    target = config.models_dir() / "default"
    r = run("train", corpus_csv, "--no-seed", "-o", target)  # no pointer: the folder default is the default
    assert r.exit_code == 0, r.output
    assert "Note:" not in r.stdout
    _install(model_dir, "other")
    assert run("models", "use", "other").exit_code == 0
    r = run("train", corpus_csv, "--no-seed", "-o", target, "--overwrite")  # what 'make model' runs
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[-1] == note
    r = run("train", corpus_csv, "--no-seed", "-o", tmp_path / "elsewhere")  # not in the models folder
    assert r.exit_code == 0, r.output
    assert "Note:" not in r.stdout
    assert run("models", "use", "default").exit_code == 0
    r = run("train", corpus_csv, "--no-seed", "-o", target, "--overwrite")
    assert r.exit_code == 0, r.output
    assert "Note:" not in r.stdout


@pytest.mark.parametrize("args,message,code", [
    (["models", "use", "nope"], "Error: no model version 'nope' in {models}; 'pmtype models' lists them", 1),
    # a name that can never be a version is a wrong use of the command line, as a wrong -o is
    (["models", "use", "../x"], "Error: '../x' is not a model version name: use letters, digits, '.', '_' and '-', "
                                "starting with a letter or digit (other spellings of 'default', such as 'DEFAULT', are reserved)", 2),
    (["models", "use", "a/b"], "Error: 'a/b' is not a model version name: use letters, digits, '.', '_' and '-', "
                               "starting with a letter or digit (other spellings of 'default', such as 'DEFAULT', are reserved)", 2),
    (["models", "remove", "a/b"], "Error: 'a/b' is not a model version name: use letters, digits, '.', '_' and '-', "
                                  "starting with a letter or digit (other spellings of 'default', such as 'DEFAULT', are reserved)", 2),
    (["models", "remove", "DEFAULT"], "Error: 'DEFAULT' is not a model version name: use letters, digits, '.', '_' and "
                                      "'-', starting with a letter or digit (other spellings of 'default', such as 'DEFAULT', "
                                      "are reserved)", 2),
    (["train", "{corpus}", "--no-seed", "--name", "a/b"], "Error: 'a/b' is not a model version name: use letters, "
     "digits, '.', '_' and '-', starting with a letter or digit (other spellings of 'default', such as 'DEFAULT', are reserved)", 2),
    (["train", "{corpus}", "--no-seed", "--name", "x", "-o", "{tmp}/y"], "Error: give --output or --name, not both", 2),
    (["train", "{corpus}", "--no-seed", "-o", "{models}/default/sub"], "Error: {models}/default/sub is inside the "
     "folder of model version 'default'; a model cannot be written into another: choose another -o", 2),
    (["train", "{corpus}", "--no-seed", "-o", "{tmp}/y", "--promote-if-better", "{corpus}"],
     "Error: {tmp}/y is not in the models directory {models}, so it cannot become the default; "
     "train with --name NAME, or without -o", 1),
    (["train", "{corpus}", "--no-seed", "--name", "z", "--promote-if-better", "{tmp}/none.csv"],
     "Error: {tmp}/none.csv does not exist", 1),
])
def test_version_errors(corpus_csv, tmp_path, args, message, code):
    fill = {"corpus": corpus_csv, "tmp": tmp_path, "models": config.models_dir()}
    r = run(*[a.format(**fill) for a in args])
    assert r.exit_code == code
    assert r.stderr.strip() == message.format(**fill)
    assert not (config.models_dir() / "z").exists()


def test_a_named_version_is_not_replaced(corpus_csv):
    assert run("train", corpus_csv, "--no-seed", "--name", "once").exit_code == 0
    r = run("train", corpus_csv, "--no-seed", "--name", "once", "--overwrite")
    assert r.exit_code == 1
    assert r.stderr.strip() == (f"Error: model version 'once' already exists in {config.models_dir()}; "
                                "versions are never replaced: choose another name")


def test_train_promote_if_better_promotes_or_refuses(model_dir, swapped_csv, corpus_csv):
    _install(model_dir, "good")
    assert run("models", "use", "good").exit_code == 0
    r = run("train", swapped_csv, "--no-seed", "--name", "bad", "--promote-if-better", corpus_csv)
    assert r.exit_code == 0, r.output
    assert "verdict: worse (macro-F1 -" in r.stdout
    assert r.stdout.strip().splitlines()[-1] == ("not promoted (verdict against good: worse); good stays the "
                                                 "default and bad is kept as a version")
    assert (config.models_dir() / ".default-version").read_text() == "good\n"
    r = run("train", corpus_csv, "--no-seed", "--name", "good2", "--promote-if-better", corpus_csv)
    assert r.exit_code == 0, r.output
    assert r.stdout.strip().splitlines()[-1] == "good2 is now the default model (verdict against good: not worse)"
    assert (config.models_dir() / ".default-version").read_text() == "good2\n"


def test_promote_if_better_reads_the_reference_as_the_training_files_and_checks_the_default_first(
        model_dir, corpus_csv, tmp_path, monkeypatch):
    _install(model_dir, "good")
    assert run("models", "use", "good").exit_code == 0
    mine, reference = tmp_path / "mine.dat", tmp_path / "reference.dat"  # names that tell no format
    mine.write_bytes(corpus_csv.read_bytes())
    reference.write_bytes(corpus_csv.read_bytes())
    r = run("train", mine, "--format", "csv", "--no-seed", "--name", "good3", "--promote-if-better", reference)
    assert r.exit_code == 0, r.output
    assert r.stdout.strip().splitlines()[-1] == "good3 is now the default model (verdict against good: not worse)"
    # a damaged default model stops the run before any training
    joblib_file = config.models_dir() / "good3" / "model.joblib"
    joblib_file.write_bytes(joblib_file.read_bytes() + b"x")
    import pmtype.training

    monkeypatch.setattr(pmtype.training, "fit_model", lambda *a, **k: pytest.fail("trained before the check"))
    r = run("train", mine, "--format", "csv", "--no-seed", "--name", "good4", "--promote-if-better", reference)
    assert r.exit_code == 1
    assert "model.joblib" in r.stderr and not (config.models_dir() / "good4").exists()


def test_promote_if_better_says_which_rows_of_the_reference_it_left_out_as_compare_does(model_dir, corpus_csv,
                                                                                         tmp_path):
    _install(model_dir, "good")
    assert run("models", "use", "good").exit_code == 0
    reference = tmp_path / "reference.csv"
    frame = pd.read_csv(corpus_csv)
    frame.loc[1, "description"] = ""
    frame.to_csv(reference, index=False)
    r = run("train", corpus_csv, "--no-seed", "--name", "good5", "--promote-if-better", reference)
    assert r.exit_code == 0, r.output
    notes = [f"{reference}: left out 1 row with empty text (row 3)",
             f"{reference}: left out 16 rows labelled not_pm (the comparison covers technical and business postings)",
             "only 19 postings compared on: the 95% intervals, and the verdict drawn from them, are rough at this "
             "size (a bootstrap cannot show what so few postings leave out)"]
    assert r.stderr.splitlines()[-3:] == notes
    assert run("compare", "good5", "--on", reference, "--against", "good").stderr.splitlines() == notes


def test_promote_if_better_reads_a_reference_on_standard_input_once(model_dir, corpus_csv):
    """Checked before training and scored after it, the reference is read once: standard input (or a
    pipe) cannot be read again."""
    _install(model_dir, "good")
    assert run("models", "use", "good").exit_code == 0
    r = run("train", corpus_csv, "--no-seed", "--name", "piped", "--promote-if-better", "-",
            input=corpus_csv.read_text())
    assert r.exit_code == 0, r.output
    assert "on       standard input: " in r.stdout
    assert r.stdout.strip().splitlines()[-1] == "piped is now the default model (verdict against good: not worse)"
    assert (config.models_dir() / ".default-version").read_text() == "piped\n"


# --- compare --------------------------------------------------------------------------------

def test_compare_prints_metrics_flips_and_verdict(model_dir, swapped_model_dir, corpus_csv):
    _install(model_dir, "current")
    run("models", "use", "current")
    r = run("compare", swapped_model_dir, "--on", corpus_csv)
    assert r.exit_code == 0, r.output
    out = r.stdout.splitlines()
    assert out[0].startswith("new      swapped-")  # model ids, then folders
    assert out[1].startswith("current  tiny-") and out[1].endswith(f"({config.models_dir() / 'current'})")
    assert out[2] == f"on       {corpus_csv}: 20 labelled postings; 95% intervals from a paired bootstrap"
    assert out[4].split() == ["metric", "new", "current", "new", "-", "current"]
    assert [line.split()[0] for line in out[5:10]] == ["macro_f1", "accuracy", "roc_auc", "brier", "ece"]
    assert "20 postings change label: 0 now match the given label, 20 no longer do" in out
    assert any(re.match(r"  row 2 +given technical current technical \(0\.\d\d\) -> new business", line) for line in out)
    assert out[-1].startswith("verdict: worse (")
    assert r.stderr.splitlines() == [f"{corpus_csv}: left out 16 rows labelled not_pm (the comparison covers "
                                     "technical and business postings)",
                                     "only 20 postings compared on: the 95% intervals, and the verdict drawn from "
                                     "them, are rough at this size (a bootstrap cannot show what so few postings "
                                     "leave out)"]


def test_compare_names_a_flip_by_its_first_line_as_read_not_its_markup(model_dir, swapped_model_dir, tmp_path):
    src = tmp_path / "ref.csv"
    html = "<h2>Platform <b>PM</b></h2><ul><li>" + TECH_POSTING + "</li></ul>"
    pd.DataFrame({"description": [html, BUSINESS_POSTING], "label": ["technical", "business"]}).to_csv(src, index=False)
    r = run("compare", swapped_model_dir, "--against", model_dir, "--on", src)
    assert r.exit_code == 0, r.output
    flip = next(line for line in r.stdout.splitlines() if line.startswith("  row 2 "))
    assert flip.endswith("  broke  Platform PM")


@pytest.fixture(scope="module")
def half_swapped_csv(tmp_path_factory, corpus_csv):
    """The tiny corpus with half its technical and half its business labels swapped: the model and
    the swapped model each get half right, so neither is shown better, worse or not worse."""
    frame = pd.read_csv(corpus_csv)
    for label in ("technical", "business"):
        half = frame.index[frame.label == label][::2]
        frame.loc[half, "label"] = SWAP[label]
    path = tmp_path_factory.mktemp("half") / "half_swapped.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("new,against,reference,verdict,code", [
    ("swapped", "tiny", "corpus", "worse", 3),
    ("tiny", "swapped", "half", "inconclusive", 3),
    ("tiny", "swapped", "corpus", "better", 0),
    ("tiny", "tiny", "corpus", "not worse", 0),
])
def test_compare_fail_if_worse_sets_the_exit_code_after_the_whole_report(
        model_dir, swapped_model_dir, corpus_csv, half_swapped_csv, new, against, reference, verdict, code):
    models = {"tiny": model_dir, "swapped": swapped_model_dir}
    args = ["compare", models[new], "--against", models[against], "--on",
            {"corpus": corpus_csv, "half": half_swapped_csv}[reference]]
    plain = run(*args)
    assert plain.exit_code == 0, plain.output  # without the flag, every verdict exits 0
    assert plain.stdout.splitlines()[-1].startswith(f"verdict: {verdict} (")
    gated = run(*args, "--fail-if-worse")
    assert gated.exit_code == code, gated.output
    assert gated.stdout == plain.stdout  # the same report, printed in full
    assert gated.stderr == plain.stderr
    as_json = run(*args, "--fail-if-worse", "--json")
    assert as_json.exit_code == code, as_json.output
    assert json.loads(as_json.stdout)["verdict"] == verdict


def test_compare_help_names_the_exit_code_of_fail_if_worse():
    r = run("compare", "--help")
    assert r.exit_code == 0
    assert re.search(r"--fail-if-worse (<bool> )?Exit with code 3 unless the verdict is 'better' or 'not worse'",
                     " ".join(r.stdout.replace("│", " ").split()))


def test_compare_as_json_against_a_named_model(model_dir, swapped_model_dir, corpus_csv):
    _install(swapped_model_dir, "old")
    r = run("compare", model_dir, "--against", "old", "--on", corpus_csv, "--json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert got["verdict"] == "better" and got["n"] == 20
    assert {f["effect"] for f in got["flips"]} == {"fixed"}
    assert set(got["metrics"]["macro_f1"]) == {"new", "current", "diff"}


# --- a version name wherever a model is asked for -------------------------------------------

def test_every_command_takes_a_version_name_for_its_model(model_dir, swapped_model_dir, corpus_csv,
                                                          tmp_path, monkeypatch):
    """``--model NAME`` is the version ``pmtype models`` lists, even beside a folder of that name."""
    _install(swapped_model_dir, "flip")
    # A folder of the same name in the working directory: the version comes first, as in compare.
    monkeypatch.chdir(tmp_path)
    import shutil
    shutil.copytree(model_dir, tmp_path / "flip")
    frame = pd.read_csv(corpus_csv)
    labelled = frame[frame["label"] != "not_pm"]
    row = labelled.iloc[0]

    r = run("classify", "--model", "flip", "--title", row["title"], "--json", input=row["description"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["label"] == SWAP[row["label"]]

    r = run("label", corpus_csv, "-o", tmp_path / "out.csv", "--model", "flip")
    assert r.exit_code == 0, r.output
    out = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    pm = out["label"] != "not_pm"
    assert (out.loc[pm, "pm_label"] == out.loc[pm, "label"].map(SWAP)).mean() >= 0.9
    swapped_id = json.loads((swapped_model_dir / "manifest.json").read_text())["model_id"]
    assert set(out["pm_model"]) == {swapped_id}

    r = run("evaluate", corpus_csv, "--model", "flip")
    assert r.exit_code == 0, r.output
    accuracy = float(re.search(r"accuracy\s+([0-9.]+)", r.stdout).group(1))
    assert accuracy <= 0.1

    r = run("info", "--model", "flip")
    assert r.exit_code == 0, r.output
    assert swapped_id in r.stdout


@pytest.mark.parametrize("command", [
    ["classify", "We build APIs with engineers."], ["label", "{corpus}", "-o", "{tmp}/out.csv"],
    ["label", "{corpus}", "-o", "{tmp}/out.csv", "--jobs", "2", "--chunk-size", "5"],
    ["evaluate", "{corpus}"], ["info"], ["suggest", "{corpus}"],
])
def test_a_model_named_neither_version_nor_folder_is_one_line(tmp_path, monkeypatch, corpus_csv, command):
    monkeypatch.chdir(tmp_path)
    r = run(*[a.format(corpus=corpus_csv, tmp=tmp_path) for a in command], "--model", "nosuch")
    assert r.exit_code == 1
    assert r.stderr == (f"Error: no model version 'nosuch' in {config.models_dir()} and no model folder nosuch; "
                        "'pmtype models' lists the versions\n")
    assert not (tmp_path / "out.csv").exists()
    # a path (not a plain name) is a folder that is not there
    r = run(*[a.format(corpus=corpus_csv, tmp=tmp_path) for a in command], "--model", "sub/nosuch")
    assert r.exit_code == 1
    assert r.stderr == "Error: no model at sub/nosuch; build one with 'pmtype train'\n"


@pytest.mark.parametrize("args,message,code", [
    (["compare", "nosuch", "--on", "{corpus}"], "Error: no model version 'nosuch' in {models} and no model folder "
                                                "nosuch; 'pmtype models' lists the versions", 1),
    (["compare", "{model}", "--on", "{tmp}/none.csv", "--against", "{model}"], "Error: {tmp}/none.csv does not exist", 1),
])
def test_compare_errors(model_dir, corpus_csv, tmp_path, args, message, code):
    fill = {"corpus": corpus_csv, "tmp": tmp_path, "models": config.models_dir(), "model": model_dir}
    r = run(*[a.format(**fill) for a in args])
    assert r.exit_code == code
    assert r.stderr.strip() == message.format(**fill)


def test_compare_needs_a_reference_set(model_dir):
    r = run("compare", model_dir)
    assert r.exit_code == 2
    assert "Missing option '--on'" in r.stderr


# --- check-labels ------------------------------------------------------------------------------

def test_check_labels_prints_and_writes_the_suspects(tmp_path):
    frame = pd.DataFrame(rows(n_each=15))
    flipped = [0, 3]  # t0 and b1 (the corpus alternates technical, business)
    frame.loc[flipped, "label"] = frame.loc[flipped, "label"].map(SWAP)
    src = tmp_path / "labelled.csv"
    frame.to_csv(src, index=False)
    out = tmp_path / "suspects.csv"
    r = run("check-labels", src, "-o", out, "--top", "1")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    summary = re.fullmatch(rf"checked 30 postings in {re.escape(str(src))}: (\d+) labels look wrong "
                           r"\(thresholds: business 0\.\d\d, technical 0\.\d\d\)", lines[0])
    assert summary
    found = int(summary.group(1))
    assert found >= 2  # the two flipped labels
    assert len([line for line in lines if line.startswith("  row ")]) == 1  # --top 1
    assert f"  … and {found - 1} more" in lines
    assert re.match(r"  row (2|5) +given (technical|business) +suggested (business|technical) +confidence 0\.\d\d  margin \+0\.\d\d",
                    lines[1])
    assert lines[2].startswith("             evidence: ")
    assert lines[-1] == f"written to {out}"
    written = pd.read_csv(out)
    assert {2, 5} <= set(written["row"])
    assert "left out 16 rows labelled not_pm (the check covers technical and business postings)" in r.stderr


def test_check_labels_checks_its_output_before_the_cross_validation(tmp_path, monkeypatch):
    import pmtype.curation

    def no_training(*args, **kwargs):
        raise AssertionError("cross-validated although the output could not be written")

    # where check-labels looks it up: patching pmtype.model alone, a first import of
    # pmtype.curation during this test kept the stub for every later test
    monkeypatch.setattr(pmtype.curation, "cross_fit", no_training)
    src = tmp_path / "labelled.csv"
    pd.DataFrame(rows(n_each=8)).to_csv(src, index=False)
    before = src.read_bytes()
    for output, message in [
        (src, f"Error: {src} is the input file; write the output to another file"),
        (src / "s.csv", f"Error: {src / 's.csv'} cannot be written: {src} is a file, not a folder"),
        (tmp_path / "s.xlsx", f"Error: cannot tell the format of {tmp_path / 's.xlsx'} from its name; "
                              "name it .csv, .tsv, .jsonl or .parquet (.gz for compressed text)"),
    ]:
        r = run("check-labels", src, "-o", output)
        assert r.exit_code == 1
        assert r.stderr.strip() == message, r.stderr
    assert src.read_bytes() == before


@pytest.mark.parametrize("flag,seed_note", [
    ([], True), (["--with-seed"], True), (["--no-seed"], False),
])
def test_check_labels_trains_with_the_seed_corpus_unless_no_seed(tmp_path, flag, seed_note):
    src = tmp_path / "mine.csv"
    pd.DataFrame(rows(n_each=8, seed=3)).to_csv(src, index=False)
    r = run("check-labels", src, *flag)
    assert r.exit_code == 0, r.output
    assert re.fullmatch(rf"checked 16 postings in {re.escape(str(src))}: \d+ labels look wrong "
                        r"\(thresholds: business 0\.\d\d, technical 0\.\d\d\)", r.stdout.splitlines()[0])
    notes = [f"{src}: left out 16 rows labelled not_pm (the check covers technical and business postings)"]
    if seed_note:  # the tiny corpus is the seed corpus in the tests: its 20 technical and business postings
        notes.append("trained with 20 seed corpus postings besides yours")
    assert r.stderr.splitlines()[-len(notes):] == notes
    assert ("trained with" in r.stderr) == seed_note


@pytest.mark.parametrize("args", [["check-labels", "{src}"], ["check-labels", "{src}", "--with-seed"],
                                  ["train", "{src}", "-o", "{tmp}/m"]])
def test_a_missing_seed_corpus_is_a_one_line_error(tmp_path, monkeypatch, args):
    src = tmp_path / "mine.csv"
    pd.DataFrame(rows(n_each=8, seed=3)).to_csv(src, index=False)
    monkeypatch.setenv("PMTYPE_SEED_CORPUS", str(tmp_path / "none.csv"))
    r = run(*[a.format(src=src, tmp=tmp_path) for a in args])
    assert r.exit_code == 1
    assert r.stderr.strip() == (f"Error: PMTYPE_SEED_CORPUS names {tmp_path / 'none.csv'}, which does not exist; "
                                "point PMTYPE_SEED_CORPUS at the seed corpus file, or unset it")
    assert not (tmp_path / "m").exists()
    assert run(*[a.format(src=src, tmp=tmp_path) for a in args], "--no-seed").exit_code == 0


@pytest.mark.parametrize("frame,message,options", [
    (pd.DataFrame({"description": ["a", "b"], "label": ["technical", "Sales-y"]}),
     "Error: {src}: 1 row has a label other than technical, business or not_pm (row 3; value 'Sales-y')", ()),
    (pd.DataFrame({"description": ["a", "b"], "kind": ["technical", "business"]}),
     "Error: {src}: no label column 'label'; the columns are: description, kind; name one with --label-column", ()),
    (pd.DataFrame({"description": [f"posting {i}" for i in range(8)], "label": ["technical"] * 8}),
     "Error: checking labels needs rows of both labels; found no business rows with text "
     "(rows with empty text are left out)", ()),
    (pd.DataFrame({"description": [f"posting {i}" for i in range(8)], "label": ["technical"] * 7 + ["business"]}),
     "Error: training needs at least 7 postings of each label; found technical 7, business 1", ("--no-seed",)),
    (pd.DataFrame({"description": ["Own pricing and packaging with sales; MBA", "Own our public APIs with engineers",
                                    "own pricing  and packaging with sales; MBA"],
                   "label": ["business", "technical", "technical"]}),
     "Error: 1 posting appears twice with different labels (the first: 'own pricing and packaging with sales; MBA' "
     "in {src}, rows 2 and 4); fix the labels and run check-labels again", ()),
    (pd.DataFrame({"description": [f"posting {i}" for i in range(4)], "label": ["not_pm"] * 4}),
     "Error: checking labels needs rows of both labels; {src} has no technical or business rows with text "
     "(4 not_pm rows are not checked)", ()),
])
def test_check_labels_errors(tmp_path, frame, message, options):
    src = tmp_path / "bad.csv"
    frame.to_csv(src, index=False)
    r = run("check-labels", src, *options)
    assert r.exit_code == 1
    assert r.stderr.strip() == message.format(src=src)


@pytest.mark.parametrize("command", [["check-labels", "{src}", "-o", "{tmp}/out.csv/"],
                                     ["suggest", "{src}", "--model", "{model}", "-o", "{tmp}/out.csv/"]])
def test_an_output_ending_in_a_slash_names_a_folder_and_is_refused(tmp_path, model_dir, corpus_csv, command):
    """Not a file named out.csv: the slash says a folder was meant."""
    r = run(*[a.format(src=corpus_csv, tmp=tmp_path, model=model_dir) for a in command])
    assert (r.exit_code, r.stderr.strip()) == (1, f"Error: {tmp_path}/out.csv/ names a folder; give a file name")
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("command", [["train", "{src}", "-o", "{tmp}/m"], ["evaluate", "{src}", "--model", "{model}"],
                                     ["check-labels", "{src}"],
                                     ["compare", "{model}", "--against", "{model}", "--on", "{src}"]])
@pytest.mark.parametrize("option,what", [("--text-column", "text"), ("--title-column", "title")])
def test_the_label_column_cannot_be_the_postings_text(tmp_path, model_dir, corpus_csv, command, option, what):
    """The model would read the labels themselves: evaluate would score 1.000."""
    args = [a.format(src=corpus_csv, tmp=tmp_path, model=model_dir) for a in command]
    r = run(*args, option, "label")
    assert r.exit_code == 2, r.output
    assert r.stderr.strip() == (f"Error: the {what} column 'label' is the label column; "
                                f"give the postings' {what} column with {option}")
    assert not (tmp_path / "m").exists()


def test_check_labels_on_standard_input_calls_it_so():
    frame = pd.DataFrame(rows(n_each=8))
    r = run("check-labels", "-", input=frame.to_csv(index=False))
    assert r.exit_code == 0, r.output
    assert re.match(r"checked 16 postings in standard input: \d+ labels? looks? wrong", r.stdout)
    assert "standard input: left out 16 rows labelled not_pm" in r.stderr
    assert re.search(r"besides yours \(left out \d+ that are also in standard input\)", r.stderr)
    twice = pd.concat([frame, frame.iloc[[0]].assign(label=SWAP[frame.label.iloc[0]])], ignore_index=True)
    r = run("check-labels", "-", input=twice.to_csv(index=False))
    assert r.exit_code == 1
    assert r.stderr == ("Error: 1 posting appears twice with different labels (the first: 'Product Manager' in "
                        f"standard input, rows 2 and {len(twice) + 1}); fix the labels and run check-labels again\n")


# --- suggest ----------------------------------------------------------------------------------

def test_check_labels_to_stdout_gives_the_table_alone_with_numbers_in_json_lines(tmp_path):
    frame = pd.DataFrame(rows(n_each=15))
    frame.loc[[0, 3], "label"] = frame.loc[[0, 3], "label"].map(SWAP)
    src = tmp_path / "labelled.csv"
    frame.to_csv(src, index=False)
    r = run("check-labels", src, "--no-seed", "-o", "-")
    assert r.exit_code == 0, r.output
    table = pd.read_csv(io.StringIO(r.stdout))  # the report is on stderr
    assert list(table.columns) == ["row", "given_label", "suggested_label", "confidence", "margin", "evidence", "title"]
    assert {2, 5} <= set(table["row"])
    assert any(re.match(r"checked 30 postings in .*: \d+ labels look wrong", line) for line in r.stderr.splitlines())
    assert "written to" not in r.stderr + r.stdout
    out = tmp_path / "suspects.jsonl"
    assert run("check-labels", src, "--no-seed", "-o", out).exit_code == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert records and all(isinstance(x["confidence"], float) and isinstance(x["margin"], float) for x in records)
    assert [x["row"] for x in records] == table["row"].tolist()


def test_row_numbers_of_a_parquet_file_named_as_csv_are_parquet_row_numbers(tmp_path):
    frame = pd.DataFrame(rows(n_each=15))
    frame.loc[[0, 3], "label"] = frame.loc[[0, 3], "label"].map(SWAP)
    frame.to_parquet(tmp_path / "labelled.parquet", index=False)
    (tmp_path / "labelled.csv").write_bytes((tmp_path / "labelled.parquet").read_bytes())
    rows_of = {}
    for name in ("labelled.parquet", "labelled.csv"):
        out = tmp_path / f"{name}.suspects.csv"
        assert run("check-labels", tmp_path / name, "--no-seed", "-o", out).exit_code == 0
        rows_of[name] = pd.read_csv(out)["row"].tolist()
    assert rows_of["labelled.csv"] == rows_of["labelled.parquet"]
    assert {1, 4} <= set(rows_of["labelled.csv"])  # Parquet has no header: the first posting is row 1


def _pool(tmp_path):
    frame = pd.DataFrame(rows(n_each=12, seed=99)).drop(columns=["label"])
    path = tmp_path / "pool.csv"
    frame.to_csv(path, index=False)
    return path


def test_suggest_writes_a_table_to_fill_in(model_dir, tmp_path):
    src = _pool(tmp_path)
    out = tmp_path / "next.csv"
    r = run("suggest", src, "-n", "5", "-o", out, "--model", model_dir)
    assert r.exit_code == 0, r.output
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(got) == 5
    assert list(got.columns) == ["id", "title", "company", "description", "label", "p_technical"]
    assert set(got["label"]) == {""}
    err = r.stderr.strip().splitlines()
    assert re.fullmatch(r"suggested 5 of \d+ candidate postings \(model tiny-\w+\); left out: not a PM posting: 16"
                        r"(; near-copies of picked postings: \d+)?", err[0])
    assert err[1] == (f"written to {out}: fill in the 'label' column (technical or business) and give the "
                      "file to 'pmtype train'")



def test_suggest_names_the_label_column_it_wrote_and_sums_up_with_any_output(model_dir, tmp_path):
    src = tmp_path / "pool.csv"
    pd.DataFrame(rows(n_each=12, seed=99)).assign(label="").rename(columns={"label": "Label"}).to_csv(src, index=False)
    out = tmp_path / "next.csv"
    r = run("suggest", src, "-n", "3", "-o", out, "--model", model_dir)  # --label-column label finds 'Label'
    assert r.exit_code == 0, r.output
    assert list(pd.read_csv(out).columns)[-2:] == ["Label", "p_technical"]
    assert r.stderr.strip().splitlines()[-1] == (f"written to {out}: fill in the 'Label' column (technical or business) "
                                                 "and give the file to 'pmtype train'")
    r = run("suggest", src, "-n", "3", "-o", os.devnull, "--model", model_dir)
    assert r.exit_code == 0, r.output
    assert re.match(r"suggested 3 of \d+ candidate postings \(model tiny-\w+\)", r.stderr.splitlines()[0])
    assert "written to" not in r.stderr + r.stdout  # /dev/null is no file to fill in, as check-labels says none

def test_written_to_names_the_output_with_the_home_folder_expanded(model_dir, tmp_path, monkeypatch):
    """A "~" the shell left (-o quoted) is shown as the file written, as train and evaluate show theirs."""
    monkeypatch.setenv("HOME", str(tmp_path))
    src = _pool(tmp_path)
    r = run("suggest", src, "-n", "3", "-o", "~/next.csv", "--model", model_dir)
    assert r.exit_code == 0, r.output
    assert r.stderr.strip().splitlines()[-1] == (f"written to {tmp_path / 'next.csv'}: fill in the 'label' column "
                                                 "(technical or business) and give the file to 'pmtype train'")
    labelled = tmp_path / "labelled.csv"
    pd.DataFrame(rows(n_each=10)).to_csv(labelled, index=False)
    r = run("check-labels", labelled, "-o", "~/suspects.csv", "--no-seed")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[-1] == f"written to {tmp_path / 'suspects.csv'}"
    assert (tmp_path / "next.csv").is_file() and (tmp_path / "suspects.csv").is_file()


def test_suggest_refuses_to_write_over_its_input(model_dir, tmp_path):
    src = _pool(tmp_path)
    before = src.read_bytes()
    r = run("suggest", src, "-n", "2", "-o", src, "--model", model_dir)
    assert r.exit_code == 1
    assert r.stderr.strip() == f"Error: {src} is the input file; write the output to another file"
    assert src.read_bytes() == before


def test_suggest_writes_through_a_symbolic_link_and_refuses_one_to_its_input(model_dir, tmp_path):
    src = _pool(tmp_path)
    target = tmp_path / "batch-7.csv"
    link = tmp_path / "next.csv"
    link.symlink_to(target)  # dangling: the file it names is made
    r = run("suggest", src, "-n", "3", "-o", link, "--model", model_dir)
    assert r.exit_code == 0, r.output
    assert link.is_symlink() and len(pd.read_csv(target)) == 3
    to_input = tmp_path / "pool-link.csv"
    to_input.symlink_to(src)
    before = src.read_bytes()
    r = run("suggest", src, "-n", "3", "-o", to_input, "--model", model_dir)
    assert (r.exit_code, r.stderr.strip()) == (1, f"Error: {to_input} is the input file; write the output to another file")
    assert src.read_bytes() == before and to_input.is_symlink()


def test_suggest_to_stdout(model_dir, tmp_path):
    r = run("suggest", _pool(tmp_path), "-n", "3", "--model", model_dir)
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0] == "id,title,company,description,label,p_technical"


@pytest.mark.parametrize("args,message,code", [
    (["-n", "0"], "Error: -n must be at least 1", 2),
    (["--diversity", "-1"], "Error: --diversity must be a number, at least 0", 2),
    (["--diversity", "nan"], "Error: --diversity must be a number, at least 0", 2),
    (["--diversity", "inf"], "Error: --diversity must be a number, at least 0", 2),
    (["--text-column", "body"], "Error: {path}: no column 'body'; the columns are: id, title, company, description", 1),
    (["--label-column", "description"],
     "Error: the text column 'description' is the label column; give the postings' text column with --text-column", 2),
])
def test_suggest_errors(model_dir, tmp_path, args, message, code):
    pool = _pool(tmp_path)
    r = run("suggest", pool, *args, "--model", model_dir)
    assert r.exit_code == code
    assert r.stderr.strip() == message.format(path=pool)


def test_suggest_with_only_out_of_scope_postings(model_dir, tmp_path):
    frame = pd.DataFrame(rows(n_each=0)).drop(columns=["label"])
    src = tmp_path / "other.csv"
    frame.to_csv(src, index=False)
    r = run("suggest", src, "--model", model_dir)
    assert r.exit_code == 1
    assert r.stderr.strip() == f"Error: {src}: no posting left to suggest (16 rows: not a PM posting 16)"


# --- training input that cannot be used as it is -----------------------------------------------

def test_training_reports_what_it_leaves_out(corpus_csv, tmp_path):
    frame = pd.read_csv(corpus_csv)
    blank = frame.iloc[[0]].assign(description="   ")
    frame = pd.concat([frame.iloc[:2], blank, frame.iloc[2:], frame.iloc[[5]]], ignore_index=True)
    src = tmp_path / "messy.csv"
    frame.to_csv(src, index=False)
    r = run("train", src, "--no-seed", "-o", tmp_path / "m")
    assert r.exit_code == 0, r.output
    assert f"{src}: left out 1 row with empty text (row 4)" in r.stderr
    assert "left out 1 exact duplicate posting" in r.stderr
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["data"]["rows"] == 36 and len(manifest["notes"]) == 2


@pytest.mark.parametrize("frame,message", [
    (pd.DataFrame({"text_body": ["a"], "label": ["technical"]}),
     "Error: {src}: no text column found (looked for description, job_description, jobdescription, "
     "description_text, text, body, …); the columns are: text_body, label; name one with --text-column"),
    (pd.DataFrame({"description": ["a", "b"], "labels": ["technical", "business"]}),
     "Error: {src}: no label column 'label'; the columns are: description, labels; name one with --label-column"),
    (pd.DataFrame({"description": ["a", "b", "c"], "label": ["technical", "", "business"]}),
     "Error: {src}: 1 row has no label (row 3)"),
    (pd.DataFrame({"description": [f"p{i}" for i in range(12)], "label": ["technical", "business"] * 6}),
     "Error: training needs at least 7 postings of each label; found technical 6, business 6"),
    (pd.DataFrame({"description": ["one", "two", "One"], "label": ["technical", "business", "business"]}),
     "Error: 1 posting appears twice with different labels (the first: 'One' in {src}, rows 2 and 4); "
     "fix the labels and train again"),
])
def test_bad_training_input_is_a_clear_error(tmp_path, frame, message):
    src = tmp_path / "bad.csv"
    frame.to_csv(src, index=False)
    r = run("train", src, "--no-seed", "-o", tmp_path / "m")
    assert r.exit_code == 1
    assert r.stderr.strip() == message.format(src=src)
    assert not (tmp_path / "m").exists()


def test_the_new_commands_have_help():
    for command in (["models"], ["models", "use"], ["compare"], ["check-labels"], ["suggest"], ["train"]):
        r = run(*command, "--help")
        assert r.exit_code == 0 and "Usage" in r.stdout, command


@pytest.mark.parametrize("command,hint", [
    (["label"], "give --output-format (csv, tsv, jsonl, parquet)"),
    (["suggest"], "name it .csv, .tsv, .jsonl or .parquet (.gz for compressed text)"),
])
def test_an_output_name_of_no_known_format_names_the_way_out(tmp_path, model_dir, corpus_csv, command, hint):
    """The message names the option the command has for a format, or none where it has none."""
    out = tmp_path / "out.xlsx"
    r = run(*command, corpus_csv, "-o", out, "--model", model_dir)
    assert r.exit_code == 1
    assert r.stderr == f"Error: cannot tell the format of {out} from its name; {hint}\n"
    assert not out.exists()


def test_a_label_conflict_across_files_names_each_row_in_its_own_file(tmp_path):
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    pm = rows(n_each=4)
    pd.DataFrame(pm).to_csv(first, index=False)
    flipped = pd.DataFrame(pm[:1]).assign(label=SWAP[pm[0]["label"]])
    flipped.to_csv(second, index=False)
    r = run("train", first, second, "--no-seed", "-o", tmp_path / "m")
    assert r.exit_code == 1
    title = pm[0]["title"]
    assert r.stderr == (f"Error: 1 posting appears twice with different labels (the first: '{title}' in {first}, "
                        f"row 2 and in {second}, row 2); fix the labels and train again\n")


@pytest.mark.parametrize("args,message", [
    (["train", "{corpus}", "--no-seed", "--margin", "-1"], "--margin goes with --promote-if-better"),
    (["check-labels", "{corpus}", "--top", "-1"], "--top must be 0 or more"),
])
def test_options_that_cannot_apply_are_refused(corpus_csv, args, message):
    r = run(*[a.format(corpus=corpus_csv) for a in args])
    assert r.exit_code == 2
    assert r.stderr == f"Error: {message}\n"


@pytest.mark.parametrize("n,rows_are,trained_on", [(3, "3 not_pm rows are", "3 not_pm rows"),
                                                  (1, "1 not_pm row is", "1 not_pm row")])
def test_too_few_not_pm_rows_for_a_scope_check_are_named_by_train_and_info(tmp_path, n, rows_are, trained_on):
    src = tmp_path / "few.csv"
    pm = rows(n_each=8)
    not_pm = [r for r in pm if r["label"] == "not_pm"][:n]
    pd.DataFrame([r for r in pm if r["label"] != "not_pm"] + not_pm).to_csv(src, index=False)
    r = run("train", src, "--no-seed", "-o", tmp_path / "m")
    assert r.exit_code == 0, r.output
    note = f"{rows_are} too few for a scope check (it needs 5); this model has none and labels every posting"
    assert note in r.stderr.splitlines()
    r = run("info", "--model", tmp_path / "m")
    assert f"scope      no (trained on {trained_on}; a scope check needs 5)" in r.stdout.splitlines()


def test_suggest_notes_the_column_it_replaces_and_copes_with_stop_words_alone(model_dir, tmp_path, corpus_csv):
    src = _pool(tmp_path)
    frame = pd.read_csv(src)
    frame["p_technical"] = "from another tool"
    frame.to_csv(src, index=False)
    r = run("suggest", src, "-n", "2", "-o", tmp_path / "next.csv", "--model", model_dir)
    assert r.exit_code == 0, r.output
    assert r.stderr.splitlines()[0] == f"{src}: its column 'p_technical' is replaced by the model's in the output"
    # a model with no scope check suggests postings of stop words alone (uncertainty only)
    no_scope = tmp_path / "no_scope"
    pm_only = tmp_path / "pm_only.csv"
    pd.read_csv(corpus_csv).query("label != 'not_pm'").to_csv(pm_only, index=False)
    assert run("train", pm_only, "--no-seed", "-o", no_scope).exit_code == 0
    words = tmp_path / "stop_words.csv"
    pd.DataFrame({"description": ["We are the one, and you will be with us.", "It is what it is."]}).to_csv(words, index=False)
    r = run("suggest", words, "-n", "2", "-o", tmp_path / "out.csv", "--model", no_scope)
    assert r.exit_code == 0, r.output
    assert len(pd.read_csv(tmp_path / "out.csv")) == 2


def test_suggest_and_check_labels_outputs_are_readable_by_others(tmp_path, model_dir, corpus_csv):
    pool = tmp_path / "pool.csv"
    pd.read_csv(corpus_csv).drop(columns="label").to_csv(pool, index=False)
    old = os.umask(0o022)
    try:
        assert run("suggest", pool, "-n", "2", "-o", tmp_path / "next.csv", "--model", model_dir).exit_code == 0
        assert run("check-labels", corpus_csv, "--no-seed", "-o", tmp_path / "suspects.csv").exit_code == 0
    finally:
        os.umask(old)
    for name in ("next.csv", "suspects.csv"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, name
