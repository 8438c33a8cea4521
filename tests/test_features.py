import gc
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer

from conftest import BUSINESS_POSTING, TECH_POSTING
from corpus import rows
from pmtype import config
from pmtype import model as model_module
from pmtype.features import (ARTICLE_FEATURES, ArticleFeatures, PreparePostings, as_posting_list, cue_key,
                             fewer_gc_passes, posting_text, role_texts, split_words)
from pmtype.model import build_label_pipeline
from pmtype.text import WORD


def _data():
    r = [x for x in rows() if x["label"] != "not_pm"]
    return [posting_text(x["description"], x["title"]) for x in r], np.array(
        [1 if x["label"] == "technical" else 0 for x in r])


def test_transformers_store_parameters_only():
    p = PreparePostings(drop_boilerplate=False, batch_size=8)
    assert p.get_params() == {"drop_boilerplate": False, "cue_path": None, "batch_size": 8, "max_chars": 100000}
    assert not hasattr(p, "finder_")
    a = ArticleFeatures(scale=2.0)
    assert clone(a).get_params() == {"scale": 2.0, "per_words": 200, "min_words": 50, "repeats": 2}
    assert clone(p).set_params(batch_size=4).get_params()["batch_size"] == 4


def test_prepare_must_be_fitted_first():
    with pytest.raises(NotFittedError):
        PreparePostings().transform(["Work with engineers."])


def test_article_features_count_cues_by_distinction_and_side():
    prepared = PreparePostings().fit([]).transform(["Work with engineers and QA. Own pricing."])
    X = ArticleFeatures(per_words=None).fit(prepared).transform(prepared).toarray()[0]
    got = dict(zip(ARTICLE_FEATURES, X))
    assert got["collaborators:technical"] == pytest.approx(np.log1p(2))
    assert got["focus:business"] == pytest.approx(np.log1p(1))
    assert got["research:business"] == 0


def test_article_features_count_cues_per_so_many_words():
    def neutral(rooms):  # 12 words a sentence, no cue; the sentences differ (repeats are read once)
        return " ".join(f"Room {n} has a view of the river and the old bridge." for n in rooms)

    cues = "Work with engineers and QA. Own pricing."  # 7 words, 3 cues
    prepared = PreparePostings().fit([]).transform([f"{cues} {neutral(range(20))}", f"{cues} {neutral(range(50))}", cues])
    assert [p.words.count(" ") + 1 for p in prepared] == [247, 607, 7]
    X = ArticleFeatures().fit(prepared).transform(prepared).toarray()
    column = ARTICLE_FEATURES.index("collaborators:technical")
    # 2 cues per 247 words, per 607 words, and in a text shorter than min_words (counted as 50 words)
    np.testing.assert_allclose(X[:, column], np.log1p([2 * 200 / 247, 2 * 200 / 607, 2 * 200 / 50]))
    assert X[0, ARTICLE_FEATURES.index("focus:business")] == pytest.approx(np.log1p(200 / 247))
    X2 = ArticleFeatures(per_words=100, min_words=10, scale=3.0).fit(prepared).transform(prepared).toarray()
    np.testing.assert_allclose(X2[:, column], 3.0 * np.log1p([2 * 100 / 247, 2 * 100 / 607, 2 * 100 / 10]))


def test_article_features_saved_before_per_words_keep_counting_per_posting():
    prepared = PreparePostings().fit([]).transform(["Work with engineers and QA. Own pricing. Engineers, engineers."])
    state = ArticleFeatures(scale=2.0).fit(prepared).__getstate__()
    del state["per_words"], state["min_words"], state["repeats"]  # as pickled by a pmtype without them
    old = ArticleFeatures.__new__(ArticleFeatures)
    old.__setstate__(state)
    assert old.get_params() == {"scale": 2.0, "per_words": None, "min_words": 50, "repeats": None}
    X = old.transform(prepared).toarray()[0]
    assert X[ARTICLE_FEATURES.index("collaborators:technical")] == pytest.approx(2.0 * np.log1p(4))
    assert ArticleFeatures().fit(prepared).transform([]).shape == (0, len(ARTICLE_FEATURES))
    fitted = ArticleFeatures().fit(prepared)
    np.testing.assert_allclose(fitted.transform(iter(prepared)).toarray(), fitted.transform(prepared).toarray())


