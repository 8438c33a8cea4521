import errno
import io
import json
import os
import re
import stat

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from conftest import BUSINESS_POSTING, TECH_POSTING
from pmtype import classify, config
from pmtype.cli import app

runner = CliRunner()


def run(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


# --- classify -----------------------------------------------------------------

def test_classify_text_argument(model_dir):
    r = run("classify", TECH_POSTING, "--model", model_dir)
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("technical  p_technical ")
    assert "Evidence by distinction" in r.stdout


def test_classify_json_offsets_point_into_the_text_it_gives(model_dir):
    """Markup, \\r\\n line ends and runs of spaces are tidied away: ``text`` is what the offsets index."""
    given = ("<h2>About   the role</h2>\r\n<ul><li>You will own the public REST APIs and SDKs with "
             "backend&nbsp;engineers and QA.</li>\r\n<li>A computer   science degree and SQL are required.</li></ul>")
    r = run("classify", given, "--title", "Product Manager, Platform", "--model", model_dir, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["text"].startswith("Product Manager, Platform\n\nAbout the role")
    phrases = [p for e in out["evidence"] for p in e["phrases"]]
    assert len(phrases) >= 4
    for p in phrases:
        assert out["text"][p["start"]:p["end"]] == p["phrase"]


def test_classify_json_from_file_with_title(model_dir, model, tmp_path):
    f = tmp_path / "posting.txt"
    f.write_text(BUSINESS_POSTING)
    # (a title other than the posting's own first line: a line said twice counts once)
    r = run("classify", "--file", f, "--title", "Senior Product Manager, Pricing", "--model", model_dir, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["label"] == "business" and 0 <= out["p_technical"] <= 1
    titled = classify(BUSINESS_POSTING, title="Senior Product Manager, Pricing", model=model)
    assert out["p_technical"] == titled.p_technical  # the title was read
    assert titled.p_technical != classify(BUSINESS_POSTING, model=model).p_technical
    assert out["evidence"]
    assert {e["distinction"] for e in out["evidence"]} <= {"focus", "collaborators", "research", "background", "planning"}
    assert all("start" in p for e in out["evidence"] for p in e["phrases"])


def test_classify_reads_a_file_named_as_the_argument(model_dir, tmp_path):
    f = tmp_path / "posting.txt"
    f.write_text(BUSINESS_POSTING)
    by_path = run("classify", f, "--model", model_dir, "--json")
    by_option = run("classify", "--file", f, "--model", model_dir, "--json")
    assert by_path.exit_code == 0, by_path.output
    assert json.loads(by_path.stdout) == json.loads(by_option.stdout)
    assert json.loads(by_path.stdout)["label"] == "business"


def test_classify_from_stdin(model_dir):
    r = run("classify", "--model", model_dir, "--json", input=TECH_POSTING)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["label"] == "technical"


def test_classify_reads_any_path_named_as_the_argument_and_dash_as_stdin(model_dir, tmp_path):
    spaced = tmp_path / "my posting.txt"
    spaced.write_text(BUSINESS_POSTING)
    expected = json.loads(run("classify", "--file", spaced, "--model", model_dir, "--json").stdout)
    assert expected["label"] == "business"
    for args, given in (([spaced], None), (["-"], BUSINESS_POSTING), (["--file", "-"], BUSINESS_POSTING)):
        r = run("classify", *args, "--model", model_dir, "--json", input=given)
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout) == expected
    r = run("classify", tmp_path, "--model", model_dir)
    assert (r.exit_code, r.stderr) == (1, f"Error: {tmp_path} is a folder, not a file\n")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "cp1252"])
def test_classify_detects_the_encoding_of_stdin_as_of_a_file(model_dir, tmp_path, encoding):
    text = TECH_POSTING + " Café on site."
    f = tmp_path / "posting.txt"
    f.write_bytes(text.encode(encoding))
    by_file = run("classify", "--file", f, "--model", model_dir, "--json")
    by_stdin = run("classify", "--model", model_dir, "--json", input=text.encode(encoding))
    assert by_stdin.exit_code == 0, by_stdin.output
    assert json.loads(by_stdin.stdout) == json.loads(by_file.stdout)
    assert json.loads(by_stdin.stdout)["text"].endswith("Café on site.")


def test_classify_json_is_utf8_when_an_argument_holds_a_byte_that_is_not(model_dir):
    # Python keeps an argument's bytes that are not UTF-8 as lone surrogates ("\xe9" → "\udce9")
    r = run("classify", "Caf\udce9: " + TECH_POSTING, "--title", "PM \udce9", "--model", model_dir, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout_bytes.decode("utf-8"))
    assert out["text"].startswith("PM é\n\nCafé: ")


@pytest.mark.parametrize("args,input,message,code", [
    (["classify", "   "], None, "Error: the posting is empty", 1),
    (["classify"], "", "Error: the posting is empty", 1),
    (["classify", "--file", "nope.txt"], None, "Error: nope.txt does not exist", 1),
    (["classify", "--file", "data.backup/posting.txt"], None, "Error: data.backup/posting.txt does not exist", 1),
    (["classify", "x", "--file", "nope.txt"], None, "Error: give the posting as an argument or with --file, not both", 2),
])
def test_classify_errors(model_dir, args, input, message, code):
    r = run(*args, "--model", model_dir, input=input)
    assert r.exit_code == code
    assert r.stderr.strip() == message


@pytest.mark.parametrize("args", [["classify", TECH_POSTING, "--model", ""], ["classify", TECH_POSTING, "-m", "  "],
                                  ["info", "--model", ""], ["compare", "", "--on", "x.csv"]])
def test_an_empty_model_name_is_a_wrong_use_not_the_working_directory(args):
    r = run(*args)
    assert (r.exit_code, r.stderr) == (2, "Error: an empty model name was given: give a version name ('pmtype models' "
                                          "lists them) or a model folder\n")


@pytest.mark.parametrize("args,what", [
    (["models", "use", ""], "give a version name ('pmtype models' lists them)"),
    (["models", "remove", "  "], "give a version name ('pmtype models' lists them)"),
    (["train", "x.csv", "--name", " "], "name the new version, or give no name for one made of the time and the data's hash"),
])
def test_an_empty_version_name_is_a_wrong_use(args, what):
    r = run(*args)
    assert (r.exit_code, r.stderr) == (2, f"Error: an empty model name was given: {what}\n")


@pytest.mark.parametrize("args,name", [
    (["classify", "--file", ""], "--file"),
    (["label", ""], "INPUT"),
    (["label", "in.csv", "-o", ""], "--output"),
    (["label", "in.csv", "-o", "", "--engine", "dask"], "--output"),
    (["train", ""], "FILES"),
    (["train", "in.csv", "-o", ""], "--output"),
    (["train", "in.csv", "--promote-if-better", ""], "--promote-if-better"),
    (["evaluate", ""], "FILE"),
    (["compare", "new", "--on", ""], "--on"),
    (["check-labels", ""], "FILE"),
    (["check-labels", "in.csv", "-o", ""], "--output"),
    (["suggest", ""], "FILE"),
    (["suggest", "in.csv", "-o", ""], "--output"),
])
@pytest.mark.parametrize("empty", ["", "  ", "\t"])
def test_an_empty_path_is_said_to_be_one_not_read_as_the_working_directory(tmp_path, monkeypatch, args, name, empty):
    """Blanks alone are an empty path too, never a file or folder named "  "."""
    monkeypatch.chdir(tmp_path)
    r = run(*[empty if a == "" else a for a in args])
    assert (r.exit_code, r.stderr) == (2, f"Error: an empty path was given for {name}\n")
    assert list(tmp_path.iterdir()) == []


def test_classify_with_a_missing_model(tmp_path):
    r = run("classify", TECH_POSTING, "--model", tmp_path / "none")
    assert r.exit_code == 1
    assert r.stderr.strip() == f"Error: no model at {tmp_path / 'none'}; build one with 'pmtype train'"


def test_classify_builds_the_default_model_on_first_use(tmp_path):
    r = run("classify", TECH_POSTING)
    assert r.exit_code == 0, r.output
    assert "No default model yet: building it from the seed corpus" in r.stderr
    assert (tmp_path / "models" / "default" / "manifest.json").is_file()
    again = run("classify", TECH_POSTING)
    assert "building" not in again.stderr


@pytest.mark.parametrize("command", [["label", "{input}", "-o", "{out}"], ["evaluate", "{input}"],
                                     ["suggest", "{input}"]])
@pytest.mark.parametrize("input_name,what", [("gone.csv", "does not exist"), ("folder", "is a folder, not a file")])
def test_a_missing_input_is_said_before_the_default_model_is_built(tmp_path, command, input_name, what):
    (tmp_path / "folder").mkdir()
    given = tmp_path / input_name
    r = run(*[part.format(input=given, out=tmp_path / "out.csv") for part in command])
    assert (r.exit_code, r.stderr.splitlines()[-1]) == (1, f"Error: {given} {what}")
    assert "building" not in r.stderr
    assert not (tmp_path / "models" / "default").exists()
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("output,said", [
    ("in.csv", "in.csv is the input file; write the output to another file"),
    ("folder", "folder is a folder, not a file"),
    ("out.xlsx", "cannot tell the format of out.xlsx from its name; give --output-format (csv, tsv, jsonl, parquet)"),
])
def test_label_says_a_wrong_output_before_the_default_model_is_built(tmp_path, monkeypatch, output, said):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    pd.DataFrame({"description": [TECH_POSTING]}).to_csv(tmp_path / "in.csv", index=False)
    r = run("label", "in.csv", "-o", output)
    assert (r.exit_code, r.stderr.splitlines()[-1]) == (1, f"Error: {said}")
    assert "building" not in r.stderr
    assert not (tmp_path / "models" / "default").exists()


