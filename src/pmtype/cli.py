"""The ``pmtype`` command line: parse, call one function of the package, print.

Errors the package raises on purpose become one line, ``Error: …``, on stderr
and exit code 1; usage mistakes exit 2 (typer's own).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from pmtype import __version__
from pmtype.errors import PMTypeError

app = typer.Typer(
    name="pmtype",
    help="Is a product-manager job posting technical or business-minded? And why.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err = Console(stderr=True, highlight=False, soft_wrap=True)

ModelOption = Annotated[
    Optional[Path],
    typer.Option("--model", "-m", help="A model folder (default: the built-in default model)."),
]


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def _say(message: str) -> None:
    typer.echo(message, err=True)


class _Errors:
    """Turn the package's exceptions into one-line errors with an exit code."""

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is not None and isinstance(exc, PMTypeError):
            _fail(str(exc), exc.exit_code)
        if exc is not None and isinstance(exc, KeyboardInterrupt):
            _fail("interrupted", 130)
        return False


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pmtype {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Print the version and exit.")] = None,
) -> None:
    """Is a product-manager job posting technical or business-minded? And why."""


@app.command()
def classify(
    text: Annotated[Optional[str], typer.Argument(help="The posting's text (or use --file, or stdin).")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", "-f", help="Read the posting from a file.")] = None,
    title: Annotated[Optional[str], typer.Option("--title", "-t", help="The job title, if you have it.")] = None,
    model: ModelOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Label even when it is not a PM posting.")] = False,
) -> None:
    """Classify one posting: label, probability of technical, and evidence by distinction."""
    from pmtype.model import classify as classify_posting

    if text is not None and file is not None:
        _fail("give the posting as an argument or with --file, not both", 2)
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            _fail(f"{file} does not exist")
        except IsADirectoryError:
            _fail(f"{file} is a folder, not a file")
    elif text is None:
        if sys.stdin is None or sys.stdin.isatty():
            _fail("no posting given: pass its text, --file PATH, or pipe it on stdin", 2)
        text = sys.stdin.read()
    with _Errors():
        prediction = classify_posting(text, title=title, model=model, force=force, progress=_say)
    if as_json:
        typer.echo(json.dumps(prediction.as_dict(), ensure_ascii=False))
        return
    _print_prediction(prediction)


def _print_prediction(prediction) -> None:
    out = Console(highlight=False, soft_wrap=True)
    if prediction.label is None:
        out.print(f"[bold]{prediction.status}[/bold]"
                  + (f" (p_pm {prediction.p_pm:.2f}; --force labels it anyway)" if prediction.p_pm is not None else ""))
    else:
        note = "  [yellow]uncertain: a close call[/yellow]" if prediction.status == "uncertain" else ""
        out.print(f"[bold]{prediction.label}[/bold]  p_technical {prediction.p_technical:.2f}{note}")
    if not prediction.evidence:
        out.print("No evidence from the five distinctions was found.")
        return
    table = Table(title="Evidence by distinction", show_lines=False)
    table.add_column("distinction")
    table.add_column("leans")
    table.add_column("strength", justify="right")
    table.add_column("phrases")
    for e in prediction.evidence:
        phrases = []
        for p in e.phrases:
            item = p["phrase"] if p["side"] == e.lean else f"[dim]{p['phrase']} ({p['side']})[/dim]"
            if item not in phrases:
                phrases.append(item)
        table.add_row(e.title, e.lean, f"{e.strength:.2f}", ", ".join(phrases[:8]))
    out.print(table)


@app.command()
def label(
    input: Annotated[str, typer.Argument(help="A CSV/TSV/JSONL/Parquet file of postings, or - for stdin.")],
    output: Annotated[str, typer.Option("--output", "-o", help="Where to write the labelled table (- for stdout).")] = "-",
    model: ModelOption = None,
    text_column: Annotated[Optional[str], typer.Option("--text-column", help="The column holding the posting text.")] = None,
    title_column: Annotated[Optional[str], typer.Option("--title-column", help="The column holding the job title.")] = None,
    fmt: Annotated[Optional[str], typer.Option("--format", help="Input format: csv, tsv, jsonl, parquet.")] = None,
    out_fmt: Annotated[Optional[str], typer.Option("--output-format", help="Output format (default: from the name, else the input's).")] = None,
    encoding: Annotated[Optional[str], typer.Option("--encoding", help="Input text encoding (default: detected).")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes (0: all cores).")] = 0,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run from its last complete chunk.")] = False,
    chunk_size: Annotated[int, typer.Option("--chunk-size", help="Rows per chunk.")] = 2000,
    force: Annotated[bool, typer.Option("--force", help="Label rows the scope check calls not a PM posting.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no summary.")] = False,
) -> None:
    """Label every row of a table of postings, keeping every input column and row."""
    from pmtype.batch import label_file

    if chunk_size < 1:
        _fail("--chunk-size must be at least 1", 2)
    jobs = jobs if jobs > 0 else (os.cpu_count() or 1)
    with _Errors(), _progress(quiet) as on_rows:
        summary = label_file(input, output, model=model, text_column=text_column,
                             title_column=title_column, in_format=fmt, out_format=out_fmt,
                             encoding=encoding, chunk_size=chunk_size, jobs=jobs, force=force,
                             resume=resume, on_rows=on_rows, progress=None if quiet else _say)
    if not quiet:
        _say(summary.line())


