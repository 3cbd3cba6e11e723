"""How an RMAP list's table is laid out: its header row, and where each row's status comes from.

The header row is found among the first rows by the column names it uses (compared loosely:
case, punctuation and odd spaces ignored). A row's status comes from a status column, else
mark columns (a column headed by a status word, whose marked cells give that status), else
the sheet's name when it is a status word once metal names, filler words and punctuation are
dropped; :mod:`storage.rmap_import` reads the rows accordingly.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from plugins.normalize import clean_text
from plugins.rmap_status import METALS, standing_of, status_key

from .listcells import ODD_CHARS, header_key, repair_cid
from .listdates import slash_order
from .listtable import HEADER_SCAN_ROWS, Table, Value

#: Column names by field, as RMI's exports, filings and hand-made lists spell them.
FIELD_HEADERS: dict[str, tuple[str, ...]] = {
    "cid": (
        "Smelter ID",
        "Smelter Identification",
        "Smelter Identification Number",
        "Smelter ID Number",
        "V3 Smelter ID",
        "Facility ID",
        "New Smelter ID",
        "RMI ID",
        "CID",
        "SmelterID",
    ),
    "status": (
        "Status",
        "Assessment Status",
        "RMAP Status",
        "RMAP Audit Status",
        "RMAP Assessment Status",
        "Audit Status",
        "RMI Status",
        "Conformance Status",
        "Facility Status",
    ),
    "name": (
        "Standard Smelter Name",
        "Smelter Name",
        "Smelter/Refiner Name",
        "Smelter or Refiner Name",
        "Facility Name",
        "Standard Facility Name",
        "Refiner Name",
        "Name",
    ),
    "metal": ("Metal", "Mineral", "Metal Type", "Metals"),
    "country": (
        "Country",
        "Country Location",
        "Smelter Country",
        "Location",
        "Facility Country",
        "Facility Location Country",
        "Smelter Facility Location Country",
        "Smelter Facility Location: Country",
    ),
    "last_assessment": (
        "Last Audit Date",
        "Last Assessment Date",
        "Date of Last Audit",
        "Date of Last Assessment",
        "Last Assessment",
        "Last Audit",
        "Audit Date",
        "Assessment Date",
    ),
    "audit_cycle": ("Audit Cycle", "Assessment Cycle", "Audit Frequency"),
    "next_assessment": (
        "Re-audit Due",
        "Reaudit Due Date",
        "Re-Audit Due Date",
        "Re-assessment Due",
        "Re-assessment Date",
        "Reassessment Date",
        "Next Audit Date",
        "Next Audit",
        "Next Assessment Date",
        "Valid Until",
        "Expiry Date",
        "Conformance Expiry",
    ),
}
FIELD_KEYS: dict[str, frozenset[str]] = {
    field: frozenset(header_key(name) for name in names) for field, names in FIELD_HEADERS.items()
}
#: A "Type" column is a status column only when its cells are (mostly) status words.
TYPE_HEADERS = ("Type",)
_TYPE_KEYS = frozenset(header_key(h) for h in TYPE_HEADERS)
#: Cells that mark a row in a mark column (emoji variation selectors ignored), besides the
#: column's own status word ("Conformant" under "RMAP Conformant").
MARKS = frozenset({"*", "✓", "✔", "☑", "✅", "√", "x", "yes", "y", "true", "1"})
#: Cells that say "no mark" in so many words; empty cells say it too. Anything else in a
#: mark column stops the import.
NOT_MARKS = frozenset({"no", "n", "false", "-", "\u2013", "\u2014"})
#: How many unrecognised mark values an error lists, and how much of each.
MAX_MARKS_LISTED, MAX_MARK_CHARS = 10, 40
#: Words a sheet's name may hold around its status word ("Active List", "Conformant
#: Smelters & Refiners", "RMAP Conformant (Tin)"), besides metal names and punctuation.
NAME_FILLER = frozenset(
    {
        "list",
        "lists",
        "smelter",
        "smelters",
        "facility",
        "facilities",
        "refiner",
        "refiners",
        "rmap",
        "rmi",
        "and",
    }
)
_METAL_WORDS = frozenset(k for k in METALS if re.fullmatch(r"\w+", k))
_METAL_PHRASES = re.compile(
    r"(?<!\w)(?:"
    + "|".join(
        r"\W+".join(re.escape(w) for w in re.findall(r"\w+", k))
        for k in sorted(METALS, key=len, reverse=True)
        if k not in _METAL_WORDS
    )
    + r")(?!\w)",
    re.I,
)
_DASH_CHARS = r"\-\u2010-\u2015\u2212"
NOT_MARKED = "Not marked"
NOT_MARKED_STANDING = "not-conformant"


# -- smelter ids ---------------------------------------------------------------------------


def safe_text(text: str) -> str:
    """Text for a message, with invisible characters shown as escapes."""
    return "".join(
        c if c.isprintable() and not ODD_CHARS.match(c) else f"\\u{ord(c):04x}" for c in text
    )


# -- header recognition ----------------------------------------------------------------------


@dataclass
class Layout:
    header: int  # 0-based row index
    cols: dict[str, int]
    headers: dict[str, str]  # field -> header text
    marks: list[tuple[int, str]]  # (column, status word) of mark columns
    type_col: int | None
    id_only: bool = False  # only the smelter id column is recognised


def find_layout(
    rows: Sequence[Sequence[Value]], status_map: dict[str, str] | None
) -> Layout | None:
    """The first row of the first rows naming a smelter id column and another recognised
    column; else the first naming only a smelter id column (a one-column list)."""
    id_only: Layout | None = None
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        cols: dict[str, int] = {}
        headers: dict[str, str] = {}
        marks: list[tuple[int, str]] = []
        type_col: int | None = None
        for col, cell in enumerate(row):
            if not isinstance(cell, str) or not cell.strip():
                continue
            key = header_key(cell)
            field = next((f for f, keys in FIELD_KEYS.items() if key in keys), None)
            if field:
                if field not in cols:
                    cols[field], headers[field] = col, clean_text(cell)
            elif key in _TYPE_KEYS:
                type_col = col if type_col is None else type_col
            elif key and standing_of(cell, status_map):
                marks.append((col, clean_text(cell).rstrip("*").strip()))
        if "cid" in cols and (len(cols) >= 2 or marks or type_col is not None):
            return Layout(i, cols, headers, marks, type_col)
        if "cid" in cols and id_only is None:
            id_only = Layout(i, cols, headers, [], None, id_only=True)
    return id_only


def loose_words(name: str) -> tuple[str, str]:
    """A name without metal names, :data:`NAME_FILLER` words and punctuation, as
    ``(with its spaced dashes, without them)``: ``"Active - Gold"`` -> ``("Active", "Active")``;
    ``"Non-Conformant Tin"`` -> ``("Non-Conformant", "Non-Conformant")``."""
    text = _METAL_PHRASES.sub(" ", clean_text(name))
    text = re.sub(rf"[^\w\s{_DASH_CHARS}]|_", " ", text)
    tokens: list[str] = []
    for token in text.split():
        parts = [
            part
            for part in re.split(rf"[{_DASH_CHARS}]+", token)
            if part and part.casefold() not in NAME_FILLER and part.casefold() not in _METAL_WORDS
        ]
        if parts:
            tokens.append("-".join(parts))
        elif re.fullmatch(rf"[{_DASH_CHARS}]+", token) and tokens and tokens[-1] != "-":
            tokens.append("-")  # a dash between words: "Due Diligence Review - Unable to Proceed"
    while tokens and tokens[-1] == "-":
        tokens.pop()
    return " ".join(tokens), " ".join(t for t in tokens if t != "-")


def status_from_name(name: str, status_map: dict[str, str] | None) -> str:
    """The status word a sheet's name gives, ``""`` when none: the name itself, else what
    is left without metal names, filler words ("Smelters", "List", "RMAP", "and", "&") and
    punctuation: ``"Active List"``, ``"Active - Gold"``, ``"RMAP Conformant (Tin)"``,
    ``"Conformant_Tantalum"``."""
    for text in (clean_text(name), *loose_words(name)):
        if text and standing_of(text, status_map):
            return text
    return ""


Source = tuple[int | None, list[tuple[int, str]], str, str]


def status_source(table: Table, layout: Layout, status_map: dict[str, str] | None) -> Source | None:
    """Where a table's statuses come from: ``(status column, mark columns, one status for
    every row, how it is described)``; None when the table has none."""
    col = layout.cols.get("status")
    if (
        col is None
        and layout.type_col is not None
        and _type_is_status(table.rows, layout, status_map)
    ):
        col = layout.type_col
    if col is not None:
        return col, [], "", f"status column {clean_text(table.rows[layout.header][col])!r}"
    if layout.marks:
        marked = ", ".join(repr(word) for _c, word in layout.marks)
        return None, layout.marks, "", f"status from the mark column(s) {marked}"
    named = status_from_name(table.name, status_map) if table.kind == "sheet" else ""
    if named:
        return None, [], named, "status from the sheet name"
    return None


def cell_at(row: Sequence[Value], col: int | None) -> Value:
    return row[col] if col is not None and col < len(row) else None


NUMBER_READ = "number read as a CID"


def read_id(value: Value) -> tuple[str | None, tuple[str, ...]]:
    """:func:`repair_cid`, and a number in an id column read as a CID: ``2082``, ``2082.0``,
    ``"002082"``, ``"2082.0"`` (one to six digits) -> ``CID002082``, reported as repaired."""
    if isinstance(value, bool):
        return None, ()
    if isinstance(value, int | float):
        if value == value and float(value).is_integer() and 1 <= value <= 999_999:
            return f"CID{int(value):06d}", (NUMBER_READ,)
        return None, ()
    cid, what = repair_cid(value)
    m = re.fullmatch(r"([0-9]{1,6})(?:\.0+)?", clean_text(value)) if cid is None else None
    if m and int(m[1]):
        return "CID" + m[1].zfill(6), (NUMBER_READ,)
    return cid, what


def has_ids(table: Table, layout: Layout) -> bool:
    col = layout.cols["cid"]
    return any(read_id(cell_at(r, col))[0] for r in table.rows[layout.header + 1 :])


def read_mark(value: Value, word: str) -> bool | None:
    """Whether a cell of the mark column headed ``word`` marks its row: True, False (empty,
    or "No"), or None for a value that is neither (the caller stops the import)."""
    text = clean_text(value).replace("\ufe0f", "").strip()
    if not text:
        return False
    key = text.casefold()
    if key in MARKS:
        return True
    if key in NOT_MARKS:
        return False
    if status_key(text) == status_key(word):
        return True
    loose = loose_words(text)[0]
    return True if loose and status_key(loose) == status_key(loose_words(word)[0]) else None


def _type_is_status(
    rows: Sequence[Sequence[Value]], layout: Layout, status_map: dict[str, str] | None
) -> bool:
    values = [clean_text(cell_at(r, layout.type_col)) for r in rows[layout.header + 1 :]]
    values = [v for v in values if v]
    known = sum(1 for v in values if standing_of(v, status_map))
    return bool(values) and known * 2 >= len(values)


def date_orders(table: Table, layout: Layout) -> tuple[dict[str, str], list[str], Counter[str]]:
    """The order of each date column's ``n/n/yyyy`` texts (:func:`slash_order`), the notes
    for the summary, and a counter of the ambiguous cells a mixed column leaves empty."""
    orders: dict[str, str] = {}
    notes: list[str] = []
    for field in ("last_assessment", "next_assessment"):
        col = layout.cols.get(field)
        if col is None:
            continue
        order = slash_order(cell_at(r, col) for r in table.rows[layout.header + 1 :])
        orders[field] = order
        if order == "dmy":
            notes.append(f"dates in {layout.headers[field]!r} read day first (as 19/11/2020 is)")
    return orders, notes, Counter()
