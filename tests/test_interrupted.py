"""Killing `pmtype label` or `pmtype train` at a bad moment loses nothing and leaves nothing half-made."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from conftest import BUSINESS_POSTING, TECH_POSTING
from pmtype import persist
from pmtype.batch import label_file


def _input(tmp_path, n=300):
    src = tmp_path / "in.csv"
    texts = [TECH_POSTING if i % 3 else BUSINESS_POSTING for i in range(n)]
    texts[7] = ""
    pd.DataFrame({"id": [f"r{i}" for i in range(n)], "description": texts}).to_csv(src, index=False)
    return src


def _cmd(*args):
    return [sys.executable, "-m", "pmtype", *map(str, args)]


#: The first line of the child processes below: take Ctrl-C as at a terminal. A shell without
#: job control starts background commands (a CI run, say) with SIGINT ignored, and Python keeps
#: that for the processes they start: pmtype would then rightly run on, and the tests would fail.
_AS_AT_A_TERMINAL = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"

#: ``pmtype label`` slowed to one chunk per 50 ms, so that a signal sent after the first
#: chunks arrives before the last one, however fast or busy the machine.
_SLOW_CHUNKS = _AS_AT_A_TERMINAL + """
import time
from pmtype.tables import ResumableOutput
write = ResumableOutput.write
def slow(self, frame):
    write(self, frame)
    time.sleep(0.05)
ResumableOutput.write = slow
from pmtype.cli import run
run()
"""


#: ``pmtype label`` whose Ctrl-C, after 40 rows, is raised in a finalizer, where Python ignores
#: it: as when SIGINT arrives while a generator dropped by the labelling code is being closed.
_INTERRUPT_IN_A_FINALIZER = _AS_AT_A_TERMINAL + """
from pmtype.tables import ResumableOutput
write = ResumableOutput.write
class Finalizer:
    def __del__(self):
        raise KeyboardInterrupt
def write_then_interrupt(self, frame):
    write(self, frame)
    if self.rows_done == 40:
        Finalizer()  # dropped at once
ResumableOutput.write = write_then_interrupt
from pmtype.cli import run
run()
"""


def test_a_ctrl_c_python_ignores_in_a_finalizer_still_stops_label(tmp_path, model_dir):
    src = _input(tmp_path)
    out = tmp_path / "out.csv"
    args = ["label", src, "-o", out, "--model", model_dir, "--chunk-size", 5, "--jobs", 1, "--quiet"]
    r = subprocess.run([sys.executable, "-c", _INTERRUPT_IN_A_FINALIZER, *map(str, args)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 130, r.stderr
    assert r.stderr.splitlines() == ["Error: interrupted"]
    assert not out.exists()
    assert 40 <= json.loads((tmp_path / ".out.csv.progress.json").read_text())["rows"] < 300


@pytest.mark.parametrize("sig,name", [(signal.SIGKILL, "out.csv"), (signal.SIGTERM, "out.csv"),
                                      (signal.SIGINT, "out.csv"), (signal.SIGKILL, "out.parquet"),
                                      (signal.SIGTERM, "out.jsonl.gz")])
def test_killed_label_leaves_no_output_and_resumes_to_the_same_file(tmp_path, model_dir, sig, name):
    src = _input(tmp_path)
    expected = tmp_path / f"expected-{name}"
    label_file(src, expected, model=model_dir, chunk_size=5, jobs=1)
    out = tmp_path / name
    progress = tmp_path / f".{name}.progress.json"
    args = ["label", src, "-o", out, "--model", model_dir, "--chunk-size", 5, "--jobs", 1, "--quiet"]
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_CHUNKS, *map(str, args)], stderr=subprocess.PIPE)
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
    stderr = proc.communicate(timeout=60)[1].decode(errors="replace")
    assert proc.returncode != 0, stderr
    assert not out.exists()
    done = json.loads(progress.read_text())["rows"]
    assert 40 <= done < 300
    r = subprocess.run(_cmd("label", src, "-o", out, "--model", model_dir, "--chunk-size", 5,
                            "--jobs", 1, "--resume"), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"resuming after {done} rows already labelled" in r.stderr
    last = r.stderr.strip().splitlines()[-1]  # this run's rows, and those of the run it continued
    assert last.startswith(f"{300 - done} rows labelled in ") and f"/s), after {done} rows labelled before: " in last
    assert out.read_bytes() == expected.read_bytes()
    assert not progress.exists() and not (tmp_path / f".{name}.part").exists()
    if name.endswith(".parquet"):  # one row group per chunk, as an uninterrupted run writes
        import pyarrow.parquet as pq

        assert pq.ParquetFile(out).metadata.num_row_groups == 60
        assert pd.read_parquet(out)["id"].tolist() == [f"r{i}" for i in range(300)]


def test_resume_of_parquet_drops_a_chunk_file_the_killed_run_left_unrecorded(tmp_path, model_dir, monkeypatch):
    import pyarrow.parquet as pq

    from pmtype.tables import ResumableOutput

    src = _input(tmp_path, n=20)
    identities = []
    enter = ResumableOutput.__enter__
    monkeypatch.setattr(ResumableOutput, "__enter__", lambda self: identities.append(self.identity) or enter(self))
    expected = tmp_path / "expected.parquet"
    label_file(src, expected, model=model_dir, chunk_size=5, jobs=1)
    parts = tmp_path / ".out.parquet.part"
    parts.mkdir()
    whole = pq.ParquetFile(expected)
    for i in range(3):  # three chunks written, but only two recorded: the third counts for nothing
        pq.write_table(whole.read_row_group(i), parts / f"{i:08d}.parquet")
    (parts / "00000003.parquet.tmp").write_bytes(b"half a chunk")
    (tmp_path / ".out.parquet.progress.json").write_text(
        json.dumps({"identity": identities[0], "rows": 10, "chunks": 2}))
    out = tmp_path / "out.parquet"
    summary = label_file(src, out, model=model_dir, chunk_size=5, jobs=1, resume=True)
    assert summary.resumed_rows == 10 and summary.rows == 10
    assert out.read_bytes() == expected.read_bytes()
    assert not parts.exists() and not (tmp_path / ".out.parquet.progress.json").exists()


def test_resume_of_a_different_input_starts_afresh(tmp_path, model_dir):
    src = _input(tmp_path, n=20)
    out = tmp_path / "out.csv"
    (tmp_path / ".out.csv.part").write_text("stale,partial\n")
    (tmp_path / ".out.csv.progress.json").write_text(json.dumps({"identity": {"input": "other"}, "rows": 5, "bytes": 14}))
    summary = label_file(src, out, model=model_dir, chunk_size=5, resume=True)
    assert summary.resumed_rows == 0
    assert len(pd.read_csv(out)) == 20


def _held_before_replace(when: str, said: str) -> str:
    """A ``python -c`` script running pmtype's CLI with ``os.replace`` held up (``said`` on stderr,
    then a sleep) where the condition ``when`` on its ``src`` and ``dst`` holds: a test can then
    kill it while what was about to be moved into place is still under its temporary name."""
    return f"""
