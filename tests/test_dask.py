"""The Dask engine on a local cluster of two worker processes gives exactly the single-machine result.

It reads files as the local engine does: each file in its own encoding, found from its first 64 KB (or
given), a bad byte read as cp1252, and the local engine's one-line errors, naming the file of a glob.
"""

import codecs
import gzip
import hashlib
import io
import json
from contextlib import suppress

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import BUSINESS_POSTING, TECH_POSTING
from pmtype import tables
from pmtype.batch import label_file, label_with_dask
from pmtype.cli import app
from pmtype.errors import BadInputFile, CannotWrite, MissingColumn, OutputExists

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


@pytest.fixture
def started(monkeypatch):
    """The number of workers of each local cluster pmtype starts, in order."""
    import dask.distributed

    counts = []

    class CountedCluster(dask.distributed.LocalCluster):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            counts.append(len(self.workers))

    monkeypatch.setattr(dask.distributed, "LocalCluster", CountedCluster)
    return counts


def test_dask_on_two_workers_equals_the_single_machine_path(tmp_path, model_dir, parts, started):
    folder, whole = parts
    summary = label_with_dask(str(folder / "part*.csv"), tmp_path / "out", model=model_dir, workers=2)
    assert started == [2]  # two worker processes did the work
    assert summary.rows == 45 and summary.statuses["empty text"] == 3
    got = pd.read_parquet(tmp_path / "out").reset_index(drop=True)
    label_file(whole, tmp_path / "single.parquet", model=model_dir)
    expected = pd.read_parquet(tmp_path / "single.parquet")
    assert got["id"].tolist() == expected["id"].tolist()
    for column in ("pm_label", "pm_status", "pm_evidence", "pm_model"):
        assert got[column].fillna("").tolist() == expected[column].fillna("").tolist(), column
    # the probability is a number in Parquet from both engines, missing where there is no label
    assert got["pm_p_technical"].dtype == expected["pm_p_technical"].dtype == "float64"
    pd.testing.assert_series_equal(got["pm_p_technical"], expected["pm_p_technical"])
    assert got["pm_p_technical"].isna().sum() == 3


def test_dask_engine_from_the_cli_writes_csv_parts(tmp_path, model_dir, parts):
    folder, _ = parts
    r = CliRunner().invoke(app, ["label", str(folder / "*.csv"), "-o", str(tmp_path / "out"), "--engine", "dask",
                                 "--output-format", "csv", "--model", str(model_dir)])
    assert r.exit_code == 0, r.output
    files = sorted((tmp_path / "out").glob("part-*.csv"))
    assert files and sum(len(pd.read_csv(f)) for f in files) == 45
    assert r.stderr.strip().splitlines()[-1].startswith("45 rows labelled in ")


@pytest.mark.parametrize("name,told", [("out.jsonl", "jsonl"), ("out.ndjson", "jsonl"), ("out.tsv", "tsv"),
                                       ("out.csv.gz", "gzipped csv")])
def test_dask_engine_refuses_an_output_named_for_a_format_it_does_not_write(tmp_path, model_dir, parts, started,
                                                                           name, told):
    """Not a folder of Parquet parts under a JSON Lines name: refused before the cluster starts."""
    folder, _ = parts
    out = tmp_path / name
    r = CliRunner().invoke(app, ["label", str(folder / "*.csv"), "-o", str(out), "--engine", "dask",
                                 "--model", str(model_dir)])
    assert (r.exit_code, r.stderr) == (2, f"Error: the dask engine writes parquet or csv output, not {told} as the name "
                                          f"{out} says: name the folder otherwise, or give --output-format parquet or csv\n")
    assert started == [] and not out.exists()


def test_dask_engine_writes_the_format_its_folder_is_named_for(tmp_path, model_dir, parts):
    folder, _ = parts
    r = CliRunner().invoke(app, ["label", str(folder / "*.csv"), "-o", f"{tmp_path / 'out.csv'}/", "--engine", "dask",
                                 "--model", str(model_dir)])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "out.csv").iterdir()) == ["part-0.csv", "part-1.csv", "part-2.csv"]
    summary = label_with_dask(str(folder / "*.csv"), tmp_path / "out.jsonl", model=model_dir, out_format="parquet")
    assert summary.rows == 45 and len(pd.read_parquet(tmp_path / "out.jsonl")) == 45  # the format given wins


@pytest.mark.parametrize("given,said", [("gone.csv", "gone.csv does not exist"),
                                        ("gone/*.csv", "no file matches gone/*.csv")])
def test_dask_engine_says_a_missing_input_before_the_default_model_is_built(tmp_path, monkeypatch, started,
                                                                            given, said):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["label", given, "-o", "out", "--engine", "dask"])
    assert (r.exit_code, r.stderr.splitlines()[-1]) == (1, f"Error: {said}")
    assert "building" not in r.stderr
    assert not (tmp_path / "models" / "default").exists() and started == []


def test_dask_engine_needs_an_output_folder(model_dir):
    r = CliRunner().invoke(app, ["label", "x.csv", "--engine", "dask", "--model", str(model_dir)])
    assert r.exit_code == 2
    assert r.stderr.strip() == "Error: the dask engine writes to a folder: give -o FOLDER"



@pytest.mark.parametrize("source", ["-", "/dev/stdin"])
def test_the_dask_engine_refuses_standard_input(tmp_path, model_dir, source):
    r = CliRunner().invoke(app, ["label", source, "--engine", "dask", "-o", str(tmp_path / "out"),
                                 "--model", str(model_dir)], input="description\nA posting.\n")
    assert (r.exit_code, r.stderr) == (2, "Error: the dask engine reads files, not standard input or a pipe: "
                                          "give a file, a glob or a URL, or use the local engine\n")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args, message", [
    (["--engine", "dask", "--resume"], "--resume is for the local engine; the dask engine writes a new folder"),
    (["--engine", "dask", "--jobs", "3"],
     "--jobs is for the local engine; the dask engine's processes are its workers (--workers)"),
    (["--engine", "dask", "--chunk-size", "50"], "--chunk-size is for the local engine; the dask engine reads the file in blocks"),
    # given at their default values, they are still given, and still not for this engine
    (["--engine", "dask", "-j", "0"],
     "--jobs is for the local engine; the dask engine's processes are its workers (--workers)"),
    (["--engine", "dask", "--chunk-size", "500"],
     "--chunk-size is for the local engine; the dask engine reads the file in blocks"),
    (["--scheduler", "tcp://127.0.0.1:8786"],
     "--scheduler is for the dask engine: add --engine dask (the local engine's processes: --jobs)"),
    (["--workers", "4"], "--workers is for the dask engine: add --engine dask (the local engine's processes: --jobs)"),
    (["--engine", "local", "--workers", "2"],
     "--workers is for the dask engine: add --engine dask (the local engine's processes: --jobs)"),
])
def test_an_option_of_the_other_engine_is_refused_not_ignored(tmp_path, model_dir, args, message):
    src = tmp_path / "in.csv"
    pd.DataFrame({"description": ["A posting to label."]}).to_csv(src, index=False)
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["label", str(src), "-o", str(out), "--model", str(model_dir), *args])
    assert r.exit_code == 2
    assert r.stderr.strip() == f"Error: {message}"
    assert not out.exists()


# --- reading files as carefully as the local engine -----------------------------------------

OUT = ["id", "description", "pm_label", "pm_p_technical", "pm_status", "pm_evidence", "pm_model"]
NOT_TEXT = "the file is binary, not a text table (CSV, TSV or JSON Lines)"


@pytest.fixture(scope="module")
def scheduler():
    """One local cluster (a worker process) for the tests below, given to ``label_with_dask`` as a scheduler."""
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


def _csv(path, texts, encoding, bom=b"", first=0):
    rows = "".join(f'{first + i},"{t}"\n' for i, t in enumerate(texts))
    path.write_bytes(bom + f"id,description\n{rows}".encode(encoding))
    return path


def _texts(n, extra):
    """``n`` postings on one line each (Dask cuts a CSV into blocks at every newline, even inside quotes)."""
    return [" ".join(f"{TECH_POSTING if i % 3 else BUSINESS_POSTING} {extra} {i}".split()) for i in range(n)]


def _read_dask_output(out):
    """The Dask engine's Parquet output; missing text as empty (the probability stays a number)."""
    got = pd.read_parquet(out).reset_index(drop=True)
    return got.fillna({c: "" for c in got.columns if c != "pm_p_technical"})


def _by_dask(source, out, model_dir, scheduler, **kw):
    summary = label_with_dask(str(source), out, model=model_dir, scheduler=scheduler, **kw)
    got = _read_dask_output(out)
    assert summary.rows == len(got)
    return got


