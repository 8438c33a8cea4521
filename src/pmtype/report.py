"""``evaluate --report DIR``: figures (PNG) and one report.md that shows them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from pmtype.cues import DISTINCTIONS
from pmtype.evaluate import CLASSES, reliability


def write_report(folder: Path, texts, labels, predictions, result: dict) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    folder.mkdir(parents=True, exist_ok=True)
    p = np.array([pr.p_technical for pr in predictions], dtype=float)
    y = np.array(labels)

    fig, ax = plt.subplots(figsize=(4, 4))
    ConfusionMatrixDisplay(np.array(result["confusion"]["matrix"]), display_labels=CLASSES).plot(ax=ax, colorbar=False)
    fig.tight_layout()
    fig.savefig(folder / "confusion.png", dpi=120)
    plt.close(fig)

    frac, mean_p = reliability(labels, p)
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot([0, 1], [0, 1], "--", color="grey")
    ax.plot(mean_p, frac, "o-")
    ax.set_xlabel("mean p_technical")
    ax.set_ylabel("fraction technical")
    ax.set_title("Reliability")
    fig.tight_layout()
    fig.savefig(folder / "reliability.png", dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name in CLASSES:
        ax.hist(p[y == name], bins=20, range=(0, 1), alpha=0.6, label=f"true {name}")
    ax.set_xlabel("p_technical")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "p_by_label.png", dpi=120)
    plt.close(fig)

    fires = {name: Counter() for name in CLASSES}
    for pr, label in zip(predictions, labels):
        for e in pr.evidence:
            fires[label][f"{e.distinction}:{e.lean}"] += 1
    n = Counter(labels)
    rows = []
    for d in DISTINCTIONS:
        for side in ("technical", "business"):
            key = f"{d}:{side}"
            rows.append(f"| {d} | {side} | " + " | ".join(
                f"{fires[c][key] / max(n[c], 1):.2f}" for c in CLASSES) + " |")

    wrong = [i for i, (pr, label) in enumerate(zip(predictions, labels)) if pr.label is not None and
             (pr.p_technical >= 0.5) != (label == "technical")]
    wrong.sort(key=lambda i: -abs(predictions[i].p_technical - 0.5))
    mistakes = []
    for i in wrong[:15]:
        first = texts[i].strip().splitlines()[0][:80] if texts[i].strip() else ""
        mistakes.append(f"| {first} | {labels[i]} | {predictions[i].p_technical:.2f} | "
                        f"{predictions[i].evidence_compact().replace('|', '/')} |")

    metrics = "\n".join(
        f"| {k} | {m['value']:.3f} | " + (f"[{m['low']:.3f}, {m['high']:.3f}]" if "low" in m else "") + " |"
        for k, m in result["metrics"].items())
    report = folder / "report.md"
    report.write_text(
        f"# pmtype evaluation\n\nModel `{result.get('model_id')}`, {result['n']} labelled postings.\n\n"
        "| metric | value | 95% interval |\n|---|---|---|\n" + metrics + "\n\n"
        "![confusion](confusion.png) ![reliability](reliability.png)\n\n![p by label](p_by_label.png)\n\n"
        "## How often each distinction's evidence fires, per true label\n\n"
        "| distinction | leans | " + " | ".join(CLASSES) + " |\n|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        "## The worst mistakes\n\n| posting (first line) | true | p_technical | evidence |\n|---|---|---|---|\n"
        + "\n".join(mistakes) + "\n",
        encoding="utf-8",
    )
    return report
