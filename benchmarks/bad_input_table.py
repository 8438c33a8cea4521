"""The bad-input table: every case of tests/test_bad_input.py, run, as a Markdown table.

For each input and command: the outcome (the error line, or the statuses /
counts), the exit code, and the rows in, out and lost (rows neither written
nor reported as left out). Training on the tiny test corpus takes a few
seconds; the whole table about half a minute.

    .venv/bin/python benchmarks/bad_input_table.py
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
#: What this script and the cases it runs import: pmtype, pandas and typer, and pytest from the test extras.
NEEDED_MODULES = ("pmtype", "pytest", "pandas", "typer")


def not_installed(missing: list[str]) -> str:
    """The one line that says the modules ``missing`` are not installed, and how to install them."""
    return (f"benchmarks/bad_input_table.py needs {', '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not installed: install the test extras "
            "(pip install -e '.[test]'; `make bench` does it)")


def cannot_run() -> str | None:
    """Why this script cannot run here, in one line, or None: a module it imports is not installed,
    or tests/test_bad_input.py, whose cases it runs, is not beside benchmarks/ (not a checkout).
    Checked before anything is imported (run_all.py checks it too, before its first section); a
    module that pmtype itself needs is found missing only when imported, and said as this says it."""
    missing = [name for name in NEEDED_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        return not_installed(missing)
    if not (TESTS / "test_bad_input.py").is_file():
        return (f"benchmarks/bad_input_table.py runs the cases of tests/test_bad_input.py, which is not in {TESTS}: "
                "run it in a checkout of pmtype")
    return None


def _cell(value) -> str:
    return "—" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def main() -> int:
    import argparse

    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()  # --help, and nothing else
    if why := cannot_run():
        raise SystemExit(why)
    sys.path.insert(0, str(TESTS))
    try:
        import pandas as pd
        import pytest
        from corpus import rows as corpus_rows
        from test_bad_input import CASES, check, fast_bootstrap, run_case
    except ModuleNotFoundError as e:  # one that pmtype needs (scikit-learn, spaCy…): a line, not a traceback
        if not e.name or e.name.split(".")[0] == "pmtype":  # a module of pmtype's own: a bug to show
            raise
        raise SystemExit(not_installed([e.name.split(".")[0]])) from None

    with tempfile.TemporaryDirectory(prefix="pmtype-bad-input-") as tmp:
        tmp = Path(tmp)
        os.environ["PMTYPE_MODELS_DIR"] = str(tmp / "models")  # never the checkout's models/
        corpus = tmp / "corpus.csv"
        pd.DataFrame(corpus_rows()).to_csv(corpus, index=False)
        os.environ["PMTYPE_SEED_CORPUS"] = str(corpus)
        from pmtype.training import train

        model_dir = tmp / "tiny"
        train([corpus], model_dir, use_seed=False)

        lines = ["| input | command | outcome | exit code | rows in | rows out | rows lost |",
                 "|---|---|---|---:|---:|---:|---:|"]
        unexpected = []
        with pytest.MonkeyPatch.context() as mp:
            fast_bootstrap(mp)
            for n, case in enumerate(CASES):
                for k, command in enumerate(case.expect):
                    folder = tmp / f"case{n}-{command}"
                    result = run_case(case, command, folder, model_dir)
                    try:
                        check(case, command, result)
                    except AssertionError as e:
                        unexpected.append(f"{case.name} / {command}: {str(e).splitlines()[0] if str(e) else 'failed'}")
                    outcome = result.outcome().replace(f"{folder}/", "")
                    name = f"{case.name} ({case.about})" if k == 0 and case.about else case.name
                    failed = result.exit_code != 0
                    lines.append("| " + " | ".join(_cell(v) for v in (
                        name, command, outcome, result.exit_code, result.rows_in,
                        None if failed else result.rows_out, None if failed else result.rows_lost)) + " |")
        print("\n".join(lines))
        print()
        print(f"{sum(len(c.expect) for c in CASES)} runs; "
              + ("all as tests/test_bad_input.py expects." if not unexpected
                 else f"{len(unexpected)} not as expected:\n" + "\n".join(f"- {u}" for u in unexpected)))
        return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
