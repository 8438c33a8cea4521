import errno
import json
import os
from collections import Counter
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import BUSINESS_POSTING, TECH_POSTING
import pmtype
from pmtype import tables
from pmtype.batch import OUTPUT_COLUMNS, LabelSummary, label_frame, label_file
from pmtype.errors import CannotWrite


@contextmanager
def disk_full_at_second_chunk():
    """Text output whose second chunk fails to write (no space left), as a full disk does."""
    real = tables.ResumableOutput._append_text
    calls = []

    def fills_up(self, frame):
        calls.append(len(frame))
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(self, frame)

    tables.ResumableOutput._append_text = fills_up
    try:
        yield
    finally:
        tables.ResumableOutput._append_text = real


def test_every_row_comes_out_in_order_with_statuses(tmp_path, model_dir):
    src = tmp_path / "in.csv"
    texts = [TECH_POSTING, "", BUSINESS_POSTING, "   ", TECH_POSTING]
    pd.DataFrame({"id": ["a", "b", "c", "d", "e"], "description": texts, "extra": ["1", "", "3", "4", "5"]}).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    summary = label_file(src, out, model=model_dir, chunk_size=2)
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert got["id"].tolist() == ["a", "b", "c", "d", "e"]
    assert got["extra"].tolist() == ["1", "", "3", "4", "5"]
    assert got["pm_status"].tolist()[1] == "empty text" and got["pm_status"].tolist()[3] == "empty text"
    assert got["pm_label"].tolist() == ["technical", "", "business", "", "technical"]
    assert list(got.columns) == ["id", "description", "extra", *OUTPUT_COLUMNS]
    assert summary.rows == 5 and summary.statuses["empty text"] == 2


def test_a_title_cell_that_is_no_string_adds_nothing(model):
    """Bytes (a Parquet binary column) or a number in the title column: the posting is read without it."""
    frame = pd.DataFrame({"title": [b"Product Manager", 42, None],
                          "description": [TECH_POSTING, TECH_POSTING, TECH_POSTING]})
    out = label_frame(model, frame, "description", "title")
    assert out["pm_status"].tolist() == ["ok"] * 3
    assert out["pm_p_technical"].nunique() == 1


def test_long_postings_are_truncated_and_say_so(model):
    frame = pd.DataFrame({"description": [TECH_POSTING * 2000]})
    out = label_frame(model, frame, "description", max_chars=5000)
    assert out["pm_status"].iloc[0].endswith("; truncated to 5000 characters")
    assert out["pm_label"].iloc[0] == "technical"


def test_two_worker_processes_give_the_same_output(tmp_path, model_dir, monkeypatch):
    import pmtype.batch

    pools = []

    class CountedPool(pmtype.batch.ProcessPoolExecutor):
        def __init__(self, max_workers, *args, **kwargs):
            pools.append(max_workers)
            super().__init__(max_workers, *args, **kwargs)

    monkeypatch.setattr(pmtype.batch, "ProcessPoolExecutor", CountedPool)
    monkeypatch.setattr(pmtype.model, "usable_cores", lambda: 3)
    src = tmp_path / "in.csv"
    pd.DataFrame({"description": [TECH_POSTING, BUSINESS_POSTING] * 6}).to_csv(src, index=False)
    label_file(src, tmp_path / "one.csv", model=model_dir, chunk_size=3, jobs=1)
    assert pools == []
    label_file(src, tmp_path / "two.csv", model=model_dir, chunk_size=3, jobs=2)
    assert pools == [2]
    assert (tmp_path / "one.csv").read_text() == (tmp_path / "two.csv").read_text()
    label_file(src, tmp_path / "all.csv", model=model_dir, chunk_size=3, jobs=0)  # 0: one per core
    label_file(src, tmp_path / "many.csv", model=model_dir, chunk_size=3, jobs=100_000)  # never more than the cores
    label_file(src, tmp_path / "numpy.csv", model=model_dir, chunk_size=3, jobs=np.int64(2))  # any whole number
    assert pools == [2, 3, 3, 2]
    assert (tmp_path / "all.csv").read_text() == (tmp_path / "many.csv").read_text() == (tmp_path / "one.csv").read_text()


def _die_in_worker_at_marked_row(frame, text_column, title_column, force):
    """A worker killed (SIGKILL, the out-of-memory killer) in the chunk holding a marked row, a moment
    after the chunks before it are done; the others are labelled."""
    import os
    import time

    import pmtype.batch

    if frame[text_column].str.contains("zz-die-here").any():
        time.sleep(1.0)
        os._exit(9)
    return pmtype.batch.label_frame(pmtype.batch._WORKER_MODEL, frame, text_column, title_column, force)


