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
import numbers
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.validation import check_is_fitted

from pmtype import config, persist
from pmtype import text as text_mod
from pmtype.config import DEFAULT_POINTER, LEGACY_POINTER, VERSION_NAME, is_version_name
from pmtype.cues import DISTINCTIONS, Cue, distinction_titles, load_cue_lists, load_not_cues
from pmtype.errors import BadOption, BadTrainingData, EmptyText, ModelNotFound, printable, system_reason
from pmtype.features import (
    ARTICLE_FEATURES,
    ArticleFeatures,
    CountingTfidfVectorizer,
    Prepared,
    PreparePostings,
    as_posting_list,
    fewer_gc_passes,
    not_english_share,
    posting_text,
    role_texts,
    role_words,
    split_words,
    text_kind,
)

# --- the pipelines ------------------------------------------------------------


def build_label_pipeline(seed: int = config.SEED, article_scale: float = 1.0,
                         ngram_weight: float = 1.0, C: float = 4.0, ngram_max: int = 1,
                         drop_boilerplate: bool = False) -> Pipeline:
    """The unfitted label pipeline.

    ``drop_boilerplate`` leaves company, benefits and legal text out of the
    features and evidence. It is off by default because on the real labelled
    postings it did not help (see benchmarks/RESULTS.md).
    """
    # Word unigrams: with bigrams too (ngram_max=2) the model scores about the same on the real
    # labelled postings and costs more to train and to predict (benchmarks/RESULTS.md, section 1).
    # The words come split and lower-cased from the text step (the split the cues use). The steps
    # keep the names make_pipeline gave them with scikit-learn's own vectorizer.
    ngrams = Pipeline([
        ("functiontransformer", FunctionTransformer(role_words)),
        ("tfidfvectorizer", CountingTfidfVectorizer(tokenizer=split_words, token_pattern=None, lowercase=False,
                                                    ngram_range=(1, ngram_max), min_df=2, max_df=0.9,
                                                    sublinear_tf=True, max_features=200_000, dtype=np.float32)),
    ])
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
#: Words of product-management work, counted in a posting's body (plain substrings: fast).
_PM_DUTIES = ("roadmap", "product vision", "user stor", "backlog", "product requirement", "prd",
              "prioriti", "product strategy", "product discovery", "product lifecycle",
              "feature request", "go-to-market", "launch", "product decision")


def _names_pm_role(title: str) -> bool:
    """Whether a title names a product-management role. The role a title names comes first:
    "Product Manager, Project Management Software" is one, "Program Manager, Product" and
    "Product Marketing Manager" are not."""
    pm = _PM_TITLE.search(title)
    if pm is None:
        return False
    other = _NOT_PM_PRODUCT.search(title)
    return other is None or other.start() > pm.start()


def _duty_signals(body: str) -> list[float]:
    """How much of a lower-cased body is product-management work: log(1 + duty words), and
    that per length (both scope models read these)."""
    duties = np.log1p(sum(body.count(word) for word in _PM_DUTIES))
    return [duties, duties / np.log1p(max(len(body), 1) / 500 + 1)]


def _scope_signals(texts) -> np.ndarray:
    """Title and duty signals of a product-management posting (dense, few columns)."""
    rows = []
    for t in texts:
        title = t[: t.find("\n")] if "\n" in t[:200] else t[:200]
        pm_title = _names_pm_role(title)
        other_title = not pm_title and bool(_OTHER_TITLE.search(title) or _NOT_PM_PRODUCT.search(title))
        rows.append([1.0 if pm_title else 0.0, 1.0 if other_title else 0.0, *_duty_signals(t[:6000].lower())])
    return np.asarray(rows)


#: Words naming a role, one of which a job title holds ("Senior Data Engineer", "Head of Product").
_ROLE_WORD = re.compile(
    r"\b(manager|mgr|owner|lead|leader|director|head|vp|vice president|president|chief|officer|engineer|"
    r"developer|programmer|designer|analyst|scientist|architect|consultant|specialist|representative|rep|"
    r"coordinator|associate|assistant|intern|internship|executive|administrator|technician|accountant|"
    r"recruiter|teacher|tutor|instructor|nurse|strategist|advisor|adviser|agent|writer|editor|researcher|"
    r"pm|tpm|apm|product|supervisor|clerk|cashier|driver|operator|partner|principal|fellow|trainee|"
    r"apprentice|staff)\b",
    re.I,
)


#: Abbreviations a job title may hold, whose full stop ends no sentence: "Sr. Product Manager",
#: "Product Manager, U.S. Payments".
_TITLE_ABBREVIATION = re.compile(
    r"\b(?:sr|snr|jr|jnr|mgr|dir|assoc|asst|exec|eng|engr|sen|prin|coord|admin|mktg|mgmt|dept|intl|corp|inc|ltd)\.|"
    r"\b(?:[a-z]\.){2,}", re.I)


def _without_abbreviations(line: str) -> str:
    """``line`` with the full stops of ``_TITLE_ABBREVIATION``'s abbreviations taken out."""
    return _TITLE_ABBREVIATION.sub(lambda m: m.group().replace(".", ""), line) if "." in line else line


def looks_like_title(line: str) -> bool:
    """Whether a posting's first line reads as a job title: a few words, not a sentence, naming a role.

    ``posting_text`` puts a given title there; a posting pasted without one starts
    with whatever its body starts with ("About the job", "**Minimum qualifications:**").
    """
    line = _without_abbreviations(line.strip().strip("*#").strip())
    words = line.split()
    if not 1 <= len(words) <= 16 or len(line) > 150:
        return False
    if re.search(r"[.!?:]\s*$|[.!?]\s+\w", line):
        return False
    return bool(_ROLE_WORD.search(line))


_FIRST_SENTENCE = re.compile(r"(?<=[.!?])\s")


def starts_with_title(text: str) -> bool:
    """Whether a posting starts with its title: its first line reads as one, or, where the
    first line is a paragraph ("Product Manager, Payments. You will…"), its first sentence."""
    first = text.split("\n", 1)[0]
    if looks_like_title(first):
        return True
    first = _without_abbreviations(first)  # "Sr. Product Manager, Payments. You will…"
    sentence = _FIRST_SENTENCE.split(first[:200], 1)[0].rstrip(".!? ")
    return sentence != first.strip() and looks_like_title(sentence)


def _has_title(texts) -> np.ndarray:
    return np.fromiter((starts_with_title(t) for t in texts), dtype=bool, count=len(texts))


