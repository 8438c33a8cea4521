"""Posting text: normalising, sections, sentences and boilerplate.

Everything here is plain string and regex work, so that the expensive spaCy
step downstream only sees the sentences that can carry evidence. (The language
check reads spaCy's stop-word lists as data, for the rare text that needs them.)
"""

from __future__ import annotations

import functools
import html
import importlib.util
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

_TAG = re.compile(r"<\s*(br|hr|/p|/li|/h[1-6]|/div|/table|/ul|/ol|li|p|h[1-6]|div|tr|dt|dd)\b[^>]*>", re.I)
_ANY_TAG = re.compile(r"<[^>\n]{1,200}>")
# White space other than a plain space or a line break, and runs of spaces. Folded in two
# steps, each skipped when there is nothing to fold: a regex over every word gap of every
# posting costs more than the rest of normalising.
_ODD_SPACE = re.compile(r"[\t\u00a0\u2000-\u200b\u3000]")
#: Line breaks other than \r and \n, as str.splitlines knows them: a vertical tab (Word's manual
#: line break), a form feed (a page break in text from a PDF), the file, group and record
#: separators, NEL and Unicode's line and paragraph separators.
_OTHER_LINE_BREAK = re.compile(r"[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
#: Invisible format characters that Unicode's word boundaries pass over (its Word_Break "Format"): a
#: soft hyphen ("road&shy;map"), a word joiner, a byte-order mark, direction marks and embeddings.
#: They are dropped, so that the word they sit in is one word. (Not the zero-width space, which
#: parts words, nor the joiners, which hold emoji together.)
_INVISIBLE = re.compile(r"[\u00ad\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
#: The Latin ligatures of text taken from a PDF ("ﬁnance", "workﬂow"), written out as their letters.
_LIGATURE = re.compile(r"[\ufb00-\ufb06]")
_LIGATURE_LETTERS = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi",
                                   "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"})
#: Any character of the four kinds above, or a tab: one search tells whether a posting needs the
#: four folds at all (most postings need none, and each search reads the whole text).
_UNUSUAL = re.compile(r"[\t\x0b\x0c\x1c-\x1e\x85\u00a0\u00ad\u2000-\u200f\u2028-\u202e\u2060-\u2064"
                      r"\u2066-\u2069\u3000\ufb00-\ufb06\ufeff]")
_SPACE_RUN = re.compile(r"  +")
_BLANKS = re.compile(r"\n\s*\n\s*\n+")
#: Where a job board may have run two words together when it dropped a pasted posting's line breaks: a
#: capital between lower-case letters (``unglue`` reads the word before it). Opening with a capital class,
#: the pattern is scanned for quickly.
_CAPITAL_INSIDE = re.compile(r"[A-Z](?<=[a-z][A-Z])(?=[a-z])")
#: Two degrees joined by a slash ("BA/BS", "B.S./M.S.", "MS/MBA", "PhD/MS"): one word to the cue finder,
#: which then read neither degree; parted as "BA / BS". (Opening with a capital class, for a quick scan.)
_SLASHED_DEGREES = re.compile(r"([BMP](?<![\w.][BMP])(?:\.?[AS](?:c(?![a-z]))?\.?|BA|h\.?D\.?))/"
                              r"(?=(?:[BM]\.?[AS](?:c(?![a-z]))?\.?|MBA|Ph\.?D\.?)(?!\w))")
