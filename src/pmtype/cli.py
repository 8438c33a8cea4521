"""The ``pmtype`` command line: parse, call one function of the package, print.

Errors the package raises on purpose become one line, ``Error: …``, on stderr
and exit code 1; usage mistakes exit 2 (typer's own).
"""

from __future__ import annotations

import _thread
import contextlib
import io
import os
import re
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pmtype import __version__, config
from pmtype.errors import PMTypeError, counted, printable

app = typer.Typer(
    name="pmtype",
    help="Is a product-manager job posting technical or business-minded? And why.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err = Console(stderr=True, highlight=False, soft_wrap=True)

FormatOption = Annotated[
    Optional[str], typer.Option("--format", help="Input format: csv, tsv, jsonl, parquet (default: from the name).")]
EncodingOption = Annotated[
    Optional[str], typer.Option("--encoding", help="Input text encoding (default: detected).")]
TextColumnOption = Annotated[Optional[str], typer.Option(
    "--text-column", help="The column holding the posting text (default: description, text, body… found by name).")]
TitleColumnOption = Annotated[Optional[str], typer.Option(
    "--title-column", help="The column holding the job title (default: title, job_title… where there is one).")]
LabelColumnOption = Annotated[str, typer.Option(
    "--label-column", help=f"The column holding the labels: {config.LABELS_NAMED}.")]
ModelOption = Annotated[
    Optional[str],  # as given: a Path would read "" as the working directory
    typer.Option("--model", "-m", help="A model version (as 'pmtype models' lists them) or a model folder (default: the default model)."),
]


#: Exit code for a Ctrl-C, as shells give a process that SIGINT ended.
INTERRUPTED = 130
#: Exit code when the reader of standard output stops early ("| head"), as shells give a
#: process that SIGPIPE ended.
OUTPUT_CLOSED = 141
_said: list[str] = []  # the error lines printed, so that the console script does not repeat one


def _quiet_asyncio() -> None:
    """Leave asyncio's log off for the rest of the process, which a Ctrl-C is ending: a task the
    interrupt cut short (a dask nanny that was starting) is reported by asyncio, with a traceback
    ("Task exception was never retrieved"), when it is dropped, after "Error: interrupted" has said
    what happened."""
    import logging

    logging.getLogger("asyncio").setLevel(logging.CRITICAL + 1)


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"Error: {message}", err=True)
    _said.append(message)
    raise typer.Exit(code)


def _a_path(param: typer.CallbackParam, value):
    """The check of every path option and argument, each taken as given (a ``str``: as a ``Path``,
    "" would be the working directory): an empty path, or one of blanks alone (a file or folder
    named "  " is never meant), is a wrong use, said as one."""
    for given in value if isinstance(value, (list, tuple)) else [value]:
        if isinstance(given, str) and not given.strip():
            long = [o for o in param.opts if o.startswith("--")] if param.param_type_name == "option" else []
            _fail(f"an empty path was given for {long[0] if long else param.metavar or param.name.upper()}", 2)
    return value


def _say(message: str) -> None:
    typer.echo(message, err=True)


def _is_stream(output: str) -> bool:
    """Whether the output option names standard output, /dev/null or a pipe (written straight
    through), not a file that a "written to" line could point at."""
    from pmtype.tables import is_stream

    return is_stream(config.expand_user(output))


def _say_unfinished(unfinished) -> None:
    """A line on stderr per folder for what ``registry.remove_unfinished`` removed, and one per model it put back."""
    by_folder: dict[Path, list[str]] = {}
    for path in unfinished.removed:
        by_folder.setdefault(path.parent, []).append(path.name)
    for folder, names in by_folder.items():
        _say(f"Removed what interrupted runs left unfinished in {folder}: " + ", ".join(names))
    for place in unfinished.restored:
        _say(f"Put back {place}, which an interrupted training had moved aside to replace it.")


