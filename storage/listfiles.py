"""The reference lists' opener: every sheet of a file people hold, as rows of values.

The bytes decide the format, never the file name: XLSX/XLSM/XLS/ODS workbooks
(:mod:`storage.listbooks`, read in an isolated child), Excel 2003 XML "SpreadsheetML", what
RMI's website exports (:mod:`storage.spreadsheetml`, likewise isolated), and delimited text
(comma, semicolon, tab or pipe; UTF-8, UTF-16 with a byte-order mark, Windows-1252 or
Latin-1), read here.

Whatever the file holds, the caller gets :class:`~storage.listtable.Table` values or a
:class:`~storage.listtable.RefDataError` whose message is a sentence for the operator;
never a traceback. This is not the opener of suppliers' templates (:mod:`plugins.workbook`):
a list is the operator's file, and its problems are told to the operator.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

from .listbooks import is_workbook, read_workbook
from .listtable import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    SAVE_AGAIN,
    RefDataError,
    Table,
    Value,
    too_big,
    too_many_rows,
    trim_row,
)
from .spreadsheetml import SPREADSHEET_NS, read_spreadsheetml


def read_tables(
    path: Path, *, sheets: Sequence[str] = (), keep_newlines: bool = False
) -> list[Table]:
    """Every table of the file at ``path`` (a workbook: one per sheet, in tab order).

    ``sheets``: when a workbook has any of these sheets, only those are read (a CMRT's
    Smelter Look-up without its 2,500-row Smelter List, say). Every text cell and sheet
    name comes without control characters and bidi overrides (:func:`clean_cell`); tabs and
    line breaks become spaces, unless ``keep_newlines`` (a cell listing one area per line).
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise RefDataError(too_big(size))
        data = path.read_bytes()
    except OSError as exc:
        raise RefDataError(f"The file cannot be read ({exc.strerror or exc}).") from exc
    return read_table_bytes(data, path.name, sheets=sheets, keep_newlines=keep_newlines)


def read_table_bytes(
    data: bytes, name: str, *, sheets: Sequence[str] = (), keep_newlines: bool = False
) -> list[Table]:
    """:func:`read_tables` for bytes already in memory (``name``: the file's name)."""
    return [
        Table(
            clean_cell(t.name),
            [[clean_cell(v, keep_newlines) for v in row] for row in t.rows],
            t.kind,
        )
        for t in _read_table_bytes(data, name, tuple(sheets))
    ]


#: Control characters (C0 but tab and line breaks, DEL, C1) and bidi overrides/isolates
#: (U+202A..U+202E, U+2066..U+2069): they reach terminals, findings and messages.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069]")
_BREAKS = re.compile(r"[\t\n\r\v\f\x85]")
_TABS = re.compile(r"[\t\v\f]")


def clean_cell(value: Value, keep_newlines: bool = False) -> Value:
    """A text cell without control characters and bidi overrides; tabs and line breaks
    (with ``keep_newlines``: tabs only) become spaces. Other values are returned as they are.
    """
    if not isinstance(value, str) or value.isprintable():
        return value
    text = _CONTROLS.sub("", value)
    if keep_newlines:
        return _TABS.sub(" ", text.replace("\x85", "\n"))
    return _BREAKS.sub(" ", text)


def _read_table_bytes(data: bytes, name: str, sheets: tuple[str, ...]) -> list[Table]:
    if not data.removeprefix(codecs.BOM_UTF8).strip(b" \t\r\n"):
        raise RefDataError("The file is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise RefDataError(too_big(len(data)))
    if is_workbook(data):
        return read_workbook(data, sheets)
    kind = _binary_kind(data)
    if kind:
        raise RefDataError(f"The file is {kind}, not a spreadsheet or a CSV list. {SAVE_AGAIN}")
    text = _decode(data)
    head = text.lstrip("\ufeff \t\r\n")[:4096]
    if head.startswith("<"):
        if SPREADSHEET_NS in text[:65536]:
            return read_spreadsheetml(data)
        low = head.casefold()
        if "<html" in low or "<!doctype html" in low or "<table" in low:
            raise RefDataError(
                "The file is a web page (HTML), not a spreadsheet: some websites save tables "
                f"that way with an .xls name. {SAVE_AGAIN}"
            )
        if head.startswith("<?xml") or head.startswith("<!"):
            raise RefDataError(
                "The file is XML but not an Excel spreadsheet (Excel 2003 XML has the "
                f"namespace {SPREADSHEET_NS}). {SAVE_AGAIN}"
            )
    return [Table(name, _read_delimited(text), "file")]


_MAGIC = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"GIF8", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"{\\rtf", "an RTF document"),
)


def _binary_kind(data: bytes) -> str:
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return ""  # UTF-16 text (Excel's "Unicode Text") has NULs by design
    if b"\x00" in data:
        return "binary data (it holds NUL bytes, which no text list has)"
    sample = data[:65536]
    junk = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    if junk > max(8, len(sample) // 100):
        return "binary data (it holds control characters, which no text list has)"
    return ""


def _decode(data: bytes) -> str:
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise RefDataError(
                f"The file starts like UTF-16 text but is damaged at byte {exc.start}. {SAVE_AGAIN}"
            ) from exc
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


# -- delimited text ---------------------------------------------------------------------

_DELIMITERS = (",", ";", "\t", "|")


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines most consistently; a comma when none does."""
    lines = [line for line in text[:65536].splitlines()[:60] if line.strip()]
    sample = "\n".join(lines)
    best, best_score = ",", (0, 0)
    for delim in _DELIMITERS:
        counts: dict[int, int] = {}
        try:
            for row in csv.reader(io.StringIO(sample), delimiter=delim):
                if len(row) > 1:
                    counts[len(row)] = counts.get(len(row), 0) + 1
        except csv.Error:
            continue
        if not counts:
            continue
        width, rows = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        if (rows, width) > best_score:
            best, best_score = delim, (rows, width)
    return best


def _read_delimited(text: str) -> list[list[Value]]:
    delim = sniff_delimiter(text)
    rows: list[list[Value]] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delim)
    try:
        for row in reader:
            rows.append(trim_row(row, len(rows) + 1))
            if len(rows) > MAX_ROWS * 10:
                raise RefDataError(too_many_rows("the file"))
    except csv.Error as exc:
        where = f"Row {len(rows) + 1}"
        if "field larger" in str(exc):
            raise RefDataError(
                f"{where} holds a cell of more than 131,072 characters (a quote left open, "
                "or not a list at all), so the file was not read."
            ) from exc
        raise RefDataError(f"{where} cannot be read as CSV ({exc}).") from exc
    return rows
