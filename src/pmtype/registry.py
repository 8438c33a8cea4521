"""Model versions: describing, listing and choosing models, and comparing two before promoting one.

A model version is a model folder directly inside ``config.models_dir()``. The
file ``config.DEFAULT_POINTER`` there (``.default-version``, a name no version can
have in any letter case) names the default version (``use_model`` writes it; an
older pmtype's ``DEFAULT`` is read where it is absent); without it the default is
the folder ``default``, built from the seed corpus on first use. ``compare``
scores two models on the same labelled postings with a paired bootstrap and gives
a verdict; ``train_version`` trains a new version and, given a reference set, makes
it the default only when it is not worse; ``remove_version`` removes one.
``remove_unfinished`` tidies what killed writes left in the models directory
(``train_version`` and ``pmtype models`` call it).
"""

from __future__ import annotations

import numbers
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from pmtype import config, persist, tables
from pmtype.errors import (
    BadModelName,
    BadOption,
    BadTrainingData,
    CannotWrite,
    ModelInUse,
    ModelNotFound,
    NotAModelVersion,
    OutputExists,
    PMTypeError,
    counted,
    printable,
    system_reason,
)
from pmtype.model import (
    CUE_CACHE_DIR,
    DEFAULT_POINTER,
    LEGACY_POINTER,
    PMTypeModel,
    cue_cache_dir,
    default_model_path,
    default_pointer,
    is_version_name,
    load_model,
    missing_default_message,
    model_folder,
    no_such_model,
)
from pmtype.metrics import few_postings_note, shown_metric, shown_p
from pmtype.text import first_line


#: What ``describe`` and ``list_models`` show for what a manifest does not record (an older or partial one).
UNKNOWN = "unknown"


def _data_line(m: dict) -> str:
    data = m.get("data")
    if not isinstance(data, dict) or not {"rows", "sha256"} <= data.keys():
        return UNKNOWN
    by_label = data.get("by_label") if isinstance(data.get("by_label"), dict) else {}
    return (f"{counted(data['rows'], 'posting')} (" + ", ".join(f"{k} {v}" for k, v in by_label.items())
            + f"); sha256 {str(data['sha256'])[:16]}…")


def _scope_line(m: dict) -> str:
    if "scope_check" not in m:
        return UNKNOWN
    if m["scope_check"]:
        return "yes"
    by_label = m.get("data", {}).get("by_label")
    if by_label is None:
        return f"no (a scope check needs {config.CV_FOLDS} not_pm rows)"
    return f"no (trained on {counted(by_label.get('not_pm', 0), 'not_pm row')}; a scope check needs {config.CV_FOLDS})"


def _languages_line(m: dict) -> str:
    if "english_only" not in m:
        return UNKNOWN
    return ("English; postings in other languages are 'not English'" if m["english_only"]
            else "English and the others it was trained on")


def _training_line(m: dict) -> str:
    training = m.get("training")
    if not isinstance(training, dict) or not training.keys() & {"seed", "columns"}:
        return UNKNOWN
    parts = [f"seed {training['seed']}"] if "seed" in training else []
    columns = training.get("columns", {})
    if columns:
        parts.append("columns " + ", ".join(
            f"{role} " + (" or ".join("none" if c is None else f"'{c}'" for c in columns[role]) or "none")
            for role in persist.TABLE_ROLES if role in columns))
    return "; ".join(parts)


def _notes_lines(m: dict) -> list[str]:
    """The notes train wrote (rows left out, …), one a line; none where the manifest has none."""
    notes = m.get("notes") or []
    return [("notes      " if i == 0 else " " * 11) + note for i, note in enumerate(notes)]


def describe(model: str | Path | None = None) -> str:
    """A readable account of a model's manifest (a version name, a model folder, or None for the default).

    The manifest's shape is checked as loading checks it (``persist.read_manifest``): one
    edited into fields of other types is ``ModelTampered``, never a crash here; one of another
    format is ``ModelIncompatible``. What an older or partial manifest does not record (the
    model's id, its band, whether it has a scope check…) is shown as ``unknown``: the model
    is not unpickled to find out.
    """
    folder = model_folder(model)
    m = persist.read_manifest(folder)
    persist.check_format(folder, m)
    data = m.get("data", {})
    lines = [
        f"model      {m.get('model_id', UNKNOWN)}",
        f"folder     {folder}",
        f"created    {m.get('created', UNKNOWN)}",
        "versions   " + ", ".join(f"{k} {v}" for k, v in sorted(m.get("versions", {}).items())),
        "data       " + _data_line(m),
        "sources    " + (", ".join(data["sources"]) if "sources" in data else UNKNOWN),
        "training   " + _training_line(m),
        "scope      " + _scope_line(m),
        "band       " + (f"p_technical within {m['band']} of 0.5 is uncertain" if "band" in m else UNKNOWN),
        "languages  " + _languages_line(m),
    ]
    cv = persist.cross_validated(m)
    if cv:
        lines.append("cross-validated: " + ", ".join(
            f"{k} {shown_metric(v['value'])}" for k, v in cv.items()
            if k in ("accuracy", "macro_f1", "roc_auc", "ece")))
    lines += _notes_lines(m)
    return "\n".join(printable(line) for line in lines)


# --- versions ------------------------------------------------------------------------

