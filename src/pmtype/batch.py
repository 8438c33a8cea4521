"""``label_file``: label a table of postings of any size, chunk by chunk.

Every input row comes out, in order, with its columns as they were and four
more: ``pm_label``, ``pm_p_technical``, ``pm_status``, ``pm_evidence`` (and
``pm_model``). The output appears under its name only when the run ends.
``pm_p_technical`` is a number in JSON Lines and Parquet (null where there is no
label) and text with four decimals in CSV and TSV (empty where there is none).
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import functools
import gzip
import io
import logging
import numbers
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pmtype import config, persist, tables
from pmtype.errors import (BadInputFile, BadOption, CannotWrite, ClusterUnavailable, MissingColumn, OutputExists,
                           PMTypeError, WorkerDied, counted, printable)
from pmtype.features import posting_text, text_kind
from pmtype.model import (STATUS_EMPTY, STATUS_NOT_TEXT, PMTypeModel, Prediction, default_model_path, jobs_for,
                          load_model, model_folder, status_kind, truncation_note, usable_cores)

OUTPUT_COLUMNS = ("pm_label", "pm_p_technical", "pm_status", "pm_evidence", "pm_model")
#: Part of what a resumed run must match: how the output columns are written (3: a phrase of the
#: evidence that holds a comma is quoted; 2: the probability is a number in JSON Lines and Parquet;
#: 1 wrote it as text everywhere).
OUTPUT_LAYOUT = 3


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
        # a resumed run counts the rows it labelled itself; those of the run it continued are named, not recounted
        after = f", after {counted(self.resumed_rows, 'row')} labelled before" if self.resumed_rows else ""
        return (f"{counted(self.rows, 'row')} labelled in {self.seconds:.1f}s ({rate:.0f}/s){after}: {labels}; "
                f"statuses other than ok: {other}")


def label_frame(model: PMTypeModel, frame: pd.DataFrame, text_column: str,
                title_column: str | None = None, force: bool = False,
                max_chars: int = config.MAX_CHARS) -> pd.DataFrame:
    """``frame`` with the pm_* columns added (replacing any already there), row for row."""
    bodies = frame[text_column].tolist()
    titles = frame[title_column].tolist() if title_column else [None] * len(frame)
    predictions: list[Prediction | None] = [None] * len(bodies)
    texts, where = [], []
    truncated: list[bool] = [False] * len(bodies)
    for i, (body, title) in enumerate(zip(bodies, titles)):
        kind = text_kind(body)  # NaN/None/null cells and markup alone are empty; numbers are not text
        if kind != "text":
            predictions[i] = Prediction(None, None, STATUS_EMPTY if kind == "empty" else STATUS_NOT_TEXT,
                                        model_id=model.model_id)
        else:
            text = posting_text(body, tables.title_cell(title))  # cut as the model reads it: title and all
            texts.append(text[:max_chars])
            where.append(i)
            truncated[i] = len(text) > max_chars
    for i, prediction in zip(where, model.predict(texts, force=force)):
        predictions[i] = prediction
    out = frame.drop(columns=[c for c in OUTPUT_COLUMNS if c in frame.columns]).copy()
    statuses = []
    for pred, cut in zip(predictions, truncated):
        statuses.append(pred.status + (truncation_note(max_chars) if cut else ""))
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
    try:
        with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(model_path, os.getpid())) as pool:
            pending = []
            for chunk in chunks:
                pending.append(pool.submit(_label_in_worker, chunk, text_column, title_column, force))
                if len(pending) >= 2 * jobs:
                    yield pending.pop(0).result()
            for future in pending:
                yield future.result()
    except BrokenProcessPool:
        raise WorkerDied("a labelling process died before its chunk was done (killed, or out of memory: "
                         "fewer --jobs use less)") from None


@config.user_paths("input_path", "output_path", models=("model",))
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
    processes, 0 in one per core (only when the input holds more than one chunk). ``resume`` continues a run that was interrupted, from
    its last complete chunk (any output file; not standard output).
    """
    started = time.perf_counter()
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, numbers.Integral):
        raise BadOption("--chunk-size must be a whole number, at least 1")
    if chunk_size < 1:
        raise BadOption("--chunk-size must be at least 1")
    chunk_size = int(chunk_size)  # a numpy integer too: it is kept in the run's record for --resume, as JSON
    jobs = jobs_for(0, jobs)
    in_memory = model if isinstance(model, PMTypeModel) else None
    model_path = "" if in_memory is not None else str(model_folder(model))
    tables.check_output(output_path, input_path)
    stream = tables.is_stream(output_path)  # standard output, /dev/null, a pipe: nothing to resume
    in_fmt = tables.detect_input_format(input_path, in_format)
    out_fmt = (tables.detect_output_format(output_path, out_format)
               if (out_format or not stream) else in_fmt)
    if resume and str(input_path) == "-":
        raise BadOption("--resume needs an input file: standard input cannot be read again")
    if resume and tables.is_stream(input_path):
        raise BadOption(f"--resume needs an input file: {input_path} is a pipe and cannot be read again")
    if resume and stream:
        raise BadOption("--resume needs an output file, not standard output"
                        + ("" if str(output_path) == "-" else f" or a device ({output_path})"))
    if model is None and not (default_model_path() / persist.MANIFEST_FILE).exists():
        # a missing input, as a wrong output above, is said before a model is built for it
        tables.check_input_exists(input_path, in_fmt)
        load_model(None, progress=progress)  # builds the default model once
    with tables.naming_input(input_path):  # errors in the input name it, met here or as its rows are read
        chunks = tables.read_chunks(input_path, fmt=in_fmt, chunk_size=chunk_size, encoding=encoding)
        first = next(chunks)
        if stream and not out_format:  # on standard output, the format the input's bytes told
            out_fmt = first.attrs.get(tables.SNIFFED_FORMAT, out_fmt)
        text_col, title_col = tables.posting_columns(first.columns, text_column, title_column,
                                                     tables.read_format(first, input_path, in_fmt))
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
                summary.statuses.update(status_kind(s) for s in labelled["pm_status"])
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
                    progress(f"resuming after {counted(writer.rows_done, 'row')} already labelled")
                if writer.not_resumed is not None and progress:
                    progress(f"cannot resume the interrupted run: {_why_not_resumed(writer.not_resumed, identity)}; "
                             "labelling from the start")
                try:
                    run(writer, skip_rows=writer.rows_done)
                except WorkerDied as e:  # the chunks written are kept: say how to go on from them
                    raise WorkerDied(f"{e}; run again with --resume to continue from the last complete chunk") from None
                writer.finish()
        summary.seconds = time.perf_counter() - started
        return summary


