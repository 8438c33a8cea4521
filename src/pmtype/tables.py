"""Reading and writing tables of postings, in chunks.

CSV, TSV, JSON Lines and Parquet, gzip-compressed CSV/TSV/JSONL too; chosen by
the file's extension or named. Text encodings are detected (UTF-8 with or
without BOM, UTF-16 by its BOM or its zero bytes, else cp1252) or given, and a
bad byte never stops a run: a byte that is not UTF-8 in a UTF-8 file is read as
cp1252. Every CSV/TSV cell is read as text and JSON Lines values keep their JSON
types, so the columns a user gave come back exactly as they were.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import json
import math
import os
import re
import shutil
import stat
import sys
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pmtype.config import HOST_TAG, seed_corpus_files, user_paths
from pmtype.errors import BadInputFile, BadOption, CannotWrite, MissingColumn, OutputExists, PMTypeError, printable, system_reason

FORMATS = ("csv", "tsv", "jsonl", "parquet")
#: The bytes a Parquet file starts (and ends) with.
PARQUET_MAGIC = b"PAR1"
#: Bytes read from the start of a file to detect its encoding and to tell text from binary.
SAMPLE_BYTES = 1 << 16
#: How much of standard input after a posting's first ``max_chars`` characters ``read_text_file``
#: reads and drops, so that a program writing a long paste into the pipe meets no broken pipe;
#: input that goes on past it (``yes |``, endless) is read no further.
STDIN_DRAIN_BYTES = 256 << 20

TEXT_COLUMNS = ("description", "job_description", "jobdescription", "description_text",
                "text", "body", "posting", "posting_text", "job_text", "content", "desc",
                "job_posting", "details")
TITLE_COLUMNS = ("title", "job_title", "jobtitle", "position", "position_title", "role",
                 "role_title", "posting_title")


def detect_format(path: str | os.PathLike, fmt: str | None = None, option: str | None = "--format") -> str:
    """The table format: the one given, else the file's extension (``.gz`` looked through).

    ``option`` is the command-line option that names a format, for the message when the
    name does not tell (None: the command has none, so the message asks for a known name).
    """
    if fmt:
        fmt = fmt.lower()
        if fmt not in FORMATS:
            raise BadOption(f"unknown format '{fmt}'; choose one of {', '.join(FORMATS)}")
        return fmt
    name = str(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    for ext, found in ((".csv", "csv"), (".tsv", "tsv"), (".tab", "tsv"), (".txt", "csv"),
                       (".jsonl", "jsonl"), (".ndjson", "jsonl"), (".json", "jsonl"),
                       (".parquet", "parquet"), (".pq", "parquet")):
        if name.endswith(ext):
            return found
    if str(path) == "-" or is_stream(path):
        return "csv"  # standard input, a pipe (<(zcat …)): no name to tell by; Parquet is known by its bytes
    if option is None:
        raise BadInputFile(f"cannot tell the format of {path} from its name; "
                           "name it .csv, .tsv, .jsonl or .parquet (.gz for compressed text)")
    raise BadInputFile(f"cannot tell the format of {path} from its name; give {option} ({', '.join(FORMATS)})")


def detect_output_format(path: str | os.PathLike, fmt: str | None = None, option: str | None = "--output-format") -> str:
    """``detect_format`` for a table to write: a ``.gz`` name for Parquet is a ``BadOption``, since
    Parquet compresses itself and is never gzipped (its reader needs the footer at the file's end)."""
    found = detect_format(path, fmt, option)
    if found == "parquet" and str(path).lower().endswith(".gz"):
        raise BadOption(f"cannot write Parquet to {printable(path)}: Parquet compresses itself and is not gzipped; "
                        "leave .gz off the name")
    return found


def detect_input_format(path: str | os.PathLike, fmt: str | None = None) -> str:
    """``detect_format`` for a table read on this machine: where its name does not tell the format,
    one that does not exist, or is a folder, is named so (``_check_input_file``), not asked for a
    ``--format`` that would not help. A table in memory (a DataFrame), or anything else that is no
    path, is a ``TypeError`` (``check_table_path``)."""
    check_table_path(path)
    try:
        return detect_format(path, fmt)
    except BadInputFile:
        _check_input_file(Path(path))
        raise


def check_table_path(path) -> None:
    """A ``TypeError`` that says what is wrong where an input table is given as no path (a DataFrame),
    as ``train`` gives, not one from deep inside."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"pmtype reads tables from files: give a path, not a {type(path).__name__} "
                        "(a DataFrame: save it with to_csv first)")


def _normal(name: str) -> str:
    return re.sub(r"[\s_\-]+", "_", str(name).strip().lower())


def describe_columns(columns, limit: int = 12) -> str:
    """The column names for a message: all of a few, the first ``limit`` of many, on one line."""
    names = [" ".join(str(c).split()) for c in columns]
    if not names:
        return "(none)"
    if len(names) <= limit:
        return ", ".join(names)
    return f"{', '.join(names[:limit])}, … ({len(names)} columns)"


def title_cell(value) -> str | None:
    """A title cell as pmtype reads it: its string, or None where it holds none (missing, a number,
    bytes): a title only adds words to a posting's text."""
    return value if isinstance(value, str) else None


def find_column(columns, wanted: str | None, candidates: tuple[str, ...], what: str,
                required: bool = True, fmt: str | None = None) -> str | None:
    """The column to use: the one named (``wanted``), else the first known name present. ``fmt``: the
    format the columns were read as (``read_format``), for the hints a missing column's message gives."""
    columns = [str(c) for c in columns]
    if wanted is not None:
        if wanted in columns:
            return wanted
        matches = [c for c in columns if _normal(c) == _normal(wanted)]
        if matches:
            return matches[0]
        raise MissingColumn(f"no column '{wanted}'; the columns are: {describe_columns(columns)}"
                            f"{_columns_hint(columns, fmt)}")
    by_normal = {}
    for c in columns:
        by_normal.setdefault(_normal(c), c)
    for cand in candidates:
        if cand in by_normal:
            return by_normal[cand]
    if required:
        raise MissingColumn(
            f"no {what} column found (looked for {', '.join(candidates[:6])}, …); "
            f"the columns are: {describe_columns(columns)}; name one with --{what}-column{_columns_hint(columns, fmt)}"
        )
    return None


def posting_columns(columns, text_column: str | None = None, title_column: str | None = None,
                    fmt: str | None = None) -> tuple[str, str | None]:
    """The postings' text column and title column (None: no title), as ``find_column`` finds them
    (``fmt``: the format the columns were read as).

    A title column named (``--title-column``) that is the text column is a ``BadOption``: each
    posting's text would be read twice, once as its title. One found by its name alone that is
    the text column (``--text-column title``) is no title."""
    text_col = find_column(columns, text_column, TEXT_COLUMNS, "text", fmt=fmt)
    title_col = find_column(columns, title_column, TITLE_COLUMNS, "title", required=title_column is not None, fmt=fmt)
    if title_col == text_col:
        if title_column is not None:
            raise BadOption(f"the title column '{printable(title_col)}' is the text column; give the postings' "
                            "title column with --title-column, or leave it out")
        title_col = None
    return text_col, title_col


def _columns_hint(columns: list[str], fmt: str | None) -> str:
    """The end of a missing-column message for the header of a CSV or TSV table (``fmt``; no other
    format's columns are a header read as text) that is JSON (a header that starts with ``{`` or
    ``[``: JSON Lines on standard input, or in a file named as CSV), or a header of one column
    holding semicolons (``semicolon_hint``), else ""."""
    if fmt not in ("csv", "tsv"):
        return ""
    if columns and columns[0].lstrip("\ufeff \t").startswith(("{", "[")):
        return "; it looks like JSON Lines: give --format jsonl"
    return semicolon_hint(columns, "\t" if fmt == "tsv" else ",")


def semicolon_hint(header: list[str] | None, sep: str = ",") -> str:
    """The end of a message about a CSV or TSV table whose header (``header``, read with separator
    ``sep``) is one column holding semicolons: a file separated by them (saved as .csv or as .tsv),
    which pmtype does not read; else ""."""
    if header and len(header) == 1 and ";" in header[0]:
        reads = ("TSV separated by tabs (and CSV by commas)" if sep == "\t"
                 else "CSV separated by commas (and TSV by tabs)")
        return (f"; the header is one column, '{printable(header[0][:60])}': is the file separated by "
                f"semicolons? pmtype reads {reads}: save it so")
    return ""


# --- reading -----------------------------------------------------------------

#: Top-level domains a web address typed without ``https://`` commonly ends its host with. The
#: commonest file endings among them are left out (``.md``, ``.pl``, ``.sh``), so ``notes.md/x`` is no
#: host; a few kept are file endings too (``.ai``, ``.app``, ``.in``), where the hint only asks
#: "if that is a web address".
_KNOWN_DOMAINS = frozenset(
    "com org net io co ai dev app jobs careers work tech info biz edu gov eu uk us ca au nz ie de fr "
    "nl be at ch es it se no dk fi jp in sg il br mx".split())
_HOST = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?P<domain>[a-z]{2,})", re.IGNORECASE)


def web_address_hint(path) -> str:
    """The end of a missing file's message where ``path``'s first part looks like a web host
    (``www.…``, or ``example.com``: a dot and a known top-level domain), as a web address typed
    without ``https://`` does (``example.com/jobs/pm.html``), or that is ``http:`` or ``https:``
    (a web address typed whole, which a ``Path`` keeps one slash of); else nothing. Nothing is fetched."""
    first, slash, _ = os.fspath(path).strip().partition("/")
    host = _HOST.fullmatch(first)
    web = first.lower() in ("http:", "https:") or (
        host is not None and (first.lower().startswith("www.") or host["domain"].lower() in _KNOWN_DOMAINS))
    if not (slash and web):
        return ""
    return " (if that is a web address: pmtype reads no web pages; save the page and give its file)"


def check_input_exists(path, fmt: str | None = None) -> None:
    """Before long work (building the default model): a one-line ``BadInputFile`` where an input
    table named by path is missing or is a folder, or its format (``fmt``, else its name) cannot
    be told, as reading it would say (an unknown ``fmt`` is ``BadOption``); standard input (``-``)
    and pipes pass. No path (a DataFrame) is ``check_table_path``'s ``TypeError``."""
    with naming_input(path):  # named as typed (``./x.csv``, ``https://…``), not as ``Path`` tidies it
        detect_input_format(path, fmt)
        if not is_stream(path):
            _check_input_file(Path(path))


