"""Building, training and applying pmtype's model.

The label model is one scikit-learn ``Pipeline``: ``PreparePostings`` (text and
spaCy cues) → a ``FeatureUnion`` of the article features and word n-gram
TF-IDF → logistic regression calibrated with ``CalibratedClassifierCV``. A
second, smaller pipeline (the scope check) tells product-management postings
from others. ``PMTypeModel`` holds both and turns their output into
``Prediction`` records with evidence by distinction.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer

from pmtype import config, persist
from pmtype.cues import DISTINCTIONS, load_cue_lists
from pmtype.errors import BadTrainingData, EmptyText, ModelNotFound
from pmtype.features import (
    ARTICLE_FEATURES,
    ArticleFeatures,
    Prepared,
    PreparePostings,
    posting_text,
    role_texts,
)

# --- the pipelines ------------------------------------------------------------


def build_label_pipeline(seed: int = config.SEED, article_scale: float = 1.0,
                         ngram_weight: float = 1.0, C: float = 4.0,
                         drop_boilerplate: bool = True) -> Pipeline:
    """The unfitted label pipeline."""
    ngrams = make_pipeline(
        FunctionTransformer(role_texts),
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_df=0.9, sublinear_tf=True,
                        max_features=200_000, dtype=np.float32),
    )
    features = FeatureUnion(
        [("article", ArticleFeatures(scale=article_scale)), ("ngrams", ngrams)],
        transformer_weights={"article": 1.0, "ngrams": ngram_weight},
    )
    classifier = CalibratedClassifierCV(
        LogisticRegression(C=C, max_iter=2000, class_weight="balanced", random_state=seed),
        method="sigmoid", cv=5, ensemble=False,
    )
    return Pipeline([
        ("prepare", PreparePostings(drop_boilerplate=drop_boilerplate)),
        ("features", features),
        ("classifier", classifier),
    ])


def _scope_title(texts):
    return [t.split("\n", 1)[0][:200] for t in texts]


def _scope_body(texts):
    return [t[:3000] for t in texts]


_PM_TITLE = re.compile(
    r"\bproducts?\b(\s+[\w&-]+)?\s+(manag|mgr|owner|lead|leader|director|head)|\bhead of (global )?product\b|"
    r"\b(director|vp|vice president|chief|svp|evp)\b.{0,20}\bproduct\b|\bproduct management\b|"
    r"\b(pm|tpm)\b(?!.{0,3}program)|\bproduct development manager\b|\bapm\b",
    re.I,
)
_OTHER_TITLE = re.compile(
    r"\b(program|project|programme|marketing|engineer|developer|designer|analyst|scientist|sales|"
    r"account|success|support|teacher|nurse|recruiter|assistant|"
    r"representative|coordinator|architect|consultant|officer|accountant|technician)\b",
    re.I,
)
_NOT_PM_PRODUCT = re.compile(
    r"\bproduct\s+(marketing|operations|ops|support|design|designer|analyst|analytics|engineer\w*|"
    r"compliance|delivery|enablement|specialist|presenter|sourcing|activation|growth manager)\b|"
    r"\b(program|programme|project)\s+manag",
    re.I,
)
_PM_DUTIES = re.compile(
    r"\b(roadmaps?|product vision|user stor(y|ies)|backlog|product requirements?|prds?|"
    r"prioriti[sz]\w*|product strategy|product discovery|product lifecycle|feature requests?|"
    r"go.to.market|launch(es|ed|ing)?|product decisions?|ship(ped|ping)?)\b",
    re.I,
)


def _scope_signals(texts) -> np.ndarray:
    """Title and duty signals of a product-management posting (dense, few columns)."""
    rows = []
    for t in texts:
        title = t[: t.find("\n")] if "\n" in t[:200] else t[:200]
        body = t[:8000]
        duties = len(_PM_DUTIES.findall(body))
        pm_title = bool(_PM_TITLE.search(title)) and not _NOT_PM_PRODUCT.search(title)
        other_title = not pm_title and bool(_OTHER_TITLE.search(title) or _NOT_PM_PRODUCT.search(title))
        rows.append([
            1.0 if pm_title else 0.0,
            1.0 if other_title else 0.0,
            np.log1p(duties),
            np.log1p(duties) / np.log1p(max(len(body), 1) / 500 + 1),
        ])
    return np.asarray(rows)


def build_scope_pipeline(seed: int = config.SEED) -> Pipeline:
    """The unfitted scope check: is a text a product-management posting at all?

    Its evidence is the title (words and a product-management pattern), the
    body's words, and how much of the body is product-management work
    (roadmap, backlog, user stories, prioritising…).
    """
    title = make_pipeline(FunctionTransformer(_scope_title),
                          TfidfVectorizer(ngram_range=(1, 3), sublinear_tf=True, lowercase=True))
    signals = FunctionTransformer(_scope_signals)
    body = make_pipeline(FunctionTransformer(_scope_body),
                         TfidfVectorizer(min_df=2, max_df=0.9, sublinear_tf=True,
                                         max_features=50_000, dtype=np.float32))
    return Pipeline([
        ("features", FeatureUnion([("title", title), ("body", body), ("signals", signals)],
                                  transformer_weights={"title": 1.0, "body": 1.0, "signals": 2.0})),
        ("classifier", LogisticRegression(C=8.0, max_iter=2000, class_weight="balanced",
                                          random_state=seed)),
    ])


# --- predictions -----------------------------------------------------------------


@dataclass
class DistinctionEvidence:
    """What one distinction says about a posting."""

    distinction: str
    title: str
    lean: str  # "technical" or "business"
    strength: float  # its push on the log-odds of "technical", absolute
    phrases: list[dict] = field(default_factory=list)  # {"phrase", "side", "start", "end"}

    def compact(self, n: int = 4) -> str:
        lean_side = [p["phrase"] for p in self.phrases if p["side"] == self.lean]
        seen: list[str] = []
        for phrase in lean_side:
            if phrase.lower() not in (s.lower() for s in seen):
                seen.append(phrase)
        return f"{self.distinction}:{self.lean}({', '.join(seen[:n])})"


@dataclass
class Prediction:
    """pmtype's answer for one posting."""

    label: str | None
    p_technical: float | None
    status: str
    evidence: list[DistinctionEvidence] = field(default_factory=list)
    p_pm: float | None = None
    model_id: str | None = None

    def evidence_compact(self) -> str:
        return "; ".join(e.compact() for e in self.evidence)

    def as_dict(self) -> dict:
        return asdict(self)


