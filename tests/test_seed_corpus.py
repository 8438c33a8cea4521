"""The seed corpus (data/seed/postings.csv): schema, labels, balance, hard cases, originality."""

import json
import re
from collections import defaultdict

import pandas as pd
import pytest

from conftest import REPO

SEED = REPO / "data" / "seed" / "postings.csv"
BANK = REPO / "data" / "seed" / "raw" / "boilerplate_bank.json"
WORD = re.compile(r"[a-z0-9]+")


@pytest.fixture(scope="module")
def corpus() -> pd.DataFrame:
    return pd.read_csv(SEED, dtype=str, keep_default_na=False)


def test_schema_and_ids(corpus):
    assert list(corpus.columns[:7]) == ["id", "title", "company", "description", "label", "hybrid", "source_note"]
    assert corpus["id"].is_unique
    assert (corpus["description"].str.strip() != "").all()
    assert (corpus["title"].str.strip() != "").all()
    assert set(corpus["hybrid"]) <= {"0", "1"}


def test_labels_and_counts(corpus):
    assert set(corpus["label"]) == {"technical", "business", "not_pm"}
    pm = corpus[corpus["label"] != "not_pm"]
    assert len(pm) >= 800
    assert (corpus["label"] == "not_pm").sum() >= 200
    share = (pm["label"] == "technical").mean()
    assert 0.45 <= share <= 0.55


def test_hard_cases_are_there(corpus):
    pm = corpus[corpus["label"] != "not_pm"]
    assert (pm["hybrid"] == "1").mean() >= 0.15
    assert pm["source_note"].str.contains("title points the other way").mean() >= 0.10
    roles = corpus.loc[corpus["label"] == "not_pm", "source_note"]
    assert roles.str.contains("technical program manager").sum() >= 20
    assert roles.str.contains("product marketing manager").sum() >= 20


def test_lengths_are_like_real_postings(corpus):
    lengths = corpus["description"].str.len()
    assert lengths.min() < 1000  # pasted snippets
    assert (lengths >= 8000).sum() >= 10  # long postings with every section
    assert ((lengths >= 2000) & (lengths <= 6000)).mean() >= 0.5
    assert corpus["industry"].str.lower().nunique() >= 15


def _shingles(text: str, n: int = 12) -> set[str]:
    words = WORD.findall(text.lower())
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_no_two_postings_share_a_long_run_beyond_the_boilerplate_bank(corpus):
    bank = json.loads(BANK.read_text(encoding="utf-8"))
    entries = sorted({e for values in bank.values() for e in values}, key=len, reverse=True)
    owners = defaultdict(set)
    for post_id, text in zip(corpus["id"], corpus["description"]):
        for entry in entries:  # what each posting wrote itself: its text less the bank's
            if entry in text:
                text = text.replace(entry, "\n")
        for s in _shingles(text):
            owners[s].add(post_id)
    shared = {s: sorted(ids) for s, ids in owners.items() if len(ids) > 1}
    assert not shared, list(shared.items())[:5]


def test_every_posting_reads_as_english(corpus):
    """The language check calls none of the corpus another language (so labelling never withholds them)."""
    from pmtype.text import normalise, reads_as_english

    called = [i for i, t, d in zip(corpus.id, corpus.title, corpus.description)
              if not reads_as_english(normalise(f"{t}\n\n{d}"))]
    assert called == []


def test_enough_postings_are_written_at_the_cue_density_of_real_ones(corpus):
    """Real postings hold few cues of their label's side: per 5,000 characters, a median of about 9
    (technical) and 13 (business), an upper quartile of about 14 and 18. Most written ones hold three to
    four times as many. A model taught only by dense postings leans on counts real ones never reach, so
    the corpus keeps a hundred or more postings of each label within the real range."""
    from pmtype.features import PreparePostings

    pm = corpus[corpus["label"] != "not_pm"]
    prepared = PreparePostings().fit(None).transform((pm["title"] + "\n\n" + pm["description"]).tolist())
    own_side = pd.Series([sum(c.side == label for c in p.cues) * 5000 / len(p.text)
                          for p, label in zip(prepared, pm["label"])], index=pm.index)
    ceiling = pm["label"].map({"technical": 15, "business": 19})
    sparse = pm.loc[own_side <= ceiling, "label"].value_counts()
    assert sparse.get("technical", 0) >= 100 and sparse.get("business", 0) >= 100, sparse.to_dict()


def test_no_posting_shares_a_long_run_with_the_real_postings(corpus, shared_data):
    """The real postings are for measurement only: no written posting may hold a 12-word run of theirs
    (the stock lines of large employers' postings, "Bachelor's degree or equivalent practical
    experience…", are the usual way in)."""
    real = set()
    for path in sorted(shared_data.glob("*.csv")):
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column in ("title", "description"):
            if column in table:
                for text in table[column]:
                    real |= _shingles(text)
    shared = {post_id: sorted(_shingles(text) & real)[:2]
              for post_id, text in zip(corpus["id"], corpus["title"] + "\n\n" + corpus["description"])
              if not _shingles(text).isdisjoint(real)}
    assert not shared, shared
