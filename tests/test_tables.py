import codecs
import gzip
import io
import json
import os
import sys
import threading
import types
from contextlib import ExitStack
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pmtype import config, tables
from pmtype.batch import label_file
from pmtype.cli import app
from pmtype.errors import BadInputFile, BadOption, CannotWrite, MissingColumn, OutputExists

FRAME = pd.DataFrame({"id": ["001", "2"], "description": ["Café API ünïcode", "Second, with comma"]})


def _read(path, **kw):
    return tables.read_table(path, **kw)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_encodings_are_detected(tmp_path, encoding):
    path = tmp_path / "p.csv"
    FRAME.to_csv(path, index=False, encoding=encoding)
    got = _read(path)
    assert list(got.columns) == ["id", "description"]
    assert got["description"].tolist() == FRAME["description"].tolist()
    assert got["id"].tolist() == ["001", "2"]  # kept as text


def test_one_bad_byte_does_not_stop_reading(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes("id,description\n1,fine text\n".encode() + b"2,bad \xff\xfe byte " + b"x" * 70000 + b"\n")
    got = _read(path)
    assert len(got) == 2


@pytest.mark.parametrize("where", [20, 70_000])  # in the 64 KB the encoding is judged by, and after
def test_a_stray_cp1252_byte_in_utf8_garbles_nothing_else(tmp_path, where):
    path = tmp_path / "p.csv"
    rows = [f"{i},Zürich Ärzte AG — résumé {'x' * 500}" for i in range(200)]
    data = ("id,description\n" + "\n".join(rows) + "\n").encode()
    cut = data.index(b"\n", where) + 1
    path.write_bytes(data[:cut] + b"999,Caf\xe9 on site\n" + data[cut:])
    got = _read(path)
    assert len(got) == 201
    assert got.loc[got["id"] == "999", "description"].tolist() == ["Café on site"]
    assert set(got.loc[got["id"] != "999", "description"].str[:24]) == {"Zürich Ärzte AG — résumé"}


@pytest.mark.parametrize("sample,encoding", [
    ("Zürich Ärzte — résumé ".encode() + b"Caf\xe9", "utf-8"),  # more UTF-8 letters than stray bytes
    (b"Caf\xe9 na\xefve r\xe9sum\xe9 \x93quoted\x94", "cp1252"),
    (b"caf\xe9: one stray byte", "cp1252"),  # read alike either way
    ("a cut character at the end: ü".encode()[:-1], "utf-8"),
])
def test_sniff_encoding_weighs_utf8_letters_against_rejected_bytes(sample, encoding):
    assert tables.sniff_encoding(sample) == encoding


@pytest.mark.parametrize("name", ["p.csv", "p.tsv", "p.jsonl", "p.parquet", "p.csv.gz", "p.jsonl.gz"])
def test_formats_round_trip(tmp_path, name):
    path = tmp_path / name
    fmt = tables.detect_format(path)
    with tables.atomic_output(path, fmt) as w:
        w.write(FRAME.iloc[:1])
        w.write(FRAME.iloc[1:])
    got = _read(path)
    assert got["description"].tolist() == FRAME["description"].tolist()
    if name.endswith(".gz"):
        assert gzip.open(path).read(2)


def test_chunks_keep_order(tmp_path):
    path = tmp_path / "p.csv"
    pd.DataFrame({"description": [f"row {i}" for i in range(25)]}).to_csv(path, index=False)
    chunks = list(tables.read_chunks(path, chunk_size=10))
    assert [len(c) for c in chunks] == [10, 10, 5]
    assert pd.concat(chunks)["description"].tolist() == [f"row {i}" for i in range(25)]


def test_column_detection():
    assert tables.find_column(["ID", "Job Description"], None, tables.TEXT_COLUMNS, "text") == "Job Description"
    assert tables.find_column(["x", "Body"], "body", tables.TEXT_COLUMNS, "text") == "Body"
    with pytest.raises(MissingColumn) as e:
        tables.find_column(["id", "name"], None, tables.TEXT_COLUMNS, "text")
    assert str(e.value) == (
        "no text column found (looked for description, job_description, jobdescription, "
        "description_text, text, body, …); the columns are: id, name; name one with --text-column"
    )
    with pytest.raises(MissingColumn) as e:
        tables.find_column(["id", "name"], "descr", tables.TEXT_COLUMNS, "text")
    assert str(e.value) == "no column 'descr'; the columns are: id, name"


@pytest.mark.skipif(not config.IN_CHECKOUT, reason="the seed corpus is data/seed/postings.csv in a checkout only")
def test_no_output_is_written_over_the_checkout_s_seed_corpus(tmp_path):
    seed = Path(tables.__file__).resolve().parents[2] / "data" / "seed" / "postings.csv"
    for output in (seed, seed.parent / ".." / "seed" / "postings.csv"):
        with pytest.raises(OutputExists) as e:
            tables.check_output(output, tmp_path / "in.csv")  # checks only: nothing is written
        assert str(e.value) == (f"{output} is pmtype's seed corpus, the data its default model is trained on; "
                                "write the output to another file")


@pytest.mark.parametrize("name,fmt", [("out.parquet.gz", None), ("out.pq.GZ", None), ("out.csv.gz", "parquet")])
def test_parquet_is_not_written_gzipped(name, fmt):
    with pytest.raises(BadOption) as e:
        tables.detect_output_format(name, fmt)
    assert str(e.value) == (f"cannot write Parquet to {name}: Parquet compresses itself and is not gzipped; "
                            "leave .gz off the name")
    assert tables.detect_output_format("out.csv.gz") == "csv"
    assert tables.detect_output_format("out.parquet.gz", "csv") == "csv"


def test_a_title_column_named_that_is_the_text_column_is_refused():
    """Each posting's text would be read twice, once as its title; the column is named as found."""
    assert tables.posting_columns(["title", "description"]) == ("description", "title")
    assert tables.posting_columns(["title", "description"], None, "Title") == ("description", "title")
    for text, title in ((None, "description"), (None, "Description"), ("body", "BODY")):
        with pytest.raises(BadOption) as e:
            tables.posting_columns(["title", "description", "body"], text, title)
        shown = "description" if text is None else "body"
        assert str(e.value) == (f"the title column '{shown}' is the text column; give the postings' title "
                                "column with --title-column, or leave it out")
    # a title column found by its name alone, which is the text column named: no title
    assert tables.posting_columns(["id", "title"], "title") == ("title", None)


@pytest.mark.parametrize("content,message", [
    (b"", "the file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "the file is binary, not a text table (CSV, TSV or JSON Lines)"),
    (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "the file is binary, not a text table (CSV, TSV or JSON Lines)"),
    (b"id,description\n", "the file has no rows"),
    (b"id,id\n1,2\n", "the header repeats column names: id"),
])
def test_unreadable_files_are_one_line_errors(tmp_path, content, message):
    path = tmp_path / "p.csv"
    path.write_bytes(content)
    with pytest.raises(BadInputFile) as e:
        _read(path)
    assert str(e.value) == message


def test_unbalanced_quotes_are_an_error(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text('id,description\n1,"never closed\n2,next\n')
    with pytest.raises(BadInputFile) as e:
        _read(path)
    assert str(e.value) == 'not a readable CSV file: a quote (") opened in row 2 is never closed'


def test_bad_jsonl_line(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"description": "ok"}) + "\n{oops\n")
    with pytest.raises(BadInputFile) as e:
        _read(path)
    assert str(e.value) == "line 2 is not valid JSON"


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(BadInputFile) as e:
        tables.detect_format(tmp_path / "p.xlsx")
    assert str(e.value) == f"cannot tell the format of {tmp_path / 'p.xlsx'} from its name; give --format (csv, tsv, jsonl, parquet)"
    with pytest.raises(BadInputFile) as e:
        _read(tmp_path / "missing.csv")
    assert str(e.value) == f"{tmp_path / 'missing.csv'} does not exist"


WEB_HINT = " (if that is a web address: pmtype reads no web pages; save the page and give its file)"


@pytest.mark.parametrize("name,hint", [
    ("example.com/jobs/pm.html", WEB_HINT), ("Jobs.Example.co.uk/pm.md", WEB_HINT),
    ("www.acme.example/pm.txt", WEB_HINT), ("example.com/postings.csv", WEB_HINT),
    ("postings/pm.html", ""), ("data.backup/posting.txt", ""), ("notes.md/pm.txt", ""),
    ("jobs.acme/2024/pm.md", ""), ("example.com", ""),
])
def test_a_missing_file_named_as_a_web_address_says_none_is_fetched(tmp_path, monkeypatch, name, hint):
    """A web address typed without https:// is a missing file, and the message says what to do."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BadInputFile) as e:
        tables.read_text_file(name)
    assert str(e.value) == f"{name} does not exist{hint}"
    if name.endswith(".csv"):
        with pytest.raises(BadInputFile) as e:
            _read(name)
        assert str(e.value) == f"{name} does not exist{hint}"


@pytest.mark.parametrize("name", ["https://example.com/jobs/postings.csv", "HTTP://www.example.com/pm.txt"])
def test_a_missing_table_named_by_a_whole_web_address_says_none_is_fetched(tmp_path, monkeypatch, name):
    """Typed whole, with its scheme, as well as without: a Path keeps one of its slashes."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BadInputFile) as e:
        _read(name)
    assert str(e.value) == f"{name.replace('//', '/')} does not exist{WEB_HINT}"
    with pytest.raises(BadInputFile) as e:
        tables.read_text_file(name)
    assert str(e.value).endswith(f" does not exist{WEB_HINT}")


def test_interrupted_write_leaves_nothing(tmp_path):
    path = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        with tables.atomic_output(path, "csv") as w:
            w.write(FRAME)
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("data,fmt,expected", [
    (codecs.BOM_UTF8 + b"id,description\n1,x\n", "csv",
     tables.TextTable("utf-8-sig", "pmtype-cp1252", False, ["id", "description"], True)),
    (gzip.compress("id\tdescription\n1\tcafé\n".encode("utf-16")), "tsv",
     tables.TextTable("utf-16", "replace", True, ["id", "description"], True)),
    (b"\n\nid,description\n1,caf\xe9 au lait\n", "csv",
     tables.TextTable("cp1252", "pmtype-cp1252", False, ["id", "description"], True)),
    (b"id,description," + b"x" * 70_000 + b"\n1,2,3\n", "csv", tables.TextTable("utf-8", "pmtype-cp1252", False, None, None)),
    (b'{"description": "x"}\n', "jsonl", tables.TextTable("utf-8", "pmtype-cp1252", False, None, True)),
    # only a header (and blank lines, which pandas skips): no rows
    (b"id,description\r\n\r\n\n", "csv", tables.TextTable("utf-8", "pmtype-cp1252", False, ["id", "description"], False)),
    (b'id,description\n"\n"', "csv", tables.TextTable("utf-8", "pmtype-cp1252", False, ["id", "description"], True)),
    # a header and the first 64 KB of a long first row: rows, although the row is not whole
    (b"id,description\n1,\"" + b"x" * 70_000 + b"\"\n", "csv",
     tables.TextTable("utf-8", "pmtype-cp1252", False, ["id", "description"], True)),
    (b"id,description\n" + b"\n" * 70_000 + b"1,x\n", "csv",
     tables.TextTable("utf-8", "pmtype-cp1252", False, ["id", "description"], None)),
])
def test_inspect_text_table_judges_a_file_from_its_first_64kb(data, fmt, expected):
    assert tables.inspect_text_table(io.BytesIO(data), fmt) == expected


def test_inspect_text_table_names_gzipped_parquet(tmp_path):
    """gzip-compressed Parquet named as text (the Dask engine inspects a .csv.gz so) is not a binary text table."""
    buffer = io.BytesIO()
    pd.DataFrame({"description": ["x"]}).to_parquet(buffer, index=False)
    with pytest.raises(BadInputFile, match="^the file is gzip-compressed Parquet, which pmtype does not read"):
        tables.inspect_text_table(io.BytesIO(gzip.compress(buffer.getvalue())), "csv")


def _row_ranges(data, blocksize):
    """``tables.row_ranges`` of ``data``, checked to be the same whatever the size of the pieces read."""
    found = [tables.row_ranges(io.BytesIO(data), blocksize, piece) for piece in (1, 2, 3, 7, 1 << 20)]
    assert all(f == found[0] for f in found)
    return found[0]


def test_blocks_end_only_where_a_row_ends():
    data = b'id,text\n1,"a\nb, ""c""\nd"\n2,e\n3,"f\n"\n'
    header_end, ranges = _row_ranges(data, 1)
    assert data[:header_end] == b"id,text\n"
    assert [data[s:e] for s, e in ranges] == [b'1,"a\nb, ""c""\nd"\n', b"2,e\n", b'3,"f\n"\n']
    # the first offset, 10, is inside the quoted cell: the first row end after it is chosen
    assert _row_ranges(data, 10) == (8, [(8, 25), (25, 36)])
    assert _row_ranges(data, 1000) == (8, [(8, 36)])


def test_a_quoted_newline_is_never_a_block_end():
    cell = b'"' + b'x\n""y""\n' * 4000 + b'"'  # the last row ends past the first 64 KB read
    data = b"id,text\r\n" + (b"1," + cell + b"\r\n") * 3
    _, ranges = _row_ranges(data, 16)
    assert [e for _, e in ranges] == [9 + len(cell) * k + 4 * k for k in (1, 2, 3)]


@pytest.mark.parametrize("data,expected", [
    (b'id,text\n1,"no end\nat all\n', (8, [(8, 25)])),  # the file ends inside an open quote
    (b"id,text\n1,abcdef", (8, [(8, 16)])),  # no newline after the offsets
    (b"id,text", (7, [(7, 7)])),
    (b"id,text\n", (8, [(8, 8)])),
    (codecs.BOM_UTF8 + b'\r\n\n"id\n",text\n1,x\n', (17, [(17, 21)])),  # a BOM and blank lines, then a header
])
def test_block_ends_at_the_edges_of_a_file(data, expected):
    assert _row_ranges(data, 2) == expected


# --- standard input and pipes: read as they come ------------------------------------------

@pytest.fixture
def piped_stdin(monkeypatch):
    """Standard input as a real pipe (one that cannot seek back), fed by a thread."""
    readers = []

    def feed(data: bytes) -> None:
        read_end, write_end = os.pipe()

        def write():
            with open(write_end, "wb") as f:
                f.write(data)

        threading.Thread(target=write, daemon=True).start()
        reader = open(read_end, "rb")
        readers.append(reader)
        assert not reader.seekable()
        monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=reader))

    yield feed
    for reader in readers:
        reader.close()