STATUS_OK = "ok"
STATUS_UNCERTAIN = "uncertain"
STATUS_NOT_PM = "not a PM posting"
STATUS_EMPTY = "empty text"
STATUS_NOT_TEXT = "not text"


class PMTypeModel:
    """A fitted label pipeline, an optional scope check, and how to read them."""

    def __init__(self, label_pipeline: Pipeline, scope_pipeline: Pipeline | None,
                 band: float = config.UNCERTAIN_BAND, scope_threshold: float = config.SCOPE_THRESHOLD,
                 model_id: str = "unsaved"):
        self.label_pipeline = label_pipeline
        self.scope_pipeline = scope_pipeline
        self.band = band
        self.scope_threshold = scope_threshold
        self.model_id = model_id

    # -- the parts of the label pipeline, by name
    @property
    def _prepare(self) -> PreparePostings:
        return self.label_pipeline.named_steps["prepare"]

    def _coefficients(self) -> np.ndarray:
        calibrated = self.label_pipeline.named_steps["classifier"].calibrated_classifiers_[0]
        return calibrated.estimator.coef_[0]

    def article_weights(self) -> dict[str, float]:
        """The fitted weight of each article feature on the log-odds of ``technical``."""
        features = self.label_pipeline.named_steps["features"]
        scale = features.transformer_list[0][1].scale * features.transformer_weights["article"]
        coef = self._coefficients()[: len(ARTICLE_FEATURES)] * scale
        return dict(zip(ARTICLE_FEATURES, coef.tolist()))

    def predict(self, texts: Sequence[str], force: bool = False,
                band: float | None = None) -> list[Prediction]:
        """Predictions for posting texts (title over description, see ``posting_text``).

        Blank texts get status ``empty text`` and no label; texts the scope check
        calls out of product management get ``not a PM posting`` and no label
        unless ``force``.
        """
        band = self.band if band is None else band
        out: list[Prediction | None] = [None] * len(texts)
        keep = []
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                out[i] = Prediction(None, None, STATUS_NOT_TEXT, model_id=self.model_id)
            elif not t.strip():
                out[i] = Prediction(None, None, STATUS_EMPTY, model_id=self.model_id)
            else:
                keep.append(i)
        if not keep:
            return out  # type: ignore[return-value]
        kept_texts = [texts[i] for i in keep]
        p_pm = (self.scope_pipeline.predict_proba(kept_texts)[:, 1]
                if self.scope_pipeline is not None else np.full(len(keep), np.nan))
        prepared: list[Prepared] = self._prepare.transform(kept_texts)
        X = self.label_pipeline.named_steps["features"].transform(prepared)
        p_tech = self.label_pipeline.named_steps["classifier"].predict_proba(X)[:, 1]
        weights = self.article_weights()
        article = X[:, : len(ARTICLE_FEATURES)].toarray()
        for row, i in enumerate(keep):
            p = float(p_tech[row])
            pm = None if math.isnan(p_pm[row]) else float(p_pm[row])
            evidence = _evidence(prepared[row], article[row], weights)
            if pm is not None and pm < 1 - self.scope_threshold and not force:
                out[i] = Prediction(None, round(p, 4), STATUS_NOT_PM, evidence, round(pm, 4),
                                    self.model_id)
                continue
            status = STATUS_UNCERTAIN if abs(p - 0.5) < band else STATUS_OK
            label = "technical" if p >= 0.5 else "business"
            out[i] = Prediction(label, round(p, 4), status, evidence,
                                None if pm is None else round(pm, 4), self.model_id)
        return out  # type: ignore[return-value]