def _by_local_engine(files, tmp_path, **kw):
    """The local engine's output for each of ``files``, one after the other."""
    frames = []
    for k, f in enumerate(files):
        label_file(f, tmp_path / f"local{k}.csv", **kw)
        frames.append(pd.read_csv(tmp_path / f"local{k}.csv", dtype=str, keep_default_na=False))
    return pd.concat(frames, ignore_index=True)


def _same(got, expected):
    """The same columns, rows, order and values (the Dask output's text columns are typed ``string``;
    its probability is a number in Parquet, compared here as the local engine writes it in CSV, and so
    are the numbers of Parquet input, which keep their type)."""
    if got["pm_p_technical"].dtype == "float64":
        got = tables.decimals_as_text(got, "pm_p_technical")
    got = got.astype({c: str for c, dtype in got.dtypes.items() if dtype != "string" and c != "pm_p_technical"})
    return got.to_dict("list") == expected.to_dict("list")


@pytest.mark.parametrize("encoding,bom", [
    ("utf-16-le", codecs.BOM_UTF16_LE),
    ("utf-16-be", codecs.BOM_UTF16_BE),  # Dask cuts blocks at b"\n\x00": these would come out misaligned
    ("utf-8", codecs.BOM_UTF8),
    ("cp1252", b""),
])
def test_dask_reads_each_encoding_as_the_local_engine_does(tmp_path, model_dir, scheduler, encoding, bom):
    path = _csv(tmp_path / "in.csv", _texts(40, "Café naïve"), encoding, bom)
    got = _by_dask(path, tmp_path / "out", model_dir, scheduler, blocksize="4KB")
    expected = _by_local_engine([path], tmp_path, model=model_dir)
    assert list(got.columns) == OUT  # the header's first name without a BOM
    assert got["description"].tolist() == _texts(40, "Café naïve")
    assert _same(got, expected)


def test_a_byte_that_is_not_utf8_after_the_first_64kb_is_read_as_cp1252(tmp_path, model_dir):
    texts = [f"{text} {'x' * 2000}" for text in _texts(40, "")] + _texts(1, "Café")
    path = _csv(tmp_path / "in.csv", texts, "utf-8")
    path.write_bytes(path.read_bytes().replace("Café".encode(), b"Caf\xe9"))
    assert path.read_bytes().index(b"\xe9") > 70_000
    # a cluster of its own: a fresh worker process, which has imported nothing of pmtype before reading
    got = _by_dask(path, tmp_path / "out", model_dir, None, blocksize="16KB", workers=1)
    assert got["description"].tolist() == texts
    assert _same(got, _by_local_engine([path], tmp_path, model=model_dir))


def test_a_glob_of_files_in_different_encodings(tmp_path, model_dir, scheduler):
    folder = tmp_path / "in"
    folder.mkdir()
    files = [_csv(folder / "a.csv", _texts(5, "Café"), "utf-16-le", codecs.BOM_UTF16_LE),
             _csv(folder / "b.csv", _texts(6, "Café"), "cp1252", first=5),
             _csv(folder / "c.csv", _texts(4, "Café"), "utf-16-le", codecs.BOM_UTF16_LE, first=11)]
    got = _by_dask(folder / "*.csv", tmp_path / "out", model_dir, scheduler)
    assert got["id"].tolist() == [str(i) for i in range(15)]
    assert _same(got, _by_local_engine(files, tmp_path, model=model_dir))


def test_a_blank_line_before_the_header(tmp_path, model_dir, scheduler):
    path = _csv(tmp_path / "in.csv", _texts(3, ""), "utf-8", bom=b"\r\n")
    got = _by_dask(path, tmp_path / "out", model_dir, scheduler)
    assert list(got.columns) == OUT
    assert _same(got, _by_local_engine([path], tmp_path, model=model_dir))


@pytest.mark.parametrize("before,blocksize,name,encoding", [
    ("", "64MB", "in.csv", "utf-8"), ("\r\n", "1KB", "in.csv", "utf-8"),
    # files Dask reads whole, not in blocks cut at newlines
    ("\r\n", "1KB", "in.csv.gz", "utf-8"), ("", "1KB", "in.csv", "utf-16"),
])
def test_a_blank_line_in_a_one_column_csv_is_a_row_for_dask_as_for_the_local_engine(tmp_path, model_dir, scheduler,
                                                                                   before, blocksize, name, encoding):
    # a spreadsheet saves an empty cell of a one-column table as a blank line: a row, not skipped
    texts = _texts(6, "")
    texts[2] = texts[4] = ""
    path = tmp_path / name
    data = (before + "description\n" + "".join(f'"{t}"\n' if t else "\n" for t in texts)).encode(encoding)
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    got = _by_dask(path, tmp_path / "out", model_dir, scheduler, blocksize=blocksize)
    assert len(got) == 6
    assert got["pm_status"].tolist()[2] == got["pm_status"].tolist()[4] == "empty text"
    assert _same(got, _by_local_engine([path], tmp_path, model=model_dir))


def test_dask_honours_the_encoding_given(tmp_path, model_dir, scheduler):
    path = _csv(tmp_path / "in.csv", _texts(3, "Café"), "mac-roman")  # detected, it would read as cp1252: CafŽ
    r = CliRunner().invoke(app, ["label", str(path), "-o", str(tmp_path / "out"), "--engine", "dask",
                                 "--scheduler", scheduler, "--encoding", "mac-roman", "--model", str(model_dir)])
    assert r.exit_code == 0, r.output
    got = _read_dask_output(tmp_path / "out")
    assert got["description"].tolist() == _texts(3, "Café")
    assert _same(got, _by_local_engine([path], tmp_path, model=model_dir, encoding="mac-roman"))


@pytest.mark.parametrize("encoding,given", [
    ("utf-16", None),
    ("cp1252", None),
    ("utf-8", "utf-8"),  # given, and one byte is not UTF-8: read as cp1252 by a fresh worker process too
])
def test_dask_reads_json_lines_as_the_local_engine_does(tmp_path, model_dir, scheduler, encoding, given):
    texts = _texts(4, "Café")
    path = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": f"r{i}", "description": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts)]
    data = "".join(lines).encode(encoding)
    path.write_bytes(data.replace("Café 3".encode(), b"Caf\xe9 3") if given else data)
    got = _by_dask(path, tmp_path / "out", model_dir, None if given else scheduler, encoding=given, workers=1)
    assert got["description"].tolist() == texts
    assert _same(got, _by_local_engine([path], tmp_path, model=model_dir, encoding=given))


def _label_both_ways(source, tmp_path, model_dir):
    """(exit code, stderr) of the local engine and of the Dask engine."""
    runs = []
    for engine, out in (("local", tmp_path / "out.csv"), ("dask", tmp_path / "out")):
        r = CliRunner().invoke(app, ["label", str(source), "-o", str(out), "--engine", engine, "--quiet",
                                     "--model", str(model_dir)])
        assert "Traceback" not in r.stderr
        runs.append((r.exit_code, r.stderr))
    return runs


def _parquet_bytes(frame):
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


