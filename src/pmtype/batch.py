"""``label_file``: label a table of postings of any size, chunk by chunk.

Every input row comes out, in order, with its columns as they were and four
more: ``pm_label``, ``pm_p_technical``, ``pm_status``, ``pm_evidence`` (and
``pm_model``). The output appears under its name only when the run ends.
``pm_p_technical`` is a number in JSON Lines and Parquet (null where there is no
label) and text with four decimals in CSV and TSV (empty where there is none).
"""

from __future__ import annotations

import codecs
import gzip
import io
import os
import signal
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pmtype import config, persist, tables
from pmtype.errors import BadInputFile, BadOption, MissingColumn
from pmtype.features import body_kind, posting_text
from pmtype.model import PMTypeModel, default_model_path, load_model, model_folder

OUTPUT_COLUMNS = ("pm_label", "pm_p_technical", "pm_status", "pm_evidence", "pm_model")
#: Part of what a resumed run must match: how the output columns are written (2: the
#: probability is a number in JSON Lines and Parquet; 1 wrote it as text everywhere).
OUTPUT_LAYOUT = 2


@dataclass
class LabelSummary:
    rows: int = 0
    labels: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    output: str = ""
    resumed_rows: int = 0

    @property
    def problems(self) -> int:
        return sum(v for k, v in self.statuses.items() if k not in ("ok", "uncertain"))

    def line(self) -> str:
        labels = ", ".join(f"{k} {v}" for k, v in sorted(self.labels.items())) or "none"
        other = ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items()) if k != "ok") or "none"
        rate = self.rows / self.seconds if self.seconds else 0.0
        return (f"{self.rows} rows labelled in {self.seconds:.1f}s ({rate:.0f}/s): {labels}; "
                f"statuses other than ok: {other}")


def label_frame(model: PMTypeModel, frame: pd.DataFrame, text_column: str,
                title_column: str | None = None, force: bool = False,
                max_chars: int = config.MAX_CHARS) -> pd.DataFrame:
    """``frame`` with the pm_* columns added (replacing any already there), row for row."""
    bodies = frame[text_column].tolist()
    titles = frame[title_column].tolist() if title_column else [None] * len(frame)
    texts: list[object] = []
    truncated: list[bool] = []
    for body, title in zip(bodies, titles):
        kind = tables.cell_kind(body)  # NaN/None/null cells are empty; numbers are not text
        if kind == "text":
            kind = body_kind(body)  # markup alone ("<div><br/></div>", "&nbsp;") is no text either
        if kind != "text":
            texts.append("" if kind == "empty" else None)
            truncated.append(False)
        else:
            texts.append(posting_text(body[:max_chars], tables.title_cell(title)))
            truncated.append(len(body) > max_chars)
    predictions = model.predict(texts, force=force)
    out = frame.drop(columns=[c for c in OUTPUT_COLUMNS if c in frame.columns]).copy()
    statuses = []
    for pred, cut in zip(predictions, truncated):
        statuses.append(pred.status + (f"; truncated to {max_chars} characters" if cut else ""))
    out["pm_label"] = [p.label or "" for p in predictions]
    out["pm_p_technical"] = pd.Series(
        [float("nan") if p.p_technical is None or p.label is None else round(p.p_technical, 4)
         for p in predictions], index=out.index, dtype="float64")
    out["pm_status"] = statuses
    out["pm_evidence"] = [p.evidence_compact() for p in predictions]
    out["pm_model"] = model.model_id
    return out


# --- worker processes -----------------------------------------------------------

_WORKER_MODEL: PMTypeModel | None = None


def _init_worker(model_path: str, parent: int) -> None:
    global _WORKER_MODEL
    # Ctrl-C reaches the whole process group: the main process stops the run and says so in one
    # line, while a worker just ends (raising KeyboardInterrupt, it printed its own traceback).
    signal.signal(signal.SIGINT, _end_quietly)
    _exit_with_parent(parent)
    _WORKER_MODEL = load_model(model_path, build_if_missing=False)


def _end_quietly(signum, frame) -> None:
    os._exit(128 + signum)


