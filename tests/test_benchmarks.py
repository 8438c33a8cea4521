"""benchmarks/run_all.py's own logic, and bad_input_table.py's one-line refusal where it cannot run
(the benchmarks themselves run by `make bench`, not in the tests)."""

from __future__ import annotations

import importlib.util
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture
def run_all(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import run_all

    run_all.lines.clear()
    yield run_all
    run_all.lines.clear()


@pytest.mark.parametrize("quick,shared,name", [(False, True, "RESULTS.md"), (True, True, "RESULTS-local.md"),
                                               (False, False, "RESULTS-local.md")])
def test_only_a_full_run_on_the_real_postings_writes_the_recorded_results(run_all, quick, shared, name):
    out, why = run_all.results_path(None, quick, shared)
    assert out == BENCHMARKS / name
    assert (why is None) == (name == "RESULTS.md")
    assert run_all.results_path(Path("elsewhere.md"), quick, shared) == (Path("elsewhere.md"), None)


def test_a_script_that_fails_stops_the_run(run_all, monkeypatch, tmp_path):
    (tmp_path / "ok.py").write_text("print('progress')\nprint('For benchmarks/RESULTS.md:')\nprint('| a | 1 |')\n")
    (tmp_path / "broken.py").write_text("print('half a table')\nraise SystemExit(1)\n")
    monkeypatch.setattr(run_all, "HERE", tmp_path)
    monkeypatch.setattr(run_all, "SCRIPTS", (("## 7. ok", "ok.py", [], []), ("## 8. broken", "broken.py", [], [])))
    with pytest.raises(SystemExit) as e:
        run_all.run_scripts(quick=False)
    assert str(e.value) == "benchmarks/broken.py failed (exit code 1); no results written"
    # the mark between progress and results is not recorded
    assert run_all.lines == ["## 7. ok", "", "progress", "| a | 1 |", "", "## 8. broken", "", "half a table"]


def stop_after_the_arguments(run_all, monkeypatch):
    """main() stops where the benchmarks would start: a refused argument must stop it before that."""
    def stop(*args):
        raise AssertionError("the arguments were accepted")
    monkeypatch.setattr(run_all, "results_path", stop)


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0"])
def test_big_must_be_a_finite_number_of_gb_above_0(run_all, monkeypatch, capsys, value):
    stop_after_the_arguments(run_all, monkeypatch)
    monkeypatch.setattr(sys, "argv", ["run_all.py", "--big", value])
    with pytest.raises(SystemExit) as e:
        run_all.main()
    assert e.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == "run_all.py: error: --big must be a number of GB, more than 0"
    assert run_all.lines == []


def test_big_is_refused_when_the_disk_has_not_twice_the_size_free(run_all, monkeypatch, capsys):
    stop_after_the_arguments(run_all, monkeypatch)
    monkeypatch.setattr(run_all.shutil, "disk_usage", lambda path: SimpleNamespace(free=15 * 10**8))
    monkeypatch.setattr(sys, "argv", ["run_all.py", "--big", "1"])
    with pytest.raises(SystemExit) as e:
        run_all.main()
    assert e.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"run_all.py: error: --big 1 needs about 2 GB free in {BENCHMARKS} (the generated CSV and its labelled "
        "copy); only 1.5 GB is free")
    assert run_all.big_refusal(1, 2 * 10**9) is None


def test_a_run_without_pytest_stops_before_the_first_section(run_all, monkeypatch):
    stop_after_the_arguments(run_all, monkeypatch)
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "pytest" else find_spec(name))
    monkeypatch.setattr(sys, "argv", ["run_all.py"])
    with pytest.raises(SystemExit) as e:
        run_all.main()
    assert str(e.value) == ("benchmarks/bad_input_table.py needs pytest, which is not installed: install the test "
                            "extras (pip install -e '.[test]'; `make bench` does it)")
    assert run_all.lines == []


def test_each_run_builds_the_default_model_afresh(run_all, monkeypatch, tmp_path):
    # a default model left from an earlier run may come from an older seed corpus or older code
    stale = tmp_path / "models" / "default"
    stale.mkdir(parents=True)
    (stale / "manifest.json").write_text("{}", encoding="utf-8")
    built = []
    monkeypatch.setattr(run_all, "build_default_model", lambda path, progress=None: built.append(Path(path)))
    monkeypatch.setattr(run_all, "load_model", lambda path: SimpleNamespace(model_id="default-0123456789"))

    def stop(path):
        raise RuntimeError("the benchmarks would start here")

    monkeypatch.setattr(run_all, "read_labelled", stop)
    monkeypatch.setattr(run_all, "results_path", lambda out, quick, shared: (tmp_path / "RESULTS.md", None))
    monkeypatch.setattr(sys, "argv", ["run_all.py"])
    with pytest.raises(RuntimeError, match="would start here"):
        run_all.main()
    assert built == [stale]
    assert run_all.lines[-2:] == ["- default model: default-0123456789, built for this run from the seed corpus", ""]


def _run_by_hand(script, *args, cwd=None):
    """(exit code, stdout, stderr) of a benchmark script run by hand (``args``: before the script's path)."""
    r = subprocess.run([sys.executable, *args, str(script)], capture_output=True, text=True, cwd=cwd, timeout=120)
    return r.returncode, r.stdout, r.stderr


