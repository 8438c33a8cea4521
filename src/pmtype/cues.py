"""The five distinctions' cues, found with spaCy.

The cue lists are data (``cues/cues.json``), one list per distinction and side.
Finding them costs two steps: a cheap word-set test picks the sentences that
could hold a cue (sentences about the company, not the role, are left out:
``text.about_the_company``), and only those go through spaCy (blank English, lookup
lemmatizer, ``PhraseMatcher`` on lemmas plus a few ``Matcher`` patterns).
"""

from __future__ import annotations

import copy
import json
import os
import re
from bisect import bisect_right
from itertools import islice
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

from spacy.tokens import Doc

from pmtype import text as text_mod

#: The five distinctions of LABELING.md, in order.
DISTINCTIONS = ("focus", "collaborators", "research", "background", "planning")
SIDES = ("technical", "business")

#: Tokens put between sentences in one doc: no cue holds them, and enough of them that
#: no pattern's optional tokens can reach across.
_SEPARATOR = ("\u00a7",) * 3
#: The phrase matcher's key for phrases that are no cue.
NOT_A_CUE = "not a cue"

_WORD = text_mod.WORD


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


def _cue_file(path: str | None) -> dict:
    """The cue file at ``path`` (None: the package's own), read again when it has changed."""
    return _read_cue_file(path, _file_stamp(path))


def _file_stamp(path: str | None) -> tuple[int, int] | None:
    """When the file at ``path`` was last changed, and its size: a cue file edited in a notebook
    is read afresh, not served from the cache. None for the package's own file."""
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None  # opening it says why
    return st.st_mtime_ns, st.st_size


@lru_cache(maxsize=4)
def _read_cue_file(path: str | None, stamp: tuple[int, int] | None) -> dict:
    if path is None:
        raw = resources.files("pmtype").joinpath("cues/cues.json").read_text(encoding="utf-8")
    else:
        with open(path, encoding="utf-8") as f:
            raw = f.read()
    return json.loads(raw)


def load_cue_lists(path: str | None = None) -> dict:
    """The cue lists: ``{distinction: {"title": …, side: {"phrases": […], "patterns": […]}}}``,
    a copy the caller may change (the file's content is cached)."""
    return copy.deepcopy({k: v for k, v in _cue_file(path).items() if k in DISTINCTIONS})


def distinction_titles(path: str | None = None) -> Mapping[str, str]:
    """Each distinction's title in the cue lists (read-only: the evidence reads it per posting)."""
    return _titles(path, _file_stamp(path))


@lru_cache(maxsize=4)
def _titles(path: str | None, stamp: tuple[int, int] | None) -> Mapping[str, str]:
    return MappingProxyType({k: v.get("title", k) for k, v in _read_cue_file(path, stamp).items()
                             if k in DISTINCTIONS})


def load_not_cues(path: str | None = None) -> list[str]:
    """Phrases in which a cue word is no cue ("work authorization", "career growth")."""
    return list(_cue_file(path).get("_not_cues", {}).get("phrases", []))


#: Words that negate a cue found within ``NEGATION_WINDOW`` words after them in its sentence
#: ("no MBA required", "without engineering support"); "not only", "not limited to" do not.
NEGATORS = frozenset({"no", "not", "without", "never"})
#: What comes before "t" in a contracted "not" ("don't" is split into "don" and "t").
_CONTRACTED = frozenset({"don", "doesn", "didn", "isn", "aren", "wasn", "won", "wouldn", "can", "couldn",
                         "needn", "shouldn", "mustn"})
NEGATION_WINDOW = 3
#: What negates a cue just before it ("an MBA is not required", "isn't required").
_NOT_NEEDED = ("not required", "not necessary", "not needed", "not expected", "not a requirement",
               "t required", "t necessary", "t needed", "t expected", "t a requirement")
_NOT_NEGATING = frozenset({"only", "just", "limited", "required", "necessary", "needed", "expected"})
#: The last words of ``_NOT_NEEDED``: where none follows a cue, none of its phrases does.
_NEEDED_WORDS = frozenset(phrase.rsplit(" ", 1)[-1] for phrase in _NOT_NEEDED)


