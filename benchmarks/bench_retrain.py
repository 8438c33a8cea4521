"""How long retraining takes on the seed corpus plus 10,000 user rows (target: under a minute).

The user rows are made from the seed corpus: each joins the first half of one
seed posting's paragraphs to the second half of another's with the same label,
so every row is a new, distinct posting of realistic length. The figures are
wall-clock times of ``pmtype.training.train`` from reading the files to the
saved model: reading and checking the rows, the spaCy cues, 5-fold
cross-validation, the final fit, the scope check and the atomic save. First
the model is trained on the seed corpus and all but the last 50 user rows,
every posting new (nothing in the cue cache); then the user adds the 50 rows
they labelled since (from ``pmtype suggest``) and retrains on the seed corpus
plus all 10,000: only the 50 new postings are read (spaCy) again.

    python benchmarks/bench_retrain.py [--rows 10000] [--jobs N]

Prints the figure and a line for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import tempfile
import time
from pathlib import Path

import pandas as pd

from pmtype import config
from pmtype.training import train


#: The rows a user labels after the first training and retrains with.
NEW_ROWS = 50
#: The target: retraining on the seed corpus plus this many user rows in under this many seconds.
TARGET_ROWS, TARGET_SECONDS = 10_000, 60


def user_rows(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` distinct labelled postings recombined from the seed corpus's technical and business ones."""
    corpus = pd.read_csv(config.seed_corpus_path(), dtype=str, keep_default_na=False)
    by_label = {y: corpus[corpus.label == y] for y in ("technical", "business")}
    rng = random.Random(seed)
    seen = set(corpus.description)
    out = []
    while len(out) < n:
        label = rng.choice(("technical", "business"))
        pool = by_label[label]
        a, b = (pool.iloc[rng.randrange(len(pool))] for _ in range(2))
        first, second = a.description.split("\n\n"), b.description.split("\n\n")
        text = "\n\n".join(first[: max(1, len(first) // 2)] + second[len(second) // 2:])
        if text in seen:
            continue
        seen.add(text)
        out.append({"id": f"u{len(out)}", "title": a.title, "description": text, "label": label})
    return pd.DataFrame(out)


def verdict(rows: int, seconds: float) -> str:
    """The results table's verdict on the target, which is for 10,000 user rows: none for fewer (a
    smaller run says nothing about it), nor for a larger run that took longer than the target."""
    target = f"target < {TARGET_SECONDS} s"
    if seconds < TARGET_SECONDS and rows >= TARGET_ROWS:
        return f"{target}: met"
    if rows == TARGET_ROWS:
        return f"{target}: missed"
    return f"{target} is for {TARGET_ROWS:,} user rows: no verdict"


def timed_train(users: Path, target: Path, cache: Path, jobs: int | None) -> tuple[float, dict]:
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"  {time.perf_counter() - started:6.1f}s  {message}", flush=True)

    manifest = train([users], target, use_seed=True, jobs=jobs, progress=progress, cue_cache=cache)
    return time.perf_counter() - started, manifest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=TARGET_ROWS, help="user rows added to the seed corpus (more than 50)")
    ap.add_argument("--jobs", type=int, default=None, help="training processes (default: pmtype's choice)")
    args = ap.parse_args()
    if args.rows <= NEW_ROWS:
        ap.error(f"--rows must be more than {NEW_ROWS}: the last {NEW_ROWS} are the rows added before retraining")
    if args.jobs is not None and args.jobs < 0:
        ap.error("--jobs must be at least 0 (0: all cores)")
    with tempfile.TemporaryDirectory() as tmp:
        users = Path(tmp) / "user_rows.csv"
        frame = user_rows(args.rows)
        frame.iloc[:-NEW_ROWS].to_csv(users, index=False)
        cache = Path(tmp) / "cache"
        print(f"first training: seed corpus + {args.rows - NEW_ROWS} user rows, none read before")
        first, _ = timed_train(users, Path(tmp) / "first", cache, args.jobs)
        frame.to_csv(users, index=False)
        print(f"retraining: seed corpus + {args.rows} user rows ({NEW_ROWS} of them new)")
        again, manifest = timed_train(users, Path(tmp) / "again", cache, args.jobs)
    data = manifest["data"]
    cv = manifest["metrics"]["cross_validation"]["metrics"]
    print()
    print(f"retrained on {data['rows']} postings (seed corpus + {args.rows} user rows; {data['by_label']}) "
          f"in {again:.1f} s (the first training, reading every posting: {first:.1f} s); "
          f"cross-validated macro-F1 {cv['macro_f1']['value']:.3f}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"load average when done: {os.getloadavg()[0]:.1f}")
    print()
    print("For benchmarks/RESULTS.md:")
    print(f"| retrain: seed corpus + {args.rows:,} user rows ({data['rows']:,} postings; 5-fold CV, final fit, "
          f"scope check, save) | {again:.1f} s (first training {first:.1f} s) | {verdict(args.rows, again)} |")


if __name__ == "__main__":
    main()
