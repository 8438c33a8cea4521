"""``train``: read labelled postings, fit a model, report, and save it."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from pmtype import config, persist, tables
from pmtype.errors import BadInputFile, BadOption, BadTrainingData, MissingColumn, UnknownLabel, counted, printable
from pmtype.features import posting_text, text_kind
from pmtype.model import (PMTypeModel, TrainingSet, check_seed, data_hash, fit_model, jobs_for, normalise_label,
                          training_fingerprint)
from pmtype.text import first_line, reads_as_english


def _as_written(value) -> str:
    """A label cell as a message shows it: text quoted, anything else (a JSON list, object, number or
    boolean) as JSON writes it, as the user wrote it."""
    import json

    if isinstance(value, str):
        return repr(value)
    if hasattr(value, "tolist"):  # a numpy array (a Parquet list) or scalar
        value = value.tolist()
    return json.dumps(value, ensure_ascii=False, default=str)


def read_labelled(path, text_column: str | None = None, title_column: str | None = None,
                  label_column: str = "label", allow_not_pm: bool = True,
                  fmt: str | None = None, encoding: str | None = None) -> tuple[TrainingSet, list[str]]:
    """Labelled postings from a table, and notes on the rows left out (with reasons).

    Unknown labels stop everything with an error naming the rows; empty texts are left out
    and reported. Duplicates are kept (``dedupe`` drops them for training and refuses the same
    text with two labels; evaluate and compare score every row as given).
    A text or title column that is the label column is a ``BadOption``. Each text's row
    number in the file (``tables.read_numbered_table``: a CSV/TSV record, blank lines counted; a JSON Lines row is its line)
    goes into ``rows``.
    """
    with tables.naming_input(path):  # train reads several files (the seed corpus too): say which
        # each row as the user finds it in the file, counted as it is read (standard input is read once)
        frame, number = tables.read_numbered_table(path, fmt=fmt, encoding=encoding)
        text_col, title_col = tables.posting_columns(frame.columns, text_column, title_column,
                                                     tables.read_format(frame, path, fmt))
    name = tables.input_name(path)
    try:
        label_col = tables.find_column(frame.columns, label_column, (label_column,), "label")
    except MissingColumn:
        raise MissingColumn(f"{name}: no label column '{label_column}'; the columns are: "
                            f"{tables.describe_columns(frame.columns)}; name one with --label-column") from None
    refuse_label_as_text(label_col, text_col, title_col)
    # A list, not Series.map: with pandas' string dtype a None from map comes back as NaN.
    labels = pd.Series([normalise_label(v) for v in frame[label_col]], dtype=object)
    allowed = {"technical", "business"} | ({"not_pm"} if allow_not_pm else set())
    bad = [i for i, v in enumerate(labels) if v is not None and v not in allowed]
    missing = [i for i, v in enumerate(labels) if v is None]
    notes: list[str] = []
    if bad:
        values = sorted({_as_written(frame[label_col].iloc[i]) for i in bad})[:5]
        raise UnknownLabel(
            f"{name}: {counted(len(bad), 'row has', 'rows have')} a label other than "
            f"{config.LABELS_NAMED if allow_not_pm else 'technical or business'} "
            f"({_rows_named([number[i] for i in bad])}; {'value' if len(values) == 1 else 'values'} "
            f"{', '.join(values)})"
        )
    if missing:
        raise UnknownLabel(
            f"{name}: {counted(len(missing), 'row has', 'rows have')} no label ("
            + _rows_named([number[i] for i in missing]) + ")"
        )
    texts, ys, rows = [], [], []
    empty, not_text, unread = [], [], []
    for i in range(len(frame)):
        body = frame[text_col].iloc[i]
        kind = text_kind(body)  # NaN/None/null cells and markup alone are empty; numbers are not text
        if kind != "text":
            (empty if kind == "empty" else not_text).append(number[i])
            continue
        title = tables.title_cell(frame[title_col].iloc[i]) if title_col else None
        text = posting_text(body, title)
        if len(text) > config.MAX_CHARS and text_kind(text[: config.MAX_CHARS]) != "text":
            unread.append(number[i])  # the model reads no more: it would give no p_technical, even forced
            continue
        texts.append(text)
        ys.append(labels.iloc[i])
        rows.append(number[i])
    if empty:
        notes.append(f"{name}: left out {counted(len(empty), 'row')} with empty text ({_rows_named(empty)})")
    if not_text:
        notes.append(f"{name}: left out {counted(len(not_text), 'row')} whose text is a number or has no letters "
                     f"({_rows_named(not_text)})")
    if unread:
        notes.append(f"{name}: left out {counted(len(unread), 'row')} with no letter in the first "
                     f"{config.MAX_CHARS} characters, all that pmtype reads of a posting ({_rows_named(unread)})")
    other_language = [row for row, t in zip(rows, texts) if not reads_as_english(t)]
    if other_language:  # kept: a user may mean to teach the word n-grams another language
        notes.append(f"{name}: {counted(len(other_language), 'row')} read as not English, kept "
                     f"({_rows_named(other_language)}): the cue lists and the scope check read English only")
    data = TrainingSet(texts, ys, [str(path)] * len(texts), rows,
                       {"text": text_col, "title": title_col, "label": label_col})
    return data, notes


def refuse_label_as_text(label_col: str | None, text_col: str | None, title_col: str | None) -> None:
    """A ``BadOption`` where the postings' text or title column is the label column: the model
    would read the labels themselves."""
    if label_col is None:
        return
    for what, column in (("text", text_col), ("title", title_col)):
        if column == label_col:
            raise BadOption(f"the {what} column '{printable(column)}' is the label column; "
                            f"give the postings' {what} column with --{what}-column")


def read_standard_input_once(paths: Sequence[str | os.PathLike]) -> None:
    """A ``BadOption`` where standard input (``-``) is among ``paths`` more than once: it can be read once."""
    if sum(str(p) == "-" for p in paths) > 1:
        raise BadOption("standard input ('-') is given more than once, but it can be read only once: "
                        "save the other tables to files")


def _rows_named(rows: Sequence[int], show: int = 10) -> str:
    """Row numbers for a message: 'row 4', or 'rows ' and the first ``show``, then "…" if there are more."""
    shown = ", ".join(map(str, rows[:show])) + (" …" if len(rows) > show else "")
    return ("row " if len(rows) == 1 else "rows ") + shown


def seed_corpus_file(path: str | Path | None = None) -> Path:
    """The seed corpus's file: ``path``, else ``config.seed_corpus_path()``."""
    return Path(path) if path else config.seed_corpus_path()