def test_article_features_count_one_phrase_at_most_repeats_times():
    text = ("Own the roadmap for our APIs. Ship an API for partners. Keep the API fast. Version each API. "
            "Work with engineers and an engineer from QA. Own pricing.")
    prepared = PreparePostings().fit([]).transform([text])
    phrases = [c.phrase for c in prepared[0].cues if c.distinction == "focus" and c.side == "technical"]
    assert phrases == ["APIs", "API", "API", "API"]
    focus, collaborators = ARTICLE_FEATURES.index("focus:technical"), ARTICLE_FEATURES.index("collaborators:technical")
    capped = ArticleFeatures(per_words=None).fit(prepared).transform(prepared).toarray()[0]
    # "APIs" and "API" are one phrase, counted twice; "engineers" and "engineer" likewise, with QA
    assert capped[focus] == pytest.approx(np.log1p(2))
    assert capped[collaborators] == pytest.approx(np.log1p(3))
    every = ArticleFeatures(per_words=None, repeats=None).fit(prepared).transform(prepared).toarray()[0]
    assert every[focus] == pytest.approx(np.log1p(4))
    once = ArticleFeatures(per_words=None, repeats=1).fit(prepared).transform(prepared).toarray()[0]
    assert once[focus] == pytest.approx(np.log1p(1)) and once[collaborators] == pytest.approx(np.log1p(2))


def test_in_a_pipeline_clone_and_joblib_round_trip(tmp_path):
    X, y = _data()
    pipe = Pipeline([("prepare", PreparePostings()), ("article", ArticleFeatures()),
                     ("clf", LogisticRegression())])
    pipe.fit(X, y)
    assert (pipe.predict(X) == y).mean() > 0.9
    fresh = clone(pipe)
    assert not hasattr(fresh.named_steps["prepare"], "finder_")
    joblib.dump(pipe, tmp_path / "p.joblib")
    again = joblib.load(tmp_path / "p.joblib")
    np.testing.assert_allclose(again.predict_proba(X), pipe.predict_proba(X))


def test_full_label_pipeline_fits_and_is_deterministic():
    X, y = _data()
    a = build_label_pipeline().fit(X, y).predict_proba(X)
    b = clone(build_label_pipeline()).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(a, b)
    assert ((a[:, 1] >= 0.5) == y).mean() > 0.9


def test_prepared_words_are_the_role_texts_lower_cased_words():
    text = ("Senior Product Manager, Platform. Work with engineers on C++ services, CI/CD and Node.js APIs.\n"
            "We are an equal opportunity employer.")
    [kept] = PreparePostings().fit([]).transform([text])
    assert kept.words.split() == WORD.findall(kept.role_text.lower())
    assert {"c++", "ci/cd", "node.js", "apis", "engineers", "equal"} <= set(kept.words.split())
    assert split_words(kept.words) == kept.words.split()
    [dropped] = PreparePostings(drop_boilerplate=True).fit([]).transform([text])
    assert "equal opportunity" not in dropped.role_text.lower()
    assert dropped.words.split() == WORD.findall(dropped.role_text.lower())
    assert "c++" in dropped.words.split() and "equal" not in dropped.words.split()


def test_prepared_words_are_joined_by_single_spaces_and_counted_exactly():
    """Lines of no words (a rule, a bullet alone, another script) add no space: the article
    features count a posting's words by its spaces."""
    text = "---\nWork with engineers.\n•\n***\nOwn pricing and packaging.\n—\n日本語のテキスト"
    [p] = PreparePostings().fit([]).transform([text])
    assert p.words == "work with engineers own pricing and packaging"
    X = ArticleFeatures(min_words=1).fit([p]).transform([p]).toarray()[0]
    assert X[ARTICLE_FEATURES.index("collaborators:technical")] == pytest.approx(np.log1p(200 / 7))