@pytest.mark.parametrize("command", [["label", "-o", "out.csv"], ["evaluate"], ["suggest"]])
@pytest.mark.parametrize("args,code,said", [
    (["in.xlsx"], 1, "cannot tell the format of in.xlsx from its name; give --format (csv, tsv, jsonl, parquet)"),
    (["in.csv", "--format", "xls"], 2, "unknown format 'xls'; choose one of csv, tsv, jsonl, parquet"),
])
def test_an_input_of_a_format_not_told_is_said_before_the_default_model_is_built(tmp_path, monkeypatch, command,
                                                                                 args, code, said):
    monkeypatch.chdir(tmp_path)
    for name in ("in.csv", "in.xlsx"):
        pd.DataFrame({"description": [TECH_POSTING], "label": ["technical"]}).to_csv(tmp_path / name, index=False)
    r = run(*command, *args)
    assert (r.exit_code, r.stderr.splitlines()[-1]) == (code, f"Error: {said}")
    assert not (tmp_path / "models" / "default").exists()


@pytest.mark.parametrize("command", [["label", "{input}", "-o", "out.csv"], ["evaluate", "{input}"],
                                     ["suggest", "{input}"]])
@pytest.mark.parametrize("given,said", [("./gone.csv", "./gone.csv: gone.csv does not exist"),
                                        ("https://example.com/jobs.csv",
                                         "https://example.com/jobs.csv: https:/example.com/jobs.csv does not exist "
                                         "(if that is a web address: pmtype reads no web pages; save the page and "
                                         "give its file)")])
def test_a_missing_input_said_before_the_default_model_is_built_is_named_as_typed(tmp_path, monkeypatch, command,
                                                                                  given, said):
    """As reading it says once a model is there: the name typed first, not only as a path tidies it."""
    monkeypatch.chdir(tmp_path)
    r = run(*[part.format(input=given) for part in command])
    assert (r.exit_code, r.stderr.splitlines()[-1]) == (1, f"Error: {said}")
    assert not (tmp_path / "models" / "default").exists()


@pytest.mark.parametrize("name,what", [("gone.csv", "does not exist"), ("", "is a folder, not a file")])
def test_classify_building_the_default_model_names_a_wrong_seed_corpus_setting(tmp_path, monkeypatch, name, what):
    """Not '/path is a folder, not a file', nor 'pass --no-seed', which classify has not."""
    monkeypatch.setenv("PMTYPE_SEED_CORPUS", str(tmp_path / name))
    r = run("classify", TECH_POSTING)
    assert (r.exit_code, r.stderr.splitlines()[-1]) == (
        1, f"Error: PMTYPE_SEED_CORPUS names {tmp_path / name}, which {what}; point PMTYPE_SEED_CORPUS at "
           "the seed corpus file, or unset it")
    assert not (tmp_path / "models" / "default").exists()


def test_a_default_model_built_by_another_version_is_refused_with_advice_that_rebuilds_it(model_dir, tmp_path):
    """An installed pmtype has no Makefile, and a plain 'pmtype train' makes a new version that the
    default never becomes: the advice is the command that rebuilds the default model's folder."""
    from conftest import install_model

    folder = install_model(model_dir, "default")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["versions"]["scikit-learn"] = "0.24.2"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    r = run("classify", TECH_POSTING)
    assert r.exit_code == 1
    assert r.stderr.endswith(f"; rebuild it with 'pmtype train -o {folder} --overwrite'\n")
    assert run("train", "-o", folder, "--overwrite").exit_code == 0
    assert run("classify", TECH_POSTING).exit_code == 0


GERMAN_POSTING = ("Produktmanager Zahlungsplattform\n\nDu verantwortest unsere öffentlichen Schnittstellen "
                  "gemeinsam mit den Entwicklern und dem QA-Team, schreibst technische Spezifikationen und "
                  "schätzt den Aufwand mit der technischen Leitung.")
TEACHER_POSTING = ("Elementary School Teacher\n\nPlan lessons for a third-grade classroom, assess student "
                   "progress, and communicate with parents each term.")


