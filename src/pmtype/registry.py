"""Model versions: describing, listing and choosing models."""

from __future__ import annotations

from pathlib import Path

from pmtype import persist
from pmtype.model import default_model_path


def describe(model: str | Path | None = None) -> str:
    """A readable account of a model folder's manifest."""
    folder = Path(model) if model is not None else default_model_path()
    m = persist.read_manifest(folder)
    data = m.get("data", {})
    lines = [
        f"model      {m.get('model_id', '?')}",
        f"folder     {folder}",
        f"created    {m.get('created', '?')}",
        "versions   " + ", ".join(f"{k} {v}" for k, v in sorted(m.get("versions", {}).items())),
        f"data       {data.get('rows', '?')} postings ("
        + ", ".join(f"{k} {v}" for k, v in data.get("by_label", {}).items())
        + f"); sha256 {str(data.get('sha256', '?'))[:16]}…",
        "sources    " + ", ".join(data.get("sources", [])),
        f"scope      {'yes' if m.get('scope_check') else 'no (no not_pm rows in the training data)'}",
        f"band       p_technical within {m.get('band', '?')} of 0.5 is uncertain",
    ]
    cv = m.get("metrics", {}).get("cross_validation", {}).get("metrics", {})
    if cv:
        lines.append("cross-validated: " + ", ".join(
            f"{k} {v['value']:.3f}" for k, v in cv.items() if k in ("accuracy", "macro_f1", "roc_auc", "ece")))
    return "\n".join(lines)
