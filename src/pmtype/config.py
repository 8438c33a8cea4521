"""Paths and defaults: the one place they live.

Every function in pmtype takes its paths as arguments; the values here are the
defaults the CLI and the public API fall back to.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
from pathlib import Path

import platformdirs

PACKAGE_DIR = Path(__file__).resolve().parent

#: Eight hex digits naming this machine (a hash of its host name): a process id means
#: something only on the machine that gave it, and a models folder or an output may be shared.
HOST_TAG = hashlib.sha256(socket.gethostname().encode("utf-8", "surrogatepass")).hexdigest()[:8]

#: The checkout's root, when pmtype runs from a source tree (``pip install -e .``).
_CHECKOUT_ROOT = PACKAGE_DIR.parent.parent
IN_CHECKOUT = (_CHECKOUT_ROOT / "pyproject.toml").is_file() and (
    _CHECKOUT_ROOT / "data" / "seed" / "postings.csv"
).is_file()


def expand_user(value):
    """``value`` with a leading ``~`` (``~/postings.csv``, ``~ana/models``) made that home folder, as
    a shell does for a command line; anything else (``-``, a URL, a version name, a loaded model,
    None) as it is."""
    if isinstance(value, (str, os.PathLike)) and os.fspath(value).startswith("~"):
        expanded = os.path.expanduser(os.fspath(value))
        return expanded if isinstance(value, str) else Path(expanded)
    return value


def user_paths(*names: str, models: tuple[str, ...] = ()):
    """Decorator of a public function: its arguments ``names`` (a path, or a list of paths), given
    by a user of the library, with ``~`` expanded (``expand_user``), as the environment overrides are.

    A path of blanks alone (or empty) is a ``BadOption`` naming the argument, as the CLI says one:
    ``Path("")`` would be the working directory, and a file or folder named "  " is never meant.
    Only a string can be told empty: pathlib makes ``Path("")`` ``Path(".")`` (equal, the same
    string and parts), so it is read as the working directory, a real folder one may mean.
    ``models`` are model references (a version name, a folder or a loaded model), ``~`` expanded
    too; a blank one is a ``BadModelName`` (``model.model_folder``). None (not given) stays as it is."""
    import functools
    import inspect

    def decorate(fn):
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def with_home_expanded(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            for name in names + models:
                if name in bound.arguments:
                    given = bound.arguments[name]
                    many = isinstance(given, (list, tuple))
                    if name in names:
                        _check_not_blank(given if many else [given], name)
                    bound.arguments[name] = [expand_user(p) for p in given] if many else expand_user(given)
            return fn(*bound.args, **bound.kwargs)

        return with_home_expanded

    return decorate


def _check_not_blank(paths, name: str) -> None:
    """``BadOption`` where one of ``paths`` (the argument ``name``) is empty or blanks alone."""
    if any(isinstance(p, (str, os.PathLike)) and not os.fspath(p).strip() for p in paths):
        from pmtype.errors import BadOption

        raise BadOption(f"an empty path was given for {name}")


def seed_corpus_path() -> Path:
    """The written seed corpus: inside the wheel when installed, ``data/seed`` in a checkout.

    ``PMTYPE_SEED_CORPUS`` overrides (the tests use it to train on a tiny corpus); where it names
    no file (nothing, or a folder) that is a ``BadInputFile`` naming the variable, whichever
    command needed the seed corpus (``classify`` building the default model has no ``--no-seed``).
    """
    override = os.environ.get("PMTYPE_SEED_CORPUS", "").strip()  # blanks, as nothing: unset
    if override:
        path = Path(override).expanduser()
        _check_is_a_file(path, "PMTYPE_SEED_CORPUS")
        return path
    shipped = PACKAGE_DIR / "_data" / "seed" / "postings.csv"
    if shipped.is_file():
        return shipped
    return _CHECKOUT_ROOT / "data" / "seed" / "postings.csv"


def seed_corpus_files() -> list[Path]:
    """The seed corpus files there are, which no command may write over: the one in the wheel,
    a checkout's ``data/seed/postings.csv`` and the one ``PMTYPE_SEED_CORPUS`` names."""
    override = os.environ.get("PMTYPE_SEED_CORPUS", "").strip()
    found = [PACKAGE_DIR / "_data" / "seed" / "postings.csv", _CHECKOUT_ROOT / "data" / "seed" / "postings.csv"]
    found += [Path(override).expanduser()] if override else []
    return [path for path in found if path.is_file()]


def _check_is_a_file(path: Path, variable: str) -> None:
    """``BadInputFile`` where ``path`` (named by the environment ``variable``) does not exist or is
    a folder: the message names the variable, since no command line named the file."""
    try:
        what = "is a folder, not a file" if path.is_dir() else None if path.exists() else "does not exist"
    except OSError:  # a folder this user may not look into: reading the file says so
        return
    if what is not None:
        from pmtype.errors import BadInputFile, printable

        raise BadInputFile(f"{variable} names {printable(str(path))}, which {what}; point {variable} at the "
                           "seed corpus file, or unset it")


