"""Bad input, fed to every command: one table of cases, each with its outcome written down.

Every input file is generated in ``tmp_path`` (small, except the 10 MB posting).
An input pmtype cannot process is a one-line ``Error: …`` on stderr with a
non-zero exit code; a file that is fine with rows that are not gets a status per
row, and ``label`` writes exactly the input's rows, in order, with the input
columns unchanged. No traceback, ever.

``CASES`` is the table: a name, how the file is made, and for each command it is
fed to, the expected outcome. ``run_case`` runs one (case, command) through the
CLI and measures it; ``benchmarks/bad_input_table.py`` prints the same cases as a
Markdown table.

Commands: ``label`` (the file as given), ``train`` (a ``label`` column added and
the tiny corpus appended, so that there is enough to train on; ``--no-seed``),
``evaluate`` (a ``label`` column added), ``classify`` (``--file``; single-text
cases) and ``classify-text`` (the file's text as the argument).
"""

from __future__ import annotations

import codecs
import csv
import functools
import gzip
import importlib
import io
import json
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
csv.field_size_limit(2**31 - 1)  # the 10 MB posting is one cell

from corpus import rows as corpus_rows  # noqa: E402
from pmtype.batch import OUTPUT_COLUMNS  # noqa: E402
from pmtype.cli import app  # noqa: E402

# --- the postings ------------------------------------------------------------------

TECH = ("Product Manager, Developer Platform. You will own the public REST APIs and SDKs with "
        "backend engineers and QA, and weigh technical debt with the tech lead.")
BIZ = ("Product Manager, Growth. You will own pricing, packaging and positioning with marketing "
       "and sales; an MBA or a background in consulting is expected.")
HTML_TECH = ("<html><head><style>li { color: red }</style></head><body><h1>Product Manager</h1>"
             f"<ul><li>{TECH}</li></ul><p>Apply &amp; join us!</p><script>var x = 1;</script></body></html>")
HTML_BIZ = f"<div><h2>Product Manager</h2><p><strong>About the role</strong></p><p>{BIZ}</p><br/></div>"
GERMAN = ("Produktmanager (m/w/d). Sie verantworten unsere öffentlichen Schnittstellen gemeinsam mit "
          "Entwicklern und Testern und schätzen den Aufwand mit der technischen Leitung.")
CHINESE = "产品经理：负责定价、包装和市场定位，与市场营销和销售团队合作，需要工商管理硕士学位。"
LATIN1_TECH = "Équipe produit, café compris: " + TECH
LATIN1_BIZ = "Rôle à Zürich, façade, naïve: " + BIZ
MAX_CHARS = 100_000
BIG = (TECH + " ") * (10_000_000 // (len(TECH) + 1) + 1)
BIG = BIG[:10_000_000]
WIDE = 1000
LABELLED = "labelled"  # a status pattern: ``ok`` or ``uncertain``, with a label


# --- expected outcomes ----------------------------------------------------------------

@dataclass(frozen=True)
class Fails:
    """A one-line ``Error: <message>`` on stderr (``{path}`` is the input file) and this exit code."""

    message: str
    code: int = 1


@dataclass(frozen=True)
class Labels:
    """Exit 0; every input row out, in order, input columns unchanged; these ``pm_status`` values.

    ``labelled`` stands for ``ok`` or ``uncertain`` with a label.
    """

    statuses: tuple[str, ...]


@dataclass(frozen=True)
class Trains:
    """Exit 0; the case's rows used (besides the corpus rows), and these notes on stderr for the rest."""

    used: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scores:
    """Exit 0; this many postings scored, and these notes on stderr for the rest."""

    n: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Classifies:
    """Exit 0; ``--json`` gives this status (``labelled``: ok or uncertain with a label)."""

    status: str


Outcome = Fails | Labels | Trains | Scores | Classifies


@dataclass(frozen=True)
class Made:
    """An input file, and what its rows hold (for a table that can be read)."""

    path: Path
    columns: list[str] | None = None
    rows: list[list] | None = None  # the values of the input columns, row by row, as written
    jsonl: bool = False
    total_rows: int | None = None  # rows in the file, corpus rows added for train included


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path, str], Made]  # (folder, command) -> the input file
    expect: dict[str, Outcome]
    args: tuple[str, ...] = ()
    about: str = ""  # how the file is made, for the closing table
    output: str = ""  # label's output format, when not the input's

    def __str__(self) -> str:
        return self.name


# --- how the files are made -------------------------------------------------------

