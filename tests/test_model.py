import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import BUSINESS_POSTING, TECH_POSTING
from pmtype import classify
from pmtype.errors import EmptyText
from pmtype.features import MISSING_MARKERS, posting_text
from pmtype.model import STATUS_NOT_ENGLISH, STATUS_NOT_PM, normalise_label


def test_classify_technical_and_business(model):
    t = classify(TECH_POSTING, model=model)
    b = classify(BUSINESS_POSTING, model=model)
    assert t.label == "technical" and t.p_technical > 0.5
    assert b.label == "business" and b.p_technical < 0.5
    assert t.status in ("ok", "uncertain") and t.model_id == model.model_id


def test_blank_text_is_an_error(model):
    with pytest.raises(EmptyText):
        classify("   \n ", model=model)


ONE_DISTINCTION = {
    ("focus", "technical"): "Own the APIs, SDKs, data pipelines and the platform's scalability.",
    ("focus", "business"): "Own pricing, packaging, positioning and revenue growth.",
    ("collaborators", "technical"): "Work every day with engineers, developers, architects and QA.",
    ("collaborators", "business"): "Work every day with marketing, sales, finance and legal.",
    ("background", "technical"): "A computer science degree, SQL and Python are required.",
    ("background", "business"): "An MBA and a background in consulting are required.",
    ("research", "technical"): "Track emerging technologies and judge technical feasibility, build vs buy.",
    ("research", "business"): "Study the competitive landscape, run market research and customer interviews.",
    ("planning", "technical"): "Weigh technical debt against new work and estimate effort.",
    ("planning", "business"): "Prioritise by revenue impact, market opportunity and customer value.",
}


@pytest.mark.parametrize("distinction,side", sorted(ONE_DISTINCTION))
def test_evidence_agrees_with_the_model(model, distinction, side):
    """A posting that fires one distinction shows that distinction leaning the way it pushed."""
    text = "Product Manager\n\nAbout the role\n" + ONE_DISTINCTION[(distinction, side)]
    pred = model.predict([text], force=True)[0]
    shown = {e.distinction: e for e in pred.evidence}
    assert set(shown) == {distinction}
    e = shown[distinction]
    assert e.lean == side
    # The lean shown is the direction this distinction's column pushed the model.
    weight = model.article_weights()[f"{distinction}:{side}"]
    assert ("technical" if weight > 0 else "business") == e.lean
    assert all(text[p["start"] : p["end"]] == p["phrase"] for p in e.phrases)
    assert pred.evidence_compact().startswith(f"{distinction}:{side}(")


def test_not_pm_postings_are_set_aside_unless_forced(model):
    text = posting_text("Plan lessons for a third-grade classroom, assess student progress, "
                        "and communicate with parents each term.", "Elementary School Teacher")
    pred = model.predict([text])[0]
    assert pred.status == STATUS_NOT_PM and pred.label is None
    forced = model.predict([text], force=True)[0]
    assert forced.label in ("technical", "business")


GERMAN_POSTING = (
    "Produktmanager Zahlungsplattform\n\nDeine Aufgaben\n- Du verantwortest unsere öffentlichen Schnittstellen "
    "gemeinsam mit den Entwicklern und dem QA-Team.\n- Du schreibst technische Spezifikationen und schätzt den "
    "Aufwand mit der technischen Leitung.\n- Ein Studium der Informatik setzen wir voraus.\n"
)


def test_postings_in_another_language_are_set_aside_unless_forced(model):
    pred, english = model.predict([GERMAN_POSTING, TECH_POSTING])
    assert pred.status == STATUS_NOT_ENGLISH and pred.label is None
    assert pred.p_technical is not None and pred.text.startswith("Produktmanager")  # scored all the same
    assert english.status in ("ok", "uncertain") and english.label == "technical"
    forced = model.predict([GERMAN_POSTING], force=True)[0]
    assert forced.label in ("technical", "business") and forced.status in ("ok", "uncertain")


def test_a_model_saved_before_the_language_check_reads_english_only(model):
    import copy

    old = copy.copy(model)
    del old.english_only  # as unpickled from a model saved before the attribute existed
    assert old.english_only and old.predict([GERMAN_POSTING])[0].status == STATUS_NOT_ENGLISH


