from __future__ import annotations

import os
import shutil
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from corpus import rows  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"

warnings.filterwarnings("error", category=FutureWarning)


@pytest.fixture(scope="session")
def corpus_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "postings.csv"
    pd.DataFrame(rows()).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory, corpus_csv) -> Path:
    """A model trained on the tiny corpus only."""
    from pmtype.training import train

    folder = tmp_path_factory.mktemp("models") / "tiny"
    train([corpus_csv], folder, use_seed=False)
    return folder


@pytest.fixture(scope="session")
def model(model_dir):
    from pmtype.model import load_model

    return load_model(model_dir)


@pytest.fixture(autouse=True)
def _isolated_defaults(monkeypatch, tmp_path, corpus_csv):
    """No test reads or writes the checkout's models/ or uses the real seed corpus."""
    monkeypatch.setenv("PMTYPE_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("PMTYPE_SEED_CORPUS", str(corpus_csv))


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the real labelled postings are not here ({SHARED_DATA} is absent)")
    return SHARED_DATA


TECH_POSTING = (
    "Product Manager, Developer Platform\n\nAbout the role\n"
    "- You will own the public REST APIs and SDKs with backend engineers and QA.\n"
    "- Weigh technical debt and estimate effort with the tech lead.\n"
    "- A computer science degree and SQL are required.\n"
)
BUSINESS_POSTING = (
    "Product Manager, Growth\n\nAbout the role\n"
    "- You will own pricing, packaging and positioning with marketing and sales.\n"
    "- Prioritise by revenue impact and market opportunity; run customer interviews.\n"
    "- An MBA or a background in consulting is expected.\n"
)


def env_without_pmtype() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("PMTYPE_")}


SWAP = {"technical": "business", "business": "technical", "not_pm": "not_pm"}


@pytest.fixture(scope="session")
def swapped_csv(tmp_path_factory, corpus_csv):
    """The tiny corpus with every technical and business label swapped."""
    frame = pd.read_csv(corpus_csv)
    frame["label"] = frame["label"].map(SWAP)
    path = tmp_path_factory.mktemp("swapped") / "swapped.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def swapped_model_dir(tmp_path_factory, swapped_csv):
    """A model that has learnt the labels the wrong way round: worse on the corpus than ``model_dir``."""
    from pmtype.training import train

    folder = tmp_path_factory.mktemp("models") / "swapped"
    train([swapped_csv], folder, use_seed=False)
    return folder


def install_model(model_dir, name):
    """Copy a trained model into the test's models directory as version ``name``."""
    from pmtype import config

    target = config.models_dir() / name
    shutil.copytree(model_dir, target)
    return target