def _without_title(text: str) -> str:
    """``text`` after its first line where that line reads as a job title, else all of it."""
    first, _, rest = text.partition("\n")
    return rest if rest and looks_like_title(first) else text


#: How much of a posting the body-only scope check reads.
_SCOPE_BODY_CHARS = 12_000


def _scope_body(texts):
    return [t[:_SCOPE_BODY_CHARS] for t in texts]


def _body_signals(texts) -> np.ndarray:
    """Product-management work and roles named in the body (dense, few columns)."""
    rows = []
    for t in texts:
        body = t[:_SCOPE_BODY_CHARS].lower()
        rows.append([*_duty_signals(body), np.log1p(body.count("product manag")),
                     np.log1p(body.count("product owner"))])
    return np.asarray(rows).reshape(len(rows), 4)


def build_title_scope(seed: int = config.SEED) -> Pipeline:
    """The scope check of a posting that starts with its title.

    Its evidence is the title (its words, and whether it names a product-management
    role or another one) and how much of the body is product-management work
    (roadmap, backlog, user stories, prioritising…). The body's words were tried
    too and added nothing on the real postings, at a quarter of the labelling time.
    """
    title = make_pipeline(FunctionTransformer(_scope_title),
                          CountingTfidfVectorizer(ngram_range=(1, 3), sublinear_tf=True, lowercase=True))
    signals = FunctionTransformer(_scope_signals)
    return Pipeline([
        ("features", FeatureUnion([("title", title), ("signals", signals)],
                                  transformer_weights={"title": 1.0, "signals": 2.0})),
        ("classifier", LogisticRegression(C=8.0, max_iter=2000, class_weight="balanced",
                                          random_state=seed)),
    ])


def build_body_scope(seed: int = config.SEED) -> Pipeline:
    """The scope check of a posting without a title: the body's words and the signals of
    product-management work and roles in it. Without those signals the words alone let
    most real non-PM postings through."""
    words = make_pipeline(FunctionTransformer(_scope_body),
                          CountingTfidfVectorizer(sublinear_tf=True, min_df=2, dtype=np.float32))
    return Pipeline([
        ("features", FeatureUnion([("words", words), ("signals", FunctionTransformer(_body_signals))])),
        ("classifier", LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced",
                                          random_state=seed)),
    ])


def _scope_texts(X) -> list[str]:
    """Postings as the scope check reads them: normalised, as far as the label pipeline reads them."""
    return [text_mod.normalise(str(t)[: config.MAX_CHARS]) for t in as_posting_list(X)]


class ScopeCheck(ClassifierMixin, BaseEstimator):
    """Is a text a product-management posting at all? (1: yes, 0: no)

    A posting that starts with its title (``starts_with_title``) is judged
    by the title model, which leans on that title; any other by the body model,
    fitted on the same postings with their titles taken off. Without this, a posting
    pasted without its title was judged by whatever its first line said, and nine in
    ten real PM postings were called not-PM.

    It reads each posting as the label pipeline does, normalised (``text.normalise``): a title
    in markup ("<h2>Product Manager</h2><p>…", all on one line) or ended by a vertical tab is
    the posting's first line all the same.

    Parameters
    ----------
    seed : int
        The classifiers' random state.
    """

    def __init__(self, seed=config.SEED):
        self.seed = seed

    def fit(self, X, y):
        texts = _scope_texts(X)
        y = np.asarray(y)
        self.title_model_ = build_title_scope(self.seed).fit(texts, y)
        self.body_model_ = build_body_scope(self.seed).fit([_without_title(t) for t in texts], y)
        self.classes_ = self.title_model_.classes_
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "classes_")
        return self.proba_of_normalised(_scope_texts(X))

    def proba_of_normalised(self, texts: list[str]) -> np.ndarray:
        """``predict_proba`` of texts already normalised as the scope check reads them (each
        ``text.normalise(t[:config.MAX_CHARS])``): the label pipeline's text step has done it once."""
        check_is_fitted(self, "classes_")
        titled = _has_title(texts)
        proba = np.zeros((len(texts), len(self.classes_)))
        for model, rows in ((self.title_model_, np.flatnonzero(titled)),
                            (self.body_model_, np.flatnonzero(~titled))):
            if len(rows):
                proba[rows] = model.predict_proba([texts[i] for i in rows])
        return proba

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self, "classes_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def build_scope_pipeline(seed: int = config.SEED) -> ScopeCheck:
    """The unfitted scope check (``ScopeCheck``)."""
    return ScopeCheck(seed=seed)


# --- predictions -----------------------------------------------------------------


def _compact_phrase(phrase: str) -> str:
    """A phrase as the compact evidence lists it: in double quotes (its own doubled) where it holds what
    separates phrases or distinctions there (``"degree in computer science, engineering"``)."""
    return f'"{phrase.replace(chr(34), chr(34) * 2)}"' if set(phrase) & set(',;()"') else phrase


@dataclass
class DistinctionEvidence:
    """What one distinction says about a posting."""

    distinction: str
    title: str
    lean: str  # "technical" or "business"
    strength: float  # its push on the log-odds of "technical" (that p_technical gives), absolute
    phrases: list[dict] = field(default_factory=list)  # {"phrase", "side", "start", "end"}

    def compact(self, n: int = 4) -> str:
        seen: list[str] = []  # the first n phrases on the lean's side, each once whatever its case
        lowered: set[str] = set()
        for p in self.phrases:
            if p["side"] == self.lean and (key := p["phrase"].lower()) not in lowered:
                lowered.add(key)
                seen.append(p["phrase"])
                if len(seen) == n:
                    break
        # A distinction can lean one way on the strength of the model's weights alone
        # (say, few phrases of the other side weighed lightly): then no phrases are listed.
        return f"{self.distinction}:{self.lean}" + (f"({', '.join(map(_compact_phrase, seen[:n]))})" if seen else "")


@dataclass
class Prediction:
    """pmtype's answer for one posting."""

    label: str | None
    p_technical: float | None
    status: str
    evidence: list[DistinctionEvidence] = field(default_factory=list)
    p_pm: float | None = None
    model_id: str | None = None
    #: The posting as pmtype read it (the title, a blank line, the body with markup removed and
    #: white space tidied): the evidence's ``start``/``end`` offsets point into this text.
    text: str | None = None

    def evidence_compact(self) -> str:
        return "; ".join(e.compact() for e in self.evidence)

    def as_dict(self) -> dict:
        return asdict(self)