#: What a degree before a slash ends with ("BA/", "B.S./", "BSc/", "PhD/"): a text without one of these holds
#: no slashed degrees, and is not scanned for them.
_SLASH_AFTER_DEGREE = ("A/", "S/", "c/", "D/", "./")
_SCRIPT = re.compile(r"<\s*(script|style)\b[^>]*>.*?<\s*/\s*\1\s*>", re.I | re.S)
#: Text holds markup where it holds a tag of HTML's: one of the commonest opened or closed, or a whole
#: tag of the others (a link, italics, a table, an image, a rule…). Not "<5 years" or "< a lot".
_LOOKS_HTML = re.compile(
    r"<\s*/?\s*(p|br|li|ul|div|h[1-6]|span|strong|b|em)\b|"
    r"</?(a|i|u|s|ol|table|thead|tbody|tfoot|tr|td|th|caption|img|hr|section|article|header|footer|main|nav|"
    r"font|small|big|sub|sup|strike|del|ins|mark|code|pre|blockquote|center|dl|dt|dd|html|body|head|meta|"
    r"link|title|label|figure|figcaption|address)(?:\s[^<>]{0,200})?/?>", re.I)


def normalise(text: str) -> str:
    """Strip markup, unescape entities and fold white space, keeping line breaks."""
    if _LOOKS_HTML.search(text) or "<script" in text or "<style" in text:
        text = _SCRIPT.sub(" ", text)
        text = _TAG.sub("\n", text)
        text = _ANY_TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _UNUSUAL.search(text):
        if not text.isascii():
            text = _INVISIBLE.sub("", text)
            if _LIGATURE.search(text):
                text = text.translate(_LIGATURE_LETTERS)
        text = _OTHER_LINE_BREAK.sub("\n", text)
        text = _ODD_SPACE.sub(" ", text)
    if "  " in text:
        text = _SPACE_RUN.sub(" ", text)
    text = unglue(text)
    if any(joined in text for joined in _SLASH_AFTER_DEGREE):
        text = _SLASHED_DEGREES.sub(r"\1 / ", text)
    text = _BLANKS.sub("\n\n", text)
    return text.strip()


def unglue(text: str) -> str:
    """``text`` with a line break put back between two words a job board ran together when it dropped
    a pasted posting's line breaks: a lower-case word of three or more letters, or an acronym's plural,
    straight before a capitalised word ("…for the engineering teamOwn the roadmap", "ranked by
    KPIsStrong writing"). Names joined this way open with a capital ("YouTube", "DevOps") or with one
    or two lower-case letters ("iPhone", "eBay", "tvOS"), and are kept."""
    pieces, last = [], 0
    for found in _CAPITAL_INSIDE.finditer(text):
        at = start = found.start()
        while start > 0 and text[start - 1].isalpha():
            start -= 1
        word = text[start:at]
        if start > 0 and (text[start - 1].isdigit() or text[start - 1] == "_"):
            continue
        if len(word) >= 3 and (word.islower() or (word[-1] == "s" and word[:-1].isupper())):
            pieces += (text[last:at], "\n")
            last = at
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


def single_line(text: str) -> str:
    """``text`` normalised (``normalise``: markup stripped, entities unescaped) and folded onto one
    line, every run of white space, line breaks too, one space: a posting's title, which is one line."""
    return " ".join(normalise(text).split())


def first_line(text: str, length: int = 80) -> str:
    """A posting's first line as pmtype reads it (``normalise``: an HTML posting's words, not its
    tags), runs of white space folded and cut to ``length`` characters: how messages and tables name
    a posting."""
    return " ".join(normalise(text).split("\n", 1)[0].split())[:length]


# --- sections -----------------------------------------------------------------

#: Headings that open the company's pitch, often written as a sentence or a question ("Why join
#: us?", "Why you'll love working here"), not in title case: headings still.
_PITCH_HEADING = re.compile(r"why (join|work|you.ll love)\b", re.I)