def test_classify_says_why_it_gives_no_label(model_dir, model):
    r = run("classify", GERMAN_POSTING, "--model", model_dir)
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0] == "not English (pmtype reads English postings; --force labels it anyway)"
    p_pm = classify(TEACHER_POSTING, model=model).p_pm
    r = run("classify", TEACHER_POSTING, "--model", model_dir)
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0] == f"not a PM posting (p_pm {p_pm:.2f}; --force labels it anyway)"
    r = run("classify", GERMAN_POSTING, "--model", model_dir, "--force", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["label"] in ("technical", "business")


def test_classify_says_why_it_gives_no_label_to_a_truncated_posting_and_that_it_was_truncated(model_dir, model):
    from pmtype.config import MAX_CHARS

    for posting, status, why in ((GERMAN_POSTING, "not English", "pmtype reads English postings"),
                                 (TEACHER_POSTING, "not a PM posting", None)):
        long = "\n".join([posting] * (MAX_CHARS // len(posting) + 2))
        why = why or f"p_pm {classify(long, model=model).p_pm:.2f}"
        r = run("classify", long, "--model", model_dir)
        assert r.exit_code == 0, r.output
        assert r.stdout.splitlines()[0] == (f"{status} ({why}; --force labels it anyway)  "
                                            f"(truncated to {MAX_CHARS} characters)")


def test_classify_prints_phrases_as_written_when_they_hold_square_brackets(model_dir):
    """A phrase is the posting's own text: brackets in it are not rich markup, neither dropped
    ("[required]") nor read as a tag (a stray "[/dim]" stopped the command with a traceback)."""
    posting = ("Product Manager\n\nYou will own the APIs with engineers. BS [required] in Computer Science. "
               "Degree [/dim] in computer science.")
    r = run("classify", posting, "--model", model_dir)
    assert r.exit_code == 0, r.output
    shown = " ".join(r.stdout.replace("│", " ").split())
    assert "BS [required] in Computer Science" in shown
    assert "Degree [/dim] in computer science" in shown


def test_classify_folds_phrases_in_a_narrow_terminal_rather_than_cutting_them(model_dir, model):
    """At 60 columns a phrase too wide for its column goes on over the next lines, whole, not cut
    with "…"."""
    posting = TECH_POSTING + "- Own interoperability and containerization of retrieval-augmented generation.\n"
    r = runner.invoke(app, ["classify", posting, "--model", str(model_dir)], env={"COLUMNS": "60"})
    assert r.exit_code == 0, r.output
    assert "…" not in r.stdout
    rows = [line.split("│") for line in r.stdout.splitlines() if line.count("│") == 5]
    assert all(len("│".join(row)) <= 60 for row in rows)
    shown = "".join(row[4].strip() for row in rows).replace(" ", "")
    phrases = [p["phrase"] for e in classify(posting, model=model).evidence for p in e.phrases]
    assert "interoperability" in phrases
    for phrase in phrases:
        assert phrase.replace(" ", "") in shown


def test_classify_reads_a_long_posting_only_as_far_as_the_model_reads(model_dir, tmp_path, monkeypatch):
    """Not a 100 MB paste whole into memory: the first MAX_CHARS characters and one more, which
    tells the posting was truncated, from a file as from standard input."""
    import io

    from pmtype import tables
    from pmtype.config import MAX_CHARS

    data = (TECH_POSTING + "\n" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n" * (MAX_CHARS // 10)).encode()
    f = tmp_path / "long.txt"
    f.write_bytes(data)
    read = []

    class Counting(io.BytesIO):
        def read(self, size=-1):
            got = super().read(size)
            read.append(len(got))
            return got

    monkeypatch.setattr(tables, "_open_file", lambda path: Counting(path.read_bytes()))
    for r in (run("classify", "--file", f, "--model", model_dir), run("classify", "-", "--model", model_dir, input=data)):
        assert r.exit_code == 0, r.output
        assert r.stdout.splitlines()[0].endswith(f"  (truncated to {MAX_CHARS} characters)")
    assert 0 < sum(read) <= 4 * (MAX_CHARS + 1) + 4 < len(data)


def test_classify_says_when_a_labelled_posting_was_truncated_or_a_close_call(model_dir, tmp_path, monkeypatch):
    """The status line keeps what --json and label's pm_status say: a posting over the limit was
    truncated, and one inside the band is a close call, truncated or not."""
    import pmtype.model
    from pmtype.config import MAX_CHARS
    from pmtype.model import Prediction

    f = tmp_path / "long.txt"
    f.write_text(TECH_POSTING + "\n" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n" * (MAX_CHARS // 50))
    r = run("classify", "--file", f, "--model", model_dir)
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0].startswith("technical  p_technical ")
    assert r.stdout.splitlines()[0].endswith(f"  (truncated to {MAX_CHARS} characters)")
    close = Prediction("technical", 0.52, f"uncertain; truncated to {MAX_CHARS} characters")
    monkeypatch.setattr(pmtype.model, "classify", lambda *args, **kwargs: close)
    r = run("classify", "--file", f, "--model", model_dir)
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0] == (f"technical  p_technical 0.52  uncertain: a close call  "
                                        f"(truncated to {MAX_CHARS} characters)")


# --- label --------------------------------------------------------------------

def test_label_csv(model_dir, tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame({"Job_Description": [TECH_POSTING, "", BUSINESS_POSTING], "n": ["1", "2", "3"]}).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    r = run("label", src, "-o", out, "--model", model_dir)
    assert r.exit_code == 0, r.output
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert got["n"].tolist() == ["1", "2", "3"]
    assert got["pm_label"].tolist() == ["technical", "", "business"]
    assert got["pm_status"].tolist()[1] == "empty text"
    assert r.stderr.strip().splitlines()[-1].startswith("3 rows labelled in ")


def test_label_keeps_a_blank_line_of_a_one_column_csv_as_a_row_with_empty_text(model_dir, tmp_path):
    """A spreadsheet saves an empty cell of a one-column table as a blank line: it is a row, named or piped."""
    src = tmp_path / "in.csv"
    quoted = ['"' + posting.replace('"', '""') + '"' for posting in (TECH_POSTING, BUSINESS_POSTING)]
    src.write_text(f"description\n{quoted[0]}\n\n{quoted[1]}\n")
    for given, stdin in ((src, None), ("-", src.read_bytes())):
        r = run("label", given, "-o", "-", "--model", model_dir, "--chunk-size", "2", input=stdin)
        assert r.exit_code == 0, r.output
        got = pd.read_csv(io.StringIO(r.stdout), dtype=str, keep_default_na=False)
        assert got["pm_status"].tolist() == ["ok", "empty text", "ok"]
        assert got["description"].tolist() == [TECH_POSTING, "", BUSINESS_POSTING]


def test_label_marks_postings_in_another_language(model_dir, tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame({"description": [TECH_POSTING, GERMAN_POSTING]}).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    r = run("label", src, "-o", out, "--model", model_dir)
    assert r.exit_code == 0, r.output
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert got["pm_label"].tolist() == ["technical", ""] and got["pm_status"].tolist()[1] == "not English"
    assert got["pm_p_technical"].tolist()[1] == ""  # no label, no probability written, as for not-PM rows
    assert "statuses other than ok: not English 1" in r.stderr
    forced = run("label", src, "-o", out, "--model", model_dir, "--force")
    assert forced.exit_code == 0, forced.output
    assert pd.read_csv(out, dtype=str, keep_default_na=False)["pm_label"].tolist()[1] in ("technical", "business")


def test_label_to_stdout_with_named_columns(model_dir, model, tmp_path):
    src = tmp_path / "in.tsv"
    title = "Product Manager, Pricing"  # a cue in the title, so reading it moves the probability
    pd.DataFrame({"posting body": [TECH_POSTING], "role name": [title]}).to_csv(src, index=False, sep="\t")
    r = run("label", src, "--text-column", "posting body", "--title-column", "role name",
            "--model", model_dir, "--quiet")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0].split("\t")[-5:] == ["pm_label", "pm_p_technical", "pm_status", "pm_evidence", "pm_model"]
    got = pd.read_csv(io.StringIO(r.stdout), sep="\t", dtype=str)
    titled = classify(TECH_POSTING, title=title, model=model)
    assert got["pm_p_technical"].tolist() == [f"{titled.p_technical:.4f}"]  # the title column was read
    assert titled.p_technical != classify(TECH_POSTING, model=model).p_technical
    assert r.stderr == ""


def test_label_missing_column(model_dir, tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame({"id": ["1"], "name": ["x"]}).to_csv(src, index=False)
    r = run("label", src, "-o", tmp_path / "out.csv", "--model", model_dir)
    assert r.exit_code == 1
    assert r.stderr.strip() == (
        f"Error: {src}: no text column found (looked for description, job_description, jobdescription, "
        "description_text, text, body, …); the columns are: id, name; name one with --text-column"
    )
    assert not (tmp_path / "out.csv").exists()


def test_label_missing_file(model_dir, tmp_path):
    r = run("label", tmp_path / "none.csv", "-o", tmp_path / "out.csv", "--model", model_dir)
    assert r.exit_code == 1
    assert r.stderr.strip() == f"Error: {tmp_path / 'none.csv'} does not exist"


def _one_posting(tmp_path, name="in.csv"):
    src = tmp_path / name
    pd.DataFrame({"title": ["Product Manager"], "description": [TECH_POSTING]}).to_csv(src, index=False)
    return src


def test_label_refuses_to_write_over_its_input(model_dir, tmp_path):
    src = _one_posting(tmp_path)
    before = src.read_bytes()
    r = run("label", src, "-o", src, "--model", model_dir)
    assert r.exit_code == 1
    assert r.stderr.strip() == f"Error: {src} is the input file; write the output to another file"
    assert src.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_label_refuses_a_title_column_that_is_the_text_column(model_dir, tmp_path):
    src = _one_posting(tmp_path)
    r = run("label", src, "-o", tmp_path / "out.csv", "--title-column", "description", "--model", model_dir)
    assert (r.exit_code, r.stderr.strip()) == (2, "Error: the title column 'description' is the text column; "
                                                  "give the postings' title column with --title-column, or leave it out")
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("name", ["out.parquet.gz", "out.PQ.gz"])
def test_label_refuses_to_gzip_parquet(model_dir, tmp_path, name):
    """Parquet compresses itself; a .gz name would get plain Parquet under it."""
    src = _one_posting(tmp_path)
    r = run("label", src, "-o", tmp_path / name, "--model", model_dir)
    assert (r.exit_code, r.stderr.strip()) == (2, f"Error: cannot write Parquet to {tmp_path / name}: Parquet "
                                                  "compresses itself and is not gzipped; leave .gz off the name")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]
    r = run("suggest", src, "-o", tmp_path / name, "--model", model_dir)
    assert r.exit_code == 2 and "Parquet compresses itself" in r.stderr


def test_label_names_gzipped_parquet_it_cannot_read(model_dir, tmp_path):
    import gzip

    buffer = io.BytesIO()
    pd.DataFrame({"title": ["Product Manager"], "description": [TECH_POSTING]}).to_parquet(buffer, index=False)
    src = tmp_path / "in.parquet.gz"
    src.write_bytes(gzip.compress(buffer.getvalue()))
    r = run("label", src, "-o", tmp_path / "out.csv", "--model", model_dir)
    assert (r.exit_code, r.stderr.strip()) == (1, f"Error: {src}: the file is gzip-compressed Parquet, which pmtype "
                                                  "does not read: Parquet compresses itself; gunzip the file first")
    # piped, or named as text, it is not taken for a binary text table
    named = tmp_path / "in.csv.gz"
    named.write_bytes(src.read_bytes())
    for given, stdin, shown in (("-", src.read_bytes(), "standard input"), (named, None, named)):
        r = run("label", given, "-o", tmp_path / "out.csv", "--model", model_dir, input=stdin)
        assert (r.exit_code, r.stderr.strip()) == (1, f"Error: {shown}: the file is gzip-compressed Parquet, which "
                                                      "pmtype does not read: Parquet compresses itself; gunzip the "
                                                      "file first")


def test_label_refuses_to_write_over_the_seed_corpus(model_dir, tmp_path, corpus_csv, monkeypatch):
    seed = tmp_path / "seed" / "postings.csv"
    seed.parent.mkdir()
    seed.write_bytes(corpus_csv.read_bytes())
    monkeypatch.setenv("PMTYPE_SEED_CORPUS", str(seed))
    src = _one_posting(tmp_path)
    link = tmp_path / "link.csv"
    link.symlink_to(seed)
    for command in (("label", "--model", model_dir), ("suggest", "--model", model_dir), ("check-labels",)):
        for output in (seed, link):
            r = run(command[0], src, "-o", output, *command[1:])
            assert (r.exit_code, r.stderr.strip()) == (1, f"Error: {output} is pmtype's seed corpus, the data its "
                                                          "default model is trained on; write the output to another file")
    assert seed.read_bytes() == corpus_csv.read_bytes()


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null on this system")
def test_label_writes_straight_into_a_device(model_dir, tmp_path):
    src = _one_posting(tmp_path)
    r = run("label", src, "-o", "/dev/null", "--model", model_dir)  # the format: the input's
    assert r.exit_code == 0, r.output
    assert r.stderr.strip().startswith("1 row labelled in ")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)  # written into, not replaced by a file
    resumed = run("label", src, "-o", "/dev/null", "--resume", "--model", model_dir)
    assert resumed.exit_code == 2
    assert resumed.stderr.strip() == ("Error: --resume needs an output file, not standard output "
                                      "or a device (/dev/null)")


def test_label_options_that_cannot_work_together(model_dir, tmp_path):
    src = _one_posting(tmp_path)
    r = run("label", src, "--resume", "--model", model_dir)
    assert r.exit_code == 2
    assert r.stderr.strip() == "Error: --resume needs an output file, not standard output"
    r = run("label", src, "--engine", "dask", "-o", tmp_path / "out", "--output-format", "jsonl",
            "--model", model_dir)
    assert r.exit_code == 2
    assert r.stderr.strip() == "Error: the dask engine writes parquet or csv output"


def test_label_reads_gzip_from_standard_input_and_will_not_resume_it(model_dir, tmp_path):
    import gzip

    data = gzip.compress(f'title,description\nProduct Manager,"{TECH_POSTING}"\n'.encode())
    r = runner.invoke(app, ["label", "-", "--format", "csv", "--model", str(model_dir), "--quiet"], input=data)
    assert r.exit_code == 0, r.output
    assert pd.read_csv(io.StringIO(r.stdout))["pm_label"].tolist() == ["technical"]
    r = runner.invoke(app, ["label", "-", "--format", "csv", "-o", str(tmp_path / "out.csv"), "--resume",
                            "--model", str(model_dir)], input=data)
    assert r.exit_code == 2
    assert r.stderr.strip() == "Error: --resume needs an input file: standard input cannot be read again"


def test_label_reads_a_named_pipe_as_it_comes_and_will_not_resume_it(model_dir, tmp_path):
    """A named pipe (as the shell's <(zcat …) gives): read once, front to back, gzip or not."""
    import gzip
    import threading

    table = f'title,description\nProduct Manager,"{TECH_POSTING}"\nProduct Manager,"{BUSINESS_POSTING}"\n'
    for data in (table.encode(), gzip.compress(table.encode())):
        pipe = tmp_path / "pipe"
        pipe.unlink(missing_ok=True)
        os.mkfifo(pipe)
        threading.Thread(target=pipe.write_bytes, args=(data,), daemon=True).start()
        r = run("label", pipe, "--format", "csv", "-o", tmp_path / "out.csv", "--model", model_dir, "--quiet")
        assert r.exit_code == 0, r.output
        assert pd.read_csv(tmp_path / "out.csv")["pm_label"].tolist() == ["technical", "business"]
    r = run("label", pipe, "--format", "csv", "-o", tmp_path / "out.csv", "--resume", "--model", model_dir)
    assert r.exit_code == 2
    assert r.stderr.strip() == f"Error: --resume needs an input file: {pipe} is a pipe and cannot be read again"


def test_a_named_pipe_needs_no_format_as_standard_input_needs_none(model_dir, tmp_path):
    """<(zcat postings.csv.gz), <(cat postings.parquet): no name to tell the format by; CSV unless the
    bytes are Parquet, as on standard input."""
    import gzip
    import io
    import threading

    frame = pd.DataFrame({"title": ["Product Manager"] * 2, "description": [TECH_POSTING, BUSINESS_POSTING]})
    parquet = io.BytesIO()
    frame.to_parquet(parquet, index=False)
    for data in (gzip.compress(frame.to_csv(index=False).encode()), parquet.getvalue()):
        pipe = tmp_path / "pipe"
        pipe.unlink(missing_ok=True)
        os.mkfifo(pipe)
        threading.Thread(target=pipe.write_bytes, args=(data,), daemon=True).start()
        r = run("label", pipe, "-o", tmp_path / "out.csv", "--model", model_dir, "--quiet")
        assert r.exit_code == 0, r.output
        assert pd.read_csv(tmp_path / "out.csv")["pm_label"].tolist() == ["technical", "business"]


def test_parquet_on_standard_input_comes_out_as_parquet_on_standard_output(model_dir):
    import io

    frame = pd.DataFrame({"title": ["Product Manager"] * 2, "description": [TECH_POSTING, BUSINESS_POSTING]})
    parquet = io.BytesIO()
    frame.to_parquet(parquet, index=False)
    r = CliRunner().invoke(app, ["label", "-", "-o", "-", "--quiet", "--model", str(model_dir)],
                           input=parquet.getvalue())
    assert r.exit_code == 0, r.stderr
    out = pd.read_parquet(io.BytesIO(r.stdout_bytes))
    assert out["pm_label"].tolist() == ["technical", "business"]
    r = CliRunner().invoke(app, ["label", "-", "-o", "-", "--output-format", "csv", "--quiet", "--model",
                                 str(model_dir)], input=parquet.getvalue())
    assert r.stdout.startswith("title,description,pm_label")


@pytest.mark.parametrize("gzipped", [False, True])
def test_json_lines_on_standard_input_need_no_format_and_come_out_as_json_lines(model_dir, corpus_csv, gzipped):
    import gzip

    frame = pd.DataFrame({"title": ["Product Manager"] * 2, "description": [TECH_POSTING, BUSINESS_POSTING]})
    lines = frame.to_json(orient="records", lines=True).encode()
    data = gzip.compress(lines) if gzipped else lines
    r = CliRunner().invoke(app, ["label", "-", "-o", "-", "--quiet", "--model", str(model_dir)], input=data)
    assert r.exit_code == 0, r.stderr
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["pm_label"] for row in out] == ["technical", "business"]
    assert isinstance(out[0]["pm_p_technical"], float)  # a number, as JSON Lines output has it
    labelled = pd.read_csv(corpus_csv).to_json(orient="records", lines=True).encode()
    r = run("evaluate", "-", "--model", model_dir, input=gzip.compress(labelled) if gzipped else labelled)
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0].endswith(" on standard input")


def test_label_output_in_the_place_of_a_folder_or_under_a_file(model_dir, tmp_path):
    src = _one_posting(tmp_path)
    folder = tmp_path / "existing"
    folder.mkdir()
    r = run("label", src, "-o", folder, "--output-format", "csv", "--model", model_dir)
    assert r.exit_code == 1
    assert r.stderr.strip() == f"Error: {folder} is a folder, not a file"
    r = run("label", src, "-o", src / "out.csv", "--model", model_dir)
    assert r.exit_code == 1
    assert r.stderr.strip() == f"Error: {src / 'out.csv'} cannot be written: {src} is a file, not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing", "in.csv"]
    r = run("label", src, "-o", f"{tmp_path}/new/deeper/", "--output-format", "csv", "--model", model_dir)
    assert (r.exit_code, r.stderr.strip()) == (1, f"Error: {tmp_path}/new/deeper/ names a folder; give a file name")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing", "in.csv"]
    assert not any(folder.iterdir())