STATUS_OK = "ok"
STATUS_UNCERTAIN = "uncertain"
STATUS_NOT_PM = "not a PM posting"
STATUS_NOT_ENGLISH = "not English"
STATUS_EMPTY = "empty text"
STATUS_NOT_TEXT = "not text"


class PMTypeModel:
    """A fitted label pipeline, an optional scope check, and how to read them.

    ``english_only``: postings in another language get ``not English`` and no label
    (unless forced). False for a model trained on enough postings in other languages
    (``config.OTHER_LANGUAGES_SHARE``), whose word n-grams have learned them.
    """

    english_only = True  # models saved before there was a choice read English only

    def __init__(self, label_pipeline: Pipeline, scope_pipeline: ScopeCheck | Pipeline | None,
                 band: float = config.UNCERTAIN_BAND, scope_threshold: float = config.SCOPE_THRESHOLD,
                 model_id: str = "unsaved", english_only: bool = True):
        self.label_pipeline = label_pipeline
        self.scope_pipeline = scope_pipeline
        self.band = band
        self.scope_threshold = scope_threshold
        self.model_id = model_id
        self.english_only = english_only

    # -- the parts of the label pipeline, by name
    @property
    def _prepare(self) -> PreparePostings:
        return self.label_pipeline.named_steps["prepare"]

    def _coefficients(self) -> np.ndarray:
        """The classifier's weights on the log-odds that ``p_technical`` gives: the logistic regression's,
        times the slope of the sigmoid calibration over its output (its intercept moves no weight)."""
        calibrated = self.label_pipeline.named_steps["classifier"].calibrated_classifiers_[0]
        calibrator = calibrated.calibrators[0]
        slope = -float(calibrator.a_) if hasattr(calibrator, "a_") else 1.0  # p = 1 / (1 + exp(a·f + b))
        return calibrated.estimator.coef_[0] * slope

    def _article_scale(self) -> float:
        """What the article columns are multiplied by in the features (the transformer's scale, its weight)."""
        features = self.label_pipeline.named_steps["features"]
        return features.transformer_list[0][1].scale * (features.transformer_weights or {}).get("article", 1.0)

    def article_weights(self) -> dict[str, float]:
        """The fitted weight of each article feature (``ArticleFeatures``: log(1 + a distinction's cues on
        one side per so many words)) on the log-odds of ``technical`` that ``p_technical`` gives,
        calibration and all."""
        coef = self._coefficients()[: len(ARTICLE_FEATURES)] * self._article_scale()
        return dict(zip(ARTICLE_FEATURES, coef.tolist()))

    def ngram_weights(self) -> dict[str, float]:
        """The fitted weight of each word n-gram's TF-IDF column on the same log-odds as ``article_weights``."""
        features = self.label_pipeline.named_steps["features"]
        tfidf = features.transformer_list[1][1].steps[-1][1]
        weight = (features.transformer_weights or {}).get("ngrams", 1.0)
        coef = self._coefficients()[len(ARTICLE_FEATURES):] * weight
        return dict(zip(tfidf.get_feature_names_out().tolist(), coef.tolist()))

    def predict(self, texts: Sequence[str], force: bool = False,
                band: float | None = None) -> list[Prediction]:
        """Predictions for posting texts (title over description, see ``posting_text``).

        Texts ``text_kind`` calls empty (None, NaN, blanks, ``N/A``, markup alone) get the
        status ``empty text``, and those it calls no text (a number, ``12345``, ``1e5``) ``not
        text``, as ``label`` marks such cells, neither a label, even with ``force``; texts in another language
        get ``not English``, and texts the scope check calls out of product management
        get ``not a PM posting``, both with no label unless ``force``.
        """
        texts = as_posting_list(texts)  # a Series with any index, a generator; not one string
        band = self.band if band is None else band
        if isinstance(band, bool) or not isinstance(band, numbers.Real) or not 0 <= band <= 0.5:
            raise BadOption(f"band must be a number from 0 to 0.5; got {band!r}")
        if not isinstance(force, (bool, np.bool_)):  # "no" would be true
            raise BadOption(f"force must be True or False; got {force!r}")
        with fewer_gc_passes():  # the text step's and the evidence's many small objects
            return self._predict(texts, force, band)

    def _predict(self, texts: Sequence[str], force: bool, band: float) -> list[Prediction]:
        out: list[Prediction | None] = [None] * len(texts)
        keep = []
        for i, t in enumerate(texts):
            kind = text_kind(t)
            if kind != "text":
                out[i] = Prediction(None, None, STATUS_EMPTY if kind == "empty" else STATUS_NOT_TEXT,
                                    model_id=self.model_id)
            else:
                keep.append(i)
        if not keep:
            return out  # type: ignore[return-value]
        kept_texts = [texts[i] for i in keep]
        prepared: list[Prepared] = self._prepare.transform(kept_texts)
        if self.scope_pipeline is None:
            p_pm = np.full(len(keep), np.nan)
        elif isinstance(self.scope_pipeline, ScopeCheck) and self._prepare.max_chars == config.MAX_CHARS:
            # the text step read each posting as the scope check reads it: normalise once, not twice
            p_pm = self.scope_pipeline.proba_of_normalised([p.text for p in prepared])[:, 1]
        else:
            p_pm = self.scope_pipeline.predict_proba(kept_texts)[:, 1]
        X = self.label_pipeline.named_steps["features"].transform(prepared)
        p_tech = self.label_pipeline.named_steps["classifier"].predict_proba(X)[:, 1]
        weights = self.article_weights()
        article = X[:, : len(ARTICLE_FEATURES)].toarray() / (self._article_scale() or 1.0)  # log(1 + cues per N words)
        for row, i in enumerate(keep):
            if not any(ch.isalpha() for ch in prepared[row].text):  # markup alone, or no letter
                out[i] = Prediction(None, None, STATUS_NOT_TEXT if prepared[row].text.strip() else STATUS_EMPTY,
                                    model_id=self.model_id)
                continue
            # rounded first, as a Prediction gives them: the label, the status and the scope check are
            # decided on the probabilities shown, which evaluate, compare and label's table read
            p = round(float(p_tech[row]), 4)
            pm = None if math.isnan(p_pm[row]) else round(float(p_pm[row]), 4)
            evidence = _evidence(prepared[row], article[row], weights)
            withheld = None
            if not force and self.english_only and not prepared[row].english:  # first: so does the scope check
                withheld = STATUS_NOT_ENGLISH
            elif not force and pm is not None and pm < 1 - self.scope_threshold:
                withheld = STATUS_NOT_PM
            if withheld:
                out[i] = Prediction(None, p, withheld, evidence, pm, self.model_id, prepared[row].text)
                continue
            status = STATUS_UNCERTAIN if abs(p - 0.5) < band else STATUS_OK
            label = "technical" if p >= 0.5 else "business"
            out[i] = Prediction(label, p, status, evidence, pm, self.model_id, prepared[row].text)
        for i in keep:  # read only up to the text step's limit, as label and classify say
            if len(texts[i]) > self._prepare.max_chars:
                out[i].status += truncation_note(self._prepare.max_chars)  # type: ignore[union-attr]
        return out  # type: ignore[return-value]