import os, sys, time
replace = os.replace
def held(src, dst):
    if {when}:
        sys.stderr.write("{said}\\n")
        sys.stderr.flush()
        time.sleep(600)
    return replace(src, dst)
os.replace = held
from pmtype.cli import run
run()
"""


#: ``pmtype train`` held just before the model folder is moved into place.
_HELD_BEFORE_RENAME = _held_before_replace('str(src).endswith(".tmp") and os.path.basename(dst) == "new"',
                                           "moving into place")


@pytest.mark.parametrize("moment", ["cross-validating", "moving into place"])
def test_killed_training_leaves_no_model_and_the_next_one_no_litter(tmp_path, corpus_csv, moment):
    models = tmp_path / "models"  # the models folder (PMTYPE_MODELS_DIR)
    target = models / "new"
    args = ["train", corpus_csv, "-o", target, "--no-seed"]
    cmd = _cmd(*args) if moment == "cross-validating" else [sys.executable, "-c", _HELD_BEFORE_RENAME, *map(str, args)]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    line = b""
    while time.time() < deadline and moment.encode() not in line:
        line = proc.stderr.readline()
    assert moment.encode() in line
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert not target.exists()
    litter = _temporaries(models)
    if moment == "moving into place":  # the killed run's finished model, under a name that holds its id
        assert len(litter) == 1 and litter[0].startswith(f".new.{proc.pid}-{persist.HOST_TAG}.")
        assert (models / litter[0] / "manifest.json").is_file()
    r = subprocess.run(_cmd(*args), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (target / "manifest.json").is_file()
    assert _temporaries(models) == []
    if litter:
        assert f"Removed what interrupted runs left unfinished in {models}: {litter[0]}\n" in r.stderr
    else:
        assert "Removed" not in r.stderr


def _temporaries(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp")) if folder.is_dir() else []


#: ``pmtype train`` whose every fit in a worker process takes 5 s more (a step defined here, which
#: joblib sends to the workers by value), so that a signal sent as cross-validation starts finds
#: the workers at it, however fast the machine.
_SLOW_FITS = _AS_AT_A_TERMINAL + """
import time
from sklearn.base import BaseEstimator, TransformerMixin
import pmtype.model
class Slow(BaseEstimator, TransformerMixin):
    def fit(self, X, y=None):
        time.sleep(5)
        return self
    def transform(self, X):
        return X