#: Section kinds, found from a heading's words.
SECTION_KINDS = {
    "role": re.compile(
        r"\b(responsibilit\w*|what you.ll (do|own|work on)|the role|"
        r"about (the|this) (role|job|position|team|opportunity)|"
        r"your (role|mission|impact)|day.to.day|the opportunity|the job|you will|duties|"
        r"in this role|job (description|summary)|position summary|role overview|the team)\b",
        re.I,
    ),
    "requirements": re.compile(
        r"\b(requirements?|qualifications?|what you.ll (need|bring)|who you are|must.have|"
        r"(who|what) we(.re| are) looking for|"
        r"skills|experience|about you|you (have|bring)|nice.to.have|preferred|bonus)\b",
        re.I,
    ),
    "benefits": re.compile(
        r"\b(benefits?|perks|what we offer|we offer|total rewards|" + _PITCH_HEADING.pattern + r"|"
        r"compensation|pay range|salary)\b",
        re.I,
    ),
    "legal": re.compile(
        r"\b(equal (employment )?opportunit\w*|eeo|diversity|inclusion|accommodations?|"
        r"privacy|e-verify|disclaimer|legal notice|notice to)\b",
        re.I,
    ),
    "company": re.compile(
        r"\b(about (us|the company|[\w&.\- ]{2,30})|who we are|our (story|company|mission)|"
        r"company (overview|description)|the company|life at)\b",
        re.I,
    ),
}

#: Sections whose text says nothing about the role.
BOILERPLATE_SECTIONS = frozenset({"company", "benefits", "legal"})

_HEADING = re.compile(
    r"^\s*(?:[#*_=]+\s*)?(?P<h>[A-Za-z][^\n.!?]{1,70}?)\s*(?:[*_=#]+)?\s*[:?]?\s*(?:[*_=#]+)?\s*$"
)


def _heading_kind(line: str) -> str | None:
    """The section kind a line opens, or None when the line is not a heading."""
    if len(line) > 80 or not line:
        return None
    stripped = line.strip()
    if not stripped or len(stripped) > 72 or stripped[0] in "-•*·▪–":
        if not stripped.startswith("**"):
            return None
    m = _HEADING.match(stripped)
    if not m:
        return None
    words = m.group("h").split()
    if len(words) > 9:
        return None
    looks_heading = (
        stripped.endswith(":")
        or stripped.isupper()
        or stripped.startswith(("**", "#"))
        or sum(w[:1].isupper() for w in words) >= max(1, len(words) - 2)
        or _PITCH_HEADING.match(m.group("h")) is not None
    )
    if not looks_heading:
        return None
    for kind, pattern in SECTION_KINDS.items():
        if pattern.search(m.group("h")):
            return kind
    return "other"


class Section(NamedTuple):
    kind: str  # "intro", "company", "role", "requirements", "benefits", "legal", "other"
    start: int
    end: int


def sections(text: str) -> list[Section]:
    """Split normalised text into sections by their headings, with character offsets."""
    out: list[Section] = []
    kind, start, pos = "intro", 0, 0
    for line in text.split("\n"):
        new_kind = _heading_kind(line)
        if new_kind is not None and new_kind != "other" and pos > start:
            out.append(Section(kind, start, pos))
            kind, start = new_kind, pos
        elif new_kind is not None and new_kind != "other":
            kind = new_kind
        pos += len(line) + 1
    out.append(Section(kind, start, len(text)))
    return out


# --- sentences and boilerplate -----------------------------------------------

#: Where a sentence ends: after . ! ? and white space before anything but a lower-case word (not after
#: "B.S." in "a B.S. in computer science" or "e.g." in "e.g. in payments"), or where text that lost its
#: line breaks runs one sentence into the next ("…product metrics.Key responsibilities…").
_SENTENCE_END = re.compile(r"(?<=[.!?])(?:\s+(?![\sa-z])|(?<=[a-z].)(?=[A-Z]))")