def test_a_worker_that_dies_is_one_error_and_the_run_resumes(tmp_path, model_dir, monkeypatch):
    import pmtype.batch
    from pmtype.errors import WorkerDied

    monkeypatch.setattr(pmtype.model, "usable_cores", lambda: 2)
    src = tmp_path / "in.csv"
    texts = [TECH_POSTING, BUSINESS_POSTING] * 6
    texts[10] += " zz-die-here"  # in the fourth and last chunk of three rows
    pd.DataFrame({"description": texts}).to_csv(src, index=False)
    label_file(src, tmp_path / "clean.csv", model=model_dir, chunk_size=3)
    out = tmp_path / "out.csv"
    with monkeypatch.context() as m:
        m.setattr(pmtype.batch, "_label_in_worker", _die_in_worker_at_marked_row)
        with pytest.raises(WorkerDied) as e:
            label_file(src, out, model=model_dir, chunk_size=3, jobs=2)
    assert str(e.value) == ("a labelling process died before its chunk was done (killed, or out of memory: "
                            "fewer --jobs use less); run again with --resume to continue from the last complete chunk")
    assert not out.exists()
    summary = label_file(src, out, model=model_dir, chunk_size=3, jobs=2, resume=True)
    assert summary.resumed_rows == 9  # the three chunks done before the worker died
    assert out.read_bytes() == (tmp_path / "clean.csv").read_bytes()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.none(), st.text(max_size=80), st.integers(), st.floats(allow_nan=True)),
                min_size=1, max_size=12))
def test_label_frame_keeps_row_count_and_order(model, cells):
    frame = pd.DataFrame({"key": list(range(len(cells))), "description": cells}, dtype=object)
    out = label_frame(model, frame, "description")
    assert out["key"].tolist() == list(range(len(cells)))
    assert len(out) == len(cells)
    for status in out["pm_status"]:
        assert status.split(";")[0] in ("ok", "uncertain", "empty text", "not a PM posting", "not English",
                                        "not text")


def test_a_full_disk_keeps_what_was_written_for_resume(tmp_path, model_dir):
    """A write that fails (no space left) is a one-line CannotWrite; the chunks already written
    and the progress file stay, and --resume finishes the same file an unbroken run writes."""
    src = tmp_path / "in.csv"
    pd.DataFrame({"id": [str(i) for i in range(6)],
                  "description": [TECH_POSTING, BUSINESS_POSTING] * 3}).to_csv(src, index=False)
    clean = tmp_path / "clean.csv"
    label_file(src, clean, model=model_dir, chunk_size=2)
    out = tmp_path / "out.csv"
    with disk_full_at_second_chunk(), pytest.raises(CannotWrite) as e:
        label_file(src, out, model=model_dir, chunk_size=2)
    assert str(e.value) == f"{out} cannot be written: no space left on device"
    assert not out.exists()
    assert (tmp_path / ".out.csv.progress.json").is_file()
    summary = label_file(src, out, model=model_dir, chunk_size=2, resume=True)
    assert summary.resumed_rows == 2
    assert out.read_bytes() == clean.read_bytes()


def test_a_loaded_model_labels_a_file_as_its_folder_does(tmp_path, model_dir, model):
    src = tmp_path / "in.csv"
    pd.DataFrame({"description": [TECH_POSTING, BUSINESS_POSTING] * 3}).to_csv(src, index=False)
    label_file(src, tmp_path / "by_folder.csv", model=model_dir, chunk_size=2)
    summary = label_file(src, tmp_path / "loaded.csv", model=model, chunk_size=2, jobs=2)  # in this process
    assert summary.rows == 6
    assert (tmp_path / "loaded.csv").read_bytes() == (tmp_path / "by_folder.csv").read_bytes()


def test_a_chunk_size_below_one_is_refused(tmp_path, model_dir):
    from pmtype.errors import BadOption

    with pytest.raises(BadOption) as e:
        label_file(tmp_path / "in.csv", tmp_path / "out.csv", model=model_dir, chunk_size=0)
    assert str(e.value) == "--chunk-size must be at least 1"