def _corpus_frame() -> pd.DataFrame:
    return pd.DataFrame(corpus_rows())[["title", "description", "label"]]


def raw(data: bytes | Callable[[], bytes], name: str = "input.csv",
        labelled: bytes | Callable[[], bytes] | None = None,
        holds: tuple[list[str], list[list]] | None = None) -> Callable[[Path, str], Made]:
    """A file of these bytes (``labelled``: other bytes for train and evaluate).

    ``holds``: the columns and rows the file holds, when it is a table ``label`` can read.
    """

    def make(folder: Path, command: str) -> Made:
        content = labelled if labelled is not None and command in ("train", "evaluate") else data
        content = content() if callable(content) else content
        path = folder / name
        path.write_bytes(content)
        if holds is None:
            return Made(path)
        return Made(path, holds[0], holds[1], total_rows=len(holds[1]))

    return make


def table(columns: dict[str, list], labels: list[str] | None = None, *, fmt: str = "csv",
          encoding: str = "utf-8", bom: bool = True, newline: str = "\n", corpus: bool = True,
          label_column: str = "label", posting: str | None = None,
          posting_name: str = "posting.txt") -> Callable[[Path, str], Made]:
    """A table of these columns, written as ``fmt`` in ``encoding`` (``newline`` ends its rows).

    For train and evaluate a ``label_column`` (``labels``) is added; for train the
    tiny corpus's rows are appended too (``corpus``), empty in the other columns.
    For classify the file is one ``posting``, in the same encoding.
    """

    def _bytes(text: str) -> bytes:
        if encoding == "utf-16-le" and bom:
            return codecs.BOM_UTF16_LE + text.encode(encoding)
        return text.encode(encoding)

    def make(folder: Path, command: str) -> Made:
        if command in SINGLE_TEXT:
            path = folder / posting_name
            path.write_bytes(_bytes(posting))
            return Made(path)
        frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})
        if command in ("train", "evaluate"):
            frame[label_column] = labels
        if command == "train" and corpus:
            frame = pd.concat([frame, _corpus_frame()], ignore_index=True).astype(object)
            frame = frame.where(frame.notna(), None if fmt == "jsonl" else "")
        cols = list(frame.columns)
        values = frame.values.tolist()
        path = folder / f"input.{fmt}"
        if fmt == "jsonl":
            lines = [json.dumps(dict(zip(cols, row)), ensure_ascii=False) for row in values]
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        else:
            out = io.StringIO()
            writer = csv.writer(out, lineterminator=newline)
            writer.writerow(cols)
            writer.writerows(values)
            path.write_bytes(_bytes(out.getvalue()))
        return Made(path, cols, values, jsonl=fmt == "jsonl", total_rows=len(values))

    return make


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("postings.csv", f"id,description\n1,{TECH}\n")
    return buffer.getvalue()


def _binary() -> bytes:
    return bytes(range(256)) * 16


def _broken_gzip() -> bytes:
    return gzip.compress(f"id,description\n1,{TECH}\n".encode() * 50)[:60]


def _parquet_repeating_a_column() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table([pa.array(["1"]), pa.array([TECH]), pa.array([BIZ])],
                            names=["id", "description", "description"]), buffer)
    return buffer.getvalue()


def _parquet_of_two() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table({"id": ["1", "2"], "description": [TECH, BIZ]}), buffer)
    return buffer.getvalue()


def _deep_json() -> bytes:
    return ('{"id": "1", "description": ' + "[" * 100_000 + "]" * 100_000 + "}\n").encode()


def _late_latin1_rows() -> dict[str, list]:
    # 64 KB of plain ASCII before the first Latin-1 byte: past the encoding sniffer's sample
    n = 70_000 // (len(TECH) + 10) + 1
    texts = [f"{TECH} Posting {i}." for i in range(n)] + [LATIN1_TECH]
    return {"id": [str(i) for i in range(n + 1)], "description": texts}


LATE = _late_latin1_rows()
LATE_N = len(LATE["id"])
WIDE_COLUMNS = {**{f"c{i}": [str(i), f"x{i}"] for i in range(WIDE - 1)}, "description": [TECH, BIZ]}
WIDE_NO_TEXT = {f"c{i}": [str(i)] for i in range(WIDE)}
NOTE_EMPTY = "{path}: left out {n} with empty text ({rows})"
NOTE_NOT_TEXT = "{path}: left out {n} whose text is a number or has no letters ({rows})"
NOTE_NOT_ENGLISH = "{path}: {n} read as not English, kept ({rows}): the cue lists and the scope check read English only"
NOT_READABLE = "the file is binary, not a text table (CSV, TSV or JSON Lines)"
NO_TEXT = ("no text column found (looked for description, job_description, jobdescription, "
           "description_text, text, body, …); the columns are: {columns}; name one with --text-column")