def test_label_stopped_by_a_bad_row_leaves_nothing_behind(model_dir, tmp_path):
    src = tmp_path / "in.jsonl"
    good = json.dumps({"description": TECH_POSTING})
    src.write_text("\n".join([good] * 5 + ["{not json"]) + "\n")
    r = run("label", src, "-o", tmp_path / "out.jsonl", "--chunk-size", "2", "--model", model_dir)
    assert r.exit_code == 1
    assert r.stderr.strip().splitlines()[-1] == f"Error: {src}: line 6 is not valid JSON"
    # two chunks were written before the bad line: an error that --resume would meet again
    # leaves no part file or progress file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_an_os_error_pmtype_did_not_foresee_is_one_line(model_dir, tmp_path, monkeypatch):
    import pmtype.batch

    def failing(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error", "in.csv")

    monkeypatch.setattr(pmtype.batch, "label_file", failing)
    r = run("label", _one_posting(tmp_path), "-o", tmp_path / "out.csv", "--model", model_dir)
    assert r.exit_code == 1
    assert r.stderr.strip() == "Error: Input/output error: in.csv"


@pytest.mark.parametrize("command", ["label", "train", "check-labels"])
def test_a_negative_number_of_processes_is_refused(model_dir, tmp_path, command):
    r = run(command, _one_posting(tmp_path), "--jobs", "-3", *(["--model", model_dir] if command == "label" else []))
    assert r.exit_code == 2
    assert r.stderr.strip() == "Error: --jobs must be at least 0 (0: all cores)"


def test_label_bad_chunk_size(model_dir, tmp_path):
    r = run("label", "x.csv", "--chunk-size", "0", "--model", model_dir)
    assert r.exit_code == 2
    assert r.stderr.strip() == "Error: --chunk-size must be at least 1"


# --- train, evaluate, info ----------------------------------------------------

def test_train_evaluate_info(corpus_csv, tmp_path):
    out = tmp_path / "mine"
    r = run("train", corpus_csv, "-o", out, "--no-seed")
    assert r.exit_code == 0, r.output
    assert f"written to {out}" in r.stdout and "macro_f1" in r.stdout
    r = run("evaluate", corpus_csv, "--model", out)
    assert r.exit_code == 0, r.output
    assert "accuracy" in r.stdout and "[" in r.stdout  # with intervals
    r = run("evaluate", corpus_csv, "--model", out, "--json")
    assert json.loads(r.stdout)["n"] == 20
    r = run("info", "--model", out)
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("model      mine-")
    assert "scikit-learn" in r.stdout
    again = run("train", corpus_csv, "-o", out, "--no-seed")
    assert again.exit_code == 1
    assert again.stderr.strip() == f"Error: {out} already exists; choose another name or pass --overwrite (overwrite=True in Python)"


def test_a_model_trained_on_another_language_labels_it(corpus_csv, model_dir, tmp_path):
    """English-only models set German postings aside; one trained on enough of them labels them."""
    from corpus import german_rows

    german = pd.DataFrame(german_rows(n_each=5))
    src = tmp_path / "german.csv"
    german.to_csv(src, index=False)
    r = run("info", "--model", model_dir)
    assert "languages  English; postings in other languages are 'not English'" in r.stdout
    out = tmp_path / "both"
    r = run("train", corpus_csv, src, "-o", out, "--no-seed")
    assert r.exit_code == 0, r.output
    assert ("10% or more of the PM postings are not in English: this model labels postings in other "
            "languages too (its cue lists read English only)") in r.stderr
    assert "languages  English and the others it was trained on" in run("info", "--model", out).stdout
    posting = next(r for r in german_rows(n_each=3, seed=99) if r["label"] == "technical")  # not trained on
    posting = posting["title"] + "\n\n" + posting["description"]
    assert json.loads(run("classify", posting, "--model", model_dir, "--json").stdout)["status"] == "not English"
    got = json.loads(run("classify", posting, "--model", out, "--json").stdout)
    assert got["status"] in ("ok", "uncertain") and got["label"] == "technical"


def test_train_unknown_labels(tmp_path):
    src = tmp_path / "bad.csv"
    pd.DataFrame({"description": ["a", "b", "c"], "label": ["technical", "Sales-y", "business"]}).to_csv(src, index=False)
    r = run("train", src, "-o", tmp_path / "m", "--no-seed")
    assert r.exit_code == 1
    assert r.stderr.strip() == f"Error: {src}: 1 row has a label other than technical, business or not_pm (row 3; value 'Sales-y')"


def test_train_one_class_only(tmp_path):
    src = tmp_path / "one.csv"
    pd.DataFrame({"description": [f"posting {i}" for i in range(6)], "label": ["technical"] * 6}).to_csv(src, index=False)
    r = run("train", src, "-o", tmp_path / "m", "--no-seed")
    assert r.exit_code == 1
    assert r.stderr.strip() == "Error: training needs both labels, technical and business; found only technical"


def test_train_and_evaluate_check_their_output_folder_before_the_work(tmp_path, corpus_csv, model_dir):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    r = run("train", corpus_csv, "-o", blocker / "m", "--no-seed")
    assert r.exit_code == 1
    assert r.stderr.strip() == f"Error: {blocker / 'm'} cannot be written: {blocker} is a file, not a folder"
    r = run("train", corpus_csv, "-o", blocker, "--no-seed")
    assert r.exit_code == 1
    assert r.stderr.strip() == f"Error: {blocker} is a file, not a folder"
    r = run("evaluate", corpus_csv, "--model", model_dir, "--report", blocker / "rep")
    assert r.exit_code == 1
    assert r.stderr.strip() == f"Error: {blocker / 'rep'} cannot be written: {blocker} is a file, not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


def test_train_overwrites_a_model_and_nothing_else(tmp_path, corpus_csv):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("keep me")
    for target, message in ((notes, f"{notes} is not a model folder (no manifest.json); overwriting replaces "
                                     "only a model: choose another name"),
                            (corpus_csv, f"{corpus_csv} is a file, not a folder")):
        before = sorted(p.name for p in tmp_path.iterdir())
        r = run("train", corpus_csv, "-o", target, "--no-seed", "--overwrite")
        assert r.exit_code == 1
        assert r.stderr.strip() == f"Error: {message}"
        assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (notes / "todo.txt").read_text() == "keep me"
    assert corpus_csv.is_file()


def test_train_on_rows_that_all_are_left_out(tmp_path):
    src = tmp_path / "empty_texts.csv"
    pd.DataFrame({"description": ["", "  "], "label": ["technical", "business"]}).to_csv(src, index=False)
    r = run("train", src, "-o", tmp_path / "m", "--no-seed")
    assert r.exit_code == 1
    assert r.stderr.strip().splitlines()[-1] == ("Error: training needs both labels, technical and business; "
                                                 "found no technical or business rows")


def test_evaluate_and_compare_on_postings_of_one_label(tmp_path, model_dir):
    src = tmp_path / "technical_only.csv"
    pd.DataFrame({"description": [TECH_POSTING, TECH_POSTING + " Also SQL."], "label": ["technical"] * 2}
                 ).to_csv(src, index=False)
    r = run("evaluate", src, "--model", model_dir, "--json")
    assert r.exit_code == 0, r.output
    assert r.stderr.splitlines() == [
        "every posting scored is labelled technical: ROC-AUC and the business recall and F1 need both labels "
        "(n/a; null in JSON), and macro-F1 counts the business F1 as 0",
        "only 2 postings scored: the 95% intervals are rough at this size (a bootstrap cannot show what so "
        "few postings leave out)"]
    metrics = json.loads(r.stdout, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))["metrics"]
    assert metrics["roc_auc"]["value"] is None and metrics["accuracy"]["value"] == 1.0
    assert "low" not in metrics["roc_auc"]
    # no business posting: its recall and F1 are undefined, as ROC-AUC is, not a measured 0 (and the tiny
    # model calls every one of these technical, so nothing was called business: no precision either)
    for name in ("business_precision", "business_recall", "business_f1"):
        assert metrics[name] == {"value": None}
    assert metrics["technical_recall"]["value"] == 1.0 and metrics["macro_f1"]["value"] == 0.5
    r = run("evaluate", src, "--model", model_dir, "--report", tmp_path / "rep")
    assert r.exit_code == 0, r.output
    for name in ("roc_auc", "business_precision", "business_recall", "business_f1"):
        assert re.search(rf"^{name} +n/a$", r.stdout, re.M), r.stdout
        assert f"| {name} | n/a |  |" in (tmp_path / "rep" / "report.md").read_text()
    assert re.search(r"^technical_recall +1\.000  \[1\.000, 1\.000\]$", r.stdout, re.M), r.stdout
    # the Brier score needs one label only, and every other metric gets its interval from the resamples
    assert 0 <= metrics["brier"]["value"] <= 1 and metrics["brier"]["low"] <= metrics["brier"]["value"]
    assert metrics["accuracy"]["low"] == metrics["accuracy"]["high"] == 1.0
    r = run("compare", model_dir, "--against", model_dir, "--on", src)
    assert r.exit_code == 1
    assert r.stderr.strip() == (f"Error: {src} has postings of one label only (technical); comparing models "
                                "needs reference postings of both labels")


