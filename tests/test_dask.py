"""The Dask engine on a local cluster of two worker processes gives exactly the single-machine result."""

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import BUSINESS_POSTING, TECH_POSTING
from pmtype.batch import label_file, label_with_dask
from pmtype.cli import app

pytest.importorskip("dask.distributed")


@pytest.fixture
def parts(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    frames = []
    for k in range(3):
        texts = [TECH_POSTING if (i + k) % 3 else BUSINESS_POSTING for i in range(15)]
        texts[4] = ""
        frame = pd.DataFrame({"id": [f"{k}-{i}" for i in range(15)], "description": texts})
        frame.to_csv(folder / f"part{k}.csv", index=False)
        frames.append(frame)
    whole = tmp_path / "whole.csv"
    pd.concat(frames).to_csv(whole, index=False)
    return folder, whole


def test_dask_on_two_workers_equals_the_single_machine_path(tmp_path, model_dir, parts):
    folder, whole = parts
    summary = label_with_dask(str(folder / "part*.csv"), tmp_path / "out", model=model_dir, workers=2)
    assert summary.rows == 45 and summary.statuses["empty text"] == 3
    got = pd.read_parquet(tmp_path / "out").reset_index(drop=True)
    label_file(whole, tmp_path / "single.csv", model=model_dir)
    expected = pd.read_csv(tmp_path / "single.csv", dtype=str, keep_default_na=False)
    assert got["id"].tolist() == expected["id"].tolist()
    for column in ("pm_label", "pm_p_technical", "pm_status", "pm_evidence", "pm_model"):
        assert got[column].fillna("").tolist() == expected[column].tolist(), column


def test_dask_engine_from_the_cli_writes_csv_parts(tmp_path, model_dir, parts):
    folder, _ = parts
    r = CliRunner().invoke(app, ["label", str(folder / "*.csv"), "-o", str(tmp_path / "out"), "--engine", "dask",
                                 "--output-format", "csv", "--model", str(model_dir)])
    assert r.exit_code == 0, r.output
    files = sorted((tmp_path / "out").glob("part-*.csv"))
    assert files and sum(len(pd.read_csv(f)) for f in files) == 45
    assert r.stderr.strip().splitlines()[-1].startswith("45 rows labelled in ")


def test_dask_engine_needs_an_output_folder(model_dir):
    r = CliRunner().invoke(app, ["label", "x.csv", "--engine", "dask", "--model", str(model_dir)])
    assert r.exit_code == 2
    assert r.stderr.strip() == "Error: the dask engine writes to a folder: give -o FOLDER"
