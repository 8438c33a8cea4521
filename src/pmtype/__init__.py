"""pmtype: is a product-manager job posting technical or business-minded? And why.

The labels follow one definition (LABELING.md): a technical PM works on what
the product can do and how it works, with the people who build it; a
business-minded PM works on customers, the market and strategy, with many
non-technical teams.
"""

__version__ = "0.1.0"

# The public names and the modules that hold them. They are imported on first use
# (PEP 562), so that ``import pmtype`` and the command line start fast, and a Ctrl-C
# while the command line starts is one line, not a traceback (``pmtype.console``).
_WHERE = {
    "LabelSummary": "batch", "label_file": "batch",
    "LabelCheck": "curation", "LabelIssue": "curation", "Suggestions": "curation",
    "check_labels": "curation", "suggest": "curation",
    "evaluate": "evaluation",
    "posting_text": "features",
    "DistinctionEvidence": "model", "PMTypeModel": "model", "Prediction": "model", "classify": "model",
    "load_model": "model",
    "Comparison": "registry", "ModelVersion": "registry", "TrainOutcome": "registry", "Unfinished": "registry",
    "compare": "registry", "list_models": "registry", "remove_unfinished": "registry",
    "train_version": "registry", "use_model": "registry", "remove_version": "registry",
    "train": "training",
}
_ERRORS = ("BadInputFile", "BadModelName", "BadOption", "BadTrainingData", "CannotWrite", "ClusterUnavailable",
           "EmptyText",
           "MissingColumn", "ModelIncompatible", "ModelInUse", "ModelNotFound", "ModelTampered", "NestedModelFolder",
           "NotAModelVersion", "NothingToSuggest", "OutputExists", "PMTypeError", "UnknownLabel", "WorkerDied")
_WHERE.update(dict.fromkeys(_ERRORS, "errors"))


def __getattr__(name: str):
    if name in _WHERE:
        import importlib

        value = getattr(importlib.import_module(f"pmtype.{_WHERE[name]}"), name)
        globals()[name] = value  # once
        return value
    raise AttributeError(f"module 'pmtype' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


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
    "remove_version",
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
    "ModelInUse",
    "ModelNotFound",
    "ModelTampered",
    "NestedModelFolder",
    "NotAModelVersion",
    "NothingToSuggest",
    "OutputExists",
    "BadOption",
    "CannotWrite",
    "ClusterUnavailable",
    "UnknownLabel",
    "WorkerDied",
]