def test_evaluate_and_compare_note_postings_given_twice_and_given_both_labels(tmp_path, model_dir):
    """Each row is scored, so a repeated posting weighs twice; one given both labels is wrong on one row
    whatever the model says. Both are said, with their rows (the same words: spacing and case aside)."""
    src = tmp_path / "twice.csv"
    pd.DataFrame({"description": [TECH_POSTING, BUSINESS_POSTING, TECH_POSTING, BUSINESS_POSTING.upper(),
                                  BUSINESS_POSTING + "  ", "Own the SDK's roadmap with engineers. " * 5],
                  "label": ["technical", "business", "technical", "technical", "business", "technical"]}
                 ).to_csv(src, index=False)
    notes = [f"{src}: 2 rows repeat a posting of an earlier row, with its label (rows 4, 6); each row is scored",
             f"{src}: 1 row gives an earlier row's posting the other label (row 5); one of the two is scored "
             "wrong whatever the model says"]
    r = run("evaluate", src, "--model", model_dir)
    assert r.exit_code == 0, r.output
    assert r.stderr.splitlines()[:2] == notes
    r = run("compare", model_dir, "--against", model_dir, "--on", src)
    assert r.exit_code == 0, r.output
    assert r.stderr.splitlines()[:2] == notes


def test_evaluate_compare_and_promotion_name_standard_input_as_every_error_does(tmp_path, model_dir, corpus_csv):
    one_label = pd.DataFrame({"description": [TECH_POSTING, TECH_POSTING + " Also SQL."],
                              "label": ["technical"] * 2}).to_csv(index=False)
    r = run("compare", model_dir, "--against", model_dir, "--on", "-", input=one_label)
    assert (r.exit_code, r.stderr.strip()) == (1, "Error: standard input has postings of one label only "
                                                  "(technical); comparing models needs reference postings of both labels")
    r = run("train", corpus_csv, "--no-seed", "--name", "never", "--promote-if-better", "-", input=one_label)
    assert r.stderr.strip().startswith("Error: standard input has postings of one label only (technical)")
    not_pm = pd.DataFrame({"description": ["Teach third grade."], "label": ["not_pm"]}).to_csv(index=False)
    r = run("compare", model_dir, "--against", model_dir, "--on", "-", input=not_pm)
    assert r.stderr.strip() == "Error: standard input has no postings labelled technical or business to compare on"
    both = corpus_csv.read_text()
    r = run("compare", model_dir, "--against", model_dir, "--on", "-", "--json", input=both)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["reference"] == "standard input"
    r = run("evaluate", "-", "--model", model_dir, input=both)
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0].endswith(" on standard input")


@pytest.mark.parametrize("args", [["-", "-"], ["-", "--promote-if-better", "-"]], ids=["twice", "and-reference"])
def test_train_refuses_standard_input_given_twice_before_reading_it(tmp_path, corpus_csv, args):
    r = run("train", *args, "--no-seed", "--name", "twice", input=corpus_csv.read_text())
    assert (r.exit_code, r.stderr.strip()) == (2, "Error: standard input ('-') is given more than once, but it can "
                                                  "be read only once: save the other tables to files")


def test_train_conflicting_duplicates(tmp_path, corpus_csv):
    frame = pd.read_csv(corpus_csv)
    frame = pd.concat([frame, frame.iloc[[0]].assign(label="business")])
    src = tmp_path / "dupes.csv"
    frame.to_csv(src, index=False)
    r = run("train", src, "-o", tmp_path / "m", "--no-seed")
    assert r.exit_code == 1
    assert r.stderr.strip().startswith("Error: 1 posting appears twice with different labels")


def test_train_takes_the_users_label_for_a_seed_posting(tmp_path, corpus_csv, monkeypatch):
    """A user cannot edit the seed corpus inside an installed package: their label for one of its
    postings is the one trained on (as check-labels checks it), with a note."""
    monkeypatch.setenv("PMTYPE_SEED_CORPUS", str(corpus_csv))
    seed = pd.read_csv(corpus_csv)
    pm = seed[seed.label != "not_pm"]
    swap = {"technical": "business", "business": "technical"}
    mine = pd.concat([pm.iloc[[0]].assign(label=swap[pm.iloc[0]["label"]]), pm.iloc[[1]]])
    src = tmp_path / "mine.csv"
    mine.to_csv(src, index=False)
    r = run("train", src, "-o", tmp_path / "m")
    assert r.exit_code == 0, r.output
    note = ("2 seed corpus postings are in your files too; your labels are the ones trained on "
            "(1 differ from the seed corpus's)")
    assert note in r.stderr.splitlines()
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["data"]["rows"] == len(seed) and note in manifest["notes"]
    counts = seed.label.value_counts()
    counts[pm.iloc[0]["label"]] -= 1
    counts[swap[pm.iloc[0]["label"]]] += 1
    assert manifest["data"]["by_label"] == {k: int(v) for k, v in sorted(counts.items())}


def test_models_and_info_show_an_undefined_figure_as_n_a(model_dir):
    """A cross-validated figure that cannot be computed (null in the manifest) is n/a, not nan or a crash."""
    from conftest import install_model
    from pmtype import persist

    folder = install_model(model_dir, "undefined")
    manifest = json.loads((folder / persist.MANIFEST_FILE).read_text())
    manifest["metrics"]["cross_validation"]["metrics"]["roc_auc"] = {"value": None}
    (folder / persist.MANIFEST_FILE).write_text(json.dumps(manifest))
    r = run("models")
    assert r.exit_code == 0, r.output
    assert re.search(r"^  undefined  .*  n/a  ", r.stdout, re.M), r.stdout
    r = run("info", "-m", "undefined")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[-1].endswith(", roc_auc n/a")


