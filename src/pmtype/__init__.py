"""pmtype: is a product-manager job posting technical or business-minded? And why.

The labels follow one definition (LABELING.md): a technical PM works on what
the product can do and how it works, with the people who build it; a
business-minded PM works on customers, the market and strategy, with many
non-technical teams.
"""

__version__ = "0.1.0"

from pmtype.batch import LabelSummary, label_file  # noqa: E402
from pmtype.curation import LabelCheck, LabelIssue, Suggestions, check_labels, suggest  # noqa: E402
from pmtype.errors import (  # noqa: E402
    BadInputFile,
    BadModelName,
    BadOption,
    BadTrainingData,
    CannotWrite,
    EmptyText,
    MissingColumn,
    ModelIncompatible,
    ModelNotFound,
    ModelTampered,
    NotAModelVersion,
    NothingToSuggest,
    OutputExists,
    PMTypeError,
    UnknownLabel,
)
from pmtype.evaluate import evaluate  # noqa: E402
from pmtype.features import posting_text  # noqa: E402
from pmtype.model import DistinctionEvidence, PMTypeModel, Prediction, classify, load_model  # noqa: E402
from pmtype.registry import (  # noqa: E402
    Comparison,
    ModelVersion,
    TrainOutcome,
    Unfinished,
    compare,
    list_models,
    remove_unfinished,
    train_version,
    use_model,
)
from pmtype.training import train  # noqa: E402

__all__ = [
    "__version__",
    "classify",
    "label_file",
    "train",
    "evaluate",
    "load_model",
    "list_models",
    "remove_unfinished",
    "use_model",
    "train_version",
    "compare",
    "check_labels",
    "suggest",
    "ModelVersion",
    "Comparison",
    "TrainOutcome",
    "Unfinished",
    "LabelCheck",
    "LabelIssue",
    "Suggestions",
    "posting_text",
    "Prediction",
    "DistinctionEvidence",
    "PMTypeModel",
    "LabelSummary",
    "PMTypeError",
    "BadInputFile",
    "BadModelName",
    "BadTrainingData",
    "EmptyText",
    "MissingColumn",
    "ModelIncompatible",
    "ModelNotFound",
    "ModelTampered",
    "NotAModelVersion",
    "NothingToSuggest",
    "OutputExists",
    "BadOption",
    "CannotWrite",
    "UnknownLabel",
]