def negated(words: Sequence[str], start: int, end: int, since: int = 0, until: int | None = None) -> bool:
    """Whether the cue on ``words[start:end]`` (lower-cased words of one sentence) is negated:
    a negator ("no", "not", "without", "never", or a contracted "n't") within
    ``NEGATION_WINDOW`` words before it (not "not only", "not just", "not limited to") and not before word
    ``since`` (where the cue's clause begins), or "not required" and the like within the
    five words after it and before word ``until`` (where the cue's clause ends; None: the sentence's end)."""
    for i in range(max(0, since, start - NEGATION_WINDOW), start):
        word = words[i]
        following = words[i + 1] if i + 1 < start else None
        # "not only" affirms; "not required" negates what came before it, not this cue
        if ((word in NEGATORS or (word == "t" and i and words[i - 1] in _CONTRACTED))
                and not (word in ("not", "t") and following in _NOT_NEGATING)):
            return True
    # whole words: "the product support required" says nothing of a cue before it ("t" is only
    # the end of a contracted "not": "isn't required")
    following = words[end:end + 5 if until is None else min(end + 5, until)]
    if _NEEDED_WORDS.isdisjoint(following):
        return False
    after = f" {' '.join(following)} "
    return any(f" {phrase} " in after for phrase in _NOT_NEEDED)


#: Words by which a sentence asks for a degree or a field of study.
_DEGREE_WORDS = frozenset({"degree", "degrees", "bachelor", "bachelors", "master", "masters", "bs", "ba", "ms",
                           "bsc", "msc", "b.s", "b.a", "m.s", "phd", "major", "discipline", "disciplines"})
#: The business side's fields of study (LABELING.md, distinction 4: a business degree or MBA).
_BUSINESS_FIELDS = frozenset({"business", "marketing", "economics", "finance", "commerce", "accounting", "mba"})
#: Words of a background cue that name a field of study, not a skill ("computer science", "a technical
#: degree", "STEM field"; not "SQL" or "system design").
_FIELD_WORDS = _BUSINESS_FIELDS | frozenset({"science", "sciences", "engineering", "technical", "stem", "degree",
                                             "computer", "cs", "mathematics", "physics", "management"})
#: Background cues that also name a team ("work with engineering, design and data science").
_TEAM_FIELDS = frozenset({"data science", "software engineering"})
#: Words by which a sentence speaks of working with teams.
_WORKING_WITH = frozenset({"with", "collaborate", "collaborates", "collaborating", "partner", "partners",
                           "partnering", "alongside", "team", "teams", "stakeholders"})
#: Business backgrounds that name people ("business analysts", "consultants"): in a clause about working
#: with teams that asks for no background, people the PM works with (distinction 2), on the business side.
_PEOPLE_BACKGROUNDS = frozenset({"consultant", "business analyst", "financial analyst", "market analyst",
                                 "brand manager"})
#: Teams that are also fields of study: in a list of a degree's fields, a field.
_FIELD_TEAMS = _BUSINESS_FIELDS - {"mba"} | {"engineering"}
#: Words by which a sentence speaks of a person's background (study, experience, skill), not of a team.
_BACKGROUND_WORDS = _DEGREE_WORDS | frozenset({
    "experience", "experienced", "background", "years", "field", "fields", "study", "studying", "pursuing",
    "graduate", "graduated", "knowledge", "knowledgeable", "understanding", "familiarity", "familiar",
    "proficiency", "proficient", "fluency", "fluent", "exposure", "skill", "skills", "skilled", "expertise",
    "qualifications", "education"})


def _field_cue(cue: Cue) -> bool:
    return not _FIELD_WORDS.isdisjoint(_WORD.findall(cue.phrase.lower()))


#: What parts a sentence's clauses for the background rules ("a CS degree; work with marketing").
_CLAUSE_BREAK = re.compile(r"[;|]")


#: Words a degree's list of fields may hold besides its fields' cues: other fields, "or", "a related
#: field" ("a degree in computer science, mathematics, statistics or economics"). A word not among
#: them ends the list ("BS in Computer Science with experience in finance": "finance" is no field of
#: the degree).
_LIST_WORDS = _DEGREE_WORDS | _BUSINESS_FIELDS | _FIELD_WORDS | frozenset({
    "or", "and", "&", "a", "an", "in", "of", "the", "e.g", "i.e", "etc", "such", "as", "like", "related", "relevant",
    "similar", "equivalent", "other", "another", "field", "fields", "quantitative", "math", "maths", "statistics",
    "information", "systems", "system", "data", "design", "analytics", "administration", "software", "electrical",
    "mechanical", "computing", "operations", "research", "psychology", "economic", "preferably", "preferred"})