def test_a_chunk_size_is_a_whole_number_a_numpy_one_too(tmp_path, model_dir):
    """A numpy integer labels as an int does (it crashed writing the run's record, a JSON TypeError);
    a fraction or a text is a BadOption (pandas' ValueError, a comparison's TypeError)."""
    from pmtype.errors import BadOption

    source = tmp_path / "in.csv"
    pd.DataFrame({"description": [TECH_POSTING, BUSINESS_POSTING] * 3}).to_csv(source, index=False)
    label_file(source, tmp_path / "by_int.csv", model=model_dir, chunk_size=2, jobs=1)
    label_file(source, tmp_path / "by_numpy.csv", model=model_dir, chunk_size=np.int64(2), jobs=1)
    assert (tmp_path / "by_numpy.csv").read_bytes() == (tmp_path / "by_int.csv").read_bytes()
    for size in (2.5, "2", True):
        with pytest.raises(BadOption) as e:
            label_file(source, tmp_path / "out.csv", model=model_dir, chunk_size=size)
        assert str(e.value) == "--chunk-size must be a whole number, at least 1"


@pytest.mark.parametrize("jobs", [-1, -8])
def test_a_negative_jobs_is_refused_by_the_library_as_by_the_cli(tmp_path, model_dir, jobs):
    from pmtype.errors import BadOption
    from pmtype.model import TrainingSet, fit_model

    with pytest.raises(BadOption) as e:
        label_file(tmp_path / "in.csv", tmp_path / "out.csv", model=model_dir, jobs=jobs)
    assert str(e.value) == "--jobs must be at least 0 (0: all cores)"
    assert not (tmp_path / "out.csv").exists()
    with pytest.raises(BadOption) as e:
        fit_model(TrainingSet([TECH_POSTING, BUSINESS_POSTING] * 5, ["technical", "business"] * 5, ["t"] * 10),
                  jobs=jobs)
    assert str(e.value) == "--jobs must be at least 0 (0: all cores)"


def test_a_resume_under_another_encoding_starts_afresh(tmp_path, model_dir):
    src = tmp_path / "in.csv"
    pd.DataFrame({"description": [TECH_POSTING, BUSINESS_POSTING] * 3}).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    with disk_full_at_second_chunk(), pytest.raises(CannotWrite):
        label_file(src, out, model=model_dir, chunk_size=2)
    summary = label_file(src, out, model=model_dir, chunk_size=2, resume=True, encoding="latin-1")
    assert summary.resumed_rows == 0 and summary.rows == 6


@pytest.mark.parametrize("change,said", [
    ({"chunk_size": 3}, "its --chunk-size was 2"),
    ({"encoding": "latin-1"}, "it was given no --encoding"),
    ({"force": True}, "it was not given --force"),
    ({"touch": True}, "its input file has changed since"),
    ({"chunk_size": 3, "force": True}, "its --chunk-size was 2, it was not given --force"),
])
def test_a_resume_that_cannot_continue_says_why_it_starts_afresh(tmp_path, model_dir, change, said):
    src = tmp_path / "in.csv"
    pd.DataFrame({"description": [TECH_POSTING, BUSINESS_POSTING] * 3}).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    with disk_full_at_second_chunk(), pytest.raises(CannotWrite):
        label_file(src, out, model=model_dir, chunk_size=2)
    if change.pop("touch", False):
        os.utime(src, ns=(src.stat().st_atime_ns, src.stat().st_mtime_ns + 1))
    lines = []
    summary = label_file(src, out, model=model_dir, resume=True, progress=lines.append,
                         **{"chunk_size": 2, **change})
    assert summary.resumed_rows == 0 and summary.rows == 6
    assert lines == [f"cannot resume the interrupted run: {said}; labelling from the start"]


def test_a_resume_with_nothing_to_resume_or_of_the_same_run_says_no_more(tmp_path, model_dir):
    src = tmp_path / "in.csv"
    pd.DataFrame({"description": [TECH_POSTING, BUSINESS_POSTING] * 3}).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    lines = []
    label_file(src, out, model=model_dir, chunk_size=2, resume=True, progress=lines.append)
    with disk_full_at_second_chunk(), pytest.raises(CannotWrite):
        label_file(src, tmp_path / "again.csv", model=model_dir, chunk_size=2)
    label_file(src, tmp_path / "again.csv", model=model_dir, chunk_size=2, resume=True, progress=lines.append)
    assert lines == ["resuming after 2 rows already labelled"]