def _note(template: str, rows: list[int]) -> str:
    one = len(rows) == 1  # '1 row' (row 4), '2 rows' (rows 2, 3)
    return (template.replace("{n}", f"{len(rows)} row" + ("" if one else "s"))
            .replace("{rows}", ("row " if one else "rows ") + ", ".join(map(str, rows))))


# --- the table ------------------------------------------------------------------------

CASES: list[Case] = [
    # files pmtype cannot read: one line, exit 1
    Case("empty file", raw(b""), {
        "label": Fails("{path}: the file is empty"), "train": Fails("{path}: the file is empty"),
        "evaluate": Fails("{path}: the file is empty"), "classify": Fails("the posting is empty"),
    }, about="0 bytes"),
    Case("header only", raw(b"id,description\n", labelled=b"id,description,label\n"), {
        "label": Fails("{path}: the file has no rows"), "train": Fails("{path}: the file has no rows"),
        "evaluate": Fails("{path}: the file has no rows"),
    }, about="a CSV header and no rows"),
    Case("binary", raw(_binary), {
        "label": Fails("{path}: " + NOT_READABLE), "train": Fails("{path}: " + NOT_READABLE),
        "evaluate": Fails("{path}: " + NOT_READABLE),
        "classify": Fails("{path} is binary, not a text file"),
    }, about="4 KB of bytes 0–255, named .csv"),
    Case("PNG image", raw(_png, "input.csv"), {
        "label": Fails("{path}: " + NOT_READABLE), "train": Fails("{path}: " + NOT_READABLE),
        "evaluate": Fails("{path}: " + NOT_READABLE),
        "classify": Fails("{path} is binary, not a text file"),
    }, about="a 1×1 PNG, named .csv"),
    Case("ZIP archive", raw(_zip, "input.csv"), {
        "label": Fails("{path}: " + NOT_READABLE), "train": Fails("{path}: " + NOT_READABLE),
        "evaluate": Fails("{path}: " + NOT_READABLE),
        "classify": Fails("{path} is binary, not a text file"),
    }, about="a ZIP holding a CSV, named .csv"),
    Case("damaged gzip", raw(_broken_gzip, "input.csv.gz"), {
        "label": Fails("{path}: the file looks gzip-compressed but cannot be decompressed: "
                       "Compressed file ended before the end-of-stream marker was reached"),
        "train": Fails("{path}: the file looks gzip-compressed but cannot be decompressed: "
                       "Compressed file ended before the end-of-stream marker was reached"),
    }, about="a .csv.gz cut after 60 bytes"),
    Case("unbalanced quotes", raw(f'id,description\n1,"{TECH}\n2,{BIZ}\n'.encode(),
                                  labelled=f'id,description,label\n1,{TECH},technical\n2,"{BIZ},business\n'.encode()), {
        "label": Fails('{path}: not a readable CSV file: a quote (") opened in row 2 is never closed'),
        "train": Fails('{path}: not a readable CSV file: a quote (") opened in row 3 is never closed'),
        "evaluate": Fails('{path}: not a readable CSV file: a quote (") opened in row 3 is never closed'),
    }, about="a quoted cell never closed"),
    Case("too many cells in a row", raw(f'id,description\n1,"{TECH}"\n2,one,two,three\n'.encode(),
                                        labelled=f'id,description,label\n1,"{TECH}",technical\n2,a,b,business\n'.encode()), {
        "label": Fails("{path}: not a readable CSV file: row 3 has 4 fields but the header has 2"),
        "evaluate": Fails("{path}: not a readable CSV file: row 3 has 4 fields but the header has 3"),
    }, about="row 3 has more cells than the header"),
    Case("too many cells in the first row", raw(f'id,description\n1,APIs, SDKs\n2,"{BIZ}"\n'.encode(),
                                                labelled=f'id,description,label\n1,APIs, SDKs,technical\n'
                                                         f'2,"{BIZ}",business\n'.encode()), {
        "label": Fails("{path}: not a readable CSV file: the first row under the header has 3 fields but the header has 2"),
        "evaluate": Fails("{path}: not a readable CSV file: the first row under the header has 4 fields but the header "
                          "has 3"),
    }, about="an unquoted comma in row 2 (pandas would take column 1 as an index and shift every cell)"),
    Case("a column named like a repeated one", raw(f'id,description,description.1\n1,"{TECH}",a\n2,"{BIZ}",b\n'.encode(),
                                                   holds=(["id", "description", "description.1"],
                                                          [["1", TECH, "a"], ["2", BIZ, "b"]])), {
        "label": Labels((LABELLED, LABELLED)),
    }, about="'description' and 'description.1', both real"),
    Case("Parquet repeating a column", raw(_parquet_repeating_a_column, "input.parquet"), {
        "label": Fails("{path}: the header repeats column names: description"),
    }, about="two 'description' columns in a Parquet file"),
    Case("JSON nested too deeply", raw(_deep_json, "input.jsonl"), {
        "label": Fails("{path}: line 1 nests JSON values too deeply to read"),
    }, about="a value 100,000 lists deep"),
    Case("--encoding utf-16 without BOM", table({"id": ["1", "2"], "description": [TECH, BIZ]},
                                                encoding="utf-16-le", bom=False), {
        "label": Fails("{path}: the file cannot be decoded as utf-16: UTF-16 stream does not start with BOM"),
    }, args=("--encoding", "utf-16"), about="UTF-16-LE, no BOM, named as utf-16"),
    Case("--encoding utf-16-le on UTF-8", table({"id": ["1", "2"], "description": [TECH, BIZ]}), {
        "label": Fails("{path}: the file does not decode as utf-16-le: it has none of the zero bytes UTF-16 text has; "
                       "leave out --encoding to have its encoding detected"),
    }, args=("--encoding", "utf-16-le"), about="a UTF-8 file named as UTF-16 (read so, its one line held no row)"),
    Case("--encoding utf-32 on UTF-8", table({"id": ["1", "2"], "description": [TECH, BIZ]}), {
        "label": Fails("{path}: the file does not decode as utf-32: it has none of the zero bytes UTF-32 text has; "
                       "leave out --encoding to have its encoding detected"),
    }, args=("--encoding", "utf-32"), about="a UTF-8 file named as UTF-32"),
    Case("a stray NUL byte", raw(f'id,description\n1,"{TECH}"\n2,"{BIZ[:40]}\x00{BIZ[40:]}"\n'.encode(),
                                 holds=(["id", "description"], [["1", TECH], ["2", f"{BIZ[:40]}\x00{BIZ[40:]}"]])), {
        "label": Labels((LABELLED, LABELLED)),
    }, about="one NUL inside a cell of a text table (a bad byte, not a binary file)"),
    Case("UTF-32", table({"id": ["1", "2"], "description": [LATIN1_TECH, LATIN1_BIZ]}, ["technical", "business"],
                         encoding="utf-32"), {
        "label": Labels((LABELLED, LABELLED)),
        "evaluate": Scores(2),
    }, about="UTF-32 with its BOM (which begins as UTF-16's does)"),
    Case("--encoding for Parquet", raw(_parquet_of_two, "input.parquet"), {
        "label": Fails("--encoding is for CSV, TSV and JSON Lines; Parquet holds its text as UTF-8", 2),
    }, args=("--encoding", "latin-1"), about="an encoding named for a Parquet file"),
    Case("missing text column", table({"id": ["1", "2"], "title": ["PM", "PM"]}, ["technical", "business"],
                                      corpus=False), {
        "label": Fails("{path}: " + NO_TEXT.format(columns="id, title")),
        "train": Fails("{path}: " + NO_TEXT.format(columns="id, title, label")),
        "evaluate": Fails("{path}: " + NO_TEXT.format(columns="id, title, label")),
    }, about="columns id, title"),
    Case("misspelled text column", table({"id": ["1", "2"], "desciption": [TECH, BIZ]}, ["technical", "business"],
                                         corpus=False), {
        "label": Fails("{path}: " + NO_TEXT.format(columns="id, desciption")),
        "train": Fails("{path}: " + NO_TEXT.format(columns="id, desciption, label")),
        "evaluate": Fails("{path}: " + NO_TEXT.format(columns="id, desciption, label")),
    }, about="a 'desciption' column"),
    Case("misspelled --text-column", table({"id": ["1", "2"], "description": [TECH, BIZ]}, ["technical", "business"],
                                           corpus=False), {
        "label": Fails("{path}: no column 'descripton'; the columns are: id, description"),
        "train": Fails("{path}: no column 'descripton'; the columns are: id, description, label"),
        "evaluate": Fails("{path}: no column 'descripton'; the columns are: id, description, label"),
    }, args=("--text-column", "descripton"), about="--text-column descripton"),
    Case("misspelled label column", table({"id": ["1", "2"], "description": [TECH, BIZ]}, ["technical", "business"],
                                          corpus=False, label_column="lable"), {
             "train": Fails("{path}: no label column 'label'; the columns are: id, description, lable; "
                            "name one with --label-column"),
             "evaluate": Fails("{path}: no label column 'label'; the columns are: id, description, lable; "
                               "name one with --label-column"),
         }, about="a 'lable' column instead of 'label'"),
    Case("duplicated column names", raw(f'id,description,description\n1,"{TECH}","{BIZ}"\n'.encode(),
                                        labelled=f'id,description,description,label\n1,"{TECH}","{BIZ}",technical\n'.encode()), {
        "label": Fails("{path}: the header repeats column names: description"),
        "train": Fails("{path}: the header repeats column names: description"),
        "evaluate": Fails("{path}: the header repeats column names: description"),
    }, about="two 'description' columns"),
    Case("1,000 columns, no text column", table(WIDE_NO_TEXT), {
        "label": Fails("{path}: " + NO_TEXT.format(columns=", ".join(f"c{i}" for i in range(12)) + f", … ({WIDE} columns)")),
    }, about="c0 … c999"),
    Case("blank text to classify", raw(b" \r\n\t \n"), {
        "classify": Fails("the posting is empty"), "classify-text": Fails("the posting is empty"),
    }, about="white space only"),

    # files that are fine, with rows that are not (or are unusual): a status per row
    Case("NaN/None cells", table({
        "id": ["1", "2", "3", "4", "5", "6", "7"],
        "description": ["", "NaN", "None", "null", "N/A", TECH, BIZ],
        "note": ["", "nan", "None", "", "NA", "", "x"],
    }, ["technical", "business", "technical", "business", "technical", "technical", "business"]), {
        "label": Labels(("empty text",) * 5 + (LABELLED, LABELLED)),
        "train": Trains(2, (_note(NOTE_EMPTY, [2, 3, 4, 5, 6]),)),
        "evaluate": Scores(2, (_note(NOTE_EMPTY, [2, 3, 4, 5, 6]),)),
    }, about="'', NaN, None, null, N/A as text cells"),
    Case("JSON nulls", table({
        "id": [1, 2, 3, 4],
        "description": [None, "None", TECH, BIZ],
        "meta": [None, {"source": None}, [1, None], "x"],
    }, ["technical", "business", "technical", "business"], fmt="jsonl"), {
        "label": Labels(("empty text", "empty text", LABELLED, LABELLED)),
        "train": Trains(2, (_note(NOTE_EMPTY, [1, 2]),)),  # JSON Lines: line numbers
        "evaluate": Scores(2, (_note(NOTE_EMPTY, [1, 2]),)),
    }, about="JSON Lines with null values"),
    Case("numbers as text", table({
        "id": ["1", "2", "3", "4", "5"],
        "description": ["12345", "3.14", "-7e3", TECH, BIZ],
    }, ["technical", "business", "technical", "technical", "business"]), {
        "label": Labels(("not text",) * 3 + (LABELLED, LABELLED)),
        "train": Trains(2, (_note(NOTE_NOT_TEXT, [2, 3, 4]),)),
        "evaluate": Scores(2, (_note(NOTE_NOT_TEXT, [2, 3, 4]),)),
    }, about="12345, 3.14, -7e3 in the text column"),
    Case("markup alone", table({
        "id": ["1", "2", "3", "4", "5"],
        "description": ["<div><br/></div>", "&nbsp;", "<p>12345</p>", TECH, BIZ],
    }, ["technical", "business", "technical", "technical", "business"], posting="<p>&nbsp;</p>"), {
        "label": Labels(("empty text", "empty text", "not text", LABELLED, LABELLED)),
        "train": Trains(2, (_note(NOTE_EMPTY, [2, 3]), _note(NOTE_NOT_TEXT, [4]))),
        "evaluate": Scores(2, (_note(NOTE_EMPTY, [2, 3]), _note(NOTE_NOT_TEXT, [4]))),
        "classify": Fails("the posting is empty"),
    }, about="tags and entities with no text, or a number, inside"),
    Case("JSON numbers", table({
        "id": [1, 2, 3, 4, 5],
        "description": [12345, 3.25, True, TECH, BIZ],
        "score": [0.1234567890123456, 1e300, -0, 7, None],
    }, ["technical", "business", "technical", "technical", "business"], fmt="jsonl"), {
        "label": Labels(("not text",) * 3 + (LABELLED, LABELLED)),
        "train": Trains(2, (_note(NOTE_NOT_TEXT, [1, 2, 3]),)),
        "evaluate": Scores(2, (_note(NOTE_NOT_TEXT, [1, 2, 3]),)),
    }, about="JSON Lines: numbers and true as the text; numbers elsewhere"),
    Case("10 MB posting", table({"id": ["1"], "description": [BIG]}, ["technical"], posting=BIG), {
        "label": Labels((f"{LABELLED}; truncated to {MAX_CHARS} characters",)),
        "train": Trains(1),
        "evaluate": Scores(1),
        "classify": Classifies(f"{LABELLED}; truncated to {MAX_CHARS} characters"),
    }, about="one posting of 10,000,000 characters"),
    Case("HTML instead of text", table({"id": ["1", "2"], "description": [HTML_TECH, HTML_BIZ]},
                                       ["technical", "business"], posting=HTML_TECH, posting_name="posting.html"), {
        "label": Labels((LABELLED, LABELLED)),
        "train": Trains(2),
        "evaluate": Scores(2),
        "classify": Classifies(LABELLED),
    }, about="a web page and an HTML fragment"),
    Case("another language", table({"id": ["1", "2"], "description": [GERMAN, CHINESE]}, ["technical", "business"],
                                   posting=GERMAN), {
        "label": Labels(("not English", "not English")),
        "train": Trains(2, (_note(NOTE_NOT_ENGLISH, [2, 3]),)),
        "evaluate": Scores(2, (_note(NOTE_NOT_ENGLISH, [2, 3]),)),
        "classify": Classifies("not English"),
    }, about="German and Chinese postings"),
    Case("Latin-1", table({"id": ["1", "2"], "description": [LATIN1_TECH, LATIN1_BIZ]}, ["technical", "business"],
                          encoding="latin-1", posting=LATIN1_TECH), {
        "label": Labels((LABELLED, LABELLED)),
        "train": Trains(2),
        "evaluate": Scores(2),
        "classify": Classifies(LABELLED),
    }, about="é, ô, ü … as single bytes"),
    Case("Latin-1 after 64 KB", table(LATE, ["technical"] * LATE_N, encoding="latin-1"), {
        "label": Labels((LABELLED,) * LATE_N),
        "evaluate": Scores(LATE_N),
    }, about=f"{LATE_N - 1} ASCII rows, then one with é"),
    Case("UTF-16", table({"id": ["1", "2"], "description": [LATIN1_TECH, LATIN1_BIZ]}, ["technical", "business"],
                         encoding="utf-16", posting=LATIN1_TECH), {
        "label": Labels((LABELLED, LABELLED)),
        "train": Trains(2),
        "evaluate": Scores(2),
        "classify": Classifies(LABELLED),
    }, about="UTF-16 with its BOM"),
    Case("UTF-16 without BOM", table({"id": ["1", "2"], "description": [TECH, BIZ]}, ["technical", "business"],
                                     encoding="utf-16-le", bom=False, posting=TECH), {
        "label": Labels((LABELLED, LABELLED)),
        "train": Trains(2),
        "evaluate": Scores(2),
        "classify": Classifies(LABELLED),
    }, about="UTF-16-LE, no BOM"),
    Case("Windows line endings", table({"id": ["1", "2"], "description": [TECH.replace(". ", ".\r\n"), BIZ]},
                                       ["technical", "business"], newline="\r\n",
                                       posting=TECH.replace(". ", ".\r\n") + "\r\n"), {
        "label": Labels((LABELLED, LABELLED)),
        "train": Trains(2),
        "evaluate": Scores(2),
        "classify": Classifies(LABELLED),
    }, about="CRLF rows, CRLF inside a quoted cell"),
    Case("1,000 columns", table(WIDE_COLUMNS, ["technical", "business"]), {
        "label": Labels((LABELLED, LABELLED)),
        "train": Trains(2),
        "evaluate": Scores(2),
    }, about=f"{WIDE - 1} other columns and the text"),
    Case("blank column name", table({"": ["0", "1"], "description": [TECH, BIZ]}, ["technical", "business"]), {
        "label": Labels((LABELLED, LABELLED)),
        "train": Trains(2),
        "evaluate": Scores(2),
    }, about="a pandas index written to CSV: ',description'"),
    Case("short rows", raw(f'id,description,note\n1,"{TECH}",a\n2\n3,"{BIZ}"\n'.encode(),
                           holds=(["id", "description", "note"], [["1", TECH, "a"], ["2", "", ""], ["3", BIZ, ""]])), {
        "label": Labels((LABELLED, "empty text", LABELLED)),
    }, about="rows with fewer cells than the header"),
    Case("a column empty in the first chunk", table({
        "id": ["1", "2", "3", "4"], "description": [TECH, BIZ, TECH + " Again.", BIZ + " Again."],
        "note": [None, None, "late", None],
    }, fmt="jsonl"), {
        "label": Labels((LABELLED,) * 4),
    }, args=("--chunk-size", "2"), output="parquet", about="JSON Lines to Parquet, chunks of 2 rows"),
]