def test_ngram_branch_keeps_technical_tokens_whole():
    X, y = _data()
    X = X + ["Partner with engineers on the C++ and CI/CD toolchain."] * 2
    y = np.concatenate([y, [1, 1]])
    pipe = build_label_pipeline().fit(X, y)
    vocab = pipe.named_steps["features"].transformer_list[1][1].steps[-1][1].vocabulary_
    assert "c++" in vocab and "ci/cd" in vocab


def test_an_older_pipeline_on_role_texts_still_fits_and_predicts():
    X, y = _data()
    old = Pipeline([("prepare", PreparePostings()),
                    ("ngrams", make_pipeline(FunctionTransformer(role_texts), TfidfVectorizer(min_df=2))),
                    ("clf", LogisticRegression())])
    old.fit(X, y)
    assert (old.predict(X) == y).mean() > 0.9


# --- fewer garbage-collector passes during the text step ---------------------------


@pytest.fixture
def default_thresholds():
    """The interpreter's usual collector settings for the test, and the caller's back after it."""
    before, enabled = gc.get_threshold(), gc.isenabled()
    gc.set_threshold(700, 10, 10)
    gc.enable()
    yield
    gc.set_threshold(*before)
    (gc.enable if enabled else gc.disable)()


def test_raises_the_first_threshold_for_the_block_and_puts_it_back(default_thresholds):
    with fewer_gc_passes():
        assert gc.get_threshold() == (config.GC_GEN0_THRESHOLD, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)


def test_puts_the_threshold_back_after_an_exception(default_thresholds):
    with pytest.raises(KeyboardInterrupt):
        with fewer_gc_passes(5000):
            assert gc.get_threshold() == (5000, 10, 10)
            raise KeyboardInterrupt
    assert gc.get_threshold() == (700, 10, 10)


def test_nested_blocks_and_a_callers_higher_threshold_are_left_alone(default_thresholds):
    with fewer_gc_passes(5000):
        with fewer_gc_passes(2000):  # lower than the caller's: no change, and none on the way out
            assert gc.get_threshold() == (5000, 10, 10)
        assert gc.get_threshold() == (5000, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)


@pytest.mark.parametrize("switch_off", [gc.disable, lambda: gc.set_threshold(0)])
def test_a_collector_the_caller_turned_off_stays_off(default_thresholds, switch_off):
    switch_off()
    before, enabled = gc.get_threshold(), gc.isenabled()
    with fewer_gc_passes():
        assert (gc.get_threshold(), gc.isenabled()) == (before, enabled)
    assert (gc.get_threshold(), gc.isenabled()) == (before, enabled)


def test_labelling_and_the_text_step_run_with_fewer_passes(default_thresholds, model, monkeypatch):
    """Both ways into the text step (a model's predict, and a pipeline's fit or transform) raise it."""
    seen = []
    finder = model.label_pipeline.named_steps["prepare"].finder_
    real = type(finder).find_in_sentences

    def recording(self, *args, **kwargs):
        seen.append(gc.get_threshold()[0])
        return real(self, *args, **kwargs)

    def recording_evidence(*args):
        seen.append(("evidence", gc.get_threshold()[0]))
        return real_evidence(*args)

    monkeypatch.setattr(type(finder), "find_in_sentences", recording)
    real_evidence = model_module._evidence
    monkeypatch.setattr(model_module, "_evidence", recording_evidence)
    predictions = model.predict([TECH_POSTING, BUSINESS_POSTING])
    assert [p.label for p in predictions] == ["technical", "business"]
    PreparePostings().fit([TECH_POSTING]).transform([TECH_POSTING])
    high = config.GC_GEN0_THRESHOLD
    assert seen == [high, ("evidence", high), ("evidence", high), high]
    assert gc.get_threshold() == (700, 10, 10)


@pytest.mark.parametrize("title", [None, float("nan"), "", "  ", "N/A", "null", " NaN ", "<b></b>", "&nbsp;"])
def test_a_title_cell_that_holds_no_title_adds_nothing(title):
    assert posting_text("Own the APIs with engineers.", title) == "Own the APIs with engineers."