def _evidence(prepared: Prepared, article_row: np.ndarray,
              weights: dict[str, float]) -> list[DistinctionEvidence]:
    """Evidence by distinction; each distinction's lean is the sign of its push in the model."""
    titles = distinction_titles()
    found: dict[str, list[dict]] = {}
    for c in prepared.cues:  # by distinction, in text order
        found.setdefault(c.distinction, []).append({"phrase": c.phrase, "side": c.side, "start": c.start, "end": c.end})
    out = []
    for d in DISTINCTIONS:
        phrases = found.get(d)
        if not phrases:
            continue
        push = 0.0
        for side in ("technical", "business"):
            name = f"{d}:{side}"
            push += weights[name] * article_row[ARTICLE_FEATURES.index(name)]
        if abs(push) < 1e-9:
            continue
        out.append(DistinctionEvidence(d, titles.get(d, d), "technical" if push > 0 else "business",
                                       round(float(abs(push)), 4), phrases))
    out.sort(key=lambda e: -e.strength)
    return out


# --- training ---------------------------------------------------------------------


#: What may stand between a label's words: spaces of any kind and number, hyphens, underscores.
_LABEL_SEPARATORS = re.compile(r"[\s_-]+")


def normalise_label(value) -> str | None:
    """``technical``/``business``/``not_pm`` from a cell, forgiving case and spaces; None for no
    label: a cell ``text_kind`` calls empty (a missing value of any kind, blank text, or a
    missing-value marker such as ``N/A``, ``null``, ``NaN`` or ``None``)."""
    if text_kind(value) == "empty":
        return None
    v = _LABEL_SEPARATORS.sub("_", str(value).strip().lower())  # "Not PM", "not-pm", "not  pm", "not\u00a0pm"
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
    #: Each text's row number in its file (``tables.read_numbered_table``), where known.
    rows: list[int] = field(default_factory=list)
    #: The columns of the one table the rows were read from ({"text": …, "title": … or None, "label": …}),
    #: where they were read from one (``training.read_labelled``).
    columns: dict[str, str | None] = field(default_factory=dict)

    @property
    def pm_mask(self) -> np.ndarray:
        return np.array([y in ("technical", "business") for y in self.labels], dtype=bool)

    def pm_only(self) -> tuple[TrainingSet, int]:
        """The technical and business rows only, and how many not-PM rows were left out."""
        keep = [i for i, y in enumerate(self.labels) if y in ("technical", "business")]
        subset = TrainingSet([self.texts[i] for i in keep], [self.labels[i] for i in keep],
                             [self.sources[i] for i in keep],
                             [self.rows[i] for i in keep] if self.rows else [])
        return subset, len(self.labels) - len(keep)


#: Below this many postings, training runs in this process (worker start-up costs more than it saves).
PARALLEL_FROM_ROWS = 2000


@dataclass
class CrossFit:
    """A label pipeline fitted on every PM posting, and each posting's out-of-fold probability.

    ``p_out_of_fold[i]`` is P(technical) for posting ``i`` from the fold model that did
    not see it: the basis of the cross-validated report and of ``check_labels``.
    """

    label_pipeline: Pipeline
    p_out_of_fold: np.ndarray
    labels: np.ndarray  # "technical" / "business", in the order given
    scope_pipeline: ScopeCheck | Pipeline | None = None


def _single_blas_thread(fn, *args):
    # L-BFGS on ~10^5 coefficients makes many tiny BLAS calls; letting OpenBLAS
    # spread them over threads made each fit about 8x slower on a 2-core machine.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        return fn(*args)


def _fit_fold(rest: Pipeline, X: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray):
    from sklearn.base import clone

    fitted = clone(rest).fit(X[train], y[train])
    return test, fitted.predict_proba(X[test])[:, 1]


def _fit_rest(rest: Pipeline, X: np.ndarray, y: np.ndarray) -> Pipeline:
    from sklearn.base import clone

    return clone(rest).fit(X, y)


def _fit_scope(seed: int, texts: list[str], is_pm: np.ndarray) -> ScopeCheck:
    return build_scope_pipeline(seed).fit(texts, is_pm)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity: a container's or ``taskset``'s limit), else
    the machine's."""
    import os

    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # no affinity on this system (macOS, Windows)
        return os.cpu_count() or 1


def jobs_for(n_rows: int, jobs: int | None) -> int:
    """The number of processes for ``n_rows`` postings: ``jobs``, 0 for every core, None for every core
    from ``PARALLEL_FROM_ROWS`` postings (one below); never more than the machine's cores, as each
    process holds a model and more than one a core only share the same cores. A negative number is a
    :class:`BadOption`."""
    import os

    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, numbers.Integral)):
        raise TypeError(f"jobs must be a whole number or None, not {type(jobs).__name__}")
    jobs = None if jobs is None else int(jobs)
    if jobs is not None and jobs < 0:
        raise BadOption("--jobs must be at least 0 (0: all cores)")
    cores = usable_cores()
    if jobs is None:
        return 1 if n_rows < PARALLEL_FROM_ROWS else cores
    return min(jobs, cores) if jobs > 0 else cores


def check_seed(seed) -> int:
    """The random seed to train with: ``seed``, or ``config.SEED`` for None. None is scikit-learn's
    "not fixed", but pmtype's training stays reproducible: None is the default seed, never a random
    one. A :class:`BadOption` unless ``seed`` is None or a whole number (not a bool) from 0 to
    2**32 - 1, as numpy and scikit-learn take it: checked before any file is read."""
    if seed is None:
        return config.SEED
    whole = isinstance(seed, numbers.Integral) and not isinstance(seed, bool)
    if not whole or not 0 <= seed < 2**32:
        raise BadOption(f"seed must be a whole number from 0 to {2**32 - 1}, not "
                        + (str(int(seed)) if whole else f"a {type(seed).__name__}"))
    return seed


