import gc

import pytest

from conftest import BUSINESS_POSTING, TECH_POSTING
from pmtype import config
from pmtype import model as model_module
from pmtype.features import PreparePostings
from pmtype.gc_passes import fewer_gc_passes


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
    before = gc.get_threshold()
    with fewer_gc_passes():
        assert gc.get_threshold() == before
    assert gc.get_threshold() == before


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
