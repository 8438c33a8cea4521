"""Killing `pmtype label` or `pmtype train` at a bad moment loses nothing and leaves nothing half-made."""

import json
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from conftest import BUSINESS_POSTING, TECH_POSTING
from pmtype.batch import label_file


def _input(tmp_path, n=300):
    src = tmp_path / "in.csv"
    texts = [TECH_POSTING if i % 3 else BUSINESS_POSTING for i in range(n)]
    texts[7] = ""
    pd.DataFrame({"id": [f"r{i}" for i in range(n)], "description": texts}).to_csv(src, index=False)
    return src


def _cmd(*args):
    return [sys.executable, "-m", "pmtype", *map(str, args)]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killed_label_leaves_no_output_and_resumes_to_the_same_file(tmp_path, model_dir, sig):
    src = _input(tmp_path)
    expected = tmp_path / "expected.csv"
    label_file(src, expected, model=model_dir, chunk_size=5, jobs=1)
    out = tmp_path / "out.csv"
    progress = tmp_path / ".out.csv.progress.json"
    proc = subprocess.Popen(_cmd("label", src, "-o", out, "--model", model_dir, "--chunk-size", 5,
                                 "--jobs", 1, "--quiet"), stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline:
        if progress.exists():
            try:
                if json.loads(progress.read_text())["rows"] >= 40:
                    break
            except ValueError:
                pass
        time.sleep(0.02)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    assert not out.exists()
    done = json.loads(progress.read_text())["rows"]
    assert 40 <= done < 300
    r = subprocess.run(_cmd("label", src, "-o", out, "--model", model_dir, "--chunk-size", 5,
                            "--jobs", 1, "--resume"), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"resuming after {done} rows already labelled" in r.stderr
    assert out.read_bytes() == expected.read_bytes()
    assert not progress.exists() and not (tmp_path / ".out.csv.part").exists()


def test_resume_of_a_different_input_starts_afresh(tmp_path, model_dir):
    src = _input(tmp_path, n=20)
    out = tmp_path / "out.csv"
    (tmp_path / ".out.csv.part").write_text("stale,partial\n")
    (tmp_path / ".out.csv.progress.json").write_text(json.dumps({"identity": {"input": "other"}, "rows": 5, "bytes": 14}))
    summary = label_file(src, out, model=model_dir, chunk_size=5, resume=True)
    assert summary.resumed_rows == 0
    assert len(pd.read_csv(out)) == 20


def test_killed_training_leaves_no_model(tmp_path, corpus_csv):
    target = tmp_path / "models" / "new"
    proc = subprocess.Popen(_cmd("train", corpus_csv, "-o", target, "--no-seed"), stderr=subprocess.PIPE)
    deadline = time.time() + 120
    line = b""
    while time.time() < deadline and b"cross-validating" not in line:
        line = proc.stderr.readline()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert not target.exists()
    r = subprocess.run(_cmd("train", corpus_csv, "-o", target, "--no-seed"), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (target / "manifest.json").is_file()