def _why_not_resumed(recorded: dict, identity: dict) -> str:
    """What differs between the settings of an interrupted run (``recorded``; {}: what it wrote is
    not whole) and this one's, in the user's terms."""
    if not recorded:
        return "what it wrote is not whole"
    differs = [k for k in identity if recorded.get(k) != identity[k]]
    then = {k: recorded.get(k) for k in differs}
    said = {
        "input": ("its input file has changed since" if isinstance(then.get("input"), dict)
                  and then["input"].get("path") == identity["input"]["path"] else "its input was another file"),
        "chunk_size": f"its --chunk-size was {then.get('chunk_size')}",
        "model": "it used another model",
        "text": f"its text column was '{then.get('text')}'",
        "title": f"its title column was '{then.get('title')}'" if then.get("title") else "it had no title column",
        "force": "it was given --force" if then.get("force") else "it was not given --force",
        "format": f"its output format was {then.get('format')}",
        "in_format": f"its input was read as {then.get('in_format')}",
        "encoding": f"its --encoding was {then.get('encoding')}" if then.get("encoding") else "it was given no --encoding",
        "layout": "it was written by an older pmtype",
    }
    reasons = list(dict.fromkeys(said.get("model" if k == "model_sha256" else k, f"its {k} differs") for k in differs))
    return ", ".join(reasons)


