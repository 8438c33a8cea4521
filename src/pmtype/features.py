"""scikit-learn transformers that turn postings into features.

``PreparePostings`` does the text work once per posting (normalise, drop
boilerplate, split into words, find the article's cues with spaCy) and hands
``Prepared`` records on; ``ArticleFeatures`` turns the cues into one column per
distinction and side; ``role_words`` feeds the word n-gram branch the words
already split, read by ``split_words`` and counted by ``CountingTfidfVectorizer``.
"""

from __future__ import annotations

import gc
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from pmtype import config
from pmtype import text as text_mod
from pmtype.config import MAX_CHARS, SPACY_BATCH_SIZE
from pmtype.cues import DISTINCTIONS, SIDES, Cue, CueFinder, phrase_key


@contextmanager
def fewer_gc_passes(threshold: int | None = None) -> Iterator[None]:
    """Run the block with Python's cyclic garbage collector passing less often: its first
    threshold at least ``threshold`` (None: ``config.GC_GEN0_THRESHOLD``).

    CPython runs a collection pass every 700 net allocations of container objects
    (lists, tuples, instances). The text step allocates and keeps hundreds of
    thousands of them per batch (sentences, their words, cues), so at that rate
    the collector walks the same live objects again and again. Memory is
    unaffected in practice: objects are still freed by reference counting as soon
    as nothing refers to them; only garbage held in reference cycles waits for
    the next, rarer pass.

    Leaves the collector alone where the caller has turned it off or already
    set a higher threshold (so nested blocks change nothing), and restores the
    caller's thresholds on the way out, also after an exception.
    """
    threshold = config.GC_GEN0_THRESHOLD if threshold is None else threshold
    before = gc.get_threshold()
    if not gc.isenabled() or before[0] == 0 or before[0] >= threshold:
        yield
        return
    gc.set_threshold(threshold, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


@dataclass
class Prepared:
    """One posting after the text step: the text the model reads and its cues."""

    text: str
    role_text: str
    cues: list[Cue] = field(default_factory=list)
    #: The lower-cased words (``text.WORD``) of the role text's sentences, joined by single spaces.
    words: str = ""

    @property
    def english(self) -> bool:
        """Whether the posting reads as English (``text.reads_as_english``): the cue lists,
        the word n-grams and the scope check all read English."""
        return text_mod.reads_as_english(self.text)


def not_english_share(texts: Sequence[str]) -> float:
    """The share of postings that do not read as English (``text.reads_as_english``); 0 for none."""
    return sum(not text_mod.reads_as_english(t) for t in texts) / len(texts) if len(texts) else 0.0


def is_missing(value: object) -> bool:
    """Whether a cell holds no value: None, or a missing value of pandas or numpy (NaN of any
    float type, ``pd.NA``, ``NaT``), as Parquet and pandas give an empty cell."""
    if value is None:
        return True
    if not pd.api.types.is_scalar(value):  # a list or an array: not one missing value
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False



def posting_text(description: object, title: object = None) -> str:
    """The text pmtype reads for a posting: its title (if any) over its description.

    A missing description or title (None, NaN, ``pd.NA``) counts as empty, never as the text "nan", and so
    does a title that ``text_kind`` reads as empty (``N/A``, ``null``, ``<b></b>``); a title's markup
    and line breaks are folded (``text.single_line``), so that it is the posting's whole first line;
    bytes are a ``TypeError`` (decode them first), never their ``b'…'`` form.
    """
    for what, value in (("description", description), ("title", title)):
        if isinstance(value, (bytes, bytearray)):
            raise TypeError(f"posting_text takes the {what} as a str, not {type(value).__name__}; decode it first")
    body = "" if is_missing(description) else str(description)
    if text_kind(title) == "empty":  # missing, blank, a marker ('N/A', 'null') or markup alone: no title
        return body
    return f"{text_mod.single_line(str(title))}\n\n{body}"  # one line, as the posting's first: markup and breaks folded


#: Cells that stand for a missing value (compared stripped, in lower case): pandas' and
#: spreadsheets' markers, as written by exports that turned a null into text.
MISSING_MARKERS = frozenset({"nan", "-nan", "none", "null", "na", "n/a", "#n/a", "<na>", "nil"})
_LONGEST_MARKER = max(map(len, MISSING_MARKERS))
_LETTER = re.compile(r"[^\W\d_]")


def text_kind(value) -> str:
    """What pmtype reads in a posting's text, a table's cell or a text given to ``predict`` or
    ``classify``: ``"text"``, ``"empty"`` or ``"not text"``; one rule for every command.

    Empty: a missing value (None, NaN of any type, ``pd.NA``), nothing, blanks, a
    missing-value marker (``NaN``, ``None``, ``null``, ``N/A``, …) or markup alone
    (``<div><br/></div>``, ``&nbsp;``). Not text: a number, a boolean or any other
    non-string value, or a string without a letter in it (``12345``, ``3.14``, ``---``,
    ``<p>12345</p>``) or that reads as a number (``1e5``).
    """
    if is_missing(value):
        return "empty"
    if not isinstance(value, str):
        return "not text"
    stripped = value.strip()
    if not stripped or (len(stripped) <= _LONGEST_MARKER and stripped.lower() in MISSING_MARKERS):
        return "empty"  # (a posting is never lower-cased whole for this: the labelling path's hot loop)
    if len(stripped) < 40:
        try:
            float(stripped)
            return "not text"
        except ValueError:
            pass
    # a numeric entity holds no letter but may stand for a space: "&#160;" is "&nbsp;"
    return body_kind(value) if _LETTER.search(stripped) or "&#" in stripped else "not text"


#: An HTML entity ("&nbsp;", "&#160;", "&amp;"): without one, and without a "<", a text's "&" ("P&L") is no markup.
_ENTITY = re.compile(r"&#?\w+;")


def body_kind(body: str) -> str:
    """What pmtype reads in a posting's text once markup is removed: ``"text"``, ``"empty"``
    (nothing but tags, entities and white space: ``<div><br/></div>``, ``&nbsp;``) or
    ``"not text"`` (no letter: ``<p>12345</p>``)."""
    if "<" in body or ("&" in body and _ENTITY.search(body)):
        # the opening usually settles it; the whole text is read only where it holds no letter
        if any(ch.isalpha() for ch in text_mod.normalise(body[:2000])):
            return "text"
        body = text_mod.normalise(body)
    if not body.strip():
        return "empty"
    return "text" if any(ch.isalpha() for ch in body) else "not text"


def as_posting_list(X) -> list:
    """Postings given as a list, an array or a Series; one string is not a list of postings.

    A DataFrame or a two-dimensional array of one column gives that column's postings; of any
    other number of columns, or a dict, is a ``TypeError`` (listed, they would give their column
    names, keys or rows as lists).
    """
    from collections.abc import Iterable, Mapping

    if isinstance(X, np.ndarray) and X.ndim == 0:
        X = X.item()  # an array of no dimensions holds one value: np.asarray(text) is one string
    if isinstance(X, (str, bytes)):
        raise TypeError("give a list of postings, not one string (for one posting: pmtype.classify)")
    if isinstance(X, pd.DataFrame) or (isinstance(X, np.ndarray) and X.ndim == 2):
        kind = "DataFrame" if isinstance(X, pd.DataFrame) else "two-dimensional array"
        if X.shape[1] != 1:
            raise TypeError(f"give the postings as a list of texts or a pandas Series, not a {kind} of "
                            f"{X.shape[1]} columns; build texts with pmtype.posting_text(description, title)")
        X = X.iloc[:, 0] if isinstance(X, pd.DataFrame) else X[:, 0]
    elif isinstance(X, np.ndarray) and X.ndim > 2:
        raise TypeError(f"give the postings as a list of texts, not an array of {X.ndim} dimensions")
    elif isinstance(X, Mapping):
        raise TypeError(f"give the postings as a list of texts or a pandas Series, not a "
                        f"{type(X).__name__}; build texts with pmtype.posting_text(description, title)")
    if hasattr(X, "tolist"):
        X = X.tolist()
    if not isinstance(X, Iterable):  # None, a number: list() would say "'NoneType' object is not iterable"
        raise TypeError(f"give the postings as a list of texts, not {type(X).__name__}")
    return list(X)


class PreparePostings(TransformerMixin, BaseEstimator):
    """Normalise postings, leave out boilerplate, and find the article's cues.

    Parameters
    ----------
    drop_boilerplate : bool
        Leave company, benefits and legal text out of the features and evidence.
    cue_path : str or None
        A cue-list JSON file; None uses the one shipped with pmtype.
    batch_size : int
        ``nlp.pipe`` batch size.
    max_chars : int
        Longer postings are cut to this many characters.
    """

    def __init__(self, drop_boilerplate=False, cue_path=None, batch_size=SPACY_BATCH_SIZE,
                 max_chars=MAX_CHARS):
        self.drop_boilerplate = drop_boilerplate
        self.cue_path = cue_path
        self.batch_size = batch_size
        self.max_chars = max_chars

    def fit(self, X, y=None):
        self.finder_ = CueFinder(self.cue_path, self.batch_size)
        return self

    def transform(self, X) -> list[Prepared]:
        check_is_fitted(self, "finder_")
        with fewer_gc_passes():  # the sentences and words below are many small, kept objects
            texts = [text_mod.normalise(str(t)[: self.max_chars]) for t in as_posting_list(X)]
            sentences = [text_mod.sentences(t, drop_boilerplate=self.drop_boilerplate) for t in texts]
            # Split once: the same words go to the cue pre-filter and to the word n-grams.
            words = [text_mod.sentence_words(t, sents) for t, sents in zip(texts, sentences)]
            cues = self.finder_.find_in_sentences(texts, sentences, words)
            return [
                Prepared(t, "\n".join(s.text for s in sents) if self.drop_boilerplate else t, c,
                         " ".join(" ".join(w) for w in split if w))  # a sentence of no words adds no space
                for t, sents, split, c in zip(texts, sentences, words, cues)
            ]


def role_texts(prepared: Iterable[Prepared]) -> list[str]:
    """The role text of each prepared posting (the n-gram branch of models saved before ``role_words``)."""
    return [p.role_text for p in prepared]


def role_words(prepared: Iterable[Prepared]) -> list[str]:
    """The role text's words of each prepared posting, space-separated (for the n-gram branch)."""
    return [p.words for p in prepared]


def split_words(words: str) -> list[str]:
    """The tokenizer of the n-gram branch: ``role_words`` output is already split and lower-cased."""
    return words.split()


class CountingTfidfVectorizer(TfidfVectorizer):
    """``TfidfVectorizer`` whose ``transform`` counts each document's terms with ``collections.Counter``
    and looks each distinct term up in the vocabulary once.

    scikit-learn's count step looks up every term occurrence in a Python loop and pays for a
    ``KeyError`` at each one outside the vocabulary, which is a third of a real posting's words
    against the seed corpus's vocabulary. The matrix is the same, entry for entry; fitting is
    scikit-learn's own.
    """

    def _count_vocab(self, raw_documents, fixed_vocab):
        if not fixed_vocab:
            return super()._count_vocab(raw_documents, fixed_vocab)
        vocabulary = self.vocabulary_
        lookup = vocabulary.get
        analyze = self.build_analyzer()
        indices: list[int] = []
        values: list[int] = []
        indptr = [0]
        for doc in raw_documents:
            for term, count in Counter(analyze(doc)).items():
                column = lookup(term)
                if column is not None:
                    indices.append(column)
                    values.append(count)
            indptr.append(len(indices))
        index_dtype = np.int64 if indptr[-1] > np.iinfo(np.int32).max else np.int32
        X = sp.csr_matrix((np.asarray(values, dtype=np.intc), np.asarray(indices, dtype=index_dtype),
                           np.asarray(indptr, dtype=index_dtype)),
                          shape=(len(indptr) - 1, len(vocabulary)), dtype=self.dtype)
        X.sort_indices()
        return vocabulary, X


#: Column names of ArticleFeatures' output, in order.
ARTICLE_FEATURES = tuple(f"{d}:{s}" for d in DISTINCTIONS for s in SIDES)


_ARTICLE_INDEX = {name: i for i, name in enumerate(ARTICLE_FEATURES)}


def cue_key(cue: Cue) -> tuple[str, str, str]:
    """What makes two cues the same signal: their distinction, side and words, lower-cased, the last
    word in the singular, as the cue finder matched its plurals: by spaCy's lookup table
    ("strategies" and "strategy", "processes" and "process"), else less a last "s" ("APIs" and
    "API", "Engineers" and "engineer")."""
    return cue.distinction, cue.side, phrase_key(cue.phrase)


def cue_counts(cues: Sequence[Cue], repeats: int | None = None) -> np.ndarray:
    """How many cues of each distinction and side, in ``ARTICLE_FEATURES`` order; with
    ``repeats``, one phrase (``cue_key``) counts at most that many times."""
    counts = np.zeros(len(ARTICLE_FEATURES))
    if repeats is None:
        for c in cues:
            counts[_ARTICLE_INDEX[f"{c.distinction}:{c.side}"]] += 1
        return counts
    seen: dict[tuple[str, str, str], int] = {}
    for c in cues:
        key = cue_key(c)
        seen[key] = n = seen.get(key, 0) + 1
        if n <= repeats:
            counts[_ARTICLE_INDEX[f"{c.distinction}:{c.side}"]] += 1
    return counts


class ArticleFeatures(TransformerMixin, BaseEstimator):
    """One column per distinction and side: log(1 + cues found per ``per_words`` words).

    Parameters
    ----------
    scale : float
        Multiplies every column, so that these few dense columns can hold their
        own beside thousands of TF-IDF columns under one regulariser.
    per_words : int or None
        Count cues per this many of the posting's words (``Prepared.words``), a
        posting shorter than ``min_words`` counted as that long; None counts
        them per posting, as models saved before this parameter did.
    min_words : int
        The fewest words a posting is counted as having.
    repeats : int or None
        Count one phrase (``cue_key``) at most this many times in a posting: a product
        named nine times ("identity verification") is one signal, not nine. None counts
        every time, as models saved before this parameter did.
    """

    def __init__(self, scale=1.0, per_words=config.ARTICLE_PER_WORDS, min_words=config.ARTICLE_MIN_WORDS,
                 repeats=config.ARTICLE_REPEATS):
        self.scale = scale
        self.per_words = per_words
        self.min_words = min_words
        self.repeats = repeats

    def __setstate__(self, state):
        # A model saved before per_words counted cues per posting, and one saved before repeats
        # counted every repeat: each keeps reading them as it was trained to.
        state = {"per_words": None, "min_words": config.ARTICLE_MIN_WORDS, "repeats": None, **state}
        super().__setstate__(state)

    def fit(self, X, y=None):
        self.n_features_in_ = len(ARTICLE_FEATURES)
        return self

    def transform(self, X):
        check_is_fitted(self, "n_features_in_")
        prepared = list(X)  # read twice below: an iterator too
        if not prepared:
            return sp.csr_matrix(np.zeros((0, len(ARTICLE_FEATURES))))
        counts = np.vstack([cue_counts(p.cues, self.repeats) for p in prepared])
        if self.per_words is not None:
            words = np.array([p.words.count(" ") + 1 if p.words else 0 for p in prepared], dtype=float)
            counts *= self.per_words / np.maximum(words, self.min_words)[:, None]
        return sp.csr_matrix(np.log1p(counts) * self.scale)

    def get_feature_names_out(self, input_features=None):
        return np.asarray([f"article:{n}" for n in ARTICLE_FEATURES], dtype=object)