def _exit_with_parent(parent: int, every: float = 1.0) -> None:
    """End this worker when ``parent``, the process that started it, is gone (killed, say, with
    SIGKILL, which gives it no chance to stop its pool): else the worker lives on, holding its
    memory and the parent's output pipes open. The parent's id is given, not looked up here: a
    parent that died before this runs would otherwise go unnoticed."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="pmtype-parent-watch", daemon=True).start()


def _label_in_worker(frame: pd.DataFrame, text_column: str, title_column: str | None,
                     force: bool) -> pd.DataFrame:
    assert _WORKER_MODEL is not None
    return label_frame(_WORKER_MODEL, frame, text_column, title_column, force)


def _labelled_chunks(chunks: Iterator[pd.DataFrame], model: PMTypeModel, model_path: str,
                     text_column: str, title_column: str | None, force: bool,
                     jobs: int) -> Iterator[pd.DataFrame]:
    if jobs <= 1:
        for chunk in chunks:
            yield label_frame(model, chunk, text_column, title_column, force)
        return
    with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(model_path, os.getpid())) as pool:
        pending = []
        for chunk in chunks:
            pending.append(pool.submit(_label_in_worker, chunk, text_column, title_column, force))
            if len(pending) >= 2 * jobs:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


def label_file(input_path, output_path, model: PMTypeModel | str | Path | None = None,
               text_column: str | None = None, title_column: str | None = None,
               in_format: str | None = None, out_format: str | None = None,
               encoding: str | None = None, chunk_size: int = config.CHUNK_SIZE,
               jobs: int = 1, force: bool = False, resume: bool = False,
               on_rows: Callable[[int], None] | None = None,
               progress: Callable[[str], None] | None = None) -> LabelSummary:
    """Label every row of ``input_path`` into ``output_path`` (``-`` for stdin/stdout).

    ``model`` is a version name, a model folder, None for the default model, or a loaded model (used in
    this process: ``jobs`` does not apply). ``jobs`` > 1 labels chunks in that many
    processes (only when the input holds more than one chunk). ``resume`` continues a run that was interrupted, from
    its last complete chunk (any output file; not standard output).
    """
    started = time.perf_counter()
    if chunk_size < 1:
        raise BadOption("--chunk-size must be at least 1")
    in_memory = model if isinstance(model, PMTypeModel) else None
    if model is None and not (default_model_path() / persist.MANIFEST_FILE).exists():
        load_model(None, progress=progress)  # builds the default model once
    model_path = "" if in_memory is not None else str(model_folder(model))
    tables.check_output(output_path, input_path)
    stream = tables.is_stream(output_path)  # standard output, /dev/null, a pipe: nothing to resume
    in_fmt = tables.detect_format(input_path, in_format)
    out_fmt = (tables.detect_format(output_path, out_format, option="--output-format")
               if (out_format or not stream) else in_fmt)
    if resume and str(input_path) == "-":
        raise BadOption("--resume needs an input file: standard input cannot be read again")
    if resume and tables.is_stream(input_path):
        raise BadOption(f"--resume needs an input file: {input_path} is a pipe and cannot be read again")
    if resume and stream:
        raise BadOption("--resume needs an output file, not standard output"
                        + ("" if str(output_path) == "-" else f" or a device ({output_path})"))
    chunks = tables.read_chunks(input_path, fmt=in_fmt, chunk_size=chunk_size, encoding=encoding)
    first = next(chunks)
    text_col = tables.find_column(first.columns, text_column, tables.TEXT_COLUMNS, "text")
    title_col = tables.find_column(first.columns, title_column, tables.TITLE_COLUMNS, "title",
                                   required=title_column is not None)
    if len(first) < chunk_size or in_memory is not None:
        jobs = 1  # one chunk: worker processes would cost more than they save
    if in_memory is not None:
        loaded, model_id = in_memory, in_memory.model_id
    elif jobs > 1:
        # The workers load the model; here it is only checked (hash, versions), not unpickled.
        loaded, model_id = None, persist.verify_model(Path(model_path)).get("model_id", "unsaved")
    else:
        loaded = load_model(model_path, progress=progress)
        model_id = loaded.model_id

    def all_chunks():
        yield first
        yield from chunks

    summary = LabelSummary(output=str(output_path))

    def run(writer, skip_rows: int = 0) -> None:
        source = all_chunks()
        skipped = 0
        while skipped < skip_rows:
            skipped += len(next(source))
        if skip_rows and on_rows:
            on_rows(skip_rows)
        for labelled in _labelled_chunks(source, loaded, model_path, text_col, title_col, force, jobs):
            writer.write(tables.decimals_as_text(labelled, "pm_p_technical") if out_fmt in ("csv", "tsv")
                         else labelled)
            summary.rows += len(labelled)
            summary.labels.update(v for v in labelled["pm_label"] if v)
            summary.statuses.update(s.split(";")[0] for s in labelled["pm_status"])
            if on_rows:
                on_rows(len(labelled))

    if stream:
        with tables.atomic_output(output_path, out_fmt) as writer:
            run(writer)
    else:
        # Everything that decides the output's bytes: a resume under any other settings starts afresh.
        model_sha256 = persist.read_manifest(Path(model_path)).get("model_sha256") if model_path else None
        identity = {"input": _identity(input_path), "chunk_size": chunk_size, "model": model_id,
                    "model_sha256": model_sha256, "text": text_col, "title": title_col, "force": force,
                    "format": out_fmt, "in_format": in_fmt, "encoding": encoding, "layout": OUTPUT_LAYOUT}
        with tables.ResumableOutput(output_path, out_fmt, identity, resume=resume) as writer:
            summary.resumed_rows = writer.rows_done
            if writer.rows_done and progress:
                progress(f"resuming after {writer.rows_done} rows already labelled")
            run(writer, skip_rows=writer.rows_done)
            writer.finish()
    summary.seconds = time.perf_counter() - started
    return summary


def _identity(path) -> dict:
    if tables.is_stream(path):  # standard input, a pipe: never resumed, and /dev/fd/N names no file
        return {"path": str(path)}
    p = Path(path).resolve()
    st = p.stat()
    return {"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


# --- a cluster, through Dask ------------------------------------------------------

_PARTITION_MODELS: dict[str, PMTypeModel] = {}


def _label_partition(frame: pd.DataFrame, model_path: str, text_column: str,
                     title_column: str | None, force: bool, p_text: bool) -> pd.DataFrame:
    """The per-chunk function, run by Dask workers; each loads the model once.

    Every column is text, but ``pm_p_technical`` is a number unless ``p_text`` (CSV output).
    """
    model = _PARTITION_MODELS.get(model_path)
    if model is None:
        model = _PARTITION_MODELS[model_path] = load_model(model_path, build_if_missing=False)
    frame = frame.astype(object).where(frame.notna(), None)
    labelled = tables.nested_as_json(label_frame(model, frame, text_column, title_column, force))
    if p_text:
        return tables.decimals_as_text(labelled, "pm_p_technical").astype("string")
    return labelled.astype({c: "string" for c in labelled.columns if c != "pm_p_technical"})


def label_with_dask(input_path: str, output_dir, model: str | Path | None = None,
                    text_column: str | None = None, title_column: str | None = None,
                    in_format: str | None = None, out_format: str = "parquet",
                    encoding: str | None = None, scheduler: str | None = None, workers: int = 2,
                    blocksize: str | None = "64MB", force: bool = False,
                    progress: Callable[[str], None] | None = None) -> LabelSummary:
    """Label a path, a glob or any URL Dask reads, into a folder of partitioned output.

    With no ``scheduler`` a local cluster of ``workers`` processes is started;
    otherwise the job runs on the Dask cluster at that address. Each partition
    goes through the same ``label_frame`` as the single-machine path. Each CSV,
    TSV or JSON Lines file is read in the encoding the local engine would use
    (``encoding`` if given, else detected from its first 64 KB), and a file the
    local engine would refuse stops the run before the cluster starts.
    """
    try:
        import dask.dataframe as dd
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise BadOption("the dask engine needs Dask: pip install 'pmtype[dask]'") from None
    started = time.perf_counter()
    loaded = load_model(model, progress=progress)
    model_path = str(model_folder(model).resolve())
    fmt = tables.detect_format(input_path, in_format)
    if out_format not in ("parquet", "csv"):
        raise BadOption("the dask engine writes parquet or csv output")
    fmt, files = _dask_input_files(input_path, fmt, encoding, text_column, title_column)
    try:
        with _gzip_damage(files, input_path):
            if fmt == "parquet":
                ddf = _read_parquet_with_dask(dd, input_path, files)
            else:
                ddf = _read_with_dask(dd, files, fmt, blocksize)
    except (OSError, ValueError) as e:
        raise BadInputFile(f"cannot read {input_path}: {tables.one_line(e)}") from None
    text_col = tables.find_column(ddf.columns, text_column, tables.TEXT_COLUMNS, "text")
    title_col = tables.find_column(ddf.columns, title_column, tables.TITLE_COLUMNS, "title",
                                   required=title_column is not None)
    columns = [c for c in ddf.columns if c not in OUTPUT_COLUMNS] + list(OUTPUT_COLUMNS)
    p_text = out_format == "csv"
    meta = pd.DataFrame({c: pd.Series(dtype="float64" if c == "pm_p_technical" and not p_text else "string")
                         for c in columns})
    labelled = ddf.map_partitions(_label_partition, model_path, text_col, title_col, force, p_text, meta=meta)
    output_dir = str(output_dir)
    if scheduler:
        client = Client(scheduler)
        cluster = None
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        with _gzip_damage(files, input_path):
            if out_format == "parquet":
                labelled.to_parquet(output_dir, write_index=False)
                result = dd.read_parquet(output_dir, columns=["pm_label", "pm_status"])
            else:
                Path(output_dir).mkdir(parents=True, exist_ok=True)
                labelled.to_csv(f"{output_dir.rstrip('/')}/part-*.csv", index=False)
                result = dd.read_csv(f"{output_dir.rstrip('/')}/part-*.csv", usecols=["pm_label", "pm_status"],
                                     dtype=str, keep_default_na=False)
            counts = result.compute()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    summary = LabelSummary(output=output_dir, rows=len(counts))
    summary.labels.update(v for v in counts["pm_label"] if v)
    summary.statuses.update(str(s).split(";")[0] for s in counts["pm_status"])
    summary.seconds = time.perf_counter() - started
    return summary


def _dask_input_files(input_path: str, fmt: str, encoding: str | None, text_column: str | None,
                      title_column: str | None) -> tuple[str, list[tuple[str, tables.TextTable | tables.ParquetLayout]]]:
    """The format and the files a path, glob or fsspec URL names, in Dask's order, each judged
    from its first 64 KB, or, for Parquet (a folder of it too), from its footer.

    A file the local engine would refuse (empty, binary, damaged gzip, no text
    column…) is a one-line error with the local engine's message, after the
    file's name when ``input_path`` is a glob; so is a file whose columns are
    not the first file's, and input in which no file has a row. Files named as
    text that hold Parquet (its magic bytes) are read as Parquet, as the local
    engine reads them.
    """
    import fsspec
    from fsspec.implementations.local import LocalFileSystem

    try:
        fs, _, paths = fsspec.core.get_fs_token_paths(input_path, mode="rb")
    except (ImportError, ValueError) as e:  # an unknown protocol, or its package not installed
        raise BadInputFile(f"cannot read {input_path}: {tables.one_line(e)}") from None
    glob = "*" in input_path  # what fsspec, and so Dask, expands
    if not paths:
        raise BadInputFile(f"no file matches {input_path}")
    if fmt != "parquet" and _starts_as_parquet(fs, paths[0]):
        fmt = "parquet"
    if fmt == "parquet":
        paths, glob = _parquet_parts(fs, paths, glob)
    files: list[tuple[str, tables.TextTable | tables.ParquetLayout]] = []
    headers: list[tuple[str, list[str]]] = []  # (file, its columns) where known
    any_rows: list[bool | None] = []  # per file: whether it holds a row (None: not known)
    for path in paths:
        name = path if isinstance(fs, LocalFileSystem) else fs.unstrip_protocol(path)
        shown = name if glob else input_path
        try:
            with fs.open(path, "rb", block_size=tables.SAMPLE_BYTES) as raw:
                if fmt == "parquet":
                    table = tables.inspect_parquet(raw)
                else:
                    table = tables.inspect_text_table(raw, fmt, encoding)
                columns, rows = table.columns, table.rows
            if columns is not None:
                _check_columns(columns, text_column, title_column, headers)
                headers.append((name, columns))
        except FileNotFoundError:
            raise BadInputFile(f"{shown} does not exist") from None
        except IsADirectoryError:
            raise BadInputFile(f"{shown} is a folder, not a file") from None
        except PermissionError:
            raise BadInputFile(f"{shown} cannot be read: permission denied") from None
        except OSError as e:
            raise BadInputFile(f"cannot read {shown}: {tables.one_line(e)}") from None
        except (BadInputFile, MissingColumn) as e:
            if not glob:
                raise
            raise type(e)(f"{name}: {e}") from None
        any_rows.append(rows)
        files.append((name, table))
    if all(rows is False for rows in any_rows):  # what the local engine refuses too
        raise BadInputFile(f"none of the {len(any_rows)} files has rows" if glob else "the file has no rows")
    return fmt, files


def _starts_as_parquet(fs, path: str) -> bool:
    """Whether ``path`` is a file that starts with Parquet's magic bytes."""
    try:
        if fs.isdir(path):
            return False
        with fs.open(path, "rb") as raw:
            return raw.read(4) == tables.PARQUET_MAGIC
    except OSError:
        return False  # judged, with its one-line error, with the other files