def _check_input_file(path: Path) -> None:
    """A one-line ``BadInputFile`` where ``path`` is missing or is a folder, for every format."""
    if not path.exists():
        raise BadInputFile(f"{path} does not exist{web_address_hint(path)}")
    if path.is_dir():
        raise BadInputFile(f"{path} is a folder, not a file")


def _open_file(path: Path):
    """``path`` opened for binary reading, or a one-line ``BadInputFile`` saying why not."""
    _check_input_file(path)
    try:
        return open(path, "rb")
    except PermissionError:
        raise BadInputFile(f"{path} cannot be read: permission denied") from None


def _open_binary(path):
    """The input at ``path`` (``-``: standard input) for binary reading, gunzipped where it is gzip.

    Standard input and named pipes are read as they come, never held whole in memory."""
    return _gunzipped(sys.stdin.buffer if str(path) == "-" else _open_file(Path(path)), owned=True)


def _gunzipped(raw, owned: bool = False):
    """``raw`` (binary), or a gzip reader of it when it starts with gzip's magic bytes; ``owned``:
    one that closes ``raw`` too (a file opened for it), else ``raw`` stays open (its caller's).

    A stream that cannot seek (a pipe) is looked into without being consumed."""
    if not raw.seekable() and not hasattr(raw, "peek"):
        raw = io.BufferedReader(raw)
    if _head(raw, 2) == b"\x1f\x8b":
        return _Gunzipping(fileobj=raw) if owned else gzip.open(raw)
    return raw


class _Gunzipping(gzip.GzipFile):
    """A gzip reader that closes the file it reads from too, as the plain file it stands for would be."""

    def close(self) -> None:
        under = self.fileobj
        try:
            super().close()
        finally:
            if under is not None:
                under.close()


def _head(raw, n: int) -> bytes:
    """The first ``n`` bytes of ``raw`` (binary, at its start), left to be read again: a stream that
    cannot seek (a pipe) is peeked into."""
    if raw.seekable():
        head = raw.read(n)
        raw.seek(0)
        return head
    return raw.peek(n)[:n]


def gzip_damaged(error: BaseException) -> BadInputFile:
    """The one-line error for a file that starts as gzip but cannot be decompressed."""
    return BadInputFile(f"the file looks gzip-compressed but cannot be decompressed: {one_line(error)}")


def gzipped_parquet() -> BadInputFile:
    """The one-line error for a gzip-compressed Parquet file, which pmtype does not read."""
    return BadInputFile("the file is gzip-compressed Parquet, which pmtype does not read: Parquet "
                        "compresses itself; gunzip the file first")


