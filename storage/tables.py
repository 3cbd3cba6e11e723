"""Reading the reference lists people hold: every sheet of a file as rows of values.

The bytes decide the format, never the file name: XLSX/XLSM/XLS/ODS workbooks (opened by
the native engine in a sandboxed child, :func:`plugins.sandbox.run_isolated`), Excel 2003
XML "SpreadsheetML" (what RMI's website exports; parsed with stdlib expat in the same
sandboxed child, any DOCTYPE or ENTITY refused, rows and cells capped across all its
worksheets before anything is allocated), and delimited text (comma, semicolon, tab or pipe; UTF-8,
UTF-16 with a byte-order mark, Windows-1252 or Latin-1).

Whatever the file holds, the caller gets :class:`Table` values or a :class:`RefDataError`
whose message is a sentence for the operator; never a traceback. This module also holds
the date readers every list needs (list cells, title rows, file names).
"""

from __future__ import annotations

import calendar
import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.parsers import expat

from plugins.normalize import clean_text, is_placeholder
from plugins.sandbox import run_isolated
from plugins.workbook import (
    OLE_MAGIC,
    TOO_COMPLEX,
    ZIP_MAGIC,
    FileProblem,
    Limits,
    open_workbook,
)

#: Largest file read at all; RMI's complete facilities export is a few MB.
MAX_FILE_BYTES = 50 * 1024 * 1024
#: Rows read from one sheet (RMI's lists: about 1,500); beyond: refused with a sentence.
MAX_ROWS = 100_000
#: Excel's own width.
MAX_COLUMNS = 16_384
#: An Excel 2003 XML file, all its worksheets together (``ss:Index`` jumps included):
#: rows, cells and worksheets; beyond: refused with a sentence.
MAX_TOTAL_ROWS = 100_000
MAX_TOTAL_CELLS = 2_000_000
MAX_SHEETS = 200
#: Rows of any table before the header, where a list's title and date live.
HEADER_SCAN_ROWS = 30

SPREADSHEET_NS = "urn:schemas-microsoft-com:office:spreadsheet"
_WORKBOOK_LIMITS = Limits(max_file_bytes=MAX_FILE_BYTES, max_rows=MAX_ROWS)
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_SAVE_AGAIN = "Open it in Excel and save it again as .xlsx or CSV, then import that file."

Value = Any  # str | float | int | bool | datetime.date | datetime.datetime | None


class RefDataError(ValueError):
    """A reference file the operator gave cannot be used; the message says why."""


@dataclass(frozen=True)
class Table:
    """One sheet of a workbook, or the whole of a text file (``kind="file"``)."""

    name: str
    rows: list[list[Value]]
    kind: str = "sheet"  # "sheet" or "file"

    def where(self, row: int) -> str:
        """How a message names a row: ``"sheet 'Active List' row 14"`` or ``"row 14"``."""
        return f"sheet {self.name!r} row {row}" if self.kind == "sheet" else f"row {row}"

    @property
    def label(self) -> str:
        return f"sheet {self.name!r}" if self.kind == "sheet" else f"file {self.name!r}"


# -- entry point --------------------------------------------------------------------------


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
            raise RefDataError(_too_big(size))
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
        raise RefDataError(_too_big(len(data)))
    if data.startswith(ZIP_MAGIC) or data.startswith(OLE_MAGIC):
        return _read_workbook(data, sheets)
    kind = _binary_kind(data)
    if kind:
        raise RefDataError(f"The file is {kind}, not a spreadsheet or a CSV list. {_SAVE_AGAIN}")
    text = _decode(data)
    head = text.lstrip("\ufeff \t\r\n")[:4096]
    if head.startswith("<"):
        if SPREADSHEET_NS in text[:65536]:
            return _read_spreadsheetml(data)
        low = head.casefold()
        if "<html" in low or "<!doctype html" in low or "<table" in low:
            raise RefDataError(
                "The file is a web page (HTML), not a spreadsheet: some websites save tables "
                f"that way with an .xls name. {_SAVE_AGAIN}"
            )
        if head.startswith("<?xml") or head.startswith("<!"):
            raise RefDataError(
                "The file is XML but not an Excel spreadsheet (Excel 2003 XML has the "
                f"namespace {SPREADSHEET_NS}). {_SAVE_AGAIN}"
            )
    return [Table(name, _read_delimited(text), "file")]