def _read_parquet_with_dask(dd, input_path: str, files: list[tuple[str, tables.ParquetLayout]]):
    """The Parquet files of ``input_path`` as one Dask frame, their columns as the local engine reads
    them: an index pandas stored as a column ("id" after ``set_index``) is a column like any other,
    and a named index pandas kept as a range in its metadata only is rebuilt, as a last column."""
    ranged = [layout.ranged for _, layout in files]
    stored = [c for c in files[0][1].columns if not (files[0][1].ranged and c == files[0][1].ranged[0])]
    if not any(ranged):
        return dd.read_parquet(input_path, index=False)[stored]  # (Dask puts a stored index first)
    # one partition per file, in the order of ``files`` (Dask's), so that each knows its range
    ddf = dd.read_parquet(input_path, index=False, split_row_groups=False)[stored]
    if ddf.npartitions != len(files):
        raise BadInputFile(f"cannot read {input_path}: Dask sees {ddf.npartitions} files, pmtype {len(files)}")
    name = next(r[0] for r in ranged if r)
    meta = ddf._meta.assign(**{name: pd.Series(dtype="int64")})
    return ddf.map_partitions(_with_range_column, ranged, meta=meta)


def _with_range_column(frame: pd.DataFrame, ranged: list, partition_info=None) -> pd.DataFrame:
    """A whole Parquet file's frame (partition ``partition_info["number"]``) with its named range index
    (``ranged``: each file's (name, start, step)) as a last column."""
    name, start, step = ranged[partition_info["number"]]
    return frame.assign(**{name: start + step * np.arange(len(frame), dtype=np.int64)})