def _utf16_without_bom(sample: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` when every other byte of the sample is zero (ASCII-range text)."""
    sample = sample[:4096]
    sample = sample[: len(sample) // 2 * 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    for zeros, chars, enc in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros.count(0) >= 0.9 * len(zeros) and chars.count(0) <= 0.1 * len(chars):
            return enc
    return None


#: A well-formed UTF-8 sequence of two to four bytes (RFC 3629).
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|"
    rb"\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}")
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def sniff_encoding(sample: bytes) -> str:
    """UTF-32, UTF-16 or UTF-8 by BOM, else UTF-8 when the sample reads as UTF-8, else cp1252.

    A sample reads as UTF-8 when it decodes, or when its well-formed multi-byte UTF-8
    characters outnumber the bytes UTF-8 rejects: a UTF-8 file with a stray cp1252 byte
    ("Zürich" and one "Caf\xe9") stays UTF-8, and the stray byte alone is read as cp1252
    (``decode_errors``), where calling the whole file cp1252 would garble every other
    accented letter in it. A cp1252 file, whose accented letters are all rejected bytes,
    is cp1252.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16: FF FE begins both
        return "utf-32"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return utf16
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as e:
        # A cut multi-byte character at the very end of the sample is still UTF-8.
        if e.start >= len(sample) - 3:
            return "utf-8"
    rejected = len(_ESCAPED_BYTE.findall(sample[:-3].decode("utf-8", errors="surrogateescape")))
    return "utf-8" if len(_UTF8_MULTIBYTE.findall(sample)) > rejected else "cp1252"


def _cp1252_fallback(error: UnicodeError):
    """Decode the bytes a UTF-8 decoder rejects as cp1252, so that a stray Latin-1 byte keeps its letter."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start:error.end].decode("cp1252", errors="replace"), error.end


codecs.register_error("pmtype-cp1252", _cp1252_fallback)


def _wide(encoding: str) -> bool:
    """UTF-16 or UTF-32, whose text is full of NUL bytes."""
    return codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))


def decode_errors(encoding: str) -> str:
    """The decoding error handler for ``encoding``: a bad byte is read as cp1252, but in UTF-16 and UTF-32."""
    return "replace" if _wide(encoding) else "pmtype-cp1252"


#: Control bytes that text does not hold (tab, line breaks, form feed and vertical tab aside).
_CONTROL_BYTES = bytes(c for c in range(32) if c not in b"\t\n\r\f\v") + b"\x7f"


#: NUL bytes a text file may hold however short it is: a few stray ones are bad bytes, not binary.
STRAY_NULS = 8


def _is_binary(sample: bytes, encoding: str) -> bool:
    """Whether a file that starts with ``sample`` is binary: its first 8 KB hold NUL bytes, and
    the bytes around them are not text (more than 5% of them control bytes), or the NULs are
    more than 1% of the bytes and more than ``STRAY_NULS``. A stray NUL in a text file is a bad
    byte like any other, not a reason to refuse the file, in a file of one line as in a long one:
    the NULs are judged by their count as well as their share, and the rest without them."""
    if _wide(encoding):
        return False
    head = sample[:8192]
    nuls = head.count(0)
    if not nuls:
        return False
    rest = head.replace(b"\x00", b"")
    controls = len(rest) - len(rest.translate(None, _CONTROL_BYTES))
    return controls * 20 > len(rest) or (nuls * 100 > len(head) and nuls > STRAY_NULS)


def _check_encoding(encoding: str) -> None:
    """An encoding Python does not know (only ever one given with --encoding) is a wrong use of
    the command line: ``BadOption``. So is a codec of Python's that is no text encoding
    (``rot13``, ``hex``, ``base64``, ``zip``): text cannot be read through it; and one for
    domain names (``idna``, ``punycode``), which cannot read a bad byte as pmtype reads one."""
    try:
        known = getattr(codecs.lookup(encoding), "_is_text_encoding", True)  # what str.encode checks
        if known:
            b"pmtype".decode(encoding, errors=decode_errors(encoding))
    except LookupError:
        known = False
    except UnicodeError:  # "Unsupported error handling"
        known = False
    if not known:
        raise BadOption(f"unknown encoding '{encoding}'")


def table_encoding(sample: bytes, encoding: str | None = None, gzipped: bool = False) -> str:
    """The encoding of a text table that starts with ``sample`` (``gzipped``: once gunzipped):
    ``encoding`` if given, else detected.

    An empty or binary file, gzip-compressed Parquet (on standard input, or named as text), or one
    without the zero bytes of the UTF-16 or UTF-32 given, is a one-line ``BadInputFile``; an unknown
    encoding a ``BadOption``.
    """
    if not sample.strip(b"\x00\r\n\t \xef\xbb\xbf\xff\xfe"):
        raise BadInputFile("the file is empty")
    if gzipped and sample.startswith(PARQUET_MAGIC):
        raise gzipped_parquet()
    enc = encoding or sniff_encoding(sample)
    _check_encoding(enc)
    if encoding and _wide(enc) and b"\x00" not in sample:
        # Its separators and line breaks would hold zero bytes: UTF-8 read so is one line of CJK, "no rows"
        family = "UTF-16" if codecs.lookup(enc).name.startswith("utf-16") else "UTF-32"
        raise BadInputFile(f"the file does not decode as {encoding}: it has none of the zero bytes {family} text "
                           "has; leave out --encoding to have its encoding detected")
    if _is_binary(sample, enc):
        raise BadInputFile("the file is binary, not a text table (CSV, TSV or JSON Lines)")
    return enc


def _text_stream(binary, encoding: str | None):
    """The table open in ``binary`` as text from its start, its first ``SAMPLE_BYTES`` decoded
    (what the encoding is judged by, and where a CSV header is read as written), and whether
    those are the whole table."""
    sample = binary.read(SAMPLE_BYTES)
    # A gzip reader says it can seek, but rewinds by seeking the file under it: a pipe cannot.
    under = binary.fileobj if isinstance(binary, gzip.GzipFile) else binary
    if under.seekable():
        binary.seek(0)
    else:
        binary = io.BufferedReader(_Prepend(sample, binary))
    enc = table_encoding(sample, encoding, gzipped=under is not binary)
    return (io.TextIOWrapper(binary, encoding=enc, errors=decode_errors(enc), newline=""),
            sample.decode(enc, errors=decode_errors(enc)), len(sample) < SAMPLE_BYTES)


@dataclass(frozen=True)
class TextTable:
    """How to read one CSV, TSV or JSON Lines file the way ``read_chunks`` reads it."""

    encoding: str
    errors: str  # the decoding error handler, ``decode_errors(encoding)``
    gzip: bool
    columns: list[str] | None  # a CSV/TSV file's header, when the sample holds all of it
    rows: bool | None = None  # whether the file holds a row; None when the sample cannot tell
    quoting: int = csv.QUOTE_MINIMAL  # how a TSV file's quotes are read (``tsv_quoting``)


def inspect_text_table(raw, fmt: str, encoding: str | None = None) -> TextTable:
    """How to read the table open in ``raw`` (binary, seekable), judged from its first ``SAMPLE_BYTES`` only.

    The encoding (``encoding`` if given, else detected), gzip, and the errors
    (empty, binary, damaged gzip, unknown encoding) are those ``read_chunks`` finds.
    """
    binary = _gunzipped(raw)
    try:
        sample = binary.read(SAMPLE_BYTES)
    except (OSError, EOFError, zlib.error) as e:
        if binary is raw:
            raise
        raise gzip_damaged(e) from None
    enc = table_encoding(sample, encoding, gzipped=binary is not raw)
    text = sample.decode(enc, errors=decode_errors(enc))
    whole = len(sample) < SAMPLE_BYTES
    if fmt in ("csv", "tsv"):
        columns, rows = _sample_header(text, "\t" if fmt == "tsv" else ",", whole)
    else:
        columns, rows = None, True if text.strip() else (False if whole else None)
    return TextTable(enc, decode_errors(enc), binary is not raw, columns, rows)


def _sample_header(text: str, sep: str, whole: bool) -> tuple[list[str] | None, bool | None]:
    """The first record of ``text`` that is not a blank line (pandas skips those), as pandas reads a
    header, and whether a row follows it.

    The header is None when the sample (not ``whole``) may end inside it; whether
    a row follows is None when the sample cannot tell.
    """
    text = text.removeprefix("\ufeff")  # a BOM the encoding left: pandas drops it too
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    try:
        record = next((r for r in reader if r), None)
    except csv.Error:
        return None, None
    if record is None or not (whole or text.count("\n") >= reader.line_num):
        return None, None
    rest = text.splitlines()[reader.line_num:]
    return record, True if any(line.strip() for line in rest) else (False if whole else None)


@user_paths("path")
def read_text_file(path, encoding: str | None = None, max_chars: int | None = None) -> str:
    """The text of one posting's file (``-``: standard input; ``~/posting.txt`` in the home
    folder), its encoding detected as for tables; binary input is refused.

    ``max_chars``: only the text's first ``max_chars`` characters and the one after them, where
    there is one (it tells a longer text from one of ``max_chars`` exactly), read and held in
    memory, not a posting of 100 MB whole. The rest of standard input is read and dropped, so
    that what writes into the pipe ends as it would (no broken pipe), up to ``STDIN_DRAIN_BYTES``
    more: endless input (``yes |``) is read no further, its first ``max_chars`` characters given."""
    if str(path) == "-":
        text = _read_text(sys.stdin.buffer, encoding, "standard input", max_chars)
        if max_chars is not None:
            left = STDIN_DRAIN_BYTES
            while left > 0 and (data := sys.stdin.buffer.read(min(SAMPLE_BYTES, left))):
                left -= len(data)
        return text
    path = Path(path)
    with _open_file(path) as f:
        return _read_text(f, encoding, str(path), max_chars)


def _read_text(binary, encoding: str | None, name: str, max_chars: int | None = None) -> str:
    """``read_text_file`` of the input open in ``binary``, named ``name`` in errors: all of it, or
    its first ``max_chars + 1`` characters, read a block at a time. The encoding is detected as
    for tables (``sniff_encoding``: a BOM, UTF-16 without one, UTF-8, else cp1252), a bad byte
    read as cp1252, and binary bytes refused, all judged from the first block."""
    # a block holds at least max_chars + 1 characters of any encoding (4 bytes a character at
    # most, after a BOM of 4 bytes at most), and the sample the encoding is detected from
    block = -1 if max_chars is None else max(SAMPLE_BYTES, 4 * (max_chars + 1) + 4)
    data = binary.read(block)
    enc = encoding or sniff_encoding(data[:SAMPLE_BYTES])
    _check_encoding(enc)
    if _is_binary(data, enc):
        raise BadInputFile(f"{name} is binary, not a text file")
    decoder = codecs.getincrementaldecoder(enc)(errors=decode_errors(enc))
    text = decoder.decode(data, final=max_chars is None or not data)
    while max_chars is not None and data and len(text) <= max_chars:
        data = binary.read(block)  # the end, or an encoding of more than 4 bytes a character (utf-7)
        text += decoder.decode(data, final=not data)
    return text if max_chars is None else text[: max_chars + 1]


def argument_text(text: str) -> str:
    """Text given on the command line as Python received it, its bytes that were not UTF-8 (kept by
    Python as lone surrogates) read as cp1252, so that whatever prints it writes valid UTF-8."""
    if not _ESCAPED_BYTE.search(text):
        return text
    return text.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="pmtype-cp1252")


class _Prepend(io.RawIOBase):
    def __init__(self, head: bytes, rest):
        self.head, self.rest = head, rest

    def readable(self):
        return True

    def readinto(self, b):
        if self.head:
            n = min(len(b), len(self.head))
            b[:n], self.head = self.head[:n], self.head[n:]
            return n
        data = self.rest.read(len(b))
        b[: len(data)] = data
        return len(data)


#: The key, in a chunk's ``attrs``, of the format its bytes told where its name told another
#: (Parquet on standard input, through a pipe, or in a file named .csv; JSON Lines on standard
#: input or through a pipe).
SNIFFED_FORMAT = "pmtype_sniffed_format"


def read_chunks(path, fmt: str | None = None, chunk_size: int = 2000,
                encoding: str | None = None, numbers: list[int] | None = None) -> Iterator[pd.DataFrame]:
    """The table at ``path`` as DataFrames of at most ``chunk_size`` rows, every cell a string.

    ``numbers``, if given, gets the row number of every row of a CSV or TSV table once all are read:
    its record in the file, as a spreadsheet numbers it (blank lines counted, the header's too)."""
    fmt = detect_input_format(path, fmt)
    if fmt == "parquet":
        if encoding:
            raise BadOption("--encoding is for CSV, TSV and JSON Lines; Parquet holds its text as UTF-8")
        yield from _read_parquet(path, chunk_size)
        return
    binary = _open_binary(path)
    if not isinstance(binary, gzip.GzipFile) and is_parquet(binary):
        # Parquet on standard input or through a pipe, which has no name to tell its format by,
        # or in a file named as text (a .csv that holds Parquet): its magic bytes tell
        with binary:
            for chunk in _read_parquet(path, chunk_size, binary if is_stream(path) else None):
                chunk.attrs[SNIFFED_FORMAT] = "parquet"  # for a caller that took the name's format
                yield chunk
        return
    keys, quoting = None, None
    if fmt == "tsv" and not is_stream(path):
        # A file can be read twice: a first pass tells whether its quotes are quoting (below)
        quoting = tsv_quoting(binary, encoding)
        binary = _open_binary(path)
    if fmt == "jsonl" and not is_stream(path):
        # A file can be read twice: a first pass finds every key (and a bad line, before any
        # work), so that every chunk has the same columns whichever rows hold which keys.
        keys = jsonl_keys(binary, encoding)
        binary = _open_binary(path)
    with _decoded(binary, encoding) as (stream, head, whole):
        if fmt == "csv" and is_stream(path) and head.lstrip("\ufeff \t\r\n").startswith("{"):
            # JSON Lines on standard input or through a pipe, which has no name to tell its format by:
            # its first character tells (no CSV header starts with a JSON object)
            for chunk in _read_jsonl(stream, chunk_size, None):
                chunk.attrs[SNIFFED_FORMAT] = "jsonl"
                yield chunk
        elif fmt == "jsonl":
            yield from _read_jsonl(stream, chunk_size, keys)
        else:
            if quoting is None:  # standard input or a pipe, read once: judged by its first 64 KB
                quoting = _quoting_of(io.StringIO(head, newline=""), whole) if fmt == "tsv" \
                    else csv.QUOTE_MINIMAL
            yield from _read_delimited(stream, "\t" if fmt == "tsv" else ",", chunk_size, head, quoting, numbers)


def tsv_quoting(raw, encoding: str | None = None) -> int:
    """How the quotes of the TSV file open in ``raw`` (binary, at its start) are read; ``raw`` is closed.

    ``csv.QUOTE_MINIMAL``, as pandas and pmtype write TSV: a cell that starts with
    a quote is quoted (and may hold tabs and line breaks), unless a quote that
    opens a cell is not closed as quoting closes it (``"Director" of…``, or never
    closed). Then the file was written without quoting, as TSV is written by many
    tools (PostgreSQL's COPY, spreadsheets' "tab-separated text"): every line is a
    row and quotes are text, ``csv.QUOTE_NONE``. Read as quoting, such a quote
    would swallow the rows after it up to the next quote, silently. The file is
    read once, as ``read_chunks`` reads it (gzip, the encoding given or detected).
    """
    with _decoded(_gunzipped(raw), encoding) as (stream, _, _):
        return _quoting_of(stream)


def _quoting_of(stream, whole: bool = True) -> int:
    """``tsv_quoting`` of the text in ``stream``; not ``whole``: a sample that may end inside a quoted cell."""
    limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)  # a posting is one cell, longer than the csv module's 128 KB guard
    try:
        for _ in csv.reader(stream, delimiter="\t", strict=True):
            pass
    except csv.Error as e:
        cut_short = not whole and str(e) == "unexpected end of data"
        return csv.QUOTE_MINIMAL if cut_short else csv.QUOTE_NONE
    finally:
        csv.field_size_limit(limit)
    return csv.QUOTE_MINIMAL


@contextmanager
def _decoded(binary, encoding: str | None):
    """The table open in ``binary`` as text, its first ``SAMPLE_BYTES`` decoded and whether they are all (``_text_stream``);
    both closed at the end. A decoding error or damaged gzip met on the way is a one-line ``BadInputFile``."""
    try:
        stream, head, whole = _text_stream(binary, encoding)
        try:
            yield stream, head, whole
        finally:
            stream.close()
    except UnicodeError as e:  # an --encoding the bytes do not fit (UTF-16 without its BOM, say)
        raise BadInputFile(f"the file cannot be decoded{' as ' + encoding if encoding else ''}: "
                           f"{one_line(e)}") from None
    except (OSError, EOFError, zlib.error) as e:
        if not isinstance(binary, gzip.GzipFile):
            raise
        raise gzip_damaged(e) from None
    finally:
        binary.close()


def one_line(error: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none), for a one-line error."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _read_delimited(stream, sep: str, chunk_size: int, head: str,
                    quoting: int = csv.QUOTE_MINIMAL, numbers: list[int] | None = None) -> Iterator[pd.DataFrame]:
    raw, one_column = _header_and_blank_rows(head, sep, quoting)
    records = None if numbers is None else _Records(stream, quoting != csv.QUOTE_NONE)
    stream = stream if records is None else records
    try:
        reader = pd.read_csv(stream, sep=sep, dtype=str, keep_default_na=False, na_filter=False,
                             chunksize=chunk_size, engine="c", on_bad_lines="error", quoting=quoting, **one_column)
        header: list[str] | None = None
        names: list[str] = []
        rows_seen = False
        for chunk in reader:
            if header is None:
                if reason := first_row_too_long(chunk, sep):
                    raise BadInputFile(unreadable(sep, reason))
                header = list(chunk.columns)
                aligned = raw is not None and len(raw) == len(header)
                if aligned:
                    # a real "x.1" beside "x" is fine, and so are blank names, which pandas names apart
                    check_header(raw, renamed_by_pandas=False, blanks_named_apart=True)
                else:
                    check_header(header)
                names = names_as_written(header, raw)
            if names != header:
                chunk.columns = names
            if len(chunk):
                rows_seen = True
                yield chunk
        if not rows_seen:
            raise BadInputFile("the file has no rows")
        if records is not None:
            numbers.extend(records.row_numbers(every_line=bool(one_column)))
    except pd.errors.EmptyDataError:
        raise BadInputFile("the file is empty") from None
    except pd.errors.ParserError as e:
        if _READ_FAILED in str(e):
            # pandas' C reader drops an exception raised by the stream's read when it was set
            # without a value, and says this instead: the KeyboardInterrupt that Python's own
            # Ctrl-C handler sets while the read checks for signals (any other exception is an
            # instance, which pandas raises as it is). A Ctrl-C while reading, not a broken file.
            raise KeyboardInterrupt from None
        raise BadInputFile(unreadable(sep, parser_reason(e, raw, sep))) from None


def names_as_written(header: list[str], raw: list[str] | None) -> list[str]:
    """The column names pandas read from a CSV or TSV header (``header``), a blank name given back as
    written (``raw``: the header's names as written, where known).

    pandas names a blank header cell 'Unnamed: i' ('Unnamed: i.1' where the header has that name
    too); one blank name is given back, as a pandas index written to CSV has it, told by its place
    where the header as written has as many names as pandas read. More than one (the trailing commas
    of a spreadsheet) keep pandas' names for them, 'Unnamed: 2', 'Unnamed: 3'…
    """
    blanks = [i for i, name in enumerate(raw or []) if name == ""]
    blank = blanks[0] if len(blanks) == 1 else None
    aligned = raw is not None and len(raw) == len(header)
    return [("" if i == blank and (aligned or c == f"Unnamed: {i}") else c) for i, c in enumerate(header)]


def first_row_too_long(frame: pd.DataFrame, sep: str = ",") -> str | None:
    """What to say of a table pandas read (its first rows, at least; with separator ``sep``) with a first
    row under the header longer than the header, or None. pandas reads such a row as an index column
    plus the row, shifting every cell, silently: it is refused rather than the columns mislabelled.
    A header of one column holding semicolons is named (``semicolon_hint``)."""
    if isinstance(frame.index, pd.RangeIndex):
        return None
    width = len(frame.columns) + frame.index.nlevels
    return (f"the first row under the header has {width} fields but the header has {len(frame.columns)}"
            f"{semicolon_hint([str(c) for c in frame.columns], sep)}")


def unreadable(sep: str, reason: str) -> str:
    """The message for a CSV or TSV table (its separator ``sep``) that cannot be read, and why."""
    return f"not a readable {'TSV' if sep == chr(9) else 'CSV'} file: {reason}"


def check_first_row(raw, fmt: str, table: TextTable) -> None:
    """The one-line ``BadInputFile`` that ``read_chunks`` gives a CSV or TSV table (``fmt``) whose first
    row under the header is longer than the header (``first_row_too_long``), for the table open in
    ``raw`` (binary, at its start; ``raw`` is closed) as ``table`` tells to read it. Judged from its
    first ``SAMPLE_BYTES``, read as ``read_chunks`` reads them: a first row they do not hold whole,
    or cannot read, is judged where the table is read."""
    sep = "\t" if fmt == "tsv" else ","
    with _decoded(_gunzipped(raw), table.encoding) as (_, head, _):
        one_column = _header_and_blank_rows(head, sep, table.quoting)[1]
        try:
            first = pd.read_csv(io.StringIO(head, newline=""), sep=sep, dtype=str, keep_default_na=False,
                                na_filter=False, engine="c", quoting=table.quoting, nrows=1, **one_column)
        except (pd.errors.ParserError, pd.errors.EmptyDataError):
            return
    if reason := first_row_too_long(first, sep):
        raise BadInputFile(unreadable(sep, reason))


#: What pandas' CSV reader says when a read of its source raised an exception it did not keep.
_READ_FAILED = "Calling read(nbytes) on source failed"


class _Records(io.TextIOBase):
    """The text stream ``stream``, which notes, as it is read, which of its records (lines, but for the
    line breaks inside a quoted cell; not ``quoted``: every line) are blank."""

    _SPECIAL, _NEWLINE = re.compile(r'["\n]'), re.compile("\n")

    def __init__(self, stream, quoted: bool = True):
        self.stream, self.quoted = stream, quoted
        self.blank: list[bool] = []  # for each record so far
        self._odd, self._start = False, ""  # inside a quoted cell; the record's first two characters

    def readable(self) -> bool:
        return True

    def read(self, n: int | None = -1) -> str:
        text = self.stream.read(n)
        at = 0
        for m in (self._SPECIAL if self.quoted else self._NEWLINE).finditer(text):
            self._start = (self._start + text[at:min(m.start(), at + 2)])[:2]
            at = m.end()
            if m.group() == '"':
                self._odd, self._start = not self._odd, "x"
            elif not self._odd:
                self.blank.append(self._start in ("", "\r"))
                self._start = ""
        self._start = (self._start + text[at:at + 2])[:2]
        if not text and self._start:  # the last record, with no line break after it
            self.blank.append(False)
            self._start = ""
        return text

    def row_numbers(self, every_line: bool) -> list[int]:
        """The record numbers of the rows after the header (the first record not blank): every
        record's (a one-column table, whose blank line is a row), else those not blank."""
        header = next((i for i, blank in enumerate(self.blank) if not blank), len(self.blank))
        return [i + 1 for i in range(header + 1, len(self.blank)) if every_line or not self.blank[i]]


def _header_and_blank_rows(head: str, sep: str, quoting: int = csv.QUOTE_MINIMAL) -> tuple[list[str] | None, dict]:
    """The header's names as written (``_raw_header``) and the options of ``pandas.read_csv`` that
    keep a blank line as a row where it is one.

    A one-column table writes an empty cell as a blank line (spreadsheets do): it is a row with
    empty text, not a line pandas may skip; with more columns a blank line holds no row (pandas,
    spreadsheets). The blank lines before the header are skipped, as pandas skips them."""
    before = _blank_lines_before_header(head)
    raw = _raw_header(head, sep, quoting, before)
    return raw, ({"skip_blank_lines": False, "skiprows": before} if raw is not None and len(raw) == 1 else {})


def header_and_blank_rows(head: str, sep: str, quoting: int = csv.QUOTE_MINIMAL) -> tuple[list[str] | None, dict]:
    """The header's names as written and the options of ``pandas.read_csv`` that read blank lines
    as ``read_chunks`` does, for the table whose start (its header at least) is ``head``:
    ``_header_and_blank_rows``."""
    return _header_and_blank_rows(head, sep, quoting)


def _raw_header(head: str, sep: str, quoting: int = csv.QUOTE_MINIMAL, before: int = 0) -> list[str] | None:
    """The header's names as written (pandas renames a blank one and repeated ones), where the
    header lies in ``head``, the table's first 64 KB, after ``before`` blank lines."""
    try:
        reader = csv.reader(io.StringIO(head, newline=""), delimiter=sep, quoting=quoting)
        return next(itertools.islice(reader, before, None), None)
    except csv.Error:
        return None


def _blank_lines_before_header(head: str) -> int:
    """How many blank lines (pandas skips them) come before the header in ``head``, the table's first 64 KB."""
    lines = head.removeprefix("\ufeff").split("\n")
    return next((n for n, line in enumerate(lines) if line not in ("", "\r")), 0)


def parser_reason(error: Exception, header: list[str] | None = None, sep: str = ",") -> str:
    """pandas' tokenizer message in pmtype's terms: rows counted from the header, row 1.

    ``header``: the header's names as written, where known; pandas counts the fields it expects
    from the first rows, which can be more than the header's (a file of one column whose cells hold
    commas). A header of one column holding semicolons is named: a file separated by them.
    """
    reason = one_line(error)
    quote = re.search(r"EOF inside string starting at row (\d+)", reason)
    if quote:
        return f"a quote (\") opened in row {int(quote.group(1)) + 1} is never closed"
    fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", reason)
    if fields:
        expected, row, saw = fields.groups()
        expected = len(header) if header else expected
        return f"row {row} has {saw} fields but the header has {expected}{semicolon_hint(header, sep)}"
    return reason.removeprefix("Error tokenizing data. C error: ")


def check_header(header: list[str], renamed_by_pandas: bool = True, blanks_named_apart: bool = False) -> None:
    """A header that repeats a column name is a one-line ``BadInputFile``.

    ``renamed_by_pandas``: pandas' CSV reader renames a repeated ``x`` to ``x.1``, so such
    a pair counts as a repeat too. ``blanks_named_apart``: the header of a CSV or TSV file,
    whose blank names pandas' reader names apart itself (``Unnamed: 2``…), so they are no
    repeat; repeated elsewhere (Parquet), they are counted in the message, where an empty
    list of names would tell nothing.
    """
    if blanks_named_apart:
        header = [c for c in header if c != ""]
    dupes = sorted({c for c in header if header.count(c) > 1})
    mangled = [c for c in header if renamed_by_pandas and re.search(r"\.\d+$", c)
               and c.rsplit(".", 1)[0] in header]
    if dupes == [""]:
        raise BadInputFile(f"the header has {header.count('')} blank column names; name them")
    if dupes or mangled:
        names = dupes or sorted({c.rsplit(".", 1)[0] for c in mangled})
        raise BadInputFile(f"the header repeats column names: {', '.join(n or '(blank)' for n in names)}")


def _jsonl_rows(stream) -> Iterator[tuple[int, dict]]:
    """The line number and JSON object of every line of ``stream`` that is not blank."""
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            raise BadInputFile(f"line {number} is not valid JSON") from None
        except RecursionError:
            raise BadInputFile(f"line {number} nests JSON values too deeply to read") from None
        if not isinstance(row, dict):
            raise BadInputFile(f"line {number} is not a JSON object")
        if "\\u" in line and _SURROGATE_ESCAPE.search(line):  # the usual line is not walked
            try:
                row = _without_surrogates(row)
            except RecursionError:
                raise BadInputFile(f"line {number} nests JSON values too deeply to read") from None
        yield number, row


#: Half of a UTF-16 surrogate pair: in a Python string, a lone one (``json`` joins the halves of a pair).
_SURROGATE = re.compile("[\ud800-\udfff]")
#: A JSON escape of half a surrogate pair (``\ud83d``), what a lone one in decoded JSON comes from.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _without_surrogates(value):
    """``value`` (decoded JSON) with each lone surrogate in its strings, keys too, at any depth, as
    U+FFFD: valid JSON (``"\\ud83d"``, an emoji cut in half by JavaScript) that no UTF-8 output can
    hold, so it is a bad character like a bad byte, replaced rather than stopping the run."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    return value


def _jsonl_keys(stream) -> list[str]:
    """Every key of the JSON Lines in ``stream``, in the order they first appear."""
    keys: dict[str, None] = {}
    for _, row in _jsonl_rows(stream):
        keys.update(dict.fromkeys(row))
    return list(keys)


#: ``DataFrame.attrs`` key of a JSON Lines chunk whose rows bring keys the chunks before it
#: lacked: each such key and the line it first appears on (see ``_read_jsonl``).
NEW_KEYS = "pmtype_new_keys"

#: ``DataFrame.attrs`` key of a JSON Lines chunk some of whose rows lack keys that are its columns:
#: each such key and the positions of the rows that lack it, so that JSON Lines output leaves the key
#: out of those rows as the input did (a key written null stays null), named or piped alike.
LACKED_KEYS = "pmtype_lacked_keys"


def _read_jsonl(stream, chunk_size: int, keys: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """The JSON Lines in ``stream`` as chunks whose columns are ``keys`` (every key of the file,
    found by a first pass), a key a row lacks read as None.

    Without ``keys`` (standard input, a pipe: read once), the columns are the keys of the rows
    so far; a chunk that brings one the chunks before it lacked records it under ``NEW_KEYS``,
    for the writers of CSV, TSV and Parquet, whose columns are set, to refuse.
    """
    columns = dict.fromkeys(keys or ())
    rows: list[dict] = []
    new: dict[str, int] = {}
    any_rows = False
    for number, row in _jsonl_rows(stream):
        if keys is None:
            for key in row:
                if key not in columns:
                    columns[key] = None
                    if any_rows:
                        new[key] = number
        rows.append(row)  # values keep their JSON types, so that they are written back as they were
        if len(rows) >= chunk_size:
            any_rows = True
            yield _jsonl_frame(rows, list(columns), new)
            rows, new = [], {}
    if rows:
        any_rows = True
        yield _jsonl_frame(rows, list(columns), new)
    if not any_rows:
        raise BadInputFile("the file has no rows")


def _jsonl_frame(rows: list[dict], columns: list[str], new: dict[str, int]) -> pd.DataFrame:
    # built from lists: pandas would fill a key a row lacks with NaN, a number, where None is empty
    frame = pd.DataFrame([[row.get(k) for k in columns] for row in rows], columns=columns, dtype=object)
    if new:
        frame.attrs[NEW_KEYS] = new
    lacked = {k: tuple(i for i, row in enumerate(rows) if k not in row) for k in columns}
    lacked = {k: where for k, where in lacked.items() if where}
    if lacked:
        frame.attrs[LACKED_KEYS] = lacked
    return frame


#: Values that hold others: JSON objects and lists, and what pandas makes of Parquet's structs
#: (dicts), lists (numpy arrays) and maps (lists of tuples).
NESTED = (dict, list, tuple, np.ndarray)


def _cell(v):
    """A value as one text cell (for CSV, TSV and Parquet output): a nested one as JSON."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, NESTED):
        return strict_json(v, ensure_ascii=False)
    return str(v)


def read_csv_block(source, **kwargs) -> pd.DataFrame:
    """``pandas.read_csv``, as the reader of Dask's CSV reader (``dask.dataframe.io.csv.read_pandas``).

    A Dask worker that runs it has imported this module, so the ``pmtype-cp1252``
    error handler that ``encoding_errors`` names is registered there.
    """
    return pd.read_csv(source, **kwargs)


SCAN_BYTES = 4 << 20


def row_ranges(raw, blocksize: int, piece: int = SCAN_BYTES,
               quoted: bool = True) -> tuple[int, list[tuple[int, int]]]:
    """Where to cut the CSV or TSV file open in ``raw`` (binary) into blocks of about ``blocksize`` bytes.

    Returns the offset just past the header (the first record after any blank
    lines) and the byte ranges ``[start, end)`` of the rows after it, in order,
    up to the end of the file. A range ends just after the first b"\\n" at or
    after a multiple of ``blocksize`` that ends a row: quotes inside a quoted
    cell are doubled (RFC 4180), so a newline ends a row when the number of
    b'"' bytes before it is even. For encodings in which those two bytes are
    always those characters (UTF-8, cp1252…; not UTF-16). Not ``quoted`` (a TSV
    file whose quotes are text, ``tsv_quoting``): every b"\n" ends a row. The
    file is read once, ``piece`` bytes at a time; if it ends inside an open
    quote, the last range runs to its end.
    """
    ends: list[int] = []
    buf = raw.read(max(piece, SAMPLE_BYTES))  # the blank lines before the header, as inspect_text_table sees them
    target = len(codecs.BOM_UTF8) if buf.startswith(codecs.BOM_UTF8) else 0
    while (j := buf.find(b"\n", target)) >= 0 and buf[target:j] in (b"", b"\r"):
        target = j + 1  # a blank line before the header
    offset, odd = 0, False  # where buf starts in the file; whether the quotes before it are odd
    while buf:
        i = 0
        while True:
            skip_to = min(max(target - offset, i), len(buf))
            if quoted:  # not quoted: b'"' is text, never counted, and odd stays False
                odd ^= buf.count(b'"', i, skip_to) % 2 == 1
            i = skip_to
            if odd:  # inside a quoted cell, which can end only at a quote
                k = buf.find(b'"', i)
                if k < 0:
                    break
                odd, i = False, k + 1
                continue
            j = buf.find(b"\n", i)
            k = buf.find(b'"', i, len(buf) if j < 0 else j) if quoted else -1
            if k >= 0:
                odd, i = True, k + 1
            elif j >= 0:
                ends.append(offset + j + 1)
                target = -(-(offset + j + 1) // blocksize) * blocksize
                i = j + 1
            else:
                break  # no quote in buf[i:], so odd holds at its end
        offset += len(buf)
        buf = raw.read(piece)
    bounds = (ends or [offset]) + ([] if ends and ends[-1] == offset else [offset])
    return bounds[0], list(zip(bounds, bounds[1:])) or [(offset, offset)]


def jsonl_keys(raw, encoding: str | None = None) -> list[str]:
    """Every key of the JSON Lines table open in ``raw`` (binary, at its start), in the order they
    first appear, the file read once as ``read_chunks`` reads it (gzip, the encoding given or
    detected, a bad byte as cp1252).

    A line that is not a JSON object, bytes the encoding does not fit and damaged gzip are
    one-line ``BadInputFile`` errors, as ``read_chunks`` gives them. ``raw`` is closed.
    """
    with _decoded(_gunzipped(raw), encoding) as (stream, _, _):
        return _jsonl_keys(stream)


def read_jsonl_block(source, columns: list[str], **kwargs) -> pd.DataFrame:
    """JSON Lines as ``read_chunks`` reads them, as the engine of ``dask.dataframe.read_json``.

    ``source`` is text: a block of whole lines, or a whole file. The frame has exactly
    ``columns`` (every key of the input, ``jsonl_keys``), in that order, a key a row lacks
    None, and the values as JSON gives them (not pandas' reading of them). Dask's own
    arguments (``orient``, ``lines``) are ``kwargs``, and have no use here. A Dask worker
    that runs it has imported this module, so ``pmtype-cp1252`` is registered there.
    """
    rows = [row for _, row in _jsonl_rows(io.StringIO(source.read(), newline=""))]
    return _jsonl_frame(rows, list(columns), {})


def _parquet_file(source):
    """``pyarrow.parquet.ParquetFile`` of ``source``; a file that is not Parquet is a one-line ``BadInputFile``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(source)
    except (pa.ArrowInvalid, OSError) as e:
        if _gzipped_file(source):
            raise gzipped_parquet() from None
        raise BadInputFile(f"not a readable Parquet file: {e}") from None


def _gzipped_file(source) -> bool:
    """Whether the file at ``source`` (a path, or a binary file that can seek) starts with gzip's magic bytes."""
    try:
        if isinstance(source, (str, os.PathLike)):
            with open(source, "rb") as f:
                return f.read(2) == b"\x1f\x8b"
        source.seek(0)
        return _head(source, 2) == b"\x1f\x8b"
    except (OSError, ValueError, AttributeError):
        return False


def is_parquet(raw) -> bool:
    """Whether the file open in ``raw`` (binary, at its start; left there) starts as Parquet does."""
    return _head(raw, 4) == PARQUET_MAGIC


@dataclass(frozen=True)
class ParquetLayout:
    """How ``read_chunks`` reads a Parquet file, from its footer: the columns it gives, whether the
    file holds a row, and a named index pandas kept as a range in its metadata only (``_stored_columns``)."""

    columns: list[str]
    rows: bool
    ranged: tuple[str, int, int] | None = None  # (name, start, step), given as the last column
    dictionaries: tuple[tuple[str, object], ...] = ()  # (name, Arrow type of its values) of dictionary columns


def inspect_parquet(raw) -> ParquetLayout:
    """How the Parquet file open in ``raw`` is read (``ParquetLayout``), from its footer only."""
    import pyarrow as pa

    pf = _parquet_file(raw)
    names = list(pf.schema_arrow.names)
    ranged = _stored_columns(pf)[1]
    ranged = ranged if ranged and ranged[0] not in names else None
    dictionaries = tuple((f.name, f.type.value_type) for f in pf.schema_arrow if pa.types.is_dictionary(f.type))
    return ParquetLayout(names + ([ranged[0]] if ranged else []), pf.metadata.num_rows > 0, ranged, dictionaries)


def parquet_frame(batch, metadata: dict | None, ranged: tuple[str, int, int] | None, first_row: int) -> pd.DataFrame:
    """A record batch (or table) of a Parquet file as ``read_chunks`` gives it: with pandas' metadata
    less its index (``_stored_columns``), and a named range index as a last column, counted from
    the batch's ``first_row`` in the file."""
    frame = (batch if metadata is None else batch.replace_schema_metadata(metadata)).to_pandas(
        types_mapper=nullable_type)
    if ranged:
        name, start, step = ranged
        frame[name] = start + step * np.arange(first_row, first_row + len(frame), dtype=np.int64)
    return frame


def nullable_type(arrow_type):
    """pandas' nullable type for Arrow's integers and booleans, and the Arrow type itself for its
    decimals, dates, times and bytes (None: pyarrow's usual choice).

    Without it a column of integers or booleans that holds a null comes as floats (``1.0``) or as
    objects (written to Parquet as text), and one without a null as numpy's own type; decimals,
    dates and times come as Python objects, typed again from each chunk's values when written (a
    decimal's precision from the first chunk, refusing a wider value later; a date column empty in
    the first chunk as text): a column would change type, and its cells their text, with the chunk
    its rows fall in. Bytes as objects would be taken for text by the dask engine, which writes
    text columns as text, and decoded (failing on bytes that are no UTF-8).
    """
    import pyarrow as pa

    if pa.types.is_decimal(arrow_type) or pa.types.is_date(arrow_type) or pa.types.is_time(arrow_type):
        return pd.ArrowDtype(arrow_type)
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        return pd.ArrowDtype(arrow_type)
    if pa.types.is_fixed_size_binary(arrow_type) or pa.types.is_binary_view(arrow_type):
        return pd.ArrowDtype(pa.binary())  # (which Dask cannot name in its metadata)
    if pa.types.is_boolean(arrow_type):
        return pd.BooleanDtype()
    if pa.types.is_integer(arrow_type):
        unsigned = "U" if pa.types.is_unsigned_integer(arrow_type) else ""
        return pd.api.types.pandas_dtype(f"{unsigned}Int{arrow_type.bit_width}")  # Int64, UInt8…
    return None


def _read_parquet(path, chunk_size: int, pipe=None) -> Iterator[pd.DataFrame]:
    """The Parquet file at ``path`` in chunks; ``pipe``: standard input or the pipe at ``path``,
    already open (and looked into)."""
    with ExitStack() as cleanup:
        if is_stream(path):  # standard input, a pipe: Parquet's footer is at its end, so keep it on disk
            source = cleanup.enter_context(tempfile.TemporaryFile())
            if pipe is None:
                pipe = sys.stdin.buffer if str(path) == "-" else cleanup.enter_context(_open_file(Path(path)))
            shutil.copyfileobj(pipe, source)
            source.seek(0)
        else:
            _check_input_file(Path(path))
            source = str(path)
        pf = _parquet_file(source)
        names = list(pf.schema_arrow.names)
        check_header(names, renamed_by_pandas=False)
        metadata, ranged = _stored_columns(pf)
        ranged = ranged if ranged and ranged[0] not in names else None
        rows = 0
        for batch in pf.iter_batches(batch_size=chunk_size):
            frame = parquet_frame(batch, metadata, ranged, rows)
            rows += len(frame)
            yield frame
        if not rows:
            raise BadInputFile("the file has no rows")


def _stored_columns(pf) -> tuple[dict | None, tuple[str, int, int] | None]:
    """The Parquet file's metadata with pandas' index left out, and the name, start and step of a
    named index pandas kept in its metadata only, as a range (``set_index`` on consecutive numbers).

    pandas' metadata would make a stored index column (say 'id', after ``set_index``) the frame's
    index, which is not written out; without its index, the columns come as stored, in the file's
    order, still with pandas' types (nullable integers). None: the file has no pandas metadata.
    """
    metadata = dict(pf.schema_arrow.metadata or {})
    try:
        pandas = json.loads(metadata[b"pandas"])
        index, pandas["index_columns"] = pandas["index_columns"], []
        for column in pandas["columns"]:
            if column["name"] is None:  # an index without a name: pandas' own name for it
                column["name"] = column["field_name"]
        metadata[b"pandas"] = json.dumps(pandas).encode()
        ranged = next(((str(i["name"]), int(i["start"]), int(i["step"])) for i in index
                       if isinstance(i, dict) and i.get("kind") == "range" and i.get("name") is not None), None)
    except (KeyError, ValueError, TypeError):  # none, or not as pandas writes it: read as it is
        return None, None
    return metadata, ranged


# --- writing -----------------------------------------------------------------

def _flat(frame: pd.DataFrame, strings: bool = False) -> pd.DataFrame:
    """``frame`` with the nested values (``NESTED``) in its object columns as JSON text.

    ``strings`` turns the numbers and booleans of those columns into text too, so
    that Parquet gets one type per column (JSON Lines input mixes them freely).
    """
    columns = [i for i, dtype in enumerate(frame.dtypes) if dtype == object]
    if not columns:
        return frame
    kinds = (*NESTED, int, float, np.generic) if strings else NESTED  # bool is an int

    def flat(v):
        if isinstance(v, float) and v != v:
            return None if strings else v
        return _cell(v) if isinstance(v, kinds) else v

    frame = frame.copy()
    for i in columns:
        column = frame.iloc[:, i]  # (Series.map would turn a column of 1, 2, 3.5 into floats)
        frame.isetitem(i, pd.Series([flat(v) for v in column], index=column.index, dtype=object))
    return frame


def nested_as_json(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the nested values of its object columns (lists, dicts, arrays) as JSON text,
    and the other values of those columns as text, as pmtype writes them in every output format."""
    return _flat(frame, strings=True)


def decimals_as_text(frame: pd.DataFrame, column: str, digits: int = 4) -> pd.DataFrame:
    """``frame`` with the numbers of ``column`` as text with ``digits`` decimals (missing: empty),
    as pmtype writes probabilities in CSV and TSV."""
    frame = frame.copy()
    frame[column] = pd.Series([f"{v:.{digits}f}" if v == v else "" for v in frame[column]],
                              index=frame.index, dtype=object)
    return frame


def strict_json(value, **dumps_options) -> str:
    """``value`` as JSON that any parser reads (``json_value``, then ``json.dumps`` with
    ``allow_nan=False``): every JSON text pmtype writes is made here."""
    return json.dumps(json_value(value), allow_nan=False, **dumps_options)


def json_value(v):
    """``v`` as a value ``json.dumps`` writes as strict JSON, at any depth: numpy arrays and tuples
    as lists, numpy numbers as numbers, a missing value (NaN, NA, NaT) as null, a date as ISO text.
    A number that is not finite (NaN, an infinity) is null too: Python would write the bare tokens
    ``NaN`` and ``Infinity``, which no JSON standard allows and strict parsers (jq,
    ``JSON.parse``) refuse, so pmtype's JSON is written with ``allow_nan=False`` after this
    (``strict_json``)."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if v is None or isinstance(v, (str, int, float)):
        return v
    if isinstance(v, dict):
        return {k: json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [json_value(x) for x in v]
    if v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        return json_value(v.item())
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def _write_jsonl(frame: pd.DataFrame, stream) -> None:
    """One JSON object a line, each value as it was read (pandas' ``to_json`` would round floats),
    and a key a JSON Lines row lacked (``LACKED_KEYS``) left out of it still."""
    columns = [str(c) for c in frame.columns]
    lacked = {str(k): set(where) for k, where in frame.attrs.get(LACKED_KEYS, {}).items()}
    for i, values in enumerate(frame.itertuples(index=False, name=None)):
        stream.write(strict_json({k: v for k, v in zip(columns, values)
                                 if not (v is None and i in lacked.get(k, ()))},
                                ensure_ascii=False, separators=(",", ":"), default=str))
        stream.write("\n")


#: A quoted cell, or a line end outside one, in CSV or TSV written with quotes doubled (RFC 4180).
_QUOTED_OR_ROW_END = re.compile(r'("[^"]*(?:""[^"]*)*")|\r\n')


def delimited_text(frame: pd.DataFrame, fmt: str, header: bool) -> str:
    """``frame`` as CSV or TSV text (``fmt``), rows ended by ``\\n``, with ``header`` or without.

    The csv module quotes a cell holding a character of its line end only, so a lone
    ``\\r`` in a cell would be written bare and read back as a line end, cutting the row.
    The text of a chunk that holds one is written again with ``\\r\\n`` line ends, which
    quotes every cell holding either character, and its row ends (the ones outside quotes)
    are made ``\\n``: those cells are quoted, every other byte is as a chunk without one has it.
    """
    options = {"sep": "\t" if fmt == "tsv" else ",", "index": False, "header": header}
    frame = _flat(frame)
    text = frame.to_csv(lineterminator="\n", **options)
    if "\r" not in text:  # one search of the text written: the usual chunk costs nothing more
        return text
    text = frame.to_csv(lineterminator="\r\n", **options)
    return _QUOTED_OR_ROW_END.sub(lambda m: m.group(1) or "\n", text)


def _arrow_table(frame: pd.DataFrame, schema=None):
    """``frame`` as an Arrow table in ``schema``, and the schema (None: the one this first chunk sets)."""
    import pyarrow as pa

    table = pa.Table.from_pandas(_flat(frame, strings=True), preserve_index=False)
    if schema is None:
        # a column with no value in the first chunk would be typed null, and refuse later text
        schema = pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f
                            for f in table.schema], metadata=table.schema.metadata)
    return table.cast(schema), schema


def _set_columns(frame: pd.DataFrame, columns: list | None) -> pd.DataFrame:
    """``frame`` with ``columns`` (the ones the first chunk wrote; None: it is the first), a
    column it lacks empty. CSV, TSV and Parquet have one set of columns: a chunk that brings
    another (a key that JSON Lines read once, from a pipe, first has after the first chunk)
    is a one-line ``BadInputFile``, where writing it would shift cells or fail."""
    if columns is None or list(frame.columns) == columns:
        return frame
    extra = [c for c in frame.columns if c not in columns]
    if extra:
        lines = frame.attrs.get(NEW_KEYS, {})
        named = [f"'{c}'" + (f" on line {lines[c]}" if c in lines else "") for c in extra]
        shown = ", ".join(named[:3]) + (f" and {len(named) - 3} more" if len(named) > 3 else "")
        raise BadInputFile(f"{'a key appears' if len(extra) == 1 else 'keys appear'} after the first rows "
                           f"set the columns: {shown}; standard input and pipes are read only once, so give "
                           "the input as a file, or write JSON Lines output")
    return frame.reindex(columns=columns, fill_value=None)


class TableWriter:
    """Writes DataFrame chunks to one table, in order."""

    def __init__(self, stream_or_path, fmt: str):
        self.fmt = fmt
        self.target = stream_or_path
        self._started = False
        self._parquet = None
        self._columns = None  # CSV, TSV and Parquet: the first chunk's

    def write(self, frame: pd.DataFrame) -> None:
        if self.fmt != "jsonl":  # JSON Lines takes any keys, row by row
            frame = _set_columns(frame, self._columns)
            self._columns = list(frame.columns)
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            table, schema = _arrow_table(frame, self._parquet.schema if self._parquet is not None else None)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.target, schema)
            self._parquet.write_table(table)
        elif self.fmt == "jsonl":
            _write_jsonl(frame, self.target)
        else:
            self.target.write(delimited_text(frame, self.fmt, header=not self._started))
        self._started = True

    def write_arrow(self, table) -> None:
        """Parquet: write an Arrow table already in this file's schema (its first one sets it)."""
        import pyarrow.parquet as pq

        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self.target, table.schema)
        self._parquet.write_table(table)
        self._started = True

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()


def is_stream(path) -> bool:
    """Whether an output is written straight through, not as a file put in place at the end:
    ``-`` (standard output), or something that exists and is not a regular file or a folder
    (``/dev/null``, a named pipe, a terminal)."""
    if str(path) == "-":
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    # /dev/stdout is a link to whatever standard output is, a regular file too: write into it
    # as the shell's '>' would, never replace the link
    under_dev = str(Path(path).absolute()).startswith(("/dev/", "/proc/"))
    return under_dev or not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def check_output(path, *inputs) -> None:
    """Fail early, before any work, where ``path`` cannot be written or is one of ``inputs``.

    A one-line ``CannotWrite`` for a folder, a path under a file, or a folder pmtype may not
    write in; ``OutputExists`` where the output is an input file (writing it would destroy it)
    or a seed corpus file (``config.seed_corpus_files``).
    """
    for given in inputs:
        if given is not None:
            check_table_path(given)
    if is_stream(path):
        return
    target = Path(path)
    if target.is_dir():
        raise CannotWrite(f"{target} is a folder, not a file")
    if str(path).endswith(("/", os.sep)):  # Path() drops the slash: "out/" would become a file named out
        raise CannotWrite(f"{path} names a folder; give a file name")
    for given in inputs:
        if given is not None and str(given) != "-" and target.exists() and os.path.exists(given) \
                and os.path.samefile(target, given):
            raise OutputExists(f"{target} is the input file; write the output to another file")
    if target.exists() and any(os.path.samefile(target, seed) for seed in seed_corpus_files()):
        raise OutputExists(f"{target} is pmtype's seed corpus, the data its default model is trained on; "
                           "write the output to another file")
    _check_folder_writable(target.parent, target)


def check_output_folder(path) -> None:
    """Fail early, before any work, where the folder ``path`` cannot be made or written in."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise CannotWrite(f"{folder} is a file, not a folder")
    _check_folder_writable(folder, folder)


def _check_folder_writable(folder: Path, target: Path) -> None:
    """``CannotWrite`` unless ``folder`` is, or can be made, a folder pmtype may write in."""
    existing = folder if str(folder) else Path(".")
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise CannotWrite(f"{target} cannot be written: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CannotWrite(f"{target} cannot be written: permission denied in {existing}")


def cannot_write(path, error: OSError) -> CannotWrite:
    """The one-line error for an ``OSError`` met while writing ``path`` (``standard output``, or a path)."""
    return CannotWrite(f"{path} cannot be written: {system_reason(error)}")


def stdout_closed() -> CannotWrite:
    """The one-line error for writing to standard output where it is closed (``>&-``)."""
    return CannotWrite("standard output is closed")


def written_path(path: Path) -> Path:
    """Where an output named ``path`` is written: a symbolic link's target, as the shell's ``>`` writes
    through a link (a file put in place under the link's own name would replace the link)."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


@contextmanager
def atomic_output(path, fmt: str):
    """A ``TableWriter`` whose file appears under ``path`` only when the block ends cleanly.

    ``-`` writes to standard output, and a device or pipe (``/dev/null``) is written
    straight through. A ``.gz`` name is compressed.
    """
    if str(path) != "-" and is_stream(path):
        with _straight_through(path, fmt) as writer:
            yield writer
        return
    if str(path) == "-":
        with _standard_output() as out:
            if fmt == "parquet":
                buffer = io.BytesIO()
                writer = TableWriter(buffer, fmt)
                yield writer
                writer.close()
                out.buffer.write(buffer.getvalue())
            else:
                writer = TableWriter(out, fmt)
                yield writer
                writer.close()
        return
    gzipped = Path(path).name.lower().endswith(".gz")  # as the name given says, where a link's target may not
    path = written_path(Path(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as e:
        raise cannot_write(path, e) from None
    # the mode open() would give (tempfile's files are private to their owner)
    mask = os.umask(0)
    os.umask(mask)
    os.fchmod(fd, 0o666 & ~mask)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if fmt == "parquet":
            writer = TableWriter(str(tmp), fmt)
            yield writer
            writer.close()
        else:
            opener = gzip.open if gzipped else open
            with opener(tmp, "wt", encoding="utf-8", newline="") as f:
                writer = TableWriter(f, fmt)
                yield writer
                writer.close()
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


class _WholeWrites(io.RawIOBase):
    """The open file descriptor ``fd`` (standard output, a pipe, a device), each write written to
    its last byte or an error; the descriptor stays open when this is closed.

    Python's buffered writer can take part of a large write to a pipe whose reader has gone (what
    the pipe still held) and return without an error: the rest is never written, and the command
    would end as if its reader had read everything. Writing the rest meets the broken pipe
    (``BrokenPipeError``, which ends a command with code 141). Any other failure (a full disk,
    ``/dev/full``) is a ``CannotWrite`` that names the output as ``name``.
    """

    def __init__(self, fd: int, name: str):
        super().__init__()
        self._fd = fd
        self._name = name

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def write(self, b) -> int:
        view = memoryview(b).cast("B")
        done = 0
        try:
            while done < len(view):
                done += os.write(self._fd, view[done:])
        except BrokenPipeError:
            raise
        except OSError as e:
            raise cannot_write(self._name, e) from None
        return done


@contextmanager
def _standard_output():
    """Standard output as UTF-8 text written whole (``_WholeWrites``); where it has no file
    descriptor (a test's captured output), itself."""
    if sys.stdout is None:  # Python's, where file descriptor 1 was closed when it started
        raise stdout_closed()
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):
        yield sys.stdout
        sys.stdout.flush()
        return
    sys.stdout.flush()  # what was printed before the table comes before it
    with io.TextIOWrapper(io.BufferedWriter(_WholeWrites(fd, "standard output")), encoding="utf-8",
                          newline="") as out:
        yield out


@contextmanager
def _straight_through(path, fmt: str):
    """A ``TableWriter`` writing into a device or pipe as it goes (nothing to put in place)."""
    try:
        file = open(path, "wb", buffering=0)
    except OSError as e:
        raise cannot_write(path, e) from None
    with file, io.BufferedWriter(_WholeWrites(file.fileno(), printable(path))) as raw:
        if fmt == "parquet":
            writer = TableWriter(raw, fmt)
            yield writer
            writer.close()
            return
        binary = gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) \
            if str(path).lower().endswith(".gz") else raw
        with io.TextIOWrapper(binary, encoding="utf-8", newline="") as text:
            writer = TableWriter(text, fmt)
            yield writer
            writer.close()


def row_numbers(path, count: int, fmt: str | None = None, encoding: str | None = None) -> list[int]:
    """The numbers of a table's first ``count`` rows of data, as pmtype names rows in messages, so
    that a user finds the row in the file: in CSV and TSV, rows from 2 (the header is row 1); in a
    JSON Lines file, the line each row is on (blank lines, which hold no row, are counted as the
    file's lines: ``line N is not valid JSON`` counts the same way); in Parquet (a file named as
    text too, read as Parquet by its first bytes), rows from 1. JSON Lines on standard input or
    through a pipe, read once, has its rows numbered from 1. A CSV or TSV table's rows are numbered
    as they are read where that can be done (``read_numbered_table``, which counts blank lines)."""
    fmt = detect_format(path, fmt)
    from_one, after_header = list(range(1, count + 1)), list(range(2, count + 2))
    if fmt == "parquet":
        return from_one
    try:
        if not Path(path).is_file():  # standard input, a pipe: its bytes are read once, by the reader
            return from_one if fmt == "jsonl" else after_header
        with open(path, "rb") as f:
            if is_parquet(f):
                return from_one
        if fmt != "jsonl":
            return after_header
        with _decoded(_open_binary(path), encoding) as (stream, _, _):
            lines = [n for n, line in enumerate(stream, 1) if line.strip()]
    except (OSError, TypeError, ValueError, BadInputFile):
        return from_one if fmt == "jsonl" else after_header
    return lines[:count] if len(lines) >= count else from_one


def input_name(path) -> str:
    """An input as messages name it: its path, or ``standard input`` for ``-``."""
    return "standard input" if str(path) == "-" else str(path)


@contextmanager
def naming_input(path):
    """Errors about the table at ``path`` raised inside (``BadInputFile``, ``MissingColumn``) begin
    with its name, ``FILE: reason`` (``standard input: reason`` for ``-``), unless they name it
    already: every command that reads a table says which, as ``train``, which reads several, must."""
    try:
        yield
    except (BadInputFile, MissingColumn) as e:
        shown = input_name(path)
        if shown in str(e):
            raise
        raise type(e)(f"{shown}: {e}") from None


def read_format(frame: pd.DataFrame, path, fmt: str | None = None) -> str:
    """The format ``read_chunks(path, fmt)`` read ``frame`` (a chunk of it, or all) as: the one its
    bytes told (``SNIFFED_FORMAT``: Parquet, or JSON Lines on standard input), else its name's or ``fmt``."""
    return frame.attrs.get(SNIFFED_FORMAT) or detect_input_format(path, fmt)


def read_table(path, fmt: str | None = None, encoding: str | None = None,
               numbers: list[int] | None = None) -> pd.DataFrame:
    """A whole table in memory (for training and evaluation sets); ``numbers`` as ``read_chunks``."""
    chunks = list(read_chunks(path, fmt=fmt, chunk_size=50_000, encoding=encoding, numbers=numbers))
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]


def read_numbered_table(path, fmt: str | None = None, encoding: str | None = None) -> tuple[pd.DataFrame, list[int]]:
    """``read_table`` and each row's number, as messages name it: a CSV or TSV row's record in
    the file, counted as it is read (a blank line, which holds no row, counted too), whether the
    file is named or comes on standard input; else ``row_numbers``."""
    numbers: list[int] = []
    frame = read_table(path, fmt, encoding, numbers)
    if len(numbers) != len(frame):
        numbers = row_numbers(path, len(frame), frame.attrs.get(SNIFFED_FORMAT, fmt), encoding)
    return frame, numbers


class ResumableOutput:
    """A table written chunk by chunk to a hidden part file, renamed into place at the end.

    After every chunk the part file is flushed to disk and a small progress
    file records how many rows and bytes are complete, so that a run killed at
    any moment can be resumed from its last complete chunk (``resume=True``)
    and nothing ever appears under the final name before the run ends.
    Parquet, whose file is valid only once its footer is written, goes chunk by
    chunk into a hidden folder of one Parquet file per chunk, each renamed into
    place when whole; ``finish`` copies them, one at a time, into the one file
    an uninterrupted ``atomic_output`` would write (as the hidden ``.NAME.whole``,
    then renamed). Standard output cannot be resumed; use ``atomic_output`` there. One run at a time writes a given
    output: the part file's name is fixed, so a second run is refused while the
    first holds the lock (``_lock_output``), which the OS drops when it dies.
    """

    def __init__(self, path, fmt: str, identity: dict, resume: bool = False):
        self._gzip = Path(path).name.lower().endswith(".gz")
        self.path = written_path(Path(path))  # a link's target, and the hidden files beside it
        self.fmt = fmt
        self.identity = identity
        self.resume = resume
        self.part = self.path.with_name(f".{self.path.name}.part")  # a folder, for Parquet
        self.state = self.path.with_name(f".{self.path.name}.progress.json")
        # Fixed names, as the part's: a run killed while writing one leaves it to the next run to
        # remove, where a name made afresh each time would be left behind for good, one more a kill
        self._state_tmp = self.state.with_suffix(".tmp")
        self._whole = self.path.with_name(f".{self.path.name}.whole")  # Parquet: the one file, being written
        self.lock = self.path.with_name(f".{self.path.name}.lock")
        self._lock_fd: int | None = None
        self.rows_done = 0
        #: A resume asked for that cannot continue what an earlier run left: the identity that run
        #: recorded ({} where what it wrote is not whole); None where it continues or none was left.
        self.not_resumed: dict | None = None
        self._bytes = 0
        self._chunks = 0  # Parquet: how many chunk files are complete
        self._schema = None  # Parquet: the one the first chunk set
        self._columns = None  # CSV, TSV and Parquet: the first chunk's (resumed: of this run's first)

    def _chunk_file(self, i: int) -> Path:
        return self.part / f"{i:08d}.parquet"

    def __enter__(self) -> ResumableOutput:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock_fd = _lock_output(self.lock, self.path)
        except OSError as e:
            raise cannot_write(self.path, e) from None
        try:
            self._open()
        except OSError as e:
            self._unlock()
            raise cannot_write(self.path, e) from None
        except BaseException:
            self._unlock()
            raise
        return self

    def _unlock(self) -> None:
        _unlock_output(self.lock, self._lock_fd)
        self._lock_fd = None

    def _open(self) -> None:
        import json

        self._leftovers()
        state = None
        if self.resume and self.state.is_file() and self.part.exists():
            try:
                state = json.loads(self.state.read_text(encoding="utf-8"))
            except ValueError:
                state = None
            if not self._well_formed(state):  # edited or damaged outside pmtype: nothing it says is trusted
                state = None
        if state and state.get("identity") == self.identity and self._holds(state):
            self.rows_done = int(state["rows"])
            if self.fmt == "parquet":
                import pyarrow.parquet as pq

                self._chunks = int(state["chunks"])
                keep = {self._chunk_file(i).name for i in range(self._chunks)}
                for stray in self.part.iterdir():  # a chunk being written when the run stopped
                    if stray.name not in keep:
                        stray.unlink()
                if self._chunks:
                    self._schema = pq.read_schema(self._chunk_file(0))
            else:
                self._bytes = int(state["bytes"])
                with open(self.part, "r+b") as f:
                    f.truncate(self._bytes)  # drop a chunk that was being written when the run stopped
        else:
            if self.resume and self.state.is_file():
                recorded = state.get("identity") if isinstance(state, dict) else None
                self.not_resumed = recorded if isinstance(recorded, dict) and recorded != self.identity else {}
            self.discard()
            if self.fmt == "parquet":
                self.part.mkdir()

    def _well_formed(self, state) -> bool:
        """Whether a progress file holds what this class writes: the identity, and counts of rows and
        of bytes (or Parquet chunks) that are whole numbers, not below zero."""
        def count(v):
            return isinstance(v, int) and not isinstance(v, bool) and v >= 0

        return (isinstance(state, dict) and isinstance(state.get("identity"), dict) and count(state.get("rows"))
                and count(state.get("chunks" if self.fmt == "parquet" else "bytes")))

    def _holds(self, state: dict) -> bool:
        """Whether the part file (or folder) still holds all the progress file records: one
        cut short or missing a chunk file outside pmtype (copied, truncated) starts afresh, where
        truncating it to the recorded length would pad it with NUL bytes. Parquet chunk files are
        read to their footers: together they must hold the rows recorded, in one schema."""
        if self.fmt != "parquet":
            return self.part.is_file() and self.part.stat().st_size >= int(state["bytes"])
        import pyarrow as pa
        import pyarrow.parquet as pq

        chunks = [self._chunk_file(i) for i in range(int(state["chunks"]))]
        if not self.part.is_dir() or not all(c.is_file() for c in chunks):
            return False
        try:
            footers = [pq.read_metadata(c) for c in chunks]
        except (pa.ArrowException, OSError):  # damaged (on disk, or by hand) after it was written whole
            return False
        schemas = {f.schema.to_arrow_schema().remove_metadata() for f in footers}
        return sum(f.num_rows for f in footers) == int(state["rows"]) and len(schemas) <= 1

    def write(self, frame: pd.DataFrame) -> None:
        import json

        if self.fmt != "jsonl":  # JSON Lines takes any keys, row by row
            frame = _set_columns(frame, self._columns)
            self._columns = list(frame.columns)
        try:
            if self.fmt == "parquet":
                self._write_parquet_chunk(frame)
            else:
                self._append_text(frame)
        except OSError as e:
            raise cannot_write(self.path, e) from None
        self.rows_done += len(frame)
        progress = {"identity": self.identity, "rows": self.rows_done}
        progress.update({"chunks": self._chunks} if self.fmt == "parquet" else {"bytes": self._bytes})
        self._state_tmp.write_text(json.dumps(progress), encoding="utf-8")
        os.replace(self._state_tmp, self.state)

    def _write_parquet_chunk(self, frame: pd.DataFrame) -> None:
        import pyarrow.parquet as pq

        table, self._schema = _arrow_table(frame, self._schema)
        target = self._chunk_file(self._chunks)
        tmp = target.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            pq.write_table(table, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        self._chunks += 1

    def _append_text(self, frame: pd.DataFrame) -> None:
        with open(self.part, "ab") as raw:
            if self._gzip:
                # one gzip member per chunk; no time or name in its header, so that the same
                # rows give the same bytes, resumed or not
                stream = gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0)
            else:
                stream = raw
            text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
            if self.fmt == "jsonl":
                _write_jsonl(frame, text)
            else:
                text.write(delimited_text(frame, self.fmt, header=self.rows_done == 0))
            text.flush()
            text.detach()
            if stream is not raw:
                stream.close()
            raw.flush()
            os.fsync(raw.fileno())
            self._bytes = raw.tell()

    def finish(self) -> None:
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            try:
                writer = TableWriter(str(self._whole), "parquet")
                for i in range(self._chunks):  # one chunk in memory at a time
                    writer.write_arrow(pq.read_table(self._chunk_file(i), schema=self._schema))
                writer.close()
                os.replace(self._whole, self.path)
            finally:
                self._whole.unlink(missing_ok=True)
            shutil.rmtree(self.part)
        else:
            if not self.part.exists():  # a file with no rows still gets its output
                self.part.touch()
            os.replace(self.part, self.path)
        self.state.unlink(missing_ok=True)

    def discard(self, quietly: bool = False) -> None:
        """Remove the part file (or folder) and the progress file; ``quietly``: a part folder
        that cannot be removed whole is left as far as it goes (on the way out of an error)."""
        if self.part.is_dir() and not self.part.is_symlink():
            shutil.rmtree(self.part, ignore_errors=quietly)
        else:
            self.part.unlink(missing_ok=True)
        self.state.unlink(missing_ok=True)
        self._leftovers()

    def _leftovers(self) -> None:
        """Remove what a run killed half-way through writing a progress file or the whole Parquet file left."""
        self._state_tmp.unlink(missing_ok=True)
        self._whole.unlink(missing_ok=True)

    def __exit__(self, kind, exc, tb):
        # An error in the input (a broken row, say) comes back on every --resume: nothing
        # written so far is worth keeping. An interruption, a full disk or a labelling process
        # that died keeps it to resume (``PMTypeError.keeps_progress``).
        try:
            if isinstance(exc, PMTypeError) and not exc.keeps_progress:
                self.discard(quietly=True)
        finally:
            self._unlock()
        return False


def _lock_output(lock: Path, output: Path) -> int | None:
    """An exclusive lock on the file ``lock`` (made if missing), held open: its descriptor, or None
    where the system or file system has no such locks (Windows, some network file systems).

    Another run that holds it is a one-line ``CannotWrite`` naming its process, read from
    the file, with ``config.HOST_TAG`` as in temporary names. A lock is dropped by the OS
    when its process dies, so the run of a killed one can be resumed. The file is removed
    by its holder at the end (``_unlock_output``): a run that waited on a file since removed
    locks the new one.
    """
    try:
        import fcntl
    except ImportError:
        return None
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode("ascii", errors="replace").split()
            os.close(fd)
            raise CannotWrite(f"{output} is being written by another pmtype run{_process(holder, HOST_TAG)}; "
                              "wait for it to end, or write to another file") from None
        except OSError:
            os.close(fd)
            return None
        try:
            held = os.path.samestat(os.fstat(fd), os.stat(lock))
        except FileNotFoundError:
            held = False
        if held:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()} {HOST_TAG}\n".encode("ascii"))
            _HELD_LOCKS.add(fd)
            return fd
        os.close(fd)


#: The descriptors of the output locks this process holds (``_lock_output``).
_HELD_LOCKS: set[int] = set()


def _close_inherited_locks() -> None:
    """In a child forked by this process (``--jobs``' workers), close its copies of the locks, which
    would otherwise keep an output locked after its run died, for as long as a worker lives on."""
    for fd in _HELD_LOCKS:
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD_LOCKS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_inherited_locks)


def _process(holder: list[str], host: str) -> str:
    """How a message names the process a lock file names (``holder``: its id and host tag), if any."""
    if not holder or not holder[0].isdigit():
        return ""
    elsewhere = len(holder) > 1 and holder[1] != host
    return f" (process {holder[0]}{' on another machine' if elsewhere else ''})"


def _unlock_output(lock: Path, fd: int | None) -> None:
    """Remove the file ``lock`` and drop the lock held on it as ``fd`` (None: none was taken)."""
    if fd is None:
        return
    try:
        lock.unlink(missing_ok=True)  # while still locked, so no run locks the file being removed
    except OSError:
        pass
    finally:
        _HELD_LOCKS.discard(fd)
        os.close(fd)