#: The cross-validated metrics ``list_models`` reports for each version.
LISTED_METRICS = ("macro_f1", "accuracy", "roc_auc", "ece")


@dataclass
class ModelVersion:
    """One model folder in the models directory, as its manifest describes it."""

    name: str
    path: Path
    model_id: str | None = None  # ``UNKNOWN`` where a usable model's manifest does not record it
    created: str | None = None
    rows: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)  # cross-validated, LISTED_METRICS
    is_default: bool = False
    problem: str | None = None  # why the folder cannot be used, when it cannot


def _as_name(name: str | os.PathLike) -> str:
    """A version name given as text or as a path (``Path('v1')``), as text; ``TypeError`` for anything else.
    A path is a name only where it is one plain name, which ``persist.check_version_name`` checks;
    a path that is the working directory's ``.`` is empty, as ``Path("")`` reads so (and
    ``Path(".")``, which pathlib cannot tell from it, is no version name either)."""
    text = os.fspath(name) if isinstance(name, os.PathLike) else name
    if not isinstance(text, str):
        raise TypeError(f"a model version name is a str or a path-like object such as pathlib.Path, "
                        f"not {type(text).__name__}")
    return "" if isinstance(name, os.PathLike) and text == os.curdir else text


def version_path(name: str | os.PathLike) -> Path:
    """The folder of model version ``name`` in the models directory (it need not exist yet)."""
    name = _as_name(name)
    persist.check_version_name(name)
    return config.models_dir() / name


def resolve_model(ref: str | Path) -> Path:
    """A model given as a version name (looked up in the models directory first) or a folder."""
    folder = model_folder(ref)
    if not folder.is_dir():
        raise no_such_model(ref)
    return folder


def _describe_version(folder: Path, default: Path | None) -> ModelVersion:
    version = ModelVersion(folder.name, folder,
                           is_default=default is not None and folder.resolve() == default.resolve())
    try:
        persist.check_version_name(folder.name)  # a folder 'models use' would refuse ('DEFAULT', 'a b')
        # the manifest's shape, the file, its hash and the library versions, as loading checks them
        manifest = persist.verify_model(folder)
    except PMTypeError as e:
        version.problem = str(e)
        return version
    data = manifest.get("data", {})
    cv = persist.cross_validated(manifest)
    version.model_id = manifest.get("model_id", UNKNOWN)
    version.created = manifest.get("created")
    version.rows = data.get("rows")
    version.metrics = {k: float(cv[k]["value"]) for k in LISTED_METRICS if k in cv}
    return version


def missing_default() -> str | None:
    """What to say where the default pointer names a version that is not there (removed by hand), else None."""
    try:
        folder = default_model_path()
    except ModelNotFound as e:  # a pointer that names no version at all
        return str(e)
    if default_pointer().is_file() and not folder.is_dir():
        return missing_default_message(folder.name)
    return None


def list_models() -> list[ModelVersion]:
    """Every model folder in the models directory, oldest first, with which one is the default.

    Folders that are not usable models are listed too, with the ``problem``; hidden
    folders (temporary ones of a write in progress) are not, nor the default pointer
    (a file, and hidden).
    """
    root = config.models_dir()
    if not root.is_dir():
        return []
    try:
        default = default_model_path()
    except ModelNotFound:
        default = None
    versions = [_describe_version(folder, default) for folder in sorted(root.iterdir())
                if folder.is_dir() and not folder.name.startswith(".")]
    versions.sort(key=lambda v: (v.created or "", v.name))
    return versions


@dataclass
class Unfinished:
    """What ``remove_unfinished`` tidied: temporary names removed, models put back in place."""

    removed: list[Path] = field(default_factory=list)
    restored: list[Path] = field(default_factory=list)


def _left_by_a_killed_run(entry: os.DirEntry, writer: re.Match, now: float, max_age: float) -> bool:
    """Whether the process that wrote ``entry`` (named in ``writer``) is gone.

    The process id decides when the name holds one from this machine; otherwise
    (another machine's id, or Windows, which has no signal 0: os.kill would end
    the process) the age decides: older than ``max_age`` seconds.
    """
    gone = persist.writer_gone(writer)
    return gone if gone is not None else _older_than(entry, now, max_age)


def _older_than(entry: os.DirEntry, now: float, max_age: float) -> bool:
    return now - entry.stat(follow_symlinks=False).st_mtime > max_age


def _holds_a_manifest(entry: os.DirEntry) -> bool:
    return entry.is_dir(follow_symlinks=False) and os.path.isfile(os.path.join(entry.path, persist.MANIFEST_FILE))


def _holds_model_files_only(entry: os.DirEntry, or_nothing: bool) -> bool:
    """Whether folder ``entry`` holds what ``save_model`` writes into a model folder and nothing else
    (``persist.MODEL_FOLDER_FILES``); an empty folder counts only ``or_nothing``."""
    if not entry.is_dir(follow_symlinks=False):
        return False
    return not persist.foreign_entries(Path(entry.path)) and (or_nothing or bool(os.listdir(entry.path)))


#: What an older pmtype's temporary file held: the default pointer (a version name) and a cue
#: cache file being rewritten (gzip), by the name of what they were written for.
_POINTER_NAMES = (DEFAULT_POINTER, LEGACY_POINTER)
_CUE_CACHE_FILE = re.compile(r"cues-[0-9a-f]{16}\.jsonl\.gz")