#: Lower-case fragments that mark a sentence as benefits, legal text or page furniture.
#: Plain substrings, tested with ``in`` (much faster than one large regex per sentence).
BOILERPLATE_FRAGMENTS = (
    "equal opportunit", "equal employment", "without regard to", "regardless of race",
    "regardless of age", "regardless of gender", "race, color", "race, colour", "sexual orientation",
    "gender identity", "protected veteran", "protected characteristic", "protected class",
    "national origin", "reasonable accommodation", "e-verify", "background check", "401(k)", "401k",
    "dental", "vision insurance", "paid time off", " pto", "parental leave", "pension", "wellness",
    "stipend", "tuition", "employee assistance", "life insurance", "health insurance",
    "health benefits", "medical, dental", "annual leave", "holidays", "recruitment agenc",
    "recruitment fraud", "unsolicited resume", "unsolicited cv", "privacy notice", "privacy policy",
    "personal data", "applicant data", "pay transparency", "salary range", "pay range", "base salary",
    "base pay", "compensation range", "compensation package", "show more", "apply now", "easy apply",
    "save this job", "save job", "report this job", "applicants", "posted ",
)
_SALARY = re.compile(r"\$\s?\d{2,3}[,.]?\d{0,3}\s?(k\b|,000)", re.I)


def is_boilerplate(sentence: str) -> bool:
    """Whether a sentence reads as benefits, legal text, pay or page furniture."""
    low = sentence.lower()
    if "$" in low and _SALARY.search(low):
        return True
    return any(fragment in low for fragment in BOILERPLATE_FRAGMENTS)


#: A sentence in the company's voice: "We…", "Our…", "At Acme, we…", "Join us…", "The company is…",
#: after any bullet, dash, quote or emoji ("✓ Our…", "● We…", "🚀 We…", "“We…") or a list's number
#: ("1) Our…", "2. We…", "(3) We…"): what comes before its first word.
_COMPANY_VOICE = re.compile(
    r"^[\W_]*(?:\d{1,3}[.)][\W_]*)?(?:we\b|we['’]re\b|our\b|at [A-Z][\w&.\- ]{1,40}, (?:we|our)\b|join (?:us|our)\b|"
    r"(?:the|our) (?:company|team) (?:is|has|was)\b)", re.I)
#: The first words (``WORD``, lower-cased) a sentence in the company's voice can open with.
COMPANY_VOICE_OPENERS = frozenset({"we", "our", "at", "join", "the"})


def opens_as_the_company(words: Sequence[str]) -> bool:
    """Whether a sentence's words (``WORD``, lower-cased) open as the company's voice may: with one
    of ``COMPANY_VOICE_OPENERS``, after a list's number or not ("1) Our…"). A cheap test before
    ``about_the_company``."""
    first = 1 if len(words) > 1 and words[0].isdigit() else 0
    return bool(words) and words[first] in COMPANY_VOICE_OPENERS
#: Words by which a sentence in the company's voice still speaks of the role ("We're looking for a PM who…").
_ABOUT_THE_ROLE = re.compile(
    r"\b(?:you|your|this role|the role|this position|product managers?|pms?|looking for|seeking|hiring|"
    r"candidates?|ideal)\b", re.I)


def about_the_company(sentence: str) -> bool:
    """Whether a sentence speaks of the company, not of the role: it opens in the company's voice
    ("We…", "Our…", "At Acme, we…") and names neither the role nor its holder ("you", "this
    role", "product manager", "looking for"…). Such text counts for nothing by the rubric."""
    return _COMPANY_VOICE.match(sentence) is not None and _ABOUT_THE_ROLE.search(sentence) is None


class Sentence(NamedTuple):
    """A sentence of a posting: its text, where it starts, which section holds it."""

    text: str
    start: int
    section: str


#: The labels of the job-criteria block a job board appends to a posting ("Seniority level … Employment
#: type … Job function … Industries …"), in their order; the block is looked for in the text's last
#: ``_CRITERIA_TAIL`` characters, and the page's "Show more Show less" before it goes with it.
_CRITERIA_LABELS = ("seniority level", "employment type", "job function", "industries")
_CRITERIA_LABEL = re.compile(r"\b(seniority level|employment type|job function|industries)\b", re.I)
_CRITERIA_TAIL = 600
#: After its "Industries" label, the block holds that label's value and nothing more: one line (or the
#: rest of a text that lost its line breaks) of at most this many characters. Labels followed by more
#: are no closing block (a short posting that opens with them goes on to the role).
_CRITERIA_VALUE = 200
_SHOW_MORE = re.compile(r"show more\s+show less\s*$", re.I)