def _long_table() -> pd.DataFrame:
    """Over 64 KB (the sample pmtype sniffs), with a quoted line break, repeated and blank header names."""
    n = 1500
    return pd.DataFrame({"id": [str(i) for i in range(n)], "x": ["a"] * n, "x.1": ["b"] * n, "": ["c"] * n,
                         "text": [f"Own the APIs, row {i},\nwith the engineers." for i in range(n)]})


@pytest.mark.parametrize("fmt,packed", [("csv", False), ("csv", True), ("tsv", False), ("jsonl", True),
                                        ("parquet", False)])
def test_standard_input_is_read_as_it_comes(tmp_path, piped_stdin, fmt, packed):
    path = tmp_path / f"t.{fmt}"
    frame = _long_table()
    with tables.atomic_output(path, fmt) as writer:
        writer.write(frame)
    data = path.read_bytes()
    assert fmt == "parquet" or len(data) > tables.SAMPLE_BYTES  # text: past the sniffed sample
    want = pd.concat(tables.read_chunks(path, chunk_size=400), ignore_index=True)
    piped_stdin(gzip.compress(data) if packed else data)
    got = list(tables.read_chunks("-", fmt=fmt, chunk_size=400))
    assert [len(c) for c in got] == [400, 400, 400, 300]
    pd.testing.assert_frame_equal(pd.concat(got, ignore_index=True), want)
    assert list(want.columns) == ["id", "x", "x.1", "", "text"]


