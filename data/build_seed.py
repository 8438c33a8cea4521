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
    print(f"wrote {len(frame)} postings to {args.out}; by label: {frame['label'].value_counts().to_dict()}")
    print(f"dropped: {dict(dropped)}")
    if pairs:
        a, b = zip(*pairs)
        agree = sum(x == y for x, y in pairs) / len(pairs)
        print(f"second annotation on {len(pairs)} postings: agreement {agree:.3f}, "
              f"Cohen's kappa {cohen_kappa_score(a, b):.3f}")


if __name__ == "__main__":
    main()