#: The folder, in the models directory, of the cue cache (hidden: it is not a model version).
CUE_CACHE_DIR = ".cache"


def cue_cache_dir() -> Path:
    return config.models_dir() / CUE_CACHE_DIR


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _lookups_version() -> str:
    """The version of spacy-lookups-data, whose lemma table gives the cues' inflections."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("spacy-lookups-data")
    except PackageNotFoundError:
        return "none"


class _CueCache:
    """The cues of postings read before, so that retraining reads (spaCy) only new postings.

    One gzip JSON Lines file per version of the reading code, cue lists and settings;
    each line holds the SHA-256 of a normalised posting and its cues. JSON, not a
    pickle: loading it runs no code. A damaged file is read up to the damage.
    """

    def __init__(self, path: Path, entries: dict[str, list[Cue]], damaged: bool = False):
        self.path = path
        self.entries = entries
        self.damaged = damaged

    @staticmethod
    def fingerprint(prepare: PreparePostings) -> str:
        import json

        import spacy

        from pmtype import __version__
        from pmtype import cues as cues_mod
        from pmtype import features as features_mod
        from pmtype import text as text_mod

        digest = hashlib.sha256()
        for module in (text_mod, cues_mod, features_mod):
            digest.update(Path(module.__file__).read_bytes())
        digest.update(json.dumps(load_cue_lists(prepare.cue_path), sort_keys=True).encode())
        digest.update(json.dumps(load_not_cues(prepare.cue_path)).encode())  # they hide cues too
        digest.update(f"{__version__}|{spacy.__version__}|{prepare.drop_boilerplate}|{prepare.max_chars}".encode())
        digest.update(f"|lookups {_lookups_version()}".encode())  # the lemma table cues' inflections come from
        return digest.hexdigest()[:16]

    @classmethod
    def open(cls, folder: Path, prepare: PreparePostings) -> _CueCache:
        import gzip
        import json
        import zlib

        path = Path(folder) / f"cues-{cls.fingerprint(prepare)}.jsonl.gz"
        entries: dict[str, list[Cue]] = {}
        damaged = False
        if path.is_file():
            try:
                with gzip.open(path, "rt", encoding="utf-8") as f:
                    for line in f:
                        row = json.loads(line)
                        entries[row["k"]] = [Cue(*c) for c in row["c"]]
            except (OSError, EOFError, ValueError, KeyError, TypeError, zlib.error):
                damaged = True  # a write cut short: keep what was read, rewrite on the next add
        return cls(path, entries, damaged)

    def add(self, new: dict[str, list[Cue]]) -> None:
        """Append entries (one gzip member per call; a crash leaves a readable prefix).

        A damaged file is written afresh instead, atomically, with every entry.
        """
        import gzip
        import json
        import os
        import tempfile

        if not new:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for stale in self.path.parent.glob("cues-*.jsonl.gz"):
            if stale != self.path:
                stale.unlink(missing_ok=True)  # written by another version: never read again
        self.entries.update(new)
        rows = self.entries if self.damaged else new
        lines = "".join(json.dumps({"k": k, "c": [[c.distinction, c.side, c.phrase, c.start, c.end] for c in cues]})
                        + "\n" for k, cues in rows.items())
        data = gzip.compress(lines.encode("utf-8"), compresslevel=3)
        if self.damaged:
            # named like every temporary write (persist.TEMPORARY_NAME), so that
            # registry.remove_unfinished sweeps it if this process is killed here
            fd, tmp = tempfile.mkstemp(prefix=persist.temporary_prefix(self.path.name), suffix=".tmp",
                                       dir=self.path.parent)
            os.fchmod(fd, persist.usual_mode())
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, self.path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            self.damaged = False
        else:
            with open(self.path, "ab") as f:
                f.write(data)


class _KnownCues:
    """A ``CueFinder`` stand-in that answers from known cues and asks the real finder about the rest."""

    def __init__(self, finder, known: dict[str, list[Cue]]):
        self.finder = finder
        self.known = known

    def find_in_sentences(self, texts, sentences, words=None):
        keys = [_text_key(t) for t in texts]
        missing = [i for i, k in enumerate(keys) if k not in self.known]
        out = [self.known.get(k) for k in keys]
        if missing:
            found = self.finder.find_in_sentences([texts[i] for i in missing], [sentences[i] for i in missing],
                                                  None if words is None else [words[i] for i in missing])
            for i, cues in zip(missing, found):
                out[i] = cues
        return out


def _transform_knowing(prepare: PreparePostings, texts, known: dict[str, list[Cue]]) -> list[Prepared]:
    """``prepare.transform(texts)``, with the cues of known texts taken from ``known``."""
    finder = prepare.finder_
    prepare.finder_ = _KnownCues(finder, known)
    try:
        return prepare.transform(texts)
    finally:
        prepare.finder_ = finder


def _prepare_all(prepare: PreparePostings, texts: np.ndarray, jobs: int, parallel,
                 cue_cache: Path | None, say: Callable[[str], None]) -> list[Prepared]:
    """Every posting prepared (text step and spaCy cues): in ``jobs`` processes, known cues from the cache."""
    from joblib import delayed

    from pmtype import text as text_mod

    cache = _CueCache.open(cue_cache, prepare) if cue_cache is not None else None
    known = cache.entries if cache is not None else {}
    keys = ([_text_key(text_mod.normalise(str(t)[: prepare.max_chars])) for t in texts]
            if cache is not None else [None] * len(texts))
    unknown = sum(k not in known for k in keys)
    if cache is not None:
        say(f"reading {len(texts)} PM postings (spaCy cues; {len(texts) - unknown} known from before)…")
    else:
        say(f"reading {len(texts)} PM postings (spaCy cues)…")
    if jobs > 1 and unknown >= PARALLEL_FROM_ROWS:
        parts = np.array_split(np.arange(len(texts)), jobs)
        prepared = [p for part in parallel(
            delayed(_transform_knowing)(prepare, texts[idx], {keys[i]: known[keys[i]] for i in idx if keys[i] in known})
            for idx in parts) for p in part]
    else:
        prepared = _transform_knowing(prepare, texts, known)
    if cache is not None:
        try:
            cache.add({k: p.cues for k, p in zip(keys, prepared) if k is not None and k not in known})
        except OSError as e:  # a read-only models folder, a full disk: the cache only saves time
            say(f"cues not cached ({printable(cache.path.parent)}: {system_reason(e)})")
    return prepared


def _kept_terms(counts, min_df, max_df, max_features) -> np.ndarray:
    """The columns a ``CountVectorizer`` fitted on these rows keeps (``_limit_features``, as in scikit-learn)."""
    import numbers

    n_doc = counts.shape[0]
    high = max_df if isinstance(max_df, numbers.Integral) else max_df * n_doc
    low = min_df if isinstance(min_df, numbers.Integral) else min_df * n_doc
    if high < low:
        raise ValueError("max_df corresponds to < documents than min_df")
    dfs = np.bincount(counts.indices, minlength=counts.shape[1])
    mask = (dfs <= high) & (dfs >= low)
    if max_features is not None and mask.sum() > max_features:
        tfs = np.asarray(counts.sum(axis=0)).ravel()
        best = (-tfs[mask]).argsort()[:max_features]
        limited = np.zeros(len(dfs), dtype=bool)
        limited[np.where(mask)[0][best]] = True
        mask = limited
    kept = np.where(mask)[0]
    if not len(kept):
        raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
    return kept


class _SharedNgrams:
    """Every posting's word n-gram counts, counted once for all the folds.

    Tokenising is most of the cost of fitting a fold. For the pipeline that
    ``build_label_pipeline`` makes (article features and word n-gram TF-IDF in a
    ``FeatureUnion``, then the classifier), a fold's features are cut from these counts
    as the pipeline's own ``TfidfVectorizer`` would compute them on that fold: the
    vocabulary from the fold's training rows (document-frequency limits, then
    ``max_features``), TF-IDF weights fitted on them. ``plan`` returns None for a
    pipeline of any other shape, which is then fitted fold by fold as it is.
    """

    def __init__(self, article, counts, weights: tuple, vectorizer):
        self.article = article
        self.counts = counts
        self.weights = weights
        self.vectorizer = vectorizer

    @classmethod
    def plan(cls, rest: Pipeline, X: np.ndarray) -> _SharedNgrams | None:
        from sklearn.base import clone
        from sklearn.feature_extraction.text import CountVectorizer

        features = rest.named_steps.get("features")
        if not isinstance(features, FeatureUnion) or [n for n, _ in features.transformer_list] != ["article", "ngrams"]:
            return None
        article, ngrams = (t for _, t in features.transformer_list)
        if type(article) is not ArticleFeatures or not isinstance(ngrams, Pipeline) or len(ngrams.steps) != 2:
            return None
        select, vectorizer = (t for _, t in ngrams.steps)
        if (type(select) is not FunctionTransformer or select.func not in (role_words, role_texts)
                or select.kw_args or type(vectorizer) not in (TfidfVectorizer, CountingTfidfVectorizer)
                or vectorizer.vocabulary is not None
                or vectorizer.input != "content" or not vectorizer.min_df > 0):
            return None
        weights = tuple((features.transformer_weights or {}).get(n) for n in ("article", "ngrams"))
        count_params = {k: v for k, v in vectorizer.get_params().items() if k in CountVectorizer().get_params()}
        count_params.update(min_df=1, max_df=1.0, max_features=None)
        counts = CountVectorizer(**count_params).fit_transform(select.func(X))
        return cls(clone(article).fit(X).transform(X), counts, weights, vectorizer)

    def fold_features(self, train: np.ndarray, test: np.ndarray):
        import scipy.sparse as sp
        from sklearn.feature_extraction.text import TfidfTransformer

        v = self.vectorizer
        counts = self.counts[train]
        kept = _kept_terms(counts, v.min_df, v.max_df, v.max_features)
        tfidf = TfidfTransformer(norm=v.norm, use_idf=v.use_idf, smooth_idf=v.smooth_idf,
                                 sublinear_tf=v.sublinear_tf).fit(counts[:, kept])

        def stack(rows, rows_counts):
            parts = [self.article[rows], tfidf.transform(rows_counts[:, kept])]
            return sp.hstack([p if w is None else p * w for p, w in zip(parts, self.weights)]).tocsr()

        return stack(train, counts), stack(test, self.counts[test])


def _fit_fold_shared(shared: _SharedNgrams, classifier, y: np.ndarray, train: np.ndarray, test: np.ndarray):
    from sklearn.base import clone

    X_train, X_test = shared.fold_features(train, test)
    fitted = clone(classifier).fit(X_train, y[train])
    return test, fitted.predict_proba(X_test)[:, 1]


def cross_fit(texts: Sequence[str], labels: Sequence[str], seed: int = config.SEED,
              cv_folds: int = config.CV_FOLDS, scope: tuple[list[str], np.ndarray] | None = None,
              jobs: int | None = None, progress: Callable[[str], None] | None = None,
              shared_counts: bool = True, cue_cache: Path | None = None,
              train_only: tuple[Sequence[str], Sequence[str]] | None = None,
              **pipeline_params) -> CrossFit:
    """Cross-validate the label pipeline on PM postings and fit it on all of them, in one pass.

    ``labels`` are ``technical``/``business``. The postings are read (spaCy cues)
    once; then the ``cv_folds`` fold models, the final model and, if ``scope``
    (texts and their is-a-PM-posting flags) is given, the scope check are fitted as
    separate tasks in ``jobs`` processes (None: one below ``PARALLEL_FROM_ROWS``
    postings, else every core). The result is the same for any ``jobs``. With
    ``shared_counts`` the folds' word n-grams are counted once (``_SharedNgrams``);
    the folds' features, and so the out-of-fold probabilities, are the same either way.
    With ``cue_cache`` (a folder), postings read before are not read again (``_CueCache``).

    ``train_only`` (texts and their ``technical``/``business`` labels) are postings in
    the training part of every fold and in the final model that get no out-of-fold
    probability: the folds split ``texts`` only, and ``p_out_of_fold`` and ``labels``
    of the result cover ``texts`` only, in their order. The least number of postings
    of each label then counts them too; ``texts`` need only one per fold, and the
    folds are stratified by label where each label has a posting for every fold.
    """
    from joblib import Parallel, delayed
    from sklearn.model_selection import KFold, StratifiedKFold

    say = progress or (lambda _m: None)
    if isinstance(cv_folds, bool) or not isinstance(cv_folds, numbers.Integral):
        raise BadTrainingData(f"cross-validation needs a whole number of folds; asked for {cv_folds!r}")
    cv_folds = int(cv_folds)  # a numpy integer too
    if cv_folds < 2:
        raise BadTrainingData(f"cross-validation needs at least 2 folds; asked for {cv_folds}")
    texts = np.array(list(texts), dtype=object)
    labels = np.array(list(labels))
    extra_texts, extra_labels = train_only if train_only is not None else ([], [])
    jobs = jobs_for(len(texts) + len(extra_texts), jobs)  # a wrong number fails before the data are checked
    mine = pd.Series(labels).value_counts()
    counts = pd.Series([*labels, *extra_labels]).value_counts()
    if len(counts) < 2:
        raise BadTrainingData(
            "training needs both labels, technical and business; "
            + (f"found only {counts.index[0]}" if len(counts) else "found no technical or business rows")
        )
    pipeline = build_label_pipeline(seed=seed, **pipeline_params)
    # Each fold's training part must still hold enough of each label for the calibration's own folds.
    inner = pipeline.named_steps["classifier"].cv
    least = next(c for c in range(cv_folds, 10_000) if c - math.ceil(c / cv_folds) >= inner)
    if counts.min() < least:
        raise BadTrainingData(
            f"training needs at least {least} postings of each label; found " + ", ".join(f"{k} {v}" for k, v in counts.items())
        )
    n = len(texts)
    if n < cv_folds:
        raise BadTrainingData(f"cross-validation needs at least {cv_folds} postings, one for each fold; found {n}")
    stratified = len(mine) == 2 and mine.min() >= cv_folds
    splitter = (StratifiedKFold if stratified else KFold)(cv_folds, shuffle=True, random_state=seed)
    everything = np.array(list(texts) + list(extra_texts), dtype=object)
    prepare = pipeline.named_steps["prepare"].fit(everything)
    # max_nbytes=None: arrays go to the workers pickled, never through memory-mapped temporary
    # files, which a Ctrl-C leaves for joblib's resource tracker to warn about after "interrupted"
    with Parallel(n_jobs=jobs, max_nbytes=None) as parallel:
        prepared = _prepare_all(prepare, everything, jobs, parallel, cue_cache, say)
        X = np.empty(len(prepared), dtype=object)
        X[:] = prepared
        y = np.array([v == "technical" for v in [*labels, *extra_labels]], dtype=int)
        rest = Pipeline(pipeline.steps[1:])
        always = np.arange(n, len(X))  # the train_only postings: in every fold's training part
        folds = [(np.concatenate([train, always]), test)
                 for train, test in splitter.split(X[:n], y[:n])]
        say(f"cross-validating ({cv_folds} folds"
            + (f", each also trained on {len(always)} other postings" if len(always) else "")
            + ") and fitting the final model"
            + (f" and the scope check ({int((np.asarray(scope[1]) == 0).sum())} not-PM postings)" if scope is not None else "")
            + (f" in {jobs} processes" if jobs > 1 else "") + "…")

        def tasks():
            # The final model and the scope check go first; joblib takes tasks from this
            # generator as workers come free, so the n-grams are counted while they run.
            yield delayed(_single_blas_thread)(_fit_rest, rest, X, y)
            if scope is not None:
                yield delayed(_single_blas_thread)(_fit_scope, seed, list(scope[0]), np.asarray(scope[1]))
            shared = _SharedNgrams.plan(rest, X) if shared_counts else None
            for train, test in folds:
                if shared is not None:
                    yield delayed(_single_blas_thread)(_fit_fold_shared, shared, rest.steps[-1][1], y, train, test)
                else:
                    yield delayed(_single_blas_thread)(_fit_fold, rest, X, y, train, test)

        results = parallel(tasks())
    fitted_rest, scope_pipeline = results[0], (results[1] if scope is not None else None)
    oof = np.zeros(n)
    for test, p in results[-cv_folds:]:
        oof[test] = p
    label_pipeline = Pipeline([("prepare", prepare)] + fitted_rest.steps)
    return CrossFit(label_pipeline, oof, labels, scope_pipeline)


def training_fingerprint(seed: int = config.SEED, **pipeline_params) -> str:
    """What decides a trained model besides its data: the text step's code and cue lists (the
    cue cache's key), this module's code, the seed and pipeline settings, and the versions
    of scikit-learn and NumPy. Two trainings with the same data and fingerprint give the
    same model."""
    import json

    import sklearn

    pipeline = build_label_pipeline(seed, **pipeline_params)
    digest = hashlib.sha256(_CueCache.fingerprint(pipeline.named_steps["prepare"]).encode())
    digest.update(Path(__file__).read_bytes())
    digest.update(json.dumps({"seed": seed, **pipeline_params}, sort_keys=True, default=str).encode())
    article = pipeline.named_steps["features"].transformer_list[0][1]
    digest.update(json.dumps(article.get_params(), sort_keys=True).encode())  # its defaults come from config
    digest.update(f"{sklearn.__version__}|{np.__version__}".encode())
    return digest.hexdigest()[:16]


def fit_model(data: TrainingSet, seed: int = config.SEED, cv_folds: int = config.CV_FOLDS,
              progress: Callable[[str], None] | None = None, jobs: int | None = None,
              cue_cache: Path | None = None, **pipeline_params) -> tuple[PMTypeModel, dict]:
    """Fit the label pipeline (and the scope check where there are not-PM rows).

    Returns the model and a report of cross-validated metrics on the PM rows. The model
    reads English only unless ``config.OTHER_LANGUAGES_SHARE`` of the PM rows are in
    other languages.
    """
    from pmtype.metrics import label_metrics

    texts = np.array(data.texts, dtype=object)
    labels = np.array(data.labels)
    pm = data.pm_mask
    is_pm = (labels != "not_pm").astype(int)
    scope = (list(texts), is_pm) if int((is_pm == 0).sum()) >= cv_folds else None
    fit = cross_fit(texts[pm], labels[pm], seed=seed, cv_folds=cv_folds, scope=scope, jobs=jobs,
                    progress=progress, cue_cache=cue_cache, **pipeline_params)
    report = {"cross_validation": label_metrics(labels[pm].tolist(), fit.p_out_of_fold.tolist(),
                                                intervals=False),
              "folds": int(cv_folds)}
    english_only = not_english_share(texts[pm]) < config.OTHER_LANGUAGES_SHARE
    return PMTypeModel(fit.label_pipeline, fit.scope_pipeline, english_only=english_only), report


# --- the default model ------------------------------------------------------------


def missing_default_message(name: str) -> str:
    """What to say where the default pointer names version ``name`` and no such folder is there."""
    return (f"the default model {printable(name)} (named in {printable(default_pointer())}) is missing; choose "
            f"another with 'pmtype models use NAME', or the built-in one with 'pmtype models use "
            f"{config.DEFAULT_MODEL_NAME}'")


def default_pointer() -> Path:
    """The file naming the default model version: ``DEFAULT_POINTER`` in ``models_dir()``, or
    where only an older pmtype's pointer (``LEGACY_POINTER``) is there, that one."""
    root = config.models_dir()
    pointer = root / DEFAULT_POINTER
    legacy = root / LEGACY_POINTER
    if not pointer.is_file() and legacy.is_file():
        return legacy
    return pointer