def test_another_language_is_said_before_the_scope_check(model):
    """A posting the scope check also sets aside is called what the user can act on: not English."""
    teacher = "Grundschullehrerin (m/w/d)\n\nSie planen den Unterricht der dritten Klasse, bewerten die " \
              "Fortschritte der Kinder und sprechen in jedem Halbjahr mit den Eltern über ihre Entwicklung."
    pred = model.predict([teacher])[0]
    assert pred.status == STATUS_NOT_ENGLISH and pred.p_pm is not None


def test_a_posting_pasted_twice_gets_the_same_probability_and_evidence(model):
    once = model.predict([TECH_POSTING, BUSINESS_POSTING], force=True)
    twice = model.predict([TECH_POSTING + "\n\n" + TECH_POSTING, BUSINESS_POSTING + "\n" + BUSINESS_POSTING],
                          force=True)
    for a, b in zip(once, twice):
        assert b.p_technical == a.p_technical
        assert b.evidence == a.evidence and a.evidence  # the phrases found once, where first said


def test_label_status_and_scope_follow_the_probabilities_as_a_prediction_gives_them(model, monkeypatch):
    """p_technical 0.49996 is given as 0.5: its label is technical, as evaluate, compare and the
    p >= 0.5 of every table read it, and a p_pm given as 0.5 is in scope."""
    classifier = model.label_pipeline.named_steps["classifier"]
    monkeypatch.setattr(classifier, "predict_proba", lambda X: np.array([[0.50004, 0.49996]] * X.shape[0]))
    monkeypatch.setattr(model.scope_pipeline, "proba_of_normalised", lambda X: np.array([[0.50004, 0.49996]] * len(X)))
    pred = model.predict([TECH_POSTING])[0]
    assert (pred.label, pred.p_technical, pred.p_pm) == ("technical", 0.5, 0.5)
    monkeypatch.setattr(classifier, "predict_proba", lambda X: np.array([[0.64996, 0.35004]] * X.shape[0]))
    pred = model.predict([TECH_POSTING])[0]
    assert (pred.label, pred.p_technical, pred.status) == ("business", 0.35, "ok")  # 0.15 from 0.5: not inside


def test_predict_gives_the_scope_check_the_text_step_s_reading_and_normalises_each_posting_once(model, monkeypatch):
    """The scope check reads what the label pipeline's text step made of each posting (markup, odd line
    breaks and entities taken out), as its own predict_proba would; normalising it twice cost a tenth
    of label's time."""
    from pmtype import text as text_mod
    tech, business = TECH_POSTING * 10, BUSINESS_POSTING * 10  # longer than the 2,000 characters text_kind reads
    postings = [f"<h2>Product Manager</h2><p>{tech}</p>", "Product Manager\x0b" + business,
                "Senior Product Manager &amp; Owner\n\n" + business]
    expected = model.scope_pipeline.predict_proba(postings)[:, 1]
    calls = []
    real = text_mod.normalise
    monkeypatch.setattr(text_mod, "normalise", lambda text: calls.append(text) or real(text))
    preds = model.predict(postings, force=True)
    assert [p.p_pm for p in preds] == [round(float(x), 4) for x in expected]
    assert len([c for c in calls if len(c) > 2000]) == len(postings)  # whole postings: once each


def test_uncertain_band(model):
    pred = model.predict([TECH_POSTING], band=0.5)[0]
    assert pred.status == "uncertain" and pred.label == "technical"


@pytest.mark.parametrize("value,expected", [
    (" Technical ", "technical"), ("BUSINESS", "business"), ("not pm", "not_pm"),
    ("", None), (None, None), (float("nan"), None), ("maybe", "?"),
    # spaces of any kind and number between the words, as a spreadsheet or a web page leaves them
    ("Not  PM", "not_pm"), ("not\u00a0pm", "not_pm"), ("out of\tscope", "not_pm"), ("Not - PM", "not_pm"),
])
def test_labels_are_forgiven_case_and_spaces(value, expected):
    assert normalise_label(value) == expected


@pytest.mark.parametrize("value", [None, float("nan"), np.nan, np.float32("nan"), pd.NA, pd.NaT,
                                   np.datetime64("NaT"), "  "], ids=repr)
def test_every_missing_value_of_pandas_and_numpy_is_no_label(value):
    assert normalise_label(value) is None