def _too_big(size: int) -> str:
    return (
        f"The file is {size / (1024 * 1024):.0f} MB; no reference list is larger than "
        f"{MAX_FILE_BYTES // (1024 * 1024)} MB, so it was not read."
    )


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
                f"The file starts like UTF-16 text but is damaged at byte {exc.start}. "
                f"{_SAVE_AGAIN}"
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
            rows.append(_trim(row, len(rows) + 1))
            if len(rows) > MAX_ROWS * 10:
                raise RefDataError(_too_many_rows("the file"))
    except csv.Error as exc:
        where = f"Row {len(rows) + 1}"
        if "field larger" in str(exc):
            raise RefDataError(
                f"{where} holds a cell of more than 131,072 characters (a quote left open, "
                "or not a list at all), so the file was not read."
            ) from exc
        raise RefDataError(f"{where} cannot be read as CSV ({exc}).") from exc
    return rows


def _too_many_rows(what: str) -> str:
    return f"{what} has more than {MAX_ROWS:,} rows; no reference list is that long, so it was not read."


def _trim(row: list[Value], number: int) -> list[Value]:
    """A row without its trailing empty cells; wider than Excel's grid: refused."""
    end = len(row)
    while end and (row[end - 1] is None or row[end - 1] == ""):
        end -= 1
    if end > MAX_COLUMNS:
        raise RefDataError(
            f"Row {number} has {end:,} columns; a spreadsheet holds at most {MAX_COLUMNS:,}, "
            "so the file is not a list and was not read."
        )
    return row[:end] if end < len(row) else row


# -- workbooks (native engine, sandboxed) -------------------------------------------------