def default_model_path() -> Path:
    """The default model's folder: the version ``default_pointer()`` names, else ``models_dir()/default``."""
    pointer = default_pointer()
    if not pointer.is_file():
        return config.models_dir() / config.DEFAULT_MODEL_NAME
    name = pointer.read_text(encoding="utf-8", errors="replace").strip()
    if not is_version_name(name):
        raise ModelNotFound(f"{printable(pointer)} names {name!r}, which is not a model version; "
                            "choose one with 'pmtype models use NAME'")
    return config.models_dir() / name


def version_folder(ref: str | Path) -> Path | None:
    """The folder of model version ``ref`` in ``models_dir()``, or None where no version has that name."""
    text = str(ref)
    if is_version_name(text) and (config.models_dir() / text).is_dir():
        return config.models_dir() / text
    return None


def no_such_model(ref: str | Path) -> ModelNotFound:
    """The error for a model named neither by a version nor by a folder."""
    shown = printable(ref)
    return ModelNotFound(f"no model version '{shown}' in {printable(config.models_dir())} and no model folder "
                         f"{shown}; 'pmtype models' lists the versions")


def model_folder(ref: str | Path | None) -> Path:
    """Where the model ``ref`` lives: None is the default model, a version name (as ``pmtype
    models`` lists them) is that version's folder, anything else is a folder path as given.

    A plain name is looked up among the versions first, as ``compare`` does; one that names
    neither a version nor anything in the working directory raises ``ModelNotFound``.
    """
    if ref is None:
        return default_model_path()
    persist.check_not_blank(ref, "give a version name ('pmtype models' lists them) or a model folder")
    version = version_folder(ref)
    if version is not None:
        return version
    if VERSION_NAME.fullmatch(str(ref)) and not Path(ref).exists():
        raise no_such_model(ref)
    return Path(ref)


