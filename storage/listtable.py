"""What every reference-list reader shares: the :class:`Table` it gives, the
:class:`RefDataError` it raises, and the bounds on what it reads.

A reference list is the operator's file (RMI's exports, the EU's CAHRA list, the supplier
registry), so its problems are the operator's to fix: a ``RefDataError`` carries one
sentence for them, never the supplier-facing wording of :mod:`plugins.workbook`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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

SAVE_AGAIN = "Open it in Excel and save it again as .xlsx or CSV, then import that file."

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


def too_many_rows(what: str) -> str:
    return f"{what} has more than {MAX_ROWS:,} rows; no reference list is that long, so it was not read."


def too_big(size: int) -> str:
    return (
        f"The file is {size / (1024 * 1024):.0f} MB; no reference list is larger than "
        f"{MAX_FILE_BYTES // (1024 * 1024)} MB, so it was not read."
    )


def trim_row(row: list[Value], number: int) -> list[Value]:
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
