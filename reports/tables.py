"""Tables people open in a spreadsheet: CSV and XLSX with outside text kept as text.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be read
as a formula by Excel or LibreOffice (CSV injection); in CSV such text is written with a
leading apostrophe, in XLSX as an explicit string cell (never a formula).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
Value = str | int | float | bool | None


def csv_cell(value: Value) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(header: Sequence[str], rows: Sequence[Sequence[Value]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()


def write_xlsx(
    path: Path, sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Value]]]]
) -> None:
    """One sheet per (title, header, rows); strings are always string cells."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    book = Workbook()
    for default in list(book.worksheets):
        book.remove(default)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title[:31])
        table: list[list[Value]] = [list(header), *[list(x) for x in rows]]
        for r, row in enumerate(table, start=1):
            for c, value in enumerate(row, start=1):
                cell = sheet.cell(row=r, column=c)
                if isinstance(value, str):
                    cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters
                    cell.data_type = "s"  # never a formula, whatever the text starts with
                else:
                    cell.value = value
                if r == 1:
                    cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    book.save(path)