def _is_pmtypes_temporary_file(entry: os.DirEntry, name: str) -> bool:
    """Whether the file ``entry``, an older pmtype's temporary name for ``name``, holds what pmtype
    wrote there: a pointer's version name, or a cue cache's gzip (either empty if the write had not
    started)."""
    if not entry.is_file(follow_symlinks=False):
        return False
    with open(entry.path, "rb") as f:
        head = f.read(256)
    if name in _POINTER_NAMES:
        text = head.decode("utf-8", errors="replace")
        return text == "" or is_version_name(text[:-1] if text.endswith("\n") else text)
    if _CUE_CACHE_FILE.fullmatch(name):
        return head[:2] in (b"", b"\x1f\x8b")
    return False


def _remove(entry: os.DirEntry, done: Unfinished) -> None:
    if entry.is_dir(follow_symlinks=False):
        shutil.rmtree(entry.path)
    else:
        os.unlink(entry.path)
    done.removed.append(Path(entry.path))


def _put_back(entry: os.DirEntry, place: Path, done: Unfinished) -> None:
    os.replace(entry.path, place)
    done.restored.append(place)


def _tidy_moved_aside(folder: Path, entry: os.DirEntry, name: str, done: Unfinished, legacy: bool) -> None:
    """A model ``save_model`` moved aside: put back where it holds a manifest and its place is empty;
    else removed where it holds a model folder's files and nothing else: under an older pmtype's
    name (``legacy``) a manifest among them, under a name that records its writer any of them or
    none (a deletion stopped half-way)."""
    place = folder / name
    if _holds_a_manifest(entry) and not os.path.lexists(place):
        _put_back(entry, place, done)
    elif _holds_model_files_only(entry, or_nothing=True) and (not legacy or _holds_a_manifest(entry)):
        _remove(entry, done)


def _tidy_entry(folder: Path, entry: os.DirEntry, done: Unfinished, now: float, max_age: float) -> None:
    """Remove or put back ``entry`` where it is what a killed write of pmtype's left; else leave it."""
    temporary = persist.TEMPORARY_NAME.fullmatch(entry.name)
    aside = None if temporary else persist.MOVED_ASIDE_NAME.fullmatch(entry.name)
    if temporary or aside:  # a name that records its writer
        if not _left_by_a_killed_run(entry, temporary or aside, now, max_age):
            return
        if temporary:
            _remove(entry, done)
        else:
            _tidy_moved_aside(folder, entry, aside["name"], done, legacy=False)
        return
    temporary = persist.LEGACY_TEMPORARY_NAME.fullmatch(entry.name)
    aside = None if temporary else persist.LEGACY_MOVED_ASIDE_NAME.fullmatch(entry.name)
    if not (temporary or aside) or not _older_than(entry, now, max_age):
        return
    if aside:
        _tidy_moved_aside(folder, entry, aside["name"], done, legacy=True)
    elif _holds_model_files_only(entry, or_nothing=False) or _is_pmtypes_temporary_file(entry, temporary["name"]):
        _remove(entry, done)


def _tidy(folder: Path, done: Unfinished, now: float, max_age: float) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return  # no folder (yet), or one this user cannot read
    for entry in entries:
        try:
            if not entry.is_symlink():
                _tidy_entry(folder, entry, done, now, max_age)
        except OSError:
            continue  # tidying up never stops the caller; it is tried again next time


@config.user_paths("folder")
def remove_unfinished(folder: str | Path | None = None,
                      max_age: float = config.UNFINISHED_MAX_AGE) -> Unfinished:
    """Tidy what killed writes left in a models folder (default: ``config.models_dir()``; a blank
    ``folder`` is a ``BadOption``, never the working directory's leftovers).

    Only pmtype's own leftovers count, in the folder and in its cue cache
    (``CUE_CACHE_DIR``), and only when their writer's process is gone (for names
    that do not record a process of this machine: once they are older than
    ``max_age`` seconds):

    - a temporary folder or file named with its writer (``persist.TEMPORARY_NAME``) is removed;
    - a model that ``save_model`` had moved aside to put a new one in its place
      (``persist.MOVED_ASIDE_NAME``) is put back when it holds a manifest and its
      place is still empty (the run was killed between the two renames), and removed
      otherwise, where it holds nothing but a model folder's files;
    - under the names an older pmtype wrote, which name no writer
      (``persist.LEGACY_TEMPORARY_NAME``, ``persist.LEGACY_MOVED_ASIDE_NAME``) and which
      any hidden name of a user's may look like, only what is unmistakably pmtype's is
      touched: a folder of a model's files and nothing else, or the default pointer's
      or a cue cache's temporary file holding what pmtype writes there.

    Everything else is left alone, symbolic links included; what cannot be
    removed or put back is skipped, and tried again next time.
    """
    done = Unfinished()
    if folder is None:
        try:
            folder = config.models_dir()
        except CannotWrite:  # PMTYPE_MODELS_DIR names a file: what reads the folder says so
            return done
    folder = Path(folder)
    now = time.time()
    _tidy(folder, done, now, max_age)
    if not (folder / CUE_CACHE_DIR).is_symlink():
        _tidy(folder / CUE_CACHE_DIR, done, now, max_age)
    return done


