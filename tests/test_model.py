import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import BUSINESS_POSTING, TECH_POSTING
from pmtype import classify
from pmtype.errors import EmptyText
from pmtype.features import posting_text
from pmtype.model import STATUS_NOT_PM, normalise_label


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


def test_uncertain_band(model):
    pred = model.predict([TECH_POSTING], band=0.5)[0]
    assert pred.status == "uncertain" and pred.label == "technical"


@pytest.mark.parametrize("value,expected", [
    (" Technical ", "technical"), ("BUSINESS", "business"), ("not pm", "not_pm"),
    ("", None), (None, None), (float("nan"), None), ("maybe", "?"),
])
def test_labels_are_forgiven_case_and_spaces(value, expected):
    assert normalise_label(value) == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=1, max_size=400).filter(lambda s: s.strip()))
def test_classify_never_raises_on_unicode(model, text):
    pred = classify(text, model=model, force=True)
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