@pytest.mark.parametrize("name,content,message", [
    ("in.csv", b"", "the file is empty"),
    ("in.parquet", b"id,description\n1,not Parquet at all\n",
     "not a readable Parquet file: Parquet magic bytes not found in footer. "
     "Either the file is corrupted or this is not a parquet file."),
    ("in.parquet", _parquet_bytes(pd.DataFrame({"id": pd.Series([], dtype=str), "description": pd.Series([], dtype=str)})),
     "the file has no rows"),
    ("in.parquet", _parquet_bytes(pd.DataFrame({"id": ["1"], "title": ["Product Manager"]})),
     "no text column found (looked for description, job_description, jobdescription, description_text, "
     "text, body, …); the columns are: id, title; name one with --text-column"),
    ("in.csv", bytes(range(256)) * 16, NOT_TEXT),
    ("in.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01", NOT_TEXT),
    ("in.csv.gz", gzip.compress(f"id,description\n1,{TECH_POSTING}\n".encode() * 50)[:60],
     "the file looks gzip-compressed but cannot be decompressed: "
     "Compressed file ended before the end-of-stream marker was reached"),
    ("in.csv", b"id,title\n1,Product Manager\n",
     "no text column found (looked for description, job_description, jobdescription, description_text, "
     "text, body, …); the columns are: id, title; name one with --text-column"),
    ("in.jsonl", b"\x00\x01\x02\x03" * 100, NOT_TEXT),
    ("in.csv", b"id,description\r\n\r\n", "the file has no rows"),
    ("in.tsv.gz", gzip.compress(b"id\tdescription\n"), "the file has no rows"),
])
def test_dask_refuses_a_file_as_the_local_engine_does(tmp_path, model_dir, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    assert _label_both_ways(path, tmp_path, model_dir) == [(1, f"Error: {path}: {message}\n")] * 2


def test_a_missing_file_or_a_glob_that_matches_nothing(tmp_path, model_dir):
    missing = tmp_path / "missing.csv"
    assert _label_both_ways(missing, tmp_path, model_dir) == [(1, f"Error: {missing} does not exist\n")] * 2
    r = CliRunner().invoke(app, ["label", str(tmp_path / "*.csv"), "-o", str(tmp_path / "out"), "--engine", "dask",
                                 "--model", str(model_dir)])
    assert (r.exit_code, r.stderr) == (1, f"Error: no file matches {tmp_path / '*.csv'}\n")


def test_dask_names_the_bad_file_of_a_glob(tmp_path, model_dir):
    folder = tmp_path / "in"
    folder.mkdir()
    _csv(folder / "a.csv", _texts(2, ""), "utf-8")
    (folder / "b.csv").write_bytes(bytes(range(256)) * 16)
    r = CliRunner().invoke(app, ["label", str(folder / "*.csv"), "-o", str(tmp_path / "out"), "--engine", "dask",
                                 "--model", str(model_dir)])
    assert (r.exit_code, r.stderr) == (1, f"Error: {folder / 'b.csv'}: {NOT_TEXT}\n")
    assert not (tmp_path / "out").exists()


def test_a_folder_of_parquet_parts_is_read_as_dask_reads_it_and_a_bad_part_is_named(tmp_path, model_dir, parts):
    folder, whole = parts
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    for k, part in enumerate(sorted(folder.glob("part*.csv"))):
        pd.read_csv(part, dtype=str, keep_default_na=False).to_parquet(dataset / f"part.{k}.parquet", index=False)
    (dataset / "_SUCCESS").write_bytes(b"")  # not data: a writer's marker, as Spark and Hadoop leave
    (dataset / ".part.0.parquet.crc").write_bytes(b"\x00\x01")
    summary = label_with_dask(str(dataset), tmp_path / "out", model=model_dir, in_format="parquet")
    assert summary.rows == 45 and summary.statuses["empty text"] == 3
    (dataset / "part.1.parquet").write_bytes(b"cut short")
    r = CliRunner().invoke(app, ["label", str(dataset), "-o", str(tmp_path / "out2"), "--engine", "dask",
                                 "--format", "parquet", "--model", str(model_dir)])
    assert (r.exit_code, r.stderr) == (1, f"Error: {dataset / 'part.1.parquet'}: not a readable Parquet file: "
                                          "Parquet magic bytes not found in footer. Either the file is corrupted or this is not a parquet file.\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "_SUCCESS").write_bytes(b"")
    with pytest.raises(BadInputFile) as e:
        label_with_dask(str(empty), tmp_path / "out3", model=model_dir, in_format="parquet")
    assert str(e.value) == f"the folder {empty} holds no Parquet files"


@pytest.mark.parametrize("index", ["stored", "range", "range in each file"])
def test_dask_reads_parquet_indexes_and_nested_values_as_the_local_engine_does(tmp_path, model_dir, scheduler, index):
    """An index pandas wrote (as a column, or as a range in its metadata only) comes out as a column;
    lists come out as JSON text. A file named .csv holding Parquet is read as Parquet."""
    folder = tmp_path / "in"
    folder.mkdir()
    files = []
    for k in range(2 if index == "range in each file" else 1):
        texts = [TECH_POSTING if i % 2 else BUSINESS_POSTING for i in range(4)]
        frame = pd.DataFrame({"row": [10 * k + i for i in range(4)] if index != "stored" else [f"r{k}{i}" for i in range(4)],
                              "description": texts, "tags": [["api", "sdk"], [], ["pricing"], None]})
        path = folder / (f"part{k}.csv" if index == "range" else f"part{k}.parquet")  # named as text: still Parquet
        frame.set_index("row").to_parquet(path)
        files.append(path)
    got = _by_dask(folder / ("*.csv" if index == "range" else "*.parquet"), tmp_path / "out", model_dir, scheduler)
    expected = _by_local_engine(files, tmp_path, model=model_dir)
    assert list(got.columns) == ["description", "tags", "row"] + OUT[2:]
    assert got["row"].dtype == ("string" if index == "stored" else "int64")  # a number stays one
    assert _same(got, expected)
    assert got["tags"].tolist()[:4] == ['["api", "sdk"]', "[]", '["pricing"]', ""]


def test_a_glob_of_files_with_no_rows_is_refused_and_one_such_file_among_others_is_not(tmp_path, model_dir):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text("id,description\n")
    (folder / "b.csv").write_text("id,description\n\n")
    r = CliRunner().invoke(app, ["label", str(folder / "*.csv"), "-o", str(tmp_path / "out"), "--engine", "dask",
                                 "--model", str(model_dir)])
    assert (r.exit_code, r.stderr) == (1, "Error: none of the 2 files has rows\n")
    assert not (tmp_path / "out").exists()
    r = CliRunner().invoke(app, ["label", str(folder / "a*.csv"), "-o", str(tmp_path / "out"), "--engine", "dask",
                                 "--model", str(model_dir)])
    assert (r.exit_code, r.stderr) == (1, f"Error: {folder / 'a.csv'}: the file has no rows\n")  # not 'none of the 1'
    _csv(folder / "c.csv", _texts(3, ""), "utf-8")
    summary = label_with_dask(str(folder / "*.csv"), tmp_path / "out", model=model_dir, out_format="csv")
    assert summary.rows == 3


@pytest.mark.parametrize("header,message", [
    ("id,body_text\n", "no text column found (looked for description, job_description, jobdescription, "
                       "description_text, text, body, …); the columns are: id, body_text; name one with --text-column"),
    ("id,description,extra\n", "the columns are id, description, extra; {first} has id, description"),
    ("id,description,description\n", "the header repeats column names: description"),
])
def test_dask_names_the_file_of_a_glob_whose_header_does_not_fit(tmp_path, model_dir, header, message):
    folder = tmp_path / "in"
    folder.mkdir()
    _csv(folder / "a.csv", _texts(2, ""), "utf-8")
    (folder / "b.csv").write_text(header + ",".join("x" * len(header.split(","))) + "\n")  # a row as wide
    with pytest.raises((BadInputFile, MissingColumn)) as e:
        label_with_dask(str(folder / "*.csv"), tmp_path / "out", model=model_dir)
    assert str(e.value) == f"{folder / 'b.csv'}: " + message.format(first=folder / "a.csv")


def _gzipped_csv(path, rows, damaged):
    """A gzip-compressed CSV of ``rows`` rows (that compress poorly), its last 500 bytes cut off if ``damaged``."""
    lines = "".join(f'{i},"{hashlib.sha256(str(i).encode()).hexdigest()} {_texts(1, "")[0]}"\n' for i in range(rows))
    data = gzip.compress(b"id,description\n" + lines.encode())
    path.write_bytes(data[: len(data) - 500] if damaged else data)


GZIP_END = "cannot be decompressed: Compressed file ended before the end-of-stream marker was reached"


@pytest.mark.parametrize("files,rows,message", [
    ({"in.csv.gz": True}, 1000, f"{{folder}}/in.csv.gz: the file looks gzip-compressed but {GZIP_END}"),  # Dask's sample
    ({"in.csv.gz": True}, 4000, f"{{folder}}/in.csv.gz: the file looks gzip-compressed but {GZIP_END}"),  # a worker
    ({"a.csv": False, "b.csv.gz": True}, 4000, f"{{folder}}/b.csv.gz: the file looks gzip-compressed but {GZIP_END}"),
    ({"a.csv.gz": False, "b.csv.gz": True}, 4000, f"one of the 2 gzip-compressed files {GZIP_END}"),
])
def test_gzip_damage_past_the_first_64kb_is_a_one_line_error(tmp_path, model_dir, scheduler, files, rows, message):
    folder = tmp_path / "in"
    folder.mkdir()
    for name, damaged in files.items():
        if name.endswith(".gz"):
            _gzipped_csv(folder / name, rows, damaged)
        else:
            _csv(folder / name, _texts(2, ""), "utf-8")
    source = folder / next(iter(files)) if len(files) == 1 else folder / "*"
    r = CliRunner().invoke(app, ["label", str(source), "-o", str(tmp_path / "out"), "--format", "csv",
                                 "--engine", "dask", "--scheduler", scheduler, "--model", str(model_dir)])
    assert (r.exit_code, r.stderr) == (1, f"Error: {message.format(folder=folder)}\n")


# --- a large CSV file is cut into blocks at row ends only ------------------------------------------------

def _postings(n, extra, newline="\n"):
    """``n`` postings of several lines, with quotes and commas in them, so that each is a quoted cell."""
    texts = [f'{TECH_POSTING if i % 3 else BUSINESS_POSTING}\nWe say "ship it, then learn", {extra} {i}.'
             for i in range(n)]
    return [t.replace("\n", newline) for t in texts]


def _posting_file(path, texts, encoding="utf-8", newline="\n", before="", first=0):
    """``texts`` written by pandas as a CSV (a TSV when ``path`` ends in .tsv), after ``before``."""
    frame = pd.DataFrame({"id": [str(first + i) for i in range(len(texts))], "description": texts})
    table = frame.to_csv(sep="\t" if path.suffix == ".tsv" else ",", index=False, lineterminator=newline)
    path.write_bytes((before + table).encode(encoding))  # utf-8-sig: with a BOM
    return path


def _cut_by_dask_inside_quoted_cells(path, blocksize):
    """Whether Dask's own cut, at the first newline after each block offset, would fall inside a quoted cell."""
    data = path.read_bytes()
    naive = {data.index(b"\n", k) + 1 for k in range(blocksize, len(data), blocksize) if b"\n" in data[k:]}
    _, ranges = tables.row_ranges(io.BytesIO(data), blocksize)
    return bool(naive - {end for _, end in ranges})


@pytest.mark.parametrize("name,encoding,newline,before", [
    ("in.csv", "utf-8", "\n", ""),
    ("in.csv", "utf-8", "\r\n", ""),
    ("in.tsv", "utf-8", "\n", ""),
    ("in.csv", "cp1252", "\n", ""),
    ("in.csv", "utf-8-sig", "\r\n", ""),
    ("in.csv", "utf-8", "\n", "\n\r\n"),  # blank lines before the header
])
def test_a_file_read_in_blocks_keeps_each_posting_whole(tmp_path, model_dir, scheduler, name, encoding, newline,
                                                       before):
    texts = _postings(30, "Café", newline)
    path = _posting_file(tmp_path / name, texts, encoding, newline, before)
    assert _cut_by_dask_inside_quoted_cells(path, 1000)
    got = _by_dask(path, tmp_path / "out", model_dir, scheduler, blocksize="1KB")
    assert len(list((tmp_path / "out").glob("*.parquet"))) > 5  # one partition per block
    assert list(got.columns) == OUT
    assert got["description"].tolist() == texts
    assert _same(got, _by_local_engine([path], tmp_path, model=model_dir))


def test_a_glob_of_files_read_in_blocks(tmp_path, model_dir, scheduler):
    folder = tmp_path / "in"
    folder.mkdir()
    files = [_posting_file(folder / "a.csv", _postings(12, "Café"), "utf-8-sig"),
             _posting_file(folder / "b.csv", _postings(9, "Café"), "utf-8-sig", first=12),
             _posting_file(folder / "c.csv", _postings(10, "Café"), "cp1252", "\r\n", first=21)]
    got = _by_dask(folder / "*.csv", tmp_path / "out", model_dir, scheduler, blocksize="1KB")
    assert len(list((tmp_path / "out").glob("*.parquet"))) > 6
    assert got["id"].tolist() == [str(i) for i in range(31)]
    assert _same(got, _by_local_engine(files, tmp_path, model=model_dir))


def test_a_quote_never_closed_in_a_later_block_is_the_local_engines_error(tmp_path, model_dir, scheduler):
    path = _posting_file(tmp_path / "in.csv", _postings(10, ""))
    path.write_bytes(path.read_bytes() + b'10,"A posting\nwith no end\n')
    with open(path, "rb") as raw:
        assert len(tables.row_ranges(raw, 1000)[1]) == 3  # the quote opens in the last of three blocks
    with pytest.raises(BadInputFile) as dask:
        label_with_dask(str(path), tmp_path / "out", model=model_dir, scheduler=scheduler, blocksize="1KB")
    with pytest.raises(BadInputFile) as local:
        label_file(path, tmp_path / "local.csv", model=model_dir)
    assert str(dask.value) == str(local.value) == \
        f'{path}: not a readable CSV file: a quote (") opened in row 12 is never closed'


def test_a_row_pandas_cannot_read_in_a_later_block_is_the_local_engines_error(tmp_path, model_dir, scheduler):
    path = _posting_file(tmp_path / "in.csv", _postings(10, ""))
    path.write_bytes(path.read_bytes() + b'10,"a posting",with,extra fields\n')
    with open(path, "rb") as raw:
        assert len(tables.row_ranges(raw, 1000)[1]) == 3  # the bad row is in the last of three blocks
    with pytest.raises(BadInputFile) as local:
        label_file(path, tmp_path / "local.csv", model=model_dir)
    with pytest.raises(BadInputFile) as dask:
        label_with_dask(str(path), tmp_path / "out", model=model_dir, scheduler=scheduler, blocksize="1KB")
    assert str(dask.value) == str(local.value) == f"{path}: not a readable CSV file: row 12 has 4 fields but the header has 2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]  # no output, nothing half made beside it


@pytest.mark.parametrize("name", ["in.csv", "in.csv.gz", "in.tsv"])  # read in blocks, read whole
def test_a_first_row_longer_than_the_header_is_refused_by_dask_as_by_the_local_engine(tmp_path, model_dir, name):
    # pandas reads such a row as an index plus the row: the id gone, the text in the next column
    data = b"id,description\n1,some posting text,extra\n2,other text\n"
    data = data.replace(b",", b"\t") if name.endswith(".tsv") else data
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    kind = "TSV" if name.endswith(".tsv") else "CSV"
    message = f"not a readable {kind} file: the first row under the header has 3 fields but the header has 2"
    assert _label_both_ways(path, tmp_path, model_dir) == [(1, f"Error: {path}: {message}\n")] * 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.mark.parametrize("name", ["in.csv", "in.csv.gz", "in.tsv"])
def test_a_first_row_longer_than_the_header_is_refused_before_the_cluster_starts(tmp_path, model_dir, monkeypatch,
                                                                                name):
    import pmtype.batch

    def no_cluster(*args, **kwargs):
        raise AssertionError("the cluster was started")

    monkeypatch.setattr(pmtype.batch, "_dask_client", no_cluster)
    data = b"id,description\n1,some posting text,extra\n2,other text\n"
    data = data.replace(b",", b"\t") if name.endswith(".tsv") else data
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    r = CliRunner().invoke(app, ["label", str(path), "-o", str(tmp_path / "out"), "--engine", "dask", "--quiet",
                                 "--model", str(model_dir)])
    kind = "TSV" if name.endswith(".tsv") else "CSV"
    assert (r.exit_code, r.stderr) == (1, f"Error: {path}: not a readable {kind} file: the first row under the "
                                          "header has 3 fields but the header has 2\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.mark.parametrize("block", [0, 1])  # the file's first row; a later row, the first of the second block
def test_a_block_whose_first_row_is_longer_than_the_header_is_the_local_engines_error(tmp_path, model_dir, scheduler,
                                                                                      block):
    path = _posting_file(tmp_path / "in.csv", _postings(10, ""))
    data = path.read_bytes()
    start = tables.row_ranges(io.BytesIO(data), 1000)[1][block][0]
    end = data.index(b'."\n', start) + 2  # the end of the row that starts the block
    path.write_bytes(data[:end] + b",extra" + data[end:])
    with open(path, "rb") as raw:
        assert tables.row_ranges(raw, 1000)[1][block][0] == start  # still the first row of its block
    with pytest.raises(BadInputFile) as local:
        label_file(path, tmp_path / "local.csv", model=model_dir)
    with pytest.raises(BadInputFile) as dask:
        label_with_dask(str(path), tmp_path / "out", model=model_dir, scheduler=scheduler, blocksize="1KB")
    row = int(data[start:data.index(b",", start)]) + 2  # rows counted from the header, row 1
    reason = f"row {row} has 3 fields" if block else "the first row under the header has 3 fields"
    assert row == (6 if block else 2)
    assert str(dask.value) == str(local.value) == f"{path}: not a readable CSV file: {reason} but the header has 2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_a_bad_row_after_a_blank_line_of_a_one_column_csv_is_the_local_engines_error(tmp_path, model_dir, scheduler):
    # the blank line is a row (an empty cell), so the row after it is the first, and too long: Dask's
    # second reading, which names the row, must not skip the blank line and take that row's first
    # cell for an index, naming a later row
    path = tmp_path / "in.csv"
    path.write_bytes(b"description\n\na,b\nx\ny,z,w\n")
    with pytest.raises(BadInputFile) as local:
        label_file(path, tmp_path / "local.csv", model=model_dir)
    with pytest.raises(BadInputFile) as dask:
        label_with_dask(str(path), tmp_path / "out", model=model_dir, scheduler=scheduler)
    assert str(dask.value) == str(local.value) == f"{path}: not a readable CSV file: row 3 has 2 fields but the header has 1"


SEMICOLONS = ("; the header is one column, 'description;title': is the file separated by semicolons? pmtype reads "
              "CSV separated by commas (and TSV by tabs): save it so")


def test_a_file_separated_by_semicolons_is_named_so_by_both_engines(tmp_path, model_dir):
    # Excel in many countries saves "CSV" with semicolons: one column, found by no name
    path = tmp_path / "in.csv"
    path.write_bytes(b"description;title\nWe build APIs;Engineer PM\nOwn the roadmap;Biz PM\n")
    message = ("no text column found (looked for description, job_description, jobdescription, description_text, "
               "text, body, …); the columns are: description;title; name one with --text-column" + SEMICOLONS)
    assert _label_both_ways(path, tmp_path, model_dir) == [(1, f"Error: {path}: {message}\n")] * 2


@pytest.mark.parametrize("key", ["description;title", "{description"])
def test_a_json_lines_key_is_not_taken_for_a_csv_header_by_either_engine(tmp_path, model_dir, key):
    # a key with a semicolon, or a brace, is no sign of CSV separated by semicolons, or of JSON read as CSV
    path = tmp_path / "in.jsonl"
    _jsonl(path, [{key: "We build APIs"}, {key: "Own the roadmap"}])
    message = ("no text column found (looked for description, job_description, jobdescription, description_text, "
               f"text, body, …); the columns are: {key}; name one with --text-column")
    assert _label_both_ways(path, tmp_path, model_dir) == [(1, f"Error: {path}: {message}\n")] * 2


@pytest.mark.parametrize("name", ["in.csv", "in.csv.gz"])
def test_a_first_row_too_long_of_a_file_separated_by_semicolons_is_named_so_by_both_engines(tmp_path, model_dir, name):
    # the first row's cell holds a comma: pandas would read its first part as an index
    data = b"description;title\nWe build APIs, and ship code;Engineer PM\nOwn the roadmap;Biz PM\n"
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    message = "not a readable CSV file: the first row under the header has 2 fields but the header has 1" + SEMICOLONS
    assert _label_both_ways(path, tmp_path, model_dir) == [(1, f"Error: {path}: {message}\n")] * 2


@pytest.mark.parametrize("name,blocksize", [("in.csv", "1KB"), ("in.csv.gz", None)])
def test_a_bad_row_of_a_file_separated_by_semicolons_is_named_so_by_both_engines(tmp_path, model_dir, scheduler,
                                                                                 name, blocksize):
    # its column named, the file is read; a cell with a comma is a row pandas cannot read
    data = b"description;title\nOwn the roadmap;Biz PM\nWe build APIs, and ship code;Engineer PM\n"
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    with pytest.raises(BadInputFile) as local:
        label_file(path, tmp_path / "local.csv", model=model_dir, text_column="description;title")
    with pytest.raises(BadInputFile) as dask:
        label_with_dask(str(path), tmp_path / "out", model=model_dir, scheduler=scheduler, blocksize=blocksize,
                        text_column="description;title")
    assert str(dask.value) == str(local.value) == \
        f"{path}: not a readable CSV file: row 3 has 2 fields but the header has 1" + SEMICOLONS


def test_a_bad_row_in_a_file_read_whole_is_named_with_its_file(tmp_path, model_dir, scheduler):
    folder = tmp_path / "in"
    folder.mkdir()
    _csv(folder / "a.csv", _texts(2, ""), "utf-8")
    (folder / "b.csv.gz").write_bytes(gzip.compress(b'id,description\n1,"a posting"\n2,"another",extra\n'))
    with pytest.raises(BadInputFile) as e:
        label_with_dask(str(folder / "*"), tmp_path / "out", model=model_dir, scheduler=scheduler, in_format="csv")
    assert str(e.value) == f"{folder / 'b.csv.gz'}: not a readable CSV file: row 3 has 3 fields but the header has 2"
    assert not (tmp_path / "out").exists()


# --- JSON Lines: every key of every file is a column, as the local engine gives a file's ----------------------

def _jsonl(path, rows):
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("case", ["a key only in the second file", "the keys in another order",
                                  "keys first met in a later block"])
def test_json_lines_whose_keys_differ_give_every_key_as_a_column(tmp_path, model_dir, scheduler, case):
    texts = _texts(12, "Café")
    rows = [{"id": i, "description": t} for i, t in enumerate(texts)]
    folder = tmp_path / "in"
    folder.mkdir()
    if case == "a key only in the second file":
        files = [_jsonl(folder / "a.jsonl", rows[:6]),
                 _jsonl(folder / "b.jsonl", [{**r, "score": i, "tags": ["api", i]} for i, r in enumerate(rows[6:])])]
        columns = ["id", "description", "score", "tags"]
    elif case == "the keys in another order":
        files = [_jsonl(folder / "a.jsonl", rows[:6]),
                 _jsonl(folder / "b.jsonl", [{"description": r["description"], "id": r["id"]} for r in rows[6:]])]
        columns = ["id", "description"]
    else:
        late = [{**r, "late": {"nested": [1, None]}, "n": 2.5} if i >= 9 else r for i, r in enumerate(rows)]
        late[10] = {"id": 10, "description": 12345, "late": None}  # a number where the text goes; a null
        files = [_jsonl(folder / "a.jsonl", late)]
        columns = ["id", "description", "late", "n"]
    source = folder / ("*.jsonl" if len(files) > 1 else "a.jsonl")
    got = _by_dask(source, tmp_path / "out", model_dir, scheduler, blocksize="1KB")
    whole = tmp_path / "whole.jsonl"  # the local engine on all the rows, in one file
    whole.write_bytes(b"".join(f.read_bytes() for f in files))
    expected = _by_local_engine([whole], tmp_path, model=model_dir)
    assert list(got.columns) == list(expected.columns) == columns + OUT[2:]
    assert _same(got, expected)
    if case == "keys first met in a later block":
        assert len(list((tmp_path / "out").glob("*.parquet"))) > 2
        assert got["late"].tolist()[9] == '{"nested": [1, null]}'  # nested values as JSON text
        assert got["pm_status"].tolist()[10] == expected["pm_status"].tolist()[10]


def test_a_bad_json_line_in_any_file_stops_the_run_before_the_cluster(tmp_path, model_dir):
    folder = tmp_path / "in"
    folder.mkdir()
    _jsonl(folder / "a.jsonl", [{"id": 1, "description": TECH_POSTING}])
    (folder / "b.jsonl").write_text(json.dumps({"id": 2, "description": TECH_POSTING}) + "\n\n{not json\n")
    with pytest.raises(BadInputFile) as e:  # an address nothing answers at: the run never gets that far
        label_with_dask(str(folder / "*.jsonl"), tmp_path / "out", model=model_dir, scheduler="tcp://127.0.0.1:1")
    assert str(e.value) == f"{folder / 'b.jsonl'}: line 3 is not valid JSON"


# --- the output folder: this run's rows only, put in place when the run ends ----------------------------------

def _hidden(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_folder_an_earlier_run_wrote_is_replaced_and_the_summary_counts_this_run(tmp_path, model_dir, scheduler,
                                                                                    parts):
    folder, _ = parts
    out = tmp_path / "out"
    first = label_with_dask(str(folder / "*.csv"), out, model=model_dir, scheduler=scheduler, out_format="csv",
                            blocksize="1KB")
    assert first.rows == 45 and len(list(out.glob("part-*.csv"))) > 1
    second = label_with_dask(str(folder / "part0.csv"), out, model=model_dir, scheduler=scheduler)
    assert second.rows == 15 and second.statuses["empty text"] == 1
    assert sorted(p.name for p in out.iterdir()) == ["part.0.parquet"]
    assert pd.read_parquet(out)["id"].tolist() == [f"0-{i}" for i in range(15)]
    assert _hidden(tmp_path) == []


def test_an_interrupted_run_leaves_nothing_and_the_earlier_output_as_it_was(tmp_path, model_dir, scheduler, parts,
                                                                            monkeypatch):
    from pmtype import batch

    folder, _ = parts
    out = tmp_path / "out"
    label_with_dask(str(folder / "part1.csv"), out, model=model_dir, scheduler=scheduler)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def interrupted(frame):
        raise KeyboardInterrupt  # when the parts are written, as the rows are counted

    monkeypatch.setattr(batch, "_counted", interrupted)
    with pytest.raises(KeyboardInterrupt):
        label_with_dask(str(folder / "*.csv"), out, model=model_dir, scheduler=scheduler)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert _hidden(tmp_path) == []
    with pytest.raises(KeyboardInterrupt):
        label_with_dask(str(folder / "*.csv"), tmp_path / "new", model=model_dir, scheduler=scheduler)
    assert not (tmp_path / "new").exists() and _hidden(tmp_path) == []


def test_a_folder_holding_other_files_is_refused_and_left_alone(tmp_path, model_dir, parts):
    folder, _ = parts
    out = tmp_path / "out"
    out.mkdir()
    (out / "part.0.parquet").write_bytes(b"a part")
    (out / "notes.txt").write_text("mine")
    r = CliRunner().invoke(app, ["label", str(folder / "*.csv"), "-o", str(out), "--engine", "dask",
                                 "--model", str(model_dir)])
    assert (r.exit_code, r.stderr) == (1, f"Error: {out} holds files pmtype did not write (notes.txt); the dask "
                                          "engine replaces only a folder of its own parts: give a new or empty "
                                          "folder\n")
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "part.0.parquet"]
    assert _hidden(tmp_path) == []


@pytest.mark.parametrize("where", ["the input's folder", "a folder above it"])
def test_the_output_folder_may_not_hold_the_input(tmp_path, model_dir, parts, where):
    folder, _ = parts
    out = folder if where == "the input's folder" else tmp_path
    r = CliRunner().invoke(app, ["label", str(folder / "*.csv"), "-o", str(out), "--engine", "dask",
                                 "--output-format", "csv", "--model", str(model_dir)])
    assert (r.exit_code, r.stderr) == (1, f"Error: {out} holds the input {folder / 'part0.csv'}; "
                                          "write the output to another folder\n")
    assert sorted(p.name for p in folder.iterdir()) == ["part0.csv", "part1.csv", "part2.csv"]


def test_a_folder_of_parquet_parts_may_not_be_its_own_output(tmp_path, model_dir, scheduler, parts):
    folder, _ = parts
    out = tmp_path / "out"
    label_with_dask(str(folder / "*.csv"), out, model=model_dir, scheduler=scheduler)
    with pytest.raises(OutputExists) as e:  # the folder holds only parts a run wrote: but they are the input
        label_with_dask(str(out), out, model=model_dir, scheduler=scheduler, in_format="parquet")
    assert str(e.value) == f"{out} holds the input {out / 'part.0.parquet'}; write the output to another folder"


def test_an_output_that_is_a_file_or_a_url_not_empty_is_refused(tmp_path, model_dir, parts):
    import fsspec

    folder, _ = parts
    afile = tmp_path / "afile"
    afile.write_text("x")
    r = CliRunner().invoke(app, ["label", str(folder / "*.csv"), "-o", str(afile), "--engine", "dask",
                                 "--model", str(model_dir)])
    assert (r.exit_code, r.stderr) == (1, f"Error: {afile} is a file; the dask engine writes a folder of parts\n")
    memory = fsspec.filesystem("memory")
    memory.pipe("/pmtype-test/out/part.0.parquet", b"an earlier run's")
    try:
        with pytest.raises(OutputExists) as e:
            label_with_dask(str(folder / "*.csv"), "memory://pmtype-test/out", model=model_dir)
        assert str(e.value) == ("memory://pmtype-test/out is not empty; away from this machine the dask engine "
                                "writes only into a new or empty folder: give another")
        assert memory.cat("/pmtype-test/out/part.0.parquet") == b"an earlier run's"
    finally:
        memory.rm("/pmtype-test", recursive=True)


def test_the_current_folder_is_never_replaced(tmp_path, model_dir, parts, monkeypatch):
    folder, _ = parts
    here = tmp_path / "empty"
    here.mkdir()
    monkeypatch.chdir(here)
    with pytest.raises(CannotWrite) as e:
        label_with_dask(str(folder / "*.csv"), ".", model=model_dir)
    assert str(e.value) == ". is the current folder; write the output to a folder in it"
    assert here.is_dir() and _hidden(tmp_path) == []


# --- options -------------------------------------------------------------------------------------------

def _ucx_installed() -> bool:
    from distributed.comm.registry import get_backend

    try:
        get_backend("ucx").get_connector()
    except Exception:
        return False
    return True


@pytest.mark.parametrize("args, code, message", [
    (["--workers", "0"], 2, "--workers must be at least 1"),
    (["--workers", "-1"], 2, "--workers must be at least 1"),
    (["--scheduler", "notaurl"], 2, "--scheduler notaurl is not a Dask scheduler address (missing port number in "
                                    "address 'notaurl'); give one such as tcp://HOST:8786"),
    (["--scheduler", "inproc://10.0.0.1/1/2"], 2, "--scheduler inproc://10.0.0.1/1/2 is an in-process address, which "
                                                 "only the process running that scheduler can reach; give one such "
                                                 "as tcp://HOST:8786"),
    pytest.param(["--scheduler", "ucx://127.0.0.1:1"], 2, "--scheduler ucx://127.0.0.1:1: Dask's support for ucx:// "
                 "is not installed here; give an address such as tcp://HOST:8786",
                 marks=pytest.mark.skipif(_ucx_installed(), reason="Dask's UCX support is installed here")),
    (["--scheduler", "tcp://127.0.0.1:1"], 1, "cannot reach the Dask scheduler at tcp://127.0.0.1:1: "
                                              "Timed out trying to connect to tcp://127.0.0.1:1 after 1 s"),
])
def test_bad_workers_or_scheduler_are_one_line_errors(tmp_path, model_dir, parts, monkeypatch, args, code, message):
    from pmtype import batch

    monkeypatch.setattr(batch, "SCHEDULER_TIMEOUT", 1)
    folder, _ = parts
    r = CliRunner().invoke(app, ["label", str(folder / "*.csv"), "-o", str(tmp_path / "out"), "--engine", "dask",
                                 "--model", str(model_dir), *args])
    assert (r.exit_code, r.stderr) == (code, f"Error: {message}\n")
    assert not (tmp_path / "out").exists() and _hidden(tmp_path) == []


@pytest.fixture
def not_a_scheduler():
    """Addresses where something other than a Dask scheduler listens: one that never answers (as a
    web server waits for a request), one that answers at once with what is not Dask's (a web page)."""
    import socket
    import threading

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # connections complete, and are never answered
    talker = socket.socket()
    talker.bind(("127.0.0.1", 0))
    talker.listen()

    def answer():
        with suppress(OSError):
            while True:
                conn, _ = talker.accept()
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    threading.Thread(target=answer, daemon=True).start()
    yield {"silent": f"tcp://127.0.0.1:{silent.getsockname()[1]}", "web": f"tcp://127.0.0.1:{talker.getsockname()[1]}"}
    silent.close()
    talker.close()


@pytest.mark.parametrize("kind,reason", [
    ("silent", "something listens there but did not answer as a Dask scheduler within 1 s"),
    ("web", "what answers there is not a Dask scheduler"),
    ("worker", "what answers there is a Dask worker; give the scheduler's address"),
])
def test_an_address_where_no_dask_scheduler_answers_is_a_one_line_error_not_a_hang(
        tmp_path, model_dir, parts, scheduler, not_a_scheduler, monkeypatch, kind, reason):
    import threading

    from dask.distributed import Client

    from pmtype import batch

    monkeypatch.setattr(batch, "SCHEDULER_TIMEOUT", 1)
    if kind == "worker":
        with Client(scheduler) as client:
            address = next(iter(client.scheduler_info()["workers"]))
    else:
        address = not_a_scheduler[kind]
    folder, _ = parts
    result = []
    run = threading.Thread(target=lambda: result.append(CliRunner().invoke(
        app, ["label", str(folder / "*.csv"), "-o", str(tmp_path / "out"), "--engine", "dask",
              "--model", str(model_dir), "--scheduler", address])), daemon=True)
    run.start()
    run.join(60)
    assert result, "the run still waits for an answer"
    assert (result[0].exit_code, result[0].stderr) == (1, f"Error: cannot reach the Dask scheduler at {address}: "
                                                          f"{reason}\n")
    assert not (tmp_path / "out").exists() and _hidden(tmp_path) == []


def test_the_output_format_in_capitals(tmp_path, model_dir, scheduler, parts):
    folder, _ = parts
    r = CliRunner().invoke(app, ["label", str(folder / "part0.csv"), "-o", str(tmp_path / "out"), "--engine", "dask",
                                 "--scheduler", scheduler, "--output-format", "CSV", "--model", str(model_dir)])
    assert r.exit_code == 0, r.output
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["part-0.csv"]


# --- Parquet input keeps its types ----------------------------------------------------------------------

def test_numbers_booleans_and_times_of_parquet_input_keep_their_types(tmp_path, model_dir, scheduler):
    n = 8
    frame = pd.DataFrame({
        "id": [f"r{i}" for i in range(n)],
        "description": [TECH_POSTING if i % 2 else BUSINESS_POSTING for i in range(n)],
        "n": range(n),
        "share": [0.1 * i if i != 3 else None for i in range(n)],
        "remote": [i % 3 == 0 for i in range(n)],
        "maybe": pd.array([None if i == 2 else i for i in range(n)], dtype="Int64"),
        "posted": pd.date_range("2024-01-01", periods=n, freq="h"),
        "kind": pd.Categorical(["a" if i % 2 else "b" for i in range(n)]),
        "tags": [["api", str(i)] if i % 3 else None for i in range(n)],
    })
    source = tmp_path / "in.parquet"
    frame.to_parquet(source, index=False)
    label_file(source, tmp_path / "local.parquet", model=model_dir)
    local = pd.read_parquet(tmp_path / "local.parquet")
    label_with_dask(str(source), tmp_path / "out", model=model_dir, scheduler=scheduler)
    got = pd.read_parquet(tmp_path / "out")
    assert list(got.columns) == list(local.columns)
    for column in ("n", "share", "remote", "maybe", "posted", "kind", "pm_p_technical"):
        assert got[column].dtype == local[column].dtype, column
        pd.testing.assert_series_equal(got[column], local[column])
    assert got["n"].sum() == sum(range(n))
    # CSV output: byte for byte the local engine's
    label_file(source, tmp_path / "local.csv", model=model_dir)
    label_with_dask(str(source), tmp_path / "out_csv", model=model_dir, scheduler=scheduler, out_format="csv")
    assert [p.name for p in (tmp_path / "out_csv").iterdir()] == ["part-0.csv"]
    assert (tmp_path / "out_csv" / "part-0.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()


# --- a run on its own local cluster: only pmtype's line on standard error --------------------------------

_AS_AT_A_TERMINAL = ("import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"
                     "from pmtype.cli import run\nrun()\n")


def _pmtype(*args):
    """``pmtype`` as a process of its own, taking Ctrl-C as at a terminal (a shell without job control
    starts background commands with SIGINT ignored, and Python keeps that)."""
    import sys

    return [sys.executable, "-c", _AS_AT_A_TERMINAL, *map(str, args)]


@pytest.fixture
def port_8787_taken():
    """The port of Dask's dashboard, taken (as by another cluster), where it is free."""
    import socket

    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", 8787))
        sock.listen()
    except OSError:
        pass  # taken already
    yield
    sock.close()


def test_a_failed_run_on_a_local_cluster_prints_one_line(tmp_path, model_dir, port_8787_taken):
    import subprocess

    path = tmp_path / "in.csv"
    path.write_text(f'id,description\n1,"{TECH_POSTING}"\n2,"a posting",extra\n')
    r = subprocess.run(_pmtype("label", path, "-o", tmp_path / "out", "--engine", "dask", "--workers", 1,
                               "--model", model_dir, "--quiet"), capture_output=True, text=True, timeout=300)
    assert (r.returncode, r.stderr) == (1, f"Error: {path}: not a readable CSV file: row 3 has 3 fields but the header has 2\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_ctrl_c_stops_a_run_in_one_line_and_leaves_nothing(tmp_path, model_dir, port_8787_taken):
    import os
    import signal
    import subprocess
    import time

    path = tmp_path / "in.csv"
    texts = [TECH_POSTING if i % 3 else BUSINESS_POSTING for i in range(20_000)]
    pd.DataFrame({"id": range(len(texts)), "description": texts}).to_csv(path, index=False)
    out = tmp_path / "out"
    proc = subprocess.Popen(_pmtype("label", path, "-o", out, "--engine", "dask", "--workers", 2,
                                    "--model", model_dir), stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own process group, as a terminal's job is
    deadline = time.time() + 120
    while time.time() < deadline and not _hidden(tmp_path):  # the run's folder, made as its cluster starts
        time.sleep(0.05)
    time.sleep(2)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches every process of the job: pmtype and its workers
    stderr = proc.communicate(timeout=120)[1]
    assert (proc.returncode, stderr) == (130, "Error: interrupted\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


# --- what the local engine keeps, the dask engine keeps ------------------------------------------------

def _local_and_dask(tmp_path, model_dir, scheduler, src, out_format):
    """The local engine's output file and the dask engine's one part, both in ``out_format``."""
    local = tmp_path / f"local.{out_format}"
    label_file(src, local, model=model_dir)
    folder = tmp_path / "dask_out"
    label_with_dask(str(src), folder, model=model_dir, scheduler=scheduler, out_format=out_format)
    (part,) = folder.iterdir()
    return local, part


def test_a_lone_carriage_return_in_a_cell_is_quoted_in_dask_csv(tmp_path, model_dir, scheduler):
    src = tmp_path / "in.csv"
    src.write_bytes(f'id,description,note\n1,"{TECH_POSTING}","a\rb"\n2,"{BUSINESS_POSTING}",x\n'.encode())
    local, part = _local_and_dask(tmp_path, model_dir, scheduler, src, "csv")
    assert part.read_bytes() == local.read_bytes()
    back = pd.read_csv(part, dtype=str, keep_default_na=False)
    assert back["id"].tolist() == ["1", "2"] and back["note"].tolist() == ["a\rb", "x"]


def test_parquet_integers_and_booleans_with_nulls_keep_their_types_in_dask(tmp_path, model_dir, scheduler):
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": pa.array([1, None, 3], pa.int64()), "remote": pa.array([True, None, False]),
                             "description": [TECH_POSTING, BUSINESS_POSTING, None]}), src)
    local, part = _local_and_dask(tmp_path, model_dir, scheduler, src, "parquet")
    schema = pq.read_schema(part)
    assert (schema.field("id").type, schema.field("remote").type) == (pa.int64(), pa.bool_())
    assert pq.read_table(part).column("id").to_pylist() == pq.read_table(local).column("id").to_pylist() == [1, None, 3]


def test_parquet_decimals_dates_and_times_keep_their_stored_types_in_dask(tmp_path, model_dir, scheduler):
    import datetime
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "in.parquet"
    kept = {"salary": pa.array([decimal.Decimal("90000.50"), None], pa.decimal128(12, 2)),
            "posted": pa.array([datetime.date(2024, 3, 1), None], pa.date32()),
            "starts": pa.array([datetime.time(9, 30), None], pa.time64("us"))}
    pq.write_table(pa.table({**kept, "description": [TECH_POSTING, BUSINESS_POSTING]}), src)
    local, part = _local_and_dask(tmp_path, model_dir, scheduler, src, "parquet")
    for written in (local, part):
        table = pq.read_table(written)
        assert {c: table.schema.field(c).type for c in kept} == {c: a.type for c, a in kept.items()}
        assert {c: table.column(c).to_pylist() for c in kept} == {c: a.to_pylist() for c, a in kept.items()}


@pytest.mark.parametrize("writer", ["pyarrow", "pandas"])
def test_dictionary_encoded_parquet_columns_are_kept_by_dask_as_by_the_local_engine(tmp_path, model_dir, scheduler,
                                                                                     writer):
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "in.parquet"
    titles, texts = ["Product Manager", "Product Manager"], [TECH_POSTING, BUSINESS_POSTING]
    if writer == "pyarrow":  # as pyarrow, Polars or Spark write categories: no pandas metadata
        pq.write_table(pa.table({"title": pa.array(titles).dictionary_encode(),
                                 "description": pa.array(texts).dictionary_encode()}), src)
    else:
        pd.DataFrame({"title": pd.Categorical(titles), "level": pd.Categorical([3, 1]),
                      "description": texts}).to_parquet(src)
    local, part = _local_and_dask(tmp_path, model_dir, scheduler, src, "parquet")
    assert pq.read_schema(part).types == pq.read_schema(local).types
    assert pq.read_table(part).to_pylist() == pq.read_table(local).to_pylist()
    assert pq.read_table(part).column("title").to_pylist() == titles


@pytest.mark.parametrize("out_format", ["parquet", "csv"])
def test_a_parquet_column_of_bytes_is_kept_by_dask_as_by_the_local_engine(tmp_path, model_dir, scheduler, out_format):
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"description": [TECH_POSTING, BUSINESS_POSTING],
                             "thumbnail": pa.array([b"\xff\xd8\x00\n", None], pa.binary()),  # not UTF-8
                             "digest": pa.array([b"\x01\x02", b"\x03\x04"], pa.binary(2))}), src)
    local, part = _local_and_dask(tmp_path, model_dir, scheduler, src, out_format)
    if out_format == "csv":
        assert part.read_bytes() == local.read_bytes()
    else:
        assert pq.read_schema(part).types == pq.read_schema(local).types
        assert pq.read_table(part).to_pylist() == pq.read_table(local).to_pylist()
        assert pq.read_table(part).column("thumbnail").to_pylist() == [b"\xff\xd8\x00\n", None]


def test_two_blank_column_names_are_kept_by_dask_as_by_the_local_engine(tmp_path, model_dir, scheduler):
    src = tmp_path / "in.csv"
    src.write_text(f'id,description,,\n1,"{TECH_POSTING}",,\n')
    local, part = _local_and_dask(tmp_path, model_dir, scheduler, src, "csv")
    assert part.read_bytes() == local.read_bytes()
    assert local.read_text().splitlines()[0].startswith("id,description,Unnamed: 2,Unnamed: 3,pm_label")


@pytest.mark.parametrize("name", ["in.csv", "in.csv.gz"])  # read in blocks, read whole
@pytest.mark.parametrize("out_format", ["csv", "parquet"])
@pytest.mark.parametrize("header,cells,columns", [
    ("description,", "x", ["description", ""]),
    ("description,,Unnamed: 1", "x,y", ["description", "", "Unnamed: 1"]),  # not 'Unnamed: 1.1', 'Unnamed: 1'
    (",description", "x", ["", "description"]),  # an index pandas wrote
])
def test_a_blank_column_name_is_written_back_blank_by_dask_as_by_the_local_engine(tmp_path, model_dir, scheduler,
                                                                                  header, cells, columns, name,
                                                                                  out_format):
    rows = f'"{TECH_POSTING}",{cells}' if header.startswith("description") else f'{cells},"{TECH_POSTING}"'
    data = f"{header}\n{rows}\n".encode()
    src = tmp_path / name
    src.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    local, part = _local_and_dask(tmp_path, model_dir, scheduler, src, out_format)
    if out_format == "csv":
        assert part.read_bytes() == local.read_bytes()
        assert local.read_text().splitlines()[0].startswith(",".join(columns) + ",pm_label")
    else:
        got, expected = pd.read_parquet(part), pd.read_parquet(local)
        assert list(got.columns) == list(expected.columns) == columns + OUT[2:]
        assert got.drop(columns="pm_p_technical").astype(str).to_dict("list") \
            == expected.drop(columns="pm_p_technical").astype(str).to_dict("list")


@pytest.mark.parametrize("name", ["in.csv", "in.tsv"])
def test_a_column_named_x_1_beside_x_is_read_by_dask_as_by_the_local_engine(tmp_path, model_dir, scheduler, name):
    # a real name, not pandas' renaming of a repeated "description": no repeat
    sep = "\t" if name.endswith(".tsv") else ","
    src = tmp_path / name
    src.write_text(f"description{sep}description.1\n{TECH_POSTING}{sep}a note\n")
    local, part = _local_and_dask(tmp_path, model_dir, scheduler, src, "csv")
    assert part.read_bytes() == local.read_bytes()
    assert local.read_text().splitlines()[0].startswith("description,description.1,pm_label")


def test_two_blank_column_names_in_parquet_are_refused_by_dask_as_by_the_local_engine(tmp_path, model_dir):
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "in.parquet"
    pq.write_table(pa.table([pa.array([TECH_POSTING]), pa.array(["a"]), pa.array(["b"])],
                            names=["description", "", ""]), src)
    for engine in (["--engine", "dask", "-o", str(tmp_path / "out")], ["-o", str(tmp_path / "out.csv")]):
        r = CliRunner().invoke(app, ["label", str(src), "--model", str(model_dir), *engine])
        assert (r.exit_code, r.stderr) == (1, f"Error: {src}: the header has 2 blank column names; name them\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet"]


def test_a_tsv_written_without_quoting_is_cut_at_every_line_and_keeps_its_quotes(tmp_path, model_dir, scheduler):
    # No quoting: a cell that starts with a quote holds it as text, and every line is a row; cut
    # where the quotes were counted as quoting, blocks would end inside "cells" that are not there.
    one_line = {k: " ".join(text.split()) for k, text in enumerate((BUSINESS_POSTING, TECH_POSTING))}
    lines = [f'{i}\t"{one_line[i % 2]}" said the team {i}' for i in range(39)] + [f'39\t"never closed {one_line[0]}']
    path = tmp_path / "raw.tsv"
    path.write_text("id\tdescription\n" + "\n".join(lines) + "\n")
    got = _by_dask(path, tmp_path / "out", model_dir, scheduler, blocksize="1KB")
    # more than ten parts: pandas lists them by name, so part 10 comes after part 9 only when
    # every part number has the same width (part.00 … part.10)
    assert sorted(p.name for p in (tmp_path / "out").iterdir())[-2:] == ["part.09.parquet", "part.10.parquet"]
    assert got["id"].tolist() == [str(i) for i in range(40)]
    assert got["description"].tolist()[:2] == [lines[0].split("\t")[1], lines[1].split("\t")[1]]
    assert _same(got, _by_local_engine([path], tmp_path, model=model_dir))


def test_csv_parts_are_numbered_at_one_width_so_that_cat_keeps_the_order(tmp_path, model_dir, scheduler):
    texts = _postings(40, "Café")
    path = _posting_file(tmp_path / "in.csv", texts)
    out = tmp_path / "out"
    label_with_dask(str(path), out, model=model_dir, scheduler=scheduler, blocksize="1KB", out_format="csv")
    names = sorted(p.name for p in out.iterdir())
    assert len(names) > 10 and len({len(n) for n in names}) == 1
    got = pd.concat([pd.read_csv(out / n, dtype=str, keep_default_na=False) for n in names], ignore_index=True)
    assert got["id"].tolist() == [str(i) for i in range(40)]


def test_a_run_removes_the_hidden_folder_a_killed_run_to_the_same_output_left(tmp_path, model_dir, scheduler):
    import os
    import subprocess

    from pmtype import persist

    gone = subprocess.Popen(["true"])
    gone.wait()  # a process id that is no longer alive
    killed = tmp_path / f".out.{gone.pid}-{persist.HOST_TAG}.abcd1234.tmp"
    killed.mkdir()
    (killed / "part.00.parquet").write_bytes(b"half a part")
    killed_aside = tmp_path / f".out.{gone.pid}-{persist.HOST_TAG}.old"
    killed_aside.mkdir()
    running = tmp_path / f".out.{os.getpid()}-{persist.HOST_TAG}.abcd1234.tmp"  # a run still going
    running.mkdir()
    users = tmp_path / f".out.{gone.pid}-{persist.HOST_TAG}.wxyz9876.tmp"  # holds a file pmtype never writes
    users.mkdir()
    (users / "notes.txt").write_text("mine")
    other_output = tmp_path / f".other.{gone.pid}-{persist.HOST_TAG}.abcd1234.tmp"
    other_output.mkdir()
    path = _posting_file(tmp_path / "in.csv", _postings(3, "x"))
    _by_dask(path, tmp_path / "out", model_dir, scheduler)
    assert not killed.exists() and not killed_aside.exists()
    assert running.exists() and users.exists() and other_output.exists()


def test_a_local_cluster_never_has_more_workers_than_the_cores(tmp_path, model_dir, parts, monkeypatch, started):
    import pmtype.batch

    monkeypatch.setattr(pmtype.batch, "usable_cores", lambda: 1)  # a machine (or taskset) of one core
    folder, _ = parts
    summary = label_with_dask(str(folder / "part*.csv"), tmp_path / "out", model=model_dir, workers=64)
    assert started == [1]  # not 64 processes each holding a model
    assert summary.rows == 45


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("pattern, ids", [("part?.*", ["0", "1", "2"]), ("part[02].*", ["0", "2"])])
def test_a_pattern_of_question_marks_or_brackets_names_files_as_the_shell_would(tmp_path, model_dir, scheduler, parts,
                                                                              fmt, pattern, ids):
    folder, _ = parts
    if fmt == "parquet":
        for k in range(3):
            pd.read_csv(folder / f"part{k}.csv", keep_default_na=False).to_parquet(folder / f"part{k}.parquet")
            (folder / f"part{k}.csv").unlink()
    (folder / "part10.csv").write_text("id,description\nx,not matched by part?\n")
    pattern = pattern.replace("*", fmt)
    summary = label_with_dask(str(folder / pattern), tmp_path / "out", model=model_dir, scheduler=scheduler)
    got = pd.read_parquet(tmp_path / "out")
    assert summary.rows == 15 * len(ids)
    assert got["id"].tolist() == [f"{k}-{i}" for k in ids for i in range(15)]


def test_a_file_whose_own_name_holds_brackets_is_read_as_that_file(tmp_path, model_dir, scheduler, parts):
    folder, _ = parts
    named = folder / "part[1].csv"  # a file of that very name, not the pattern matching part1.csv
    named.write_text("id,description\nx,A product manager who works with engineers on our API platform.\n")
    summary = label_with_dask(str(named), tmp_path / "out", model=model_dir, scheduler=scheduler)
    assert summary.rows == 1 and pd.read_parquet(tmp_path / "out")["id"].tolist() == ["x"]
    r = CliRunner().invoke(app, ["label", str(folder / "part[7].csv"), "-o", str(tmp_path / "none"), "--engine", "dask",
                                 "--model", str(model_dir)])
    assert (r.exit_code, r.stderr) == (1, f"Error: no file matches {folder / 'part[7].csv'}\n")