SINGLE_TEXT = {"classify", "classify-text"}
PAIRS = [(case, command) for case in CASES for command in case.expect]


# --- running one case ---------------------------------------------------------------

@dataclass
class Result:
    command: str
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None
    made: Made
    rows_in: int | None = None
    rows_out: int | None = None
    reported: int = 0  # rows left out and said so
    output: tuple[list[str], list[list]] | None = None  # label's output table
    output_path: Path | None = None
    json: dict | None = None  # classify --json
    argv: list[str] = field(default_factory=list)

    @property
    def rows_lost(self) -> int | None:
        if self.rows_in is None or self.rows_out is None:
            return None
        return self.rows_in - self.rows_out - self.reported

    def outcome(self) -> str:
        if self.exit_code != 0:
            return self.stderr.strip().splitlines()[-1] if self.stderr.strip() else "(nothing on stderr)"
        if self.command == "label":
            counts: dict[str, int] = {}
            for row in self.output[1]:
                status = row[-3]  # pm_status
                counts[status] = counts.get(status, 0) + 1
            return "; ".join(f"{k} ×{v}" for k, v in counts.items())
        if self.command in ("train", "evaluate"):
            notes = _notes_on_rows(self.stderr)
            what = "trained on" if self.command == "train" else "scored"
            extra = "; " + "; ".join(n.split(": ", 1)[1] for n in notes) if notes else ""
            return f"{what} {self.rows_out}{extra}"
        return f"status: {self.json['status']}"