def test_the_bad_input_table_without_pytest_says_so_in_one_line():
    hidden = ("import runpy, sys; sys.modules['pytest'] = None; sys.argv = sys.argv[1:]; "
              "runpy.run_path(sys.argv[0], run_name='__main__')")  # a Python without pytest installed
    assert _run_by_hand(BENCHMARKS / "bad_input_table.py", "-c", hidden) == (
        1, "", "benchmarks/bad_input_table.py needs pytest, which is not installed: install the test extras "
               "(pip install -e '.[test]'; `make bench` does it)\n")


@pytest.mark.parametrize("module", ["pandas", "typer", "sklearn", "spacy"])
def test_the_bad_input_table_without_a_module_it_or_pmtype_imports_says_so_in_one_line(module):
    """pandas and typer are imported by the script and its cases; scikit-learn and spaCy by pmtype,
    found missing only as the cases are imported: each is one line, not a traceback."""
    hidden = (f"import runpy, sys; sys.modules[{module!r}] = None; sys.argv = sys.argv[1:]; "
              "runpy.run_path(sys.argv[0], run_name='__main__')")  # a Python without it installed
    assert _run_by_hand(BENCHMARKS / "bad_input_table.py", "-c", hidden) == (
        1, "", f"benchmarks/bad_input_table.py needs {module}, which is not installed: install the test extras "
               "(pip install -e '.[test]'; `make bench` does it)\n")


def test_the_bad_input_table_outside_a_checkout_says_so_in_one_line(tmp_path):
    script = tmp_path / "benchmarks" / "bad_input_table.py"
    script.parent.mkdir()
    shutil.copy(BENCHMARKS / "bad_input_table.py", script)
    assert _run_by_hand(script, cwd=tmp_path) == (
        1, "", f"benchmarks/bad_input_table.py runs the cases of tests/test_bad_input.py, which is not in "
               f"{tmp_path / 'tests'}: run it in a checkout of pmtype\n")


@pytest.fixture
def bench_retrain(monkeypatch):
    """benchmarks/bench_retrain.py with its training replaced by a 12-second stand-in."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import bench_retrain

    manifest = {"data": {"rows": 1, "by_label": {}},
                "metrics": {"cross_validation": {"metrics": {"macro_f1": {"value": 0.9}}}}}
    monkeypatch.setattr(bench_retrain, "timed_train", lambda *args: (12.0, manifest))
    monkeypatch.setattr(bench_retrain, "user_rows", lambda n: bench_retrain.pd.DataFrame({"id": range(n)}))
    return bench_retrain


@pytest.mark.parametrize("rows,seconds,said", [
    (2000, 12.0, "target < 60 s is for 10,000 user rows: no verdict"),
    (10_000, 12.0, "target < 60 s: met"),
    (10_000, 75.0, "target < 60 s: missed"),
    (20_000, 12.0, "target < 60 s: met"),
    (20_000, 75.0, "target < 60 s is for 10,000 user rows: no verdict"),
])
def test_the_retraining_target_is_judged_only_on_10000_user_rows(bench_retrain, rows, seconds, said):
    assert bench_retrain.verdict(rows, seconds) == said


def test_a_retraining_run_on_fewer_rows_gives_no_verdict(bench_retrain, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["bench_retrain.py", "--rows", "2000"])
    bench_retrain.main()
    assert capsys.readouterr().out.splitlines()[-1].endswith(
        "| 12.0 s (first training 12.0 s) | target < 60 s is for 10,000 user rows: no verdict |")


@pytest.mark.parametrize("seconds,said", [
    ({1: 3.4, 2: 6.0, 4: 9.0, 8: 19.1}, "8× the rows took 5.6× the time: training cost grows at most in proportion to the rows."),
    ({1: 2.0, 2: 5.0, 4: 12.0, 8: 30.0}, "8× the rows took 15.0× the time: training cost grows faster than the rows."),
    ({1: 2.0, 2: 4.4}, "2× the rows took 2.2× the time: training cost grows at most in proportion to the rows."),
])
def test_training_time_growth_gets_a_verdict(run_all, seconds, said):
    assert run_all.training_growth(seconds) == said


def test_memory_is_given_in_mb_of_10_to_the_6_bytes(run_all, monkeypatch):
    # /proc counts in KiB, which it calls kB: 500,000 KiB are 512 MB (and 488 MiB)
    monkeypatch.setattr(run_all, "open", lambda path: io.StringIO("Name:\tpython\nVmRSS:\t  500000 kB\n"), raising=False)
    assert run_all._rss_mb(1) == 512.0


@pytest.mark.parametrize("big,flag", [("0", ""), ("", ""), ("1", " --big 1"), ("0.5", " --big 0.5")])
def test_make_bench_big_0_leaves_the_big_file_out_as_no_big_does(big, flag):
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}  # under make test
    shown = subprocess.run(["make", "-n", "--no-print-directory", "bench", f"BIG={big}"], env=env,
                           cwd=BENCHMARKS.parent, capture_output=True, text=True, check=True).stdout
    [run] = [line.rstrip() for line in shown.splitlines() if "benchmarks/run_all.py" in line]
    assert run.endswith(f"benchmarks/run_all.py{flag}")
