"""Finding label mistakes (confident learning) and choosing what to label next."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from corpus import rows
from pmtype import text as text_mod
from pmtype.curation import (NEAR_DUPLICATE, LabelCheck, LabelIssue, check_labels, find_label_issues, pick_diverse,
                             suggest)
from pmtype.errors import BadOption, BadTrainingData, MissingColumn, NothingToSuggest, UnknownLabel
from pmtype.features import posting_text
from pmtype.training import read_labelled

SWAP = {"technical": "business", "business": "technical"}

# --- confident learning on given probabilities ---------------------------------------------


def test_find_label_issues_by_per_class_thresholds_ranked_by_margin():
    given = ["technical"] * 4 + ["business"] * 4
    p = [0.9, 0.8, 0.7, 0.1, 0.2, 0.3, 0.6, 0.95]
    issues, thresholds = find_label_issues(given, p)
    # thresholds: mean P(technical) of rows given technical, mean P(business) of rows given business
    assert thresholds == pytest.approx({"technical": 0.625, "business": 0.4875})
    # row 7 (given business, p 0.95) is the most suspicious, then row 3 (given technical, p 0.1);
    # row 6 (p 0.6) stays below the technical threshold, so it is not flagged
    assert [(i, s) for i, s, _, _ in issues] == [(7, "technical"), (3, "business")]
    assert issues[0][2:] == pytest.approx((0.95, 0.9))
    assert issues[1][2:] == pytest.approx((0.9, 0.8))


def test_no_row_is_an_issue_where_the_model_prefers_its_given_label():
    """A class the model is unsure of gets a threshold under 0.5, which rows the model still labels
    as given can reach: as in cleanlab, those are no issues."""
    given = ["technical"] * 3 + ["business"] * 3
    p = [0.9, 0.9, 0.55, 0.6, 0.6, 0.6]
    issues, thresholds = find_label_issues(given, p)
    assert thresholds == pytest.approx({"business": 0.4, "technical": 0.7833}, abs=1e-4)
    # row 2: P(business) 0.45 reaches business's threshold, P(technical) 0.55 misses technical's,
    # but technical is still the more probable label, as given
    assert issues == []
    issues, _ = find_label_issues(given, [0.9, 0.9, 0.45, 0.6, 0.6, 0.6])
    assert [(i, s) for i, s, _, _ in issues] == [(2, "business")]  # now the model prefers business


def test_find_label_issues_needs_both_labels():
    with pytest.raises(BadTrainingData) as e:
        find_label_issues(["technical", "technical"], [0.2, 0.9])
    assert str(e.value) == "checking labels needs rows of both labels; found no business rows with text (rows with empty text are left out)"


# --- check_labels on a corpus with known mistakes -------------------------------------------


def _flip(frame, k, seed):
    """Swap the labels of k/2 technical and k/2 business rows; return the frame and their file rows."""
    tech = frame[frame.label == "technical"].sample(k // 2, random_state=seed).index
    biz = frame[frame.label == "business"].sample(k // 2, random_state=seed + 100).index
    flipped = frame.copy()
    chosen = list(tech) + list(biz)
    flipped.loc[chosen, "label"] = flipped.loc[chosen, "label"].map(SWAP)
    return flipped, {i + 2 for i in chosen}


def test_check_labels_finds_most_flipped_labels(tmp_path):
    """Flip 6 of 50 labels (12%), four times over: measure recall and precision."""
    corpus = pd.DataFrame(rows(n_each=25))
    found = flagged = planted = 0
    for trial in range(4):
        frame, truth = _flip(corpus, 6, seed=trial)
        path = tmp_path / f"flipped{trial}.csv"
        frame.to_csv(path, index=False)
        check = check_labels(path)
        rows_flagged = [issue.row for issue in check.issues]
        planted += len(truth)
        found += len(truth & set(rows_flagged))
        flagged += len(rows_flagged)
        for issue in check.issues:
            assert issue.given == frame.label.iloc[issue.row - 2]
            assert issue.suggested == SWAP[issue.given]
            assert issue.confidence > 0.5
    recall, precision = found / planted, found / max(flagged, 1)
    print(f"check-labels found {found} of {planted} flipped labels (recall {recall:.2f}, precision {precision:.2f})")
    assert recall >= 0.75
    assert precision >= 0.8


def test_check_labels_reports_rows_as_in_the_file_with_evidence(tmp_path):
    frame = pd.DataFrame(rows(n_each=10))
    frame, truth = _flip(frame, 2, seed=0)
    blank = pd.DataFrame([{"id": "blank", "title": "Product Manager", "company": "Acme", "description": "  ",
                           "label": "technical"}])
    frame = pd.concat([blank, frame], ignore_index=True)  # every posting moves one row down
    truth = {r + 1 for r in truth}
    src = tmp_path / "labelled.csv"
    frame.to_csv(src, index=False)
    out = tmp_path / "issues.csv"
    check = check_labels(src, output=out)
    assert check.checked == 20 and check.output == str(out)
    # the file is the seed corpus (the tiny corpus, in the tests) with two labels flipped: the file's labels
    # are the ones checked, and no seed posting is added twice
    assert check.notes == [f"{src}: left out 1 row with empty text (row 2)",
                           f"{src}: left out 16 rows labelled not_pm (the check covers technical and business "
                           "postings)",
                           f"trained with 0 seed corpus postings besides yours (left out 20 that are also in {src})"]
    assert truth <= {i.row for i in check.issues}
    margins = [i.margin for i in check.issues]
    assert margins == sorted(margins, reverse=True)
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(written.columns) == ["row", "given_label", "suggested_label", "confidence", "margin",
                                     "evidence", "title"]
    assert written["row"].tolist() == [str(i.row) for i in check.issues]
    top = check.issues[0]
    assert ":" in top.evidence and top.evidence.split(":")[0] in {"focus", "collaborators", "research",
                                                                   "background", "planning"}


def test_check_labels_names_an_html_posting_by_its_words(tmp_path):
    """A posting given as HTML is named by its first line as pmtype reads it, not by its tags."""
    frame = pd.DataFrame(rows(n_each=10))
    frame, truth = _flip(frame, 2, seed=0)
    frame["description"] = [f"<h2>{i}  Product   Manager</h2><p>{d}</p>" for i, d in zip(frame.id, frame.description)]
    src = tmp_path / "labelled.csv"
    frame.drop(columns=["title"]).to_csv(src, index=False)
    check = check_labels(src, use_seed=False)
    assert truth <= {i.row for i in check.issues}
    assert [i.title for i in check.issues] == [f"{frame.id.iloc[i.row - 2]} Product Manager" for i in check.issues]


def test_check_labels_with_no_issues_writes_an_empty_table(tmp_path, corpus_csv):
    out = tmp_path / "issues.csv"
    check = check_labels(corpus_csv, output=out)
    assert check.issues == [] and check.checked > 0  # the tiny corpus's labels are all right
    written = pd.read_csv(out)
    assert len(written) == 0
    assert list(written.columns)[:3] == ["row", "given_label", "suggested_label"]


@pytest.mark.parametrize("frame,error,message", [
    (pd.DataFrame({"description": ["a", "b"], "label": ["technical", "maybe"]}), UnknownLabel,
     "{src}: 1 row has a label other than technical, business or not_pm (row 3; value 'maybe')"),
    (pd.DataFrame({"description": ["a", "b"], "label": ["technical", ""]}), UnknownLabel,
     "{src}: 1 row has no label (row 3)"),
    (pd.DataFrame({"description": ["a", "b"], "tag": ["technical", "business"]}), MissingColumn,
     "{src}: no label column 'label'; the columns are: description, tag; name one with --label-column"),
    (pd.DataFrame({"words": ["a", "b"], "label": ["technical", "business"]}), MissingColumn,
     "{src}: no text column found (looked for description, job_description, jobdescription, "
     "description_text, text, body, …); the columns are: words, label; name one with --text-column"),
    (pd.DataFrame({"description": [f"posting {i}" for i in range(9)], "label": ["business"] * 9}),
     BadTrainingData, "checking labels needs rows of both labels; found no technical rows with text (rows with empty text are left out)"),
    (pd.DataFrame({"description": ["same text", "other", "Same  text"], "label": ["technical", "business", "business"]}),
     BadTrainingData, "1 posting appears twice with different labels (the first: 'Same text' in {src}, rows 2 and 4); "
                      "fix the labels and run check-labels again"),
    (pd.DataFrame({"description": [f"posting {i}" for i in range(3)], "label": ["not_pm"] * 3}),
     BadTrainingData, "checking labels needs rows of both labels; {src} has no technical or business rows with text "
                      "(3 not_pm rows are not checked)"),
    (pd.DataFrame({"description": ["posting 0"], "label": ["not_pm"]}),
     BadTrainingData, "checking labels needs rows of both labels; {src} has no technical or business rows with text "
                      "(1 not_pm row is not checked)"),
    (pd.DataFrame({"description": ["", " "], "label": ["technical", "business"]}),
     BadTrainingData, "checking labels needs rows of both labels; {src} has no technical or business rows with text"),
    (pd.DataFrame({"description": ["Own our public APIs and SDK roadmap with engineers; CS degree"] * 2,
                   "label": ["technical", "business"]}),
     BadOption, "the text column 'label' is the label column; give the postings' text column with --text-column"),
])
def test_check_labels_refuses_bad_input(tmp_path, frame, error, message):
    src = tmp_path / "bad.csv"
    frame.to_csv(src, index=False)
    with pytest.raises(error) as e:
        check_labels(src, text_column="label" if error is BadOption else None)
    assert str(e.value) == message.format(src=src)


def test_find_label_issues_without_either_label_says_so():
    with pytest.raises(BadTrainingData) as e:
        find_label_issues([], [])
    assert str(e.value) == "checking labels needs rows of both labels; found no technical or business rows with text"


def test_the_label_check_table_has_the_same_types_with_issues_or_none(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pmtype import tables

    issue = LabelIssue(3, "technical", "business", 0.9123, 0.8246, "focus:business(pricing)", "Product Manager")
    schemas = []
    for issues in ([], [issue]):
        frame = LabelCheck("x.csv", 2, {}, issues).frame()
        assert list(frame.columns) == list(LabelCheck.COLUMNS) and len(frame) == len(issues)
        assert frame["row"].dtype == "int64" and frame["confidence"].dtype == frame["margin"].dtype == "float64"
        texts = ("given_label", "suggested_label", "evidence", "title")
        assert all(pd.api.types.is_string_dtype(frame[c]) for c in texts)
        out = tmp_path / f"suspects{len(issues)}.parquet"
        with tables.atomic_output(out, "parquet") as writer:
            writer.write(frame)
        schemas.append(pq.read_schema(out))
    none, one = ([schema.field(c).type for c in LabelCheck.COLUMNS] for schema in schemas)
    assert none == one
    assert str(one[0]) == "int64" and str(one[3]) == str(one[4]) == "double"
    assert all(pa.types.is_string(t) or pa.types.is_large_string(t) for t in one[1:3] + one[5:])


def test_check_labels_with_no_issues_writes_whole_row_numbers_to_parquet(tmp_path, corpus_csv):
    import pyarrow.parquet as pq

    out = tmp_path / "issues.parquet"
    check = check_labels(corpus_csv, output=out)
    assert check.issues == []
    assert str(pq.read_schema(out).field("row").type) == "int64"


# --- suggest ----------------------------------------------------------------------------------

MIXED = ("About the role\n- Own the public REST APIs and SDKs with the engineers.\n"
         "- Own pricing, packaging and positioning with marketing and sales.\n"
         "- Own the product roadmap and write user stories for the backlog.")


def _pool(tmp_path, copies=8):
    """Unlabelled postings: new corpus-like ones, not-PM ones, an empty one, and near-copies of one close call."""
    frame = pd.DataFrame(rows(n_each=12, seed=99)).drop(columns=["label"])
    near = pd.DataFrame([{"id": f"m{i}", "title": "Product Manager", "company": "Acme",
                          "description": MIXED + f"\n- Team {i}."} for i in range(copies)])
    frame = pd.concat([frame, near], ignore_index=True)
    frame.loc[1, "description"] = ""
    path = tmp_path / "pool.csv"
    frame.to_csv(path, index=False)
    return frame, path


def _role_vectors(frame):
    texts = [text_mod.role_text(text_mod.normalise(posting_text(d, t))) for d, t in zip(frame.description, frame.title)]
    return TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform(texts)


def test_suggest_picks_uncertain_varied_postings(tmp_path, model_dir):
    frame, src = _pool(tmp_path)
    out = tmp_path / "next.csv"
    s = suggest(src, n=10, output=out, model=model_dir)
    assert len(s.frame) == 10 and s.output == str(out)
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(written.columns) == ["id", "title", "company", "description", "label", "p_technical"]
    assert set(written["label"]) == {""}
    assert written["p_technical"].str.fullmatch(r"[01]\.\d{4}").all()  # four decimals in CSV
    p = written["p_technical"].astype(float)
    assert p.between(0, 1).all()
    assert s.frame["p_technical"].dtype == "float64" and s.frame["p_technical"].tolist() == p.tolist()
    # the close call comes first, and only one of its near-copies is picked
    assert written["id"].iloc[0].startswith("m")
    assert sum(i.startswith("m") for i in written["id"]) == 1
    # no two picks are near-copies
    sims = (_role_vectors(written) @ _role_vectors(written).T).toarray()
    np.fill_diagonal(sims, 0)
    assert sims.max() < NEAR_DUPLICATE
    # not-PM postings and the empty one are left out, and counted
    assert not written["id"].str.startswith("n").any()
    assert s.left_out["not a PM posting"] == 16 and s.left_out["empty text"] == 1
    assert s.left_out["near-copies of picked postings"] >= 7
    assert s.rows == [frame.index[frame.id == i][0] + 2 for i in written["id"]]
    assert s.line().startswith(f"suggested 10 of {s.candidates} candidate postings (model tiny-")


def test_suggestions_filled_in_are_training_data(tmp_path, model_dir):
    _, src = _pool(tmp_path)
    out = tmp_path / "next.csv"
    suggest(src, n=5, output=out, model=model_dir)
    with pytest.raises(UnknownLabel) as e:
        read_labelled(out)
    assert str(e.value) == f"{out}: 5 rows have no label (rows 2, 3, 4, 5, 6)"
    filled = pd.read_csv(out)
    filled["label"] = ["technical", "business", "technical", "business", "technical"]
    filled.to_csv(out, index=False)
    data, notes = read_labelled(out)
    assert len(data.texts) == 5 and notes == []


def test_suggest_leaves_out_rows_that_already_have_a_label(tmp_path, model_dir):
    frame, _ = _pool(tmp_path)
    frame["Label"] = ""
    frame.loc[frame.id.str.startswith("t"), "Label"] = "technical"
    src = tmp_path / "partly.csv"
    frame.to_csv(src, index=False)
    s = suggest(src, n=50, model=model_dir)
    assert s.left_out["already labelled"] == 12
    assert not s.frame["id"].str.startswith("t").any()
    assert set(s.frame["Label"]) == {""} and "label" not in s.frame.columns
    assert len(s.frame) < 50  # fewer candidates than asked for: all of them that are not near-copies


def test_suggest_leaves_out_unlabelled_copies_of_a_labelled_posting_and_counts_them(tmp_path, model_dir):
    frame, _ = _pool(tmp_path)
    frame["label"] = ""
    frame.loc[frame.id.isin(["t0", "t1"]), "label"] = "technical"
    again = frame[frame.id.isin(["t0", "t1"])].assign(label="", id=["c0", "c1"])
    again["description"] = [d.upper() for d in again["description"]]  # the same words, as train reads them
    retitled = frame[frame.id == "t0"].assign(label="", id="c2", title="Another title")  # another posting
    src = tmp_path / "partly.csv"
    pd.concat([frame, again, retitled], ignore_index=True).to_csv(src, index=False)
    s = suggest(src, n=50, model=model_dir)
    assert s.left_out["already labelled"] == 2 and s.left_out["copies of labelled postings"] == 2
    assert not {"c0", "c1"} & set(s.frame["id"])
    assert "; already labelled: 2; copies of labelled postings: 2" in s.line()
    small = tmp_path / "small.csv"
    pd.concat([frame[frame.id.isin(["t0", "t3"])], again[again.id == "c0"]]).to_csv(small, index=False)
    s = suggest(small, n=5, model=model_dir)
    assert s.line() == (f"suggested 1 of 1 candidate posting (model {s.model_id}); left out: already labelled: 1; "
                        "copies of labelled postings: 1")
    pd.concat([frame[frame.id == "t0"], again[again.id == "c0"]]).to_csv(small, index=False)
    with pytest.raises(NothingToSuggest) as e:
        suggest(small, n=5, model=model_dir)
    assert str(e.value) == (f"{small}: no posting left to suggest (2 rows: already labelled 1, "
                            "copies of labelled postings 1)")


def test_suggest_reads_cells_as_label_does_and_numbers_json_lines_rows_from_1(tmp_path, model_dir):
    frame, _ = _pool(tmp_path)
    junk = pd.DataFrame({"id": ["x1", "x2", "x3"], "title": ["Product Manager"] * 3, "company": [""] * 3,
                         "description": ["12345", "NaN", "N/A"]})
    frame = pd.concat([junk, frame], ignore_index=True)
    src = tmp_path / "pool.jsonl"
    frame.to_json(src, orient="records", lines=True)
    s = suggest(src, n=50, model=model_dir)
    assert not s.frame["id"].str.startswith("x").any()
    assert s.left_out["not text"] == 1 and s.left_out["empty text"] == 1 + 2  # the pool's own empty one too
    assert s.rows == [frame.index[frame.id == i][0] + 1 for i in s.frame["id"]]  # JSON Lines: line numbers


def test_suggest_leaves_out_postings_in_another_language(tmp_path, model_dir):
    frame, _ = _pool(tmp_path)
    german = pd.DataFrame({"id": ["g1"], "title": ["Produktmanagerin"], "company": ["Acme"],
                           "description": ["Du verantwortest die Preisgestaltung und die Positionierung unserer "
                                           "Produkte gemeinsam mit Vertrieb, Marketing und Finanzen, und du "
                                           "führst Gespräche mit Kunden über ihre Bedürfnisse."]})
    src = tmp_path / "pool.csv"
    pd.concat([german, frame], ignore_index=True).to_csv(src, index=False)
    s = suggest(src, n=50, model=model_dir)
    assert s.left_out["not English"] == 1 and "g1" not in set(s.frame["id"])
    # a model that reads fewer characters than the posting holds says so after its status
    # ("not English; truncated to 150 characters"): still not English, still left out
    from pmtype.model import load_model

    model = load_model(model_dir)
    model.label_pipeline.named_steps["prepare"].max_chars = 150
    read = posting_text(german.description[0], german.title[0])
    assert model.predict([read])[0].status == "not English; truncated to 150 characters"
    s = suggest(src, n=50, model=model)
    assert s.left_out["not English"] == 1 and "g1" not in set(s.frame["id"])


@pytest.mark.parametrize("texts,counts", [(["", "  "], "2 rows: empty text 2"), (["N/A"], "1 row: empty text 1")])
def test_suggest_with_nothing_left(tmp_path, model_dir, texts, counts):
    src = tmp_path / "none.csv"
    pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "description": texts}).to_csv(src, index=False)
    with pytest.raises(NothingToSuggest) as e:
        suggest(src, n=5, model=model_dir)
    assert str(e.value) == f"{src}: no posting left to suggest ({counts})"


@pytest.mark.parametrize("options,message", [
    ({"n": 0}, "-n must be at least 1"),
    ({"n": -3}, "-n must be at least 1"),
    ({"n": 2.5}, "-n must be a whole number, at least 1"),
    ({"n": True}, "-n must be a whole number, at least 1"),
    ({"n": "5"}, "-n must be a whole number, at least 1"),
    ({"diversity": float("nan")}, "--diversity must be a number, at least 0"),
    ({"diversity": -0.1}, "--diversity must be a number, at least 0"),
    ({"diversity": float("inf")}, "--diversity must be a number, at least 0"),
    ({"diversity": True}, "--diversity must be a number, at least 0"),
    ({"diversity": "0.5"}, "--diversity must be a number, at least 0"),
    ({"near_duplicate": 0}, "near_duplicate must be a cosine similarity, above 0 and at most 1"),
    ({"near_duplicate": -1}, "near_duplicate must be a cosine similarity, above 0 and at most 1"),
    ({"near_duplicate": 1.5}, "near_duplicate must be a cosine similarity, above 0 and at most 1"),
    ({"near_duplicate": float("nan")}, "near_duplicate must be a cosine similarity, above 0 and at most 1"),
    ({"near_duplicate": True}, "near_duplicate must be a cosine similarity, above 0 and at most 1"),
])
def test_suggest_checks_its_options_as_the_command_does(tmp_path, options, message):
    """Before anything is read: no model, no file is needed to be told."""
    with pytest.raises(BadOption) as e:
        suggest(tmp_path / "absent.csv", model=tmp_path / "no-model", **options)
    assert str(e.value) == message


def test_suggest_takes_whole_numbers_of_any_kind_and_a_diversity_of_zero(tmp_path, model_dir):
    _, src = _pool(tmp_path)
    assert len(suggest(src, n=np.int64(2), diversity=0, model=model_dir).frame) == 2


@pytest.mark.parametrize("options,what", [({"text_column": "label"}, "text"), ({"title_column": "Label"}, "title")])
def test_suggest_refuses_the_label_column_as_the_postings_text(tmp_path, model_dir, options, what):
    frame, _ = _pool(tmp_path)
    frame["label"] = ""
    src = tmp_path / "pool.csv"
    frame.to_csv(src, index=False)
    with pytest.raises(BadOption) as e:
        suggest(src, model=model_dir, **options)
    assert str(e.value) == (f"the {what} column 'label' is the label column; "
                            f"give the postings' {what} column with --{what}-column")


def test_suggest_reads_missing_value_markers_in_the_label_column_as_no_label(tmp_path, model_dir):
    """As train does: N/A, null, NaN, None are empty cells, not labels."""
    frame, _ = _pool(tmp_path)
    frame["label"] = ""
    frame.loc[frame.id.str.startswith("t"), "label"] = ["N/A", "null", "NaN", "None", " n/a "] + ["technical"] * 7
    src = tmp_path / "partly.csv"
    frame.to_csv(src, index=False)
    s = suggest(src, n=50, model=model_dir)
    assert s.left_out["already labelled"] == 7
    assert {"t0", "t1", "t2", "t3", "t4"} & set(s.frame["id"])  # the unlabelled ones can be suggested


def test_pick_diverse_skips_near_copies_and_trades_uncertainty_for_variety():
    vectors = sp.csr_matrix(np.array([
        [1.0, 0.0, 0.0],
        [1.0, 0.0, 0.0],  # a copy of row 0
        [0.8, 0.6, 0.0],  # like row 0 (cosine 0.8)
        [0.0, 0.0, 1.0],
    ]))
    uncertainty = np.array([0.9, 0.9, 0.85, 0.6])
    assert pick_diverse(uncertainty, vectors, 2, diversity=0.5) == [0, 3]
    assert pick_diverse(uncertainty, vectors, 2, diversity=0.0) == [0, 2]
    assert pick_diverse(uncertainty, vectors, 10, diversity=0.5) == [0, 3, 2]


# --- the out-of-fold machinery both training and check_labels use -------------------------------


def _pm_corpus(n_each=10, seed=7):
    frame = pd.DataFrame(rows(n_each=n_each, seed=seed))
    frame = frame[frame.label != "not_pm"]
    return [posting_text(d, t) for d, t in zip(frame.description, frame.title)], frame.label.tolist()


def test_shared_ngram_counts_give_each_fold_the_features_the_pipeline_would():
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import Pipeline

    from pmtype.model import _SharedNgrams, build_label_pipeline

    texts, labels = _pm_corpus(15)
    pipeline = build_label_pipeline()
    prepared = pipeline.named_steps["prepare"].fit(texts).transform(texts)
    X = np.empty(len(prepared), dtype=object)
    X[:] = prepared
    y = np.array([v == "technical" for v in labels], dtype=int)
    for max_features in (None, 40):  # 40: the max_features limit binds
        rest = Pipeline(pipeline.steps[1:])
        rest.set_params(features__ngrams__tfidfvectorizer__max_features=max_features)
        shared = _SharedNgrams.plan(rest, X)
        for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
            fast_train, fast_test = shared.fold_features(train, test)
            features = clone(rest.named_steps["features"])
            slow_train = features.fit_transform(X[train])
            slow_test = features.transform(X[test])
            assert fast_train.shape == slow_train.shape and fast_test.shape == slow_test.shape
            assert abs(fast_train - slow_train).max() < 1e-6 and abs(fast_test - slow_test).max() < 1e-6


def test_a_pipeline_of_another_shape_is_fitted_fold_by_fold():
    from sklearn.pipeline import Pipeline

    from pmtype.model import _SharedNgrams, build_label_pipeline

    rest = Pipeline(build_label_pipeline().steps[1:])
    rest.set_params(features__ngrams__tfidfvectorizer__vocabulary=["api", "pricing"])
    assert _SharedNgrams.plan(rest, np.empty(0, dtype=object)) is None


def test_cross_fit_gives_the_same_answer_shared_or_not_cached_or_not_in_one_process_or_two(tmp_path, monkeypatch):
    from pmtype.cues import CueFinder
    from pmtype.model import cross_fit

    texts, labels = _pm_corpus(10)
    plain = cross_fit(texts, labels, jobs=1, shared_counts=False)
    read = []
    real = CueFinder.find_in_sentences
    monkeypatch.setattr(CueFinder, "find_in_sentences",
                        lambda self, t, s, w=None: read.append(len(t)) or real(self, t, s, w))
    first = cross_fit(texts, labels, jobs=1, cue_cache=tmp_path / "cache")
    assert sum(read) == 20
    import joblib

    pools, real_parallel = [], joblib.Parallel

    class CountedParallel(real_parallel):
        def __init__(self, *args, **kwargs):
            pools.append(kwargs.get("n_jobs"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(joblib, "Parallel", CountedParallel)
    again = cross_fit(texts + [texts[0] + "\nAnd SQL."], labels + [labels[0]], jobs=2, cue_cache=tmp_path / "cache")
    assert pools == [2]  # the folds were fitted in two processes
    monkeypatch.setattr(joblib, "Parallel", real_parallel)
    assert sum(read) == 21  # only the new posting was read again
    assert np.allclose(first.p_out_of_fold, plain.p_out_of_fold, atol=1e-9)
    in_one = cross_fit(texts + [texts[0] + "\nAnd SQL."], labels + [labels[0]], jobs=1, shared_counts=False)
    assert np.allclose(again.p_out_of_fold, in_one.p_out_of_fold, atol=1e-9)
    # a damaged cache is read up to the damage; the rest is read again and the file written afresh
    (cache_file,) = (tmp_path / "cache").glob("cues-*.jsonl.gz")
    cache_file.write_bytes(cache_file.read_bytes()[:-20])
    read.clear()
    import os

    from pmtype import persist

    renamed, replace = [], os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (renamed.append(os.path.basename(src)), replace(src, dst)))
    third = cross_fit(texts + [texts[0] + "\nAnd SQL."], labels + [labels[0]], jobs=1, cue_cache=tmp_path / "cache")
    assert np.allclose(third.p_out_of_fold, in_one.p_out_of_fold, atol=1e-9)
    assert sum(read) == 1
    # written afresh through a temporary name that the models folder's sweep knows
    (temporary,) = renamed
    assert temporary.startswith(f".{cache_file.name}.{os.getpid()}-{persist.HOST_TAG}.")
    assert persist.TEMPORARY_NAME.fullmatch(temporary)["name"] == cache_file.name
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [cache_file.name]
    read.clear()
    cross_fit(texts, labels, jobs=1, cue_cache=tmp_path / "cache")
    assert read == []


def test_cross_fit_trains_every_fold_and_the_final_model_on_the_train_only_postings(monkeypatch):
    import pmtype.model as model_mod
    from pmtype.model import cross_fit

    texts, labels = _pm_corpus(10)
    more_texts, more_labels = _pm_corpus(40, seed=8)
    alone = cross_fit(texts, labels, jobs=1)
    assert np.array_equal(cross_fit(texts, labels, jobs=1, train_only=([], [])).p_out_of_fold, alone.p_out_of_fold)
    folds, finals = [], []
    fit_fold, fit_rest = model_mod._fit_fold_shared, model_mod._fit_rest
    monkeypatch.setattr(model_mod, "_fit_fold_shared",
                        lambda shared, clf, y, train, test: folds.append((y, train, test)) or fit_fold(shared, clf, y, train, test))
    monkeypatch.setattr(model_mod, "_fit_rest", lambda rest, X, y: finals.append(y) or fit_rest(rest, X, y))
    wrong = [SWAP[y] for y in more_labels]  # labelled the other way round
    pulled = cross_fit(texts, labels, jobs=1, train_only=(more_texts, wrong))
    n, extra = len(texts), np.arange(len(texts), len(texts) + len(more_texts))
    y_all = np.array([v == "technical" for v in labels + wrong], dtype=int)
    assert len(folds) == 5 and len(finals) == 1 and np.array_equal(finals[0], y_all)
    for y, train, test in folds:
        assert np.array_equal(y, y_all)
        assert np.isin(extra, train).all() and (test < n).all() and not np.isin(test, train).any()
    assert sorted(np.concatenate([test for _, _, test in folds]).tolist()) == list(range(n))
    # only the given postings have out-of-fold probabilities; the swapped ones pull them the wrong way
    assert len(pulled.p_out_of_fold) == n and pulled.labels.tolist() == labels
    p_given = lambda fit: np.where(np.array(labels) == "technical", fit.p_out_of_fold, 1 - fit.p_out_of_fold)
    assert p_given(alone).mean() > 0.8 and p_given(pulled).mean() < 0.5


def _seed_corpus_labelled_the_wrong_way(tmp_path, monkeypatch):
    """80 technical and business postings, every label swapped, titled so that they can be told apart."""
    seed = pd.DataFrame(rows(n_each=40, seed=8))
    seed["label"] = seed["label"].replace(SWAP)
    seed.loc[seed.label != "not_pm", "title"] = "Product Manager (seed corpus)"
    path = tmp_path / "seed.csv"
    seed.to_csv(path, index=False)
    monkeypatch.setenv("PMTYPE_SEED_CORPUS", str(path))
    return seed


def test_check_labels_with_seed_trains_on_the_seed_corpus_but_checks_only_the_files_rows(tmp_path, monkeypatch):
    import pmtype.curation as curation

    seed = _seed_corpus_labelled_the_wrong_way(tmp_path, monkeypatch)
    frame = pd.DataFrame(rows(n_each=8, seed=3)).query("label != 'not_pm'")
    twin = seed.iloc[[0]].assign(label=SWAP[seed.label.iloc[0]])  # a seed posting, in the file with its right label
    frame = pd.concat([frame, twin], ignore_index=True)
    src = tmp_path / "mine.csv"
    frame.to_csv(src, index=False)
    trained_also = []
    real = curation.cross_fit
    monkeypatch.setattr(curation, "cross_fit", lambda *a, **k: trained_also.append(k["train_only"]) or real(*a, **k))

    alone = check_labels(src, use_seed=False)
    assert trained_also == [None] and alone.issues == []
    with_seed = check_labels(src)  # the seed corpus is added by default, as train adds it
    seed_pm = seed[seed.label != "not_pm"].iloc[1:]  # all but the twin, whose label in the file is the one checked
    assert trained_also[1] == ([posting_text(d, t) for d, t in zip(seed_pm.description, seed_pm.title)],
                               seed_pm.label.tolist())
    assert with_seed.notes == [f"trained with 79 seed corpus postings besides yours (left out 1 that are also in {src})"]
    # trained mostly on swapped labels, the folds dispute the file's right labels: but only the file's rows are listed
    assert with_seed.checked == 17
    assert len(with_seed.issues) >= 12
    assert {i.row for i in with_seed.issues} <= set(range(2, 19))
    for issue in with_seed.issues:
        assert issue.given == frame.label.iloc[issue.row - 2]
        assert issue.title == frame.title.iloc[issue.row - 2]
    assert with_seed.thresholds.keys() == {"business", "technical"}


def test_with_the_seed_corpus_a_file_needs_only_both_labels_and_a_posting_per_fold(tmp_path, monkeypatch):
    seed = pd.DataFrame(rows(n_each=20, seed=8))
    seed.to_csv(tmp_path / "seed.csv", index=False)
    monkeypatch.setenv("PMTYPE_SEED_CORPUS", str(tmp_path / "seed.csv"))
    frame = pd.DataFrame(rows(n_each=3, seed=3)).query("label != 'not_pm'").iloc[:5]  # 3 technical, 2 business
    assert sorted(frame.label) == ["business"] * 2 + ["technical"] * 3
    src = tmp_path / "mine.csv"
    frame.to_csv(src, index=False)
    check = check_labels(src)
    assert check.checked == 5 and check.thresholds.keys() == {"business", "technical"}
    assert {i.row for i in check.issues} <= set(range(2, 7))
    with pytest.raises(BadTrainingData) as e:
        check_labels(src, use_seed=False)  # alone, the file is far too small to train on
    assert str(e.value) == "training needs at least 7 postings of each label; found technical 3, business 2"
    frame.iloc[:4].to_csv(src, index=False)
    with pytest.raises(BadTrainingData) as e:
        check_labels(src)
    assert str(e.value) == "cross-validation needs at least 5 postings, one for each fold; found 4"


def test_check_labels_needs_the_seed_corpus_unless_told_not_to_use_it(tmp_path, monkeypatch):
    from pmtype.errors import BadInputFile

    src = tmp_path / "mine.csv"
    pd.DataFrame(rows(n_each=8)).to_csv(src, index=False)
    monkeypatch.setenv("PMTYPE_SEED_CORPUS", str(tmp_path / "gone.csv"))
    with pytest.raises(BadInputFile) as e:
        check_labels(src)
    assert str(e.value) == (f"PMTYPE_SEED_CORPUS names {tmp_path / 'gone.csv'}, which does not exist; point "
                            "PMTYPE_SEED_CORPUS at the seed corpus file, or unset it")
    assert check_labels(src, use_seed=False).checked == 16


@pytest.mark.parametrize("folds", [0, 1])
def test_check_labels_needs_two_folds_at_least(corpus_csv, folds):
    with pytest.raises(BadTrainingData) as e:
        check_labels(corpus_csv, cv_folds=folds)
    assert str(e.value) == f"cross-validation needs at least 2 folds; asked for {folds}"


def test_suggest_writes_the_probability_as_a_number_in_json_lines(tmp_path, model_dir):
    import json

    _, src = _pool(tmp_path)
    s = suggest(src, n=3, output=tmp_path / "next.jsonl", model=model_dir)
    got = [json.loads(line)["p_technical"] for line in (tmp_path / "next.jsonl").read_text().splitlines()]
    assert got == s.frame["p_technical"].tolist() and all(isinstance(p, float) for p in got)


def test_the_cue_cache_is_keyed_by_the_not_cues_too(tmp_path):
    """Editing only the not-cue phrases changes which cues are found: a cache keyed without
    them would hand back the old cues."""
    import json

    from pmtype.cues import _cue_file
    from pmtype.features import PreparePostings
    from pmtype.model import _CueCache

    data = _cue_file(None)
    plain = tmp_path / "cues.json"
    plain.write_text(json.dumps(data), encoding="utf-8")
    fewer = tmp_path / "fewer.json"
    fewer.write_text(json.dumps({**data, "_not_cues": {"phrases": ["job security"]}}), encoding="utf-8")
    keys = {_CueCache.fingerprint(PreparePostings(cue_path=str(p))) for p in (plain, fewer)}
    assert len(keys) == 2
    again = _CueCache.fingerprint(PreparePostings(cue_path=str(plain)))
    assert again in keys


def test_the_cue_cache_is_keyed_by_the_lemma_tables_version(monkeypatch):
    """Another spacy-lookups-data can inflect the cues differently: its cues are not the cached ones."""
    import importlib.metadata

    from pmtype.features import PreparePostings
    from pmtype.model import _CueCache

    before = _CueCache.fingerprint(PreparePostings())
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version",
                        lambda name: "0.0.1" if name == "spacy-lookups-data" else real(name))
    assert _CueCache.fingerprint(PreparePostings()) != before