class _progress:
    """A rich progress line on stderr while rows are labelled (only on a terminal)."""

    def __init__(self, quiet: bool):
        self.enabled = not quiet and sys.stderr.isatty()
        self._progress = None

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(SpinnerColumn(), TextColumn("labelling"), MofNCompleteColumn(),
                                  TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                                  console=err, transient=True)
        self._progress.start()
        task = self._progress.add_task("label", total=None, rate="")
        import time

        start = time.perf_counter()

        def advance(n: int) -> None:
            self._progress.advance(task, n)
            done = self._progress.tasks[0].completed
            self._progress.update(task, rate=f"{done / max(time.perf_counter() - start, 1e-9):.0f} rows/s")

        return advance

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.stop()
        return False


@app.command()
def train(
    files: Annotated[Optional[list[Path]], typer.Argument(help="Labelled tables (text and 'label' columns).")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="The new model's folder.")] = ...,
    no_seed: Annotated[bool, typer.Option("--no-seed", help="Train on your rows only, without the seed corpus.")] = False,
    text_column: Annotated[Optional[str], typer.Option("--text-column")] = None,
    title_column: Annotated[Optional[str], typer.Option("--title-column")] = None,
    label_column: Annotated[str, typer.Option("--label-column")] = "label",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing model folder.")] = False,
) -> None:
    """Train a model on the seed corpus plus your labelled postings, report, and save it."""
    from pmtype.evaluate import format_metrics
    from pmtype.training import train as train_model

    files = files or []
    if no_seed and not files:
        _fail("--no-seed needs at least one labelled file", 2)
    with _Errors():
        manifest = train_model(files, output, use_seed=not no_seed, text_column=text_column,
                               title_column=title_column, label_column=label_column,
                               overwrite=overwrite, progress=_say)
    data = manifest["data"]
    typer.echo(f"model {manifest['model_id']} written to {output}")
    typer.echo(f"trained on {data['rows']} postings: "
               + ", ".join(f"{k} {v}" for k, v in data["by_label"].items()))
    typer.echo(f"cross-validated ({manifest['metrics']['folds']} folds):")
    typer.echo(format_metrics(manifest["metrics"]["cross_validation"]))


@app.command()
def evaluate(
    file: Annotated[Path, typer.Argument(help="A labelled table (text and 'label' columns).")],
    model: ModelOption = None,
    text_column: Annotated[Optional[str], typer.Option("--text-column")] = None,
    title_column: Annotated[Optional[str], typer.Option("--title-column")] = None,
    label_column: Annotated[str, typer.Option("--label-column")] = "label",
    report: Annotated[Optional[Path], typer.Option("--report", help="Write figures and report.md here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Score a model on labelled postings: metrics with 95% intervals and a confusion matrix."""
    from pmtype.evaluate import evaluate as evaluate_model
    from pmtype.evaluate import format_metrics

    with _Errors():
        result = evaluate_model(file, model=model, text_column=text_column, title_column=title_column,
                                label_column=label_column, report_dir=report, progress=_say)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(f"model {result['model_id']} on {file}")
    typer.echo(format_metrics(result))
    typer.echo(f"uncertain (inside the band): {result['uncertain']}; "
               f"set aside by the scope check: {result['scope_flagged']}")
    if report is not None:
        typer.echo(f"report written to {result['report']}")


@app.command()
def info(model: ModelOption = None) -> None:
    """Print what a model is: when built, from which data, versions, metrics."""
    from pmtype.model import load_model
    from pmtype.registry import describe

    with _Errors():
        load_model(model, progress=_say)  # verifies hash and versions (builds the default if missing)
        typer.echo(describe(model))


def run() -> None:  # the console script
    app()
