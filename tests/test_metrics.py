"""The label metrics: scikit-learn's, and an ECE over the reliability figure's own bins."""

import numpy as np
import pytest
from sklearn.calibration import calibration_curve

from pmtype.metrics import expected_calibration_error, label_metrics, reliability


def _ece_from_the_figures_bins(y, p, bins=10):
    """ECE from calibration_curve's bins: each bin's gap, weighted by the postings it holds."""
    y, p = np.asarray(y), np.asarray(p, dtype=float)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=bins, strategy="uniform")
    counts = np.bincount(np.searchsorted(np.linspace(0, 1, bins + 1)[1:-1], p), minlength=bins)
    return float(np.sum(counts[counts > 0] / len(y) * np.abs(prob_true - prob_pred)))


@pytest.mark.parametrize("y, p", [
    ([1, 0], [0.15, 0.2]),  # 0.2 is an edge: in the figure's bin below, with 0.15
    ([1, 0, 1, 1, 0], [0.1, 0.5, 0.5, 0.9, 1.0]),
    ([0, 1, 1, 0, 1, 0], [0.0, 0.3, 0.6, 0.7, 0.2999, 0.05]),
])
def test_ece_bins_postings_as_the_reliability_figure_does(y, p):
    assert expected_calibration_error(y, p) == pytest.approx(_ece_from_the_figures_bins(y, p))


def test_ece_of_random_probabilities_matches_the_figures_bins():
    rng = np.random.default_rng(3)
    p = np.round(rng.random(500), 1)  # many on the edges
    y = (rng.random(500) < p).astype(int)
    assert expected_calibration_error(y, p) == pytest.approx(_ece_from_the_figures_bins(y, p))
    labels = ["technical" if v else "business" for v in y]
    assert label_metrics(labels, p, intervals=False)["metrics"]["ece"]["value"] == pytest.approx(
        _ece_from_the_figures_bins(y, p))
    figure_true, figure_pred = reliability(labels, p)  # the figure's points are these bins' own
    want_true, want_pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
    assert np.allclose(figure_true, want_true) and np.allclose(figure_pred, want_pred)


@pytest.mark.parametrize("p, shown", [(0.4961, "0.496"), (0.4996, "0.4996"), (0.5, "0.50"), (0.5004, "0.50"),
                                      (0.73, "0.73"), (0.0012, "0.00"), (0.495, "0.49")])
def test_a_probability_is_shown_on_its_own_side_of_a_half(p, shown):
    from pmtype.metrics import shown_p

    assert shown_p(p) == shown


def test_a_figure_with_nothing_to_measure_is_undefined_not_zero():
    """Precision where nothing was given the label, recall and F1 where no posting has it: NaN, with no
    interval, as ROC-AUC on one label; the defined figures, macro-F1 (counting such an F1 as 0) among them,
    are as before."""
    result = label_metrics(["technical"] * 4, [0.9, 0.8, 0.7, 0.6])["metrics"]
    for name in ("roc_auc", "business_precision", "business_recall", "business_f1"):
        assert np.isnan(result[name]["value"]) and "low" not in result[name]
    assert result["technical_f1"] == {"value": 1.0, "low": 1.0, "high": 1.0}
    assert result["macro_f1"]["value"] == 0.5
    # one called business wrongly: a measured precision of 0, but still no business posting to find
    result = label_metrics(["technical"] * 4, [0.9, 0.8, 0.7, 0.1], intervals=False)["metrics"]
    assert result["business_precision"]["value"] == 0.0
    assert np.isnan(result["business_recall"]["value"]) and np.isnan(result["business_f1"]["value"])
    # both labels, none called business: its precision is undefined, its recall a measured 0
    result = label_metrics(["technical", "business"], [0.9, 0.8], intervals=False)["metrics"]
    assert np.isnan(result["business_precision"]["value"])
    assert result["business_recall"]["value"] == result["business_f1"]["value"] == 0.0