def test_a_title_is_put_over_the_description():
    assert posting_text("Own the APIs.", " Product Manager, Platform ") == "Product Manager, Platform\n\nOwn the APIs."


@pytest.mark.parametrize("title", ["Senior Product Manager\nPayments", "Senior Product Manager\r\n  Payments\n",
                                   "<h2>Senior Product Manager</h2><p>Payments</p>",
                                   "<b>Senior</b> Product&nbsp;Manager<br/>Payments", "Senior\u2028Product Manager\tPayments"])
def test_a_title_is_the_posting_s_one_first_line_whatever_its_cell_holds(title):
    """Line breaks and markup in a title cell are folded: messages show a posting's first line as its title."""
    text = posting_text("Own the APIs.", title)
    assert text == "Senior Product Manager Payments\n\nOwn the APIs."
    assert text.splitlines()[0] == "Senior Product Manager Payments"


@pytest.mark.parametrize("description,title,what", [
    (b"Own the APIs.", None, "description"),
    ("Own the APIs.", bytearray(b"Product Manager"), "title"),
])
def test_posting_text_refuses_bytes_rather_than_read_their_repr(description, title, what):
    with pytest.raises(TypeError) as e:
        posting_text(description, title)
    assert str(e.value) == (f"posting_text takes the {what} as a str, not {type(description if what == 'description' else title).__name__}; "
                            "decode it first")


# --- postings given as a collection ----------------------------------------------------------

TECH = "Own our public APIs and SDK roadmap with engineers; CS degree"
BIZ = "Own pricing, packaging and go-to-market with sales and marketing; MBA"


@pytest.mark.parametrize("given", [[TECH, BIZ], (TECH, BIZ), np.array([TECH, BIZ], dtype=object),
                                   pd.Series([TECH, BIZ], index=[7, 3]), pd.DataFrame({"text": [TECH, BIZ]}),
                                   pd.DataFrame({"text": [TECH, BIZ]}).to_numpy(), (t for t in [TECH, BIZ])],
                         ids=["list", "tuple", "array", "Series", "DataFrame of one column", "array of one column",
                              "generator"])
def test_postings_come_as_a_list_an_array_a_series_or_one_column(given):
    assert as_posting_list(given) == [TECH, BIZ]


@pytest.mark.parametrize("given,what", [
    (pd.DataFrame({"description": [TECH, BIZ], "title": ["Product Manager"] * 2}), "a DataFrame of 2 columns"),
    (pd.DataFrame(index=[0, 1]), "a DataFrame of 0 columns"),
    (np.array([[TECH, "Product Manager"], [BIZ, "Product Manager"]], dtype=object),
     "a two-dimensional array of 2 columns"),
    ({"a": TECH, "b": BIZ}, "a dict"),
], ids=["DataFrame of two columns", "DataFrame of none", "array of two columns", "dict"])
def test_postings_are_never_read_from_column_names_or_keys(given, what):
    with pytest.raises(TypeError) as e:
        as_posting_list(given)
    assert str(e.value) == (f"give the postings as a list of texts or a pandas Series, not {what}; "
                            "build texts with pmtype.posting_text(description, title)")


@pytest.mark.parametrize("given", [TECH, np.array(TECH), np.squeeze(np.array([TECH], dtype=object))],
                         ids=["str", "array of no dimensions", "squeezed array of one"])
def test_one_string_is_not_a_list_of_postings(given):
    """Not even in an array of no dimensions, whose tolist() is the string: never its characters."""
    with pytest.raises(TypeError) as e:
        as_posting_list(given)
    assert str(e.value) == "give a list of postings, not one string (for one posting: pmtype.classify)"


def test_a_model_predicts_on_the_column_of_a_one_column_frame_and_refuses_a_wider_one(model):
    frame = pd.DataFrame({"description": [TECH, BIZ], "title": ["Product Manager"] * 2})
    by_list = [p.p_technical for p in model.predict([TECH, BIZ], force=True)]
    assert [p.p_technical for p in model.predict(frame[["description"]], force=True)] == by_list
    with pytest.raises(TypeError, match="not a DataFrame of 2 columns"):
        model.predict(frame)
    with pytest.raises(TypeError, match="not a dict"):
        model.predict({"description": TECH})
    with pytest.raises(TypeError, match="not a DataFrame of 2 columns"):  # the scikit-learn pipeline too
        model.label_pipeline.predict_proba(frame)