def read_seed_corpus(path: str | Path | None = None) -> tuple[TrainingSet, list[str]]:
    """The seed corpus's labelled postings (``seed_corpus_file(path)``), and notes.

    Read as ``read_labelled`` reads any labelled file; a missing file is a ``BadInputFile``
    that names it as the seed corpus (and, when ``path`` was not given, says how to set it).
    """
    seed_file = seed_corpus_file(path)
    if not seed_file.exists():
        # a path the caller gave is theirs to fix; the one from the settings is told how to set
        advice = "" if path else "; set PMTYPE_SEED_CORPUS to its path, or pass --no-seed"
        raise BadInputFile(f"the seed corpus {seed_file} does not exist{advice}")
    return read_labelled(seed_file)


def text_key(text: str) -> str:
    """What two postings share when they are the same text: the words, lower-cased."""
    return " ".join(text.split()).lower()


def dedupe(data: TrainingSet, then: str = "train again") -> tuple[TrainingSet, list[str]]:
    """Drop exact duplicate postings; refuse the same text with different labels, with a message
    that ends "fix the labels and ``then``" (the command the caller serves: ``train again``)."""
    seen: dict[str, str] = {}
    keep = []
    conflicts = []
    for i, (t, y) in enumerate(zip(data.texts, data.labels)):
        key = text_key(t)
        if key in seen:
            if seen[key] != y:
                conflicts.append(i)
            continue
        seen[key] = y
        keep.append(i)
    if conflicts:
        last = conflicts[0]
        first = first_line(data.texts[last], 60)
        twin = next(i for i in range(last) if text_key(data.texts[i]) == text_key(data.texts[last]))
        if data.sources[twin] != data.sources[last]:  # each row in its own file
            where = " in " + " and in ".join(
                tables.input_name(data.sources[i]) + (f", row {data.rows[i]}" if data.rows else "") for i in (twin, last))
        else:
            where = f" in {tables.input_name(data.sources[last])}" + (
                f", rows {data.rows[twin]} and {data.rows[last]}" if data.rows else "")
        raise BadTrainingData(
            f"{counted(len(conflicts), 'posting appears', 'postings appear')} twice with different labels "
            f"(the first: '{first}'"
            f"{where}); fix the labels and {then}"
        )
    notes = []
    if len(keep) < len(data.texts):
        notes.append(f"left out {counted(len(data.texts) - len(keep), 'exact duplicate posting')}")
    return TrainingSet([data.texts[i] for i in keep], [data.labels[i] for i in keep],
                       [data.sources[i] for i in keep],
                       [data.rows[i] for i in keep] if data.rows else []), notes