def test_standard_input_gives_its_first_rows_before_it_ends(monkeypatch):
    """Rows come out while the writer of the pipe is still writing: nothing waits for the end."""
    rows = [f'{i},"Own the APIs with the engineers; row {i} of a long table that keeps coming."\n'
            for i in range(20_000)]
    first, rest = ("id,text\n" + "".join(rows[:10_000])).encode(), "".join(rows[10_000:]).encode()
    read_end, write_end = os.pipe()
    more, gave_up = threading.Event(), threading.Event()

    def write():
        with open(write_end, "wb") as f:
            f.write(first)
            f.flush()
            if not more.wait(timeout=15):  # a reader that waits for the end gets it only now
                gave_up.set()
            f.write(rest)

    threading.Thread(target=write, daemon=True).start()
    with open(read_end, "rb") as reader:
        monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=reader))
        chunks = tables.read_chunks("-", chunk_size=1000)
        try:
            head = next(chunks)  # the writer holds the rest back until this has come
        finally:
            more.set()
        assert not gave_up.is_set(), "the first rows came only after the pipe's end"
        assert head["id"].tolist() == [str(i) for i in range(1000)]
        assert sum(len(c) for c in chunks) == 19_000


# --- JSON Lines whose rows do not all have the same keys -----------------------------------

def _postings_jsonl(salaried) -> bytes:
    """1,200 postings, a 'salary' key in the rows ``salaried`` picks only."""
    rows = []
    for i in range(1200):
        row = {"id": i, "description": f"Product manager working with engineers on APIs, row {i}"}
        if salaried(i):
            row["salary"] = 100 + i
        rows.append(json.dumps(row))
    return ("\n".join(rows) + "\n").encode()


KEYS_SOME_ROWS_HAVE = {"first rows": lambda i: i < 300, "last rows": lambda i: i > 700}
NEW_KEY = ("a key appears after the first rows set the columns: 'salary' on line 702; standard input and "
           "pipes are read only once, so give the input as a file, or write JSON Lines output")


@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("which", KEYS_SOME_ROWS_HAVE)
def test_jsonl_chunks_all_have_every_key_of_the_file(tmp_path, which, packed):
    salaried = KEYS_SOME_ROWS_HAVE[which]
    data = _postings_jsonl(salaried)
    path = tmp_path / ("p.jsonl.gz" if packed else "p.jsonl")
    path.write_bytes(gzip.compress(data) if packed else data)
    chunks = list(tables.read_chunks(path, chunk_size=500))
    assert [list(c.columns) for c in chunks] == [["id", "description", "salary"]] * 3
    got = pd.concat(chunks, ignore_index=True)["salary"].tolist()
    assert got == [100 + i if salaried(i) else None for i in range(1200)]
    for name in ("out.csv", "out.tsv", "out.parquet"):  # one header, every cell under it
        with tables.atomic_output(tmp_path / name, tables.detect_format(name)) as writer:
            for chunk in chunks:
                writer.write(chunk)
        back = _read(tmp_path / name)
        assert list(back.columns) == ["id", "description", "salary"]
        assert [v if isinstance(v, str) and v else None for v in back["salary"]] == \
            [str(100 + i) if salaried(i) else None for i in range(1200)]


def test_a_bad_jsonl_line_is_found_before_the_first_chunk(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_bytes(_postings_jsonl(lambda i: False) + b"{oops\n")
    with pytest.raises(BadInputFile) as e:
        next(tables.read_chunks(path, chunk_size=500))
    assert str(e.value) == "line 1201 is not valid JSON"


def test_jsonl_from_a_pipe_keeps_the_keys_so_far_and_a_new_one_is_refused_where_columns_are_set(
        tmp_path, piped_stdin):
    piped_stdin(_postings_jsonl(KEYS_SOME_ROWS_HAVE["first rows"]))
    chunks = list(tables.read_chunks("-", fmt="jsonl", chunk_size=500))
    assert [list(c.columns) for c in chunks] == [["id", "description", "salary"]] * 3
    assert chunks[2]["salary"].tolist() == [None] * 200

    piped_stdin(_postings_jsonl(KEYS_SOME_ROWS_HAVE["last rows"]))
    chunks = list(tables.read_chunks("-", fmt="jsonl", chunk_size=500))
    assert [list(c.columns) for c in chunks] == [["id", "description"]] + [["id", "description", "salary"]] * 2
    for fmt in ("csv", "tsv", "parquet"):
        for writer in (tables.TableWriter(io.BytesIO() if fmt == "parquet" else io.StringIO(), fmt),
                       tables.ResumableOutput(tmp_path / f"out.{fmt}", fmt, {"input": "-"})):
            with pytest.raises(BadInputFile) as e:
                with writer if isinstance(writer, tables.ResumableOutput) else ExitStack():
                    for chunk in chunks:
                        writer.write(chunk)
            assert str(e.value) == NEW_KEY
    out = io.StringIO()
    writer = tables.TableWriter(out, "jsonl")  # JSON Lines takes any keys
    for chunk in chunks:
        writer.write(chunk)
    lines = out.getvalue().splitlines()
    assert json.loads(lines[0]) == {"id": 0, "description": "Product manager working with engineers on APIs, row 0"}
    assert json.loads(lines[701])["salary"] == 801
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # the refused outputs left nothing


@pytest.mark.parametrize("which", KEYS_SOME_ROWS_HAVE)
def test_json_lines_output_leaves_out_a_key_a_row_lacked_named_or_piped(tmp_path, piped_stdin, which, model_dir):
    # a key a row lacks stays out of its JSON Lines output, and one written null stays null, read
    # from a file (every key known) or once from a pipe (the keys so far) alike
    data = _postings_jsonl(KEYS_SOME_ROWS_HAVE[which]) + b'{"id": 1200, "description": "x", "salary": null}\n'
    expected = [json.loads(line) for line in data.decode().splitlines()]
    path = tmp_path / "p.jsonl"
    path.write_bytes(data)
    for given in (path, "-"):
        if given == "-":
            piped_stdin(data)
        out = io.StringIO()
        writer = tables.TableWriter(out, "jsonl")
        for chunk in tables.read_chunks(given, fmt="jsonl", chunk_size=500):
            writer.write(chunk)
        assert [json.loads(line) for line in out.getvalue().splitlines()] == expected
    label_file(path, tmp_path / "out.jsonl", model=model_dir, chunk_size=500)
    got = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [{k: v for k, v in row.items() if not k.startswith("pm_")} for row in got] == expected


def test_label_refuses_a_key_that_comes_late_on_standard_input(model_dir, tmp_path):
    data = _postings_jsonl(KEYS_SOME_ROWS_HAVE["last rows"])
    r = CliRunner().invoke(app, ["label", "-", "--format", "jsonl", "-o", str(tmp_path / "out.csv"),
                                 "--model", str(model_dir), "--jobs", "1", "--quiet"], input=data)
    assert r.exit_code == 1
    assert r.stderr == f"Error: {NEW_KEY}\n"
    assert list(tmp_path.iterdir()) == []


# --- nested values and indexes in Parquet --------------------------------------------------

@pytest.fixture
def nested_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table({
        "id": [1, 2],
        "description": ["Product manager working with engineers on APIs", "Product manager owning pricing"],
        "struct": [{"a": 1, "b": [1, 2]}, {"a": 2, "b": []}],
        "tags": [["x", "y"], []],
        "scores": [[1.5, None], None],
        "map": pa.array([[("k", 1)], []], type=pa.map_(pa.string(), pa.int64())),
    }), path)
    return path