def _evidence(prepared: Prepared, article_row: np.ndarray,
              weights: dict[str, float]) -> list[DistinctionEvidence]:
    """Evidence by distinction; each distinction's lean is the sign of its push in the model."""
    titles = {d: spec.get("title", d) for d, spec in load_cue_lists().items()}
    out = []
    for d in DISTINCTIONS:
        push = 0.0
        for side in ("technical", "business"):
            name = f"{d}:{side}"
            push += weights[name] * article_row[ARTICLE_FEATURES.index(name)]
        phrases = [{"phrase": c.phrase, "side": c.side, "start": c.start, "end": c.end}
                   for c in prepared.cues if c.distinction == d]
        if not phrases or abs(push) < 1e-9:
            continue
        out.append(DistinctionEvidence(d, titles.get(d, d), "technical" if push > 0 else "business",
                                       round(abs(push), 4), phrases))
    out.sort(key=lambda e: -e.strength)
    return out


# --- training ---------------------------------------------------------------------


def normalise_label(value) -> str | None:
    """``technical``/``business``/``not_pm`` from a cell, forgiving case and spaces."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    v = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    aliases = {"tech": "technical", "technical": "technical", "business": "business",
               "biz": "business", "not_pm": "not_pm", "notpm": "not_pm", "non_pm": "not_pm",
               "out_of_scope": "not_pm"}
    return aliases.get(v, "?" if v else None)


def data_hash(texts: Sequence[str], labels: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for t, y in zip(texts, labels):
        digest.update(t.encode("utf-8", "replace"))
        digest.update(b"\x1f")
        digest.update(y.encode())
        digest.update(b"\x1e")
    return digest.hexdigest()


@dataclass
class TrainingSet:
    """Texts with labels, ready to train on: PM rows and, optionally, not-PM rows."""

    texts: list[str]
    labels: list[str]  # "technical" / "business" / "not_pm"
    sources: list[str]

    @property
    def pm_mask(self) -> np.ndarray:
        return np.array([y in ("technical", "business") for y in self.labels])


def fit_model(data: TrainingSet, seed: int = config.SEED, cv_folds: int = 5,
              progress: Callable[[str], None] | None = None, **pipeline_params) -> tuple[PMTypeModel, dict]:
    """Fit the label pipeline (and the scope check where there are not-PM rows).

    Returns the model and a report of cross-validated metrics on the PM rows.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from pmtype.evaluate import label_metrics

    say = progress or (lambda _m: None)
    texts = np.array(data.texts, dtype=object)
    labels = np.array(data.labels)
    pm = data.pm_mask
    pm_texts, pm_labels = texts[pm], labels[pm]
    counts = pd.Series(pm_labels).value_counts()
    if len(counts) < 2:
        raise BadTrainingData(
            f"training needs both labels, technical and business; found only {', '.join(counts.index) or 'none'}"
        )
    if counts.min() < cv_folds:
        raise BadTrainingData(
            f"training needs at least {cv_folds} postings of each label; found {counts.to_dict()}"
        )
    pipeline = build_label_pipeline(seed=seed, **pipeline_params)
    say(f"reading {len(pm_texts)} PM postings (spaCy cues)…")
    prepare = pipeline.named_steps["prepare"].fit(pm_texts)
    prepared = prepare.transform(pm_texts)
    rest = Pipeline(pipeline.steps[1:])
    say(f"cross-validating ({cv_folds} folds)…")
    folds = StratifiedKFold(cv_folds, shuffle=True, random_state=seed)
    y = (pm_labels == "technical").astype(int)
    oof = cross_val_predict(rest, np.array(prepared, dtype=object), y, cv=folds,
                            method="predict_proba")[:, 1]
    report = {"cross_validation": label_metrics(pm_labels.tolist(), oof.tolist(), intervals=False),
              "folds": cv_folds}
    say("fitting the final model…")
    rest.fit(np.array(prepared, dtype=object), y)
    label_pipeline = Pipeline([("prepare", prepare)] + rest.steps)
    scope = None
    not_pm = int((labels == "not_pm").sum())
    if not_pm >= cv_folds:
        say(f"fitting the scope check ({not_pm} not-PM postings)…")
        scope = build_scope_pipeline(seed).fit(list(texts), (labels != "not_pm").astype(int))
    model = PMTypeModel(label_pipeline, scope)
    return model, report