def _identity(path) -> dict:
    if tables.is_stream(path):  # standard input, a pipe: never resumed, and /dev/fd/N names no file
        return {"path": str(path)}
    p = Path(path).resolve()
    st = p.stat()
    return {"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


# --- a cluster, through Dask ------------------------------------------------------

#: Seconds to wait for the Dask scheduler given by ``--scheduler`` to answer.
SCHEDULER_TIMEOUT = 10

#: The files a run of the dask engine writes into its output folder (Dask's names for the parts
#: of Parquet and of CSV output). A folder holding nothing else, or nothing, is one a new run
#: may replace; a folder holding any other file is never touched.
DASK_PARTS = re.compile(r"part\.[0-9]+\.parquet|part-[0-9]+\.csv")

_PARTITION_MODELS: dict[str, PMTypeModel] = {}


def _is_text_dtype(dtype) -> bool:
    return dtype == object or isinstance(dtype, pd.StringDtype)


def _label_partition(frame: pd.DataFrame, model_path: str, text_column: str,
                     title_column: str | None, force: bool, p_text: bool) -> pd.DataFrame:
    """The per-chunk function, run by Dask workers; each loads the model once.

    A column of text (or of values JSON Lines mixes, or nested ones: as JSON text) comes out
    as text; numbers, booleans and times keep their type, as the local engine keeps them.
    ``pm_p_technical`` is a number unless ``p_text`` (CSV output).
    """
    model = _PARTITION_MODELS.get(model_path)
    if model is None:
        model = _PARTITION_MODELS[model_path] = load_model(model_path, build_if_missing=False)
    kept = [c for c in frame.columns if c not in OUTPUT_COLUMNS and not _is_text_dtype(frame[c].dtype)]
    cells = frame.astype(object).where(frame.notna(), None)
    labelled = tables.nested_as_json(label_frame(model, cells, text_column, title_column, force))
    if p_text:
        labelled = tables.decimals_as_text(labelled, "pm_p_technical")
    labelled = labelled.astype({c: "string" for c in labelled.columns
                                if c not in kept and (p_text or c != "pm_p_technical")})
    for c in kept:
        labelled[c] = frame[c]
    return labelled


def _partition_meta(meta: pd.DataFrame, columns: list[str], p_text: bool) -> pd.DataFrame:
    """What ``_label_partition`` gives for a partition like ``meta`` (an empty one)."""
    def dtype(c):
        if c == "pm_p_technical":
            return "string" if p_text else "float64"
        if c in OUTPUT_COLUMNS or _is_text_dtype(meta[c].dtype):
            return "string"
        return meta[c].dtype

    return pd.DataFrame({c: pd.Series(dtype=dtype(c)) for c in columns})


def dask_setup(worker) -> None:
    """Run in each worker process of the local cluster pmtype starts (as Dask's ``preload``).

    Ctrl-C reaches the whole process group: pmtype's process stops the run, says so in
    one line and closes the cluster, while a worker that raised ``KeyboardInterrupt``
    itself printed its own traceback.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@config.user_paths("input_path", "output_dir", models=("model",))
def label_with_dask(input_path: str, output_dir, model: str | Path | None = None,
                    text_column: str | None = None, title_column: str | None = None,
                    in_format: str | None = None, out_format: str | None = None,
                    encoding: str | None = None, scheduler: str | None = None, workers: int = 2,
                    blocksize: str | None = "64MB", force: bool = False,
                    progress: Callable[[str], None] | None = None) -> LabelSummary:
    """Label a path, a glob or any URL Dask reads, into a folder of partitioned output: Parquet
    or CSV parts, ``out_format`` or as the folder's name tells (``labelled.csv``), else Parquet.

    With no ``scheduler`` a local cluster of ``workers`` processes (never more than the cores) is started;
    otherwise the job runs on the Dask cluster at that address. Each partition
    goes through the same ``label_frame`` as the single-machine path. Each CSV,
    TSV or JSON Lines file is read in the encoding the local engine would use
    (``encoding`` if given, else detected from its first 64 KB), and a file the
    local engine would refuse stops the run before the cluster starts. The
    columns of JSON Lines input are every key of every file, as the local engine
    gives a file's.

    A folder on this machine is written beside its place and put there when the
    run ends: an interrupted or failed run leaves nothing under its name, and a
    folder an earlier run wrote (part files only) is replaced. A folder holding
    other files, or the input, is refused; so is a folder elsewhere (a URL) that
    is not empty, which is written in place and removed if the run fails.
    """
    try:
        import dask
        import dask.dataframe as dd
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise BadOption("the dask engine needs Dask: pip install 'pmtype[dask]'") from None
    started = time.perf_counter()
    if str(input_path) == "-" or tables.is_stream(input_path):
        raise BadOption("the dask engine reads files, not standard input or a pipe: "
                        "give a file, a glob or a URL, or use the local engine")
    if workers < 1:
        raise BadOption("--workers must be at least 1")
    # a local cluster's workers: never more than the cores, as for --jobs (each holds a model; more only share them)
    workers = min(workers, usable_cores())
    out_format = _dask_output_format(output_dir, out_format)
    if scheduler is not None:
        _check_scheduler_address(scheduler)
    output = _DaskOutput.of(output_dir)
    # errors in the input name it, as the local engine's do (a glob's name the file they are about)
    naming = nullcontext if _is_pattern(input_path) else functools.partial(tables.naming_input, input_path)
    with naming():  # before the model: a missing input is said before a default model is built for it
        fmt = tables.detect_format(input_path, in_format)
        fmt, files, keys = _dask_input_files(input_path, fmt, encoding, text_column, title_column)
        output.check_inputs(name for name, _ in files)
    load_model(model, progress=progress)  # checked (hash, versions), or the default built, before the cluster
    model_path = str(model_folder(model).resolve())
    with naming():
        with dask.config.set({"dataframe.convert-string": False}):  # values reach label_frame as read
            try:
                with _gzip_damage(files, input_path):
                    if fmt == "parquet":
                        ddf = _read_parquet_with_dask(dd, input_path, files)
                    else:
                        ddf = _read_with_dask(dd, files, fmt, blocksize, keys, named=_is_pattern(input_path))
            except (OSError, ValueError) as e:
                raise BadInputFile(f"cannot read {input_path}: {tables.one_line(e)}") from None
            text_col, title_col = tables.posting_columns(ddf.columns, text_column, title_column, fmt)
            columns = [c for c in ddf.columns if c not in OUTPUT_COLUMNS] + list(OUTPUT_COLUMNS)
            p_text = out_format == "csv"
            meta = _partition_meta(ddf._meta, columns, p_text)
            labelled = ddf.map_partitions(_label_partition, model_path, text_col, title_col, force, p_text, meta=meta)
            with _dask_quiet(), output.writing() as where:
                with _dask_client(Client, LocalCluster, scheduler, workers), _gzip_damage(files, input_path), \
                        _cluster_failures():
                    # part numbers of one width, so that a reader listing the parts by name
                    # (pandas.read_parquet, `cat part-*.csv`) has them in order past part 9
                    width = len(str(labelled.npartitions - 1))
                    if out_format == "parquet":
                        labelled.to_parquet(where, write_index=False, name_function=f"part.{{:0{width}d}}.parquet".format)
                        result = dd.read_parquet(where, columns=["pm_label", "pm_status"])
                    else:
                        dask.compute(*(dask.delayed(_write_csv_part)(part, f"{where.rstrip('/')}/part-{i:0{width}d}.csv")
                                       for i, part in enumerate(labelled.to_delayed())))
                        result = dd.read_csv(f"{where.rstrip('/')}/part-*.csv", usecols=["pm_label", "pm_status"],
                                             dtype=str, keep_default_na=False, blocksize=None)
                    counts = result.map_partitions(_counted, meta=_counted(result._meta).iloc[:0]).compute()
    summary = LabelSummary(output=str(output_dir))
    for kind, value, n in counts.itertuples(index=False, name=None):
        if kind == "rows":
            summary.rows += int(n)
        elif kind == "label":
            summary.labels[value] += int(n)
        else:
            summary.statuses[value] += int(n)
    summary.seconds = time.perf_counter() - started
    return summary


def _dask_output_format(output_dir, out_format: str | None) -> str:
    """The format of the dask engine's parts: ``out_format``, else the one the output folder's name
    tells, as a file's name tells the local engine's (``labelled.csv/``), else Parquet. A format it
    does not write (JSON Lines, TSV), or a name asking for gzip, is a ``BadOption`` before any
    work starts, not a folder of Parquet parts under that name."""
    if out_format:
        if out_format.lower() not in ("parquet", "csv"):
            raise BadOption("the dask engine writes parquet or csv output")
        return out_format.lower()
    name = str(output_dir).rstrip("/")
    try:
        found = tables.detect_format(name)
    except BadInputFile:  # a name that tells no format: Parquet
        return "parquet"
    if found not in ("parquet", "csv") or name.lower().endswith(".gz"):
        told = "gzipped " + found if name.lower().endswith(".gz") else found
        raise BadOption(f"the dask engine writes parquet or csv output, not {told} as the name "
                        f"{printable(name)} says: name the folder otherwise, or give --output-format parquet or csv")
    return found


def _counted(frame: pd.DataFrame) -> pd.DataFrame:
    """A partition of the output's ``pm_label`` and ``pm_status`` as counts: (kind, value, n) rows."""
    labels = Counter(str(v) for v in frame["pm_label"] if isinstance(v, str) and v)
    statuses = Counter(status_kind(s) for s in frame["pm_status"])
    rows = [("rows", "", len(frame))] + [("label", k, n) for k, n in labels.items()] \
        + [("status", k, n) for k, n in statuses.items()]
    return pd.DataFrame(rows, columns=["kind", "value", "n"]).astype({"kind": object, "value": object,
                                                                       "n": "int64"})


def _check_scheduler_address(address: str) -> None:
    """``BadOption`` unless ``address`` is one a Dask client can connect to (tcp://HOST:PORT…)."""
    from distributed.comm.addressing import get_address_host_port, parse_address
    from distributed.comm.registry import get_backend

    try:
        scheme, _ = parse_address(address)
        backend = get_backend(scheme)
        if scheme in ("tcp", "tls", "ws", "wss"):
            get_address_host_port(address)
    except ValueError as e:
        reason = tables.one_line(e)
        raise BadOption(f"--scheduler {printable(address)} is not a Dask scheduler address ({reason}); "
                        "give one such as tcp://HOST:8786") from None
    if scheme == "inproc":  # a scheduler in the process that made it: no other process reaches it
        raise BadOption(f"--scheduler {printable(address)} is an in-process address, which only the process "
                        "running that scheduler can reach; give one such as tcp://HOST:8786")
    try:
        backend.get_connector()
    except Exception:  # ucx:// without Dask's UCX support installed (an abstract connector)
        raise BadOption(f"--scheduler {printable(address)}: Dask's support for {scheme}:// is not installed "
                        "here; give an address such as tcp://HOST:8786") from None


def _check_scheduler_answers(address: str) -> None:
    """``ClusterUnavailable`` unless a Dask scheduler answers at ``address`` within ``SCHEDULER_TIMEOUT`` s.

    Dask's client gives up connecting after its timeout, but then waits for ever for the answer
    of what it connected to: a port where something else listens (the scheduler's dashboard, at
    8787) would hang the run, or its answer, read as Dask's, fail with a traceback, as would a
    worker's address. Asked here first, in a thread of its own (the caller's may run an event loop).
    """
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from distributed.comm import connect
    from distributed.comm.addressing import parse_address

    async def identity():
        comm = await connect(address, timeout=SCHEDULER_TIMEOUT)
        try:
            await comm.write({"op": "identity"})
            return await comm.read()
        finally:
            comm.abort()

    shown = printable(address)
    try:
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(asyncio.run, asyncio.wait_for(identity(), SCHEDULER_TIMEOUT + 1)).result()
    except (asyncio.TimeoutError, TimeoutError):
        raise ClusterUnavailable(f"cannot reach the Dask scheduler at {shown}: something listens there but did not "
                                 f"answer as a Dask scheduler within {SCHEDULER_TIMEOUT} s") from None
    except Exception as e:
        if not isinstance(e, OSError) and parse_address(address)[0] in ("tcp", "tls", "ws", "wss"):
            # past connecting (the address was checked): an answer that is not Dask's (say, of a huge length)
            raise ClusterUnavailable(f"cannot reach the Dask scheduler at {shown}: what answers there is not a Dask "
                                     "scheduler") from None
        raise ClusterUnavailable(f"cannot reach the Dask scheduler at {shown}: {tables.one_line(e)}") from None
    kind = answer.get("type") if isinstance(answer, dict) else None
    if kind != "Scheduler":
        what = f"a Dask {printable(str(kind)).lower()}" if kind else "not a Dask scheduler"
        raise ClusterUnavailable(f"cannot reach the Dask scheduler at {shown}: what answers there is {what}; "
                                 "give the scheduler's address")


@contextmanager
def _dask_client(Client, LocalCluster, scheduler: str | None, workers: int) -> Iterator[object]:
    """A client of the scheduler at ``scheduler``, or of a new local cluster of ``workers`` processes,
    closed (the cluster too) when the block ends, however it ends.

    The local cluster is quiet: its logs are off, its worker processes write their standard
    error to /dev/null (they are started with it there) and ignore Ctrl-C (``dask_setup``),
    and its scheduler's HTTP server takes a free port (the usual 8787 may be another cluster's,
    which Dask would warn of).
    """
    if scheduler:
        _check_scheduler_answers(scheduler)
        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)
        except (OSError, TimeoutError) as e:
            raise ClusterUnavailable(f"cannot reach the Dask scheduler at {printable(scheduler)}: "
                                     f"{tables.one_line(e)}") from None
        try:
            yield client
        finally:
            with suppress(Exception):
                client.close()
        return
    from distributed.deploy.spec import SpecCluster

    before = set(SpecCluster._instances)
    cluster = client = None
    try:
        with _stderr_of_new_processes_to_devnull():
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address="127.0.0.1:0", scheduler_kwargs={"dashboard": False},
                                   silence_logs=logging.CRITICAL, preload=["pmtype.batch"])
        client = Client(cluster)
        yield client
    finally:
        if client is not None:
            with suppress(Exception):
                client.close()
        # the cluster, or one Ctrl-C stopped while it started (which Dask would close at exit,
        # printing the traceback of closing a cluster half started)
        for started in ({cluster} if cluster is not None else set(SpecCluster._instances) - before):
            with suppress(Exception):
                started.close()
            SpecCluster._instances.discard(started)