def repeated_notes(data: TrainingSet, name: str) -> list[str]:
    """Notes for a file that is scored, not trained on (evaluate, compare): postings in it more than
    once (``text_key``: the same words) are each scored once per row, so they weigh more, and a posting
    given both labels is a mistake on one of its rows whatever the model says. Rows are named."""
    first_of: dict[str, int] = {}
    again, both = [], []
    for i, t in enumerate(data.texts):
        j = first_of.setdefault(text_key(t), i)
        if j != i:
            (both if data.labels[j] != data.labels[i] else again).append(i)
    notes = []
    row = (lambda i: data.rows[i]) if data.rows else (lambda i: i + 1)
    if again:
        notes.append(f"{name}: {counted(len(again), 'row repeats', 'rows repeat')} a posting of an earlier row, "
                     f"with its label ({_rows_named([row(i) for i in again])}); each row is scored")
    if both:
        notes.append(f"{name}: {counted(len(both), 'row gives', 'rows give')} an earlier row's posting the other "
                     f"label ({_rows_named([row(i) for i in both])}); one of the two is scored wrong whatever "
                     "the model says")
    return notes


def yield_to(user: TrainingSet, seed: TrainingSet) -> tuple[TrainingSet, list[str]]:
    """The seed corpus less its postings that the user's rows hold too (the same words,
    ``text_key``): where a user labels a seed posting, the user's label is the one trained on,
    as ``check-labels`` checks it. A note says how many, and how many labels differ."""
    labels_of = {text_key(t): y for t, y in zip(user.texts, user.labels)}
    keep, differ = [], 0
    for i, (t, y) in enumerate(zip(seed.texts, seed.labels)):
        theirs = labels_of.get(text_key(t))
        if theirs is None:
            keep.append(i)
        elif theirs != y:
            differ += 1
    dropped = len(seed.texts) - len(keep)
    if not dropped:
        return seed, []
    note = (f"{dropped} seed corpus postings are in your files too; your labels are the ones trained on"
            + (f" ({differ} differ from the seed corpus's)" if differ else ""))
    return TrainingSet([seed.texts[i] for i in keep], [seed.labels[i] for i in keep],
                       [seed.sources[i] for i in keep], [seed.rows[i] for i in keep] if seed.rows else []), [note]


def combine(parts: Sequence[TrainingSet]) -> TrainingSet:
    rows = [r for p in parts for r in p.rows] if all(len(p.rows) == len(p.texts) for p in parts) else []
    return TrainingSet([t for p in parts for t in p.texts], [y for p in parts for y in p.labels],
                       [s for p in parts for s in p.sources], rows)


