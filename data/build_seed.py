"""Assemble data/seed/postings.csv from the written parts in data/seed/raw/.

Each posting in raw/writer*.jsonl was written with a label (the first
annotation); raw/annotations_second.jsonl holds a second, independent
annotation. A posting enters the corpus only when both agree on the label
(technical / business / not_pm); ``hybrid`` is 1 where either annotator
marked it so. Benefits, equal-opportunity text, closings and pasted page
artefacts come from the boilerplate bank (raw/boilerplate_bank.json), chosen
per posting by a seeded random generator, so the build is reproducible.

    python data/build_seed.py            # writes data/seed/postings.csv and prints the agreement
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from collections import Counter
from pathlib import Path

import pandas as pd
from sklearn.metrics import cohen_kappa_score

HERE = Path(__file__).resolve().parent
RAW = HERE / "seed" / "raw"


def _rng(post_id: str) -> random.Random:
    return random.Random(int(hashlib.sha256(post_id.encode()).hexdigest()[:12], 16))


def dress(row: dict, bank: dict) -> str:
    """The written description with bank boilerplate around it, as real pages have."""
    rng = _rng(row["id"])
    body = row["description"].strip()
    parts = [body]
    if row.get("length_class") != "snippet":
        if rng.random() < 0.8:
            parts.append(rng.choice(bank["benefits"]))
        if rng.random() < 0.3:
            parts.append(rng.choice(bank["closings"]))
        if rng.random() < 0.75:
            parts.append(rng.choice(bank["eeo"]))
        if rng.random() < 0.25:
            parts.append(rng.choice(bank["eeo"]))
    if rng.random() < 0.3:
        parts.append(rng.choice(bank["page_chrome"]))
    if rng.random() < 0.15:
        parts.insert(0, rng.choice(bank["page_chrome"]))
    joiner = rng.choice(["\n\n", "\n\n", "\n", "\n\n\n"])
    return joiner.join(dict.fromkeys(parts))


def _table(counts: dict, head: str) -> str:
    lines = [f"| {head} | postings |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in counts.items()]
    return "\n".join(lines)


def write_card(frame: pd.DataFrame, written: list, dropped: Counter, agreement, bank: dict) -> None:
    """data/README.md: the data card, with every figure computed from the corpus."""
    pm = frame[frame.label != "not_pm"]
    lengths = frame.description.str.len()
    mismatch = sum(1 for w in written if w.get("title_points_other_way") and w["id"] in set(pm.id))
    bins = pd.cut(lengths, [0, 1000, 2000, 4000, 6000, 8000, 10**9],
                  labels=["< 1,000", "1,000-2,000", "2,000-4,000", "4,000-6,000", "6,000-8,000", "8,000+"])
    industries = frame.industry.str.lower().value_counts()
    big = industries[industries >= 5]
    not_pm_roles = Counter(w.get("role_type") for w in written if w["label"] == "not_pm" and w["id"] in set(frame.id))
    writer = frame.id.str.extract(r"w(\d+)-")[0].astype(int)
    wave1, wave2, wave3, wave4, wave5 = (writer <= 7, (writer >= 8) & (writer <= 11),
                                         (writer >= 12) & (writer <= 19), (writer >= 20) & (writer <= 24),
                                         writer >= 25)
    ids = writer.unique()
    text = f"""# The seed corpus: data card

`seed/postings.csv` holds {len(frame)} job postings written for pmtype, labelled by
`LABELING.md` (the rubric beside the repository, in `../shared/`). It is the
training data of the default model and ships inside the wheel. No text in it
comes from a real posting: real postings are used only to measure pmtype,
outside this repository.

Columns: `id, title, company, description, label, hybrid, source_note`
(plus `industry` and `seniority`, which the writers recorded).

## How it was made

- **Writing.** The postings were written in {len(ids)} sessions (ids `w1`…`w18`, `w20`…`w{writer.max()}`) from a
  brief that restates the rubric, lists the sections, formats and noise of real
  postings, and asks for hard cases on purpose: hybrids, titles that point the
  other way, business roles at technical companies and technical roles in
  non-technical industries, shared PM duties in both labels. Writers 1–7
  wrote postings across assigned industries, PM and non-PM ({int(wave1.sum())} of them in the corpus:
  counts here are after the postings the two labels disagreed on were dropped). The first
  wave's postings were too pure and too short, so writers 8–11 (a second wave)
  wrote longer PM postings ({int(wave2.sum())} in the corpus) in which both columns are always present and
  the dominant one decides, and writers 12–18 (a third wave) wrote very long
  ones ({int(wave3.sum())} in the corpus) with every section of a large employer's posting. A fourth wave (writers 20–24,
  {int(wave4.sum())} postings) put the deciding part of each posting inside a large employer's
  template whose generic text points the other way, wrote near-balanced postings decided
  by the responsibilities and requirements, and pasted a third of them as a job board
  does (line breaks lost, headings and bullets run inline). A fifth wave (writers 25 and up,
  {int(wave5.sum())} postings) was written at the cue density of real postings: the writers of the
  earlier waves put four to five times as many of the cues pmtype counts into a posting as real employers do
  (about 41 cues of a technical posting's own side per 5,000 characters, against about 9 in real ones), so
  these writers checked each posting with pmtype's cue finder and kept it within the real range (technical
  postings 6–15 technical and 4–12 business cues per 5,000 characters; business postings 2–10 and 8–19),
  with the rest of the text the neutral matter real postings are made of: the shared core of the work,
  company and team paragraphs, pay, place and hiring steps. Fictional companies throughout.