def _parquet_parts(fs, paths: list[str], glob: bool) -> tuple[list[str], bool]:
    """The Parquet files of ``paths``, a folder's read as Dask reads them (names starting "." or "_" are
    not data), and whether there may be more than one (files are then named in messages)."""
    parts = []
    for path in paths:
        if fs.isdir(path):
            found = sorted(p for p in fs.find(path) if not any(
                piece.startswith((".", "_")) for piece in p[len(path.rstrip("/")) + 1:].split("/")))
            if not found:
                raise BadInputFile(f"the folder {path} holds no Parquet files")
            parts += found
            glob = True
        else:
            parts.append(path)
    return parts, glob


def _check_columns(columns: list[str], text_column: str | None, title_column: str | None,
                   earlier: list[tuple[str, list[str]]]) -> None:
    tables.check_header(columns)
    tables.find_column(columns, text_column, tables.TEXT_COLUMNS, "text")
    if title_column is not None:
        tables.find_column(columns, title_column, tables.TITLE_COLUMNS, "title")
    first = earlier[0] if earlier else None
    if first is not None and columns != first[1]:
        raise BadInputFile(f"the columns are {tables.describe_columns(columns)}; "
                           f"{first[0]} has {tables.describe_columns(first[1])}")


def _cut_at_newline_bytes(encoding: str) -> bool:
    """Whether a file in ``encoding`` may be cut into blocks at its b"\\n" bytes.

    Not in UTF-16 or UTF-32: a newline is two or four bytes there, a 0x0A byte
    can be half of another character, and a block after the first has no BOM.
    """
    return not codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))


