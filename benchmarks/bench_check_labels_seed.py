"""Does ``check-labels`` find more wrong labels in a small file with the seed corpus added?

A user's small file is played by 60 postings (30 technical, 30 business) with 6
labels flipped (3 each way). ``pmtype.curation.check_labels`` runs on it twice:
on the file's rows alone (``--no-seed``), and with the seed corpus in every fold's
training part (``--with-seed``, the default). Each draw picks other postings and
other flips. Counted: flipped labels found, and false alarms (rows flagged whose
label is right).

Two sources of small files:

- the seed corpus's own postings; the 60 are taken out of the seed corpus added,
  so the model never sees them with their true labels;
- the real labelled postings in ``../shared/data/real_dev.csv`` (read here, never
  copied; skipped where the folder is absent), with the whole seed corpus added.

The cue cache starts empty, so the first run with the seed corpus reads every
seed posting (spaCy), as a user's first check does; later runs find them there.

    python benchmarks/bench_check_labels_seed.py [--draws 4] [--rows 60] [--flips 6]

Prints the figures and lines for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import pandas as pd

from pmtype import config

REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "real_dev.csv"
SWAP = {"technical": "business", "business": "technical"}
COLUMNS = ["id", "title", "company", "description", "label"]


def draw(pool: pd.DataFrame, rows: int, flips: int, seed: int) -> tuple[pd.DataFrame, set[int]]:
    """A small labelled file from ``pool`` with ``flips`` labels swapped, and the swapped rows'
    numbers in the file (the header is row 1)."""
    picked = pd.concat([pool[pool.label == y].sample(rows // 2, random_state=seed + k)
                        for k, y in enumerate(("technical", "business"))])
    picked = picked[COLUMNS].sample(frac=1, random_state=seed).reset_index(drop=True)
    wrong = pd.concat([picked[picked.label == y].sample(flips // 2, random_state=seed + 10 + k)
                       for k, y in enumerate(("technical", "business"))]).index
    small = picked.copy()
    small.loc[wrong, "label"] = small.loc[wrong, "label"].map(SWAP)
    return small, {i + 2 for i in wrong}


def timed_check(path: Path, use_seed: bool, seed_path: Path) -> tuple[float, set[int]]:
    from pmtype.curation import check_labels

    started = time.perf_counter()
    check = check_labels(path, use_seed=use_seed, seed_path=seed_path)
    return time.perf_counter() - started, {issue.row for issue in check.issues}


def measure(name: str, pool: pd.DataFrame, corpus: pd.DataFrame, leave_out_drawn: bool, args,
            tmp: Path) -> dict[str, list]:
    totals = {"alone": [0, 0, []], "with seed": [0, 0, []]}  # found, false alarms, seconds
    print(f"{name}:")
    print(f"  {'draw':<5} {'run':<10} {'found':>6} {'false alarms':>13} {'seconds':>8}")
    for d in range(args.draws):
        small, truth = draw(pool, args.rows, args.flips, seed=d)
        path, seed_path = tmp / f"{name}-small{d}.csv", tmp / f"{name}-seed{d}.csv"
        small.to_csv(path, index=False)
        (corpus[~corpus.id.isin(small.id)] if leave_out_drawn else corpus).to_csv(seed_path, index=False)
        for run in ("alone", "with seed"):
            seconds, flagged = timed_check(path, run == "with seed", seed_path)
            found, false = len(flagged & truth), len(flagged - truth)
            totals[run][0] += found
            totals[run][1] += false
            totals[run][2].append(seconds)
            print(f"  {d:<5} {run:<10} {found:>4}/{len(truth)} {false:>13} {seconds:>8.1f}", flush=True)
    return totals


#: The sizes of small file a draw can take: check-labels' five folds need rows of both labels in
#: each, and half the rows of each label come from the real postings (37 technical).
MIN_ROWS, MAX_ROWS = 20, 74


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--draws", type=int, default=4, help="small files drawn (at least 1)")
    ap.add_argument("--rows", type=int, default=60,
                    help=f"rows of the small file (half technical, half business; {MIN_ROWS} to {MAX_ROWS})")
    ap.add_argument("--flips", type=int, default=6, help="labels swapped in it (half each way; at most half the rows)")
    args = ap.parse_args()
    if args.draws < 1:
        ap.error("--draws must be at least 1")
    if not MIN_ROWS <= args.rows <= MAX_ROWS:
        ap.error(f"--rows must be from {MIN_ROWS} (check-labels' folds need them) to {MAX_ROWS} (the fewest "
                 "postings of one label in the real postings, doubled)")
    if not 0 <= args.flips <= args.rows // 2:
        ap.error("--flips must be from 0 to half of --rows")
    corpus = pd.read_csv(config.seed_corpus_path(), dtype=str, keep_default_na=False)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PMTYPE_MODELS_DIR"] = str(Path(tmp) / "models")  # an empty cue cache
        results["seed corpus postings"] = measure("seed", corpus, corpus, True, args, Path(tmp))
        if REAL.is_file():
            real = pd.read_csv(REAL, dtype=str, keep_default_na=False)
            results["real postings (../shared/data)"] = measure("real", real, corpus, False, args, Path(tmp))
        else:
            print(f"Skipped the real postings: {REAL} is absent.")
    planted = args.draws * args.flips
    print()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"load average when done: {os.getloadavg()[0]:.1f}")
    print()
    print("For benchmarks/RESULTS.md:")
    print(f"| {args.rows} rows, {args.flips} labels flipped, {args.draws} draws | check-labels | flipped labels found "
          "| false alarms | seconds a run |")
    print("|---|---|---|---|---|")
    for source, totals in results.items():
        for run, (found, false, seconds) in totals.items():
            print(f"| {source} | {'the file alone' if run == 'alone' else '--with-seed'} | {found} of {planted} "
                  f"| {false} | {min(seconds):.1f}–{max(seconds):.1f} |")


if __name__ == "__main__":
    main()