def _quiet_stdout() -> None:
    """Point standard output at /dev/null, so that the exit's flush of what is left does not
    fail again on the closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


class _Errors:
    """Turn the package's exceptions into one-line errors with an exit code."""

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is not None and isinstance(exc, PMTypeError):
            _fail(str(exc), exc.exit_code)
        if exc is not None and isinstance(exc, KeyboardInterrupt):
            _quiet_asyncio()
            _fail("interrupted", INTERRUPTED)
        if exc is not None and isinstance(exc, BrokenPipeError):
            # the reader stopped early ("| head"): end quietly, as other Unix tools do
            _quiet_stdout()
            raise typer.Exit(OUTPUT_CLOSED)
        if exc is not None and isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
            # what the package did not foresee (a full disk, a file gone mid-run): still one line
            from pmtype.tables import one_line

            where = f": {exc.filename}" if exc.filename else ""
            _fail(f"{exc.strerror or one_line(exc)}{where}", 1)
        return False


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether the option ``name`` (its parameter's name) was given on the command line, even at its default value."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def _check_jobs(jobs: int | None) -> None:
    """The package's rule for ``--jobs``, checked before any work starts."""
    from pmtype.model import jobs_for

    with _Errors():
        jobs_for(0, jobs)


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
    text: Annotated[Optional[str], typer.Argument(
        help="The posting's text, or the path of a file that holds it (or use --file, or stdin).")] = None,
    file: Annotated[Optional[str], typer.Option("--file", "-f", callback=_a_path, help="Read the posting from a file.")] = None,
    title: Annotated[Optional[str], typer.Option("--title", "-t", help="The job title, if you have it.")] = None,
    model: ModelOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Label even when it is not a PM posting, or not in English.")] = False,
) -> None:
    """Classify one posting: label, probability of technical, and evidence by distinction."""
    from pmtype.model import classify as classify_posting

    from pmtype.tables import argument_text, read_text_file, strict_json, web_address_hint

    if text is not None and file is not None:
        _fail("give the posting as an argument or with --file, not both", 2)
    for given in (text, file):
        if given is not None and _is_a_web_address(given) and _named_path(given) is None:
            _fail(f"{given.strip()}: pmtype reads no web pages (nothing is fetched); paste the posting's text, "
                  "or save the page and give its file", 2)
    named = _named_path(text) if text is not None else None
    if named is not None:
        file, text = named, None  # "-": standard input, as for label
    elif text is not None and _looks_like_a_file_name(text):
        _fail(f"{text.strip()}: no such file"
              + (web_address_hint(text) or " (to classify those words as a posting, pipe them on stdin)"))
    if file is None and text is None:
        if sys.stdin is None or sys.stdin.isatty():
            _fail("no posting given: pass its text, --file PATH, or pipe it on stdin", 2)
        file = Path("-")
    with _Errors():
        if file is not None:
            if str(file) == "-" and (sys.stdin is None or sys.stdin.isatty()):
                _fail("no posting on standard input: pipe it in, or pass its text or --file PATH", 2)
            # the encoding detected (as for tables, stdin too); a missing, binary or unreadable
            # file, or a folder, is a one-line error. Only as much as the model reads, and the
            # character after it that tells the posting is longer, is held in memory.
            text = read_text_file(file, max_chars=config.MAX_CHARS)
        else:
            text = argument_text(text)
        prediction = classify_posting(text, title=None if title is None else argument_text(title), model=model,
                                      force=force, progress=_say)
    if as_json:
        typer.echo(strict_json(prediction.as_dict(), ensure_ascii=False))
        return
    _print_prediction(prediction)


def _named_path(text: str) -> Path | None:
    """The path an argument of one line names, where it names one: ``-`` (standard input), or
    something that exists: a file, a folder (refused when read), a named pipe or ``/dev/fd/N``
    (``<(…)``), spaces in its name or not, ``~`` in front for the home folder."""
    if text.strip() == "-":
        return Path("-")
    if not text.strip() or len(text) > 1024 or "\n" in text:
        return None
    for candidate in dict.fromkeys((text, text.strip())):
        path = Path(config.expand_user(candidate))  # "~/posting.txt", quoted: as a shell reads it
        try:
            if path.exists():
                return path
        except (OSError, ValueError):  # a name too long, a NUL in it
            pass
    return None


#: Endings of files a posting may be kept in: an argument of a few words ending so is taken for a
#: mistyped file name.
_FILE_ENDINGS = (".txt", ".md", ".html", ".htm", ".rtf", ".csv", ".tsv", ".json", ".jsonl", ".pdf", ".doc",
                 ".docx", ".gz")


#: What posting text holds and a file's name does not: a sentence's break ("the roadmap. Work…",
#: "APIs, SDKs") or end.
_SENTENCE = re.compile(r"[.,;:!?]\s|[.!?]$")