def test_models_remove(model_dir):
    from conftest import install_model
    from pmtype import config

    install_model(model_dir, "old")
    install_model(model_dir, "keep")
    assert run("models", "use", "keep").exit_code == 0
    model_id = json.loads((model_dir / "manifest.json").read_text())["model_id"]
    r = run("models", "remove", "old")
    assert r.exit_code == 0, r.output
    assert r.stdout == f"removed model version old ({model_id})\n"
    assert not (config.models_dir() / "old").exists()
    assert "old" not in run("models").stdout
    for args, message, code in (
        (["keep"], "Error: 'keep' is the default model; make another version the default first "
                   "('pmtype models use NAME'), then remove it", 1),
        (["old"], f"Error: no model version 'old' in {config.models_dir()}; 'pmtype models' lists them", 1),
        (["a\nb"], "Error: 'a\\nb' is not a model version name: use letters, digits, '.', '_' and '-', starting "
                   "with a letter or digit (other spellings of 'default', such as 'DEFAULT', are reserved)", 2),
    ):
        r = run("models", "remove", *args)
        assert r.exit_code == code
        assert r.stderr == message + "\n"
    assert (config.models_dir() / "keep" / "manifest.json").is_file()


def test_train_no_seed_needs_files(tmp_path):
    r = run("train", "-o", tmp_path / "m", "--no-seed")
    assert r.exit_code == 2
    assert r.stderr.strip() == "Error: --no-seed needs at least one labelled file"


def test_every_command_has_help():
    for command in ("classify", "label", "train", "evaluate", "info"):
        r = run(command, "--help")
        assert r.exit_code == 0 and "Usage" in r.stdout


def test_version():
    from pmtype import __version__

    r = run("--version")
    assert r.stdout.strip() == f"pmtype {__version__}"


def test_evaluate_writes_a_report(model_dir, corpus_csv, tmp_path):
    r = run("evaluate", corpus_csv, "--model", model_dir, "--report", tmp_path / "rep")
    assert r.exit_code == 0, r.output
    for name in ("report.md", "confusion.png", "reliability.png", "p_by_label.png"):
        assert (tmp_path / "rep" / name).is_file()
    text = (tmp_path / "rep" / "report.md").read_text()
    assert "| macro_f1 |" in text and "How often each distinction" in text