def _tag(value: Value) -> Value:
    """A cell value the child can send as JSON (dates tagged, rebuilt by :func:`_untag`)."""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return {"d": value.date().isoformat()}
        return {"dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _untag(value: Value) -> Value:
    if isinstance(value, dict):
        try:
            if "d" in value:
                return dt.date.fromisoformat(str(value["d"]))
            if "dt" in value:
                return dt.datetime.fromisoformat(str(value["dt"]))
        except ValueError:
            return ""
        return ""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return ""


def _check_ods_zip(data: bytes) -> None:
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise FileProblem("unreadable-file", "The file is a damaged zip archive.") from exc
    total = 0
    for info in infos:
        total += info.file_size
        if total > _WORKBOOK_LIMITS.max_total_bytes or (
            info.file_size > 1024 * 1024
            and info.file_size > _WORKBOOK_LIMITS.max_ratio * max(info.compress_size, 1)
        ):
            raise FileProblem(
                "unreadable-file",
                "The spreadsheet is far larger once unpacked than any list (a 'zip bomb').",
            )


def _book_child(data: bytes, wanted: tuple[str, ...]) -> list[Any]:
    """Runs in the sandboxed child: every (wanted) sheet as JSON-safe rows."""
    import python_calamine

    if data.startswith(ZIP_MAGIC) and data[30:38] == b"mimetype" and _ODS_MIMETYPE in data[:200]:
        _check_ods_zip(data)
        try:
            book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        except (python_calamine.CalamineError, ValueError, OSError) as exc:
            raise FileProblem("unreadable-file", "The spreadsheet is damaged.", str(exc)) from exc
        names = list(book.sheet_names)

        def read(name: str) -> list[list[Any]]:
            rows: list[list[Any]] = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            return rows

    else:
        wb = open_workbook(data, _WORKBOOK_LIMITS).workbook
        names = list(wb.sheet_names)

        def read(name: str) -> list[list[Any]]:
            return [list(r) for _n, r in wb.sheet(name).iter_rows(1)]

    chosen = [n for n in names if n in wanted] or names
    out: list[Any] = []
    for name in chosen:
        rows = read(name)
        if len(rows) > MAX_ROWS:
            return ["too-many-rows", name]
        table = []
        for number, row in enumerate(rows, 1):
            try:
                table.append([_tag(v) for v in _trim(list(row), number)])
            except RefDataError as exc:
                return ["too-wide", name, str(exc)]
        out.append([name, table])
    return ["ok", out]


def _read_workbook(data: bytes, wanted: tuple[str, ...]) -> list[Table]:
    try:
        answer = run_isolated(lambda d: _book_child(d, wanted), data, _WORKBOOK_LIMITS)
    except FileProblem as problem:
        raise RefDataError(f"{_first_sentence(problem.message)} {_SAVE_AGAIN}") from problem
    if not isinstance(answer, list) or not answer:
        raise RefDataError(f"The workbook could not be read. {_SAVE_AGAIN}")
    if answer[0] == "too-many-rows":
        raise RefDataError(_too_many_rows(f"The sheet {answer[1]!r}"))
    if answer[0] == "too-wide":
        text = str(answer[2])
        raise RefDataError(f"In the sheet {answer[1]!r}, {text[:1].lower()}{text[1:]}")
    tables = []
    for name, rows in answer[1]:
        tables.append(Table(str(name), [[_untag(v) for v in row] for row in rows]))
    return tables


def _first_sentence(message: str) -> str:
    """A supplier-facing FileProblem message without its advice to 'send' something."""
    parts = re.split(r"(?<=[.!?])\s+", message.strip())
    kept = [p for p in parts if not re.match(r"(Please|Send|Resend)\b", p)]
    return " ".join(kept[:2]) or "The workbook could not be read."


# -- Excel 2003 XML (SpreadsheetML) --------------------------------------------------------


class _Refused(Exception):
    """The XML holds something no spreadsheet program writes; ``str()`` is the sentence."""


def _local(name: str) -> str:
    return name.rsplit(" ", 1)[-1]


def _attr(attrs: dict[str, str], local: str) -> str | None:
    for key, value in attrs.items():
        if _local(key) == local:
            return value
    return None


def _index(raw: str | None, limit: int, what: str) -> int | None:
    """A 1-based ``ss:Index``; out of the grid (a file built to exhaust memory): refused."""
    if raw is None:
        return None
    try:
        n = int(raw)
    except ValueError:
        raise _Refused(
            f"The Excel 2003 XML file has a {what} index {raw[:20]!r} that is not a number, "
            "so it was not read."
        ) from None
    if not 0 <= n <= limit:
        raise _Refused(
            f"The Excel 2003 XML file has a {what} index {n:,} outside a spreadsheet's grid "
            f"(at most {limit:,}), so it was not read."
        )
    return n


def _xml_value(kind: str, text: str) -> Value:
    if kind == "Number":
        try:
            number = float(text)
        except ValueError:
            return text
        return number if number == number and abs(number) != float("inf") else text
    if kind == "DateTime":
        try:
            stamp = dt.datetime.fromisoformat(text.strip()[:19])
        except ValueError:
            return text
        return stamp.date() if stamp.time() == dt.time() else stamp
    if kind == "Boolean":
        return text.strip() in ("1", "true", "TRUE")
    return text


class _SpreadsheetML:
    """Expat handlers building tables from ``Worksheet/Table/Row/Cell/Data``.

    ``Row ss:Index`` and ``Cell ss:Index`` skip rows and cells (counted against
    :data:`MAX_TOTAL_ROWS` and :data:`MAX_TOTAL_CELLS` before any is allocated; skipped rows
    are materialised only above a row with cells); ``ss:MergeAcross`` makes a cell span columns; ``Data`` may hold HTML (``<B>``, ``<Font>``) whose text is kept;
    ``Comment`` text is not a cell value.
    """

    def __init__(self) -> None:
        self.tables: list[Table] = []
        self.sheets = 0
        self.total_rows = 0  # rows of every worksheet, ss:Index jumps included
        self.total_cells = 0  # cells of every row, ss:Index jumps included
        self.sheet: str | None = None
        self.rows: list[list[Value]] = []
        self.row: list[Value] | None = None
        self.row_no = 0
        self.col = 0
        self.in_cell = False
        self.span = 0
        self.data_depth = 0
        self.comment_depth = 0
        self.kind = "String"
        self.text: list[str] = []

    def start(self, name: str, attrs: dict[str, str]) -> None:
        tag = _local(name)
        if tag == "Worksheet":
            self.sheets += 1
            if self.sheets > MAX_SHEETS:
                raise _Refused(
                    f"The Excel 2003 XML file has more than {MAX_SHEETS} worksheets; no list "
                    "has that many, so it was not read."
                )
            self.sheet = _attr(attrs, "Name") or f"Sheet{self.sheets}"
            self.rows, self.row_no = [], 0
        elif tag == "Row" and self.sheet is not None:
            index = _index(_attr(attrs, "Index"), MAX_ROWS + 1, "row")
            row_no = index if index else self.row_no + 1
            if row_no > MAX_ROWS:
                raise _Refused(_too_many_rows(f"The sheet {self.sheet!r}"))
            # Counted before anything is allocated: the rows an index skips count too.
            self.total_rows += max(1, row_no - self.row_no)
            if self.total_rows > MAX_TOTAL_ROWS:
                raise _Refused(
                    f"The Excel 2003 XML file has more than {MAX_TOTAL_ROWS:,} rows in all its "
                    "worksheets (counting the rows it skips); no reference list is that long, "
                    "so it was not read."
                )
            self.row_no, self.row, self.col = row_no, [], 0
        elif tag == "Cell" and self.row is not None:
            index = _index(_attr(attrs, "Index"), MAX_COLUMNS, "column")
            if index:
                self.col = index - 1
            self.span = _index(_attr(attrs, "MergeAcross"), MAX_COLUMNS, "merge") or 0
            self.in_cell, self.kind, self.text = True, "String", []
            self.data_depth = self.comment_depth = 0
        elif tag == "Comment" and self.in_cell:
            self.comment_depth += 1
        elif tag == "Data" and self.in_cell and not self.comment_depth:
            if not self.data_depth:
                self.kind = _attr(attrs, "Type") or "String"
            self.data_depth += 1

    def end(self, name: str) -> None:
        tag = _local(name)
        if tag == "Data" and self.data_depth:
            self.data_depth -= 1
        elif tag == "Comment" and self.comment_depth:
            self.comment_depth -= 1
        elif tag == "Cell" and self.in_cell and self.row is not None:
            if self.col >= MAX_COLUMNS:
                raise _Refused(
                    f"The Excel 2003 XML file has a row wider than {MAX_COLUMNS:,} columns, "
                    "so it was not read."
                )
            self.total_cells += max(0, self.col + 1 - len(self.row))
            if self.total_cells > MAX_TOTAL_CELLS:
                raise _Refused(
                    f"The Excel 2003 XML file has more than {MAX_TOTAL_CELLS:,} cells in all its "
                    "worksheets (counting the cells it skips); no reference list is that large, "
                    "so it was not read."
                )
            while len(self.row) < self.col:
                self.row.append("")
            self.row.append(_xml_value(self.kind, "".join(self.text)) if self.text else "")
            self.in_cell = False
            self.col += 1 + self.span
        elif tag == "Row" and self.row is not None:
            row = _trim(self.row, self.row_no)
            if row:  # empty rows are materialised only below a row with cells: none trail
                while len(self.rows) < self.row_no - 1:
                    self.rows.append([])
                self.rows.append(row)
            self.row = None
        elif tag == "Worksheet" and self.sheet is not None:
            self.tables.append(Table(self.sheet, self.rows))
            self.sheet, self.rows = None, []

    def chars(self, text: str) -> None:
        if self.data_depth and not self.comment_depth:
            self.text.append(text)
            if len(self.text) > 4096:  # a cell in a million fragments: keep the list short
                self.text = ["".join(self.text)]


def _refuse_declaration(what: str) -> Callable[..., None]:
    def handler(*_args: object) -> None:
        raise _Refused(
            f"The Excel 2003 XML file declares a {what} (which can make an XML reader fetch "
            "other files or expand text without end); spreadsheet programs never write one, "
            f"so the file was refused. {_SAVE_AGAIN}"
        )

    return handler


def _spreadsheetml_child(data: bytes) -> list[Any]:
    """Runs in the sandboxed child: ``["ok", [[name, rows]...]]`` (JSON-safe, dates tagged),
    or ``["refused", sentence]``."""
    builder = _SpreadsheetML()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.chars
    parser.StartDoctypeDeclHandler = _refuse_declaration("DOCTYPE")
    parser.EntityDeclHandler = _refuse_declaration("ENTITY")
    try:
        parser.Parse(data, True)
    except (_Refused, RefDataError) as exc:
        return ["refused", str(exc)]
    except (expat.ExpatError, ValueError) as exc:
        return [
            "refused",
            "The file looks like an Excel 2003 XML spreadsheet but is not well-formed XML "
            f"({exc}). {_SAVE_AGAIN}",
        ]
    if not builder.tables:
        return ["refused", "The Excel 2003 XML file has no worksheet."]
    return [
        "ok",
        [[t.name, [[_tag(v) for v in row] for row in t.rows]] for t in builder.tables],
    ]


def _read_spreadsheetml(data: bytes) -> list[Table]:
    """Every worksheet of an Excel 2003 XML file: stdlib expat (no DOCTYPE, no ENTITY) in a
    sandboxed child, like workbooks, with rows and cells capped across all worksheets."""
    try:
        answer = run_isolated(_spreadsheetml_child, data, _WORKBOOK_LIMITS)
    except FileProblem as problem:
        if problem.code == TOO_COMPLEX:
            raise RefDataError(
                "The Excel 2003 XML file needs far more memory or time to read than any list "
                f"does, so it was not read. {_SAVE_AGAIN}"
            ) from problem
        raise RefDataError(f"{_first_sentence(problem.message)} {_SAVE_AGAIN}") from problem
    if not isinstance(answer, list) or len(answer) != 2:
        raise RefDataError(f"The Excel 2003 XML file could not be read. {_SAVE_AGAIN}")
    if answer[0] != "ok":
        raise RefDataError(str(answer[1]))
    return [
        Table(str(name), [[_untag(v) for v in row] for row in rows]) for name, rows in answer[1]
    ]


# -- dates ----------------------------------------------------------------------------------

_EXCEL_EPOCH = dt.date(1899, 12, 30)
_FIRST_SERIAL, _LAST_SERIAL = 25_000, 80_000  # 1968 .. 2119: any list date
_MONTHS = {
    name.casefold(): number
    for number in range(1, 13)
    for name in (calendar.month_name[number], calendar.month_abbr[number])
}
_MONTHS["sept"] = 9
_MON = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"


def _date(year: int, month: int, day: int) -> dt.date | None:
    if year < 100:
        year += 2000 if year < 70 else 1900
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _slash(a: int, b: int, year: int, order: str = "") -> dt.date | None:
    """``a/b/year``: RMI is American, month first, unless the first number cannot be a month.

    ``order`` (a column's, from :func:`slash_order`): ``"dmy"`` day first, ``"mdy"`` month
    first, ``"mixed"`` only what one order can read (``19/11/2020``, ``11/19/2020``; never
    ``03/04/2021``).
    """
    if order == "dmy":
        return _date(year, b, a)
    if order == "mdy":
        return _date(year, a, b)
    if order == "mixed" and a <= 12 and b <= 12:
        return None
    return _date(year, b, a) if a > 12 else _date(year, a, b)


_SLASH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d\d)(?: [\d:.]+(?: ?[AP]M)?)?", re.I)