def backgrounds_in_context(cues: list[Cue], sentence: str, offset: int,
                           words: Sequence[str] | None = None) -> list[Cue]:
    """One sentence's cues (``sentence`` starts at ``offset`` in the text the cues' spans point into),
    with its background cues read in context, clause by clause (LABELING.md, distinction 4, is the
    background the posting asks for). ``words``: the sentence's lower-cased words (``WORD``), where
    the caller has them already.

    - A degree asked in a list of fields from both columns ("a degree in computer science, business
      or marketing") asks for neither background: the list's fields count for neither side, nor as
      teams ("marketing"). Skills named in the same clause ("SQL") still count, and so does a
      business word outside the list ("a CS degree and experience in finance").
    - A field that also names a team, in a clause about working with teams that asks for no
      background ("work with engineering, design and data science"), is a team the PM works with:
      it counts as a technical collaborator (distinction 2), not as a background.
    """
    if not any(c.distinction == "background" for c in cues):
        return cues
    if words is not None and _NO_DEGREE_WORDS.isdisjoint(words) and not _CLAUSE_BREAK.search(sentence):
        return _clause_backgrounds(cues, sentence, offset, words)  # one clause, its words known
    out: list[Cue] = []
    start = 0
    for end in [m.start() for m in _CLAUSE_BREAK.finditer(sentence)] + [len(sentence)]:
        clause = [c for c in cues if start <= c.start - offset < end]
        out += _clause_backgrounds(clause, sentence[start:end], offset + start)
        start = end + 1
    return out


def shared_teams(cues: list[Cue], sentence: str, offset: int) -> list[Cue]:
    """One sentence's cues (``sentence`` starts at ``offset``), less the teams of a clause that names
    teams of both columns ("work with engineering, design, marketing and sales on each launch"). Such
    a clause names the cross-functional teams every PM steers releases with, a duty both kinds share
    (LABELING.md: evidence for neither label), so its teams count for neither side. A clause naming
    one column's teams ("work closely with the engineers and architects") keeps them (distinction 2)."""
    if len({c.side for c in cues if c.distinction == "collaborators"}) < 2:
        return cues
    breaks = [offset + m.start() for m in _CLAUSE_BREAK.finditer(sentence)]
    sides: dict[int, set[str]] = {}
    for c in cues:
        if c.distinction == "collaborators":
            sides.setdefault(bisect_right(breaks, c.start), set()).add(c.side)
    return [c for c in cues
            if c.distinction != "collaborators" or len(sides[bisect_right(breaks, c.start)]) < 2]


#: Degree words in phrases that name no degree ("MS Excel", "Scrum Master", "a major plus"): left out
#: of a clause's words.
_NO_DEGREE = re.compile(
    r"\bms (?:office|excel|word|powerpoint|project|visio|access|outlook|teams|dynamics|sql)\b"
    r"|\bscrum master|\bmajor (?:plus|bonus|advantage)\b")


#: The words ``_NO_DEGREE``'s phrases hold that a degree's words hold too.
_NO_DEGREE_WORDS = frozenset({"ms", "master", "major"})


def _clause_lower(clause: str) -> str:
    """A clause lower-cased, the degree words of phrases that name no degree (``_NO_DEGREE``) blanked
    out (same length: spans stay true)."""
    low = clause.lower()
    if "ms " in low or "master" in low or "major " in low:
        low = _NO_DEGREE.sub(lambda m: " " * len(m.group()), low)
    return low


def _in_a_list(word: str) -> bool:
    """Whether a word (with the parts a slash joins) may stand in a degree's list of fields."""
    return word in _LIST_WORDS or ("/" in word and all(w in _LIST_WORDS for w in word.split("/")))


def _business_field(word: str) -> bool:
    return word in _BUSINESS_FIELDS or ("/" in word and not _BUSINESS_FIELDS.isdisjoint(word.split("/")))


