"""Saving and loading a model folder: the joblib file and its manifest.

A joblib file is a pickle, and loading a pickle runs code. pmtype therefore
loads a model file only when the manifest beside it names the file's SHA-256
and the versions of the libraries that wrote it, and both match.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import tempfile
from pathlib import Path

import joblib

from pmtype import config
from pmtype.errors import (BadModelName, CannotWrite, ModelIncompatible, ModelNotFound, ModelTampered,
                           NestedModelFolder, OutputExists, printable, system_reason)
from pmtype.tables import strict_json

MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
FORMAT_VERSION = 1

HOST_TAG = config.HOST_TAG  # this machine, in the names of temporary files (config.HOST_TAG)

#: The files ``save_model`` writes into a model folder: a folder it wrote holds nothing else.
MODEL_FOLDER_FILES = (MODEL_FILE, MANIFEST_FILE)
#: What a file browser leaves in any folder it shows (macOS Finder, Windows Explorer): no user's work.
FILE_BROWSER_LITTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})

_WRITER = r"(?P<pid>[0-9]+)(?:-(?P<host>[0-9a-f]{8}))?\."
_RANDOM = r"[a-z0-9_]{8}"  # tempfile's eight characters
#: The name of a temporary folder or file that an atomic write of ``<name>`` makes beside it:
#: ``.<name>.<pid>-<host>.<random>.tmp``, with the writer's process id and ``HOST_TAG``
#: (earlier pmtype wrote ``.<name>.<pid>.<random>.tmp``).
TEMPORARY_NAME = re.compile(r"\.(?P<name>.+?)\." + _WRITER + _RANDOM + r"\.tmp")
#: The name under which ``save_model`` moves a model aside while it puts the new one in its
#: place: ``.<name>.<pid>-<host>.old`` (earlier pmtype used ``.<name>.<pid>.old``).
MOVED_ASIDE_NAME = re.compile(r"\.(?P<name>.+?)\." + _WRITER + r"old")
#: What pmtype wrote before it named the writer: ``.<name>.<random>.tmp`` and ``.<name>.old``. Any
#: hidden name may look like these, so only what they hold can tell pmtype's from a user's
#: (``registry.remove_unfinished``).
LEGACY_TEMPORARY_NAME = re.compile(r"\.(?P<name>.+?)\." + _RANDOM + r"\.tmp")
LEGACY_MOVED_ASIDE_NAME = re.compile(r"\.(?P<name>.+?)\.old")
#: What an ``OutputExists`` for a model folder that is already there tells the user to do.
OVERWRITE_ADVICE = "choose another name or pass --overwrite (overwrite=True in Python)"


def usual_mode(directory: bool = False) -> int:
    """The permissions ``open``/``mkdir`` give a new file/folder under this process's umask.

    ``tempfile`` makes its files and folders private to their owner; what pmtype
    writes for others to read (models, the default pointer) is given these instead.
    """
    mask = os.umask(0)
    os.umask(mask)
    return (0o777 if directory else 0o666) & ~mask


def temporary_prefix(name: str) -> str:
    """The start of a temporary name beside ``name`` (``tempfile``'s ``prefix``; the suffix is ``.tmp``).

    It holds this process's id and this machine's ``HOST_TAG``, so that a later run
    can tell a write in progress from one a killed process left behind.
    """
    return f".{name}.{os.getpid()}-{HOST_TAG}."


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine exists (one this user may not signal exists too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process, or no pid a process can have: not ours to judge
    return True


def writer_gone(writer: re.Match) -> bool | None:
    """Whether the process named in a temporary name (``TEMPORARY_NAME``, ``MOVED_ASIDE_NAME``) is gone;
    None where its id cannot tell: another machine's, or Windows, which has no signal 0 (os.kill
    would end the process)."""
    if writer["host"] not in (None, HOST_TAG) or os.name == "nt":
        return None
    return not process_alive(int(writer["pid"]))


def installed_versions() -> dict[str, str]:
    """The versions a model must have been built with to be loaded here."""
    import sklearn
    import spacy

    from pmtype import __version__

    return {
        "pmtype": __version__,
        "scikit-learn": sklearn.__version__,
        "spacy": spacy.__version__,
        "python": ".".join(platform.python_version_tuple()[:2]),
    }


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_not_blank(name: object, what: str = "give a version name ('pmtype models' lists them)") -> None:
    """``BadModelName`` where the model name ``name`` is empty or blanks alone (never a name meant,
    nor the working directory that ``Path("")`` would be), saying ``what`` to give instead. A string
    only: ``Path("")`` is ``Path(".")`` to pathlib, and so a model folder, the working directory."""
    if isinstance(name, (str, os.PathLike)) and not os.fspath(name).strip():
        raise BadModelName(f"an empty model name was given: {what}")


def check_version_name(name: object) -> None:
    """``BadModelName`` unless ``name`` may name a model version (``config.is_version_name``)."""
    check_not_blank(name)
    if not config.is_version_name(name):
        raise BadModelName(
            f"'{printable(name)}' is not a model version name: use letters, digits, '.', '_' and '-', "
            f"starting with a letter or digit (other spellings of '{config.DEFAULT_MODEL_NAME}', such as "
            f"'{config.LEGACY_POINTER}', are reserved)"
        )


def version_in_models_dir(folder: str | Path) -> str | None:
    """The name of ``folder`` where it lies directly in ``config.models_dir()`` (a version's place),
    else None. ``.`` and ``..`` are resolved first; the folder itself need not exist."""
    folder = Path(os.path.abspath(folder))
    root = config.models_dir()
    try:
        inside = os.path.samefile(folder.parent, root)
    except OSError:  # one of them does not exist (yet)
        inside = folder.parent.resolve() == root.resolve()
    return folder.name if inside and folder.name else None


def rebuild_advice(folder: str | Path) -> str:
    """The command that rebuilds the model in ``folder``, quoted for a message. The built-in
    default model (``config.DEFAULT_MODEL_NAME`` in the models directory) is trained from the seed
    corpus into its folder again, as ``make model`` does in a checkout (an installed pmtype has no
    Makefile, and a plain ``pmtype train`` makes a new version, which the default never becomes);
    any other model with ``pmtype train``."""
    try:
        builtin = version_in_models_dir(folder) == config.DEFAULT_MODEL_NAME
    except CannotWrite:  # PMTYPE_MODELS_DIR names a file: no folder in it is the default
        builtin = False
    if builtin:
        return f"'pmtype train -o {shlex.quote(printable(folder))} --overwrite'"
    return "'pmtype train'"


def _holds_a_model(folder: Path) -> bool:
    """Whether ``folder`` holds a model: its file and its manifest (``MODEL_FOLDER_FILES``), both. A
    ``manifest.json`` alone is no model: a web project or a browser extension keeps one at its root."""
    try:
        return all((folder / name).is_file() for name in MODEL_FOLDER_FILES)
    except OSError:  # a folder this user may not look into
        return False


def check_not_inside_a_model(folder: Path) -> None:
    """``NestedModelFolder`` where the model folder ``folder`` would lie inside another model's
    folder, or in the models directory deeper than a version's place: inside a version's folder
    (there or not yet), or inside what the directory keeps for itself (``.cache``)."""
    shown = printable(folder)
    target = Path(os.path.abspath(folder))
    root = config.models_dir()
    try:
        inside = target.resolve().relative_to(root.resolve()).parts
    except (ValueError, OSError, RuntimeError):  # not in the models directory; a link that loops
        inside = ()
    if len(inside) > 1:
        top = root / inside[0]
        if config.is_version_name(top.name):
            raise NestedModelFolder(f"{shown} is inside the folder of model version '{printable(top.name)}'; "
                                    "a model cannot be written into another: choose another -o")
        raise NestedModelFolder(f"{shown} is inside {printable(top)}, which pmtype keeps for itself in the "
                                "models folder: choose another -o")
    for parent in target.parents:
        if _holds_a_model(parent):
            raise NestedModelFolder(f"{shown} is inside the model folder {printable(parent)}; a model cannot "
                                    "be written into another: choose another -o")


def _holds_working_directory(folder: Path) -> bool:
    try:
        here, there = Path.cwd().resolve(), folder.resolve()
    except OSError:  # the working directory is gone
        return False
    return here == there or there in here.parents


def foreign_entries(folder: Path) -> list[str]:
    """The names in ``folder`` that ``save_model`` does not write into a model folder
    (``MODEL_FOLDER_FILES``), sorted; a file browser's litter (``FILE_BROWSER_LITTER``) is not counted."""
    return sorted(name for name in os.listdir(folder)
                  if name not in MODEL_FOLDER_FILES and name not in FILE_BROWSER_LITTER)


def _check_holds_only_a_model(folder: Path, shown: str) -> None:
    """``OutputExists`` where the model folder ``folder`` holds more than pmtype wrote there
    (a report, notes): replacing the folder would delete them."""
    others = foreign_entries(folder)
    if others:
        named = ", ".join(printable(name) for name in others[:3]) + (", …" if len(others) > 3 else "")
        raise OutputExists(f"{shown} holds more than a model ({named}); move them or give another -o",
                           path=folder)


def check_replaceable(folder: Path, overwrite: bool) -> None:
    """``OutputExists`` unless ``folder`` is free, or ``overwrite`` and it holds a model (its
    manifest) and nothing else (``MODEL_FOLDER_FILES``): overwriting replaces a model, never a
    file or a folder of something else, nor what was put into a model folder beside the model.

    In the models directory a folder is a version: its name must be one
    (``check_version_name``), and an existing version is never replaced, except the
    built-in ``config.DEFAULT_MODEL_NAME`` (``make model`` rebuilds it). Nor is the
    working directory (``-o .``), which would leave the shell in a deleted folder. No model
    goes inside another (``check_not_inside_a_model``).
    """
    folder = Path(folder)
    check_not_inside_a_model(folder)
    version = version_in_models_dir(folder)
    shown = printable(folder if folder.name not in ("", "..") else os.path.abspath(folder))  # not "."
    if version is not None:
        check_version_name(version)
    if not (folder.exists() or folder.is_symlink()):
        return
    if version is not None and version != config.DEFAULT_MODEL_NAME:
        raise OutputExists(f"model version '{version}' already exists in {printable(config.models_dir())}; "
                           "versions are never replaced: choose another name", path=folder)
    if not overwrite:
        raise OutputExists(f"{shown} already exists; {OVERWRITE_ADVICE}",
                           path=folder)
    if not folder.is_dir() or not (folder / MANIFEST_FILE).is_file():
        raise OutputExists(f"{shown} is not a model folder (no {MANIFEST_FILE}); overwriting replaces "
                           "only a model: choose another name", path=folder)
    if _holds_working_directory(folder):
        raise OutputExists(f"{shown} is the working directory, or holds it: replacing it would leave "
                           "you in a deleted folder; run train from outside it", path=folder)
    _check_holds_only_a_model(folder, shown)


def _put_in_place(tmp: Path, folder: Path, given: Path) -> None:
    """Rename the finished folder ``tmp`` to ``folder``, only where nothing is there: of two
    runs writing the same new folder, one wins and the other gets ``OutputExists``."""
    try:
        # onto a folder, rename(2) fails unless it is empty, and Windows refuses any folder; onto a
        # file, renaming a folder fails everywhere: only one of two runs gets its model in place
        os.replace(tmp, folder)
    except OSError:
        if not (folder.exists() or folder.is_symlink()):
            raise
        version = version_in_models_dir(folder)
        if version is not None:
            raise OutputExists(f"model version '{version}' was written to {printable(config.models_dir())} by "
                               "another run while this one was trained; versions are never replaced: "
                               "train again under another name", path=folder) from None
        raise OutputExists(f"{printable(given)} was written by another run while this model was trained; "
                           f"{OVERWRITE_ADVICE}", path=folder) from None


def save_model(obj, folder: Path, manifest: dict, overwrite: bool = False) -> dict:
    """Write ``obj`` and its manifest into ``folder``, atomically.

    Everything is written into a temporary folder beside the target (``TEMPORARY_NAME``)
    and renamed into place at the end, so a crash never leaves a folder that looks
    valid; ``registry.remove_unfinished`` removes the temporary folder a killed process left,
    and puts back a model it had moved aside (``MOVED_ASIDE_NAME``) but not yet replaced.
    Returns the manifest as written. A folder that cannot be written (no room left, a
    read-only disk, a file in the way) is a one-line ``CannotWrite``.
    """
    try:
        return _save_model(obj, folder, manifest, overwrite)
    except OSError as e:
        raise CannotWrite(f"{printable(folder)} cannot be written: {system_reason(e)}") from None


def _save_model(obj, folder: Path, manifest: dict, overwrite: bool) -> dict:
    given = Path(folder)
    check_replaceable(given, overwrite)  # train checks before training too: things may have been put there since
    folder = Path(os.path.abspath(given))  # "." has no name to put a temporary one beside
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=temporary_prefix(folder.name), suffix=".tmp", dir=folder.parent))
    os.chmod(tmp, usual_mode(directory=True))  # readable by others as a folder from mkdir would be
    try:
        joblib.dump(obj, tmp / MODEL_FILE, compress=3)
        manifest = dict(manifest)
        manifest.update(
            format=FORMAT_VERSION,
            versions=installed_versions(),
            model_file=MODEL_FILE,
            model_sha256=sha256_of(tmp / MODEL_FILE),
        )
        with open(tmp / MANIFEST_FILE, "w", encoding="utf-8") as f:
            # a metric that cannot be computed (NaN) as null: strict JSON parsers refuse a bare NaN
            f.write(strict_json(manifest, indent=2, sort_keys=True))
            f.flush()
            os.fsync(f.fileno())
        if overwrite and (folder.exists() or folder.is_symlink()):
            check_replaceable(given, overwrite)  # and once more, just before the old model goes
            old = folder.with_name(f"{temporary_prefix(folder.name)}old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
            os.replace(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            _put_in_place(tmp, folder, given)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return manifest


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_text(value) -> bool:
    return isinstance(value, str)


def _is_plain_file_name(value) -> bool:
    return isinstance(value, str) and value not in ("", ".", "..") and not set("/\\\0") & set(value)


def _kinds(check, what):
    """A check of every value of a mapping, with what each must be."""
    return lambda v: isinstance(v, dict) and all(check(x) for x in v.values()), f"a mapping to {what}"


#: The columns of a labelled table that training reads, as a manifest's ``training.columns`` names them.
TABLE_ROLES = ("text", "title", "label")

#: What each field of a manifest must be, where it is present: a check and its description.
#: ``model_sha256`` and ``versions`` must be present; the others pmtype reads where they are.
_SHAPE = {
    ("model_sha256",): (_is_text, "text"),
    ("versions",): _kinds(_is_text, "text"),
    ("model_file",): (_is_plain_file_name, "a file name"),
    ("model_id",): (_is_text, "text"),
    ("name",): (_is_text, "text"),
    ("created",): (_is_text, "text"),
    ("format",): (_is_count, "a whole number"),
    ("band",): (lambda v: _is_number(v) and 0 <= v <= 0.5, "a number from 0 to 0.5"),
    ("scope_check",): (lambda v: isinstance(v, bool), "true or false"),
    ("english_only",): (lambda v: isinstance(v, bool), "true or false"),
    ("drop_boilerplate",): (lambda v: isinstance(v, bool), "true or false"),
    ("notes",): (lambda v: isinstance(v, list) and all(map(_is_text, v)), "a list of text"),
    ("training",): (lambda v: isinstance(v, dict), "a mapping"),
    ("training", "seed"): (_is_count, "a whole number"),
    ("training", "columns"): _kinds(lambda v: isinstance(v, list) and all(x is None or _is_text(x) for x in v),
                                    "lists of column names"),
    ("data",): (lambda v: isinstance(v, dict), "a mapping"),
    ("data", "rows"): (_is_count, "a whole number"),
    ("data", "by_label"): _kinds(_is_count, "whole numbers"),
    ("data", "sources"): (lambda v: isinstance(v, list) and all(map(_is_text, v)), "a list of text"),
    ("data", "sha256"): (_is_text, "text"),
    ("data", "seed_corpus"): (lambda v: isinstance(v, bool), "true or false"),
    ("metrics",): (lambda v: isinstance(v, dict), "a mapping"),
    ("metrics", "folds"): (_is_count, "a whole number"),
    ("metrics", "cross_validation"): (lambda v: isinstance(v, dict), "a mapping"),
    ("metrics", "cross_validation", "n"): (_is_count, "a whole number"),
    ("metrics", "cross_validation", "metrics"): (lambda v: isinstance(v, dict), "a mapping"),
}
#: Each cross-validated metric: ``{"value": number}``, with ``low`` and ``high`` where given; null
#: (written for NaN) where it cannot be computed.
_METRIC_FIELDS = ("value", "low", "high")


def cross_validated(manifest: dict) -> dict:
    """The manifest's cross-validated metrics by name (``{}`` where it records none)."""
    return manifest.get("metrics", {}).get("cross_validation", {}).get("metrics", {})


def _shape_problem(manifest) -> str | None:
    """What is wrong with the shape of a manifest (a field of the wrong type), or None."""
    if not isinstance(manifest, dict):
        return "it is not a JSON object"
    for name in ("model_sha256", "versions"):
        if name not in manifest:
            return f"it has no '{name}'"
    for path, (check, what) in _SHAPE.items():
        parent = manifest
        for key in path[:-1]:
            parent = parent.get(key, {})
        if path[-1] in parent and not check(parent[path[-1]]):
            return f"'{'.'.join(path)}' is {_shown(parent[path[-1]])}, not {what}"
    for name, metric in cross_validated(manifest).items():
        where = f"metrics.cross_validation.metrics.{printable(name)}"
        if not isinstance(metric, dict) or "value" not in metric:
            return f"'{where}' is {_shown(metric)}, not a mapping with a 'value'"
        for field in _METRIC_FIELDS:
            if field in metric and metric[field] is not None and not _is_number(metric[field]):
                return f"'{where}.{field}' is {_shown(metric[field])}, not a number"
    return None


def _shown(value) -> str:
    text = printable(repr(value) if isinstance(value, str) else json.dumps(value, default=str))
    return text if len(text) <= 40 else text[:39] + "…"


def read_manifest(folder: Path) -> dict:
    """The manifest of a model folder, checked for shape but not against the file.

    A manifest that is no JSON object, or holds a field of another type than pmtype
    writes (a metric that is text, a creation time that is a number), is ``ModelTampered``:
    every use of a model (loading, describing, listing) goes through this one check.
    """
    folder = Path(folder)
    if not folder.exists():
        raise ModelNotFound(f"no model at {printable(folder)}; build one with {rebuild_advice(folder)}")
    if not folder.is_dir():
        raise ModelNotFound(f"{printable(folder)} is not a model folder (expected a folder holding {MODEL_FILE} "
                            f"and {MANIFEST_FILE})")
    path = folder / MANIFEST_FILE
    if not path.is_file() and not (folder / MODEL_FILE).exists():
        raise ModelNotFound(f"{printable(folder)} is not a model folder (no {MANIFEST_FILE}, no {MODEL_FILE})")
    if not path.is_file():
        raise ModelTampered(f"{printable(folder)} has no {MANIFEST_FILE}; refusing to load an unverified model. "
                            f"Rebuild it with {rebuild_advice(folder)}")
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested beyond reading
        raise ModelTampered(f"{printable(path)} is not a valid pmtype manifest; rebuild the model with "
                            f"{rebuild_advice(folder)}") from None
    problem = _shape_problem(manifest)
    if problem is not None:
        raise ModelTampered(f"{printable(path)} is not a valid pmtype manifest: {problem}; rebuild the model "
                            f"with {rebuild_advice(folder)}")
    # a metric that cannot be computed, written as null, is NaN again, as training gave it
    for metric in cross_validated(manifest).values():
        metric.update({k: float("nan") for k in _METRIC_FIELDS if k in metric and metric[k] is None})
    return manifest


def check_format(folder: Path, manifest: dict) -> None:
    """``ModelIncompatible`` unless the manifest's ``format`` is the one this pmtype writes
    (``FORMAT_VERSION``); a manifest without one is read as that format."""
    written = manifest.get("format", FORMAT_VERSION)
    if written != FORMAT_VERSION:
        raise ModelIncompatible(f"{printable(folder)} is a model of format {written}; this pmtype reads format "
                                f"{FORMAT_VERSION}: rebuild it with {rebuild_advice(folder)}")


def verify_model(folder: Path) -> dict:
    """Check a model folder's file against its manifest (format, hash, versions) without loading it.

    Returns the manifest; raises the same errors as ``load_model``.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    check_format(folder, manifest)
    model_path = folder / manifest.get("model_file", MODEL_FILE)
    if not model_path.is_file():
        raise ModelNotFound(f"{printable(folder)} has a manifest but no {printable(model_path.name)}; rebuild it "
                            f"with {rebuild_advice(folder)}")
    if sha256_of(model_path) != manifest["model_sha256"]:
        raise ModelTampered(
            f"{printable(model_path)} does not match the SHA-256 in its manifest; it was changed after it was written. "
            f"Refusing to load it: rebuild with {rebuild_advice(folder)}"
        )
    installed = installed_versions()
    differ = [
        f"{name} {manifest['versions'].get(name, '?')} (installed {version})"
        for name, version in installed.items()
        if manifest["versions"].get(name) != version
    ]
    if differ:
        raise ModelIncompatible(
            f"{printable(folder)} was built with {', '.join(differ)}; rebuild it with {rebuild_advice(folder)}"
        )
    return manifest


def load_model(folder: Path):
    """Load a model folder after checking its file's hash and its versions."""
    folder = Path(folder)
    manifest = verify_model(folder)
    model_path = folder / manifest.get("model_file", MODEL_FILE)
    try:
        obj = joblib.load(model_path)
    except (AttributeError, ImportError, ModuleNotFoundError, TypeError, ValueError, EOFError) as e:
        # The hash matched, so the file is the one written; pmtype's own code no longer reads it.
        raise ModelIncompatible(
            f"{printable(folder)} cannot be read by this pmtype ({type(e).__name__}); rebuild it with "
            f"{rebuild_advice(folder)}"
        ) from None
    return obj, manifest
