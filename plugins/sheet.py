"""Cells by address, as in Excel: ``"D8"`` <-> (row 8, column 3), and one sheet's values.

Rows are 1-based and columns 0-based, as the engine hands them over (a row is a list).
"""

from __future__ import annotations

import re
from typing import Any

#: Excel's own grid.
EXCEL_MAX_ROW, EXCEL_MAX_COL = 1_048_576, 16_384


def col_index(col: str) -> int:
    """``"D"`` -> 3 (0-based); upper-case letters only."""
    n = 0
    for ch in col:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


def parse_ref(ref: str) -> tuple[int, int] | None:
    """``"E12"`` (or ``"$E$12"``, ``"e12"``, or the first cell of ``"E12:F13"``) -> (12, 4);
    None when it is not a cell inside Excel's grid."""
    m = _REF.fullmatch(ref.strip().split(":", 1)[0])
    if m is None:
        return None
    row, col = int(m.group(2)), col_index(m.group(1).upper())
    if not (1 <= row <= EXCEL_MAX_ROW and 0 <= col < EXCEL_MAX_COL):
        return None
    return row, col


def cell_rc(cell: str) -> tuple[int, int]:
    """``"D8"`` -> (8, 3): 1-based row, 0-based column; ``ValueError`` for anything that is
    not a cell inside Excel's grid (see :func:`parse_ref`)."""
    rc = parse_ref(cell)
    if rc is None:
        raise ValueError(f"not a cell address: {cell!r}")
    return rc


def col_letter(index: int) -> str:
    """0-based column index -> letters."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


class Sheet:
    """Cell values of one sheet, addressed as in Excel.

    The grid is anchored at A1 (calamine's default would start at the first used cell).
    """

    def __init__(self, name: str, rows: list[list[Any]]) -> None:
        self.name = name
        self._rows = rows

    def get(self, row: int, col: int) -> Any:
        """Value at 1-based ``row`` and 0-based ``col``; ``None`` outside the used range."""
        r = row - 1
        c = col
        if r < 0 or c < 0 or r >= len(self._rows):
            return None
        line = self._rows[r]
        if c >= len(line):
            return None
        value = line[c]
        return None if value == "" else value

    def __getitem__(self, cell: str) -> Any:
        row, col = cell_rc(cell)
        return self.get(row, col)

    @property
    def last_row(self) -> int:
        return len(self._rows)

    def iter_rows(self, first: int, last: int | None = None) -> Any:
        """Yield ``(row_number, values)`` with values indexed from column A."""
        stop = self.last_row if last is None else min(last, self.last_row)
        for row in range(max(first, 1), stop + 1):
            yield row, self._rows[row - 1]
