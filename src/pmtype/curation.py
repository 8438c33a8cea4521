"""Curating labels: finding likely label mistakes, and choosing what to label next.

``check_labels`` applies confident learning (Northcutt, Jiang and Chuang, 2021,
the method of the cleanlab library) to out-of-fold probabilities: a row is
suspect when the model, never having seen it, is confident it belongs to the
other class. ``suggest`` ranks unlabelled postings by how unsure the model is
of them, while keeping the list varied.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pmtype import config, tables
from pmtype import text as text_mod
from pmtype.errors import BadOption, BadTrainingData, MissingColumn, NothingToSuggest, counted
from pmtype.features import posting_text, text_kind
from pmtype.model import (STATUS_EMPTY, STATUS_NOT_ENGLISH, STATUS_NOT_PM, PMTypeModel, cross_fit, cue_cache_dir,
                          load_model, normalise_label, status_kind)

CLASSES = ("business", "technical")
#: What a label conflict in a file tells the user of ``check_labels`` to do: "fix the labels and …".
AGAIN = "run check-labels again"

# --- label mistakes ----------------------------------------------------------------------


def _need_both_labels(given: Sequence[str], not_pm: int = 0, path=None) -> None:
    """A ``BadTrainingData`` unless ``given`` holds both labels; where it holds neither, the
    message names ``path`` (if known) and the ``not_pm`` rows left out of the check."""
    present = set(given)
    if not present & set(CLASSES):
        where = f"{tables.input_name(path)} has" if path else "found"
        unchecked = f" ({counted(not_pm, 'not_pm row is', 'not_pm rows are')} not checked)" if not_pm else ""
        raise BadTrainingData(f"checking labels needs rows of both labels; {where} no technical or business "
                              f"rows with text{unchecked}")
    for name in CLASSES:
        if name not in present:
            raise BadTrainingData(f"checking labels needs rows of both labels; found no {name} rows "
                                  "with text (rows with empty text are left out)")


def find_label_issues(given: Sequence[str], p_technical: Sequence[float]) -> tuple[list[tuple[int, str, float, float]], dict[str, float]]:
    """Rows whose given label disagrees confidently with out-of-fold probabilities.

    Confident learning: each class's threshold is the mean probability of that
    class among the rows given that class. A row's confident label is, among the
    classes whose probability reaches their threshold, the most probable one; a row
    is an issue when its confident label is not the given one and the given label is not
    the most probable one (as in cleanlab). Issues are ranked by
    margin, P(confident label) − P(given label), largest (most suspicious) first.

    Returns ``(index, suggested label, P(suggested), margin)`` for each issue, and the thresholds.
    """
    p_tech = np.asarray(p_technical, dtype=float)
    P = np.column_stack([1 - p_tech, p_tech])  # columns in CLASSES order
    _need_both_labels(given)
    s = np.array([CLASSES.index(y) for y in given])
    thresholds = {name: float(P[s == k, k].mean()) for k, name in enumerate(CLASSES)}
    t = np.array([thresholds[name] for name in CLASSES])
    above = P >= t
    confident = np.where(above, P, -1.0).argmax(axis=1)
    # As cleanlab does, no row is an issue where the given label is the most probable one: a
    # threshold under 0.5 could otherwise flag a label the model itself prefers.
    prefers_given = P[np.arange(len(s)), s] >= P.max(axis=1)
    issues = []
    for i in np.flatnonzero(above.any(axis=1) & (confident != s) & ~prefers_given):
        k = int(confident[i])
        issues.append((int(i), CLASSES[k], float(P[i, k]), float(P[i, k] - P[i, s[i]])))
    issues.sort(key=lambda x: (-x[3], x[0]))
    return issues, thresholds


@dataclass
class LabelIssue:
    """A row whose given label the out-of-fold model confidently disagrees with."""

    row: int  # in the file, as tables.read_numbered_table numbers it (CSV/TSV: the record; JSON Lines: the line)
    given: str
    suggested: str
    confidence: float  # out-of-fold probability of the suggested label
    margin: float  # P(suggested) − P(given), out of fold; higher is more suspicious
    evidence: str  # Prediction.evidence_compact() of the model fitted on every row
    title: str  # the posting's first line


@dataclass
class LabelCheck:
    """The outcome of ``check_labels``."""

    path: str  # the input as messages name it: ``standard input`` for ``-`` (``tables.input_name``)
    checked: int
    thresholds: dict[str, float]
    issues: list[LabelIssue]
    notes: list[str] = field(default_factory=list)
    output: str | None = None

    COLUMNS = ("row", "given_label", "suggested_label", "confidence", "margin", "evidence", "title")
    #: Each column's type, with issues or none: the same columns in every Parquet file.
    DTYPES = {"row": "int64", "given_label": "str", "suggested_label": "str", "confidence": "float64",
              "margin": "float64", "evidence": "str", "title": "str"}

    def frame(self) -> pd.DataFrame:
        """The issues as a table (``DTYPES``); ``row`` is a whole number, ``confidence`` and ``margin`` are numbers."""
        values = [[i.row, i.given, i.suggested, i.confidence, i.margin, i.evidence, i.title] for i in self.issues]
        return pd.DataFrame({name: pd.Series([v[k] for v in values], dtype=self.DTYPES[name])
                             for k, name in enumerate(self.COLUMNS)})


@config.user_paths("path", "output", "seed_path")
def check_labels(path, output: str | Path | None = None, text_column: str | None = None,
                 title_column: str | None = None, label_column: str = "label",
                 use_seed: bool = True, seed_path: str | Path | None = None,
                 fmt: str | None = None, encoding: str | None = None, cv_folds: int = config.CV_FOLDS,
                 seed: int | None = config.SEED, jobs: int | None = None, cue_cache: bool = True,
                 progress: Callable[[str], None] | None = None) -> LabelCheck:
    """List the rows of a labelled file whose label is likely wrong, most suspicious first.

    The file is read as ``train`` reads it (the same errors and reported skips); its
    technical and business rows are cross-validated with the training pipeline
    (``model.cross_fit``), and ``find_label_issues`` is applied to the out-of-fold
    probabilities. The evidence comes from the pipeline fitted on every row. With
    ``use_seed`` (the default, as in ``train``), the seed corpus's technical and business
    postings (``seed_path``, by default ``config.seed_corpus_path()``: the rows ``train``
    adds) are in the training part of every fold and in that pipeline too, but are not
    checked: probabilities, thresholds and issues cover the file's rows only. A seed
    posting with the same text as one of the file's is left out (the file's label is the
    one checked). On small files the seed corpus finds more of the wrong labels with fewer
    false alarms (benchmarks/RESULTS.md, section 9), and the file needs only both labels and
    one posting per fold, where alone it needs enough of each label to train on. With
    ``output``, the issues are written there as a table (``LabelCheck.COLUMNS``). With
    ``cue_cache``, postings read before (by ``train`` or a check) are not read again. ``seed``: as
    ``train`` takes it (None is ``config.SEED``).
    """
    from pmtype.model import check_seed, jobs_for
    from pmtype.training import dedupe, read_labelled, read_seed_corpus, text_key

    jobs_for(0, jobs)  # a wrong number fails before any file is read
    seed = check_seed(seed)
    if output is not None:  # before the cross-validation, which can take minutes
        tables.check_output(output, path)
        # standard output, a pipe or a device: CSV, as suggest writes there
        out_format = "csv" if tables.is_stream(output) else tables.detect_output_format(output, option=None)
    data, notes = read_labelled(path, text_column, title_column, label_column, fmt=fmt, encoding=encoding)
    data, more = dedupe(data, then=AGAIN)
    notes += more
    pm, not_pm = data.pm_only()
    if not_pm:
        notes.append(f"{tables.input_name(path)}: left out {counted(not_pm, 'row')} labelled not_pm (the check "
                     "covers technical and business postings)")
    texts, given, rows = pm.texts, pm.labels, pm.rows
    _need_both_labels(given, not_pm, path)  # before the seed corpus is read: the check could not use it
    train_only = None
    if use_seed:
        seed_data, seed_notes = read_seed_corpus(seed_path)
        seed_data, more = dedupe(seed_data, then=AGAIN)
        seed_pm, _ = seed_data.pm_only()
        notes += seed_notes + [f"seed corpus: {note}" for note in more]
        mine = {text_key(t) for t in texts}
        keep = [i for i, t in enumerate(seed_pm.texts) if text_key(t) not in mine]
        notes.append(f"trained with {len(keep)} seed corpus postings besides yours"
                     + (f" (left out {len(seed_pm.texts) - len(keep)} that are also in {tables.input_name(path)})"
                        if len(keep) < len(seed_pm.texts) else ""))
        train_only = ([seed_pm.texts[i] for i in keep], [seed_pm.labels[i] for i in keep])
    fit = cross_fit(texts, given, seed=seed, cv_folds=cv_folds, jobs=jobs, progress=progress,
                    cue_cache=cue_cache_dir() if cue_cache else None, train_only=train_only)
    found, thresholds = find_label_issues(given, fit.p_out_of_fold)
    model = PMTypeModel(fit.label_pipeline, None, model_id="check-labels")
    predictions = model.predict([texts[i] for i, *_ in found], force=True) if found else []
    issues = [LabelIssue(rows[i], given[i], suggested, round(confidence, 4), round(margin, 4),
                         pred.evidence_compact(), text_mod.first_line(pred.text or texts[i]))
              for (i, suggested, confidence, margin), pred in zip(found, predictions)]
    check = LabelCheck(tables.input_name(path), len(texts), thresholds, issues, notes)
    if output is not None:
        with tables.atomic_output(output, out_format) as writer:
            frame = check.frame()
            if writer.fmt in ("csv", "tsv"):  # four decimals of text, as label writes probabilities
                frame = tables.decimals_as_text(tables.decimals_as_text(frame, "confidence"), "margin")
            writer.write(frame)  # numbers in JSON Lines and Parquet
        check.output = str(output)
    return check


# --- what to label next -------------------------------------------------------------------

#: How much similarity to an already-picked posting costs, against uncertainty (both 0–1).
DIVERSITY = 0.5
#: Cosine similarity (word TF-IDF of the role text) from which a posting is a near-copy of a picked one.
NEAR_DUPLICATE = 0.85


def pick_diverse(uncertainty: np.ndarray, vectors, n: int, diversity: float = DIVERSITY,
                 near_duplicate: float = NEAR_DUPLICATE) -> list[int]:
    """Greedy picks: each time the row maximising uncertainty − diversity × (its highest
    cosine similarity to a picked row); near-copies of a picked row (similarity ≥
    ``near_duplicate``) are never picked. ``vectors`` are L2-normalised rows.
    """
    m = len(uncertainty)
    closest = np.zeros(m)
    blocked = np.zeros(m, dtype=bool)
    picked: list[int] = []
    while len(picked) < n:
        score = np.where(blocked, -np.inf, np.asarray(uncertainty, dtype=float) - diversity * closest)
        i = int(np.argmax(score))
        if not np.isfinite(score[i]):
            break
        picked.append(i)
        sims = np.asarray((vectors @ vectors[i].T).todense()).ravel()
        closest = np.maximum(closest, sims)
        blocked |= sims >= near_duplicate
        blocked[i] = True
    return picked


@dataclass
class Suggestions:
    """The postings ``suggest`` picked, and what it left out and why."""

    frame: pd.DataFrame  # the picked rows, in order: the input's columns, an empty label, p_technical
    rows: list[int]  # their row numbers in the input, as tables.read_numbered_table gives them
    candidates: int
    left_out: dict[str, int]  # reason → number of rows
    model_id: str
    output: str | None = None
    notes: list[str] = field(default_factory=list)
    label_column: str = "label"  # the emptied label column as written: the input's own (its spelling), or added

    def line(self) -> str:
        other = "; ".join(f"{k}: {v}" for k, v in self.left_out.items() if v) or "none"
        return (f"suggested {len(self.frame)} of {counted(self.candidates, 'candidate posting')} (model "
                f"{self.model_id}); left out: {other}")


def _cell_text(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _likeness_vectors(texts: list[str]):
    """L2-normalised word TF-IDF rows, for how alike postings are; English stop words left out
    unless the postings hold nothing else (then every word counts; no word at all: no likeness)."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer

    for options in ({"stop_words": "english"}, {"token_pattern": r"(?u)\b\w+\b"}):
        try:
            return TfidfVectorizer(sublinear_tf=True, dtype=np.float32, **options).fit_transform(texts)
        except ValueError:  # "empty vocabulary"
            continue
    return sp.csr_matrix((len(texts), 1), dtype=np.float32)