def _mixed_lists(cues: list[Cue], words: list[tuple[int, int, str]], offset: int) -> list[tuple[int, int]]:
    """The spans (in the text) of a clause's lists of a degree's fields that hold fields from both
    columns: a technical field's cue and the words of the list around it (``_LIST_WORDS``), one of
    them a business field."""
    lists = []
    for c in cues:
        if not (c.distinction == "background" and c.side == "technical" and _field_cue(c)):
            continue
        s, e = c.start - offset, c.end - offset
        inside = [j for j, (ws, we, _) in enumerate(words) if ws < e and we > s]
        if not inside:
            continue
        lo, hi = inside[0], inside[-1]
        while lo > 0 and _in_a_list(words[lo - 1][2]):
            lo -= 1
        while hi + 1 < len(words) and _in_a_list(words[hi + 1][2]):
            hi += 1
        if any(_business_field(w) for _, _, w in words[lo:hi + 1]):
            lists.append((offset + min(s, words[lo][0]), offset + max(e, words[hi][1])))
    return lists


def _clause_backgrounds(cues: list[Cue], clause: str, offset: int, words: Sequence[str] | None = None) -> list[Cue]:
    """``backgrounds_in_context`` for one clause (``words``: its words, where known and holding none
    of ``_NO_DEGREE_WORDS``)."""
    if not any(c.distinction == "background" for c in cues):
        return cues
    # A clause's words (WORD), lower-cased; a word a slash joins ("BS/MS", "business/marketing")
    # stands for its parts too: a degree and a field as much as "BS, MS" and "business, marketing".
    present = set(words if words is not None else _WORD.findall(_clause_lower(clause)))
    for word in [w for w in present if "/" in w]:
        present.update(word.split("/"))
    lists = []
    if not _DEGREE_WORDS.isdisjoint(present) and not _BUSINESS_FIELDS.isdisjoint(present):
        low = _clause_lower(clause)
        lists = _mixed_lists(cues, [(m.start(), m.end(), m.group()) for m in _WORD.finditer(low)], offset)
    teams = _BACKGROUND_WORDS.isdisjoint(present) and not _WORKING_WITH.isdisjoint(present)
    out = []
    for c in cues:
        if any(lo <= c.start and c.end <= hi for lo, hi in lists) and (
                (c.distinction == "background" and _field_cue(c))
                or (c.distinction == "collaborators" and c.phrase.lower() in _FIELD_TEAMS)):
            continue
        if teams and c.distinction == "background" and (
                c.phrase.lower() in _TEAM_FIELDS if c.side == "technical"
                else phrase_key(c.phrase) in _PEOPLE_BACKGROUNDS):
            c = Cue("collaborators", c.side, c.phrase, c.start, c.end)
        out.append(c)
    return out


@lru_cache(maxsize=8192)
def phrase_key(phrase: str) -> str:
    """A cue phrase's words, lower-cased, the last one in the singular (``singular``): two mentions of
    one phrase ("APIs" and "API", "Business Analysts" and "business analyst") have the same key. Cached:
    the same few thousand phrases come again and again."""
    words = _WORD.findall(phrase.lower())
    if words:
        words[-1] = singular(words[-1])
    return " ".join(words)


@lru_cache(maxsize=1)
def _lemma_table():
    """spaCy's English lemma lookup table (from spacy-lookups-data)."""
    from spacy.lookups import load_lookups

    return load_lookups("en", ["lemma_lookup"]).get_table("lemma_lookup")


def inflections(word: str, verb: bool = False) -> set[str]:
    """The surface forms that lemmatise to ``word``, by spaCy's lookup table.

    Candidates are made by the usual English endings and kept when the lookup
    lemmatizer maps them back to ``word`` (plain plurals of words the table does
    not know, such as "apis", are kept too). ``-ing`` forms are made only for
    verbs: the table maps "marketing" to "market" and "tooling" to "tool",
    which are not the same cue.
    """
    table = _lemma_table()
    endings = [word + "s", word + "es", word[:-1] + "ies" if word.endswith("y") else None]
    if verb:
        endings += [word + "ed", word + "d", word + "ing", word[:-1] + "ing" if word.endswith("e") else None]
    out = {word}
    for form in filter(None, endings):
        lemma = table.get(form)
        if lemma == word or (lemma is None and form == word + "s" and word.isalpha()):
            out.add(form)
    return out