NESTED_AS_JSON = [
    {"struct": {"a": 1, "b": [1, 2]}, "tags": ["x", "y"], "scores": [1.5, None], "map": [["k", 1]]},
    {"struct": {"a": 2, "b": []}, "tags": [], "scores": None, "map": []},
]


@pytest.mark.parametrize("name", ["out.csv", "out.tsv", "out.parquet", "out.jsonl"])
def test_nested_parquet_values_are_written_as_json(tmp_path, nested_parquet, name):
    path = tmp_path / name
    with tables.atomic_output(path, tables.detect_format(path)) as writer:
        for chunk in tables.read_chunks(nested_parquet):
            writer.write(chunk)
    nested = ["struct", "tags", "scores", "map"]
    if name.endswith(".jsonl"):  # real JSON arrays and objects
        got = [{k: row[k] for k in nested} for row in map(json.loads, path.read_text().splitlines())]
    else:  # JSON text
        got = [{k: json.loads(row[k]) if isinstance(row[k], str) and row[k] else None for k in nested}
               for row in _read(path).to_dict("records")]
    assert got == NESTED_AS_JSON
    if name == "out.csv":
        assert path.read_text().splitlines()[1] == (
            '1,Product manager working with engineers on APIs,"{""a"": 1, ""b"": [1, 2]}","[""x"", ""y""]",'
            '"[1.5, null]","[[""k"", 1]]"')


def _refuse(token):
    raise ValueError(f"{token} is not JSON")


def test_numbers_that_are_not_finite_are_written_as_null_which_strict_json_parsers_read(tmp_path):
    """Python reads Infinity and NaN in JSON Lines, but would write them back as bare tokens that jq and
    JSON.parse refuse: pmtype's JSON (a JSON Lines row, a nested value in a CSV cell) has null instead."""
    source = tmp_path / "in.jsonl"
    source.write_text('{"description":"PM for APIs","score":Infinity,"low":-Infinity,"x":NaN,'
                      '"nested":{"a":[1.5,Infinity]}}\n', encoding="utf-8")
    _write_in_chunks(source, 500, tmp_path, ("out.jsonl", "out.csv"))
    row = json.loads((tmp_path / "out.jsonl").read_text(), parse_constant=_refuse)
    assert row == {"description": "PM for APIs", "score": None, "low": None, "x": None,
                   "nested": {"a": [1.5, None]}}
    cell = _read(tmp_path / "out.csv")["nested"][0]
    assert json.loads(cell, parse_constant=_refuse) == {"a": [1.5, None]}


@pytest.mark.parametrize("ids", [[1, 2, 3], [30, 10, 20]])  # pandas keeps a range of numbers in metadata only
def test_parquet_written_with_a_named_index_gives_it_as_a_column(tmp_path, ids):
    path = tmp_path / "indexed.parquet"
    frame = pd.DataFrame({"id": ids, "description": ["one", "two", "three"]})
    frame.set_index("id").to_parquet(path)
    chunks = list(tables.read_chunks(path, chunk_size=2))
    assert [list(c.columns) for c in chunks] == [["description", "id"]] * 2
    assert pd.concat(chunks, ignore_index=True)["id"].tolist() == ids


@pytest.mark.parametrize("name", ["postings.csv", "postings.jsonl", "postings"])
def test_a_parquet_file_named_as_text_is_read_as_parquet(tmp_path, name, model_dir):
    path = tmp_path / name
    FRAME.to_parquet(path)
    got = pd.concat(tables.read_chunks(path, fmt="csv" if name == "postings" else None), ignore_index=True)
    assert got.to_dict("list") == FRAME.to_dict("list")
    r = CliRunner().invoke(app, ["label", str(path), "-o", str(tmp_path / "out.csv"), "--model", str(model_dir),
                                 "--quiet"] + (["--format", "tsv"] if name == "postings" else []))
    assert r.exit_code == 0, r.output
    assert pd.read_csv(tmp_path / "out.csv", dtype=str)["id"].tolist() == ["001", "2"]


def test_parquet_on_standard_input_is_known_by_its_first_bytes(tmp_path, piped_stdin, model_dir):
    path = tmp_path / "t.parquet"
    FRAME.to_parquet(path)
    piped_stdin(path.read_bytes())
    got = pd.concat(tables.read_chunks("-"), ignore_index=True)  # no format given: CSV by default
    assert got.to_dict("list") == FRAME.to_dict("list")
    r = CliRunner().invoke(app, ["label", "-", "-o", str(tmp_path / "out.csv"), "--model", str(model_dir),
                                 "--quiet"], input=path.read_bytes())
    assert r.exit_code == 0, r.output
    assert pd.read_csv(tmp_path / "out.csv", dtype=str)["id"].tolist() == ["001", "2"]


# --- resuming ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name,damage", [
    ("out.csv", "cut short"),
    ("out.parquet", "lost"),
    ("out.parquet", "cut short"),
    ("out.parquet", "overwritten"),  # whole, but holding other rows than the ones recorded
])
def test_resume_starts_afresh_when_the_part_written_lost_what_was_recorded(tmp_path, name, damage):
    path = tmp_path / name
    fmt = tables.detect_format(path)
    with tables.ResumableOutput(path, fmt, {"input": "x"}) as writer:  # stopped after two chunks
        writer.write(FRAME.iloc[:1])
        writer.write(FRAME.iloc[1:])
    part = tmp_path / f".{name}.part"
    if fmt == "parquet":
        chunk = part / "00000001.parquet"
        if damage == "lost":
            chunk.unlink()
        elif damage == "cut short":  # present, but its footer gone
            chunk.write_bytes(chunk.read_bytes()[:-20])
        else:
            FRAME.to_parquet(chunk, index=False)
    else:
        part.write_bytes(part.read_bytes()[:-5])  # cut short, as by a copy
    with tables.ResumableOutput(path, fmt, {"input": "x"}, resume=True) as writer:
        assert writer.rows_done == 0
        writer.write(FRAME)
        writer.finish()
    assert _read(path).to_dict("list") == FRAME.to_dict("list")
    if fmt == "csv":
        assert b"\x00" not in path.read_bytes()