def models_dir() -> Path:
    """Where model versions live.

    ``PMTYPE_MODELS_DIR`` overrides; a checkout uses its ``models/`` folder; an
    installed pmtype uses the per-user cache directory, never site-packages.
    ``PMTYPE_MODELS_DIR`` naming a file, or a path below one, is a ``CannotWrite``
    at once, before any work that would end up there.
    """
    override = os.environ.get("PMTYPE_MODELS_DIR", "").strip()  # blanks, as nothing: unset
    if override:
        path = Path(override).expanduser()
        _check_can_be_a_folder(path, "PMTYPE_MODELS_DIR")
        return path
    if IN_CHECKOUT:
        return _CHECKOUT_ROOT / "models"
    return Path(platformdirs.user_cache_dir("pmtype")) / "models"


def _check_can_be_a_folder(path: Path, variable: str) -> None:
    """``CannotWrite`` where ``path`` (named by the environment ``variable``) is a file, lies below one,
    or is a symbolic link to nothing (which no folder can be made at)."""
    if path.is_symlink() and not path.exists():
        from pmtype.errors import CannotWrite, printable

        raise CannotWrite(f"{variable} names {printable(str(path))}, a symbolic link to nothing "
                          f"({printable(os.readlink(path))}); point {variable} at a folder for the models, or unset it")
    existing = path
    try:
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        is_file = existing.exists() and not existing.is_dir()
    except OSError:  # a folder this user may not look into: what needs it says so
        return
    if is_file:
        from pmtype.errors import CannotWrite, printable

        shown = printable(str(path))
        if existing == path:
            raise CannotWrite(f"{variable} names {shown}, which is a file, not a folder; "
                              f"point {variable} at a folder for the models, or unset it")
        raise CannotWrite(f"{variable} names {shown}, which cannot be a folder: {printable(str(existing))} "
                          f"is a file; point {variable} at a folder for the models, or unset it")


DEFAULT_MODEL_NAME = "default"
#: What a model version's name may look like: one plain folder name (see ``is_version_name``).
VERSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
#: The file in ``models_dir()`` naming the default model version (written by ``pmtype models use``).
#: It starts with a dot, which no version name does (``VERSION_NAME``), so no version folder can
#: have its name in any letter case, on case-insensitive file systems (macOS, Windows) too.
DEFAULT_POINTER = ".default-version"
#: The pointer's name before: read where ``DEFAULT_POINTER`` is absent, and removed when it is written.
LEGACY_POINTER = "DEFAULT"


def is_version_name(name: object) -> bool:
    """Whether ``name`` may name a model version: one plain folder name (``VERSION_NAME``), and no
    other spelling of ``DEFAULT_MODEL_NAME`` ('DEFAULT', 'Default'…), which a case-insensitive file
    system takes for the built-in default model's folder (and 'DEFAULT' is ``LEGACY_POINTER``)."""
    return (isinstance(name, str) and VERSION_NAME.fullmatch(name) is not None
            and (name == DEFAULT_MODEL_NAME or name.casefold() != DEFAULT_MODEL_NAME))

#: Seconds after which a temporary folder or file in the models folder that names no
#: writer's process (pmtype before it recorded one) counts as left by a killed run.
UNFINISHED_MAX_AGE = 3600

#: The labels a labelled file's label cells may hold, as messages and help name them (one wording everywhere).
LABELS_NAMED = "technical, business or not_pm"

#: Rows per chunk when labelling a file.
CHUNK_SIZE = 500
#: spaCy batch size for nlp.pipe over candidate sentences.
SPACY_BATCH_SIZE = 256
#: Postings longer than this many characters are truncated before classification.
MAX_CHARS = 100_000
#: Half-width of the band around 0.5 in which a call is reported as uncertain.
#: Chosen from the calibrated probabilities' reliability; see README "Close calls".
UNCERTAIN_BAND = 0.15
#: Probability of "not a PM posting" above which a text is called out of scope.
SCOPE_THRESHOLD = 0.5
#: Allocations of container objects between two passes of Python's cyclic garbage collector
#: while pmtype turns postings into features (the interpreter's default is 700). The text step
#: makes and keeps hundreds of thousands of small lists and tuples per batch, and at the
#: default each pass walks them again (benchmarks/RESULTS.md, section 3, measures the cost).
#: Objects are still freed as soon as nothing refers to them. At 200,000 rather than 50,000,
#: labelling real postings took about 7% less time, at the same peak memory.
GC_GEN0_THRESHOLD = 200_000
#: The article features count a posting's cues per this many of its words (ArticleFeatures): a long
#: posting is not more technical or more business-minded for holding more of both. Against raw
#: counts, on the real labelled postings: ROC-AUC 0.860 → 0.876, macro-F1 0.771 → 0.795.
ARTICLE_PER_WORDS = 200
#: A posting shorter than this many words is counted as this long, so that a line or two with one cue
#: does not read as a posting dense with cues.
ARTICLE_MIN_WORDS = 50
#: The article features count one cue phrase at most this many times in a posting (ArticleFeatures): a
#: product or team named over and over ("Cloud", "identity verification") is one signal of the rubric,
#: not one per mention. Against counting every mention, on the real labelled postings: ROC-AUC
#: 0.879 → 0.894, Brier 0.143 → 0.131 (at most once: 0.883; three times: 0.885; the limit was
#: chosen on those postings, so the sealed set is its check).
ARTICLE_REPEATS = 2
#: Random seed for training.
SEED = 13
#: Cross-validation folds in training and check-labels; a scope check needs this many not_pm rows.
CV_FOLDS = 5
#: A model trained on at least this share of PM postings that are not in English has learned
#: those languages' words: it labels such postings instead of setting them aside as "not English".
OTHER_LANGUAGES_SHARE = 0.1

LABELS = ("business", "technical")
