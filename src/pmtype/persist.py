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
import shutil
import socket
import tempfile
from pathlib import Path

import joblib

from pmtype.errors import ModelIncompatible, ModelNotFound, ModelTampered, OutputExists

MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
FORMAT_VERSION = 1

#: Eight hex digits naming this machine (a hash of its host name): a process id means
#: something only on the machine that gave it, and a models folder may be shared.
HOST_TAG = hashlib.sha256(socket.gethostname().encode("utf-8", "surrogatepass")).hexdigest()[:8]

_WRITER = r"(?:(?P<pid>[0-9]+)(?:-(?P<host>[0-9a-f]{8}))?\.)?"
#: The name of a temporary folder or file that an atomic write of ``<name>`` makes beside it:
#: ``.<name>.<pid>-<host>.<random>.tmp``, with the writer's process id and ``HOST_TAG``;
#: earlier pmtype wrote ``.<name>.<pid>.<random>.tmp`` and, before that,
#: ``.<name>.<random>.tmp``. ``random`` is ``tempfile``'s eight characters.
TEMPORARY_NAME = re.compile(r"\.(?P<name>.+?)\." + _WRITER + r"[a-z0-9_]{8}\.tmp")
#: The name under which ``save_model`` moves a model aside while it puts the new one in its
#: place: ``.<name>.<pid>-<host>.old``; earlier pmtype used ``.<name>.<pid>.old`` and ``.<name>.old``.
MOVED_ASIDE_NAME = re.compile(r"\.(?P<name>.+?)\." + _WRITER + r"old")


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


def check_replaceable(folder: Path, overwrite: bool) -> None:
    """``OutputExists`` unless ``folder`` is free, or ``overwrite`` and it holds a model (its
    manifest): overwriting replaces a model, never a file or a folder of something else."""
    folder = Path(folder)
    if not (folder.exists() or folder.is_symlink()):
        return
    if not overwrite:
        raise OutputExists(f"{folder} already exists; choose another name or pass --overwrite")
    if not folder.is_dir() or not (folder / MANIFEST_FILE).is_file():
        raise OutputExists(f"{folder} is not a model folder (no {MANIFEST_FILE}); overwriting replaces "
                           "only a model: choose another name")


def save_model(obj, folder: Path, manifest: dict, overwrite: bool = False) -> dict:
    """Write ``obj`` and its manifest into ``folder``, atomically.

    Everything is written into a temporary folder beside the target (``TEMPORARY_NAME``)
    and renamed into place at the end, so a crash never leaves a folder that looks
    valid; ``registry.remove_unfinished`` removes the temporary folder a killed process left,
    and puts back a model it had moved aside (``MOVED_ASIDE_NAME``) but not yet replaced.
    Returns the manifest as written.
    """
    folder = Path(folder)
    check_replaceable(folder, overwrite)
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
            json.dump(manifest, f, indent=2, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        if folder.exists():
            old = folder.with_name(f"{temporary_prefix(folder.name)}old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
            os.replace(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return manifest


def read_manifest(folder: Path) -> dict:
    """The manifest of a model folder, checked for shape but not against the file."""
    folder = Path(folder)
    if not folder.exists():
        raise ModelNotFound(f"no model at {folder}; build one with 'pmtype train' or 'make model'")
    if not folder.is_dir():
        raise ModelNotFound(f"{folder} is not a model folder (expected a folder holding {MODEL_FILE} and {MANIFEST_FILE})")
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise ModelTampered(f"{folder} has no {MANIFEST_FILE}; refusing to load an unverified model. Rebuild it with 'pmtype train'")
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
        manifest["model_sha256"], manifest["versions"]  # noqa: B018 - shape check
    except (ValueError, KeyError, TypeError):
        raise ModelTampered(f"{path} is not a valid pmtype manifest; rebuild the model with 'pmtype train'") from None
    return manifest


def verify_model(folder: Path) -> dict:
    """Check a model folder's file against its manifest (hash, versions) without loading it.

    Returns the manifest; raises the same errors as ``load_model``.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    model_path = folder / manifest.get("model_file", MODEL_FILE)
    if not model_path.is_file():
        raise ModelNotFound(f"{folder} has a manifest but no {model_path.name}; rebuild it with 'pmtype train'")
    if sha256_of(model_path) != manifest["model_sha256"]:
        raise ModelTampered(
            f"{model_path} does not match the SHA-256 in its manifest; it was changed after it was written. "
            "Refusing to load it: rebuild with 'pmtype train' or 'make model'"
        )
    installed = installed_versions()
    differ = [
        f"{name} {manifest['versions'].get(name, '?')} (installed {version})"
        for name, version in installed.items()
        if manifest["versions"].get(name) != version
    ]
    if differ:
        raise ModelIncompatible(
            f"{folder} was built with {', '.join(differ)}; rebuild it with 'pmtype train' or 'make model'"
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
            f"{folder} cannot be read by this pmtype ({type(e).__name__}); rebuild it with 'pmtype train' or 'make model'"
        ) from None
    return obj, manifest