build = pmtype.model.build_label_pipeline
def slow(*args, **kwargs):
    pipeline = build(*args, **kwargs)
    pipeline.steps.insert(1, ("slow", Slow()))
    return pipeline
pmtype.model.build_label_pipeline = slow
from pmtype.cli import run
run()
"""


def test_ctrl_c_during_cross_validation_ends_training_and_its_workers(tmp_path, corpus_csv):
    # joblib must end its worker processes (with psutil: without it, its fallback can fail and
    # the exit then waits on them for ever), and leave nothing to warn about after "interrupted"
    args = ["train", corpus_csv, "-o", tmp_path / "m", "--no-seed", "--jobs", "2"]
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_FITS, *map(str, args)], stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own process group, as a terminal's job is
    lines = []
    deadline = time.time() + 120
    while time.time() < deadline and not (lines and lines[-1].startswith("cross-validating")):
        lines.append(proc.stderr.readline())
    time.sleep(1)  # the workers are at their first fits
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C, and `timeout -s INT`, reach pmtype and its workers
    try:
        rest = proc.communicate(timeout=60)[1]
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("pmtype did not end after a Ctrl-C: its exit waited on its worker processes")
    assert (proc.returncode, rest) == (130, "Error: interrupted\n")
    assert not (tmp_path / "m").exists()


class _CtrlCWhileRead:
    """A text stream that reads a little at a time and takes a Ctrl-C in its ``at``-th read, as
    Python's own handler raises it there (``TextIOWrapper.read`` checks for signals)."""

    def __init__(self, stream, at: int):
        self.stream, self.at, self.reads = stream, at, 0

    def read(self, n: int = -1) -> str:
        self.reads += 1
        if self.reads == self.at:
            signal.raise_signal(signal.SIGINT)
        return self.stream.read(1024)

    def __iter__(self):
        return iter(self.stream)

    def close(self) -> None:
        self.stream.close()


def test_ctrl_c_while_the_csv_is_read_stops_the_run_as_interrupted_and_keeps_its_progress(tmp_path, model_dir,
                                                                                            monkeypatch):
    from pmtype import tables

    src = _input(tmp_path)
    out = tmp_path / "out.csv"
    text_stream = tables._text_stream
    monkeypatch.setattr(tables, "_text_stream", lambda binary, encoding: (
        lambda stream, head, whole: (_CtrlCWhileRead(stream, at=30), head, whole))(*text_stream(binary, encoding)))
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):  # was: BadInputFile "not a readable CSV file: Calling read(nbytes)…"
            label_file(src, out, model=model_dir, chunk_size=5, jobs=1)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert not out.exists()
    done = json.loads((tmp_path / ".out.csv.progress.json").read_text())["rows"]
    assert 0 < done < 300
    expected = tmp_path / "expected.csv"
    monkeypatch.setattr(tables, "_text_stream", text_stream)
    label_file(src, expected, model=model_dir, chunk_size=5, jobs=1)
    summary = label_file(src, out, model=model_dir, chunk_size=5, jobs=1, resume=True)
    assert summary.resumed_rows == done
    assert out.read_bytes() == expected.read_bytes()


#: ``pmtype label`` held just before its finished Parquet file is moved into place, so that the
#: test can kill it while that file, whole, is still under its temporary name.
_HELD_BEFORE_THE_OUTPUT_IS_PUT_IN_PLACE = _held_before_replace('os.path.basename(dst) == "out.parquet"',
                                                               "putting in place")


def test_label_killed_as_it_puts_parquet_in_place_leaves_nothing_after_the_resumed_run(tmp_path, model_dir):
    src = _input(tmp_path, n=20)
    out = tmp_path / "out.parquet"
    args = ["label", src, "-o", out, "--model", model_dir, "--chunk-size", 5, "--jobs", 1, "--quiet"]
    for _ in range(2):  # each kill used to leave one more whole copy of the output, under a new name
        proc = subprocess.Popen([sys.executable, "-c", _HELD_BEFORE_THE_OUTPUT_IS_PUT_IN_PLACE, *map(str, args),
                                 "--resume"], stderr=subprocess.PIPE)
        assert b"putting in place" in proc.stderr.readline()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    assert not out.exists()
    r = subprocess.run(_cmd(*args, "--resume"), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert pd.read_parquet(out)["id"].tolist() == [f"r{i}" for i in range(20)]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
