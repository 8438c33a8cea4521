"""``evaluate --report DIR``: figures (PNG) and one report.md that shows them."""

from __future__ import annotations

import contextlib
import os
import re
from collections import Counter
from pathlib import Path

import numpy as np

from pmtype.cues import DISTINCTIONS
from pmtype.errors import CannotWrite, counted, printable
from pmtype.metrics import CLASSES, reliability, shown_metric, shown_p
from pmtype.text import first_line


#: What Markdown would read as markup in a cell: a backslash, a bar, the characters of emphasis, code,
#: links, images, HTML and entities, and an underscore that is not inside a word (``not_pm`` stays).
_MARKUP = re.compile(r"[\\|`*~\[\]<>!&]|(?<![^\W_])_|_(?![^\W_])")
#: What Markdown would read as the start of a block where a cell or a note begins (``>`` and ``*`` are in
#: ``_MARKUP``): a heading's ``#``, a list's ``-`` or ``+`` (or a rule's ``---``), an ordered list's ``1.`` or ``1)``.
_BLOCK_START = re.compile(r"[#+-]|\d+[.)](?!\S)")


def _cell(text: str) -> str:
    """Text for one cell of a Markdown table or one note of a list, shown as written: no line break, and
    every character Markdown would read as markup escaped with a backslash, in one pass (so that a
    backslash before a bar cannot pair with the bar's escape and let the bar end the cell, and a posting's
    ``*`` or ``![x](y)`` is not emphasis or an image), and so is a heading's or a list's marker at its
    start (a note of a file named ``# ref.csv`` is no heading)."""
    text = _MARKUP.sub(lambda m: "\\" + m.group(0), " ".join(str(text).split()))
    if start := _BLOCK_START.match(text):  # its last character escaped: a note's "1. x" is no list in a list
        text = text[:start.end() - 1] + "\\" + text[start.end() - 1:]
    return text


#: The files a report is made of, report.md last.
REPORT_FILES = ("confusion.png", "reliability.png", "p_by_label.png", "report.md")


def check_report_folder(folder: Path) -> None:
    """``CannotWrite`` where the report could not be written into ``folder``: a link to nothing, or
    a folder in it under the name of one of the report's files. Checked before the scoring."""
    folder = Path(folder)
    if folder.is_symlink() and not folder.exists():
        raise CannotWrite(f"{printable(folder)} is a symbolic link to nothing; give the report a folder")
    for name in REPORT_FILES:
        there = folder / name
        if there.is_dir() and not there.is_symlink():  # a file moved onto a link's name replaces the link
            raise CannotWrite(f"{printable(there)} is a folder, in the way of the report's file of that name: "
                              "move it away")


def write_report(folder: Path, texts, labels, predictions, result: dict, rows=None) -> Path:
    """Figures and report.md for an ``evaluate`` result, in ``folder``; ``rows`` are the postings' row
    numbers in their file, named in the list of mistakes.

    The files are written in a hidden folder beside them and moved into ``folder`` only when all
    are whole, each in one step (an earlier report's files are replaced, other files kept): an
    interrupted run leaves no half-written figure and no report of another run's figures.
    """
    import shutil
    import tempfile

    made = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".report.", dir=folder))
    try:
        _write_report_files(work, texts, labels, predictions, result, rows)
        for name in REPORT_FILES:
            os.replace(work / name, folder / name)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        if made:  # a folder this run made, and nothing in it: not left behind by a Ctrl-C
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder / "report.md"


def _write_report_files(folder: Path, texts, labels, predictions, result: dict, rows=None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

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

    # For each distinction and side: in what share of each label's postings its cues were found,
    # and in what share the distinction leaned that way (its net push on the model).
    found = {name: Counter() for name in CLASSES}
    leans = {name: Counter() for name in CLASSES}
    for pr, label in zip(predictions, labels):
        for e in pr.evidence:
            leans[label][f"{e.distinction}:{e.lean}"] += 1
            for side in {ph["side"] for ph in e.phrases}:
                found[label][f"{e.distinction}:{side}"] += 1
    n = Counter(labels)

    def share(counts: dict[str, Counter], label: str, key: str) -> str:
        return f"{counts[label][key] / n[label]:.2f}" if n[label] else "n/a"

    table = []
    for d in DISTINCTIONS:
        for side in ("technical", "business"):
            key = f"{d}:{side}"
            table.append(f"| {d} | {side} | " + " | ".join(share(found, c, key) for c in CLASSES) + " | "
                         + " | ".join(share(leans, c, key) for c in CLASSES) + " |")

    wrong = [i for i, (pr, label) in enumerate(zip(predictions, labels)) if pr.p_technical is not None and
             (pr.p_technical >= 0.5) != (label == "technical")]
    wrong.sort(key=lambda i: -abs(predictions[i].p_technical - 0.5))
    mistakes = []
    for i in wrong[:15]:
        first = first_line(predictions[i].text or texts[i])
        row = rows[i] if rows else i + 1
        mistakes.append(f"| {row} | {_cell(first)} | {labels[i]} | {shown_p(predictions[i].p_technical)} | "
                        f"{_cell(predictions[i].evidence_compact())} |")
    if mistakes:
        mistakes_md = ("| row | posting (first line) | true | p_technical | evidence |\n|---|---|---|---|---|\n"
                       + "\n".join(mistakes))
        if len(wrong) > len(mistakes):
            mistakes_md += f"\n\nThe {len(mistakes)} most confident of {counted(len(wrong), 'mistake')}."
    else:
        mistakes_md = "No mistakes: every posting got its true label."
    notes = result.get("notes") or []
    notes_md = ("## Notes\n\n" + "\n".join(f"- {_cell(note)}" for note in notes) + "\n\n") if notes else ""

    metrics = "\n".join(
        f"| {k} | " + shown_metric(m["value"]) + " | "
        + (f"[{m['low']:.3f}, {m['high']:.3f}]" if "low" in m else "") + " |"
        for k, m in result["metrics"].items())
    report = folder / "report.md"
    report.write_text(
        f"# pmtype evaluation\n\nModel `{result.get('model_id')}`, {counted(result['n'], 'labelled posting')}.\n\n"
        "| metric | value | 95% interval |\n|---|---|---|\n" + metrics + "\n\n"
        f"Uncertain (inside the close-call band): {result.get('uncertain', 0)}. Called not-PM by the scope "
        f"check (scored all the same): {result.get('scope_flagged', 0)}.\n\n" + notes_md +
        "![confusion](confusion.png) ![reliability](reliability.png)\n\n![p by label](p_by_label.png)\n\n"
        "## How often each distinction's evidence fires, per true label\n\n"
        "Cues found: the share of each label's postings in which cues of that side were found. "
        "Leans: the share in which the distinction, on balance, pushed the model that way.\n\n"
        "| distinction | side | cues found: " + " | cues found: ".join(CLASSES) + " | leans: "
        + " | leans: ".join(CLASSES) + " |\n|---|---|---|---|---|---|\n" + "\n".join(table) + "\n\n"
        "## The worst mistakes\n\n" + mistakes_md + "\n",
        encoding="utf-8",
    )