def check_suggest_options(n, diversity, near_duplicate=NEAR_DUPLICATE) -> None:
    """A ``BadOption`` unless ``n`` is a whole number, at least 1, ``diversity`` a finite number, at least 0,
    and ``near_duplicate`` a cosine similarity above 0 and at most 1 (none a bool), in the words of
    ``pmtype suggest``'s options (the library's name for the last, which has no option)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise BadOption("-n must be a whole number, at least 1")
    if n < 1:
        raise BadOption("-n must be at least 1")
    if isinstance(diversity, bool) or not isinstance(diversity, numbers.Real) or not 0 <= diversity < math.inf:
        raise BadOption("--diversity must be a number, at least 0")  # NaN too: it compares false
    if isinstance(near_duplicate, bool) or not isinstance(near_duplicate, numbers.Real) or not 0 < near_duplicate <= 1:
        raise BadOption("near_duplicate must be a cosine similarity, above 0 and at most 1")  # NaN too


@config.user_paths("path", "output", models=("model",))
def suggest(path, n: int = 50, output: str | Path | None = None, model: PMTypeModel | str | Path | None = None,
            text_column: str | None = None, title_column: str | None = None, label_column: str = "label",
            fmt: str | None = None, out_fmt: str | None = None, encoding: str | None = None,
            diversity: float = DIVERSITY, near_duplicate: float = NEAR_DUPLICATE,
            progress: Callable[[str], None] | None = None) -> Suggestions:
    """The ``n`` unlabelled postings most worth labelling next, varied, as a table to fill in.

    Every posting is scored by the model; the uncertainty of a posting is
    1 − 2·|p_technical − 0.5|. Postings are picked greedily by ``pick_diverse``.
    Rows with empty text, rows in another language (``not English``), rows the scope
    check calls not a PM posting, and rows that already have a label (a
    ``label_column`` cell that ``train`` reads as a label, right or wrong: not blank, not a
    missing-value marker such as ``N/A``) are left out and counted, and so are copies of a labelled
    row's posting (the same words, as ``train`` reads them). ``n`` (a whole number, at
    least 1) and ``diversity`` (a finite number, at least 0) are checked first, and a text or
    title column that is the label column is refused, each a ``BadOption``.
    The picked rows keep every input column, with ``label_column`` emptied (added if
    absent) and ``p_technical``; with ``output`` they are written there, ready to be
    filled in and given to ``train``: in ``out_fmt``, else the format the file's name
    says (a name that says none is a ``BadInputFile``), CSV on standard output.
    """
    from pmtype.training import refuse_label_as_text, text_key

    check_suggest_options(n, diversity, near_duplicate)
    if output is not None:
        tables.check_output(output, path)
        out_format = (tables.detect_output_format(output, out_fmt, option=None)
                      if (out_fmt or not tables.is_stream(output)) else "csv")
    if not isinstance(model, PMTypeModel):
        tables.check_input_exists(path, fmt)  # a missing file is said before the default model is built
        model = load_model(model, progress=progress)
    with tables.naming_input(path):
        frame, number = tables.read_numbered_table(path, fmt=fmt, encoding=encoding)  # as train does
        text_col, title_col = tables.posting_columns(frame.columns, text_column, title_column,
                                                     tables.read_format(frame, path, fmt))
    try:
        label_col = tables.find_column(frame.columns, label_column, (label_column,), "label")
    except MissingColumn:
        label_col = None
    refuse_label_as_text(label_col, text_col, title_col)
    left_out = {"empty text": 0, "not text": 0, "not English": 0, "not a PM posting": 0, "already labelled": 0,
                "copies of labelled postings": 0, "near-copies of picked postings": 0}
    texts, where, labelled = [], [], set()
    for i in range(len(frame)):
        body = _cell_text(frame[text_col].iloc[i])
        kind = text_kind(frame[text_col].iloc[i])  # as label reads a cell: "NaN" is empty, "12345" no text
        text = (posting_text(body, tables.title_cell(frame[title_col].iloc[i]) if title_col else None)
                if kind == "text" else None)
        if label_col is not None and normalise_label(frame[label_col].iloc[i]) is not None:
            left_out["already labelled"] += 1
            if text is not None:
                labelled.add(text_key(text))
        elif text is None:
            left_out["empty text" if kind == "empty" else "not text"] += 1
        else:
            texts.append(text)
            where.append(i)
    # a posting labelled in another row of the file, as train reads the same words (text_key): labelling it
    # again teaches nothing
    copies = [text_key(t) in labelled for t in texts]
    left_out["copies of labelled postings"] = sum(copies)
    texts = [t[: config.MAX_CHARS] for t, copy in zip(texts, copies) if not copy]
    where = [i for i, copy in zip(where, copies) if not copy]
    p = np.full(len(texts), np.nan)
    keep = np.zeros(len(texts), dtype=bool)
    for start in range(0, len(texts), config.CHUNK_SIZE):
        for j, pred in enumerate(model.predict(texts[start:start + config.CHUNK_SIZE]), start):
            status = status_kind(pred.status)  # "not English; truncated to …" is not English
            if status in (STATUS_NOT_ENGLISH, STATUS_NOT_PM):
                left_out[status] += 1
            elif status == STATUS_EMPTY:
                left_out["empty text"] += 1
            elif pred.p_technical is not None:
                p[j], keep[j] = pred.p_technical, True
    candidates = np.flatnonzero(keep)
    if not len(candidates):
        raise NothingToSuggest(
            f"{tables.input_name(path)}: no posting left to suggest ({counted(len(frame), 'row')}: "
            + ", ".join(f"{k} {v}" for k, v in left_out.items() if v) + ")")
    role = [text_mod.role_text(text_mod.normalise(texts[j])) or texts[j] for j in candidates]
    vectors = _likeness_vectors(role)
    uncertainty = 1 - 2 * np.abs(p[candidates] - 0.5)
    picked = pick_diverse(uncertainty, vectors, n, diversity, near_duplicate)
    if picked:
        closest = np.asarray((vectors @ vectors[picked].T).max(axis=1).todense()).ravel()
        unpicked = np.ones(len(candidates), dtype=bool)
        unpicked[picked] = False
        left_out["near-copies of picked postings"] = int((unpicked & (closest >= near_duplicate)).sum())
    rows = [where[candidates[k]] for k in picked]
    out = frame.iloc[rows].reset_index(drop=True).copy()
    out[label_col or label_column] = ""
    notes = [f"{tables.input_name(path)}: its column 'p_technical' is replaced by the model's in the output"
             ] if "p_technical" in out.columns else []
    out["p_technical"] = pd.Series([round(float(p[candidates[k]]), 4) for k in picked], dtype="float64")

    result = Suggestions(out, [number[r] for r in rows], len(candidates), left_out, model.model_id, notes=notes,
                         label_column=label_col or label_column)
    if output is not None:
        with tables.atomic_output(output, out_format) as writer:
            # a number in JSON Lines and Parquet; four decimals of text in CSV and TSV, as label writes it
            writer.write(tables.decimals_as_text(out, "p_technical") if writer.fmt in ("csv", "tsv") else out)
        result.output = str(output)
    return result