def slash_order(values: Iterable[Value]) -> str:
    """How a column writes ``n/n/yyyy`` dates: ``"dmy"`` when some cell's first number is
    above 12 (and none's second is), ``"mixed"`` when both happen, else ``"mdy"``."""
    day_first = month_first = False
    for value in values:
        if not isinstance(value, str):
            continue
        m = _SLASH_DATE.fullmatch(clean_text(value))
        if m:
            a, b = int(m[1]), int(m[2])
            if a > 12 and b > 12:
                continue  # no date in either order
            day_first = day_first or a > 12
            month_first = month_first or b > 12
    if day_first and month_first:
        return "mixed"
    return "dmy" if day_first else "mdy"


def is_ambiguous_slash(value: Value) -> bool:
    """A text date such as ``03/04/2021``: both numbers could be the month."""
    m = _SLASH_DATE.fullmatch(clean_text(value)) if isinstance(value, str) else None
    return m is not None and int(m[1]) <= 12 and int(m[2]) <= 12


_CELL_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], dt.date | None]], ...] = (
    (
        re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+(?:Z|[+-]\d\d:?\d\d)?)?"),
        lambda m: _date(int(m[1]), int(m[2]), int(m[3])),
    ),
    (re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"), lambda m: _date(int(m[1]), int(m[2]), int(m[3]))),
    (
        re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})"),
        lambda m: _date(int(m[3]), int(m[2]), int(m[1])),
    ),
    (
        re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th)?[-\s/.]+{_MON}\.?[-\s/.,]+(\d{{4}}|\d\d)", re.I),
        lambda m: _date(int(m[3]), _MONTHS[m[2].casefold()[:3]], int(m[1])),
    ),
    (
        re.compile(rf"{_MON}\.?[-\s]+(\d{{1,2}})(?:st|nd|rd|th)?,?[-\s]+(\d{{4}})", re.I),
        lambda m: _date(int(m[3]), _MONTHS[m[1].casefold()[:3]], int(m[2])),
    ),
)


