"""The five distinctions' cues, found with spaCy.

The cue lists are data (``cues/cues.json``), one list per distinction and side.
Finding them costs two steps: a cheap word-set test picks the sentences that
could hold a cue, and only those go through spaCy (blank English, lookup
lemmatizer, ``PhraseMatcher`` on lemmas plus a few ``Matcher`` patterns).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from pmtype import text as text_mod

#: The five distinctions of LABELING.md, in order.
DISTINCTIONS = ("focus", "collaborators", "research", "background", "planning")
SIDES = ("technical", "business")

_WORD = re.compile(r"[a-z0-9][a-z0-9&+#/.\-]*[a-z0-9+#]|[a-z0-9]")


@dataclass(frozen=True)
class Cue:
    """One matched cue: which distinction and side, the words, where in the posting."""

    distinction: str
    side: str
    phrase: str
    start: int
    end: int

    def as_dict(self) -> dict:
        return {"distinction": self.distinction, "side": self.side, "phrase": self.phrase,
                "start": self.start, "end": self.end}


@lru_cache(maxsize=4)
def load_cue_lists(path: str | None = None) -> dict:
    """The cue lists: ``{distinction: {"title": …, side: {"phrases": […], "patterns": […]}}}``."""
    if path is None:
        raw = resources.files("pmtype").joinpath("cues/cues.json").read_text(encoding="utf-8")
    else:
        with open(path, encoding="utf-8") as f:
            raw = f.read()
    data = json.loads(raw)
    return {k: v for k, v in data.items() if k in DISTINCTIONS}


def _variants(word: str) -> set[str]:
    """Surface forms a lemma may take, for the cheap sentence pre-filter."""
    out = {word, word + "s", word + "es", word + "ed", word + "d", word + "ing"}
    if word.endswith("y"):
        out.add(word[:-1] + "ies")
    if word.endswith("e"):
        out.add(word[:-1] + "ing")
    return out


def _triggers(cue_lists: dict) -> frozenset[str]:
    words: set[str] = set()
    for spec in cue_lists.values():
        for side in SIDES:
            for phrase in spec[side]["phrases"]:
                first = _WORD.findall(phrase.lower())
                if first:
                    words |= _variants(first[0])
            for pattern in spec[side].get("patterns", []):
                for key in ("LEMMA", "LOWER"):
                    attr = pattern[0].get(key)
                    if isinstance(attr, dict):
                        for w in attr.get("IN", []):
                            words |= _variants(w)
    return frozenset(words)


def _keep_ing_forms(doc):
    """Keep ``-ing`` words as they are: the lookup table maps "marketing" to "market",
    "positioning" to "position", "tooling" to "tool", which are other cues."""
    for token in doc:
        if token.lower_.endswith("ing") and len(token) > 5:
            token.lemma_ = token.lower_
    return doc


def _lower_same_length(s: str) -> str:
    low = s.lower()
    if len(low) == len(s):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in s)


class CueFinder:
    """Finds cues in posting texts. Builds its spaCy pipeline on first use."""

    def __init__(self, cue_path: str | None = None, batch_size: int = 256):
        self.cue_path = cue_path
        self.batch_size = batch_size
        self._nlp = None

    # The spaCy pipeline and matchers are rebuilt after unpickling, never stored.
    def __getstate__(self):
        state = self.__dict__.copy()
        for key in ("_nlp", "_phrase_matcher", "_matcher", "_keys", "_triggers"):
            state.pop(key, None)
        state["_nlp"] = None
        return state

    def _build(self) -> None:
        import spacy
        from spacy.language import Language
        from spacy.matcher import Matcher, PhraseMatcher

        cue_lists = load_cue_lists(self.cue_path)
        nlp = spacy.blank("en")
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
        if not Language.has_factory("pmtype_keep_ing_forms"):
            Language.component("pmtype_keep_ing_forms", func=_keep_ing_forms)
        nlp.add_pipe("pmtype_keep_ing_forms")
        phrase_matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
        matcher = Matcher(nlp.vocab)
        keys: dict[int, tuple[str, str]] = {}
        for distinction, spec in cue_lists.items():
            for side in SIDES:
                key = f"{distinction}:{side}"
                keys[nlp.vocab.strings.add(key)] = (distinction, side)
                phrases = [p.lower() for p in spec[side]["phrases"]]
                phrase_matcher.add(key, list(nlp.pipe(phrases)))
                if spec[side].get("patterns"):
                    matcher.add(key, spec[side]["patterns"])
        self._nlp, self._phrase_matcher, self._matcher = nlp, phrase_matcher, matcher
        self._keys = keys
        self._triggers = _triggers(cue_lists)

    def candidate(self, sentence: str) -> bool:
        """Whether a sentence may hold a cue (a cheap word-set test)."""
        if self._nlp is None:
            self._build()
        return not self._triggers.isdisjoint(_WORD.findall(sentence.lower()))

    def find(self, texts: Sequence[str], drop_boilerplate: bool = True) -> list[list[Cue]]:
        """The cues in each normalised text, in text order.

        Only sentences that pass the pre-filter go through spaCy, all texts'
        sentences together in one ``nlp.pipe`` stream.
        """
        if self._nlp is None:
            self._build()
        owners: list[tuple[int, int]] = []  # (text index, sentence offset)
        chunks: list[str] = []
        triggers = self._triggers
        for i, t in enumerate(texts):
            for sent in text_mod.sentences(t, drop_boilerplate=drop_boilerplate):
                low = _lower_same_length(sent.text)
                if not triggers.isdisjoint(_WORD.findall(low)):
                    owners.append((i, sent.start))
                    chunks.append(low)
        out: list[list[Cue]] = [[] for _ in texts]
        for (i, offset), doc in zip(owners, self._nlp.pipe(chunks, batch_size=self.batch_size)):
            out[i].extend(self._cues_in(doc, texts[i], offset))
        return out

    def _cues_in(self, doc, original: str, offset: int) -> Iterable[Cue]:
        spans = [(s, e, k) for k, s, e in self._phrase_matcher(doc)]
        spans += [(s, e, k) for k, s, e in self._matcher(doc)]
        # Longest match wins where matches overlap (e.g. "data pipeline" over "pipeline").
        spans.sort(key=lambda x: (x[0], -(x[1] - x[0])))
        last_end = -1
        for s, e, k in spans:
            if s < last_end:
                continue
            last_end = e
            distinction, side = self._keys[k]
            start = offset + doc[s].idx
            end = offset + doc[e - 1].idx + len(doc[e - 1])
            yield Cue(distinction, side, original[start:end], start, end)