# --- a lone carriage return in a cell ----------------------------------------------------------

CR_FRAME = pd.DataFrame({"id": ["1", "2", "3"],
                         "description": ["We need a PM to own public APIs with engineers.",
                                         "Own pricing with sales", "Own the roadmap"],
                         "note": ["a\rb", "x", 'say "hi"\r\nthen\rgo']})


@pytest.mark.parametrize("name", ["out.csv", "out.tsv", "out.csv.gz"])
@pytest.mark.parametrize("writer", ["atomic", "resumable"])
def test_a_lone_carriage_return_in_a_cell_is_quoted_and_reads_back_as_written(tmp_path, name, writer):
    path = tmp_path / name
    fmt = tables.detect_format(path)
    plain = CR_FRAME.assign(note=["a b", "x", "y"])  # a chunk without one: written as ever
    if writer == "atomic":
        with tables.atomic_output(path, fmt) as w:
            w.write(CR_FRAME)
            w.write(plain)
    else:
        with tables.ResumableOutput(path, fmt, {"input": "x"}) as w:
            w.write(CR_FRAME)
            w.write(plain)
            w.finish()
    got = _read(path)
    pd.testing.assert_frame_equal(got, pd.concat([CR_FRAME, plain], ignore_index=True), check_dtype=False)
    data = (gzip.open(path) if name.endswith(".gz") else open(path, "rb")).read().decode()
    sep = "\t" if fmt == "tsv" else ","
    assert data.splitlines(keepends=True)[0] == sep.join(CR_FRAME.columns) + "\n"
    assert f'{sep}"a\rb"\n2{sep}' in data
    assert data.endswith(plain.to_csv(sep=sep, index=False, header=False, lineterminator="\n"))


def test_delimited_text_is_unchanged_for_a_chunk_without_a_carriage_return():
    frame = FRAME.assign(multi=["line\nbreak", 'a "quote"'])
    assert tables.delimited_text(frame, "csv", header=True) == frame.to_csv(index=False, lineterminator="\n")
    assert tables.delimited_text(CR_FRAME.iloc[:1], "csv", header=False) == \
        '1,We need a PM to own public APIs with engineers.,"a\rb"\n'
    # a header cell holding one is quoted too
    assert tables.delimited_text(pd.DataFrame({"a\rb": ["1"]}), "tsv", header=True) == '"a\rb"\n1\n'


def test_label_keeps_a_row_whose_cell_holds_a_lone_carriage_return(tmp_path, model_dir):
    path = tmp_path / "cr.csv"
    path.write_bytes(b'id,description,note\n1,We need a PM to own public APIs with engineers.,"a\rb"\n'
                     b"2,Own pricing with sales,x\n")
    out = tmp_path / "out.csv"
    r = CliRunner().invoke(app, ["label", str(path), "-o", str(out), "--model", str(model_dir), "--quiet"])
    assert r.exit_code == 0, r.output
    got = _read(out)
    assert got["id"].tolist() == ["1", "2"]
    assert got["note"].tolist() == ["a\rb", "x"]


# --- JSON Lines with half a surrogate pair ------------------------------------------------------

SURROGATES_JSONL = (b'{"id":1,"description":"We need a PM to own APIs with engineers \\ud83d",'
                    b'"tags":["ok \\ud83d\\ude00",{"k\\udc00":"\\uDE00x"}],"\\ud800key":"v"}\n'
                    b'{"id":2,"description":"Own pricing with sales \\u00e9","\\ud800key":null}\n')