def _notes_on_rows(stderr: str) -> list[str]:
    """What train and evaluate say about rows: left out (and why), or kept but not English."""
    return [line for line in stderr.splitlines() if "left out" in line or "not English" in line]


def _statuses_match(got: str, want: str) -> bool:
    base, _, rest = got.partition(";")
    want_base, _, want_rest = want.partition(";")
    if want_base == LABELLED:
        return base in ("ok", "uncertain") and rest == want_rest
    return got == want


def _read_output(path: Path) -> tuple[list[str], list[list]]:
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path).astype(object)
        return list(frame.columns), frame.where(frame.notna(), None).values.tolist()
    text = path.read_bytes().decode("utf-8")  # (read_text would turn a cell's \r\n into \n)
    if path.suffix == ".jsonl":
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
        columns = list(records[0]) if records else []
        return columns, [[r.get(c) for c in columns] for r in records]
    reader = csv.reader(io.StringIO(text, newline=""))
    table = list(reader)
    return table[0], table[1:]


def fast_bootstrap(monkeypatch) -> None:
    """evaluate's 1000 bootstrap draws take seconds a run and say nothing about bad input: 20 here."""
    module = importlib.import_module("pmtype.evaluation")
    monkeypatch.setattr(module, "label_metrics", functools.partial(module.label_metrics, n_boot=20))