- **Boilerplate bank.** Benefits, equal-opportunity and legal statements,
  closings and pasted page artefacts come from a bank written for the project
  (`seed/raw/boilerplate_bank.json`: {len(bank['benefits'])} benefits sections, {len(bank['eeo'])} legal statements,
  {len(bank['closings'])} closings, {len(bank['page_chrome'])} page artefacts), attached to each posting by a seeded
  random generator in `build_seed.py`; snippets get no benefits, closings or legal statements (page artefacts, like
  any posting's, may be added). Everything else is
  written per posting.
- **Two independent labels.** The writer's label is the first annotation. A
  second session labelled every posting again from its title and text alone,
  without seeing the first label (`seed/raw/annotations_second.jsonl`).
  Agreement: {agreement[0]:.1%} on {agreement[2]} postings, Cohen's kappa {agreement[1]:.3f}.
  Disagreements are dropped ({dropped.get('annotators disagree', 0)} postings); postings without a second
  label are left out ({dropped.get('no second annotation', 0)}). `hybrid` is 1 where either annotator
  marked it. Rebuild with `make corpus`.
- **No copying.** Writers never saw the real postings; a check rejects any
  12-word run shared by two postings (`tests/test_seed_corpus.py`).

## What is in it

{_table(frame.label.value_counts().to_dict(), "label")}

- PM postings: {len(pm)} ({(pm.label == 'technical').mean():.1%} technical, {(pm.label == 'business').mean():.1%} business).
- Hybrids: {pm.hybrid.mean():.1%} of PM postings; titles that point the other way: {mismatch / len(pm):.1%}.
- Not-PM roles: {', '.join(f'{k} {v}' for k, v in not_pm_roles.most_common(12))}, and {sum(v for k, v in not_pm_roles.most_common()[12:])} postings of {len(not_pm_roles) - 12} other roles.
- Industries: {len(industries)} named; {len(big)} with at least 5 postings:
  {', '.join(f'{k} ({v})' for k, v in big.items())}.

{_table(frame.seniority.value_counts().to_dict(), "seniority")}

Length of `description` (characters, boilerplate included): median
{int(lengths.median())}, 10th percentile {int(lengths.quantile(0.1))}, 90th percentile {int(lengths.quantile(0.9))}, longest {int(lengths.max())}.

{_table(bins.value_counts().sort_index().to_dict(), "length")}

## Known gaps

- Shorter than real postings: real ones have a median near 5,000 characters;
  the written ones are shorter and few pass 8,000.
- Cleaner than real postings: even the second wave is more clear-cut than real
  postings, where the two columns are often close and much text is an
  employer's template. The second annotator marked few hybrids, and agreement
  is higher than on real postings, which says the written postings are easier.
  The fourth wave's writers meant two thirds of their postings as near-balanced;
  the second annotator called every one of them clear or leaning, none a coin flip.
  The fifth wave's writers meant about two in five as hybrids; the second annotators marked three,
  and called none a coin flip.
- Denser than real postings: the first four waves, most of the corpus, hold four to five
  times as many cues per character as real postings do; only the fifth wave is written at the
  real density.
- The default model trained here scores far higher in cross-validation on this
  corpus than on real postings (see `benchmarks/RESULTS.md`): the corpus does
  not yet teach the whole distinction.
- English only; US-centred pay and benefits, with some UK, EU, India and APAC.
"""
    (HERE / "README.md").write_text(text, encoding="utf-8")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(HERE / "seed" / "postings.csv"))
    ap.add_argument("--allow-unannotated", action="store_true",
                    help="keep postings without a second annotation (for development only)")
    args = ap.parse_args(argv)
    bank = json.loads((RAW / "boilerplate_bank.json").read_text(encoding="utf-8"))
    written = []
    for path in sorted(RAW.glob("writer*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                written.append(json.loads(line))
    second = {}
    ann = RAW / "annotations_second.jsonl"
    if ann.exists():
        for line in ann.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                second[r["id"]] = r
    rows, pairs, dropped = [], [], Counter()
    for w in written:
        s = second.get(w["id"])
        if s is None:
            if not args.allow_unannotated:
                dropped["no second annotation"] += 1
                continue
            s = {"label": w["label"], "hybrid": w["hybrid"]}
        else:
            pairs.append((w["label"], s["label"]))
        if s["label"] != w["label"]:
            dropped["annotators disagree"] += 1
            continue
        hybrid = int(bool(w.get("hybrid")) or bool(s.get("hybrid"))) if w["label"] != "not_pm" else 0
        note = f"written by helper {w['id'].split('-')[0]}; second annotation agrees"
        if w.get("title_points_other_way"):
            note += "; title points the other way"
        if w["label"] == "not_pm":
            note += f"; role: {w.get('role_type')}"
        rows.append({
            "id": w["id"], "title": w["title"], "company": w["company"],
            "description": dress(w, bank), "label": w["label"], "hybrid": hybrid,
            "source_note": note, "industry": w.get("industry", ""), "seniority": w.get("seniority", ""),
        })
    frame = pd.DataFrame(rows)
    frame.to_csv(args.out, index=False, lineterminator="\n")
    agreement = None
    if pairs:
        a, b = zip(*pairs)
        agreement = (sum(x == y for x, y in pairs) / len(pairs), cohen_kappa_score(a, b), len(pairs))
    if not args.allow_unannotated:
        write_card(frame, written, dropped, agreement, bank)
    print(f"wrote {len(frame)} postings to {args.out}; by label: {frame['label'].value_counts().to_dict()}")
    print(f"dropped: {dict(dropped)}")
    if agreement:
        print(f"second annotation on {agreement[2]} postings: agreement {agreement[0]:.3f}, "
              f"Cohen's kappa {agreement[1]:.3f}")


if __name__ == "__main__":
    main()