def parse_list_date(value: Value, order: str = "") -> dt.date | None:
    """A date cell of a list: real dates, Excel serials and the texts RMI's exports hold.

    ``11/19/2020`` is month first (RMI is American) unless the first number is above 12, or
    ``order`` (the column's :func:`slash_order`) says otherwise; ``19-Nov-2020``,
    ``19 Nov 2020``, ``Nov 19, 2020``, ``2020-11-19`` (with a time or not).
    None for anything else (the caller counts non-empty cells it could not read).
    """
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float):
        if value == value and _FIRST_SERIAL <= value <= _LAST_SERIAL:
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        return None
    text = clean_text(value)
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return parse_list_date(float(text))
    m = _SLASH_DATE.fullmatch(text)
    if m:
        return _slash(int(m[1]), int(m[2]), int(m[3]), order)
    for pattern, build in _CELL_PATTERNS:
        m = pattern.fullmatch(text)
        if m:
            return build(m)
    return None


def is_blank_date(value: Value) -> bool:
    """An empty date cell, or a placeholder ("N/A", "-", "TBD") that means none."""
    return clean_text(value) == "" or is_placeholder(clean_text(value))


_FIND_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], dt.date | None]], ...] = (
    (
        re.compile(r"(?<!\d)((?:19|20)\d\d)([-_./]?)(\d\d)\2(\d\d)(?!\d)"),
        lambda m: _date(int(m[1]), int(m[3]), int(m[4])),
    ),
    (
        re.compile(
            rf"(?<![\d\w])(\d{{1,2}})(?:st|nd|rd|th)?[-_\s.]*{_MON}\.?[-_\s.,]*((?:19|20)\d\d)(?!\d)",
            re.I,
        ),
        lambda m: _date(int(m[3]), _MONTHS[m[2].casefold()[:3]], int(m[1])),
    ),
    (
        re.compile(
            rf"(?<![a-z]){_MON}\.?[-_\s.]*(\d{{1,2}})(?:st|nd|rd|th)?,?[-_\s.]*((?:19|20)\d\d)(?!\d)",
            re.I,
        ),
        lambda m: _date(int(m[3]), _MONTHS[m[1].casefold()[:3]], int(m[2])),
    ),
    (
        re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/((?:19|20)\d\d)(?![\d/])"),
        lambda m: _slash(int(m[1]), int(m[2]), int(m[3])),
    ),
)