@pytest.mark.parametrize("value", [["technical"], ("business",), np.array([np.nan])], ids=repr)
def test_a_label_cell_holding_a_list_is_an_unknown_label_not_a_missing_one(value):
    assert normalise_label(value) == "?"


@pytest.mark.parametrize("labels", [
    pd.array(["technical", pd.NA, "business"], dtype="string"),
    pd.array(["technical", None, "business"], dtype=object),
    pd.Categorical(["technical", None, "business"]),
], ids=["string", "object", "category"])
def test_a_null_label_in_parquet_is_a_missing_label(tmp_path, labels):
    from pmtype.errors import UnknownLabel
    from pmtype.training import read_labelled

    path = tmp_path / "nulllabel.parquet"
    pd.DataFrame({"description": [TECH_POSTING, BUSINESS_POSTING, TECH_POSTING], "label": labels}).to_parquet(path)
    with pytest.raises(UnknownLabel) as e:
        read_labelled(path)
    assert str(e.value) == f"{path}: 1 row has no label (row 2)"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=1, max_size=400).filter(lambda s: s.strip()))
def test_classify_never_raises_on_unicode(model, text):
    from pmtype.features import text_kind

    if text_kind(text) == "empty":  # a missing-value marker ("NaN", " null ") or markup alone
        assert text.strip().lower() in MISSING_MARKERS or "<" in text or "&" in text
        with pytest.raises(EmptyText):
            classify(text, model=model, force=True)
        return
    pred = classify(text, model=model, force=True)
    if not any(ch.isalpha() for ch in text) or text_kind(text) == "not text":  # "12345", "1e5", "Infinity"
        assert pred.status == "not text" and pred.label is None
        return
    assert 0.0 <= pred.p_technical <= 1.0 and not math.isnan(pred.p_technical)
    assert pred.label in ("technical", "business")


def test_classify_says_when_it_truncated(model):
    from pmtype import config

    pred = classify(TECH_POSTING + "x " * config.MAX_CHARS, model=model)
    assert pred.status.endswith(f"; truncated to {config.MAX_CHARS} characters")


def test_predict_takes_a_list_a_series_or_a_generator_not_one_string(model):
    import pandas as pd

    texts = [TECH_POSTING, BUSINESS_POSTING]
    expected = [p.p_technical for p in model.predict(texts)]
    series = pd.Series(texts, index=[7, 3])
    assert [p.p_technical for p in model.predict(series)] == expected
    assert [p.p_technical for p in model.predict(t for t in texts)] == expected
    with pytest.raises(TypeError) as e:
        model.predict(TECH_POSTING)
    assert str(e.value) == "give a list of postings, not one string (for one posting: pmtype.classify)"


@pytest.mark.parametrize("missing", [None, float("nan"), "numpy", "pandas"])
def test_a_missing_title_or_description_is_empty_not_nan(missing):
    import numpy as np
    import pandas as pd

    value = {"numpy": np.float32("nan"), "pandas": pd.NA}.get(missing, missing)
    assert posting_text("Own the APIs.", value) == "Own the APIs."
    assert posting_text(value, "Product Manager") == "Product Manager\n\n"


# --- the scope check: with a title and without one -------------------------------------------

@pytest.mark.parametrize("line,expected", [
    ("Product Manager", True),
    ("Senior Product Manager, Payments Platform", True),
    ("**Staff Software Engineer (Remote)**", True),
    ("Head of Product", True),
    ("Elementary School Teacher", True),
    ("About the job", False),  # a heading, no role
    ("**Minimum qualifications:**", False),
    ("Company Overview", False),
    ("We are hiring a product manager to own our roadmap.", False),  # a sentence
    ("You will work with engineers. Great benefits.", False),
    ("", False),
    ("Product " * 20, False),  # too long for a title
    ("Sr. Product Manager", True),  # an abbreviation's full stop ends no sentence
    ("Sr. PM, Payments (U.S. Market)", True),
    ("Assoc. Dir. of Product Management", True),
    ("Manage the team. Sr. engineers report to you.", False),
])
def test_a_first_line_reads_as_a_title_when_it_is_short_names_a_role_and_is_no_sentence(line, expected):
    from pmtype.model import looks_like_title

    assert looks_like_title(line) is expected


