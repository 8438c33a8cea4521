"""pmtype: is a product-manager job posting technical or business-minded? And why.

The labels follow one definition (LABELING.md): a technical PM works on what
the product can do and how it works, with the people who build it; a
business-minded PM works on customers, the market and strategy, with many
non-technical teams.
"""

__version__ = "0.1.0"

from pmtype.batch import LabelSummary, label_file  # noqa: E402
from pmtype.errors import (  # noqa: E402
    BadInputFile,
    BadTrainingData,
    EmptyText,
    MissingColumn,
    ModelIncompatible,
    ModelNotFound,
    ModelTampered,
    OutputExists,
    PMTypeError,
    UnknownLabel,
)
from pmtype.evaluate import evaluate  # noqa: E402
from pmtype.model import DistinctionEvidence, PMTypeModel, Prediction, classify, load_model  # noqa: E402
from pmtype.training import train  # noqa: E402

__all__ = [
    "__version__",
    "classify",
    "label_file",
    "train",
    "evaluate",
    "load_model",
    "Prediction",
    "DistinctionEvidence",
    "PMTypeModel",
    "LabelSummary",
    "PMTypeError",
    "BadInputFile",
    "BadTrainingData",
    "EmptyText",
    "MissingColumn",
    "ModelIncompatible",
    "ModelNotFound",
    "ModelTampered",
    "OutputExists",
    "UnknownLabel",
]
