"""The installed program, run as a user runs it: real processes."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO, TECH_POSTING


def _script() -> str:
    script = Path(sys.executable).with_name("pmtype")
    if not script.exists():
        pytest.skip("the pmtype console script is not installed beside this Python")
    return str(script)


def test_console_script_classifies_from_stdin(model_dir, tmp_path):
    r = subprocess.run([_script(), "classify", "--model", str(model_dir), "--json"], input=TECH_POSTING,
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["label"] == "technical"


def test_classify_of_endless_standard_input_ends(model_dir, tmp_path):
    """``yes | pmtype classify -``: standard input is read no further than the posting and a
    margin (``tables.STDIN_DRAIN_BYTES``), and the posting's first characters are classified."""
    yes = subprocess.Popen([sys.executable, "-c", "import sys\nwhile True: sys.stdout.write('y\\n' * 4096)"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        r = subprocess.run([sys.executable, "-m", "pmtype", "classify", "-", "--json", "--model", str(model_dir)],
                           stdin=yes.stdout, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    finally:
        yes.stdout.close()
        yes.kill()
        yes.wait()
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["status"].endswith("; truncated to 100000 characters")


@pytest.mark.skipif(not os.path.islink("/dev/stdout"), reason="no /dev/stdout link on this system")
def test_label_into_dev_stdout_redirected_to_a_file(model_dir, tmp_path):
    """-o /dev/stdout with standard output sent to a file: written into, as '>' would; the link stays."""
    src = tmp_path / "in.csv"
    src.write_text(f'title,description\nProduct Manager,"{TECH_POSTING}"\n')
    with open(tmp_path / "out.csv", "wb") as out:
        r = subprocess.run([sys.executable, "-m", "pmtype", "label", str(src), "-o", "/dev/stdout", "--quiet",
                            "--model", str(model_dir)], stdout=out, stderr=subprocess.PIPE, text=True,
                           cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines[0] == "title,description,pm_label,pm_p_technical,pm_status,pm_evidence,pm_model"
    assert os.path.islink("/dev/stdout")


@pytest.mark.parametrize("args", [["classify", "--json"], ["classify"], ["models"], ["info"], ["--help"],
                                  ["label", "--help"], []])
def test_a_reader_that_stops_early_gives_code_141_and_no_word(model_dir, tmp_path, args):
    """As ``| head`` does: the read end of standard output closed before the command prints."""
    posting = tmp_path / "posting.txt"
    posting.write_text(TECH_POSTING)
    extra = [] if not args or "--help" in args else (["--file", str(posting)] if args[0] == "classify" else []) + (
        ["--model", str(model_dir)] if args[0] != "models" else [])
    env = {**os.environ, "PMTYPE_MODELS_DIR": str(model_dir.parent)}
    proc = subprocess.Popen([sys.executable, "-m", "pmtype", *args, *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=tmp_path, env=env)
    proc.stdout.close()
    stderr = proc.stderr.read()
    assert (proc.wait(timeout=120), stderr) == (141, b"")


_LABEL_STDIN = ["label", "-", "--quiet"]


def _output_fails(model_dir, tmp_path, args, **stdout):
    """``pmtype ARGS`` run with its standard output as ``stdout`` says; the posting (a table of
    one, for label) on standard input."""
    posting = f'description\n"{TECH_POSTING}"\n' if args[0] == "label" else TECH_POSTING
    extra = [] if "--help" in args else ["--model", str(model_dir)]
    return subprocess.run([sys.executable, "-m", "pmtype", *args, *extra], input=posting, stderr=subprocess.PIPE,
                          text=True, cwd=tmp_path, timeout=120, **stdout)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
@pytest.mark.parametrize("args", [["--help"], ["classify"], [*_LABEL_STDIN, "-o", "-"]])
def test_a_full_standard_output_is_one_line(model_dir, tmp_path, args):
    with open("/dev/full", "w") as full:
        r = _output_fails(model_dir, tmp_path, args, stdout=full)
    assert (r.returncode, r.stderr) == (1, "Error: standard output cannot be written: no space left on device\n")


@pytest.mark.parametrize("args", [["--help"], [*_LABEL_STDIN, "-o", "-"], [*_LABEL_STDIN, "-o", "out.csv"]])
def test_a_closed_standard_output_is_one_line_where_something_is_printed(model_dir, tmp_path, args):
    """As ``>&-`` leaves it: Python's standard output is None, and click and rich printed nothing."""
    r = _output_fails(model_dir, tmp_path, args, stdout=subprocess.DEVNULL, preexec_fn=lambda: os.close(1))
    if "out.csv" in args:  # nothing for standard output
        assert (r.returncode, r.stderr) == (0, "")
        assert (tmp_path / "out.csv").read_text().startswith("description,pm_label")
    else:
        assert (r.returncode, r.stderr) == (1, "Error: standard output is closed\n")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
@pytest.mark.parametrize("stderr", ["full", "closed"])
def test_a_full_or_closed_standard_error_loses_its_lines_not_the_work(model_dir, tmp_path, stderr):
    """``2>/dev/full``, ``2>&-``: label's summary line cannot be written, and nothing can say so; the
    table is written and the command ends well, not as if standard output had failed. An error
    that cannot be said still ends with its code."""
    def run(*args):
        with open("/dev/full", "w") as full:
            where = {"stderr": full} if stderr == "full" else {"preexec_fn": lambda: os.close(2)}
            return subprocess.run([sys.executable, "-m", "pmtype", *args], input=f'description\n"{TECH_POSTING}"\n',
                                  stdout=subprocess.PIPE, text=True, cwd=tmp_path, timeout=120,
                                  **where)

    r = run("label", "-", "-o", "out.csv", "--model", str(model_dir))
    assert (r.returncode, r.stdout) == (0, "")
    assert (tmp_path / "out.csv").read_text().startswith("description,pm_label")
    r = run("label", "-", "-o", "-", "--model", str(model_dir))
    assert (r.returncode, r.stdout.splitlines()[0]) == (0, "description,pm_label,pm_p_technical,pm_status,pm_evidence,pm_model")
    assert run("label", "-", "-o", "out.csv", "--model", str(tmp_path / "no-such-model")).returncode == 1


def test_python_dash_m_reports_errors_on_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pmtype", "classify", "  "], capture_output=True,
                       text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 1
    assert r.stderr == "Error: the posting is empty\n"


def test_wheel_ships_the_seed_corpus_and_runs_outside_the_checkout(tmp_path):
    """Build the wheel, install it apart from the checkout, and classify with the default model."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheels), str(REPO)], check=True, capture_output=True, timeout=300)
    wheel = next(wheels.glob("pmtype-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "pmtype/_data/seed/postings.csv" in names
    assert "pmtype/cues/cues.json" in names
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMTYPE_")}
    env.update(PYTHONPATH=str(target), XDG_CACHE_HOME=str(tmp_path / "cache"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = subprocess.run([sys.executable, "-m", "pmtype", "classify", "--json", TECH_POSTING],
                       capture_output=True, text=True, cwd=elsewhere, env=env, timeout=600)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["label"] in ("technical", "business")
    assert "building it from the seed corpus" in r.stderr
    assert list((tmp_path / "cache").rglob("manifest.json"))
    assert not list(elsewhere.iterdir())


def test_import_pmtype_is_light_and_every_public_name_resolves(tmp_path):
    """The public names load on first use: importing the package (as the console script does
    first) pulls in neither scikit-learn nor pandas."""
    code = ("import sys, pmtype; heavy = sorted(m for m in ('sklearn', 'pandas', 'spacy') if m in sys.modules); "
            "print(heavy); [getattr(pmtype, n) for n in pmtype.__all__]; print('ok')")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["[]", "ok"]


def test_public_functions_stay_functions_whatever_runs_first(tmp_path):
    """Every module pmtype has loaded, each public name is still what ``__all__`` promises: a
    function is never replaced by a module of the same name (``pmtype.train`` importing the
    module behind ``pmtype.evaluate`` once did that)."""
    code = ("import importlib, pkgutil, types, pmtype; "
            "[importlib.import_module(f'pmtype.{m.name}') for m in pkgutil.iter_modules(pmtype.__path__) if m.name != '__main__']; "
            "print([n for n in pmtype.__all__ if isinstance(getattr(pmtype, n), types.ModuleType)])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["[]"]
