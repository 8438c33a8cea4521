"""Label metrics on p_technical: macro-F1, accuracy, ROC-AUC, Brier, ECE with bootstrap intervals.

Pure functions of labels and probabilities, below ``model`` (whose training reports
cross-validated metrics) and ``evaluation`` (which scores a model on a file).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

from pmtype.errors import BadTrainingData, counted

#: Below this many postings, ``evaluate`` and ``compare`` note that their intervals are rough.
FEW_POSTINGS = 30


def few_postings_note(n: int, done: str = "scored", rough: str = "the 95% intervals are") -> str | None:
    """The note that ``n`` postings (``done``: scored, compared on) are too few for the bootstrap's
    95% intervals (and what else is ``rough``) to be more than rough; None from ``FEW_POSTINGS`` up."""
    if n >= FEW_POSTINGS:
        return None
    return (f"only {counted(n, 'posting')} {done}: {rough} rough at this size "
            "(a bootstrap cannot show what so few postings leave out)")

CLASSES = ("business", "technical")


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """ECE: the mean gap between confidence and accuracy over equal-width bins of p, weighted by
    their postings. The bins are ``reliability``'s (scikit-learn's ``calibration_curve``): a p on an
    edge falls in the bin below it, so the figure and the number agree."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.searchsorted(edges[1:-1], p)  # calibration_curve's own rule
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(y[mask].mean() - p[mask].mean())
    return float(total)


def _point_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    pred = (p >= 0.5).astype(int)
    out = {
        "accuracy": accuracy_score(y, pred),
        "macro_f1": f1_score(y, pred, average="macro", labels=[0, 1], zero_division=0),
        "brier": brier_score_loss(y, p, pos_label=1),
        "ece": expected_calibration_error(y, p),
    }
    out["roc_auc"] = roc_auc_score(y, p) if len(np.unique(y)) > 1 else float("nan")
    # undefined, so NaN (as ROC-AUC of one label): precision where nothing was given the label, recall and
    # F1 where no posting has it (macro-F1 above still counts such a label's F1 as 0)
    prec, rec, f1, support = precision_recall_fscore_support(y, pred, labels=[0, 1], zero_division=np.nan)
    for i, name in enumerate(CLASSES):
        out[f"{name}_precision"] = prec[i]
        out[f"{name}_recall"] = rec[i]
        out[f"{name}_f1"] = f1[i] if support[i] else float("nan")
    return {k: float(v) for k, v in out.items()}


def label_metrics(y_true: Sequence[str], p_technical: Sequence[float], intervals: bool = True,
                  n_boot: int = 1000, seed: int = 0) -> dict:
    """Accuracy, macro-F1, per-class P/R/F1, ROC-AUC, Brier and ECE, with bootstrap 95% intervals.

    A figure that cannot be computed is NaN, with no interval: ROC-AUC where the postings hold one
    label only, a label's precision where no posting was given it, its recall and F1 where no posting
    has it. A resample counts for every figure it defines (so a file of one label gets intervals for
    all the others).
    """
    y = np.array([1 if v == "technical" else 0 for v in y_true])
    p = np.asarray(p_technical, dtype=float)
    if len(y) == 0:
        raise BadTrainingData("no labelled postings to score")
    point = _point_metrics(y, p)
    result: dict = {"n": int(len(y)), "metrics": {k: {"value": v} for k, v in point.items()}}
    result["confusion"] = {
        "labels": list(CLASSES),
        "matrix": confusion_matrix(y, (p >= 0.5).astype(int), labels=[0, 1]).tolist(),
    }
    if intervals:
        rng = np.random.default_rng(seed)
        draws: dict[str, list[float]] = {k: [] for k in point}
        for _ in range(n_boot):
            idx = rng.integers(0, len(y), len(y))
            for k, v in _point_metrics(y[idx], p[idx]).items():
                if not np.isnan(v):
                    draws[k].append(v)
        for k, values in draws.items():
            if values:
                lo, hi = np.percentile(values, [2.5, 97.5])
                result["metrics"][k].update(low=float(lo), high=float(hi))
    return result


def shown_p(p: float, digits: int = 2) -> str:
    """``p_technical`` for a reader: ``digits`` decimals, or more (up to the four a prediction has) where
    rounding would carry it across 0.5, against the label beside it: 0.4961 is '0.496', not '0.50'."""
    for d in range(digits, 5):
        text = f"{p:.{d}f}"
        if (float(text) >= 0.5) == (p >= 0.5):
            return text
    return f"{p:.4f}"


def shown_metric(value: float | None, signed: bool = False) -> str:
    """A metric's value for a reader: three decimals (with a sign if ``signed``: a difference), or 'n/a'
    where it is undefined (NaN; None once through JSON)."""
    return "n/a" if value is None or value != value else f"{value:{'+' if signed else ''}.3f}"


def format_metrics(result: dict) -> str:
    """A plain-text table of a ``label_metrics`` result."""
    lines = [f"postings scored: {result['n']}"]
    for name, m in result["metrics"].items():
        interval = f"  [{m['low']:.3f}, {m['high']:.3f}]" if "low" in m else ""
        lines.append(f"{name:<20} {shown_metric(m['value'])}{interval}")
    matrix = result["confusion"]["matrix"]
    lines.append("confusion (rows true, columns predicted: business, technical)")
    for name, row in zip(CLASSES, matrix):
        lines.append(f"  {name:<10} {row[0]:>5} {row[1]:>5}")
    return "\n".join(lines)



def reliability(y_true: Sequence[str], p: Sequence[float], bins: int = 10):
    """Fraction technical and mean p per bin, for a reliability diagram."""
    y = np.array([1 if v == "technical" else 0 for v in y_true])
    return calibration_curve(y, np.asarray(p), n_bins=bins, strategy="uniform")