def _read_with_dask(dd, files: list[tuple[str, tables.TextTable]], fmt: str, blocksize: str | None):
    """One Dask frame of ``files``, in order; each run of files read alike is one Dask reader."""
    from dask.dataframe.io.csv import read_pandas  # dd.read_csv is read_pandas with pandas.read_csv as the reader
    from dask.utils import parse_bytes

    runs: list[tuple[tables.TextTable, list[str]]] = []
    for name, table in files:
        if runs and (runs[-1][0].encoding, runs[-1][0].gzip) == (table.encoding, table.gzip):
            runs[-1][1].append(name)
        else:
            runs.append((table, [name]))
    sep = "\t" if fmt == "tsv" else ","
    frames = []
    for table, names in runs:
        size = blocksize if not table.gzip and _cut_at_newline_bytes(table.encoding) else None
        compression = "gzip" if table.gzip else None
        if fmt == "jsonl":
            frames.append(dd.read_json(names, lines=True, blocksize=size, dtype=False, compression=compression,
                                       encoding=table.encoding, errors=table.errors,
                                       engine=tables.read_json_block))
        elif size is not None:
            frames.append(_read_csv_at_row_ends(dd, names, table, sep, parse_bytes(size)))
        else:
            # tables.read_csv_block, not pandas.read_csv: the workers need pmtype's error handler registered
            frames.append(read_pandas(tables.read_csv_block, names, blocksize=None, compression=compression,
                                      sep=sep, dtype=str, keep_default_na=False, na_filter=False,
                                      encoding=table.encoding, encoding_errors=table.errors))
    return frames[0] if len(frames) == 1 else dd.concat(frames)


