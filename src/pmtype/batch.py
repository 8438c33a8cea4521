"""``label_file``: label a table of postings of any size, chunk by chunk.

Every input row comes out, in order, with its columns as they were and four
more: ``pm_label``, ``pm_p_technical``, ``pm_status``, ``pm_evidence`` (and
``pm_model``). The output appears under its name only when the run ends.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pmtype import config, persist, tables
from pmtype.errors import BadInputFile, BadOption
from pmtype.features import posting_text
from pmtype.model import PMTypeModel, default_model_path, load_model

OUTPUT_COLUMNS = ("pm_label", "pm_p_technical", "pm_status", "pm_evidence", "pm_model")


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
        if kind != "text":
            texts.append("" if kind == "empty" else None)
            truncated.append(False)
        else:
            texts.append(posting_text(body[:max_chars], title))
            truncated.append(len(body) > max_chars)
    predictions = model.predict(texts, force=force)
    out = frame.drop(columns=[c for c in OUTPUT_COLUMNS if c in frame.columns]).copy()
    statuses = []
    for pred, cut in zip(predictions, truncated):
        statuses.append(pred.status + (f"; truncated to {max_chars} characters" if cut else ""))
    out["pm_label"] = [p.label or "" for p in predictions]
    out["pm_p_technical"] = [
        "" if p.p_technical is None or p.label is None else f"{p.p_technical:.4f}" for p in predictions
    ]
    out["pm_status"] = statuses
    out["pm_evidence"] = [p.evidence_compact() for p in predictions]
    out["pm_model"] = model.model_id
    return out


# --- worker processes -----------------------------------------------------------

_WORKER_MODEL: PMTypeModel | None = None


def _init_worker(model_path: str) -> None:
    global _WORKER_MODEL
    _WORKER_MODEL = load_model(model_path, build_if_missing=False)


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
    with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(model_path,)) as pool:
        pending = []
        for chunk in chunks:
            pending.append(pool.submit(_label_in_worker, chunk, text_column, title_column, force))
            if len(pending) >= 2 * jobs:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


def label_file(input_path, output_path, model: str | Path | None = None,
               text_column: str | None = None, title_column: str | None = None,
               in_format: str | None = None, out_format: str | None = None,
               encoding: str | None = None, chunk_size: int = config.CHUNK_SIZE,
               jobs: int = 1, force: bool = False, resume: bool = False,
               on_rows: Callable[[int], None] | None = None,
               progress: Callable[[str], None] | None = None) -> LabelSummary:
    """Label every row of ``input_path`` into ``output_path`` (``-`` for stdin/stdout).

    ``jobs`` > 1 labels chunks in that many processes (only when the input holds
    more than one chunk). ``resume`` continues a run that was interrupted, from
    its last complete chunk (CSV, TSV and JSON Lines output).
    """
    started = time.perf_counter()
    if model is None and not (default_model_path() / persist.MANIFEST_FILE).exists():
        load_model(None, progress=progress)  # builds the default model once
    model_path = str(model) if model is not None else str(default_model_path())
    in_fmt = tables.detect_format(input_path, in_format)
    out_fmt = tables.detect_format(output_path, out_format) if (out_format or str(output_path) != "-") else in_fmt
    if resume and (out_fmt == "parquet" or str(output_path) == "-"):
        raise BadOption("--resume needs a CSV, TSV or JSON Lines output file")
    chunks = tables.read_chunks(input_path, fmt=in_fmt, chunk_size=chunk_size, encoding=encoding)
    first = next(chunks)
    text_col = tables.find_column(first.columns, text_column, tables.TEXT_COLUMNS, "text")
    title_col = tables.find_column(first.columns, title_column, tables.TITLE_COLUMNS, "title",
                                   required=title_column is not None)
    if len(first) < chunk_size:
        jobs = 1  # one chunk: worker processes would cost more than they save
    if jobs > 1:
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
            writer.write(labelled)
            summary.rows += len(labelled)
            summary.labels.update(v for v in labelled["pm_label"] if v)
            summary.statuses.update(s.split(";")[0] for s in labelled["pm_status"])
            if on_rows:
                on_rows(len(labelled))

    if out_fmt == "parquet" or str(output_path) == "-":
        with tables.atomic_output(output_path, out_fmt) as writer:
            run(writer)
    else:
        identity = {"input": _identity(input_path), "chunk_size": chunk_size, "model": model_id,
                    "text": text_col, "title": title_col, "force": force, "format": out_fmt}
        with tables.ResumableOutput(output_path, out_fmt, identity, resume=resume) as writer:
            summary.resumed_rows = writer.rows_done
            if writer.rows_done and progress:
                progress(f"resuming after {writer.rows_done} rows already labelled")
            run(writer, skip_rows=writer.rows_done)
            writer.finish()
    summary.seconds = time.perf_counter() - started
    return summary


def _identity(path) -> dict:
    if str(path) == "-":
        return {"path": "-"}
    p = Path(path).resolve()
    st = p.stat()
    return {"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


# --- a cluster, through Dask ------------------------------------------------------

_PARTITION_MODELS: dict[str, PMTypeModel] = {}


def _label_partition(frame: pd.DataFrame, model_path: str, text_column: str,
                     title_column: str | None, force: bool) -> pd.DataFrame:
    """The per-chunk function, run by Dask workers; each loads the model once."""
    model = _PARTITION_MODELS.get(model_path)
    if model is None:
        model = _PARTITION_MODELS[model_path] = load_model(model_path, build_if_missing=False)
    frame = frame.astype(object).where(frame.notna(), None)
    return label_frame(model, frame, text_column, title_column, force).astype("string")


def label_with_dask(input_path: str, output_dir, model: str | Path | None = None,
                    text_column: str | None = None, title_column: str | None = None,
                    in_format: str | None = None, out_format: str = "parquet",
                    scheduler: str | None = None, workers: int = 2, blocksize: str = "64MB",
                    force: bool = False, progress: Callable[[str], None] | None = None) -> LabelSummary:
    """Label a path, a glob or any URL Dask reads, into a folder of partitioned output.

    With no ``scheduler`` a local cluster of ``workers`` processes is started;
    otherwise the job runs on the Dask cluster at that address. Each partition
    goes through the same ``label_frame`` as the single-machine path.
    """
    try:
        import dask.dataframe as dd
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise BadOption("the dask engine needs Dask: pip install 'pmtype[dask]'") from None
    started = time.perf_counter()
    loaded = load_model(model, progress=progress)
    model_path = str(Path(model).resolve()) if model is not None else str(default_model_path())
    fmt = tables.detect_format(input_path, in_format)
    if out_format not in ("parquet", "csv"):
        raise BadOption("the dask engine writes parquet or csv output")
    try:
        if fmt in ("csv", "tsv"):
            ddf = dd.read_csv(input_path, sep="\t" if fmt == "tsv" else ",", dtype=str,
                              keep_default_na=False, na_filter=False, blocksize=blocksize)
        elif fmt == "jsonl":
            ddf = dd.read_json(input_path, lines=True, blocksize=blocksize, dtype=False)
        else:
            ddf = dd.read_parquet(input_path)
    except (OSError, ValueError) as e:
        raise BadInputFile(f"cannot read {input_path}: {str(e).splitlines()[0]}") from None
    text_col = tables.find_column(ddf.columns, text_column, tables.TEXT_COLUMNS, "text")
    title_col = tables.find_column(ddf.columns, title_column, tables.TITLE_COLUMNS, "title",
                                   required=title_column is not None)
    columns = [c for c in ddf.columns if c not in OUTPUT_COLUMNS] + list(OUTPUT_COLUMNS)
    meta = pd.DataFrame({c: pd.Series(dtype="string") for c in columns})
    labelled = ddf.map_partitions(_label_partition, model_path, text_col, title_col, force, meta=meta)
    output_dir = str(output_dir)
    if scheduler:
        client = Client(scheduler)
        cluster = None
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
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