@pytest.mark.parametrize("title,expected", [
    ("Product Manager", True),
    ("Product Manager, Project Management Software", True),  # the role comes first
    ("Director, Product Management - Project Delivery", True),
    ("Program Manager, Product Management", False),
    ("Product Marketing Manager", False),
    ("Senior Product Operations Manager", False),
    ("Technical Program Manager", False),
    ("Data Scientist", False),
])
def test_a_title_names_a_pm_role_by_the_role_it_names_first(title, expected):
    from pmtype.model import _names_pm_role

    assert _names_pm_role(title) is expected


def test_the_scope_check_judges_a_posting_without_a_title_by_its_body(corpus_csv):
    import numpy as np
    import pandas as pd

    from pmtype.model import ScopeCheck

    frame = pd.read_csv(corpus_csv)
    texts = [posting_text(d, t) for d, t in zip(frame.description, frame.title)]
    y = (frame.label != "not_pm").astype(int).to_numpy()
    check = ScopeCheck(seed=3).fit(texts, y)
    # the body model learned from the same postings with their titles taken off
    vocabulary = check.body_model_.named_steps["features"].transformer_list[0][1][-1].vocabulary_
    assert "roadmap" in vocabulary and "elementary" not in vocabulary  # (a title word only)
    seen = {}

    def recorder(name, value):
        def predict_proba(batch):
            seen[name] = list(batch)
            return np.tile([1 - value, value], (len(batch), 1))
        return predict_proba

    check.title_model_.predict_proba = recorder("title", 0.9)
    check.body_model_.predict_proba = recorder("body", 0.2)
    given = ["Product Manager\nOwn the roadmap.", "About the job\nOwn the roadmap.",
             "Data Scientist\nBuild models.", "Own the roadmap and the backlog."]
    p = check.predict_proba(given)[:, 1]
    assert p.tolist() == [0.9, 0.2, 0.9, 0.2]  # each in its place
    assert seen == {"title": [given[0], given[2]], "body": [given[1], given[3]]}
    assert check.predict(given).tolist() == [1, 0, 1, 0]


def test_the_scope_check_is_a_scikit_learn_estimator(corpus_csv, tmp_path):
    import joblib
    import pandas as pd
    from sklearn.base import clone

    from pmtype.model import ScopeCheck

    frame = pd.read_csv(corpus_csv)
    texts = [posting_text(d, t) for d, t in zip(frame.description, frame.title)]
    y = (frame.label != "not_pm").astype(int).to_numpy()
    check = ScopeCheck(seed=5)
    assert check.get_params() == {"seed": 5} and clone(check).get_params() == {"seed": 5}
    assert check.fit(texts, y) is check
    joblib.dump(check, tmp_path / "scope.joblib")
    again = joblib.load(tmp_path / "scope.joblib")
    bodies = list(frame.description)  # no titles: the body model
    assert (again.predict_proba(texts) == check.predict_proba(texts)).all()
    assert (again.predict_proba(bodies) == check.predict_proba(bodies)).all()


LINES = ["Senior Product Manager", "Own the product roadmap and write user stories for the backlog.",
         "Work with backend engineers and QA on the public APIs and SDKs."]


@pytest.mark.parametrize("given", [
    f"<h2>{LINES[0]}</h2><p>{LINES[1]}</p><p>{LINES[2]}</p>",  # a web page's, on one line
    "\x0b".join(LINES),  # Word's line breaks
    "\r\n".join(LINES),
], ids=["html", "vertical tabs", "crlf"])
def test_the_scope_check_reads_the_posting_as_the_label_pipeline_does(model, given):
    """The title in markup or ended by another line break is still the posting's first line: the
    scope check judges it with its title, as it judges the same posting in plain text."""
    plain = classify("\n".join(LINES), model=model)
    got = classify(given, model=model)
    assert got.text.replace("\n\n", "\n") == plain.text
    assert (got.p_pm, got.status, got.p_technical) == (plain.p_pm, plain.status, plain.p_technical)


