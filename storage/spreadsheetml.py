"""Reference lists as Excel 2003 XML ("SpreadsheetML"), what RMI's website exports.

Parsed with stdlib expat in an isolated child (:func:`plugins.isolation.run_in_child`), like
workbooks: any DOCTYPE or ENTITY declaration is refused (spreadsheet programs never write
one, and it can make an XML reader fetch other files or expand text without end), and rows
and cells are counted across all worksheets, ``ss:Index`` jumps included, before anything
is allocated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from xml.parsers import expat

from plugins.isolation import TOO_COMPLEX, ChildFailed, run_in_child

from .listbooks import LIMITS, tag_cell, untag_cell
from .listtable import (
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_SHEETS,
    MAX_TOTAL_CELLS,
    MAX_TOTAL_ROWS,
    SAVE_AGAIN,
    RefDataError,
    Table,
    Value,
    too_many_rows,
    trim_row,
)

SPREADSHEET_NS = "urn:schemas-microsoft-com:office:spreadsheet"


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
                raise _Refused(too_many_rows(f"The sheet {self.sheet!r}"))
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
            row = trim_row(self.row, self.row_no)
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
            f"so the file was refused. {SAVE_AGAIN}"
        )

    return handler


def _child(data: bytes) -> list[Any]:
    """Runs in the isolated child: ``["ok", [[name, rows]...]]`` (JSON-safe, dates tagged),
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
            f"({exc}). {SAVE_AGAIN}",
        ]
    if not builder.tables:
        return ["refused", "The Excel 2003 XML file has no worksheet."]
    return [
        "ok",
        [[t.name, [[tag_cell(v) for v in row] for row in t.rows]] for t in builder.tables],
    ]


def read_spreadsheetml(data: bytes) -> list[Table]:
    """Every worksheet of an Excel 2003 XML file."""
    try:
        answer = run_in_child(_child, data, LIMITS)
    except ChildFailed as failed:
        if failed.reason == TOO_COMPLEX:
            raise RefDataError(
                "The Excel 2003 XML file needs far more memory or time to read than any list "
                f"does, so it was not read. {SAVE_AGAIN}"
            ) from None
        raise RefDataError(
            f"The Excel 2003 XML file could not be read: reading it failed. {SAVE_AGAIN}"
        ) from None
    if not isinstance(answer, list) or len(answer) != 2:
        raise RefDataError(f"The Excel 2003 XML file could not be read. {SAVE_AGAIN}")
    if answer[0] != "ok":
        raise RefDataError(str(answer[1]))
    return [
        Table(str(name), [[untag_cell(v) for v in row] for row in rows]) for name, rows in answer[1]
    ]