def find_date(text: str) -> dt.date | None:
    """The first FULL date written in a title or a file name; None when there is none.

    ``2025-05-01``, ``20250501``, ``2025_05_01``, ``1-May-2025``, ``1 May 2025``,
    ``May 1, 2025``, ``May_1_2025``, ``05/01/2025``. A month or a quarter alone
    (``2025-05``, ``2025-Q1``) is not a date.
    """
    found: list[tuple[int, dt.date]] = []
    for pattern, build in _FIND_PATTERNS:
        for m in pattern.finditer(text):
            date = build(m)
            if date is not None and 1990 <= date.year <= 2100:
                found.append((m.start(), date))
                break
    return min(found)[1] if found else None


def date_in_cells(row: Sequence[Value]) -> dt.date | None:
    """A date in a title row: a date cell, else a full date written in its text."""
    for cell in row:
        if isinstance(cell, dt.date):
            return cell.date() if isinstance(cell, dt.datetime) else cell
    for cell in row:
        if isinstance(cell, str) and cell.strip():
            date = find_date(cell)
            if date:
                return date
    return None


def row_text(row: Sequence[Value], limit: int = 100) -> str:
    """A row's cells joined for a message (cut to ``limit`` characters)."""
    text = " ".join(clean_text(c) for c in row if clean_text(c))
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: Invisible or odd characters found in ids pasted from web pages and PDFs.
ODD_CHARS = re.compile(
    r"[\u00a0\u00ad\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\u3164\ufeff\uffa0\t\r\n\v\f]"
)
_CID_LIKE = re.compile(r"(CID)([-_#:.]?)([0-9]{1,6})", re.I)