def version_name(created: datetime, digest: str) -> str:
    """The name of a model version nobody named: its UTC creation time and its data's hash."""
    return f"{created:%Y%m%dT%H%M%SZ}-{digest[:8]}"


def _is_stream(source: str) -> bool:
    """Whether the training table ``source`` is standard input (``-``), or a pipe or device (``/dev/fd/63``
    for ``<(…)``), whose path's last part alone names nothing."""
    return source == "-" or os.path.abspath(source).startswith(("/dev/", "/proc/"))


def source_names(given: Sequence[str], trained: Sequence[str], seed_corpus: str | None = None) -> list[str]:
    """The training tables ``given`` as the manifest names them, sorted: a file by its name, or by as many
    of its last folders as tell it from another file of that name (``a/mine.csv`` and ``b/mine.csv``);
    ``standard input`` for ``-``, and a pipe or device by its whole path. A table none of whose postings
    is trained on (``trained``: the source of each posting that is; its rows were all copies, say) is
    named with '(0 postings)'. A file given twice, under any path, is named once. The seed corpus
    (``seed_corpus``, its file, one of ``given``) is named as such, with its last two folders and the
    postings trained on from it: 'the seed corpus (data/seed/postings.csv, 1913 postings)', never taken
    for a user's file."""
    def key(source: str) -> str:
        return source if _is_stream(source) else os.path.abspath(source)

    keys = list(dict.fromkeys(key(s) for s in given))
    kept = Counter(key(s) for s in trained)  # postings trained on, by source
    seed_key = key(seed_corpus) if seed_corpus is not None else None
    files = [Path(k).parts for k in keys if not _is_stream(k)]
    names = []
    for k in keys:
        if _is_stream(k):
            name = "standard input" if k == "-" else k
        else:
            parts = Path(k).parts
            last = next((n for n in range(1, len(parts)) if sum(f[-n:] == parts[-n:] for f in files) == 1),
                        len(parts))
            name = str(Path(*parts[-last:]))
        if k == seed_key:
            name = f"the seed corpus ({Path(*Path(k).parts[-3:])}, {counted(kept[k], 'posting')})"
        elif k not in kept:
            name = f"{name} ({counted(0, 'posting')})"
        names.append(name)
    return sorted(names)


