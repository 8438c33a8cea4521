"""Scoring a model on labelled postings: metrics with bootstrap intervals, and a report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pmtype import config, tables
from pmtype.errors import BadTrainingData, counted
from pmtype.metrics import (
    CLASSES,
    FEW_POSTINGS,
    expected_calibration_error,
    few_postings_note,
    format_metrics,
    label_metrics,
    reliability,
)

__all__ = ["CLASSES", "FEW_POSTINGS", "evaluate", "expected_calibration_error", "format_metrics", "label_metrics",
           "reliability"]


@config.user_paths("path", "report_dir", models=("model",))
def evaluate(path, model=None, text_column: str | None = None, title_column: str | None = None,
             label_column: str = "label", report_dir: str | Path | None = None,
             fmt: str | None = None, encoding: str | None = None,
             progress: Callable[[str], None] | None = None) -> dict:
    """Score a model on a labelled file of PM postings (``technical``/``business`` labels).

    Not-PM rows in the file are left out of the label metrics (and noted). Labels
    are scored as the model would give them if forced (the scope check is reported
    separately: how many of these PM postings it calls not-PM). ``fmt`` and
    ``encoding`` are the file's format and text encoding where its name and bytes
    do not tell.
    """
    from pmtype.model import PMTypeModel, load_model
    from pmtype.training import read_labelled, repeated_notes

    if report_dir is not None:
        tables.check_output_folder(report_dir)  # before the scoring
        from pmtype.report import check_report_folder

        check_report_folder(Path(report_dir))
    if not isinstance(model, PMTypeModel):
        tables.check_input_exists(path, fmt)  # a missing file is said before the default model is built
        model = load_model(model, progress=progress)
    data, notes = read_labelled(path, text_column, title_column, label_column, fmt=fmt, encoding=encoding)
    pm, not_pm = data.pm_only()
    name = tables.input_name(path)
    if not_pm:
        notes.append(f"{name}: left out {counted(not_pm, 'row')} labelled not_pm (evaluate scores technical and "
                     "business postings)")
    notes += repeated_notes(pm, name)
    texts, labels = pm.texts, pm.labels
    if not texts:
        raise BadTrainingData(f"{name} has no technical or business postings to score"
                              + (": " + "; ".join(n.removeprefix(f"{name}: ") for n in notes) if notes else ""))
    predictions = model.predict(texts, force=True)
    p = [pr.p_technical for pr in predictions]
    result = label_metrics(labels, p)
    result["model_id"] = model.model_id
    if len(set(labels)) == 1:
        other = next(c for c in CLASSES if c != labels[0])
        notes.append(f"every posting scored is labelled {labels[0]}: ROC-AUC and the {other} recall and F1 "
                     f"need both labels (n/a; null in JSON), and macro-F1 counts the {other} F1 as 0")
    if few := few_postings_note(len(labels)):
        notes.append(few)
    result["notes"] = notes
    result["scope_flagged"] = int(sum(pr.p_pm is not None and pr.p_pm < 1 - model.scope_threshold
                                      for pr in predictions))
    result["uncertain"] = int(sum(abs(x - 0.5) < model.band for x in p))
    if report_dir is not None:
        from pmtype.report import write_report

        result["report"] = str(write_report(Path(report_dir), texts, labels, predictions, result, pm.rows))
    return result