def test_a_title_with_an_abbreviation_is_a_title(model):
    """'Sr. Product Manager' is judged as a title, as 'Senior Product Manager' is, not taken for
    a sentence and the posting judged by its body alone (where it was called not a PM posting)."""
    body = ("Join our payments team. You will talk to customers, look at data and decide what we "
            "build next with engineers and designers.")
    short, long = (classify(body, title=t, model=model) for t in ("Sr. Product Manager", "Senior Product Manager"))
    assert short.status == long.status != STATUS_NOT_PM
    assert short.p_pm > 0.9


def test_a_pm_posting_pasted_without_its_title_is_still_labelled(model):
    from corpus import NOT_PM

    untitled = ("About the role\n- Own the product roadmap and write user stories for the backlog.\n"
                "- You will own the public REST APIs and SDKs with backend engineers and QA.\n"
                "- A computer science degree and SQL are required.\n")
    p = classify(untitled, model=model)
    assert p.status != STATUS_NOT_PM and p.label == "technical"
    for _title, body in NOT_PM:  # other roles pasted without their titles are still out of scope
        assert classify(body, model=model).status == STATUS_NOT_PM, body


@pytest.mark.parametrize("text,expected", [
    ("Product Manager\nAbout the role", True),
    ("Product Manager, Developer Platform. You will own the public APIs with engineers.", True),
    ("About the job\nProduct Manager, Developer Platform", False),
    ("You will own the public APIs. Product managers here work with engineers.", False),
    ("Own the roadmap and the backlog", False),
])
def test_a_posting_starts_with_its_title_on_its_first_line_or_in_its_first_sentence(text, expected):
    from pmtype.model import starts_with_title

    assert starts_with_title(text) is expected


@pytest.mark.parametrize("value,error", [
    (None, EmptyText), (float("nan"), EmptyText), ("  ", EmptyText), (pd.NA, EmptyText),
    (np.float32("nan"), EmptyText), ("N/A", EmptyText), (" null ", EmptyText),
    (123, TypeError), (b"We build APIs with engineers.", TypeError), (["a posting"], TypeError),
])
def test_classify_takes_one_posting_as_text(model, value, error):
    with pytest.raises(error) as e:
        classify(value, model=model)
    if error is TypeError:
        assert str(e.value).startswith("classify takes one posting's text as a str, not ")


@pytest.mark.parametrize("text", ["12345", "3.14", "!!! ???", "--- * ---"])
def test_classify_calls_text_without_a_letter_not_text_as_label_does(model, text):
    from pmtype.model import STATUS_NOT_TEXT

    p = classify(text, title=None, model=model, force=True)
    assert (p.label, p.p_technical, p.status) == (None, None, STATUS_NOT_TEXT)


def test_markup_alone_is_no_posting_even_with_force(model):
    from pmtype.errors import EmptyText
    from pmtype.model import STATUS_EMPTY, STATUS_NOT_TEXT

    with pytest.raises(EmptyText):
        classify("<div><br/></div>&nbsp;", model=model, force=True)
    for spaces in ("&#160;", "&#xa0;", " &#160;&#8203; "):  # the same space as a numbered entity
        with pytest.raises(EmptyText):
            classify(spaces, model=model, force=True)
    assert classify("&#49;&#50;", model=model, force=True).status == STATUS_NOT_TEXT  # "12"
    assert classify("<p>12345</p>", model=model, force=True).status == STATUS_NOT_TEXT
    # a link, an image, a rule or an empty table are markup as much as a paragraph is
    for markup in ('<img src="logo.png" alt="Product Manager">', "<hr/>", "<table><tr><td></td></tr></table>"):
        with pytest.raises(EmptyText):
            classify(markup, model=model, force=True)
    assert classify('<a href="https://example.com/apply">12345</a>', model=model, force=True).status == STATUS_NOT_TEXT
    got = model.predict(["<script>var a = 1;</script>", "<p>42</p>"], force=True)
    assert [(p.label, p.p_technical, p.status) for p in got] == [(None, None, STATUS_EMPTY),
                                                                 (None, None, STATUS_NOT_TEXT)]


def test_a_posting_whose_lines_end_in_vertical_tabs_reads_as_one_with_line_breaks(model):
    """Text copied from Word ends its lines with vertical tabs: the same probability and evidence,
    the company's own sentence ("We build APIs…", under "About us") counting for nothing."""
    posting = ("Product Manager{0}{0}About us{0}We build APIs for banks and our engineers love SQL.{0}{0}"
               "Responsibilities{0}Work with engineers on APIs{0}Define the roadmap with sales and marketing")
    plain, word = (classify(posting.format(end), model=model) for end in ("\n", "\x0b"))
    assert word.text == plain.text
    assert (word.p_technical, word.evidence_compact()) == (plain.p_technical, plain.evidence_compact())
    assert "SQL" not in word.evidence_compact()