def run_case(case: Case, command: str, folder: Path, model_dir: Path) -> Result:
    """Make the case's file in ``folder``, feed it to ``command`` through the CLI, and measure."""
    folder.mkdir(parents=True, exist_ok=True)
    made = case.make(folder, command)
    path = made.path
    if command == "label":
        out = folder / f"out.{case.output or ('jsonl' if made.jsonl else 'csv')}"
        argv = ["label", str(path), "-o", str(out), "--model", str(model_dir), *case.args]
    elif command == "train":
        argv = ["train", str(path), "--no-seed", "-o", str(folder / "model"), *case.args]
    elif command == "evaluate":
        argv = ["evaluate", str(path), "--model", str(model_dir), *case.args]
    elif command == "classify":
        argv = ["classify", "--file", str(path), "--model", str(model_dir), "--json", *case.args]
    elif command == "classify-text":
        argv = ["classify", path.read_bytes().decode("utf-8"), "--model", str(model_dir), "--json", *case.args]
    else:
        raise ValueError(command)
    r = CliRunner().invoke(app, argv)
    result = Result(command, r.exit_code, r.stdout, r.stderr, r.exception, made, argv=argv,
                    output_path=out if command == "label" else None)
    result.rows_in = made.total_rows if made.rows is not None else None
    if r.exit_code != 0:
        return result
    if command == "label":
        result.output = _read_output(out)
        result.rows_out = len(result.output[1])
        if result.rows_in is None:
            result.rows_in = _count_rows(path)
    elif command in ("train", "evaluate"):
        pattern = r"trained on (\d+) postings" if command == "train" else r"postings scored: (\d+)"
        result.rows_out = int(re.search(pattern, r.stdout).group(1))
        result.reported = sum(int(n) for n in re.findall(r"left out (\d+) ", r.stderr))
        if result.rows_in is None:
            result.rows_in = _count_rows(path)
    else:
        result.json = json.loads(r.stdout)
        result.rows_in = result.rows_out = 1
    return result