def _write_pointer(name: str) -> None:
    """Make ``name`` the default version: write ``DEFAULT_POINTER`` atomically, and remove an
    older pmtype's pointer (``LEGACY_POINTER``), which would name a version no longer the default."""
    pointer = config.models_dir() / DEFAULT_POINTER
    if pointer.is_dir() and not pointer.is_symlink():
        raise CannotWrite(f"{printable(pointer)} is a folder; pmtype keeps the default model's name in a file "
                          "of that name: move the folder away")
    try:
        pointer.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=persist.temporary_prefix(DEFAULT_POINTER), suffix=".tmp",
                                   dir=pointer.parent)
    except OSError as e:  # a read-only models folder
        raise CannotWrite(f"{printable(pointer)} cannot be written: {system_reason(e)}") from None
    os.fchmod(fd, persist.usual_mode())
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(name + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, pointer)
    except OSError as e:  # a full disk
        raise CannotWrite(f"{printable(pointer)} cannot be written: {system_reason(e)}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    legacy = pointer.with_name(LEGACY_POINTER)
    if legacy.is_file() and not legacy.is_symlink():  # a file: on a case-insensitive disk 'DEFAULT' may be 'default'
        try:
            os.unlink(legacy)
        except FileNotFoundError:
            pass  # another run removed it


def use_model(name: str | os.PathLike, progress: Callable[[str], None] | None = None) -> ModelVersion:
    """Make version ``name`` the default model, after checking that it loads (hash and versions).

    ``name`` is text or a path that is one plain name (``Path('v1')``). ``default``, the built-in
    model, is built from the seed corpus where it is not there yet (``progress`` is told so), as on
    first use.
    """
    name = _as_name(name)
    folder = version_path(name)
    if name == config.DEFAULT_MODEL_NAME and not folder.exists():
        from pmtype.training import build_default_model

        (progress or (lambda _m: None))(f"building the built-in model from the seed corpus into {folder} (once)…")
        build_default_model(folder, progress=progress)
    if not folder.is_dir():
        raise ModelNotFound(f"no model version '{name}' in {printable(config.models_dir())}; "
                            "'pmtype models' lists them")
    persist.load_model(folder)  # a tampered or incompatible model never becomes the default
    _write_pointer(name)
    return _describe_version(folder, folder)


def remove_version(name: str | os.PathLike) -> ModelVersion:
    """Remove model version ``name`` (text, or a path that is one plain name) from the models
    directory; returns it as it was listed.

    The default model is never removed (``ModelInUse``: choose another with ``use_model``
    first), nor a folder that holds no model (neither a manifest nor a model file). The
    folder is first renamed to a temporary name (``persist.TEMPORARY_NAME``), so that it
    stops being a version at once, and then deleted; what a killed removal leaves under
    that name, ``remove_unfinished`` removes.
    """
    name = _as_name(name)
    folder = version_path(name)
    root = config.models_dir()
    if not folder.is_dir():
        raise ModelNotFound(f"no model version '{name}' in {printable(root)}; 'pmtype models' lists them")
    if not ((folder / persist.MANIFEST_FILE).exists() or (folder / persist.MODEL_FILE).exists()):
        raise NotAModelVersion(f"{printable(folder)} holds no model (no {persist.MANIFEST_FILE} or "
                               f"{persist.MODEL_FILE}); pmtype removes only model versions: remove it yourself")
    try:
        default = default_model_path()
    except ModelNotFound:
        default = None  # a pointer that names no version: no version is the default
    version = _describe_version(folder, default)
    if version.is_default:
        raise ModelInUse(f"'{name}' is the default model; make another version the default first "
                         "('pmtype models use NAME'), then remove it")
    aside = root / f"{persist.temporary_prefix(name)}{secrets.token_hex(4)}.tmp"
    try:
        os.rename(folder, aside)  # no longer a version from here on, even if the deletion stops half-way
    except OSError as e:  # a read-only models folder
        raise CannotWrite(f"{printable(folder)} cannot be removed: {system_reason(e)}") from None
    if aside.is_symlink():
        os.unlink(aside)
    else:
        shutil.rmtree(aside, ignore_errors=True)  # what is left, remove_unfinished removes later
    return version


# --- comparing two models ----------------------------------------------------------------

#: The metrics compared, and whether higher is better.
COMPARED_METRICS = {"macro_f1": True, "accuracy": True, "roc_auc": True, "brier": False, "ece": False}
#: The metric the verdict is on.
VERDICT_METRIC = "macro_f1"
#: How much macro-F1 (lower end of the paired 95% interval) a new model may lose and still be "not worse".
MARGIN = 0.02
#: The paired bootstrap's resamples.
N_BOOT = 2000

BETTER, NOT_WORSE, WORSE, INCONCLUSIVE = "better", "not worse", "worse", "inconclusive"


def _batch_metrics(Y: np.ndarray, P: np.ndarray) -> dict[str, np.ndarray]:
    """The compared metrics for each row of ``Y`` (0/1) and ``P`` (p_technical): arrays, one value a row.

    The same definitions as ``metrics.label_metrics`` (macro-F1 over both classes
    with 0 for an empty class, ECE over ten equal-width bins), computed for many
    bootstrap draws at once.
    """
    from scipy.stats import rankdata

    n = Y.shape[1]
    pred = (P >= 0.5).astype(int)
    out = {"accuracy": (pred == Y).mean(axis=1)}
    f1 = []
    for c in (0, 1):
        tp = ((pred == c) & (Y == c)).sum(axis=1)
        wrong = ((pred == c) & (Y != c)).sum(axis=1) + ((pred != c) & (Y == c)).sum(axis=1)
        denominator = 2 * tp + wrong
        f1.append(np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0))
    out["macro_f1"] = (f1[0] + f1[1]) / 2
    out["brier"] = ((P - Y) ** 2).mean(axis=1)
    bins = np.searchsorted(np.linspace(0, 1, 11)[1:-1], P)  # metrics.expected_calibration_error's bins
    ece = np.zeros(len(Y))
    for b in range(10):
        mask = bins == b
        count = mask.sum(axis=1)
        safe = np.maximum(count, 1)
        gap = np.abs((Y * mask).sum(axis=1) / safe - (P * mask).sum(axis=1) / safe)
        ece += np.where(count > 0, count / n * gap, 0.0)
    out["ece"] = ece
    positives = Y.sum(axis=1)
    negatives = n - positives
    ranks = rankdata(P, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = ((ranks * Y).sum(axis=1) - positives * (positives + 1) / 2) / (positives * negatives)
    out["roc_auc"] = np.where((positives > 0) & (negatives > 0), auc, np.nan)
    return out


def paired_bootstrap(y_true: Sequence[str], p_new: Sequence[float], p_current: Sequence[float],
                     n_boot: int = 2000, seed: int = 0) -> dict[str, dict[str, dict[str, float]]]:
    """Both models' metrics and their difference (new − current), each with a 95% interval.

    Every bootstrap draw scores both models on the same resampled postings, so the
    interval of the difference is much narrower than the two intervals side by side.
    """
    y = np.array([1 if v == "technical" else 0 for v in y_true])
    new = np.asarray(p_new, dtype=float)
    cur = np.asarray(p_current, dtype=float)
    n = len(y)
    if n == 0:
        raise BadTrainingData("no labelled postings to compare on")
    point_new = {k: float(v[0]) for k, v in _batch_metrics(y[None, :], new[None, :]).items()}
    point_cur = {k: float(v[0]) for k, v in _batch_metrics(y[None, :], cur[None, :]).items()}
    rng = np.random.default_rng(seed)
    draws: dict[str, dict[str, list]] = {w: {k: [] for k in COMPARED_METRICS} for w in ("new", "current")}
    step = max(1, 2_000_000 // n)
    for start in range(0, n_boot, step):
        idx = rng.integers(0, n, (min(step, n_boot - start), n))
        for which, p in (("new", new), ("current", cur)):
            for k, values in _batch_metrics(y[idx], p[idx]).items():
                draws[which][k].append(values)
    result: dict[str, dict[str, dict[str, float]]] = {}
    for k in COMPARED_METRICS:
        a = np.concatenate(draws["new"][k])
        b = np.concatenate(draws["current"][k])
        entry = {}
        for which, values, point in (("new", a, point_new[k]), ("current", b, point_cur[k]),
                                     ("diff", a - b, point_new[k] - point_cur[k])):
            lo, hi = (np.nanpercentile(values, [2.5, 97.5]) if np.isfinite(values).any()
                      else (np.nan, np.nan))
            entry[which] = {"value": float(point), "low": float(lo), "high": float(hi)}
        result[k] = entry
    return result


def _model_and_place(model: str | Path | PMTypeModel) -> tuple[PMTypeModel, str | Path]:
    """A model given as a version name, a folder or a loaded model, and where it is, as a comparison shows it."""
    if isinstance(model, PMTypeModel):
        return model, LOADED_IN_MEMORY
    path = resolve_model(model)
    return load_model(path), path


#: Where a comparison says a model given loaded (not by name or folder) came from.
LOADED_IN_MEMORY = "loaded in memory"


def _check_margin(margin: float) -> None:
    if isinstance(margin, bool) or not isinstance(margin, numbers.Real) or not margin >= 0 or margin == float("inf"):
        raise BadOption("--margin must be a number, at least 0")


def _need_both_labels(on, labels, notes: Sequence[str] = ()) -> None:
    """A reference file must hold both labels: with one, macro-F1 and ROC-AUC cannot tell models apart.
    The message names ``on`` as every error names an input (``standard input`` for ``-``), and ends
    with the ``notes`` of reading it (rows left out for empty text…), as ``evaluate``'s does: the
    labels missing may be those of rows left out."""
    name = tables.input_name(on)
    why = (": " + "; ".join(n.removeprefix(f"{name}: ") for n in notes)) if notes else ""
    if not labels:
        raise BadTrainingData(f"{name} has no postings labelled technical or business to compare on{why}")
    if len(set(labels)) < 2:
        raise BadTrainingData(f"{name} has postings of one label only ({labels[0]}); comparing models "
                              f"needs reference postings of both labels{why}")


def verdict(diff: float, low: float, high: float, margin: float = MARGIN) -> tuple[str, str]:
    """The verdict on the new model from its macro-F1 difference (new − current) and 95% interval.

    ``better``: the interval lies above 0. ``worse``: it lies below 0. ``not worse``:
    it reaches no lower than ``-margin``. ``inconclusive``: it reaches lower, and above 0
    too — the reference set is too small to tell — or where the interval is undefined (NaN).
    """
    span = (f"macro-F1 {shown_metric(diff, signed=True)}, 95% interval of the difference "
            f"[{shown_metric(low, signed=True)}, {shown_metric(high, signed=True)}]")
    if not (low == low and high == high):  # NaN: undefined on these postings, no winner
        return INCONCLUSIVE, f"{span}: the difference cannot be computed on these postings"
    if low > 0:
        return BETTER, f"{span}: higher than the current model"
    if high < 0:
        return WORSE, f"{span}: lower than the current model"
    if low >= -margin:
        return NOT_WORSE, f"{span}: the new model loses no more than {margin:.3f}"
    return INCONCLUSIVE, (f"{span}: it may lose more than {margin:.3f}; label more reference "
                          "postings or allow a larger --margin")


@dataclass
class Flip:
    """A reference posting whose label differs between the two models."""

    row: int
    given: str
    current_label: str
    current_p: float
    new_label: str
    new_p: float
    title: str

    @property
    def effect(self) -> str:
        """``fixed`` when the new model now agrees with the given label, else ``broke``."""
        return "fixed" if self.new_label == self.given else "broke"


@dataclass
class Comparison:
    """Two models scored on the same labelled postings, side by side."""

    new: str  # model ids
    current: str
    new_path: str
    current_path: str
    reference: str
    n: int
    metrics: dict[str, dict[str, dict[str, float]]]  # metric → new / current / diff → value, low, high
    flips: list[Flip]
    verdict: str
    reason: str
    margin: float
    notes: list[str] = field(default_factory=list)

    @property
    def promotable(self) -> bool:
        """Whether the new model may replace the current one: better, or not worse."""
        return self.verdict in (BETTER, NOT_WORSE)

    def as_dict(self) -> dict:
        out = asdict(self)
        for flip, original in zip(out["flips"], self.flips):
            flip["effect"] = original.effect
        return out


def _label(p: float) -> str:
    return "technical" if p >= 0.5 else "business"


@config.user_paths("on", models=("new", "against"))
def compare(new: str | Path | PMTypeModel, on: str | Path, against: str | Path | PMTypeModel | None = None,
            text_column: str | None = None, title_column: str | None = None,
            label_column: str = "label", margin: float = MARGIN, n_boot: int = N_BOOT,
            fmt: str | None = None, encoding: str | None = None,
            progress: Callable[[str], None] | None = None) -> Comparison:
    """Score model ``new`` and ``against`` (default: the default model) on the labelled file ``on``.

    Models are version names, folders or loaded models. Both label every technical/business posting
    of ``on`` (forced past the scope check, as ``evaluate`` does); the result holds both
    models' metrics and their paired difference with 95% intervals, the postings whose
    label flips, and a verdict (``verdict``). ``fmt`` and ``encoding`` are ``on``'s format
    and text encoding where its name and bytes do not tell.
    """
    from pmtype.training import read_labelled

    _check_margin(margin)
    if isinstance(n_boot, bool) or not isinstance(n_boot, numbers.Integral):
        raise BadOption("the bootstrap needs a whole number of resamples")
    if n_boot < 1:
        raise BadOption("the bootstrap needs at least 1 resample")
    models = _models_compared(new, against, progress)
    data, notes = read_labelled(on, text_column, title_column, label_column, fmt=fmt, encoding=encoding)
    result = _compare_on(*models, on, data, notes, margin, n_boot)
    new_model, current_model = models[0], models[2]
    if new_model is current_model or (new_model.model_id == current_model.model_id != "unsaved"):
        # the id names the data, settings and cue lists a saved model was made of
        result.notes.append(f"the new model is the model it is compared with ({new_model.model_id}, the default "
                            "model unless --against names another): every difference is 0, and the verdict "
                            "says nothing of it")
    return result


def _models_compared(new: str | Path | PMTypeModel, against: str | Path | PMTypeModel | None,
                     progress: Callable[[str], None] | None):
    """The new model, where it is, the current one (``against``, or the default model) and where it is."""
    new_model, new_path = _model_and_place(new)
    if against is None:
        current_model, current_path = load_model(None, progress=progress), default_model_path()
    else:
        current_model, current_path = _model_and_place(against)
    return new_model, new_path, current_model, current_path


def _compare_on(new_model: PMTypeModel, new_path, current_model: PMTypeModel, current_path, on,
                data, notes: list[str], margin: float, n_boot: int) -> Comparison:
    """``compare`` on the labelled postings ``data`` already read from ``on`` (with their ``notes``)."""
    from pmtype.training import repeated_notes

    pm, not_pm = data.pm_only()
    _need_both_labels(on, pm.labels, notes)
    if not_pm:
        notes.append(f"{tables.input_name(on)}: left out {counted(not_pm, 'row')} labelled not_pm (the comparison "
                     "covers technical and business postings)")
    notes += repeated_notes(pm, tables.input_name(on))
    texts, given, rows = pm.texts, pm.labels, pm.rows
    if few := few_postings_note(len(texts), "compared on", "the 95% intervals, and the verdict drawn from them, are"):
        notes.append(few)
    predicted = new_model.predict(texts, force=True)
    p_new = np.array([p.p_technical for p in predicted], dtype=float)
    p_cur = np.array([p.p_technical for p in current_model.predict(texts, force=True)], dtype=float)
    metrics = paired_bootstrap(given, p_new, p_cur, n_boot=n_boot)
    d = metrics[VERDICT_METRIC]["diff"]
    said, reason = verdict(d["value"], d["low"], d["high"], margin)
    flips = [Flip(rows[i], given[i], _label(p_cur[i]), round(float(p_cur[i]), 4), _label(p_new[i]),
                  round(float(p_new[i]), 4),
                  first_line(predicted[i].text or texts[i]))
             for i in range(len(texts)) if _label(p_new[i]) != _label(p_cur[i])]
    return Comparison(new_model.model_id, current_model.model_id, str(new_path), str(current_path),
                      tables.input_name(on), len(texts), metrics, flips, said, reason, margin, notes)


def format_comparison(c: Comparison, max_flips: int = 20) -> str:
    """A plain-text account of a comparison: metrics side by side, the flips, the verdict."""
    def cell(m: dict, signed: bool = False) -> str:
        if m["value"] != m["value"]:
            return "n/a"  # undefined, as every command shows it: no interval around nothing
        interval = (f" [{shown_metric(m['low'], signed)}, {shown_metric(m['high'], signed)}]"
                    if np.isfinite(m["low"]) else "")
        return shown_metric(m["value"], signed) + interval

    lines = [f"new      {c.new} ({c.new_path})",
             f"current  {c.current} ({c.current_path})",
             f"on       {c.reference}: {c.n} labelled postings; 95% intervals from a paired bootstrap",
             "",
             f"{'metric':<10} {'new':<24} {'current':<24} {'new - current':<26}"]
    for name, higher in COMPARED_METRICS.items():
        m = c.metrics[name]
        lines.append(f"{name:<10} {cell(m['new']):<24} {cell(m['current']):<24} "
                     f"{cell(m['diff'], signed=True):<26}" + ("" if higher else " (lower is better)"))
    fixed = sum(f.effect == "fixed" for f in c.flips)
    lines += ["", f"{counted(len(c.flips), 'posting changes', 'postings change')} label: "
                  f"{fixed} now {'matches' if fixed == 1 else 'match'} the given label, "
                  f"{len(c.flips) - fixed} no longer {'does' if len(c.flips) - fixed == 1 else 'do'}"]
    for f in sorted(c.flips, key=lambda f: (f.effect != "broke", f.row))[:max_flips]:
        lines.append(f"  row {f.row:<5} given {f.given:<9} current {f.current_label} ({shown_p(f.current_p)}) "
                     f"-> new {f.new_label} ({shown_p(f.new_p)})  {f.effect:<5}  {f.title}")
    if len(c.flips) > max_flips:
        lines.append(f"  … and {len(c.flips) - max_flips} more")
    lines += ["", f"verdict: {c.verdict} ({c.reason})"]
    return "\n".join(lines)


# --- training a version, and promoting it ------------------------------------------------


@dataclass
class TrainOutcome:
    """A newly trained model version, and whether it became the default."""

    manifest: dict
    path: Path
    comparison: Comparison | None = None
    promoted: bool = False
    decision: str = ""
    unfinished: Unfinished = field(default_factory=Unfinished)  # what killed runs had left (``remove_unfinished``)
    other_default: str | None = None  # the default model, when ``path`` is a version in the models folder but not it


def _other_default(path: Path) -> str | None:
    """The default model's name, when ``path`` is a version in the models folder but not the default."""
    if persist.version_in_models_dir(path) is None or not is_version_name(path.name):
        return None
    try:
        default = default_model_path()
    except ModelNotFound:
        return None  # a broken pointer: every use of the default says so
    return None if default.resolve() == path.resolve() else default.name


def _check_default_to_compare_with(progress: Callable[[str], None] | None) -> None:
    """Check, before training, the default model a new one is to be compared with (hash and versions).

    Where no version is chosen (no default pointer) and the built-in default is not built yet,
    it is built from the seed corpus first, as every command does on first use: a new model
    becomes the default only if it is not worse than that one. A pointer that names a version
    holding no model is left as it is (``_pointer_names_no_model``).
    """
    current = default_model_path()
    if (current / persist.MANIFEST_FILE).is_file():
        persist.verify_model(current)
    elif not default_pointer().is_file():
        load_model(None, progress=progress)  # builds it (saying so), and checks it as it loads


def _pointer_names_no_model(current: Path) -> bool:
    """Whether the default pointer names ``current``, a version that holds no model."""
    return default_pointer().is_file() and not (current / persist.MANIFEST_FILE).is_file()


def _output_folder(output: str | Path) -> Path:
    """``output`` as given, or made absolute where it has no name of its own (``.``, ``..``):
    the model's id and the temporary folder beside it are named after its name."""
    folder = Path(output)
    return Path(os.path.abspath(folder)) if folder.name in ("", "..") else folder


@config.user_paths("paths", "output", "promote_on")
def train_version(paths: Sequence[str | Path], name: str | None = None, output: str | Path | None = None,
                  promote_on: str | Path | None = None, margin: float = MARGIN, use_seed: bool = True,
                  text_column: str | None = None, title_column: str | None = None,
                  label_column: str = "label", overwrite: bool = False, jobs: int | None = None,
                  cue_cache: bool = True, progress: Callable[[str], None] | None = None,
                  **train_options) -> TrainOutcome:
    """Train a model and save it as a version; with ``promote_on``, make it the default if not worse.

    The model goes to version ``name`` in the models directory, or to the folder
    ``output``, or (neither given) to a new version named ``<UTC time>-<data hash[:8]>``.
    A version is never replaced: ``overwrite`` applies to an ``output`` outside the models
    directory, and to the built-in ``default`` folder (``persist.check_replaceable``); of
    two runs writing the same version at once, the second gets ``OutputExists``. ``name`` is
    text, or a path that is one plain name (``Path('v2')``). With ``promote_on`` (a labelled
    file) the new model is compared with the current default there and becomes the default
    when the verdict is ``better`` or ``not worse``; it is kept as a version either way.
    Where no version is chosen and the built-in default is not built yet, it is built from the
    seed corpus before training (``progress`` says so) and compared with, as every command
    would use it; only where the default pointer names a version that holds no model (every
    use of the default fails) does the new model become the default with nothing to compare.
    Without it, ``other_default`` names the default model when the new one went into the
    models directory but is not the default. Before training, ``remove_unfinished`` tidies
    the models directory; ``unfinished`` says what it removed and put back.
    With ``cue_cache``, postings read for an earlier version are not read again (the
    cache is in the models directory). ``train_options`` go to ``training.train`` as they are.
    """
    from pmtype.training import read_labelled, read_standard_input_once, train

    if name is not None and output is not None:
        raise BadModelName("give a version name or an output folder, not both")
    name = _as_name(name) if name is not None else None
    persist.check_not_blank(name, "name the new version, or give no name for one made of the time and the data's hash")
    if isinstance(paths, Iterator):
        paths = list(paths)  # a generator: read by the check below, train would find no file
    if promote_on is not None:
        _check_margin(margin)
        read_standard_input_once([*([paths] if isinstance(paths, (str, os.PathLike)) else paths), promote_on])
    folder = version_path(name) if name is not None else (_output_folder(output) if output is not None else None)
    if name is not None and folder.exists():
        raise OutputExists(f"model version '{name}' already exists in {config.models_dir()}; "
                           "versions are never replaced: choose another name")
    if name == config.DEFAULT_MODEL_NAME:
        raise BadModelName(f"'{name}' is the folder of the built-in default model (the default when no "
                           "version is chosen); choose another name")
    tables.check_output_folder(folder if folder is not None else config.models_dir())  # before training
    if promote_on is not None:
        if folder is not None and folder.resolve().parent != config.models_dir().resolve():
            raise NotAModelVersion(f"{folder} is not in the models directory {config.models_dir()}, so it "
                                   "cannot become the default; train with --name NAME, or without -o")
        if folder is not None:
            version_path(folder.name)  # a name the default pointer can hold
            current = default_model_path()
            # a missing default of that name (removed by hand) is no model to compare with: the new
            # model takes its place, as it would any missing default's
            if folder.resolve() == current.resolve() and not _pointer_names_no_model(current):
                raise OutputExists(f"{folder} is the default model, which --promote-if-better would compare "
                                   "the new model with: write the new model to another folder or version")
        # the reference file is read as the training files are (their --format and --encoding), and once
        # (standard input or a pipe cannot be read again after training); it and the current default
        # model are checked before training, not after
        reference, reference_notes = read_labelled(promote_on, text_column, title_column, label_column,
                                                   fmt=train_options.get("fmt"),
                                                   encoding=train_options.get("encoding"))
        _need_both_labels(promote_on, reference.pm_only()[0].labels, reference_notes)
        _check_default_to_compare_with(progress)
    unfinished = remove_unfinished()
    try:
        manifest = train(paths, folder, use_seed=use_seed, text_column=text_column, title_column=title_column,
                         label_column=label_column, overwrite=overwrite and name is None, jobs=jobs,
                         cue_cache=cue_cache_dir() if cue_cache else None, progress=progress, **train_options)
    except OutputExists as e:
        if folder is not None or e.path is None:
            raise
        # a version named by the time and the data: another run wrote the same data in the same second
        raise OutputExists(f"model version '{Path(e.path).name}' was written to {printable(config.models_dir())} "
                           "by another run of the same data in the same second; versions are never replaced: "
                           "train again", path=e.path) from None
    path = folder if folder is not None else config.models_dir() / manifest["name"]
    outcome = TrainOutcome(manifest, path, unfinished=unfinished)
    if promote_on is None:
        outcome.other_default = _other_default(path)
        return outcome
    current = default_model_path()
    if _pointer_names_no_model(current) or current.resolve() == path.resolve():  # the latter: missing before training
        _write_pointer(path.name)
        outcome.promoted = True
        outcome.decision = (f"{path.name} is now the default model (the default model {current.name}, named in "
                            f"{printable(default_pointer())}, is missing: there was nothing to compare with)")
        return outcome
    # against the default model: the built-in one is built again if it went while this one was trained
    against = current if (current / persist.MANIFEST_FILE).is_file() else None
    outcome.comparison = _compare_on(*_models_compared(path, against, progress), promote_on, reference,
                                     list(reference_notes), margin, N_BOOT)
    current = Path(outcome.comparison.current_path)
    if outcome.comparison.promotable:
        _write_pointer(path.name)  # _models_compared loaded it, so its hash and versions are checked
        outcome.promoted = True
        outcome.decision = (f"{path.name} is now the default model (verdict against {current.name}: "
                            f"{outcome.comparison.verdict})")
    else:
        outcome.decision = (f"not promoted (verdict against {current.name}: {outcome.comparison.verdict}); "
                            f"{current.name} stays the default and {path.name} is kept as a version")
    return outcome