@config.user_paths(models=("path",))
def load_model(path: str | Path | None = None, build_if_missing: bool = True,
               progress: Callable[[str], None] | None = None) -> PMTypeModel:
    """Load a model: a version name, a model folder, or None for the default model (built from
    the seed corpus on first use)."""
    if path is not None:
        path = model_folder(path)
    if path is None:
        path = default_model_path()
        if not (Path(path) / persist.MANIFEST_FILE).exists():
            if default_pointer().is_file():
                raise ModelNotFound(missing_default_message(Path(path).name))
            if not build_if_missing:
                raise ModelNotFound(f"no default model at {printable(path)}; build it with {persist.rebuild_advice(path)}")
            from pmtype.training import build_default_model

            (progress or (lambda _m: None))(
                f"No default model yet: building it from the seed corpus into {path} (once)…")
            build_default_model(path, progress=progress)
    model, manifest = persist.load_model(Path(path))
    model.model_id = manifest.get("model_id", model.model_id)
    model.band = manifest.get("band", model.band)  # the README's promise: the band is the manifest's
    return model


def classify(text: str, title: str | None = None, model: PMTypeModel | str | Path | None = None,
             force: bool = False, progress: Callable[[str], None] | None = None) -> Prediction:
    """Classify one posting. Blank text (or markup alone) raises ``EmptyText``; text without a
    letter gets the status ``not text`` and no label, as ``label`` gives such a cell.

    ``model`` is a loaded model, a version name, a model folder, or None for the
    default model (built on first use, with ``progress`` told so).
    """
    kind = text_kind(text)  # as label reads a cell: N/A and markup alone are empty, "12345" is not text
    if kind == "empty":
        raise EmptyText("the posting is empty")
    if not isinstance(text, str):
        # label marks a number "not text"; bytes need decoding; a list is many postings (predict)
        raise TypeError(f"classify takes one posting's text as a str, not {type(text).__name__}; "
                        "decode bytes first, and give many postings to PMTypeModel.predict")
    if not isinstance(model, PMTypeModel):
        model = _kept_model(model, progress)
    if kind == "not text":
        return Prediction(None, None, STATUS_NOT_TEXT, model_id=model.model_id)
    whole = posting_text(text, title)
    prediction = model.predict([whole[: config.MAX_CHARS]], force=force)[0]
    if len(whole) > config.MAX_CHARS:
        prediction.status += truncation_note(config.MAX_CHARS)
    return prediction