@config.user_paths("paths", "output", "seed_path", "cue_cache")
def train(paths: Sequence[str | Path], output: str | Path | None = None, use_seed: bool = True,
          seed_path: str | Path | None = None, text_column: str | None = None,
          title_column: str | None = None, label_column: str = "label",
          overwrite: bool = False, seed: int | None = config.SEED, jobs: int | None = None,
          drop_boilerplate: bool = False, cue_cache: str | Path | None = None,
          fmt: str | None = None, encoding: str | None = None,
          progress: Callable[[str], None] | None = None) -> dict:
    """Train on the seed corpus (unless ``use_seed`` is False) plus the given files; save to ``output``.

    With no ``output``, the model becomes a new version in ``config.models_dir()`` named
    ``<UTC time>-<data hash[:8]>`` (see ``version_name``). Returns the manifest written
    beside the model; its ``notes`` say what was left out and ``name`` is the folder's name.
    With ``cue_cache`` (a folder), postings read in an earlier training are not read again.
    ``seed`` fixes the random state of the folds and the classifiers; None is ``config.SEED``, not an
    unfixed seed as in scikit-learn, so that training the same data again gives the same model.
    """
    jobs_for(0, jobs)  # a wrong number fails before any file is read
    seed = check_seed(seed)
    say = progress or (lambda _m: None)
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]  # one file
    elif isinstance(paths, Iterator):
        paths = list(paths)  # a generator: checked below, it would be spent before any file is read
    if isinstance(paths, (pd.DataFrame, pd.Series)) or not all(isinstance(p, (str, os.PathLike)) for p in paths):
        raise TypeError("train reads labelled files: give their paths (a DataFrame: save it with to_csv first)")
    read_standard_input_once(paths)
    if output is not None:  # before training, not after
        persist.check_replaceable(Path(output), overwrite)
        tables.check_output_folder(output)
    else:
        tables.check_output_folder(config.models_dir())
    parts: list[TrainingSet] = []
    notes: list[str] = []
    columns = []  # each table's, as read_labelled found them
    if use_seed:
        seed_data, seed_notes = read_seed_corpus(seed_path)
        notes += seed_notes
        columns.append(seed_data.columns)
    given = ([str(seed_corpus_file(seed_path))] if use_seed else []) + [str(path) for path in paths]
    for path in paths:
        data, more = read_labelled(path, text_column, title_column, label_column, fmt=fmt, encoding=encoding)
        parts.append(data)
        notes += more
        columns.append(data.columns)
    if use_seed:
        seed_data, more = yield_to(combine(parts), seed_data)
        parts.insert(0, seed_data)
        notes += more
    if not parts:
        raise BadTrainingData("nothing to train on: give labelled files, or leave out --no-seed")
    data, more = dedupe(combine(parts))
    notes += more
    for note in notes:
        say(note)
    model, report = fit_model(data, seed=seed, progress=say, jobs=jobs, drop_boilerplate=drop_boilerplate,
                              cue_cache=Path(cue_cache) if cue_cache is not None else None)
    counts = pd.Series(data.labels).value_counts().to_dict()
    if not model.english_only:
        notes.append(f"{config.OTHER_LANGUAGES_SHARE:.0%} or more of the PM postings are not in English: this "
                     "model labels postings in other languages too (its cue lists read English only)")
        say(notes[-1])
    if model.scope_pipeline is None and counts.get("not_pm", 0):
        notes.append(f"{counted(counts['not_pm'], 'not_pm row is', 'not_pm rows are')} too few for a scope check (it needs "
                     f"{config.CV_FOLDS}); this model has none and labels every posting")
        say(notes[-1])
    digest = data_hash(data.texts, data.labels)
    created = datetime.now(timezone.utc).replace(microsecond=0)
    if output is None:
        output = config.models_dir() / version_name(created, digest)
        model_id = output.name
    else:
        # "new/x/.." names the folder "new": its name is the resolved path's, never ".."
        output = Path(os.path.abspath(output)) if Path(output).name in ("", "..") else Path(output)
        # the folder's name and what made the model: the same data under other settings or
        # other cue lists is another model, and its rows must say so in pm_model
        made_of = f"{digest}|{use_seed}|{training_fingerprint(seed, drop_boilerplate=drop_boilerplate)}"
        model_id = f"{output.name}-{hashlib.sha256(made_of.encode()).hexdigest()[:10]}"
    model.model_id = model_id
    manifest = {
        "model_id": model_id,
        "name": output.name,
        "created": created.isoformat(),
        "data": {
            "sha256": digest,
            "rows": len(data.texts),
            "by_label": {k: int(v) for k, v in sorted(counts.items())},
            "sources": source_names(given, data.sources, seed_corpus=given[0] if use_seed else None),
            "seed_corpus": use_seed,
        },
        "metrics": report,
        "band": model.band,
        "scope_check": model.scope_pipeline is not None,
        "english_only": model.english_only,
        "drop_boilerplate": drop_boilerplate,
        # the random seed and, for each role, the columns the tables' postings and labels were read from
        "training": {"seed": int(seed),
                     "columns": {role: list(dict.fromkeys(c[role] for c in columns))
                                 for role in persist.TABLE_ROLES}},
        "notes": notes,
    }
    return persist.save_model(model, output, manifest, overwrite=overwrite)


def build_default_model(path: str | Path, progress: Callable[[str], None] | None = None) -> dict:
    """Build the default model from the seed corpus (used by ``make model`` and on first use)."""
    return train([], path, use_seed=True, overwrite=True, progress=progress)


__all__ = ["train", "read_labelled", "build_default_model", "PMTypeModel"]