def singular(word: str) -> str:
    """A lower-cased word in the singular, where it is a plural ``inflections`` matches: by the lookup
    table ("strategies" → "strategy", "processes" → "process"), else less a last "s" ("apis" →
    "api"; not "business"). A word not ending in "s" is kept as it is."""
    if not word.endswith("s"):
        return word
    word = _lemma_table().get(word, word)
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _phrase_forms(phrase: str) -> list[str]:
    """A phrase and its inflected forms: the last word's plural, a leading verb's forms."""
    words = phrase.lower().split()
    forms = {phrase.lower()}
    if words:
        for form in inflections(words[-1]):
            forms.add(" ".join(words[:-1] + [form]))
        if len(words) > 1:
            for form in inflections(words[0], verb=True):
                forms.add(" ".join([form] + words[1:]))
    return sorted(forms)


def _pattern_on_lower(pattern: list[dict]) -> list[dict]:
    """A Matcher pattern written on LEMMA, turned into one on LOWER with every inflection."""
    out = []
    for token in pattern:
        token = dict(token)
        lemma = token.pop("LEMMA", None)
        if isinstance(lemma, dict) and "IN" in lemma:
            token["LOWER"] = {"IN": sorted({f for w in lemma["IN"] for f in inflections(w)})}
        elif isinstance(lemma, str):
            token["LOWER"] = {"IN": sorted(inflections(lemma))}
        out.append(token)
    return out


def _token_words(spec: dict) -> set[str]:
    words: set[str] = set()
    for key in ("LOWER", "LEMMA"):
        attr = spec.get(key)
        if isinstance(attr, dict):
            words |= set(attr.get("IN", []))
        elif isinstance(attr, str):
            words.add(attr)
    return words


def _only_words(spec: dict) -> bool:
    """Whether a pattern token (on LOWER) is matched by its words alone, once: no operator, no other test."""
    lower = spec.get("LOWER")
    return set(spec) == {"LOWER"} and (isinstance(lower, str) or (isinstance(lower, dict) and set(lower) == {"IN"}))


def _triggers(phrases: list[str]) -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """What makes a sentence worth giving to spaCy: a one-word cue, or a longer cue's
    first two words (``{first word: second words}``)."""
    single: set[str] = set()
    pairs: dict[str, set[str]] = {}
    for phrase in phrases:
        words = _WORD.findall(phrase)
        if len(words) == 1:
            single.add(words[0])
        elif words:
            pairs.setdefault(words[0], set()).add(words[1])
    return frozenset(single), {k: frozenset(v) for k, v in pairs.items()}


class _WordTokenizer:
    """spaCy tokenizer for lower-cased candidate sentences: the words of ``_WORD``, nothing else.

    The cues are words and phrases, so punctuation need not become tokens;
    ``token_starts`` recovers the words' offsets in the sentence when a cue is
    found. About twice as fast as spaCy's rule-based tokenizer, which matters
    because this runs on every candidate sentence.
    """

    def __init__(self, vocab):
        self.vocab = vocab

    def __call__(self, text: str):
        from spacy.tokens import Doc

        words = _WORD.findall(text)
        return Doc(self.vocab, words=words, spaces=[True] * len(words))

    def pipe(self, texts, batch_size: int = 1000):
        for text in texts:
            yield self(text)


def token_spans(sentence: str, upto: int) -> list[tuple[int, int]]:
    """Where each of the first ``upto`` tokens of ``_WordTokenizer``'s doc lies in ``sentence``."""
    return [m.span() for m in islice(_WORD.finditer(sentence), upto)]


#: Punctuation that parts the words of a phrase cue into two phrases ("data, science").
_PHRASE_BREAK = frozenset(",;:()[]|")
#: What parts the words of a pattern cue ("degree; partner with engineering" is no degree in
#: engineering): the end of a clause or of a field ("Degree: Computer Science" is one).
_PATTERN_BREAK = frozenset(";|")

#: What ends a clause inside a sentence, for negation: "Don't worry: engineers will help".
_CLAUSE_END = frozenset(":;")


def _clause_start(sentence: str, where: list[tuple[int, int]], cue: int) -> int:
    """The first word of the clause holding word ``cue`` of ``sentence``: the word after the last
    colon or semicolon before it within the negation window (``where``: the words' spans)."""
    for j in range(cue, max(0, cue - NEGATION_WINDOW), -1):
        if not _CLAUSE_END.isdisjoint(sentence[where[j - 1][1]:where[j][0]]):
            return j
    return 0


