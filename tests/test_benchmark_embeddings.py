"""benchmarks/bench_sentence_embeddings.py without its extras: it says what to do and keeps the
recorded results (the benchmark itself runs by `make bench-embeddings`, not in the tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_sentence_embeddings.py"

# An import hook makes `import torch` fail, whether torch is installed or not.
RUN_WITHOUT_TORCH = """
import runpy, sys
class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ModuleNotFoundError("No module named 'torch'", name="torch")
sys.meta_path.insert(0, NoTorch())
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_without_torch_it_skips_with_the_reason_and_leaves_the_results_alone():
    results = SCRIPT.parent / "RESULTS-embeddings.md"
    before = results.read_bytes() if results.exists() else None
    done = subprocess.run([sys.executable, "-c", RUN_WITHOUT_TORCH, str(SCRIPT)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == (
        "Skipped: torch is not installed; `make bench-embeddings` installs the `embeddings` extras "
        "into .venv-embeddings and runs this there. RESULTS-embeddings.md is unchanged.")
    assert (results.read_bytes() if results.exists() else None) == before