@pytest.mark.parametrize("given,what", [(None, "NoneType"), (5, "int"), (np.float64(0.5), "float")],
                         ids=["None", "int", "numpy number"])
def test_no_postings_at_all_is_one_clear_type_error(given, what):
    """predict(None) said "'NoneType' object is not iterable", from inside list()."""
    with pytest.raises(TypeError) as e:
        as_posting_list(given)
    assert str(e.value) == f"give the postings as a list of texts, not {what}"


# --- the n-gram branch's vectorizer -----------------------------------------------

_FIT_DOCS = ["work with backend engineers on the api", "own pricing with sales and marketing",
             "the api and the sdk", "pricing pricing and packaging", "engineers and sales"]
_NEW_DOCS = ["api api api and the unheard-of zyzzyva", "", "nothing known here at all", "sales, pricing; the sdk!"]


@pytest.mark.parametrize("params", [
    {},
    {"binary": True, "min_df": 2},
    {"tokenizer": split_words, "token_pattern": None, "lowercase": False},
    {"tokenizer": split_words, "token_pattern": None, "lowercase": False, "ngram_range": (1, 2)},
    {"sublinear_tf": True, "max_df": 0.9, "max_features": 5, "dtype": np.float32},
    {"ngram_range": (1, 3), "sublinear_tf": True},  # the scope check's titles
])
def test_the_counting_vectorizer_gives_scikit_learns_matrix(params):
    from pmtype.features import CountingTfidfVectorizer

    ours = CountingTfidfVectorizer(**params).fit(_FIT_DOCS)
    theirs = TfidfVectorizer(**params).fit(_FIT_DOCS)
    assert ours.vocabulary_ == theirs.vocabulary_
    for docs in (_NEW_DOCS, _FIT_DOCS, [""]):
        a, b = ours.transform(docs), theirs.transform(docs)
        assert type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape
        assert a.has_sorted_indices and (a != b).nnz == 0
    again = pickle.loads(pickle.dumps(clone(ours).fit(_FIT_DOCS)))
    assert (again.transform(_NEW_DOCS) != theirs.transform(_NEW_DOCS)).nnz == 0


def test_the_training_fingerprint_follows_the_article_features_settings(monkeypatch):
    from pmtype.model import training_fingerprint

    before = training_fingerprint()
    assert training_fingerprint() == before
    # config.ARTICLE_PER_WORDS changed (the default is read from it when pmtype is imported)
    monkeypatch.setattr(ArticleFeatures.__init__, "__defaults__", (1.0, 100, 50, 2))
    assert training_fingerprint() != before
    # config.ARTICLE_REPEATS changed
    monkeypatch.setattr(ArticleFeatures.__init__, "__defaults__", (1.0, 200, 50, 3))
    assert training_fingerprint() != before


def test_a_phrase_counts_at_most_repeats_times_in_any_plural_the_cues_match():
    # "latencies" and "strategies" are the cues "latency" and "growth strategy", as the matcher reads them
    text = ("Cut the latency. Halve the latency. Measure latencies. Chart latencies. "
            "Own the growth strategy. Write growth strategies. Share growth strategies.")
    prepared = PreparePostings().fit([]).transform([text])
    phrases = [c.phrase for c in prepared[0].cues]
    assert phrases == ["latency", "latency", "latencies", "latencies",
                       "growth strategy", "growth strategies", "growth strategies"]
    assert len({cue_key(c) for c in prepared[0].cues}) == 2
    capped = ArticleFeatures(per_words=None).fit(prepared).transform(prepared).toarray()[0]
    every = ArticleFeatures(per_words=None, repeats=None).fit(prepared).transform(prepared).toarray()[0]
    for c in prepared[0].cues[::4]:
        column = ARTICLE_FEATURES.index(f"{c.distinction}:{c.side}")
        assert every[column] > capped[column] == pytest.approx(np.log1p(2))