def test_a_posting_marked_up_with_links_and_italics_reads_as_its_words(model):
    """The text classify gives, and its evidence, are the posting's words, not its tags: no cue
    is found in a link's address or an image's description."""
    marked = ('Product Manager\nWork with <a href="https://example.com/data-science">our engineers</a> '
              'on <i>APIs</i>\n<img src="team.png" alt="an MBA and a computer science degree">Own the roadmap')
    got = classify(marked, model=model)
    assert got.text.split("\n") == ["Product Manager", "Work with our engineers on APIs ", " Own the roadmap"]
    phrases = [p for e in got.evidence for p in e.phrases]
    assert sorted(p["phrase"] for p in phrases) == ["APIs", "engineers"]
    assert all(got.text[p["start"]:p["end"]] == p["phrase"] for p in phrases)


def test_a_word_broken_by_soft_hyphens_is_still_a_cue(model):
    plain = "Product Manager\n\nWork with engineers on APIs, SQL and the data pipelines."
    hyphenated = "Product Manager\n\nWork with engi&shy;neers on APIs, S&shy;QL and the data pipe&shy;lines."
    got, expected = classify(hyphenated, model=model), classify(plain, model=model)
    assert got.text == expected.text
    assert (got.p_technical, got.evidence_compact()) == (expected.p_technical, expected.evidence_compact())
    assert "engineers" in got.evidence_compact() and "data pipelines" in got.evidence_compact()


def test_a_posting_with_a_pdfs_ligatures_gives_the_evidence_of_its_words(model):
    plain = "Product Manager\n\nWork with finance and legal; write technical specifications for the workflow engine."
    ligatured = plain.replace("fi", "\ufb01").replace("fl", "\ufb02")
    got, expected = classify(ligatured, model=model), classify(plain, model=model)
    assert got.text == expected.text
    assert (got.p_technical, got.evidence_compact()) == (expected.p_technical, expected.evidence_compact())
    assert "finance" in got.evidence_compact() and "technical specifications" in got.evidence_compact()


def test_evidence_strength_is_a_plain_float(model):
    from pmtype import classify

    from conftest import TECH_POSTING

    evidence = classify(TECH_POSTING, model=model).evidence
    assert evidence and all(type(e.strength) is float for e in evidence)


CELLS = ["N/A", "null", "NaN", None, pd.NA, np.float32("nan"), "", "<div><br/></div>", "1e5", "Infinity",
         "12345", 7, True, TECH_POSTING]


def test_predict_classify_and_label_read_every_kind_of_cell_alike(model):
    # one rule (features.text_kind) for what a posting's text holds, whichever way it is given
    from pmtype.batch import label_frame

    by_predict = [p.status for p in model.predict(CELLS, force=True)]
    frame = pd.DataFrame({"description": pd.Series(CELLS, dtype=object)})
    by_label = label_frame(model, frame, "description", force=True)["pm_status"].tolist()
    assert by_predict == by_label == ["empty text"] * 8 + ["not text"] * 5 + ["ok"]
    for cell, status in zip(CELLS, by_predict):
        if status == "empty text":
            with pytest.raises(EmptyText):
                classify(cell, model=model, force=True)
        elif isinstance(cell, str):
            assert classify(cell, model=model, force=True).status == status


def test_every_error_pmtype_raises_is_in_its_public_api():
    import inspect

    import pmtype
    from pmtype import errors

    raised = {name for name, cls in inspect.getmembers(errors, inspect.isclass) if issubclass(cls, errors.PMTypeError)}
    assert raised <= set(pmtype.__all__)


@pytest.mark.parametrize("band", [-0.1, 0.6, "0.1", True, float("nan")])
def test_predict_refuses_a_band_that_is_no_half_width(model, band):
    from pmtype.errors import BadOption

    with pytest.raises(BadOption) as e:
        model.predict([TECH_POSTING], band=band)
    assert str(e.value) == f"band must be a number from 0 to 0.5; got {band!r}"