@contextmanager
def _stderr_of_new_processes_to_devnull() -> Iterator[None]:
    """This process's standard error (file descriptor 2) is /dev/null while the block lasts, so that
    processes started in it keep it there: a Dask worker's traceback, when Ctrl-C reaches it before
    it ignores that (``dask_setup``), or its logs. pmtype writes nothing to it meanwhile."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no standard error to keep
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@contextmanager
def _cluster_failures() -> Iterator[None]:
    """Workers that kept dying on a task (out of memory, say) as a one-line error."""
    from distributed.scheduler import KilledWorker

    try:
        yield
    except KilledWorker as e:
        raise ClusterUnavailable(f"the Dask workers died while labelling: {tables.one_line(e)}") from None


@contextmanager
def _dask_quiet() -> Iterator[None]:
    """Dask's logs in this process off while a run lasts (its scheduler and nannies run here, and
    log what a failed or interrupted run leaves: tracebacks of cancelled tasks), then as they were.
    pmtype says what went wrong in one line."""
    import warnings

    roots = ("distributed", "tornado", "bokeh", "asyncio")
    names = set(roots) | {n for n in list(logging.root.manager.loggerDict) if n.split(".")[0] in roots}
    loggers = [logging.getLogger(n) for n in sorted(names)]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module=r"distributed(\.|$)")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


@dataclass
class _DaskOutput:
    """Where the dask engine writes: a folder on this machine (``folder``), or a URL (``fs``, ``path``)."""

    given: str
    folder: Path | None = None
    fs: object = None
    path: str = ""

    @classmethod
    def of(cls, output_dir) -> "_DaskOutput":
        """The output ``output_dir`` names, checked before any work."""
        import fsspec
        from fsspec.implementations.local import LocalFileSystem

        given = str(output_dir)
        try:
            fs, path = fsspec.core.url_to_fs(given)
        except (ImportError, ValueError) as e:  # an unknown protocol, or its package not installed
            raise CannotWrite(f"{printable(given)} cannot be written: {tables.one_line(e)}") from None
        if not isinstance(fs, LocalFileSystem):
            out = cls(given, fs=fs, path=path)
            out._check_remote()
            return out
        folder = Path(os.path.abspath(path))
        if folder.is_symlink() and folder.is_dir():
            folder = Path(os.path.realpath(folder))  # the folder the link names is replaced, not the link
        if folder.exists() and not folder.is_dir():
            raise CannotWrite(f"{printable(given)} is a file; the dask engine writes a folder of parts")
        tables.check_output_folder(folder.parent)
        if folder == folder.parent or (folder.is_dir() and folder.samefile(".")):
            # replaced, the current folder would be gone from under this process and its shell
            raise CannotWrite(f"{printable(given)} is the current folder; write the output to a folder in it")
        return cls(given, folder=folder)

    def _check_remote(self) -> None:
        try:
            if not self.fs.exists(self.path):
                return
            if not self.fs.isdir(self.path):
                raise CannotWrite(f"{printable(self.given)} is a file; the dask engine writes a folder of parts")
            held = self.fs.ls(self.path, detail=False)
        except OSError as e:
            raise CannotWrite(f"{printable(self.given)} cannot be written: {tables.one_line(e)}") from None
        if held:
            raise OutputExists(f"{printable(self.given)} is not empty; away from this machine the dask engine "
                               "writes only into a new or empty folder: give another", path=self.given)

    def _check_replaceable(self) -> None:
        """``OutputExists`` unless the folder holds nothing but what a run of the dask engine writes."""
        try:
            other = sorted(e.name for e in os.scandir(self.folder)
                           if not (DASK_PARTS.fullmatch(e.name) and e.is_file(follow_symlinks=False)))
        except OSError as e:
            raise tables.cannot_write(self.given, e) from None
        if other:
            shown = ", ".join(printable(n) for n in other[:3])
            shown += f" and {len(other) - 3} more" if len(other) > 3 else ""
            raise OutputExists(f"{printable(self.given)} holds files pmtype did not write ({shown}); the dask engine "
                               "replaces only a folder of its own parts: give a new or empty folder", path=self.folder)
        if not os.access(self.folder.parent, os.W_OK | os.X_OK):
            raise CannotWrite(f"{printable(self.given)} cannot be replaced: permission denied in {self.folder.parent}")

    def check_inputs(self, names) -> None:
        """``OutputExists`` where the output folder is, or holds, one of the input files ``names``,
        or holds files a run of the dask engine does not write (``DASK_PARTS``)."""
        if self.folder is None:
            return  # a folder elsewhere: written only when it is empty
        for name in names:
            if "://" in name:
                continue
            path = Path(name).resolve()
            if path == self.folder or self.folder in path.parents:
                raise OutputExists(f"{printable(self.given)} holds the input {printable(name)}; "
                                   "write the output to another folder", path=self.folder)
        if self.folder.is_dir():
            self._check_replaceable()

    @contextmanager
    def writing(self) -> Iterator[str]:
        """Where Dask writes (a hidden folder beside the output's place, on this machine), put in place at
        the end when the block ends cleanly; nothing is left when it does not."""
        if self.folder is None:
            try:
                yield self.given
            except BaseException:
                with suppress(Exception):
                    if self.fs.exists(self.path):
                        self.fs.rm(self.path, recursive=True)
                raise
            return
        folder = self.folder
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            self._remove_what_killed_runs_left()
            tmp = Path(tempfile.mkdtemp(prefix=persist.temporary_prefix(folder.name), suffix=".tmp",
                                        dir=folder.parent))
            os.chmod(tmp, persist.usual_mode(directory=True))
        except OSError as e:
            raise tables.cannot_write(self.given, e) from None
        try:
            yield str(tmp)
            self._put_in_place(tmp)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    def _remove_what_killed_runs_left(self) -> None:
        """The hidden folders beside the output that a run to it left when it was killed (SIGKILL, the
        machine's OOM killer): named with a process of this machine that is gone, and holding only parts."""
        for entry in os.scandir(self.folder.parent):
            writer = persist.TEMPORARY_NAME.fullmatch(entry.name) or persist.MOVED_ASIDE_NAME.fullmatch(entry.name)
            if (not writer or writer["name"] != self.folder.name or not entry.is_dir(follow_symlinks=False)
                    or persist.writer_gone(writer) is not True):
                continue
            with suppress(OSError):
                if all(DASK_PARTS.fullmatch(e.name) and e.is_file(follow_symlinks=False) for e in os.scandir(entry)):
                    shutil.rmtree(entry.path)

    def _put_in_place(self, tmp: Path) -> None:
        """``tmp`` renamed to the output folder; a folder of parts there is moved aside, then removed."""
        folder = self.folder
        old = None
        try:
            if folder.is_dir():
                self._check_replaceable()  # again: something may have been put there while the run lasted
                old = folder.with_name(f"{persist.temporary_prefix(folder.name)}old")
                shutil.rmtree(old, ignore_errors=True)
                os.replace(folder, old)
            try:
                os.replace(tmp, folder)
            except OSError:
                if old is not None:
                    os.replace(old, folder)
                    old = None
                raise
        except OSError as e:
            raise tables.cannot_write(self.given, e) from None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _dask_input_files(input_path: str, fmt: str, encoding: str | None, text_column: str | None,
                      title_column: str | None) -> tuple[str, list[tuple[str, tables.TextTable | tables.ParquetLayout]],
                                                         list[str] | None]:
    """The format and the files a path, glob or fsspec URL names, in Dask's order, each judged
    from its first 64 KB, or, for Parquet (a folder of it too), from its footer; and for JSON
    Lines, every key of every file (each read once here, to its end, as the local engine's first
    pass reads it), in the order they first appear: the columns of every partition.

    A file the local engine would refuse (empty, binary, damaged gzip, a first
    row longer than the header, no text column…) is a one-line error with the local engine's message, after the
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
    glob = _is_pattern(input_path)
    if glob and "*" not in input_path:  # fsspec, and so Dask, expands '*' alone
        paths = [p for p in sorted(fs.glob(paths[0])) if not fs.isdir(p)]
    if not paths:
        raise BadInputFile(f"no file matches {input_path}")
    if fmt != "parquet" and _starts_as_parquet(fs, paths[0]):
        fmt = "parquet"
    if fmt == "parquet":
        paths, glob = _parquet_parts(fs, paths, glob)
    files: list[tuple[str, tables.TextTable | tables.ParquetLayout]] = []
    headers: list[tuple[str, list[str]]] = []  # (file, its columns) where known
    keys: dict[str, None] | None = {} if fmt == "jsonl" else None
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
                if keys is not None:
                    raw.seek(0)
                    keys.update(dict.fromkeys(tables.jsonl_keys(raw, table.encoding)))
                elif fmt == "tsv":
                    raw.seek(0)
                    table = dataclasses.replace(table, quoting=tables.tsv_quoting(raw, table.encoding))
            if columns is not None and fmt in ("csv", "tsv"):  # as the local engine, before the columns
                with fs.open(path, "rb", block_size=tables.SAMPLE_BYTES) as raw:
                    tables.check_first_row(raw, fmt, table)
            if columns is not None:
                _check_columns(columns, text_column, title_column, headers, fmt)
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
        if glob and len(files) > 1:
            raise BadInputFile(f"none of the {len(files)} files has rows")
        raise BadInputFile(f"{files[0][0]}: the file has no rows" if glob else "the file has no rows")
    return fmt, files, None if keys is None else list(keys)


def _starts_as_parquet(fs, path: str) -> bool:
    """Whether ``path`` is a file that starts with Parquet's magic bytes."""
    try:
        if fs.isdir(path):
            return False
        with fs.open(path, "rb") as raw:
            return tables.is_parquet(raw)
    except OSError:
        return False  # judged, with its one-line error, with the other files


#: Integers and booleans as pandas' nullable types, decimals, dates and times as stored, as the local
#: engine reads them (``tables.nullable_type``). With Dask's ``categories=[]``: Dask would read a column
#: pandas' metadata calls categorical as categories even where the file stores plain values (a
#: categorical of integers), which the local engine reads as those values, and fail on it (the types
#: mapper makes its integers pandas' nullable ones).
_ARROW_TO_PANDAS = {"types_mapper": tables.nullable_type}


def _is_pattern(input_path: str) -> bool:
    """Whether the dask engine's input names its files by a pattern, as the shell's: ``*``, which fsspec
    (and so Dask) expands, or ``?`` or ``[…]`` in a local path that names no file or folder itself, which
    pmtype expands (in a URL a ``?`` starts its query)."""
    if "*" in input_path:
        return True
    return "://" not in input_path and bool(set("?[") & set(input_path)) and not os.path.lexists(input_path)


def _read_parquet_with_dask(dd, input_path: str, files: list[tuple[str, tables.ParquetLayout]]):
    """The Parquet files of ``input_path`` as one Dask frame, their columns as the local engine reads
    them: an index pandas stored as a column ("id" after ``set_index``) is a column like any other,
    and a named index pandas kept as a range in its metadata only is rebuilt, as a last column."""
    ranged = [layout.ranged for _, layout in files]
    stored = [c for c in files[0][1].columns if not (files[0][1].ranged and c == files[0][1].ranged[0])]
    source = input_path if "*" in input_path or not _is_pattern(input_path) else [name for name, _ in files]
    if not any(ranged):
        # (Dask puts a stored index first)
        ddf = dd.read_parquet(source, index=False, categories=[], arrow_to_pandas=_ARROW_TO_PANDAS)[stored]
        return _with_categories_typed(ddf, files[0][1].dictionaries)
    # one partition per file, in the order of ``files`` (Dask's), so that each knows its range
    ddf = dd.read_parquet(source, index=False, split_row_groups=False, categories=[],
                          arrow_to_pandas=_ARROW_TO_PANDAS)[stored]
    if ddf.npartitions != len(files):
        raise BadInputFile(f"cannot read {input_path}: Dask sees {ddf.npartitions} files, pmtype {len(files)}")
    name = next(r[0] for r in ranged if r)
    meta = ddf._meta.assign(**{name: pd.Series(dtype="int64")})
    return _with_categories_typed(ddf.map_partitions(_with_range_column, ranged, meta=meta), files[0][1].dictionaries)


def _with_categories_typed(ddf, dictionaries: tuple[tuple[str, object], ...]):
    """``ddf`` with the categories of its dictionary columns typed as the file's values (``dictionaries``).

    For a file pandas did not write (pyarrow, Polars, Spark) Dask gives such a column empty
    categories of no type, from which its Parquet output's schema would take values of type
    null and refuse every partition's text.
    """
    import pyarrow as pa

    meta = ddf._meta
    typed = {name: pd.CategoricalDtype(pd.Index(pa.array([], values).to_pandas()), ordered=meta[name].cat.ordered)
             for name, values in dictionaries
             if name in meta.columns and isinstance(meta[name].dtype, pd.CategoricalDtype)
             and len(meta[name].cat.categories) == 0 and meta[name].cat.categories.dtype == object}
    if not typed:
        return ddf
    return ddf.map_partitions(_as_read, meta=meta.astype(typed))


def _as_read(frame: pd.DataFrame) -> pd.DataFrame:
    """A partition as read (its meta is what changes)."""
    return frame


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


def _write_csv_part(frame: pd.DataFrame, path: str) -> None:
    """One partition as a CSV file, its text as the local engine writes it (``tables.delimited_text``:
    a cell holding a lone carriage return is quoted)."""
    import fsspec

    with fsspec.open(path, "w", encoding="utf-8", newline="") as f:
        f.write(tables.delimited_text(frame, "csv", header=True))


def _check_columns(columns: list[str], text_column: str | None, title_column: str | None,
                   earlier: list[tuple[str, list[str]]], fmt: str) -> None:
    # as the local engine checks a file's: the names as written (a real "x.1" beside "x" is no repeat)
    tables.check_header(columns, renamed_by_pandas=False, blanks_named_apart=fmt in ("csv", "tsv"))
    tables.posting_columns(columns, text_column, title_column, fmt)
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


def _read_with_dask(dd, files: list[tuple[str, tables.TextTable]], fmt: str, blocksize: str | None,
                    keys: list[str] | None = None, named: bool = True):
    """One Dask frame of ``files``, in order; each run of files read alike is one Dask reader.
    JSON Lines are read with ``keys`` as the columns of every partition. ``named``: a worker's
    error names the file (the input is a glob)."""
    from dask.dataframe.io.csv import read_pandas  # dd.read_csv is read_pandas with pandas.read_csv as the reader
    from dask.utils import parse_bytes

    runs: list[tuple[tables.TextTable, list[str]]] = []
    for name, table in files:
        if runs and ((runs[-1][0].encoding, runs[-1][0].gzip, runs[-1][0].quoting)
                     == (table.encoding, table.gzip, table.quoting)):
            runs[-1][1].append(name)
        else:
            runs.append((table, [name]))
    sep = "\t" if fmt == "tsv" else ","
    frames = []
    for table, names in runs:
        size = blocksize if not table.gzip and _cut_at_newline_bytes(table.encoding) else None
        compression = "gzip" if table.gzip else None
        if fmt == "jsonl":
            columns = list(keys or ())
            meta = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
            frames.append(dd.read_json(names, lines=True, blocksize=size, compression=compression,
                                       encoding=table.encoding, errors=table.errors, meta=meta,
                                       engine=functools.partial(tables.read_jsonl_block, columns=columns)))
        elif size is not None:
            frames.append(_read_csv_at_row_ends(dd, names, table, sep, parse_bytes(size), named))
        else:
            for name in names:  # a reader a file, so that a row pandas cannot read is named with its file
                reader = functools.update_wrapper(functools.partial(_read_whole_csv, shown=name if named else None),
                                                  _read_whole_csv)  # (Dask names tasks after the reader)
                frames.append(read_pandas(reader, [name], blocksize=None, compression=compression,
                                          sep=sep, quoting=table.quoting, dtype=str, keep_default_na=False,
                                          na_filter=False,
                                          encoding=table.encoding, encoding_errors=table.errors))
    ddf = frames[0] if len(frames) == 1 else dd.concat(frames)
    if fmt != "jsonl":  # a blank name pandas named 'Unnamed: i' given back, as the local engine gives it
        names = tables.names_as_written(list(ddf.columns), files[0][1].columns)
        if names != list(ddf.columns):
            ddf.columns = names
    return ddf


def _read_csv_at_row_ends(dd, names: list[str], table: tables.TextTable, sep: str, blocksize: int, named: bool):
    """The CSV or TSV files ``names`` in blocks of about ``blocksize`` bytes cut at row ends, never in a quoted cell.

    Each file is scanned once here (``tables.row_ranges``); each block is read
    by a worker, with the file's header before it. ``named``: errors name the file.
    """
    import fsspec

    parts = []
    for name in names:
        with fsspec.open(name, "rb") as raw:
            header_end, ranges = tables.row_ranges(raw, blocksize, quoted=table.quoting != csv.QUOTE_NONE)
            raw.seek(0)
            header = raw.read(header_end)
        parts += [(name, header, start, end) for start, end in ranges]
    options = {"sep": sep, "encoding": table.encoding, "errors": table.errors, "quoting": table.quoting}
    meta = _parse_csv_rows(parts[0][1], b"", **options)
    return dd.from_map(_read_csv_rows, parts, meta=meta, divisions=None, enforce_metadata=False, named=named,
                       **options)


def _read_csv_rows(part: tuple[str, bytes, int, int], sep: str, encoding: str, errors: str,
                   quoting: int = csv.QUOTE_MINIMAL, named: bool = True) -> pd.DataFrame:
    """The rows in bytes ``[start, end)`` of a CSV or TSV file, as a Dask worker reads one block.

    A row pandas cannot read is a one-line ``BadInputFile`` in the local engine's words, its
    row counted from the file's header (``named``: after the file's name)."""
    import fsspec

    name, header, start, end = part
    with fsspec.open(name, "rb") as raw:
        raw.seek(start)
        rows = raw.read(end - start)
    try:
        return _parse_csv_rows(header, rows, sep, encoding, errors, quoting)
    except pd.errors.ParserError as e:
        names = _header_and_blank_rows(header, sep, encoding, errors, quoting)[0]
        reason = _first_unreadable_row(name, end, sep, encoding, errors, quoting) \
            or f"{tables.parser_reason(e, names, sep)}, counting rows from byte {start}"
        raise BadInputFile(f"{name + ': ' if named else ''}{tables.unreadable(sep, reason)}") from None


def _read_whole_csv(source, shown: str | None, **kwargs) -> pd.DataFrame:
    """A whole CSV or TSV file (gzip-compressed, or in UTF-16) as Dask's CSV reader reads it; a row
    pandas cannot read is a one-line ``BadInputFile`` in the local engine's words (``shown``: after
    the file's name). ``tables.read_csv_block``, not pandas.read_csv: the workers need pmtype's error
    handler registered."""
    try:
        return _read_csv_block(source, **kwargs)
    except pd.errors.ParserError as e:
        sep = kwargs["sep"]
        source.seek(0)
        names = _header_and_blank_rows(source.read(tables.SAMPLE_BYTES), sep, kwargs["encoding"],
                                       kwargs["encoding_errors"], kwargs.get("quoting", csv.QUOTE_MINIMAL))[0]
        raise BadInputFile(f"{shown + ': ' if shown else ''}"
                           f"{tables.unreadable(sep, tables.parser_reason(e, names, sep))}") from None


def _first_unreadable_row(name: str, end: int, sep: str, encoding: str, errors: str,
                          quoting: int = csv.QUOTE_MINIMAL) -> str | None:
    """What pandas says of the first row it cannot read in bytes ``[0, end)`` of a file, rows counted
    from its header as the local engine counts them (a blank line among a one-column table's rows
    is a row), or the local engine's refusal of a first row longer than the header
    (``tables.first_row_too_long``); None if it reads them all.

    A block alone cannot tell how many rows come before it: on this error path only, the
    file is read again from its start, in chunks.
    """
    import fsspec

    with fsspec.open(name, "rb") as raw:
        names, blank_rows = _header_and_blank_rows(raw.read(min(end, tables.SAMPLE_BYTES)), sep, encoding, errors,
                                                   quoting)
        raw.seek(0)
        try:
            chunks = tables.read_csv_block(io.BufferedReader(_Upto(raw, end)), sep=sep, quoting=quoting, dtype=str,
                                           keep_default_na=False, na_filter=False, encoding=encoding,
                                           encoding_errors=errors, chunksize=50_000, **blank_rows)
            for k, chunk in enumerate(chunks):
                if k == 0 and (reason := tables.first_row_too_long(chunk, sep)):
                    return reason
        except pd.errors.ParserError as e:
            return tables.parser_reason(e, names, sep)
    return None


class _Upto(io.RawIOBase):
    """The bytes of the binary file ``raw`` up to offset ``end``."""

    def __init__(self, raw, end: int):
        self.raw, self.left = raw, end

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self.raw.read(min(len(b), self.left)) if self.left > 0 else b""
        b[: len(data)] = data
        self.left -= len(data)
        return len(data)


def _parse_csv_rows(header: bytes, rows: bytes, sep: str, encoding: str, errors: str,
                    quoting: int = csv.QUOTE_MINIMAL) -> pd.DataFrame:
    return _read_csv_block(io.BytesIO(header + rows), sep=sep, quoting=quoting, dtype=str, keep_default_na=False,
                           na_filter=False, encoding=encoding, encoding_errors=errors)


def _read_csv_block(source: io.BytesIO, **kwargs) -> pd.DataFrame:
    """The CSV or TSV table in ``source`` (its header first), read by a Dask worker with
    ``tables.read_csv_block`` (not pandas.read_csv: the workers need pmtype's error handler
    registered), a blank line among a one-column table's rows kept as a row, as the local engine
    reads it, whether the table is cut into blocks or read whole (gzip-compressed, in UTF-16)."""
    start = source.read(tables.SAMPLE_BYTES)
    source.seek(0)
    blank_rows = _header_and_blank_rows(start, kwargs["sep"], kwargs["encoding"], kwargs["encoding_errors"],
                                        kwargs.get("quoting", csv.QUOTE_MINIMAL))[1]
    frame = tables.read_csv_block(source, **kwargs, **blank_rows)
    if reason := tables.first_row_too_long(frame, kwargs["sep"]):
        # the block's first row, longer than the header, read as an index: the local engine's refusal
        # (the row is named by the caller, which knows where the block starts)
        raise pd.errors.ParserError(reason)
    return frame


def _header_and_blank_rows(start: bytes, sep: str, encoding: str, errors: str,
                           quoting: int) -> tuple[list[str] | None, dict]:
    """``tables.header_and_blank_rows`` of the CSV or TSV table whose first bytes are ``start``: its
    header's names as written (for ``tables.parser_reason``), and the options that read a blank line
    among a one-column table's rows as a row, as the local engine reads it."""
    head = codecs.getincrementaldecoder(encoding)(errors).decode(start)
    return tables.header_and_blank_rows(head, sep, quoting)


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
        name = f"{gzipped[0]}: " if _is_pattern(input_path) else ""
        raise BadInputFile(f"{name}{tables.gzip_damaged(e)}") from None
