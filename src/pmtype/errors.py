"""The exceptions a user of pmtype can meet, named after the condition.

The CLI turns each into a one-line ``Error: …`` and an exit code; the library
never prints.
"""

from __future__ import annotations


def printable(text: object) -> str:
    """``text`` for a one-line message: line breaks, tabs and other characters that do not
    print are written as escapes (``\\n``), so that a name holding one cannot break the line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(text))


def counted(n: int, one: str, many: str | None = None) -> str:
    """``n`` and the words that agree with it, for a message: ``counted(1, "row")`` is '1 row',
    ``counted(3, "row has", "rows have")`` '3 rows have' (``many``: ``one`` + 's' where not given)."""
    return f"{n} {one if n == 1 else (many if many is not None else one + 's')}"


def system_reason(error: OSError) -> str:
    """What the system said of ``error`` (``permission denied``, ``no space left on device``), or the
    first line of its message, for a one-line error."""
    lines = str(error).strip().splitlines()
    return (error.strerror or (lines[0] if lines else type(error).__name__)).lower()


class PMTypeError(Exception):
    """Base class of every error pmtype raises on purpose."""

    exit_code = 1
    #: Whether what a run wrote before this error is kept for ``--resume``: not for an error in the
    #: input (a broken row comes back on every resume), yes where running again may get further.
    keeps_progress = False


class ModelNotFound(PMTypeError):
    """No model folder (or no model file in it) at the given path."""


class ModelTampered(PMTypeError):
    """A model file whose SHA-256 does not match its manifest, or an unreadable manifest."""


class ModelIncompatible(PMTypeError):
    """A model built with other versions of pmtype, scikit-learn, spaCy or Python."""


class BadInputFile(PMTypeError):
    """An input file that cannot be read as a table of postings."""


class MissingColumn(PMTypeError):
    """A table without the column pmtype needs."""


class UnknownLabel(PMTypeError):
    """Training rows whose label is not ``technical`` or ``business``."""


class BadTrainingData(PMTypeError):
    """Training data pmtype cannot learn from (one class only, no usable rows, ...)."""


class EmptyText(PMTypeError):
    """A blank posting given to ``classify``."""


class OutputExists(PMTypeError):
    """An output path that would overwrite something it must not (``path``, where known)."""

    def __init__(self, message: str, path=None):
        super().__init__(message)
        self.path = path


class CannotWrite(PMTypeError):
    """An output pmtype cannot create or write: a file where a folder should be, no permission."""

    keeps_progress = True  # a full disk, say: free some space and resume


class BadOption(PMTypeError):
    """Options that cannot go together (e.g. ``--resume`` with standard output): a wrong use
    of the command line, exit code 2."""

    exit_code = 2


class BadModelName(PMTypeError):
    """A model version name that is not one plain folder name (``a/b``, ``../x``), or is reserved: a
    name that can never be a model version, so a wrong use of the command line, exit code 2."""

    exit_code = 2


class NestedModelFolder(BadModelName):
    """An output folder inside another model's folder, or inside what the models directory keeps for
    itself (``.cache``): a wrong ``-o``, exit code 2 (as every ``BadModelName``)."""


class WorkerDied(PMTypeError):
    """A process labelling chunks of a file that ended before its chunk was done (killed, out of memory)."""

    keeps_progress = True


class ClusterUnavailable(PMTypeError):
    """A Dask scheduler that cannot be reached, or a cluster whose workers died running the job."""


class ModelInUse(PMTypeError):
    """A model version that cannot be removed because it is the default model."""


class NotAModelVersion(PMTypeError):
    """A model folder outside the models directory, where a version is needed (to be the default)."""


class NothingToSuggest(PMTypeError):
    """No posting in a table is left to suggest for labelling."""