@pytest.mark.parametrize("folder", ["", "  "])
def test_evaluate_refuses_a_blank_report_folder(model_dir, corpus_csv, tmp_path, monkeypatch, folder):
    """A blank --report is not the working directory by accident; blanks are said as every empty path is."""
    monkeypatch.chdir(tmp_path)
    r = run("evaluate", corpus_csv, "--model", model_dir, "--report", folder)
    assert (r.exit_code, r.stderr) == (2, "Error: an empty path was given for --report\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_evaluate_refuses_a_report_folder_it_could_not_write_before_scoring(model_dir, corpus_csv, tmp_path, monkeypatch):
    import pmtype.evaluation

    def never(*args, **kwargs):
        raise AssertionError("scored")

    monkeypatch.setattr(pmtype.evaluation, "label_metrics", never)
    report = tmp_path / "report"
    (report / "report.md").mkdir(parents=True)
    (report / "confusion.png").write_bytes(b"an earlier figure")
    r = run("evaluate", corpus_csv, "--model", model_dir, "--report", report)
    assert (r.exit_code, r.stderr) == (1, f"Error: {report / 'report.md'} is a folder, in the way of the report's "
                                          "file of that name: move it away\n")
    assert (report / "confusion.png").read_bytes() == b"an earlier figure"  # nothing replaced
    assert sorted(p.name for p in report.iterdir()) == ["confusion.png", "report.md"]
    dangling = tmp_path / "to-nowhere"
    dangling.symlink_to(tmp_path / "gone")
    r = run("evaluate", corpus_csv, "--model", model_dir, "--report", dangling)
    assert (r.exit_code, r.stderr) == (1, f"Error: {dangling} is a symbolic link to nothing; give the report a folder\n")


def test_an_interrupted_report_leaves_the_earlier_one_whole(model_dir, corpus_csv, tmp_path, monkeypatch):
    import matplotlib.figure

    folder = tmp_path / "rep"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    assert run("evaluate", corpus_csv, "--model", model_dir, "--report", folder).exit_code == 0
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    saved = matplotlib.figure.Figure.savefig

    def stop_at_the_second_figure(self, fname, *args, **kwargs):
        if str(fname).endswith("reliability.png"):
            raise KeyboardInterrupt
        return saved(self, fname, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", stop_at_the_second_figure)
    other = tmp_path / "other.csv"  # other postings: another confusion matrix, had it been written
    flipped = pd.read_csv(corpus_csv)
    flipped["label"] = flipped["label"].map({"technical": "business", "business": "technical"}).fillna(flipped["label"])
    flipped.to_csv(other, index=False)
    r = run("evaluate", other, "--model", model_dir, "--report", folder)
    assert (r.exit_code, r.stderr) == (130, "Error: interrupted\n")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # nothing half-written left


def test_an_interrupted_first_report_leaves_no_folder(model_dir, corpus_csv, tmp_path, monkeypatch):
    import matplotlib.figure

    def interrupted(self, fname, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", interrupted)
    r = run("evaluate", corpus_csv, "--model", model_dir, "--report", tmp_path / "new" / "rep")
    assert (r.exit_code, r.stderr) == (130, "Error: interrupted\n")
    assert not (tmp_path / "new" / "rep").exists()


def test_evaluate_report_holds_its_notes_counts_and_a_findable_table_of_mistakes(model, model_dir, tmp_path):
    # the tiny model calls the technical posting technical: labelled business here, it is a mistake
    src = tmp_path / "ref.csv"
    pd.DataFrame({"title": ["Tech | Platform PM", "Growth PM", "Other"],
                  "description": [TECH_POSTING, BUSINESS_POSTING, BUSINESS_POSTING + " Quarterly."],
                  "label": ["business", "business", "not_pm"]}).to_csv(src, index=False)
    r = run("evaluate", src, "--model", model_dir, "--report", tmp_path / "rep")
    assert r.exit_code == 0, r.output
    assert f"{src}: left out 1 row labelled not_pm" in r.stderr
    assert "called not-PM by the scope check (scored all the same): " in r.stdout
    text = (tmp_path / "rep" / "report.md").read_text()
    mistakes = [line for line in text.splitlines() if line.startswith("| 2 |")]
    assert len(mistakes) == 1  # the row number in the file (the header is row 1)
    cells = [c.strip() for c in mistakes[0].strip("|").split(" | ")]
    assert cells[:3] == ["2", r"Tech \| Platform PM", "business"]  # the bar is escaped, columns stay put
    assert "## Notes" in text and "left out 1 row labelled not_pm" in text
    assert "only 2 postings scored" in text and "Uncertain (inside the close-call band): " in text
    # no technical postings: their columns say n/a, not "never fires"
    focus = next(line for line in text.splitlines() if line.startswith("| focus | technical |"))
    assert focus.count("n/a") == 2
    assert "| brier | " in text and "| roc_auc | n/a |" in text


def test_evaluate_report_shows_a_note_of_a_file_named_like_a_heading_as_written(model_dir, tmp_path, monkeypatch):
    """A note starts with the file's name: "# ref.csv" or "1. ref.csv" there is no heading or list in the notes."""
    monkeypatch.chdir(tmp_path)
    for name, shown in (("# ref.csv", "\\# ref.csv"), ("1. ref.csv", "1\\. ref.csv")):
        pd.DataFrame({"description": [TECH_POSTING, BUSINESS_POSTING, BUSINESS_POSTING + " Quarterly."],
                      "label": ["technical", "business", "not_pm"]}).to_csv(name, index=False)
        r = run("evaluate", name, "--model", model_dir, "--report", "rep")
        assert r.exit_code == 0, r.output
        notes = [line for line in (tmp_path / "rep" / "report.md").read_text().splitlines() if line.startswith("- ")]
        assert notes[0] == f"- {shown}: left out 1 row labelled not_pm (evaluate scores technical and business postings)"


def test_evaluate_report_says_when_there_are_no_mistakes(model_dir, tmp_path):
    src = tmp_path / "ref.csv"
    pd.DataFrame({"description": [TECH_POSTING, BUSINESS_POSTING], "label": ["technical", "business"]}
                 ).to_csv(src, index=False)
    r = run("evaluate", src, "--model", model_dir, "--report", tmp_path / "rep")
    assert r.exit_code == 0, r.output
    text = (tmp_path / "rep" / "report.md").read_text()
    assert "No mistakes: every posting got its true label." in text
    assert "labelled postings." in text  # two
    one = tmp_path / "one.csv"
    pd.DataFrame({"description": [TECH_POSTING], "label": ["technical"]}).to_csv(one, index=False)
    assert run("evaluate", one, "--model", model_dir, "--report", tmp_path / "one").exit_code == 0
    assert f"Model `{json.loads((model_dir / 'manifest.json').read_text())['model_id']}`, 1 labelled posting.\n" in (
        tmp_path / "one" / "report.md").read_text()
    # cues found is what fired; leans is the net push: the technical posting's technical cues were found
    focus = next(line for line in text.splitlines() if line.startswith("| focus | technical |"))
    found_in_technical = float(focus.strip("|").split(" | ")[3])
    assert found_in_technical == 1.0


def test_evaluate_numbers_the_rows_of_parquet_on_standard_input_as_of_the_file(model_dir, tmp_path):
    """Parquet has no header: its first row is row 1 whether it is named or comes through a pipe."""
    src = tmp_path / "ref.parquet"
    pd.DataFrame({"description": ["", TECH_POSTING, BUSINESS_POSTING],
                  "label": ["technical", "business", "business"]}).to_parquet(src, index=False)
    for given, name, stdin in ((src, str(src), None), ("-", "standard input", src.read_bytes())):
        folder = tmp_path / f"rep-{given == '-'}"
        r = run("evaluate", given, "--model", model_dir, "--report", folder, input=stdin)
        assert r.exit_code == 0, r.output
        assert f"{name}: left out 1 row with empty text (row 1)\n" in r.stderr
        mistakes = [line for line in (folder / "report.md").read_text().splitlines() if line.startswith("| 2 |")]
        assert len(mistakes) == 1  # the technical posting labelled business, in the file's second row


def test_evaluate_numbers_the_rows_of_a_csv_with_blank_lines_as_of_the_file_named_or_piped(model_dir, tmp_path):
    """A blank line holds no row but is a row of the spreadsheet the user opens: it is counted, on standard input too."""
    src = tmp_path / "ref.csv"
    quoted = ['"' + posting.replace('"', '""') + '"' for posting in (TECH_POSTING, BUSINESS_POSTING)]
    src.write_text(f"\ndescription,label\n{quoted[0]},technical\n\n,business\n{quoted[1]},business\n")
    for given, name, stdin in ((src, str(src), None), ("-", "standard input", src.read_bytes())):
        r = run("evaluate", given, "--model", model_dir, input=stdin)
        assert r.exit_code == 0, r.output
        assert f"{name}: left out 1 row with empty text (row 5)\n" in r.stderr


def test_evaluate_report_names_a_mistake_by_its_first_line_as_read_not_its_markup(model_dir, tmp_path):
    """An HTML posting's first line is its title, not tags that a Markdown viewer would render."""
    src = tmp_path / "ref.csv"
    html = "<h2>Platform <b>PM</b></h2><ul><li>" + TECH_POSTING + "</li></ul>"
    pd.DataFrame({"description": [html, BUSINESS_POSTING], "label": ["business", "business"]}).to_csv(src, index=False)
    r = run("evaluate", src, "--model", model_dir, "--report", tmp_path / "rep")
    assert r.exit_code == 0, r.output
    mistake = next(line for line in (tmp_path / "rep" / "report.md").read_text().splitlines()
                   if line.startswith("| 2 |"))
    assert mistake.startswith("| 2 | Platform PM | business | ")


def test_evaluate_with_nothing_to_score_says_why(model_dir, tmp_path):
    src = tmp_path / "ref.csv"
    pd.DataFrame({"description": ["", "  "], "label": ["technical", "business"]}).to_csv(src, index=False)
    r = run("evaluate", src, "--model", model_dir)
    assert r.exit_code == 1
    assert r.stderr == f"Error: {src} has no technical or business postings to score: left out 2 rows with empty text (rows 2, 3)\n"


def test_evaluate_on_not_pm_rows_only_says_there_is_nothing_to_score(model, model_dir, tmp_path):
    """Not-PM rows are not scored: a file of them alone is refused as a file of no labelled rows is,
    not scored as if it held postings (the library raises; the CLI says it in one line)."""
    from pmtype.errors import BadTrainingData
    from pmtype.evaluation import evaluate as evaluate_model

    src = tmp_path / "ref.csv"
    pd.DataFrame({"description": [TECH_POSTING, BUSINESS_POSTING, ""], "label": ["not_pm", "not_pm", "technical"]}
                 ).to_csv(src, index=False)
    message = (f"{src} has no technical or business postings to score: left out 1 row with empty text (row 4); "
               "left out 2 rows labelled not_pm (evaluate scores technical and business postings)")
    with pytest.raises(BadTrainingData) as e:
        evaluate_model(src, model=model)
    assert str(e.value) == message
    r = run("evaluate", src, "--model", model_dir, "--report", tmp_path / "rep")
    assert (r.exit_code, r.stdout, r.stderr) == (1, "", f"Error: {message}\n")
    assert not (tmp_path / "rep").exists()


@pytest.mark.parametrize("command", ["evaluate", "train", "check-labels", "compare", "label"])
def test_a_missing_input_or_a_folder_without_an_extension_is_named_so_not_asked_its_format(
        model_dir, tmp_path, command):
    """'reference' for 'reference.csv', or a folder: --format would not help, so it is not asked for."""
    for src, problem in ((tmp_path / "reference", "does not exist"), (tmp_path, "is a folder, not a file")):
        args = {"evaluate": ["evaluate", src, "--model", model_dir],
                "train": ["train", src, "--no-seed", "-o", tmp_path / "m"],
                "check-labels": ["check-labels", src, "--no-seed"],
                "compare": ["compare", model_dir, "--against", model_dir, "--on", src],
                "label": ["label", src, "--model", model_dir, "-o", tmp_path / "out.csv"]}[command]
        r = run(*args)
        assert (r.exit_code, r.stderr) == (1, f"Error: {src} {problem}\n")


@pytest.mark.parametrize("command", ["evaluate", "train", "check-labels", "compare"])
def test_commands_that_read_labelled_files_take_format_and_encoding(model_dir, corpus_csv, tmp_path, command):
    """A TSV in Latin-1 named .dat: --format and --encoding say what the name and bytes do not."""
    frame = pd.read_csv(corpus_csv)
    frame["description"] = frame["description"] + " Café."
    src = tmp_path / "labelled.dat"
    src.write_bytes(frame.to_csv(sep="\t", index=False).encode("latin-1"))
    args = {"evaluate": ["evaluate", src, "--model", model_dir],
            "train": ["train", src, "--no-seed", "-o", tmp_path / "m"],
            "check-labels": ["check-labels", src, "--no-seed"],
            "compare": ["compare", model_dir, "--against", model_dir, "--on", src]}[command]
    r = run(*args)
    assert r.exit_code == 1
    assert r.stderr == (f"Error: cannot tell the format of {src} from its name; "
                        "give --format (csv, tsv, jsonl, parquet)\n")
    r = run(*args, "--format", "tsv", "--encoding", "latin-1")
    assert r.exit_code == 0, r.output
    if command == "evaluate":
        assert "postings scored: 20" in r.stdout


def test_a_ctrl_c_while_the_command_line_starts_is_one_line(monkeypatch, capsys):
    """The console script imports the command line inside a guard: no traceback."""
    import sys

    from pmtype import console

    class Interrupting:
        def find_spec(self, name, path=None, target=None):
            if name == "pmtype.cli":
                raise KeyboardInterrupt
            return None

    monkeypatch.delitem(sys.modules, "pmtype.cli")
    monkeypatch.setattr(sys, "meta_path", [Interrupting(), *sys.meta_path])
    with pytest.raises(SystemExit) as e:
        console.main()
    assert e.value.code == 130
    assert capsys.readouterr().err == "Error: interrupted\n"


def test_a_ctrl_c_leaves_no_traceback_of_a_task_it_cut_short(model_dir, corpus_csv, tmp_path, monkeypatch, caplog):
    """A Ctrl-C while dask starts a worker's nanny left a task whose error nobody read; asyncio
    reported it, with a traceback, as the task was dropped, after "Error: interrupted"."""
    import asyncio
    import gc
    import logging

    from pmtype import batch

    alive = []  # the task, held (as by the cluster's event loop) until the command has ended

    def interrupted(*args, **kwargs):
        async def starting():
            raise RuntimeError("Nanny failed to start.")

        loop = asyncio.new_event_loop()
        alive.append(loop.create_task(starting()))
        loop.run_until_complete(asyncio.sleep(0))  # the task fails; nobody reads its error
        loop.close()
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "label_file", interrupted)
    asyncio_log = logging.getLogger("asyncio")
    monkeypatch.setattr(asyncio_log, "level", asyncio_log.level)  # put back after the test
    r = run("label", corpus_csv, "-o", tmp_path / "out.csv", "--model", model_dir)
    assert (r.exit_code, r.stderr) == (130, "Error: interrupted\n")
    assert alive[0].done() and not caplog.records
    alive.clear()
    gc.collect()  # the task is dropped
    assert not [rec for rec in caplog.records if "never retrieved" in rec.getMessage()]


@pytest.mark.parametrize("said_before", [False, True])
def test_a_ctrl_c_typer_ends_silently_is_said_once(monkeypatch, capsys, said_before):
    from pmtype import cli

    def interrupted_app():
        if said_before:  # a command said it already (typer turns its Exit into the SystemExit below)
            with pytest.raises(typer.Exit):
                cli._fail("interrupted", cli.INTERRUPTED)
        raise SystemExit(cli.INTERRUPTED)  # what typer does with a Ctrl-C outside a command's work

    monkeypatch.setattr(cli, "app", interrupted_app)
    monkeypatch.setattr(cli, "_said", [])
    monkeypatch.setattr(cli.sys, "unraisablehook", cli.sys.unraisablehook)  # run() installs its own
    with pytest.raises(SystemExit) as e:
        cli.run()
    assert e.value.code == 130
    assert capsys.readouterr().err.count("Error: interrupted") == 1


def test_classify_calls_a_mistyped_file_name_a_missing_file(model_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run("classify", "postng.txt", "--model", model_dir)
    assert r.exit_code == 1
    assert r.stderr == "Error: postng.txt: no such file (to classify those words as a posting, pipe them on stdin)\n"
    (tmp_path / "posting.txt").write_text(TECH_POSTING)
    r = run("classify", "posting.txt", "--model", model_dir)
    assert r.exit_code == 0 and r.stdout.startswith("technical")


@pytest.mark.parametrize("name", ["/no/such/dir/posting", "postings/acme", "my posting.txt",
                                  "/no/such dir/posting", "~/postings/acme pm.md", "notes.txt",
                                  "dir/posting.txt", "notes.txt/posting", "postings.v2/acme",
                                  "data.backup/posting.txt", "jobs.acme/2024/pm.md"])
def test_classify_calls_a_path_that_names_nothing_a_missing_file(model_dir, tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    r = run("classify", name, "--model", model_dir)
    assert (r.exit_code, r.stderr) == (
        1, f"Error: {name}: no such file (to classify those words as a posting, pipe them on stdin)\n")


@pytest.mark.parametrize("name", ["example.com/jobs/pm.html", "Jobs.Example.co.uk/pm.md"])
def test_classify_hints_that_a_missing_file_named_as_a_host_may_be_a_web_address(model_dir, tmp_path, monkeypatch,
                                                                                  name):
    monkeypatch.chdir(tmp_path)
    r = run("classify", name, "--model", model_dir)
    assert (r.exit_code, r.stderr) == (1, f"Error: {name}: no such file (if that is a web address: pmtype reads "
                                          "no web pages; save the page and give its file)\n")
    r = run("classify", "--file", name, "--model", model_dir)
    assert (r.exit_code, r.stderr) == (1, f"Error: {name} does not exist (if that is a web address: pmtype reads "
                                          "no web pages; save the page and give its file)\n")


@pytest.mark.parametrize("args,address", [
    (["https://example.com/jobs/123"], "https://example.com/jobs/123"),
    ([" HTTP://jobs.example.com/pm?id=7\n"], "HTTP://jobs.example.com/pm?id=7"),
    (["www.example.com/careers/pm"], "www.example.com/careers/pm"),
    (["example.com/jobs/123"], "example.com/jobs/123"),
    (["Jobs.Example.co.uk/pm/"], "Jobs.Example.co.uk/pm/"),
    (["--file", "https://example.com/jobs/123"], "https://example.com/jobs/123"),
])
def test_classify_says_it_reads_no_web_pages_when_given_a_web_address(tmp_path, monkeypatch, args, address):
    monkeypatch.chdir(tmp_path)
    r = run("classify", *args)
    assert (r.exit_code, r.stderr) == (2, f"Error: {address}: pmtype reads no web pages (nothing is fetched); "
                                          "paste the posting's text, or save the page and give its file\n")


def test_classify_reads_a_file_whose_path_looks_like_a_web_address(model_dir, tmp_path, monkeypatch):
    """A folder named as a host (``example.com/``) is a folder first, when there is one."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "example.com").mkdir()
    (tmp_path / "example.com" / "pm").write_text(TECH_POSTING)
    r = run("classify", "example.com/pm", "--model", model_dir, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["text"] == TECH_POSTING.strip()


def test_classify_reads_a_posting_that_holds_a_web_address_as_text(model_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = "Apply at https://example.com/jobs/123"
    r = run("classify", text, "--model", model_dir, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["text"] == text


@pytest.mark.parametrize("how", [("--file", "~/posting.txt"), ("~/posting.txt",), (" ~/posting.txt",)])
def test_classify_reads_a_file_named_from_the_home_folder(model_dir, tmp_path, monkeypatch, how):
    """A "~" the shell left (the path quoted) is the home folder, as the library's paths are."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "posting.txt").write_text(TECH_POSTING)
    r = run("classify", *how, "--model", model_dir, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["text"] == TECH_POSTING.strip()


@pytest.mark.parametrize("text", [
    "Own the roadmap for our public APIs/SDKs with engineers.",
    "Product Manager - APIs/SDKs, CI/CD and developer tooling",
    "We want a PM who writes specs. Experience with notes.txt",
    "Own the roadmap/strategy\nwork with engineers on README.md",
])
def test_classify_takes_posting_text_with_a_slash_or_a_file_ending_for_text(model_dir, tmp_path, monkeypatch, text):
    monkeypatch.chdir(tmp_path)
    r = run("classify", text, "--model", model_dir, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["text"].startswith(text.split("\n")[0])


def test_a_reader_that_stops_early_ends_the_run_quietly_with_code_141(model_dir, tmp_path, monkeypatch):
    import pmtype.cli as cli
    from pmtype import tables

    def closed_pipe(*args, **kwargs):
        raise BrokenPipeError(32, "Broken pipe")

    src = tmp_path / "in.csv"
    pd.DataFrame({"description": [TECH_POSTING]}).to_csv(src, index=False)
    monkeypatch.setattr(tables.TableWriter, "write", closed_pipe)  # as "| head" closing standard output
    monkeypatch.setattr(cli, "_quiet_stdout", lambda: None)
    r = run("label", src, "-o", "-", "--model", model_dir, "--quiet")
    assert (r.exit_code, r.stderr) == (141, "")


@pytest.mark.parametrize("command", ["label", "suggest"])
def test_a_table_written_at_once_to_a_reader_that_stops_early_ends_with_code_141(model_dir, tmp_path, command):
    # One write of the whole table (suggest's, or label's single chunk), far more than a pipe holds:
    # the part the pipe took before "| head -1" went away was all Python's buffered writer wrote,
    # and the command ended with code 0 as if its reader had read everything.
    import subprocess
    import sys

    src = tmp_path / "in.csv"
    texts = [f"{TECH_POSTING if i % 2 else BUSINESS_POSTING} Posting {i}." for i in range(600)]
    pd.DataFrame({"description": texts}).to_csv(src, index=False)
    args = [command, src, "-o", "-", "--model", model_dir] + (["-n", "600"] if command == "suggest" else ["--quiet"])
    proc = subprocess.Popen([sys.executable, "-m", "pmtype", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().startswith("description")
    proc.stdout.close()  # as "| head -1" does
    stderr = proc.stderr.read()
    assert (proc.wait(timeout=120), stderr) == (141, "")


@pytest.mark.parametrize("command,option,message", [
    ("label", ("--format", "xml"), "unknown format 'xml'; choose one of csv, tsv, jsonl, parquet"),
    ("label", ("--output-format", "xml"), "unknown format 'xml'; choose one of csv, tsv, jsonl, parquet"),
    ("label", ("--encoding", "nonsense"), "unknown encoding 'nonsense'"),
    ("train", ("--format", "xml"), "unknown format 'xml'; choose one of csv, tsv, jsonl, parquet"),
    ("evaluate", ("--encoding", "nonsense"), "unknown encoding 'nonsense'"),
])
def test_an_unknown_format_or_encoding_is_a_wrong_use_code_2(model_dir, tmp_path, command, option, message):
    src = tmp_path / "in.csv"
    pd.DataFrame({"description": [TECH_POSTING], "label": ["technical"]}).to_csv(src, index=False)
    out = ("-o", tmp_path / "out.csv") if command != "evaluate" else ()
    r = run(command, src, *out, *option, *(("--model", model_dir) if command != "train" else ()))
    assert (r.exit_code, r.stderr.strip()) == (2, f"Error: {message}")


def test_label_and_suggest_name_standard_input_in_errors_about_it(model_dir):
    for command in ("label", "suggest"):
        r = CliRunner().invoke(app, [command, "-", "--model", str(model_dir)], input="id,name\n1,x\n")
        assert (r.exit_code, r.stderr) == (1, "Error: standard input: no text column found (looked for description, "
                                              "job_description, jobdescription, description_text, text, body, …); the "
                                              "columns are: id, name; name one with --text-column\n")


def test_sources_of_one_file_name_are_told_apart_and_one_of_copies_only_is_listed(tmp_path, corpus_csv):
    frame = pd.read_csv(corpus_csv)
    for folder, part in (("a", frame.iloc[::2]), ("b", frame.iloc[1::2])):
        (tmp_path / folder).mkdir()
        part.to_csv(tmp_path / folder / "mine.csv", index=False)
    frame.iloc[::2].to_csv(tmp_path / "copy.csv", index=False)  # every row is in a/mine.csv too
    r = run("train", tmp_path / "a" / "mine.csv", tmp_path / "b" / "mine.csv", tmp_path / "copy.csv", "--no-seed",
            "-o", tmp_path / "m")
    assert r.exit_code == 0, r.output
    sources = "a/mine.csv, b/mine.csv, copy.csv (0 postings)"
    assert f"sources    {sources}" in run("info", "--model", tmp_path / "m").stdout.splitlines()
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["data"]["sources"] == sources.split(", ")


def test_info_shows_the_seed_and_columns_trained_on_and_the_notes_on_rows_left_out(tmp_path, corpus_csv):
    frame = pd.read_csv(corpus_csv).rename(columns={"description": "body"})
    untitled = frame.drop(columns="title").iloc[:4].assign(body=lambda f: f.body + " again")
    frame.loc[1, "body"] = untitled.loc[1, "body"] = ""
    frame.to_csv(tmp_path / "mine.csv", index=False)
    untitled.to_csv(tmp_path / "untitled.csv", index=False)
    r = run("train", tmp_path / "mine.csv", tmp_path / "untitled.csv", "--no-seed", "-o", tmp_path / "m")
    assert r.exit_code == 0, r.output
    lines = run("info", "--model", tmp_path / "m").stdout.splitlines()
    assert f"training   seed {config.SEED}; columns text 'body', title 'title' or none, label 'label'" in lines
    assert lines[-2:] == [f"notes      {tmp_path / 'mine.csv'}: left out 1 row with empty text (row 3)",
                          f"           {tmp_path / 'untitled.csv'}: left out 1 row with empty text (row 3)"]


def test_a_model_trained_on_standard_input_names_it_so_among_its_sources(tmp_path, corpus_csv):
    r = run("train", "-", "--no-seed", "-o", tmp_path / "m", input=corpus_csv.read_text())
    assert r.exit_code == 0, r.output
    info = run("info", "--model", tmp_path / "m")
    assert "sources    standard input" in info.stdout.splitlines()  # not '-'
    r = run("train", corpus_csv, "--no-seed", "-o", tmp_path / "file")
    assert "sources    postings.csv" in run("info", "--model", tmp_path / "file").stdout.splitlines()


def test_info_names_the_seed_corpus_as_such_beside_a_file_of_the_same_name(tmp_path, corpus_csv):
    frame = pd.read_csv(corpus_csv)
    (tmp_path / "mine").mkdir()
    frame.iloc[:6].assign(description=lambda f: f.description + " again").to_csv(tmp_path / "mine" / "postings.csv",
                                                                                  index=False)
    r = run("train", tmp_path / "mine" / "postings.csv", "-o", tmp_path / "m")
    assert r.exit_code == 0, r.output
    seed = os.path.join(*corpus_csv.parts[-3:])
    assert (f"sources    mine/postings.csv, the seed corpus ({seed}, {len(frame)} postings)"
            in run("info", "--model", tmp_path / "m").stdout.splitlines())