def test_a_worker_ends_when_its_parent_is_killed(tmp_path):
    """A pool worker whose parent died by SIGKILL (no chance to stop its pool) ends too."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import os, sys, time\n"
        "from pmtype.batch import _exit_with_parent\n"
        "parent = os.getpid()\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    time.sleep(0.5)  # the parent may well be gone before the watch starts\n"
        "    _exit_with_parent(parent, every=0.05)\n"
        "    time.sleep(60)\n"
        "    os._exit(0)\n"
        "print(child, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()

    def running(pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/status") as f:
                return "State:\tZ" not in f.read()
        except FileNotFoundError:
            return False

    deadline = time.monotonic() + 10
    while running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(child)


def test_the_probability_is_a_number_in_typed_formats_and_four_decimals_in_text(tmp_path, model):
    src = tmp_path / "in.csv"
    pd.DataFrame({"description": [TECH_POSTING, "", BUSINESS_POSTING]}).to_csv(src, index=False)
    p = [model.predict([TECH_POSTING])[0].p_technical, None, model.predict([BUSINESS_POSTING])[0].p_technical]
    label_file(src, tmp_path / "out.jsonl", model=model)
    got = [json.loads(line)["pm_p_technical"] for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert got == [round(p[0], 4), None, round(p[2], 4)] and isinstance(got[0], float)
    label_file(src, tmp_path / "out.parquet", model=model)
    column = pd.read_parquet(tmp_path / "out.parquet")["pm_p_technical"]
    assert column.dtype == "float64" and column.isna().tolist() == [False, True, False]
    assert column.iloc[0] == round(p[0], 4)
    for suffix, sep in (("csv", ","), ("tsv", "\t")):
        label_file(src, tmp_path / f"out.{suffix}", model=model)
        text = pd.read_csv(tmp_path / f"out.{suffix}", sep=sep, dtype=str, keep_default_na=False)
        assert text["pm_p_technical"].tolist() == [f"{p[0]:.4f}", "", f"{p[2]:.4f}"]


def test_a_resume_of_output_in_the_old_layout_starts_afresh(tmp_path, model_dir, monkeypatch):
    """Parts written when the probability was text in JSON Lines are not mixed with numbers."""
    from pmtype import batch

    src = tmp_path / "in.csv"
    pd.DataFrame({"description": [TECH_POSTING, BUSINESS_POSTING] * 3}).to_csv(src, index=False)
    out = tmp_path / "out.jsonl"
    current = batch.OUTPUT_LAYOUT
    for layout, resumed in ((1, 0), (current, 2)):
        monkeypatch.setattr(batch, "OUTPUT_LAYOUT", layout)
        with disk_full_at_second_chunk(), pytest.raises(CannotWrite):
            label_file(src, out, model=model_dir, chunk_size=2)
        monkeypatch.setattr(batch, "OUTPUT_LAYOUT", current)
        summary = label_file(src, out, model=model_dir, chunk_size=2, resume=True)
        assert summary.resumed_rows == resumed
        assert [line["pm_p_technical"] is None or isinstance(line["pm_p_technical"], float)
                for line in map(json.loads, out.read_text().splitlines())] == [True] * 6


def test_the_summary_line_counts_rows_in_words_that_agree_and_names_rows_resumed():
    one = LabelSummary(rows=1, labels=Counter(technical=1), statuses=Counter(ok=1), seconds=0.5)
    assert one.line() == "1 row labelled in 0.5s (2/s): technical 1; statuses other than ok: none"
    resumed = LabelSummary(rows=4, labels=Counter(business=4), statuses=Counter(ok=3, uncertain=1), seconds=2.0,
                           resumed_rows=1)
    assert resumed.line() == ("4 rows labelled in 2.0s (2/s), after 1 row labelled before: business 4; "
                              "statuses other than ok: uncertain 1")


@pytest.mark.parametrize("edit", [
    lambda state: [state],  # not an object
    lambda state: {k: v for k, v in state.items() if k != "bytes"},
    lambda state: {**state, "rows": "2"},
    lambda state: {**state, "bytes": -1},
    lambda state: {**state, "rows": True},
    lambda state: {**state, "identity": None},
], ids=["a list", "no bytes", "rows as text", "bytes below zero", "rows true", "no identity"])
def test_a_progress_file_edited_by_hand_starts_the_run_afresh(tmp_path, model_dir, edit):
    src = tmp_path / "in.csv"
    pd.DataFrame({"description": [TECH_POSTING, BUSINESS_POSTING] * 3}).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    with disk_full_at_second_chunk(), pytest.raises(CannotWrite):
        label_file(src, out, model=model_dir, chunk_size=2)
    progress = tmp_path / ".out.csv.progress.json"
    progress.write_text(json.dumps(edit(json.loads(progress.read_text()))))
    lines = []
    summary = label_file(src, out, model=model_dir, chunk_size=2, resume=True, progress=lines.append)
    assert summary.resumed_rows == 0 and summary.rows == 6
    assert lines == ["cannot resume the interrupted run: what it wrote is not whole; labelling from the start"]
    assert len(pd.read_csv(out)) == 6 and not progress.exists()


@pytest.mark.parametrize("name", ["out.csv", "out.csv.gz", "out.parquet"])
def test_an_output_that_is_a_symbolic_link_is_written_through_it_as_the_shells_redirection_writes(tmp_path, model_dir,
                                                                                                 name):
    src = tmp_path / "in.csv"
    pd.DataFrame({"description": [TECH_POSTING, BUSINESS_POSTING] * 3}).to_csv(src, index=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "kept"  # a target whose name tells no format: the link's name does
    target.write_text("old\n")
    link = tmp_path / name
    link.symlink_to(target)
    summary = label_file(src, link, model=model_dir, chunk_size=2)
    assert summary.rows == 6
    assert link.is_symlink() and os.readlink(link) == str(target)  # the link kept, its target written
    if name.endswith(".parquet"):
        got = pd.read_parquet(target)
    else:
        got = pd.read_csv(target, compression="gzip" if name.endswith(".gz") else None)
    assert len(got) == 6 and "pm_label" in got.columns
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["in.csv", "elsewhere", name])
    assert sorted(p.name for p in elsewhere.iterdir()) == ["kept"]  # no part or progress file left beside it


@pytest.mark.parametrize("call", ["label_file", "evaluate", "compare", "check_labels", "suggest"])
def test_a_table_given_as_a_dataframe_is_a_type_error_that_asks_for_a_path(call, model_dir, tmp_path):
    """As train says it: not the system's 'stat: path should be string…' from deep inside."""
    import pmtype

    frame = pd.DataFrame({"description": [TECH_POSTING, BUSINESS_POSTING], "label": ["technical", "business"]})
    calls = {"label_file": lambda: pmtype.label_file(frame, tmp_path / "out.csv", model=model_dir),
             "evaluate": lambda: pmtype.evaluate(frame, model=model_dir),
             "compare": lambda: pmtype.compare(model_dir, frame, against=model_dir),
             "check_labels": lambda: pmtype.check_labels(frame),
             "suggest": lambda: pmtype.suggest(frame, model=model_dir)}
    with pytest.raises(TypeError) as e:
        calls[call]()
    assert str(e.value) == ("pmtype reads tables from files: give a path, not a DataFrame "
                            "(a DataFrame: save it with to_csv first)")


