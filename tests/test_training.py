"""Reading labelled files for train, evaluate, compare and check-labels: labels, columns, the seed corpus."""

import ast
from pathlib import Path

import pandas as pd
import pytest

from pmtype import config
from pmtype.errors import BadInputFile, BadOption, BadTrainingData, UnknownLabel
from pmtype.model import TrainingSet, normalise_label
from pmtype.training import dedupe, read_labelled, read_seed_corpus, source_names, train

TECH = "Own our public APIs and SDK roadmap with engineers; CS degree"
BIZ = "Own pricing, packaging and go-to-market with sales and marketing; MBA"


def _labelled(tmp_path, labels, name="mine.csv", **columns):
    texts = [TECH, BIZ] * (len(labels) // 2) + [TECH] * (len(labels) % 2)
    path = tmp_path / name
    pd.DataFrame({"description": [f"{t} (posting {i})" for i, t in enumerate(texts)], **columns,
                  "label": labels}).to_csv(path, index=False)
    return path


# --- labels --------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["N/A", "n/a", "null", "NULL", "NaN", "None", " none ", "nil", "NA", "#N/A", "<NA>"])
def test_a_missing_value_marker_is_no_label_as_a_blank_cell_is(value):
    assert normalise_label(value) is None


@pytest.mark.parametrize("value,expected", [("Tech", "technical"), (" biz ", "business"), ("not-pm", "not_pm"),
                                            ("nope", "?"), ("n/a please", "?"), (12, "?")])
def test_labels_and_other_values_are_read_as_before(value, expected):
    assert normalise_label(value) == expected


def test_train_calls_a_marker_no_label_not_an_unknown_one(tmp_path):
    src = _labelled(tmp_path, ["technical", "N/A", "business", "null"])
    with pytest.raises(UnknownLabel) as e:
        read_labelled(src)
    assert str(e.value) == f"{src}: 2 rows have no label (rows 3, 5)"


def test_model_imports_the_table_code_only_when_a_label_is_read():
    """``normalise_label`` asks ``tables`` only when called: model.py has no such import at its top."""
    import pmtype.model

    tree = ast.parse(Path(pmtype.model.__file__).read_text(encoding="utf-8"))
    at_top = {a.name for node in tree.body if isinstance(node, ast.ImportFrom) and node.module == "pmtype"
              for a in node.names}
    at_top |= {node.module for node in tree.body if isinstance(node, ast.ImportFrom)}
    assert "tables" not in at_top and "pmtype.tables" not in at_top


# --- columns -------------------------------------------------------------------------------------

@pytest.mark.parametrize("options,what", [
    ({"text_column": "label"}, "text"),
    ({"text_column": "LABEL"}, "text"),  # a column is found forgiving case
    ({"title_column": "label"}, "title"),
    ({"text_column": "kind", "label_column": "kind"}, "text"),
])
def test_the_label_column_is_not_the_postings_text(tmp_path, options, what):
    src = _labelled(tmp_path, ["technical", "business"], kind=["technical", "business"])
    with pytest.raises(BadOption) as e:
        read_labelled(src, **options)
    column = options.get("label_column", "label")
    assert str(e.value) == (f"the {what} column '{column}' is the label column; "
                            f"give the postings' {what} column with --{what}-column")


def test_a_label_column_found_as_the_text_column_is_refused_too(tmp_path):
    """--label-column description: the text column found by its name is that column."""
    src = _labelled(tmp_path, ["technical", "business"])
    with pytest.raises(BadOption) as e:
        read_labelled(src, label_column="description")
    assert str(e.value) == ("the text column 'description' is the label column; "
                            "give the postings' text column with --text-column")


# --- duplicates ----------------------------------------------------------------------------------

def _twins(then=None):
    data = TrainingSet([TECH, BIZ, f"  {TECH.upper()} "], ["technical", "business", "business"],
                       ["mine.csv"] * 3, [2, 3, 4])
    return dedupe(data) if then is None else dedupe(data, then=then)


def test_a_label_conflict_ends_with_what_to_run_again():
    first = (f"1 posting appears twice with different labels (the first: '{TECH.upper()[:60]}' in mine.csv, "
             "rows 2 and 4)")
    with pytest.raises(BadTrainingData) as e:
        _twins()
    assert str(e.value) == f"{first}; fix the labels and train again"
    with pytest.raises(BadTrainingData) as e:
        _twins(then="run check-labels again")
    assert str(e.value) == f"{first}; fix the labels and run check-labels again"


def test_a_label_conflict_names_an_html_posting_by_its_words():
    html = "<html><body><h1>Product   Manager,\tPayments</h1><p>Own the APIs.</p></body></html>"
    with pytest.raises(BadTrainingData) as e:
        dedupe(TrainingSet([html, html], ["technical", "business"], ["mine.csv"] * 2, [2, 3]))
    assert str(e.value) == ("1 posting appears twice with different labels (the first: 'Product Manager, Payments' "
                            "in mine.csv, rows 2 and 3); fix the labels and train again")


# --- the seed corpus -----------------------------------------------------------------------------

def test_a_seed_corpus_the_caller_named_is_missing_without_advice_on_the_environment(tmp_path):
    gone = tmp_path / "nope.csv"
    with pytest.raises(BadInputFile) as e:
        read_seed_corpus(gone)
    assert str(e.value) == f"the seed corpus {gone} does not exist"
    src = _labelled(tmp_path, ["technical", "business"] * 7)
    with pytest.raises(BadInputFile) as e:
        train([src], tmp_path / "m", seed_path=str(gone))
    assert str(e.value) == f"the seed corpus {gone} does not exist"
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("name,what", [("gone.csv", "does not exist"), ("", "is a folder, not a file")])
def test_a_seed_corpus_the_environment_names_is_missing_or_a_folder_with_advice_on_it(tmp_path, monkeypatch,
                                                                                      name, what):
    monkeypatch.setenv("PMTYPE_SEED_CORPUS", str(tmp_path / name))
    with pytest.raises(BadInputFile) as e:
        read_seed_corpus()
    assert str(e.value) == (f"PMTYPE_SEED_CORPUS names {tmp_path / name}, which {what}; point "
                            "PMTYPE_SEED_CORPUS at the seed corpus file, or unset it")


def test_the_seed_corpus_of_the_package_is_missing_with_advice(tmp_path, monkeypatch):
    from pmtype import config

    monkeypatch.delenv("PMTYPE_SEED_CORPUS")
    monkeypatch.setattr(config, "PACKAGE_DIR", tmp_path)
    monkeypatch.setattr(config, "_CHECKOUT_ROOT", tmp_path)
    with pytest.raises(BadInputFile) as e:
        read_seed_corpus()
    assert str(e.value) == (f"the seed corpus {tmp_path / 'data' / 'seed' / 'postings.csv'} does not exist; "
                            "set PMTYPE_SEED_CORPUS to its path, or pass --no-seed")


# --- a place that cannot be written -------------------------------------------------------

def test_train_refuses_an_output_it_cannot_write_before_training(tmp_path, corpus_csv, monkeypatch):
    from pmtype import training
    from pmtype.errors import CannotWrite

    monkeypatch.setattr(training, "fit_model", lambda *a, **k: pytest.fail("trained before checking the output"))
    (tmp_path / "afile").write_text("x")
    with pytest.raises(CannotWrite) as e:
        train([corpus_csv], tmp_path / "afile" / "sub", use_seed=False)
    assert str(e.value) == f"{tmp_path / 'afile' / 'sub'} cannot be written: {tmp_path / 'afile'} is a file, not a folder"


def test_a_model_that_cannot_be_saved_is_a_one_line_error_and_leaves_nothing(tmp_path, corpus_csv, monkeypatch):
    import errno

    import joblib

    from pmtype.errors import CannotWrite

    def full_disk(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(joblib, "dump", full_disk)
    with pytest.raises(CannotWrite) as e:
        train([corpus_csv], tmp_path / "out" / "m", use_seed=False)
    assert str(e.value) == f"{tmp_path / 'out' / 'm'} cannot be written: no space left on device"
    assert list((tmp_path / "out").iterdir()) == []


def test_a_cue_cache_that_cannot_be_written_only_costs_time(tmp_path, corpus_csv, monkeypatch):
    import errno

    from pmtype import model as model_mod

    def read_only(self, new):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(model_mod._CueCache, "add", read_only)
    said = []
    train([corpus_csv], tmp_path / "m", use_seed=False, cue_cache=tmp_path / "cache", progress=said.append)
    assert (tmp_path / "m" / "manifest.json").is_file()
    assert f"cues not cached ({tmp_path / 'cache'}: read-only file system)" in said


def test_train_given_a_dataframe_asks_for_file_paths(tmp_path):
    frame = pd.DataFrame({"description": ["a"], "label": ["technical"]})
    with pytest.raises(TypeError) as e:
        train(frame, tmp_path / "m")
    assert str(e.value) == "train reads labelled files: give their paths (a DataFrame: save it with to_csv first)"


def test_train_given_a_generator_of_paths_trains_on_its_files(corpus_csv, tmp_path):
    manifest = train((path for path in [corpus_csv]), tmp_path / "m", use_seed=False)
    assert manifest["data"]["sources"] == ["postings.csv"]


def test_sources_are_named_by_as_much_of_their_paths_as_tells_them_apart(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    given = ["/x/a/mine.csv", "/y/x/a/mine.csv", "/y/b/mine.csv", "c/other.csv", str(tmp_path / "c" / "other.csv"),
             "-", "/dev/fd/63"]
    trained = ["/x/a/mine.csv", "/y/x/a/mine.csv", "c/other.csv", "-", "/dev/fd/63"]
    assert source_names(given, trained) == ["/dev/fd/63", "/x/a/mine.csv", "b/mine.csv (0 postings)", "other.csv",
                                            "standard input", "y/x/a/mine.csv"]


@pytest.mark.parametrize("seed,shown", [(-1, "-1"), (2**32, "4294967296"), ("7", "a str"), (1.5, "a float"),
                                        (True, "a bool")])
def test_a_seed_that_is_no_whole_number_from_0_is_refused_before_any_file_is_read(tmp_path, seed, shown):
    from pmtype.curation import check_labels

    message = f"seed must be a whole number from 0 to 4294967295, not {shown}"
    for call in (lambda: train([tmp_path / "none.csv"], tmp_path / "m", seed=seed),
                 lambda: check_labels(tmp_path / "none.csv", seed=seed)):
        with pytest.raises(BadOption) as e:
            call()
        assert str(e.value) == message and e.value.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_seed_none_trains_with_the_default_seed_not_an_unfixed_one(corpus_csv, tmp_path):
    none = train([corpus_csv], tmp_path / "none", use_seed=False, seed=None)
    default = train([corpus_csv], tmp_path / "default", use_seed=False)
    assert none["training"]["seed"] == default["training"]["seed"] == config.SEED
    assert none["metrics"] == default["metrics"]  # the same folds and fits: reproducible


def test_labels_that_are_no_text_are_shown_as_written(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"description": "Own the APIs with engineers", "label": ["technical"]}\n'
                    '{"description": "Own pricing with sales", "label": {"v": "business"}}\n'
                    '{"description": "Own the roadmap", "label": true}\n')
    with pytest.raises(UnknownLabel) as e:
        read_labelled(path)
    assert str(e.value) == (f"{path}: 3 rows have a label other than technical, business or not_pm (rows 1, 2, 3; values "
                            '["technical"], true, {"v": "business"})')


def test_json_lines_rows_are_named_by_their_line_as_a_bad_line_is(tmp_path):
    import gzip

    path = tmp_path / "gaps.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-16") as f:  # read as read_chunks reads it: gzip, the encoding
        f.write('{"description": "Own the APIs with engineers", "label": "technical"}\n'
                "\n   \n"
                '{"description": "", "label": "business"}\n'
                '{"description": "Own pricing with sales", "label": "business"}\n'
                "\n"
                '{"description": "Own the roadmap", "label": "maybe"}\n')
    with pytest.raises(UnknownLabel) as e:
        read_labelled(path)
    assert str(e.value) == f"{path}: 1 row has a label other than technical, business or not_pm (row 7; value 'maybe')"
    text = gzip.decompress(path.read_bytes()).decode("utf-16")
    path.write_bytes(gzip.compress(text.replace("maybe", "business").encode("utf-16")))
    data, notes = read_labelled(path)
    assert data.rows == [1, 5, 7]
    assert notes[0] == f"{path}: left out 1 row with empty text (row 4)"


def test_json_lines_through_a_pipe_number_rows_from_one(tmp_path):
    from pmtype.tables import row_numbers
    assert row_numbers("-", 3, "jsonl") == [1, 2, 3]
    assert row_numbers("-", 2, "csv") == [2, 3]
    plain = tmp_path / "a.jsonl"
    plain.write_text('\n{"a": 1}\n\n{"a": 2}\n')
    assert row_numbers(plain, 2) == [2, 4]


def test_counts_in_messages_agree_with_their_words():
    from pmtype.errors import counted

    assert [counted(n, "row") for n in (0, 1, 2)] == ["0 rows", "1 row", "2 rows"]
    assert counted(1, "posting appears", "postings appear") == "1 posting appears"
    assert counted(7, "posting appears", "postings appear") == "7 postings appear"