def repair_cid(value: Value) -> tuple[str | None, tuple[str, ...]]:
    """``(cid, what was repaired)``, or ``(None, ())`` when the cell is not a CID.

    Repaired: invisible and odd space characters, inner spaces, full-width characters,
    lower case, a separator after ``CID``, fewer than six digits. Not guessed: a missing
    letter (``ID002082``, ``C002082``) or more than six digits.
    """
    raw = value if isinstance(value, str) else clean_text(value)
    text = raw.strip(" ")
    what: list[str] = []
    odd = list(dict.fromkeys(ODD_CHARS.findall(text)))
    for char in odd:
        text = text.replace(char, " " if char in "\t\r\n\v\f\u3000" else "")
        name = "tab" if char == "\t" else f"invisible character U+{ord(char):04X}"
        what.append(f"{name} removed")
    text = text.strip(" ")
    folded = unicodedata.normalize("NFKC", text)
    if folded != text:
        what.append("full-width characters converted")
        text = folded.strip(" ")
    if " " in text:
        text = text.replace(" ", "")
        what.append("spaces removed")
    m = _CID_LIKE.fullmatch(text)
    if not m:
        return None, ()
    if m[1] != "CID":
        what.append("upper-cased")
    if m[2]:
        what.append(f"separator {m[2]!r} removed")
    if len(m[3]) < 6:
        what.append("zeros padded")
    return "CID" + m[3].zfill(6), tuple(what)


def header_key(value: Value) -> str:
    """A header (or a status word) compared loosely: case, punctuation and odd spaces ignored.

    ``"Re-audit Due"`` -> ``"reaudit due"``; ``"Smelter/Refiner Name"`` ->
    ``"smelter refiner name"``; ``"Metal (*)"`` -> ``"metal"``.
    """
    text = clean_text(value).casefold()
    text = re.sub(r"[\u00a0\u3000\uffa0\u200b\ufeff\s]+", " ", text)
    text = re.sub(r"['’.\-\u2010-\u2015]", "", text)
    text = re.sub(r"[^\w ]+|_", " ", text)
    return " ".join(text.split())