def _count_rows(path: Path) -> int:
    return len(list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))) - 1


# --- the test -------------------------------------------------------------------------

@pytest.fixture
def fast_evaluate(monkeypatch):
    fast_bootstrap(monkeypatch)


def check(case: Case, command: str, result: Result) -> None:
    """Assert that ``result`` is the outcome ``case`` expects from ``command``."""
    expect = case.expect[command]
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stdout + result.stderr

    if isinstance(expect, Fails):
        assert result.exit_code == expect.code, result.stderr
        assert result.stderr == f"Error: {expect.message.replace('{path}', str(result.made.path))}\n"
        assert result.stdout == ""
        if command == "label":
            assert not result.output_path.exists(), "a failed run left an output file"
        return

    assert result.exit_code == 0, result.stderr
    assert "Error" not in result.stderr
    if isinstance(expect, Labels):
        columns, rows = result.output
        assert columns == result.made.columns + list(OUTPUT_COLUMNS)
        assert result.rows_out == result.rows_in == len(expect.statuses)
        k = len(result.made.columns)
        for i, (row, want_row, want_status) in enumerate(zip(rows, result.made.rows, expect.statuses)):
            typed = result.made.jsonl or case.output == "parquet"
            want_inputs = want_row if typed else ["" if v is None else str(v) for v in want_row]
            assert row[:k] == want_inputs, f"row {i + 1}: the input columns changed"
            label, p, status = row[k], row[k + 1], row[k + 2]
            assert _statuses_match(status, want_status), f"row {i + 1}: {status!r}, expected {want_status!r}"
            assert (label in ("technical", "business")) == want_status.startswith(LABELLED)
            if typed:  # JSON Lines and Parquet: a number, null where there is no label
                assert (p is not None) == (label != "") and (p is None or (isinstance(p, float) and 0 <= p <= 1))
            else:  # CSV and TSV: four decimals of text, empty where there is no label
                assert (p != "") == (label != "") and (p == "" or re.fullmatch(r"[01]\.\d{4}", p))
    elif isinstance(expect, (Trains, Scores)):
        corpus = len(corpus_rows()) if command == "train" else 0
        assert result.rows_out == (corpus + expect.used if isinstance(expect, Trains) else expect.n)
        notes = _notes_on_rows(result.stderr)
        assert notes == [n.replace("{path}", str(result.made.path)) for n in expect.notes]
        assert result.rows_lost == 0
    elif isinstance(expect, Classifies):
        got = result.json
        assert _statuses_match(got["status"], expect.status), got["status"]
        assert (got["label"] is not None) == expect.status.startswith(LABELLED)


@pytest.mark.parametrize("case,command", PAIRS, ids=[f"{c.name}-{cmd}" for c, cmd in PAIRS])
def test_bad_input(case, command, tmp_path, model_dir, fast_evaluate):
    check(case, command, run_case(case, command, tmp_path, model_dir))


def test_every_case_is_fed_to_a_command():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))
    for case in CASES:
        assert case.expect
        assert set(case.expect) <= {"label", "train", "evaluate", "classify", "classify-text"}