def job_criteria_start(text: str) -> int:
    """Where the job-criteria block a job board ends a text with begins ("Seniority level Mid-Senior level
    Employment type Full-time Job function … Industries Software Development"), or the text's
    length where there is none: three or four of its labels, in their order, "Industries" the
    last, in the text's last few hundred characters, and after "Industries" only its value (one
    short line) to the end. The block is page furniture: its industries ("IT Services and IT
    Consulting") say nothing of the role."""
    found = list(_CRITERIA_LABEL.finditer(text, max(0, len(text) - _CRITERIA_TAIL)))
    if len(found) < 3 or found[-1].group(1).lower() != "industries":
        return len(text)
    value = text[found[-1].end():].strip(" \t\n:")
    if "\n" in value or len(value) > _CRITERIA_VALUE:
        return len(text)  # the labels go on to more text: not the block that ends a posting
    # the block's labels are the last ones found, once each, in their order
    order = [_CRITERIA_LABELS.index(m.group(1).lower()) for m in found]
    for first in range(len(order) - 2):
        if all(a < b for a, b in zip(order[first:], order[first + 1:])):
            start = found[first].start()
            show_more = _SHOW_MORE.search(text, max(0, start - 40), start)
            return show_more.start() if show_more else start
    return len(text)


def sentences(text: str, drop_boilerplate: bool = True) -> list[Sentence]:
    """The sentences of a normalised text, with offsets and section kinds.

    With ``drop_boilerplate``, sentences in company, benefits and legal sections,
    and sentences that read as benefits, legal or page furniture, are left out.
    A sentence said again word for word (a block pasted twice) is left out after
    its first time, so that repeating a posting does not make it count double.
    """
    out: list[Sentence] = []
    seen: set[str] = set()
    text = text[: job_criteria_start(text)]  # a job board's criteria block is never the role's text
    # Sections are needed only to leave boilerplate out.
    for section in sections(text) if drop_boilerplate else (Section("body", 0, len(text)),):
        if drop_boilerplate and section.kind in BOILERPLATE_SECTIONS:
            continue
        chunk = text[section.start : section.end]
        # Test sentences for boilerplate only where the section holds any of its fragments.
        check = drop_boilerplate and is_boilerplate(chunk)
        base, kind = section.start, section.kind
        pos = 0
        for line in chunk.split("\n"):
            if len(line) > 2:
                start = 0
                pieces = _SENTENCE_END.finditer(line) if ("." in line or "!" in line or "?" in line) else ()
                for m in pieces:
                    _add(out, seen, line[start : m.start()], base + pos + start, kind, check)
                    start = m.end()
                _add(out, seen, line[start:], base + pos + start, kind, check)
            pos += len(line) + 1
    return out


def _add(out: list[Sentence], seen: set[str], piece: str, offset: int, kind: str, check: bool) -> None:
    s = piece.strip()
    if len(s) < 3 or s in seen or (check and is_boilerplate(s)):
        return
    seen.add(s)
    out.append(Sentence(s, offset + len(piece) - len(piece.lstrip()), kind))


#: A word: letters and digits, with & + # / . - inside, ending on a letter, digit, + or #
#: ("c++", "ci/cd", "node.js", "b2b"), in lower-cased text. (Written with a look-behind for
#: the last character: the same words as an alternation, found about three times faster.)
WORD = re.compile(r"[a-z0-9][a-z0-9&+#/.\-]*(?<=[a-z0-9+#])")


def lower_same_length(s: str) -> str:
    """``s`` lower-cased, keeping each character where it was (offsets stay true)."""
    low = s.lower()
    if len(low) == len(s):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in s)


def sentence_words(text: str, sentences: list[Sentence]) -> list[list[str]]:
    """The lower-cased words (``WORD``) of each of a text's sentences.

    The text is lower-cased once and each sentence read as a slice of it. These
    words feed both the cue finder's pre-filter and the word n-grams, so a posting
    is split into words once.
    """
    if not sentences:
        return []
    low = lower_same_length(text)
    return [WORD.findall(low[s.start : s.start + len(s.text)]) for s in sentences]