#: A web address alone: what a posting's page is found by, not its text.
_WEB_ADDRESS = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
#: A web address without its scheme or www: a host with a dot and a top-level domain, then a path
#: (``example.com/jobs/123``); the caller has found no such file.
_BARE_WEB_ADDRESS = re.compile(r"(?P<host>[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,})/\S*", re.IGNORECASE)


def _is_a_web_address(text: str) -> bool:
    """Whether an argument is one web address (``https://…``, ``www.…``, ``example.com/jobs/1``)
    and nothing else: the posting's page, which pmtype does not fetch, rather than its text. Without
    ``https://`` or ``www.``, a path whose folder or last part is named as a file is
    (``notes.txt/…``, ``data.backup/posting.txt``) is a missing file, not a host and its page."""
    if _WEB_ADDRESS.fullmatch(text.strip()) is not None:
        return True
    bare = _BARE_WEB_ADDRESS.fullmatch(text.strip())
    return bare is not None and not any(part.lower().endswith(_FILE_ENDINGS)
                                        for part in (bare["host"], text.strip().rsplit("/", 1)[-1]))


def _looks_like_a_file_name(text: str) -> bool:
    """Whether an argument that names nothing looks like a file's name (a mistyped path) rather than
    a posting: one line of a few words and no sentence, that holds a path separator (with no space
    in it, or starting as a path does: ``/``, ``./``, ``~``) or ends as a file does (``.txt``, a
    space in the name or not)."""
    name = text.strip()
    if not name or "\n" in name or len(name.split()) > 6 or _SENTENCE.search(name):
        return False
    separators = tuple(s for s in (os.sep, os.altsep) if s)
    if any(s in name for s in separators) and (
            not any(c.isspace() for c in name) or name.startswith((*separators, "./", "../", "~"))):
        return True
    return name.lower().endswith(_FILE_ENDINGS)