def test_predict_says_when_it_read_only_part_of_a_posting_as_classify_and_label_do(model):
    from pmtype import config
    from pmtype.batch import label_frame

    long = TECH_POSTING + " x" * config.MAX_CHARS
    note = f"; truncated to {config.MAX_CHARS} characters"
    by_predict = model.predict([long, TECH_POSTING])
    assert [p.status.endswith(note) for p in by_predict] == [True, False]
    assert classify(long, model=model).status == by_predict[0].status
    frame = pd.DataFrame({"description": [long, TECH_POSTING]})
    assert label_frame(model, frame, "description")["pm_status"].tolist() == [p.status for p in by_predict]


def test_a_title_counts_toward_the_length_read(model):
    # the model reads title and text together, up to MAX_CHARS: a text of exactly MAX_CHARS with a
    # title is cut, and says so, wherever it is labelled
    from pmtype import config
    from pmtype.batch import label_frame

    body = (TECH_POSTING + " ") * (config.MAX_CHARS // len(TECH_POSTING) + 1)
    body = body[: config.MAX_CHARS]
    frame = pd.DataFrame({"title": ["Product Manager"], "description": [body]})
    status = label_frame(model, frame, "description", "title")["pm_status"].iloc[0]
    assert status.endswith(f"; truncated to {config.MAX_CHARS} characters")
    assert classify(body, title="Product Manager", model=model).status == status


def test_the_scope_check_before_fit_is_not_fitted():
    from sklearn.exceptions import NotFittedError

    from pmtype.model import ScopeCheck

    with pytest.raises(NotFittedError):
        ScopeCheck().predict(["Product Manager"])


def test_cross_validation_takes_a_numpy_whole_number_of_folds_and_refuses_a_fraction():
    from pmtype.errors import BadTrainingData
    from pmtype.model import cross_fit

    texts = np.array([TECH_POSTING + f" {i}" for i in range(8)] + [BUSINESS_POSTING + f" {i}" for i in range(8)], dtype=object)
    labels = np.array(["technical"] * 8 + ["business"] * 8)
    fit = cross_fit(texts, labels, cv_folds=np.int64(3))
    assert len(fit.p_out_of_fold) == 16
    with pytest.raises(BadTrainingData) as e:
        cross_fit(texts, labels, cv_folds=2.5)
    assert str(e.value) == "cross-validation needs a whole number of folds; asked for 2.5"


def _logit(p):
    return math.log(p / (1 - p))


def _pushes_and_logits(model, text):
    """The signed pushes the evidence shows, and the log-odds of p_technical with and without the cues."""
    pred = model.predict([text], force=True)[0]
    pushes = sum(e.strength * (1 if e.lean == "technical" else -1) for e in pred.evidence)
    pipeline = model.label_pipeline
    X = pipeline.named_steps["features"].transform(pipeline.named_steps["prepare"].transform([text])).tolil()
    with_cues = pipeline.named_steps["classifier"].predict_proba(X.tocsr())[0, 1]
    X[:, : len(model.article_weights())] = 0
    without = pipeline.named_steps["classifier"].predict_proba(X.tocsr())[0, 1]
    return pushes, _logit(with_cues) - _logit(without)


@pytest.mark.parametrize("text", [TECH_POSTING, BUSINESS_POSTING, TECH_POSTING + "\n" + BUSINESS_POSTING])
def test_the_evidence_strengths_add_up_to_the_cues_push_on_the_log_odds_p_technical_gives(model, text):
    """Strength is a distinction's contribution to the log-odds of the probability shown, calibration
    included (the classifier's raw log-odds were about a sixth larger)."""
    pushes, moved = _pushes_and_logits(model, text)
    assert pushes == pytest.approx(moved, abs=1e-3)


def test_the_evidence_is_the_same_however_the_article_columns_are_scaled(model):
    """Article columns scaled by 2, their weights halved: the same model, so the same evidence (the scale
    was counted twice, in the features and in the weights)."""
    import copy

    scaled = copy.deepcopy(model)
    features = scaled.label_pipeline.named_steps["features"]
    features.transformer_list[0][1].scale *= 2
    estimator = scaled.label_pipeline.named_steps["classifier"].calibrated_classifiers_[0].estimator
    estimator.coef_[0, : len(model.article_weights())] /= 2
    before, after = model.predict([TECH_POSTING])[0], scaled.predict([TECH_POSTING])[0]
    assert after.p_technical == before.p_technical
    assert [(e.distinction, e.lean) for e in after.evidence] == [(e.distinction, e.lean) for e in before.evidence]
    assert [e.strength for e in after.evidence] == pytest.approx([e.strength for e in before.evidence], abs=1e-4)
    assert scaled.article_weights() == pytest.approx(model.article_weights())


def test_ngram_weights_are_each_words_push_on_the_log_odds_the_article_weights_are_on(model):
    """Each word's weight times its TF-IDF value, summed, is how far the words move the log-odds of p_technical."""
    pipeline = model.label_pipeline
    features = pipeline.named_steps["features"]
    prepared = pipeline.named_steps["prepare"].transform([TECH_POSTING])
    tfidf = features.transformer_list[1][1].transform(prepared).toarray()[0]
    weights = model.ngram_weights()
    assert len(weights) == len(tfidf) and len(weights) > 100
    X = features.transform(prepared).tolil()
    with_words = pipeline.named_steps["classifier"].predict_proba(X.tocsr())[0, 1]
    X[:, len(model.article_weights()):] = 0
    without = pipeline.named_steps["classifier"].predict_proba(X.tocsr())[0, 1]
    assert float(np.dot(list(weights.values()), tfidf)) == pytest.approx(_logit(with_words) - _logit(without), abs=1e-3)


def test_compact_evidence_quotes_a_phrase_that_holds_its_separators():
    from pmtype.model import DistinctionEvidence

    phrases = [{"phrase": p, "side": "technical", "start": 0, "end": 0}
               for p in ("degree in computer science, engineering", "SQL", 'the "platform" team', "APIs (REST)")]
    e = DistinctionEvidence("background", "Background asked for", "technical", 1.0, phrases)
    assert e.compact() == ('background:technical("degree in computer science, engineering", SQL, '
                           '"the ""platform"" team", "APIs (REST)")')


def test_compact_evidence_lists_the_first_four_phrases_of_its_lean_each_once_whatever_its_case():
    from pmtype.model import DistinctionEvidence

    said = [("APIs", "technical"), ("pricing", "business"), ("apis", "technical"), ("SDK", "technical"),
            ("APIs", "technical"), ("latency", "technical"), ("Sdk", "technical"), ("QA", "technical"),
            ("uptime", "technical")]
    phrases = [{"phrase": p, "side": side, "start": 0, "end": 0} for p, side in said]
    e = DistinctionEvidence("focus", "Focus", "technical", 1.0, phrases)
    assert e.compact() == "focus:technical(APIs, SDK, latency, QA)"
    assert e.compact(n=2) == "focus:technical(APIs, SDK)"
    assert DistinctionEvidence("focus", "Focus", "business", 1.0, phrases).compact() == "focus:business(pricing)"
    assert DistinctionEvidence("focus", "Focus", "business", 1.0, phrases[:1]).compact() == "focus:business"


def test_compact_evidence_can_be_split_back_into_its_phrases(model):
    import csv

    text = posting_text("You hold a degree in computer science, engineering or a related field, and you write SQL. "
                        "You work every day with engineers and QA on our public APIs.", "Product Manager, Platform")
    compact = model.predict([text], force=True)[0].evidence_compact()
    for part in compact.split("; "):
        inside = part[part.index("(") + 1: -1]
        phrases = next(csv.reader([inside], skipinitialspace=True))
        assert all(p in text for p in phrases), (part, phrases)
    assert '"degree in computer science, engineering"' in compact


@pytest.mark.parametrize("force", ["no", 1, None])
def test_predict_and_classify_refuse_a_force_that_is_not_true_or_false(model, force):
    """force="no" was true: the scope check and the language check were overridden."""
    from pmtype.errors import BadOption

    for call in (lambda: model.predict([TECH_POSTING], force=force),
                 lambda: classify(TECH_POSTING, model=model, force=force)):
        with pytest.raises(BadOption) as e:
            call()
        assert str(e.value) == f"force must be True or False; got {force!r}"
    assert model.predict([TECH_POSTING], force=np.bool_(True))[0].label == "technical"