def _read_csv_at_row_ends(dd, names: list[str], table: tables.TextTable, sep: str, blocksize: int):
    """The CSV or TSV files ``names`` in blocks of about ``blocksize`` bytes cut at row ends, never in a quoted cell.

    Each file is scanned once here (``tables.row_ranges``); each block is read
    by a worker, with the file's header before it.
    """
    import fsspec

    parts = []
    for name in names:
        with fsspec.open(name, "rb") as raw:
            header_end, ranges = tables.row_ranges(raw, blocksize)
            raw.seek(0)
            header = raw.read(header_end)
        parts += [(name, header, start, end) for start, end in ranges]
    options = {"sep": sep, "encoding": table.encoding, "errors": table.errors}
    meta = _parse_csv_rows(parts[0][1], b"", **options)
    return dd.from_map(_read_csv_rows, parts, meta=meta, divisions=None, enforce_metadata=False, **options)


def _read_csv_rows(part: tuple[str, bytes, int, int], sep: str, encoding: str, errors: str) -> pd.DataFrame:
    """The rows in bytes ``[start, end)`` of a CSV or TSV file, as a Dask worker reads one block."""
    import fsspec

    name, header, start, end = part
    with fsspec.open(name, "rb") as raw:
        raw.seek(start)
        rows = raw.read(end - start)
    try:
        return _parse_csv_rows(header, rows, sep, encoding, errors)
    except pd.errors.ParserError as e:
        reason = tables.one_line(e).removeprefix("Error tokenizing data. C error: ")
        raise BadInputFile(f"{name}: not a readable {'TSV' if sep == chr(9) else 'CSV'} file: {reason} "
                           f"(rows counted from byte {start})") from None


def _parse_csv_rows(header: bytes, rows: bytes, sep: str, encoding: str, errors: str) -> pd.DataFrame:
    # tables.read_csv_block, not pandas.read_csv: the workers need pmtype's error handler registered
    return tables.read_csv_block(io.BytesIO(header + rows), sep=sep, dtype=str, keep_default_na=False,
                                 na_filter=False, encoding=encoding, encoding_errors=errors)


@contextmanager
def _gzip_damage(files: list[tuple[str, tables.TextTable | tables.ParquetLayout]], input_path: str) -> Iterator[None]:
    """Damage Dask meets in a gzip file past the 64 KB it was checked on, as a one-line error."""
    try:
        yield
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        gzipped = [name for name, table in files if isinstance(table, tables.TextTable) and table.gzip]
        if not gzipped:
            raise
        if len(gzipped) > 1:
            raise BadInputFile(f"one of the {len(gzipped)} gzip-compressed files cannot be decompressed: "
                               f"{tables.one_line(e)}") from None
        name = f"{gzipped[0]}: " if "*" in input_path else ""
        raise BadInputFile(f"{name}{tables.gzip_damaged(e)}") from None