class _StdoutConsole(Console):
    """rich's console on standard output, ending as every command does when the reader of standard
    output stops early (rich's own way is exit code 1)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        _quiet_stdout()
        raise SystemExit(OUTPUT_CLOSED)


def _print_prediction(prediction) -> None:
    out = _StdoutConsole(highlight=False, soft_wrap=True)
    # a status may carry a note after "; " ("uncertain; truncated to 100000 characters",
    # "not English; truncated to 100000 characters")
    status, _, more = prediction.status.partition("; ")
    aside = f"  ({more})" if more else ""
    if prediction.label is None:
        why = ("pmtype reads English postings" if status == "not English"
               else f"p_pm {prediction.p_pm:.2f}" if prediction.p_pm is not None else None)
        out.print(f"[bold]{status}[/bold]" + (f" ({why}; --force labels it anyway)" if why else "") + aside)
    else:
        note = "  [yellow]uncertain: a close call[/yellow]" if status == "uncertain" else ""
        note += aside
        from pmtype.metrics import shown_p

        out.print(f"[bold]{prediction.label}[/bold]  p_technical {shown_p(prediction.p_technical)}{note}")
    if not prediction.evidence:
        out.print("No evidence from the five distinctions was found.")
        return
    table = Table(title="Evidence by distinction", show_lines=False)
    table.add_column("distinction")
    table.add_column("leans")
    table.add_column("strength", justify="right")
    # a phrase folds onto the next line rather than ending in "…": it is the evidence to read
    table.add_column("phrases", overflow="fold")
    for e in prediction.evidence:
        phrases = []
        # The side it leans to first, then the other side's phrases, dimmed. A phrase is the
        # posting's own text, printed as written: "[required]" in it is no rich markup.
        for p in sorted(e.phrases, key=lambda p: p["side"] != e.lean):
            phrase = escape(p["phrase"])
            item = phrase if p["side"] == e.lean else f"[dim]{phrase} ({p['side']})[/dim]"
            if item not in phrases:
                phrases.append(item)
        table.add_row(e.title, e.lean, f"{e.strength:.2f}", ", ".join(phrases[:8]))
    out.print(table)


@app.command()
def label(
    ctx: typer.Context,
    input: Annotated[str, typer.Argument(callback=_a_path, help="A CSV/TSV/JSONL/Parquet file of postings, or - for stdin.")],
    output: Annotated[str, typer.Option("--output", "-o", callback=_a_path, help="Where to write the labelled table (- for stdout).")] = "-",
    model: ModelOption = None,
    text_column: TextColumnOption = None,
    title_column: TitleColumnOption = None,
    fmt: FormatOption = None,
    out_fmt: Annotated[Optional[str], typer.Option("--output-format", help="Output format (default: from the output file's name; on stdout, the input's).")] = None,
    encoding: EncodingOption = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes (0: all cores; never more than the cores).")] = 0,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run from its last complete chunk.")] = False,
    chunk_size: Annotated[int, typer.Option("--chunk-size", help="Rows per chunk.")] = config.CHUNK_SIZE,
    force: Annotated[bool, typer.Option("--force", help="Label rows the scope check calls not a PM posting, and rows not in English.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no summary.")] = False,
    engine: Annotated[str, typer.Option("--engine", help="local, or dask (a cluster; -o is then a folder).")] = "local",
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Dask scheduler address (default: a local cluster).")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", help="Worker processes of the local Dask cluster (default 2; never more than the cores).")] = None,
) -> None:
    """Label every row of a table of postings, keeping every input column and row."""
    from pmtype.batch import label_file, label_with_dask

    if chunk_size < 1:
        _fail("--chunk-size must be at least 1", 2)
    _check_jobs(jobs)
    if engine not in ("local", "dask"):
        _fail(f"unknown engine '{engine}'; choose local or dask", 2)
    # Options of one engine given to the other would be silently ignored: say so instead.
    if engine == "dask":
        for given, option, why in ((resume, "--resume", "the dask engine writes a new folder"),
                                   (_given(ctx, "jobs"), "--jobs", "the dask engine's processes are its workers (--workers)"),
                                   (_given(ctx, "chunk_size"), "--chunk-size", "the dask engine reads the file in blocks")):
            if given:
                _fail(f"{option} is for the local engine; {why}", 2)
        if output == "-":
            _fail("the dask engine writes to a folder: give -o FOLDER", 2)
        with _Errors():
            summary = label_with_dask(input, output, model=model, text_column=text_column,
                                      title_column=title_column, in_format=fmt,
                                      out_format=out_fmt, encoding=encoding, scheduler=scheduler,
                                      workers=2 if workers is None else workers, force=force,
                                      progress=None if quiet else _say)
        if not quiet:
            _say(summary.line())
        return
    for given, option in ((scheduler is not None, "--scheduler"), (workers is not None, "--workers")):
        if given:
            _fail(f"{option} is for the dask engine: add --engine dask (the local engine's processes: --jobs)", 2)
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
    files: Annotated[Optional[list[str]], typer.Argument(callback=_a_path, help="Labelled tables (text and 'label' columns).")] = None,
    output: Annotated[Optional[str], typer.Option("--output", "-o", callback=_a_path, help="The new model's folder (default: a new version in the models directory).")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Name of the new version in the models directory (default: <UTC time>-<data hash>).")] = None,
    promote_if_better: Annotated[Optional[str], typer.Option("--promote-if-better", metavar="LABELLED", callback=_a_path, help="Make the new model the default if it is not worse than the current default on this labelled file.")] = None,
    margin: Annotated[Optional[float], typer.Option("--margin", help="With --promote-if-better: how much macro-F1 the new model may lose and still count as not worse (default 0.02).")] = None,
    no_seed: Annotated[bool, typer.Option("--no-seed", help="Train on your rows only, without the seed corpus.")] = False,
    text_column: TextColumnOption = None,
    title_column: TitleColumnOption = None,
    label_column: LabelColumnOption = "label",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing model folder given with -o (a version in the models directory is never "
                                            "replaced, except the built-in 'default').")] = False,
    drop_boilerplate: Annotated[bool, typer.Option("--drop-boilerplate", help="Leave company, benefits and legal text out of features and evidence.")] = False,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", help="Processes (0: all cores, never more; default: all cores from 2,000 postings).")] = None,
    fmt: FormatOption = None,
    encoding: EncodingOption = None,
) -> None:
    """Train a model on the seed corpus plus your labelled postings, report, and save it as a version."""
    from pmtype.evaluation import format_metrics
    from pmtype.registry import MARGIN, format_comparison, train_version

    files = files or []
    _check_jobs(jobs)
    if no_seed and not files:
        _fail("--no-seed needs at least one labelled file", 2)
    if output is not None and name is not None:
        _fail("give --output or --name, not both", 2)
    if margin is not None and promote_if_better is None:
        _fail("--margin goes with --promote-if-better", 2)
    with _Errors():
        outcome = train_version(files, name=name, output=output, promote_on=promote_if_better,
                                margin=MARGIN if margin is None else margin, use_seed=not no_seed,
                                text_column=text_column, title_column=title_column,
                                label_column=label_column, overwrite=overwrite, jobs=jobs,
                                drop_boilerplate=drop_boilerplate, fmt=fmt, encoding=encoding, progress=_say)
    _say_unfinished(outcome.unfinished)
    manifest = outcome.manifest
    data = manifest["data"]
    typer.echo(f"model {manifest['model_id']} written to {outcome.path}")
    typer.echo(f"trained on {counted(data['rows'], 'posting')}: "
               + ", ".join(f"{k} {v}" for k, v in data["by_label"].items()))
    typer.echo(f"cross-validated ({manifest['metrics']['folds']} folds):")
    typer.echo(format_metrics(manifest["metrics"]["cross_validation"]))
    if outcome.comparison is not None:
        for note in outcome.comparison.notes:  # the reference file's rows left out, as compare says them
            _say(note)
        typer.echo("")
        typer.echo(format_comparison(outcome.comparison))
    if promote_if_better is not None:
        typer.echo(outcome.decision)
    elif output is None:
        typer.echo(f"make it the default with: pmtype models use {outcome.path.name}")
    elif outcome.other_default is not None:
        typer.echo(f"Note: the default model is {outcome.other_default}; "
                   f"run 'pmtype models use {outcome.path.name}' to use this one.")


@app.command()
def evaluate(
    file: Annotated[str, typer.Argument(callback=_a_path, help="A labelled table (text and 'label' columns).")],
    model: ModelOption = None,
    text_column: TextColumnOption = None,
    title_column: TitleColumnOption = None,
    label_column: LabelColumnOption = "label",
    report: Annotated[Optional[str], typer.Option("--report", metavar="FOLDER", callback=_a_path, help="Write figures and report.md here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    fmt: FormatOption = None,
    encoding: EncodingOption = None,
) -> None:
    """Score a model on labelled postings: metrics with 95% intervals and a confusion matrix."""
    from pmtype.evaluation import evaluate as evaluate_model
    from pmtype.evaluation import format_metrics

    with _Errors():
        result = evaluate_model(file, model=model, text_column=text_column, title_column=title_column,
                                label_column=label_column, report_dir=report, fmt=fmt, encoding=encoding,
                                progress=_say)
    for note in result.get("notes", []):  # rows left out (empty text, …), as train reports them
        _say(note)
    if as_json:
        from pmtype.tables import strict_json

        typer.echo(strict_json(result, indent=2))
        return
    from pmtype.tables import input_name

    typer.echo(f"model {result['model_id']} on {input_name(file)}")
    typer.echo(format_metrics(result))
    typer.echo(f"uncertain (inside the band): {result['uncertain']}; "
               f"called not-PM by the scope check (scored all the same): {result['scope_flagged']}")
    if report is not None:
        typer.echo(f"report written to {result['report']}")


@app.command()
def info(model: ModelOption = None) -> None:
    """Print what a model is: when built, from which data, versions, metrics."""
    from pmtype.model import load_model
    from pmtype.registry import describe

    with _Errors():
        load_model(model, progress=_say)  # verifies hash and versions (builds the default if missing)
        description = describe(model)
    typer.echo(description)  # outside: a full standard output is said as such, by run()


# --- model versions, comparing, curating labels ------------------------------------------

models_app = typer.Typer(help="List the model versions; 'models use NAME' makes one the default, "
                              "'models remove NAME' removes one.",
                         add_completion=False)
app.add_typer(models_app, name="models")


@models_app.callback(invoke_without_command=True)
def models(ctx: typer.Context) -> None:
    """List the model versions with their cross-validated metrics; * marks the default."""
    if ctx.invoked_subcommand is not None:
        return
    from pmtype.config import models_dir
    from pmtype.metrics import shown_metric
    from pmtype.registry import LISTED_METRICS, list_models, missing_default, remove_unfinished

    _say_unfinished(remove_unfinished())  # what killed runs left: never listed, so tidied here
    with _Errors():
        versions = list_models()
    missing = missing_default()
    if not versions:
        typer.echo(f"no model versions in {models_dir()}; train one with 'pmtype train'")
        if missing:
            _say(f"Note: {missing}")
        return
    width = max(len("name"), *(len(v.name) for v in versions))
    typer.echo(f"  {'name':<{width}}  {'created':<25}  {'rows':>6}  "
               + "  ".join(f"{m:>8}" for m in LISTED_METRICS) + "  model id")
    for v in versions:
        mark = "*" if v.is_default else " "
        if v.problem:
            typer.echo(f"{mark} {v.name:<{width}}  cannot be used: {v.problem}")
            continue
        metrics = "  ".join(f"{shown_metric(v.metrics[m]) if m in v.metrics else '-':>8}" for m in LISTED_METRICS)
        typer.echo(f"{mark} {v.name:<{width}}  {v.created or 'unknown':<25}  {v.rows if v.rows is not None else 'unknown':>6}  "
                   f"{metrics}  {v.model_id}")
    if missing:
        _say(f"Note: {missing}")
    elif not any(v.is_default for v in versions):
        typer.echo("(no default among them: the built-in model, built from the seed corpus on first use, is the "
                   "default; 'pmtype models use NAME' chooses one of these)")


@models_app.command("use")
def models_use(name: Annotated[str, typer.Argument(help="The version to make the default.")]) -> None:
    """Make model version NAME the default model (after checking its hash and versions); 'default' is the
    built-in model, built from the seed corpus if it is not there yet."""
    from pmtype.registry import use_model

    with _Errors():
        version = use_model(name, progress=_say)
    typer.echo(f"{version.name} is now the default model ({version.model_id})")


@models_app.command("remove")
def models_remove(name: Annotated[str, typer.Argument(help="The version to remove.")]) -> None:
    """Remove model version NAME (not the default model: choose another with 'models use' first)."""
    from pmtype.registry import remove_version

    with _Errors():
        version = remove_version(name)
    typer.echo(f"removed model version {version.name}" + (f" ({version.model_id})" if version.model_id else ""))


@app.command()
def compare(
    new: Annotated[str, typer.Argument(help="The new model: a version name or a model folder.")],
    on: Annotated[str, typer.Option("--on", callback=_a_path, help="Labelled postings to score both models on.")],
    against: Annotated[Optional[str], typer.Option("--against", help="The model to compare with (default: the default model).")] = None,
    text_column: TextColumnOption = None,
    title_column: TitleColumnOption = None,
    label_column: LabelColumnOption = "label",
    margin: Annotated[Optional[float], typer.Option("--margin", help="How much macro-F1 the new model may lose and still count as not worse (default 0.02).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
    fail_if_worse: Annotated[bool, typer.Option("--fail-if-worse", help="Exit with code 3 unless the verdict is 'better' or 'not worse' (for scripts and CI).")] = False,
    fmt: FormatOption = None,
    encoding: EncodingOption = None,
) -> None:
    """Compare two models on labelled postings: metrics side by side, label flips, a verdict."""
    from pmtype.registry import MARGIN, format_comparison
    from pmtype.registry import compare as compare_models

    with _Errors():
        result = compare_models(new, on, against=against, text_column=text_column,
                                title_column=title_column, label_column=label_column,
                                margin=MARGIN if margin is None else margin, fmt=fmt, encoding=encoding,
                                progress=_say)
    for note in result.notes:
        _say(note)
    if as_json:
        from pmtype.tables import strict_json

        typer.echo(strict_json(result.as_dict(), indent=2))
    else:
        typer.echo(format_comparison(result))
    if fail_if_worse and not result.promotable:
        raise typer.Exit(3)


@app.command("check-labels")
def check_labels(
    file: Annotated[str, typer.Argument(callback=_a_path, help="A labelled table (text and 'label' columns).")],
    output: Annotated[Optional[str], typer.Option("--output", "-o", metavar="PATH", callback=_a_path, help="Write every suspect row here (CSV, TSV, JSONL or Parquet; - for stdout).")] = None,
    top: Annotated[int, typer.Option("--top", help="How many suspect rows to print.")] = 20,
    text_column: TextColumnOption = None,
    title_column: TitleColumnOption = None,
    label_column: LabelColumnOption = "label",
    with_seed: Annotated[bool, typer.Option("--with-seed/--no-seed", help="Train every fold on the seed corpus too, besides your rows (finds more wrong labels, with fewer false alarms, in a small file); only your rows are checked. --no-seed: your rows only.")] = True,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", help="Processes (0: all cores, never more; default: all cores from 2,000 postings).")] = None,
    fmt: FormatOption = None,
    encoding: EncodingOption = None,
) -> None:
    """Find labels that are likely wrong (confident learning on out-of-fold probabilities)."""
    from pmtype.curation import check_labels as find_suspect_labels

    _check_jobs(jobs)
    if top < 0:
        _fail("--top must be 0 or more", 2)
    with _Errors():
        check = find_suspect_labels(file, output=output, text_column=text_column, title_column=title_column,
                                    label_column=label_column, use_seed=with_seed, jobs=jobs, fmt=fmt,
                                    encoding=encoding, progress=_say)
    for note in check.notes:
        _say(note)
    # with the table on standard output (-o -, a pipe), the report goes to stderr, as suggest's does
    streamed = output is not None and _is_stream(output)
    say = _say if streamed else typer.echo
    thresholds = ", ".join(f"{k} {v:.2f}" for k, v in check.thresholds.items())
    say(f"checked {counted(check.checked, 'posting')} in {check.path}: "
        f"{counted(len(check.issues), 'label looks', 'labels look')} wrong "
        f"(thresholds: {thresholds})")
    for issue in check.issues[:max(top, 0)]:
        say(f"  row {issue.row:<5} given {issue.given:<9} suggested {issue.suggested:<9} "
            f"confidence {issue.confidence:.2f}  margin {issue.margin:+.2f}  {issue.title}")
        if issue.evidence:
            say(f"             evidence: {issue.evidence}")
    if len(check.issues) > top:
        say(f"  … and {len(check.issues) - top} more" + ("" if output else " (--output writes them all)"))
    if output is not None and not streamed:
        say(f"written to {check.output}")  # as written: "~" expanded


@app.command()
def suggest(
    file: Annotated[str, typer.Argument(callback=_a_path, help="A table of unlabelled postings (CSV/TSV/JSONL/Parquet, - for stdin).")],
    n: Annotated[int, typer.Option("-n", "--number", help="How many postings to suggest.")] = 50,
    output: Annotated[str, typer.Option("--output", "-o", callback=_a_path, help="Where to write them (- for stdout, as CSV; a file as its name says: .csv, .tsv, .jsonl, .parquet).")] = "-",
    model: ModelOption = None,
    text_column: TextColumnOption = None,
    title_column: TitleColumnOption = None,
    label_column: Annotated[str, typer.Option("--label-column", help="The label column to add (rows that already have a label are left out).")] = "label",
    fmt: FormatOption = None,
    encoding: EncodingOption = None,
    diversity: Annotated[float, typer.Option("--diversity", help="How much likeness to an already chosen posting counts against a posting (0: uncertainty only).")] = 0.5,
) -> None:
    """Choose the postings most worth labelling next: uncertain ones, not near-copies of each other."""
    from pmtype.curation import suggest as suggest_postings

    with _Errors():
        result = suggest_postings(file, n=n, output=output, model=model, text_column=text_column,
                                  title_column=title_column, label_column=label_column, fmt=fmt,
                                  encoding=encoding, diversity=diversity, progress=_say)
    for note in result.notes:
        _say(note)
    _say(result.line())
    if not _is_stream(output):  # -, /dev/null, a pipe: no file to fill in
        _say(f"written to {result.output}: fill in the '{printable(result.label_column)}' column (technical or business) "
             "and give the file to 'pmtype train'")


def _stop_on_every_interrupt() -> None:
    """Let no Ctrl-C go unheard.

    Python raises ``KeyboardInterrupt`` in whatever code runs when SIGINT
    arrives. When that code is a finalizer (a ``__del__``, or a generator
    closed as it is dropped), Python prints the exception as ignored and the
    command runs on to its end. Such an interrupt is sent to the main thread
    again, so that the command stops as the user asked. It is sent a moment
    later, from another thread: sent at once, it would be raised in this hook,
    where Python ignores it too. (Should it land in a finalizer again, this
    hook sends it again.)
    """
    import threading

    previous = sys.unraisablehook

    def hook(unraisable) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            resend = threading.Timer(0.01, _thread.interrupt_main)
            resend.daemon = True
            resend.start()
        else:
            previous(unraisable)

    sys.unraisablehook = hook


def _stdout_is_devnull() -> bool:
    try:
        out, null = os.fstat(sys.stdout.fileno()), os.stat(os.devnull)
    except (OSError, ValueError, AttributeError):
        return False
    return (out.st_dev, out.st_ino) == (null.st_dev, null.st_ino)


class _ClosedStdout(io.TextIOBase):
    """Standard output where it is closed (``>&-``), in place of Python's None, to which click and
    rich print nothing without a word: each write, of text or bytes, fails with one line."""

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        from pmtype.tables import stdout_closed

        raise stdout_closed()

    @property
    def buffer(self):
        return self


def _stand_in_for_closed_stdout() -> None:
    """Where standard output is closed, ``_ClosedStdout`` for it, and file descriptor 1 held on
    /dev/null: no file pmtype opens (an output) takes that number, for a worker process to print into."""
    if sys.stdout is not None:
        return
    _hold_on_devnull(1)
    sys.stdout = _ClosedStdout()


def _hold_on_devnull(fd: int) -> None:
    """File descriptor ``fd`` (1 or 2), where it is closed, held on /dev/null."""
    try:
        os.fstat(fd)
    except OSError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        if devnull != fd:
            os.dup2(devnull, fd)
            os.close(devnull)


class _UnfailingStderr(io.RawIOBase):
    """File descriptor 2 under ``sys.stderr``, whose writes never fail: where standard error is full
    (``2>/dev/full``) or its reader is gone, a note or an error written there is lost, as nothing
    can say so, and the command goes on, its output and exit code its own (a failed write was
    taken for standard output's, and a note could stop a command before its work was done)."""

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return 2

    def isatty(self) -> bool:
        return os.isatty(2)

    def write(self, data) -> int:
        try:
            return os.write(2, data)
        except OSError:
            return len(data)


def _stand_in_for_stderr() -> None:
    """``sys.stderr`` written through ``_UnfailingStderr``; where standard error is closed (``2>&-``),
    file descriptor 2 held on /dev/null, so that no file pmtype opens (an output) takes that number.
    A stream put in its place by the caller (a test's capture) is left as it is."""
    if sys.stderr is not None and sys.stderr is not sys.__stderr__:
        return
    encoding, errors = ("utf-8", "backslashreplace") if sys.stderr is None else (sys.stderr.encoding, sys.stderr.errors)
    _hold_on_devnull(2)
    sys.stderr = io.TextIOWrapper(io.BufferedWriter(_UnfailingStderr()), encoding=encoding, errors=errors,
                                  line_buffering=True, write_through=True)


def _end_with(message: str, code: int) -> None:
    """End the console script with ``Error: message`` (where standard error still takes it)."""
    try:
        typer.echo(f"Error: {message}", err=True)
    except OSError:
        pass
    raise SystemExit(code)


def run() -> None:  # the console script (through pmtype.console)
    _stop_on_every_interrupt()
    _stand_in_for_closed_stdout()
    _stand_in_for_stderr()
    devnull_before = _stdout_is_devnull()
    try:
        app()
    except PMTypeError as e:  # standard output closed, met printing outside the package's work
        _end_with(str(e), e.exit_code)
    except OSError as e:
        if isinstance(e, BrokenPipeError) or e.filename is not None:
            raise
        # Printing outside the package's work (whose errors the commands say): standard output
        # on a full disk, /dev/full. What is left in its buffer goes to /dev/null at the exit.
        with contextlib.suppress(OSError, ValueError):
            _quiet_stdout()
        from pmtype.tables import cannot_write

        _end_with(str(cannot_write("standard output", e)), 1)
    except SystemExit as e:
        # The reader of standard output stopped early ("| head") where a command prints outside
        # the package's work: typer, as click, ends that with code 1 and no word, after swapping
        # standard output for click's PacifyFlushWrapper, which keeps the exit's flush quiet (typer
        # ships its own copy of click: known by the name); rich, printing --help, ends it with code 1
        # after pointing standard output at /dev/null. Give the code every command gives it
        # (OUTPUT_CLOSED), as the shell gives a process SIGPIPE ended.
        closed = (type(sys.stdout).__name__ == "PacifyFlushWrapper"
                  or (_stdout_is_devnull() and not devnull_before))
        if e.code == 1 and closed and not _said:
            raise SystemExit(OUTPUT_CLOSED) from None
        # typer ends a Ctrl-C outside a command's work (while it prints, say) with exit 130 and
        # no word: say it, as the commands do
        if e.code == INTERRUPTED:
            _quiet_asyncio()
            if not _said:
                err.print("Error: interrupted")
        raise