def _clause_end(sentence: str, where: list[tuple[int, int]], end: int) -> int | None:
    """Where the clause holding the cue that ends on word ``end - 1`` of ``sentence`` ends: the first
    word after the next semicolon ("Work with engineers; MBA not required"), None for none. (Not a
    colon: after a cue, one gives its value, "MBA: not required".)"""
    after = where[end - 1][1]
    stop = sentence.find(";", after)
    if stop < 0:
        return None
    return end + len(_WORD.findall(text_mod.lower_same_length(sentence[after:stop])))


class CueFinder:
    """Finds cues in posting texts. Builds its spaCy pipeline on first use."""

    def __init__(self, cue_path: str | None = None, batch_size: int = 256):
        self.cue_path = cue_path
        self.batch_size = batch_size
        self._nlp = None

    # The spaCy pipeline and matchers are rebuilt after unpickling, never stored.
    def __getstate__(self):
        state = self.__dict__.copy()
        for key in ("_nlp", "_phrase_matcher", "_matcher", "_keys", "_single", "_pairs", "_pair_keys", "_pattern_gates", "_gates_of", "_anchors", "_openers", "_one_word", "_window", "_not_a_cue"):
            state.pop(key, None)
        state["_nlp"] = None
        return state

    def _build(self) -> None:
        import spacy
        from spacy import attrs as spacy_attrs
        from spacy.matcher import Matcher, PhraseMatcher

        cue_lists = load_cue_lists(self.cue_path)
        # Tokenizer only: lemmas are matched through the inflections the lookup table
        # gives for each cue, so no lemmatizer has to run on every posting.
        nlp = spacy.blank("en")
        # spaCy works out some twenty lexical attributes (shape, stop word, like_num…) for each
        # word it has not seen, a large share of the cost of new words. The matchers read only
        # LOWER and the attributes the patterns name: compute just those.
        used = {"LOWER"} | {name.upper() for spec in cue_lists.values() for side in SIDES
                            for p in spec[side].get("patterns", []) for token in p for name in token}
        wanted = {spacy_attrs.IDS[name] for name in used if name in spacy_attrs.IDS}
        nlp.vocab.lex_attr_getters = {a: f for a, f in nlp.vocab.lex_attr_getters.items() if a in wanted}
        nlp.tokenizer = _WordTokenizer(nlp.vocab)
        phrase_matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        matcher = Matcher(nlp.vocab)
        keys: dict[int, tuple[str, str]] = {}
        all_phrases: list[str] = []
        all_patterns: list[list[dict]] = []
        pattern_keys: list[int] = []
        for distinction, spec in cue_lists.items():
            for side in SIDES:
                key = f"{distinction}:{side}"
                keys[nlp.vocab.strings.add(key)] = (distinction, side)
                phrases = sorted({f for p in spec[side]["phrases"] for f in _phrase_forms(p)})
                phrase_matcher.add(key, list(nlp.tokenizer.pipe(phrases)))
                patterns = [_pattern_on_lower(p) for p in spec[side].get("patterns", [])]
                if patterns:
                    matcher.add(key, patterns)
                all_phrases += phrases
                all_patterns += patterns
                pattern_keys += [nlp.vocab.strings[key]] * len(patterns)
        # Phrases that hold a cue word but are no cue: matched like cues, so that, being longer,
        # they win over the cue inside them; then dropped. (They need not pass the pre-filter:
        # they matter only where a cue does.)
        self._not_a_cue = nlp.vocab.strings.add(NOT_A_CUE)
        not_cues = sorted({f for p in load_not_cues(self.cue_path) for f in _phrase_forms(p)})
        if not_cues:
            phrase_matcher.add(NOT_A_CUE, list(nlp.tokenizer.pipe(not_cues)))
        self._nlp, self._phrase_matcher, self._matcher = nlp, phrase_matcher, matcher
        self._keys = keys
        self._single, self._pairs = _triggers(all_phrases)
        self._pair_keys = frozenset(self._pairs)
        # The token Matcher is slower than the PhraseMatcher: run it only on sentences holding
        # a word of some pattern's first token and of its last.
        # Every token of a pattern that is not optional must find one of its words.
        self._pattern_gates = [
            tuple(frozenset(_token_words(t)) for t in p if t.get("OP") not in ("?", "*") and _token_words(t))
            for p in all_patterns
        ]
        self._anchors = frozenset(w for p in all_patterns for w in _token_words(p[0]))
        # The gates of the patterns each anchor word can open: a sentence's anchors name the few
        # gates worth testing (its first token's words are one of every gate's requirements).
        gates_of: dict[str, list[tuple[frozenset[str], ...]]] = {}
        opened: dict[str, list[int]] = {}  # the patterns each anchor word opens, by number
        for n, (p, gate) in enumerate(zip(all_patterns, self._pattern_gates)):
            for w in _token_words(p[0]):
                gates_of.setdefault(w, []).append(gate)
                opened.setdefault(w, []).append(n)
        self._gates_of = {w: tuple(dict.fromkeys(g)) for w, g in gates_of.items()}
        # The words that can open a cue: a sentence holding none of them holds no cue (most hold none).
        self._openers = self._single | self._pair_keys | self._anchors
        # A word that opens one pattern alone, a pattern of that one word, is a match by itself:
        # no Matcher call is needed to find it ({word: the pattern's key}).
        self._one_word = {w: pattern_keys[ns[0]] for w, ns in opened.items()
                          if len(ns) == 1 and len(all_patterns[ns[0]]) == 1 and _only_words(all_patterns[ns[0]][0])}
        self._window = max((len(p) for p in all_patterns), default=0)
        self._processed = 0

    def _candidate(self, words: Sequence[str]) -> tuple[bool, bool]:
        """Whether a sentence's words may hold a phrase cue, and a pattern cue."""
        openers = self._openers.intersection(words)
        if not openers:
            return False, False
        anchors = self._anchors.intersection(openers)
        patterns = False
        if anchors:
            present = set(words)
            patterns = any(all(not required.isdisjoint(present) for required in gate)
                           for anchor in anchors for gate in self._gates_of[anchor])
        if patterns or not self._single.isdisjoint(openers):
            return True, patterns
        for first in self._pair_keys.intersection(openers):
            if not self._pairs[first].isdisjoint(words):
                return True, False
        return False, False

    def candidate(self, sentence: str) -> bool:
        """Whether a sentence may hold a cue (a cheap word-set test)."""
        if self._nlp is None:
            self._build()
        return self._candidate(_WORD.findall(sentence.lower()))[0]

    def find(self, texts: Sequence[str], drop_boilerplate: bool = True) -> list[list[Cue]]:
        """The cues in each normalised text, in text order."""
        return self.find_in_sentences(
            texts, [text_mod.sentences(t, drop_boilerplate=drop_boilerplate) for t in texts])

    def find_in_sentences(self, texts: Sequence[str],
                          sentences: Sequence[Sequence[text_mod.Sentence]],
                          words: Sequence[Sequence[list[str]]] | None = None) -> list[list[Cue]]:
        """The cues in each text, given its sentences (from ``text.sentences``) and, if
        already split, their words (from ``text.sentence_words``).

        Only sentences that pass the pre-filter go through spaCy, all texts'
        sentences together in one ``nlp.pipe`` stream.
        """
        if self._nlp is None or self._processed > 300_000:
            # spaCy's vocabulary keeps every new word it sees: start afresh now and
            # then, so that memory stays flat over millions of postings.
            self._build()
        # One spaCy doc per text, holding only its candidate sentences' words, joined by a
        # separator token that no cue holds; matches that cross a separator are dropped.
        # (One doc per sentence costs several times more in Doc set-up.)
        parts: list[list[tuple[int, int, bool, str, list[str]]]] = [[] for _ in texts]
        n_candidates = 0
        for i, sents in enumerate(sentences):
            split = words[i] if words is not None else text_mod.sentence_words(texts[i], sents)
            doc_length = 0
            for sent, sent_words in zip(sents, split):
                wanted, patterns = self._candidate(sent_words)
                # (first token in the doc, sentence offset, run the Matcher, sentence, its words)
                if wanted and not (text_mod.opens_as_the_company(sent_words)
                                   and text_mod.about_the_company(sent.text)):
                    first = doc_length + (len(_SEPARATOR) if parts[i] else 0)
                    parts[i].append((first, sent.start, patterns, sent.text, sent_words))
                    doc_length = first + len(sent_words)
                    n_candidates += 1
        self._processed += n_candidates
        out: list[list[Cue]] = [[] for _ in texts]
        owners = [i for i, p in enumerate(parts) if p]
        # The words are already split (the same split as _WordTokenizer's), so the docs are
        # made from them and handed to nlp.pipe, which runs whatever the pipeline holds.
        vocab = self._nlp.vocab

        def make_doc(i: int) -> Doc:
            words: list[str] = []
            for k, part in enumerate(parts[i]):
                if k:
                    words.extend(_SEPARATOR)
                words.extend(part[4])
            return Doc(vocab, words=words, spaces=[True] * len(words))

        docs = (make_doc(i) for i in owners)
        for i, doc in zip(owners, self._nlp.pipe(docs, batch_size=self.batch_size)):
            out[i].extend(self._cues_in(doc, parts[i], texts[i]))
        return out

    def _cues_in(self, doc, parts: list[tuple[int, int, bool, str, list[str]]],
                 original: str) -> Iterable[Cue]:
        """The cues in one text's doc of candidate sentences (``parts``: each sentence's first
        token in the doc, its offset in the text, whether to run the Matcher, its
        text and its words)."""
        spans = [(s, e, k, True) for k, s, e in self._phrase_matcher(doc)]
        # The token Matcher costs per token: run it on short windows that open with a
        # word a pattern can start with, in the sentences that may hold a pattern.
        for first, _, patterns, _, words in parts:
            if patterns:
                for j, word in enumerate(words):
                    if word not in self._anchors:
                        continue
                    # a window worth the Matcher's time holds every word some pattern opened by
                    # this word requires (the pre-filter asked it of the whole sentence)
                    window = words[j:j + self._window]
                    if any(all(not required.isdisjoint(window) for required in gate) for gate in self._gates_of[word]):
                        i = first + j
                        if word in self._one_word:
                            spans.append((i, i + 1, self._one_word[word], False))
                            continue
                        spans += [(i + s, i + e, k, False) for k, s, e in self._matcher(doc[i : i + self._window])
                                  if s == 0]
        if not spans:
            return
        spans.sort(key=lambda x: (x[0], -(x[1] - x[0])))
        firsts = [p[0] for p in parts]
        located = []
        for s, e, k, phrase in spans:
            n = bisect_right(firsts, s) - 1
            if e - firsts[n] <= len(parts[n][4]):  # not across into the next sentence
                located.append((n, s, e, k, phrase))
        # Character offsets are needed only up to the last token a match ends on, per sentence.
        upto: dict[int, int] = {}
        for n, s, e, k, _ in located:
            upto[n] = max(upto.get(n, 0), e - firsts[n])
        where_in = {n: token_spans(text_mod.lower_same_length(parts[n][3]), m) for n, m in upto.items()}
        # Longest match wins where matches overlap (e.g. "data pipeline" over "pipeline"). A phrase's
        # words are one phrase only where nothing but spaces and hyphens parts them: "big data,
        # science" holds no "data science" (the words are matched without their punctuation), and
        # "network, security" is no "network security", so it leaves "security" to be a cue of its
        # own. Patterns say for themselves what may come between their words, short of the end of a
        # clause (a semicolon, or a bar between fields).
        kept = []
        last_end = -1
        for n, s, e, k, phrase in located:
            if s < last_end:
                continue
            if e - s > 1:
                where = where_in[n]
                between = parts[n][3][where[s - firsts[n]][0]:where[e - firsts[n] - 1][1]]
                if not (_PHRASE_BREAK if phrase else _PATTERN_BREAK).isdisjoint(between):
                    continue
            last_end = e
            kept.append((n, s, e, k, phrase))
        sentence_cues: list[Cue] = []
        for at, (n, s, e, k, phrase) in enumerate(kept):
            first, offset = firsts[n], parts[n][1]
            where = where_in[n]
            if not (k == self._not_a_cue or (negated(parts[n][4], s - first, e - first)
                                             and negated(parts[n][4], s - first, e - first,
                                                         _clause_start(parts[n][3], where, s - first),
                                                         _clause_end(parts[n][3], where, e - first)))):
                start = offset + where[s - first][0]
                end = offset + where[e - first - 1][1]
                distinction, side = self._keys[k]
                sentence_cues.append(Cue(distinction, side, original[start:end], start, end))
            if at + 1 == len(kept) or kept[at + 1][0] != n:  # the sentence's last match
                yield from shared_teams(backgrounds_in_context(sentence_cues, parts[n][3], parts[n][1], parts[n][4]),
                                        parts[n][3], parts[n][1])
                sentence_cues = []