#: The model ``classify`` loaded last, by where it is and the state of its files: a loop of
#: ``classify`` calls does not load and verify the same model again on each call.
_KEPT: dict[tuple, PMTypeModel] = {}


def _kept_model(ref: str | Path | None, progress: Callable[[str], None] | None) -> PMTypeModel:
    """``load_model(ref)``, kept for the next call while its folder's files are the same ones
    (a model replaced, rebuilt or chosen as the default in between is loaded afresh)."""
    def stamp() -> tuple | None:
        try:
            folder = model_folder(ref)
            files = [os.stat(folder / name) for name in (persist.MANIFEST_FILE, persist.MODEL_FILE)]
        except (OSError, ModelNotFound):
            return None
        return (str(folder.resolve()),) + tuple((f.st_ino, f.st_mtime_ns, f.st_size) for f in files)

    before = stamp()
    if before is not None and before in _KEPT:
        return _KEPT[before]
    model = load_model(ref, progress=progress)
    after = stamp()  # after a first build of the default model too
    if after is not None and before in (None, after):  # not kept if the files changed while it loaded
        _KEPT.clear()
        _KEPT[after] = model
    return model


def truncation_note(max_chars: int) -> str:
    """What a status says of a posting longer than the model reads (``config.MAX_CHARS``)."""
    return f"; truncated to {max_chars} characters"


def status_kind(status: str) -> str:
    """A status without the notes after its ``;`` (``truncation_note``): "not English; truncated to
    100000 characters" is "not English"."""
    return str(status).split(";")[0]


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()