def test_lone_surrogate_escapes_in_json_lines_are_read_as_replacement_characters(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_bytes(SURROGATES_JSONL)
    got = _read(path)
    assert list(got.columns) == ["id", "description", "tags", "\ufffdkey"]
    assert got["description"].tolist() == ["We need a PM to own APIs with engineers \ufffd",
                                           "Own pricing with sales é"]
    assert got["tags"][0] == ["ok 😀", {"k\ufffd": "\ufffdx"}]  # a whole pair is the emoji it makes
    for name in ("out.csv", "out.tsv", "out.jsonl", "out.parquet"):
        with tables.atomic_output(tmp_path / name, tables.detect_format(name)) as writer:
            writer.write(got)
        assert _read(tmp_path / name)["description"].tolist() == got["description"].tolist()


def test_label_writes_json_lines_holding_a_lone_surrogate_escape(tmp_path, model_dir):
    path = tmp_path / "p.jsonl"
    path.write_bytes(SURROGATES_JSONL)
    r = CliRunner().invoke(app, ["label", str(path), "-o", str(tmp_path / "out.jsonl"), "--model", str(model_dir),
                                 "--quiet"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [row["\ufffdkey"] for row in rows] == ["v", None]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "p.jsonl"]  # no part file left


# --- two runs writing one output ----------------------------------------------------------------

@pytest.mark.parametrize("name", ["out.csv", "out.parquet"])
def test_a_second_run_writing_the_same_output_is_refused_and_the_first_goes_on(tmp_path, name):
    path = tmp_path / name
    fmt = tables.detect_format(path)
    with tables.ResumableOutput(path, fmt, {"input": "x"}) as first:
        first.write(FRAME.iloc[:1])
        for resume in (False, True):
            with pytest.raises(CannotWrite) as e:
                with tables.ResumableOutput(path, fmt, {"input": "x"}, resume=resume):
                    pass
            assert str(e.value) == (f"{path} is being written by another pmtype run (process {os.getpid()}); "
                                    "wait for it to end, or write to another file")
        first.write(FRAME.iloc[1:])
        first.finish()
    assert _read(path).to_dict("list") == FRAME.to_dict("list")
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # the lock file is gone too
    with tables.ResumableOutput(path, fmt, {"input": "x"}) as again:  # once it has ended, free again
        again.write(FRAME)
        again.finish()


KILLED_WRITER = """
import os, sys, time
import pandas as pd
from pmtype import tables
with tables.ResumableOutput(sys.argv[1], "csv", {"input": "x"}) as w:
    w.write(pd.DataFrame({"id": ["001"], "description": ["Café API ünïcode"]}))
    worker = os.fork()  # as --jobs forks its workers, which may outlive the run a moment
    if worker == 0:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # not the test's pipe, which it reads to its end
        time.sleep(60)
        os._exit(0)
    print(worker, flush=True)
    os.kill(os.getpid(), 9)
"""


def test_the_run_of_a_killed_writer_can_be_resumed_while_its_worker_lives_on(tmp_path):
    import signal
    import subprocess

    path = tmp_path / "out.csv"
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    worker = int(done.stdout)
    try:
        assert done.returncode == -9
        assert (tmp_path / ".out.csv.lock").exists()  # left behind, but no longer locked
        with tables.ResumableOutput(path, "csv", {"input": "x"}, resume=True) as writer:
            assert writer.rows_done == 1
            writer.write(FRAME.iloc[1:])
            writer.finish()
    finally:
        os.kill(worker, signal.SIGKILL)
    assert _read(path).to_dict("list") == FRAME.to_dict("list")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


# --- Parquet's nullable integers and booleans --------------------------------------------------

@pytest.fixture
def nullable_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "n.parquet"
    pq.write_table(pa.table({
        "id": pa.array([1, None, 3], pa.int64()),
        "small": pa.array([None, 7, 255], pa.uint8()),
        "remote": pa.array([True, None, False]),
        "description": ["We need a PM to own APIs with engineers.", "Own pricing with sales.", None],
    }), path)
    return path


def _write_in_chunks(path, chunk_size: int, folder, names) -> None:
    """The table at ``path``, read in chunks of ``chunk_size`` rows, written chunk by chunk to each of ``names`` in ``folder``."""
    chunks = list(tables.read_chunks(path, chunk_size=chunk_size))
    for name in names:
        with tables.atomic_output(folder / name, tables.detect_format(name)) as writer:
            for chunk in chunks:
                writer.write(chunk)


@pytest.mark.parametrize("chunk_size", [1, 2, 500])
def test_parquet_integers_and_booleans_with_nulls_keep_their_values_and_types(tmp_path, nullable_parquet,
                                                                              chunk_size):
    import pyarrow as pa
    import pyarrow.parquet as pq

    _write_in_chunks(nullable_parquet, chunk_size, tmp_path, ("out.csv", "out.parquet", "out.jsonl"))
    assert (tmp_path / "out.csv").read_text().splitlines() == [
        "id,small,remote,description",
        "1,,True,We need a PM to own APIs with engineers.",
        ",7,,Own pricing with sales.",
        "3,255,False,",
    ]
    table = pq.read_table(tmp_path / "out.parquet")
    assert [table.schema.field(c).type for c in ("id", "small", "remote")] == [pa.int64(), pa.uint8(), pa.bool_()]
    assert table.column("id").to_pylist() == [1, None, 3]
    assert table.column("remote").to_pylist() == [True, None, False]
    assert [json.loads(line)["id"] for line in (tmp_path / "out.jsonl").read_text().splitlines()] == [1, None, 3]


@pytest.fixture
def decimal_and_date_parquet(tmp_path):
    """Decimals that widen, and a date and a time column empty in the first rows, as a chunk of two sees them."""
    import datetime
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({
        "salary": pa.array([decimal.Decimal("1.50"), None, decimal.Decimal("125000.75")], pa.decimal128(12, 2)),
        "posted": pa.array([None, None, datetime.date(2024, 3, 1)], pa.date32()),
        "starts": pa.array([None, None, datetime.time(9, 30)], pa.time64("us")),
        "description": ["We need a PM to own APIs with engineers.", "Own pricing with sales.", "Own the SDKs."],
    }), path)
    return path


@pytest.mark.parametrize("chunk_size", [1, 2, 500])
def test_parquet_decimals_dates_and_times_keep_their_stored_types(tmp_path, decimal_and_date_parquet, chunk_size):
    import pyarrow as pa
    import pyarrow.parquet as pq

    _write_in_chunks(decimal_and_date_parquet, chunk_size, tmp_path, ("out.csv", "out.parquet"))
    assert (tmp_path / "out.csv").read_text().splitlines() == [
        "salary,posted,starts,description",
        "1.50,,,We need a PM to own APIs with engineers.",
        ",,,Own pricing with sales.",
        "125000.75,2024-03-01,09:30:00,Own the SDKs.",
    ]
    stored = pq.read_table(decimal_and_date_parquet)
    written = pq.read_table(tmp_path / "out.parquet")
    assert [written.schema.field(c).type for c in ("salary", "posted", "starts")] == [
        pa.decimal128(12, 2), pa.date32(), pa.time64("us")]
    assert written.select(["salary", "posted", "starts"]).equals(stored.select(["salary", "posted", "starts"]))


# --- encodings, headers, NUL bytes, folders -------------------------------------------------------

@pytest.mark.parametrize("codec", ["rot13", "hex", "base64", "zip", "idna", "punycode"])
def test_a_codec_that_is_no_text_encoding_is_an_unknown_encoding(tmp_path, codec, model_dir):
    path = tmp_path / "p.csv"
    FRAME.to_csv(path, index=False)
    with pytest.raises(BadOption) as e:
        _read(path, encoding=codec)
    assert str(e.value) == f"unknown encoding '{codec}'"
    r = CliRunner().invoke(app, ["label", str(path), "-o", "-", "--model", str(model_dir), "--quiet",
                                 "--encoding", codec])
    assert r.exit_code == 2
    assert r.stderr == f"Error: unknown encoding '{codec}'\n"


@pytest.mark.parametrize("header,columns", [
    ("id,description,", ["id", "description", ""]),
    ("id,description,,", ["id", "description", "Unnamed: 2", "Unnamed: 3"]),
    ("id,,description,,,", ["id", "Unnamed: 1", "description", "Unnamed: 3", "Unnamed: 4", "Unnamed: 5"]),
    # pandas names the blank 'Unnamed: 1.1' beside a column named 'Unnamed: 1': blank, both come back as written
    ("id,,description,Unnamed: 1", ["id", "", "description", "Unnamed: 1"]),
])
def test_blank_column_names_are_kept_however_many(tmp_path, header, columns):
    path = tmp_path / "p.csv"
    width = header.count(",") + 1
    rows = [header] + [",".join([str(i), f"Own the APIs with the engineers {i}"] + [f"c{i}"] * (width - 2))
                       for i in range(3)]
    path.write_text("\n".join(rows) + "\n")
    got = _read(path)
    assert list(got.columns) == columns
    assert got.shape == (3, width)
    for name in ("out.csv", "out.parquet", "out.jsonl"):
        with tables.atomic_output(tmp_path / name, tables.detect_format(name)) as writer:
            writer.write(got)
        pd.testing.assert_frame_equal(_read(tmp_path / name).astype(str), got)


@pytest.mark.parametrize("text,rows", [
    ("description\na\n\nb\n", ["a", "", "b"]),  # a blank line among the rows is a row with empty text
    ("\r\n\r\ndescription\r\na\r\n\r\n\r\nb\r\n", ["a", "", "", "b"]),  # blank lines before the header are not
    ("\ufeffdescription\n\na\n", ["", "a"]),
    ("description,n\na,1\n\nb,2\n", ["a", "b"]),  # with more columns a blank line holds no row, as pandas reads it
])
def test_a_blank_line_in_a_one_column_table_is_a_row(tmp_path, text, rows):
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8", newline="")
    assert _read(path)["description"].tolist() == rows
    chunks = list(tables.read_chunks(path, chunk_size=2))  # a blank line that ends a chunk too
    assert pd.concat(chunks)["description"].tolist() == rows


@pytest.mark.parametrize("name,text,numbers", [
    ("p.csv", "\n\nid,description\n1,a\n\n2,\"two\n\nlines\"\n\n\n3,c", [4, 6, 9]),  # blank lines counted, not held
    ("p.csv", "id,description\r\n1,a\r\n\r\n2,b\r\n", [2, 4]),
    ("p.csv", "description\n\na\n\n", [2, 3, 4]),  # one column: a blank line is a row
    ("p.tsv", 'id\tdescription\n1\t"Director" of APIs\n\n2\tb\n', [2, 4]),  # quotes that are text
])
def test_rows_are_numbered_as_a_spreadsheet_numbers_them_named_or_on_standard_input(tmp_path, monkeypatch,
                                                                                     name, text, numbers):
    path = tmp_path / name
    path.write_bytes(text.encode())
    frame, got = tables.read_numbered_table(path)
    assert got == numbers and len(frame) == len(numbers)
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=io.BytesIO(text.encode())))
    assert tables.read_numbered_table("-", fmt=tables.detect_format(path))[1] == numbers