# --- the default model ------------------------------------------------------------


def default_model_path() -> Path:
    return config.models_dir() / config.DEFAULT_MODEL_NAME


def load_model(path: str | Path | None = None, build_if_missing: bool = True,
               progress: Callable[[str], None] | None = None) -> PMTypeModel:
    """Load a model folder; with no path, the default model, built from the seed corpus on first use."""
    if path is None:
        path = default_model_path()
        if not (Path(path) / persist.MANIFEST_FILE).exists():
            if not build_if_missing:
                raise ModelNotFound(f"no default model at {path}; build it with 'make model' or 'pmtype train'")
            from pmtype.training import build_default_model

            (progress or (lambda _m: None))(
                f"No default model yet: building it from the seed corpus into {path} (once)…")
            build_default_model(path, progress=progress)
    model, manifest = persist.load_model(Path(path))
    model.model_id = manifest.get("model_id", model.model_id)
    return model


def classify(text: str, title: str | None = None, model: PMTypeModel | str | Path | None = None,
             force: bool = False, progress: Callable[[str], None] | None = None) -> Prediction:
    """Classify one posting. Blank text raises ``EmptyText``.

    ``model`` is a loaded model, a model folder, or None for the default model
    (built on first use, with ``progress`` told so).
    """
    if text is None or not str(text).strip():
        raise EmptyText("the posting is empty")
    if not isinstance(model, PMTypeModel):
        model = load_model(model, progress=progress)
    return model.predict([posting_text(text, title)], force=force)[0]


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()