def role_text(text: str, drop_boilerplate: bool = True) -> str:
    """The text that describes the role: the normalised posting less its boilerplate."""
    if not drop_boilerplate:
        return text
    return "\n".join(s.text for s in sentences(text, drop_boilerplate=True))


# --- language -----------------------------------------------------------------

#: Fewer letters than this are too few to tell a script by; fewer words than ``LANGUAGE_MIN_WORDS``
#: too few to tell a language by its words (a title, a short list of skills).
LANGUAGE_MIN_LETTERS = 20
LANGUAGE_MIN_WORDS = 12
#: Common English words that are no common word of the other languages postings come in
#: ("in", "an", "will", "of", "for" are: German, Dutch, Danish…).
_ENGLISH_WORDS = frozenset(
    "the and with you your our this that from have are their who which what into about".split())
#: A run of letters, in any script.
_LETTERS = re.compile(r"[^\W\d_]+")


def reads_as_english(text: str) -> bool:
    """Whether a posting is in English, as far as its words tell.

    A text is called not English only when it plainly reads as another language:
    most of its letters (at least ``LANGUAGE_MIN_LETTERS``) in another script
    (Cyrillic, Greek, Arabic, CJK…), or, in a text of ``LANGUAGE_MIN_WORDS`` words
    or more, hardly any of English's commonest words (under 3% of the words) where
    15% or more are another language's: a function word of a language spaCy knows
    (its stop-word lists) or a word with a letter English does not use (é, ß, ł…).
    Short texts, bilingual postings and lists of English keywords ("SQL,
    Kubernetes, Jira…") pass as English.

    Almost every English posting is settled by counting " the " and " and ",
    so the word-by-word reading only runs on the few texts that fail that.
    """
    gaps = text.count(" ") + text.count("\n") + 1
    if (text.count(" the ") + text.count(" and ")) * 50 >= gaps:  # 2% of the words or more
        return True
    words = _LETTERS.findall(text)  # the script as written: lower-casing moves some Latin letters (Ɠ → ɠ) out
    letters = sum(map(len, words))
    if letters < LANGUAGE_MIN_LETTERS:
        return True
    # Latin: Basic Latin to Latin Extended-B, and Latin Extended Additional (Vietnamese)
    other_script = sum(1 for w in words for c in w if c > "\u024f" and not "\u1e00" <= c <= "\u1eff")
    if other_script * 2 > letters:
        return False
    if len(words) < LANGUAGE_MIN_WORDS:
        return True
    words = [w.lower() for w in words]
    english = sum(w in _ENGLISH_WORDS for w in words) / len(words)
    others = _other_languages_words()
    other = sum(w in others or not w.isascii() for w in words) / len(words)
    return not (english < 0.03 and other >= 0.15)


@functools.lru_cache(maxsize=1)
def _other_languages_words() -> frozenset[str]:
    """The function words of the languages spaCy knows other than English (their stop-word
    lists), less any English stop word.

    Each list is read from its own ``spacy/lang/<code>/stop_words.py``, without importing
    the language's package (French's alone takes seconds to import, for its tokenizer
    exceptions); read once per process, and only for a text that fails the quick test.
    """
    import spacy.lang as spacy_lang
    from spacy.lang.en.stop_words import STOP_WORDS as english

    words: set[str] = set()
    for path in sorted(Path(spacy_lang.__file__).parent.glob("*/stop_words.py")):
        if path.parent.name in ("en", "xx"):
            continue
        spec = importlib.util.spec_from_file_location(f"_pmtype_stop_words_{path.parent.name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        words.update(w.lower() for w in getattr(module, "STOP_WORDS", ()) if len(w) >= 2 and w.isalpha())
    return frozenset(words - english - _ENGLISH_WORDS)