def test_repeated_blank_names_in_parquet_are_named_in_the_message(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "p.parquet"
    pq.write_table(pa.Table.from_arrays([pa.array(["1"]), pa.array(["x"]), pa.array(["y"])],
                                        names=["description", "", ""]), path)
    with pytest.raises(BadInputFile) as e:
        _read(path)
    assert str(e.value) == "the header has 2 blank column names; name them"


@pytest.mark.parametrize("data", [
    b'id,description\n1,"We need a PM\x00 to own APIs with engineers."\n',
    b"id,d\n1,a\x00b\n",
    b'id,description\n1,"We\x00 need\x00 a PM\x00 to own APIs."\n',
])
def test_a_stray_nul_in_a_short_text_file_is_a_bad_byte(tmp_path, data):
    path = tmp_path / "p.csv"
    path.write_bytes(data)
    got = _read(path)
    assert len(got) == 1 and "\x00" in got.iloc[0, 1]


@pytest.mark.parametrize("data", [
    bytes(range(256)) * 20,  # every byte: as random bytes are
    "id,description\n1,x\n".encode("utf-32-le"),  # no BOM: mostly NULs
    b"id,description\n" + b"1,abc\x00def\x00ghi\n" * 20,  # NULs throughout
    b"SQLite format 3\x00\x10\x00\x01\x01\x00@  \x00\x00\x00\x02" + b"\x00" * 200 + b"CREATE TABLE t(x)",
])
def test_binary_files_are_still_refused(tmp_path, data):
    path = tmp_path / "p.csv"
    path.write_bytes(data)
    with pytest.raises(BadInputFile) as e:
        _read(path)
    assert str(e.value) == "the file is binary, not a text table (CSV, TSV or JSON Lines)"


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_a_folder_is_named_a_folder_in_every_format(tmp_path, fmt):
    folder = tmp_path / "somedir"
    folder.mkdir()
    with pytest.raises(BadInputFile) as e:
        _read(folder, fmt=fmt)
    assert str(e.value) == f"{folder} is a folder, not a file"


def test_json_lines_on_standard_input_are_read_as_json_lines_and_in_a_csv_file_are_named(tmp_path, piped_stdin):
    data = b'{"id":1,"body2":"We need a PM to own APIs with engineers."}\n{"id":2,"body2":"Own pricing."}\n'
    piped_stdin(b"\xef\xbb\xbf\n" + data)  # a BOM and a blank line before the first object
    chunk = next(tables.read_chunks("-"))  # no name to tell the format: its first character does
    assert list(chunk.columns) == ["id", "body2"] and chunk["body2"].tolist()[1] == "Own pricing."
    assert chunk.attrs[tables.SNIFFED_FORMAT] == "jsonl"
    named = tmp_path / "postings.csv"  # a name that tells CSV: read so, and the JSON is hinted at
    named.write_bytes(data)
    columns = next(tables.read_chunks(named)).columns
    with pytest.raises(MissingColumn) as e:
        tables.find_column(columns, None, tables.TEXT_COLUMNS, "text", fmt="csv")
    assert str(e.value) == (
        "no text column found (looked for description, job_description, jobdescription, description_text, "
        'text, body, …); the columns are: {"id":1, body2:"We need a PM to own APIs with engineers."}; '
        "name one with --text-column; it looks like JSON Lines: give --format jsonl")
    with pytest.raises(MissingColumn) as e:
        tables.find_column(columns, "body", tables.TEXT_COLUMNS, "text", fmt="csv")
    assert str(e.value).endswith("; it looks like JSON Lines: give --format jsonl")
    with pytest.raises(MissingColumn) as e:  # a CSV header is named as it is
        tables.find_column(["id", "name"], None, tables.TEXT_COLUMNS, "text")
    assert "JSON" not in str(e.value)



# --- TSV written without quoting ----------------------------------------------------------------

# A TSV as PostgreSQL's COPY or a spreadsheet's "tab-separated text" writes it: no quoting, so a
# cell may start with a quote that is text. Read as CSV quoting, the quote of row 1 would swallow
# rows 2 and 3 up to the quote of row 3, silently.
UNQUOTED_TSV = ('id\tdescription\n'
                '1\t"Director" of platform APIs, with engineers\n'
                '2\tOwn pricing with sales and marketing\n'
                '3\tA PM for "the" data platform\n'
                '4\t"Growth PM, said the CEO\n')


@pytest.mark.parametrize("text,quoting", [
    (UNQUOTED_TSV, "none"),
    ('id\tdescription\n1\t"never closed\n2\tx\n', "none"),
    (FRAME.assign(note=['tab\there', 'line\nbreak "quoted"']).to_csv(sep="\t", index=False), "minimal"),
    ('id\tdescription\n1\tno quote opens a cell, "even" here\n', "minimal"),
    ('id\tdescription\n1\t"' + "x" * 200_000 + '"\n', "minimal"),  # longer than the csv module's own limit
])
def test_tsv_quoting_tells_quoting_from_quotes_that_are_text(text, quoting):
    import csv

    limit = csv.field_size_limit()
    got = tables.tsv_quoting(io.BytesIO(text.encode()))
    assert got == {"none": csv.QUOTE_NONE, "minimal": csv.QUOTE_MINIMAL}[quoting]
    assert csv.field_size_limit() == limit  # the process's own limit is left as it was


@pytest.mark.parametrize("name", ["p.tsv", "p.tsv.gz", "-"])
def test_a_tsv_written_without_quoting_keeps_every_row_and_its_quotes(tmp_path, piped_stdin, name):
    data = UNQUOTED_TSV.encode()
    if name == "-":  # read once, so judged by its first 64 KB
        piped_stdin(data)
        path = "-"
    else:
        path = tmp_path / name
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    got = _read(path, fmt="tsv")
    assert got["id"].tolist() == ["1", "2", "3", "4"]
    assert got["description"].tolist() == [line.split("\t")[1] for line in UNQUOTED_TSV.splitlines()[1:]]


def test_label_writes_a_tsv_read_without_quoting_so_that_it_reads_back(tmp_path, model_dir):
    path = tmp_path / "p.tsv"
    path.write_text(UNQUOTED_TSV)
    out = tmp_path / "out.tsv"
    r = CliRunner().invoke(app, ["label", str(path), "-o", str(out), "--model", str(model_dir), "--quiet"])
    assert r.exit_code == 0, r.output
    got = _read(out)
    assert got["id"].tolist() == ["1", "2", "3", "4"]
    assert got["description"].tolist() == _read(path)["description"].tolist()


@pytest.mark.parametrize("cut", [False, True])
def test_a_gzip_file_is_closed_when_read_whole_or_found_damaged(tmp_path, cut):
    import gc
    import warnings

    data = gzip.compress(("id,description\n" + "1,Own the APIs with engineers\n" * 5000).encode())
    path = tmp_path / "p.csv.gz"
    path.write_bytes(data[: len(data) // 2] if cut else data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        if cut:
            with pytest.raises(BadInputFile):
                _read(path)
        else:
            assert len(_read(path)) == 5000
        gc.collect()
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []


def test_a_file_separated_by_semicolons_is_named_so(tmp_path):
    # Excel in many countries saves "CSV" with semicolons; its cells hold commas
    path = tmp_path / "excel.csv"
    rows = ["id;description;label"] + [f"{i};We need a PM, with engineers{',' * (i % 3)};technical" for i in range(60)]
    path.write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode())
    with pytest.raises(BadInputFile) as e:
        _read(path)
    assert str(e.value).startswith("not a readable CSV file: row ")
    assert str(e.value).endswith(" but the header has 1; the header is one column, 'id;description;label': is the "
                                 "file separated by semicolons? pmtype reads CSV separated by commas (and TSV by "
                                 "tabs): save it so")


TSV_OF_SEMICOLONS = ("; the header is one column, 'description;title': is the file separated by semicolons? "
                     "pmtype reads TSV separated by tabs (and CSV by commas): save it so")


def test_a_tsv_file_separated_by_semicolons_is_named_so(tmp_path):
    # a file of semicolons saved as .tsv: one column, as for one saved as .csv
    path = tmp_path / "excel.tsv"
    path.write_bytes(b"description;title\nWe build APIs;Engineer PM\nOwn the roadmap;Biz PM\n")
    frame = _read(path)
    with pytest.raises(MissingColumn) as e:
        tables.find_column(frame.columns, None, tables.TEXT_COLUMNS, "text", fmt=tables.read_format(frame, path))
    assert str(e.value).endswith("the columns are: description;title; name one with --text-column" + TSV_OF_SEMICOLONS)
    # where a cell holds a tab, the row cannot be read: named so too
    path.write_bytes(b"description;title\nOwn the roadmap;Biz PM\nWe build APIs\tand code;Engineer PM\n")
    with pytest.raises(BadInputFile) as e:
        _read(path)
    assert str(e.value) == "not a readable TSV file: row 3 has 2 fields but the header has 1" + TSV_OF_SEMICOLONS


def test_a_tsv_file_separated_by_semicolons_is_named_so_by_label(tmp_path, model_dir):
    path = tmp_path / "in.tsv"
    path.write_bytes(b"description;title\nWe build APIs;Engineer PM\nOwn the roadmap;Biz PM\n")
    r = CliRunner().invoke(app, ["label", str(path), "-m", str(model_dir), "-o", str(tmp_path / "out.csv")])
    assert (r.exit_code, r.output) == (1, (
        f"Error: {path}: no text column found (looked for description, job_description, jobdescription, "
        "description_text, text, body, …); the columns are: description;title; name one with --text-column"
        + TSV_OF_SEMICOLONS + "\n"))


class _CountingReader(io.BytesIO):
    """A binary file that counts the bytes read from it."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        data = super().read(size)
        self.bytes_read += len(data)
        return data


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-32", "cp1252"])
def test_a_long_posting_file_is_read_only_as_far_as_the_model_reads(tmp_path, monkeypatch, encoding):
    """Its first MAX_CHARS characters and the one after them, which tells that it is longer: not all of it."""
    limit = config.MAX_CHARS
    text = "Café roadmap with engineers. " * (3 * limit // 29)
    path = tmp_path / "long.txt"
    path.write_bytes(text.encode(encoding))
    opened = []
    monkeypatch.setattr(tables, "_open_file", lambda p: opened.append(_CountingReader(p.read_bytes())) or opened[-1])
    assert tables.read_text_file(path, max_chars=limit) == text[: limit + 1]
    assert opened[0].bytes_read <= 4 * (limit + 1) + 4
    assert tables.read_text_file(path) == text  # without max_chars: all of it


def test_a_posting_as_long_as_the_model_reads_is_read_whole(tmp_path):
    path = tmp_path / "posting.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "é".encode() * config.MAX_CHARS)  # a BOM, and 2 bytes a character
    assert tables.read_text_file(path, max_chars=config.MAX_CHARS) == "é" * config.MAX_CHARS
    path.write_bytes(bytes(range(256)) * 20 + b"x" * 5 * config.MAX_CHARS)  # binary, then long
    with pytest.raises(BadInputFile) as e:
        tables.read_text_file(path, max_chars=config.MAX_CHARS)
    assert str(e.value) == f"{path} is binary, not a text file"


def test_a_long_posting_on_standard_input_is_cut_and_its_writer_still_ends_well(piped_stdin):
    """Only the first MAX_CHARS characters and one more are kept; the rest is read and dropped,
    so that the program writing into the pipe meets no broken pipe."""
    text = "Own the roadmap with engineers. " * (config.MAX_CHARS // 8)
    piped_stdin(text.encode())
    assert tables.read_text_file("-", max_chars=config.MAX_CHARS) == text[: config.MAX_CHARS + 1]
    assert sys.stdin.buffer.read() == b""



class _Endless(io.RawIOBase):
    """Standard input that never ends (``yes |``): it refuses to be read past ``stop`` bytes, so
    that a reader that would go on forever fails instead."""

    def __init__(self, stop: int):
        self.given, self.stop = 0, stop

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        assert self.given < self.stop, "standard input read on and on"
        b[:] = b"y\n" * (len(b) // 2) + b"y" * (len(b) % 2)
        self.given += len(b)
        return len(b)


def test_endless_standard_input_is_read_only_so_far_and_its_posting_given(monkeypatch):
    endless = _Endless(stop=2 * tables.STDIN_DRAIN_BYTES)
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=io.BufferedReader(endless)))
    assert tables.read_text_file("-", max_chars=config.MAX_CHARS) == ("y\n" * config.MAX_CHARS)[: config.MAX_CHARS + 1]
    assert endless.given <= 4 * (config.MAX_CHARS + 1) + 4 + tables.STDIN_DRAIN_BYTES + io.DEFAULT_BUFFER_SIZE


def test_check_input_exists_refuses_a_missing_file_or_a_folder_and_passes_streams(tmp_path):
    from pmtype.errors import BadInputFile

    (tmp_path / "here.csv").write_text("text\nx\n")
    tables.check_input_exists(tmp_path / "here.csv")
    tables.check_input_exists("-")  # standard input: read later, as it comes
    tables.check_input_exists("/dev/null")
    with pytest.raises(BadInputFile, match=r"^.*gone\.csv does not exist$"):
        tables.check_input_exists(tmp_path / "gone.csv")
    with pytest.raises(BadInputFile, match=r"is a folder, not a file$"):
        tables.check_input_exists(tmp_path)
    with pytest.raises(TypeError, match="give a path, not a DataFrame"):
        tables.check_input_exists(pd.DataFrame({"text": ["x"]}))
    (tmp_path / "here.xlsx").write_text("text\nx\n")
    with pytest.raises(BadInputFile, match=r"^cannot tell the format of .*here\.xlsx from its name; give --format"):
        tables.check_input_exists(tmp_path / "here.xlsx")
    tables.check_input_exists(tmp_path / "here.xlsx", "csv")