def test_paths_that_start_with_a_tilde_are_in_the_home_folder(tmp_path, model_dir, corpus_csv, monkeypatch):
    """As a shell reads them: the library's inputs, outputs, model folders and report folder."""
    import shutil

    from pmtype import evaluate, train

    monkeypatch.setenv("HOME", str(tmp_path))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    shutil.copytree(model_dir, tmp_path / "tiny")
    pd.DataFrame({"description": [TECH_POSTING]}).to_csv(tmp_path / "in.csv", index=False)
    label_file("~/in.csv", "~/out.csv", model="~/tiny")
    assert pd.read_csv(tmp_path / "out.csv")["pm_label"].tolist() == ["technical"]
    evaluate(corpus_csv, model="~/tiny", report_dir="~/rep")
    assert (tmp_path / "rep" / "report.md").is_file()
    train([corpus_csv], "~/m", use_seed=False)
    assert (tmp_path / "m" / "manifest.json").is_file()
    assert list(work.iterdir()) == []


@pytest.mark.parametrize("call,name", [
    (lambda p: label_file(p, "out.csv"), "input_path"),
    (lambda p: label_file("in.csv", p), "output_path"),
    (lambda p: pmtype.train(["in.csv"], output=p), "output"),
    (lambda p: pmtype.train(["in.csv", p]), "paths"),
    (lambda p: pmtype.evaluate("in.csv", report_dir=p), "report_dir"),
    (lambda p: pmtype.evaluate(p), "path"),
    (lambda p: pmtype.check_labels("in.csv", output=p), "output"),
    (lambda p: pmtype.suggest("in.csv", output=p), "output"),
    (lambda p: pmtype.compare("new", on=p), "on"),
    (lambda p: pmtype.remove_unfinished(p), "folder"),  # not the working directory's leftovers
])
@pytest.mark.parametrize("blank", ["", "  ", "\t"])
def test_a_blank_path_given_to_the_library_is_said_to_be_one(tmp_path, monkeypatch, call, name, blank):
    """As the CLI says it, naming the argument: never the working directory or a file named "  "."""
    from pmtype.errors import BadOption

    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"description": [TECH_POSTING], "label": ["technical"]}).to_csv("in.csv", index=False)
    with pytest.raises(BadOption) as e:
        call(blank)
    assert str(e.value) == f"an empty path was given for {name}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]
