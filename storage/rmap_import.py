"""RMAP status lists as people hold them: RMI's exports, filings' tables, hand-made sheets.

A list is read sheet by sheet. In each, the header row is found among the first rows by
the column names it uses (compared loosely: case, punctuation and odd spaces ignored),
and the status of a row comes from, in this order:

1. a status column ("Status", "RMAP Audit Status", ...; or "Type" when it holds status words);
2. mark columns: a column headed by a status word ("Conformant", "Active") whose marked
   cells (``*``, ``✓``, ``x``, ``Yes``, ``1``, the column's own word, ...) give that status;
   empty (or "No") everywhere: "Not marked"; any other value stops the import;
3. the sheet's name, when it is a status word once metal names, filler words and
   punctuation are dropped (``Conformant``, ``Active List``, ``Active - Gold``,
   ``RMAP Conformant (Tin)``, ``Conformant Smelters & Refiners``);
4. ``default_status`` (``--status``), for a file whose EVERY row has that status: a CSV,
   or the only sheet of a workbook holding smelter ids.

A sheet of smelter ids with none of these stops the import (a list is never read with a
sheet silently left out); sheets without a recognised header (a cover, notes) are named
as ignored. RMI's words are kept as the list gives them; the standing they mean comes from
:mod:`plugins.rmap_status`, and a word it does not know stops the import (nothing is
guessed from spelling). Smelter ids with stray spaces, invisible characters, lower case,
missing zeros or no ``CID`` at all (a number: ``2082``) are repaired and reported, one
repair per id; ids that are not a CID are skipped and named. ``n/n/yyyy`` dates are read in
one order per column: day first where a cell's first number is above 12.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from plugins.normalize import clean_text
from plugins.reference import RmapEntry, SmelterRef
from plugins.rmap_status import (
    LIST_STANDINGS,
    METALS,
    canonical_metal,
    less_favourable,
    standing_of,
    status_key,
)

from .listcells import ODD_CHARS, header_key, repair_cid, row_text
from .listdates import (
    date_in_cells,
    find_date,
    is_ambiguous_slash,
    is_blank_date,
    parse_list_date,
    slash_order,
)
from .listfiles import read_tables
from .listtable import HEADER_SCAN_ROWS, RefDataError, Table, Value
from .smelter_import import repair_garbled

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
_FIELD_KEYS: dict[str, frozenset[str]] = {
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


@dataclass(frozen=True)
class Skipped:
    """A row not imported, and why ("no smelter id", "not a CID ...", "no status")."""

    where: str  # "sheet 'Active List' row 14", or "row 14" in a CSV
    text: str  # the id cell as cleaned text
    reason: str


@dataclass(frozen=True)
class Repair:
    """A smelter id read after a repair; one record per id, naming every fix."""

    where: str
    raw: str  # the cell as typed, repr-safe: "\\uffa0CID002082"
    cid: str
    #: the fixes, joined: "invisible character U+FFA0 removed", "upper-cased, zeros padded"
    what: str


@dataclass(frozen=True)
class Conflict:
    """One CID with different statuses in one import; the least favourable standing is kept."""

    cid: str
    statuses: tuple[str, ...]  # RMI's words seen, in order
    kept: str  # the status kept
    where: tuple[str, ...]


@dataclass(frozen=True)
class RmapImport:
    """An RMAP list as read, with everything an operator should be told about it."""

    entries: dict[str, RmapEntry]
    #: canonical metals of the rows: the row's metal column, else the smelter reference's
    metals: frozenset[str]
    #: the list's own date: a dated title row above the header, else a full date in the
    #: file name; never today
    as_of: dt.date | None
    as_of_source: str  # "title row 'RMAP ... as of May 1, 2025'", "file name" or ""
    #: what was read and what was ignored, one phrase per table; then one per date column
    #: that mixes month-first and day-first dates
    sources: tuple[str, ...]
    columns: dict[str, str]  # field -> header text used (first table read)
    conflicts: tuple[Conflict, ...]
    repairs: tuple[Repair, ...]
    skipped: tuple[Skipped, ...]
    dates_unparsed: int  # non-empty date cells that could not be read
    unmarked: int  # rows read through a mark column that carry no mark


# -- smelter ids ---------------------------------------------------------------------------


def _safe(text: str) -> str:
    """Text for a message, with invisible characters shown as escapes."""
    return "".join(
        c if c.isprintable() and not ODD_CHARS.match(c) else f"\\u{ord(c):04x}" for c in text
    )


# -- header recognition ----------------------------------------------------------------------


@dataclass
class _Layout:
    header: int  # 0-based row index
    cols: dict[str, int]
    headers: dict[str, str]  # field -> header text
    marks: list[tuple[int, str]]  # (column, status word) of mark columns
    type_col: int | None
    id_only: bool = False  # only the smelter id column is recognised


def _find_layout(
    rows: Sequence[Sequence[Value]], status_map: dict[str, str] | None
) -> _Layout | None:
    """The first row of the first rows naming a smelter id column and another recognised
    column; else the first naming only a smelter id column (a one-column list)."""
    id_only: _Layout | None = None
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        cols: dict[str, int] = {}
        headers: dict[str, str] = {}
        marks: list[tuple[int, str]] = []
        type_col: int | None = None
        for col, cell in enumerate(row):
            if not isinstance(cell, str) or not cell.strip():
                continue
            key = header_key(cell)
            field = next((f for f, keys in _FIELD_KEYS.items() if key in keys), None)
            if field:
                if field not in cols:
                    cols[field], headers[field] = col, clean_text(cell)
            elif key in _TYPE_KEYS:
                type_col = col if type_col is None else type_col
            elif key and standing_of(cell, status_map):
                marks.append((col, clean_text(cell).rstrip("*").strip()))
        if "cid" in cols and (len(cols) >= 2 or marks or type_col is not None):
            return _Layout(i, cols, headers, marks, type_col)
        if "cid" in cols and id_only is None:
            id_only = _Layout(i, cols, headers, [], None, id_only=True)
    return id_only


def _loose_words(name: str) -> tuple[str, str]:
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


def _status_from_name(name: str, status_map: dict[str, str] | None) -> str:
    """The status word a sheet's name gives, ``""`` when none: the name itself, else what
    is left without metal names, filler words ("Smelters", "List", "RMAP", "and", "&") and
    punctuation: ``"Active List"``, ``"Active - Gold"``, ``"RMAP Conformant (Tin)"``,
    ``"Conformant_Tantalum"``."""
    for text in (clean_text(name), *_loose_words(name)):
        if text and standing_of(text, status_map):
            return text
    return ""


_Source = tuple[int | None, list[tuple[int, str]], str, str]


def _status_source(
    table: Table, layout: _Layout, status_map: dict[str, str] | None
) -> _Source | None:
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
    named = _status_from_name(table.name, status_map) if table.kind == "sheet" else ""
    if named:
        return None, [], named, "status from the sheet name"
    return None


def _cell(row: Sequence[Value], col: int | None) -> Value:
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


def _has_ids(table: Table, layout: _Layout) -> bool:
    col = layout.cols["cid"]
    return any(read_id(_cell(r, col))[0] for r in table.rows[layout.header + 1 :])


def _mark(value: Value, word: str) -> bool | None:
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
    loose = _loose_words(text)[0]
    return True if loose and status_key(loose) == status_key(_loose_words(word)[0]) else None


def _type_is_status(
    rows: Sequence[Sequence[Value]], layout: _Layout, status_map: dict[str, str] | None
) -> bool:
    values = [clean_text(_cell(r, layout.type_col)) for r in rows[layout.header + 1 :]]
    values = [v for v in values if v]
    known = sum(1 for v in values if standing_of(v, status_map))
    return bool(values) and known * 2 >= len(values)


# -- dates -----------------------------------------------------------------------------------

_CYCLE = re.compile(r"(\d+(?:\.\d+)?)\s*(years?|yrs?|y|months?|mos?|m)?\.?", re.I)


def cycle_months(text: str) -> int | None:
    """``"1 Year"`` -> 12, ``"3 Years"`` -> 36, ``"12 months"`` -> 12, ``"3"`` -> 36, ``"18"`` -> 18."""
    t = clean_text(text).casefold()
    if t in ("annual", "annually", "yearly"):
        return 12
    m = _CYCLE.fullmatch(t)
    if not m:
        return None
    n = float(m[1])
    unit = (m[2] or "").casefold()
    months = n if unit.startswith("m") else n * 12 if unit or n <= 5 else n
    return round(months) if 0 < months <= 120 else None


def add_months(date: dt.date, months: int) -> dt.date:
    """``date`` plus ``months`` (the 31st of a shorter month: its last day)."""
    index = date.month - 1 + months
    year, month = date.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(date.day, calendar.monthrange(year, month)[1]))


def _date_orders(table: Table, layout: _Layout) -> tuple[dict[str, str], list[str], Counter[str]]:
    """The order of each date column's ``n/n/yyyy`` texts (:func:`slash_order`), the notes
    for the summary, and a counter of the ambiguous cells a mixed column leaves empty."""
    orders: dict[str, str] = {}
    notes: list[str] = []
    for field in ("last_assessment", "next_assessment"):
        col = layout.cols.get(field)
        if col is None:
            continue
        order = slash_order(_cell(r, col) for r in table.rows[layout.header + 1 :])
        orders[field] = order
        if order == "dmy":
            notes.append(f"dates in {layout.headers[field]!r} read day first (as 19/11/2020 is)")
    return orders, notes, Counter()


def _mixed_note(table: Table, header: str, ambiguous: int) -> str:
    """The summary's phrase for a date column written in both orders."""
    if not ambiguous:
        left = "no date in it could be either"
    elif ambiguous == 1:
        left = "1 date that could be either (such as 03/04/2021) was left empty"
    else:
        left = f"{ambiguous} dates that could be either (such as 03/04/2021) were left empty"
    return (
        f"{table.label}: column {header!r} mixes month-first (11/19/2020) and day-first "
        f"(19/11/2020) dates; {left}"
    )


# -- the import ------------------------------------------------------------------------------


@dataclass
class _Seen:
    status: str
    standing: str
    entry: RmapEntry
    where: str


def _check_map(status_map: dict[str, str] | None) -> dict[str, str] | None:
    if not status_map:
        return None
    out: dict[str, str] = {}
    bad = []
    for word, standing in status_map.items():
        key = clean_text(standing).casefold().replace(" ", "-").replace("_", "-")
        key = (
            "not-conformant" if key in ("nonconformant", "non-conformant", "notconformant") else key
        )
        if key not in LIST_STANDINGS:
            bad.append(f"{word}={standing}")
        out[clean_text(word)] = key
    if bad:
        raise RefDataError(
            f"--map gives a standing Assay does not know ({', '.join(bad)}); a status word maps "
            f"to one of: {', '.join(LIST_STANDINGS)}."
        )
    return out


def _no_header_message() -> str:
    expected = "; ".join(
        f"{field.replace('_', ' ')}: {' / '.join(repr(n) for n in FIELD_HEADERS[field][:4])}"
        for field in ("cid", "status", "name", "metal", "country")
    )
    return (
        "No header row was found in the first rows of any sheet. A list needs a smelter id "
        "column and a status column (or, when every row has one status, --status WORD), "
        f"with names such as: {expected}."
    )


def _one_column_message(layout: _Layout) -> str:
    return (
        f"The list is a single column of smelter ids ({layout.headers['cid']!r}) with no "
        "status. If EVERY row has the same status (RMI's Conformant-only export, say), import "
        "it with --status WORD (e.g. --status Conformant); otherwise add a status column "
        "('Status') and import it again."
    )


def _sheets_without_status(missing: list[Table], only_sheet: bool) -> str:
    names = ", ".join(repr(t.name) for t in missing)
    one = len(missing) == 1
    word = next(
        (w for w in (_loose_words(t.name)[1] for t in missing) if w and len(w) <= MAX_WORD_CHARS),
        "WORD",
    )
    message = (
        f"The sheet{'' if one else 's'} {names} {'holds' if one else 'hold'} smelter ids but "
        "no status: no status column (such as 'Status' or 'RMAP Audit Status'), no column of "
        "marks headed by a status word, and a name that is not a status word. Nothing was "
        f"imported, so that no smelter is left out. Rename {'the' if one else 'each'} sheet "
        "for the status of its rows (e.g. 'Conformant', 'Active List' or 'Active - Gold'), or "
        "delete it if it is not part of the list; if its name is a status word Assay does not "
        f"know, give that word's standing with --map, e.g. --map \"{word}=conformant|active|"
        'not-conformant" (choose one).'
    )
    if only_sheet:
        message += (
            " If EVERY row of the sheet has the same status, --status WORD also gives it "
            "that status."
        )
    return message


def _status_for_many_sheets(default_status: str, with_ids: list[Table]) -> str:
    names = ", ".join(repr(t.name) for t in with_ids[:10])
    more = f" and {len(with_ids) - 10} more" if len(with_ids) > 10 else ""
    return (
        f"--status {default_status!r} gives every row one status, but the workbook has "
        f"{len(with_ids)} sheets with smelter ids ({names}{more}): it would give every sheet "
        "that status. Nothing was imported. Name each sheet for the status of its rows (e.g. "
        "'Conformant', 'Active List') or give it a status column, and import the file "
        "without --status."
    )


_NO_STATUS = (
    "The list has smelter ids but no status: no status column (such as 'Status', "
    "'RMAP Audit Status' or 'Assessment Status'), no column of marks headed by a status word "
    "(such as 'Conformant'), and no sheet named after a status (such as 'Active List'). "
    "If EVERY row of the file has the same status (RMI's Conformant-only export, say), import "
    "it with --status WORD (e.g. --status Conformant); if the file has a status column named "
    "otherwise, report its header so Assay can recognise it."
)


#: How many unknown status words an error lists, and how much of each.
MAX_WORDS_LISTED, MAX_WORD_CHARS = 20, 60


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _unknown_words_message(unknown: Counter[str]) -> str:
    ranked = unknown.most_common()
    listed = ", ".join(
        f"{_cut(word, MAX_WORD_CHARS)!r} ({n} row{'s' if n != 1 else ''})"
        for word, n in ranked[:MAX_WORDS_LISTED]
    )
    if len(ranked) > MAX_WORDS_LISTED:
        listed += f" and {len(ranked) - MAX_WORDS_LISTED} more"
    first = next((w for w, _n in ranked if len(w) <= MAX_WORD_CHARS), "WORD")
    return (
        f"The list uses status words Assay does not know: {listed}. Nothing was imported. "
        "Say what each word means with one --map per word, e.g. "
        f'--map "{first}=conformant|active|not-conformant" (choose one standing), and '
        "import the file again."
    )


def _bad_marks_message(bad: Counter[str], columns: list[str]) -> str:
    ranked = bad.most_common()
    listed = ", ".join(
        f"{value!r} ({n} row{'s' if n != 1 else ''})" for value, n in ranked[:MAX_MARKS_LISTED]
    )
    if len(ranked) > MAX_MARKS_LISTED:
        listed += f" and {len(ranked) - MAX_MARKS_LISTED} more"
    return (
        f"The mark column{'' if len(columns) == 1 else 's'} {', '.join(columns)} "
        f"{'holds' if len(columns) == 1 else 'hold'} values that are not marks: {listed}. "
        "Nothing was imported, since Assay does not guess whether they mark a row. A marked "
        "cell holds *, ✓, ✔, √, x, Yes, Y, TRUE, 1 or the column's own status word; an "
        "unmarked cell is empty or No. Correct those cells (or give the sheet a 'Status' "
        "column with a status word per row) and import the file again."
    )


def parse_rmap_file(
    path: Path,
    *,
    default_status: str = "",
    status_map: dict[str, str] | None = None,
    smelters: dict[str, SmelterRef] | None = None,
) -> RmapImport:
    """Read an RMAP status list; :class:`RefDataError` with a sentence when it cannot be used.

    ``default_status``: the status of every row (``--status``) of a CSV, or of the only
    sheet of a workbook holding smelter ids, when it has no status of its own; refused for a
    workbook with two or more sheets of ids.
    ``status_map``: further status words and their standing (``--map WORD=STANDING``).
    ``smelters``: the smelter reference, for the metal of rows that do not name one.
    """
    status_map = _check_map(status_map)
    default_status = clean_text(default_status)
    tables = read_tables(path)
    if {"Declaration", "Smelter List"} <= {t.name for t in tables}:
        raise RefDataError(
            "The file is an RMI reporting template (it has Declaration and Smelter List "
            "sheets), not an RMAP status list: screen it with 'assay screen'. An RMAP list is "
            "RMI's facilities export, with a smelter id and a status per smelter."
        )
    if default_status and not standing_of(default_status, status_map):
        raise RefDataError(
            f"--status {default_status!r} is not a status word Assay knows; give its standing "
            f'too, e.g. --map "{default_status}=conformant|active|not-conformant" (choose one).'
        )
    unknown: Counter[str] = Counter()
    bad_marks: Counter[str] = Counter()
    bad_columns: dict[str, None] = {}  # mark columns holding them, in order
    seen: dict[str, list[_Seen]] = {}
    repairs: list[Repair] = []
    skipped: list[Skipped] = []
    sources: list[str] = []
    columns: dict[str, str] = {}
    dates_unparsed = unmarked = 0
    as_of: dt.date | None = None
    as_of_source = ""

    # First every table's header, status source and ids: no sheet of smelter ids is left
    # out silently, and --status never gives one status to several sheets.
    plans: list[tuple[Table, _Layout, _Source | None, bool]] = []
    for table in tables:
        layout = _find_layout(table.rows, status_map)
        if layout is None:
            sources.append(f"{table.label}: ignored, no header row with a smelter id column")
            continue
        if as_of is None:
            for title in table.rows[: layout.header]:
                found = date_in_cells(title)
                if found:
                    as_of, as_of_source = found, f"title row {row_text(title)!r}"
                    break
        source = _status_source(table, layout, status_map)
        plans.append((table, layout, source, _has_ids(table, layout)))
    if not plans:
        raise RefDataError(_no_header_message())
    with_ids = [table for table, _l, _s, ids in plans if ids]
    workbook = any(table.kind == "sheet" for table in tables)
    if default_status and workbook and len(with_ids) > 1:
        raise RefDataError(_status_for_many_sheets(default_status, with_ids))
    missing = [(table, layout) for table, layout, source, ids in plans if ids and source is None]
    if missing and not default_status:
        if not workbook:
            table, layout = missing[0]
            raise RefDataError(_one_column_message(layout) if layout.id_only else _NO_STATUS)
        raise RefDataError(_sheets_without_status([t for t, _l in missing], len(with_ids) == 1))
    given: _Source = (None, [], default_status, f"status {default_status!r} given for every row")

    for table, layout, maybe_source, ids in plans:
        rows = table.rows
        if maybe_source is None and not ids:
            # a header, but no smelter id below it and no status: its rows are named skipped
            maybe_source = (None, [], "", "no smelter id below the header")
        source = given if maybe_source is None else maybe_source
        status_col, marks, fixed, how = source
        if not columns and ids:
            columns = dict(layout.headers)
            if marks:
                columns["status"] = ", ".join(w for _c, w in marks) + " (marks)"
            elif status_col is not None:
                columns["status"] = clean_text(rows[layout.header][status_col])
        cols = layout.cols
        has_next = "next_assessment" in cols
        orders, date_notes, ambiguous = _date_orders(table, layout)
        read = 0
        for index in range(layout.header + 1, len(rows)):
            row = rows[index]
            if not any(clean_text(c) for c in row):
                continue
            where = table.where(index + 1)
            id_cell = _cell(row, cols["cid"])
            id_text = clean_text(id_cell)
            if not id_text:
                skipped.append(Skipped(where, "", "no smelter id"))
                continue
            cid, what = read_id(id_cell)
            if cid is None:
                reason = (
                    "the header repeated"
                    if header_key(id_text) in _FIELD_KEYS["cid"]
                    else "not a CID (a smelter id is CID and six digits, e.g. CID002082)"
                )
                skipped.append(Skipped(where, id_text, reason))
                continue
            words: list[str]
            if marks:
                words = []
                for col, word in marks:
                    marked = _mark(_cell(row, col), word)
                    if marked is None:
                        bad_marks[_cut(clean_text(_cell(row, col)), MAX_MARK_CHARS)] += 1
                        bad_columns.setdefault(f"{word!r}", None)
                    elif marked:
                        words.append(word)
                if not words:
                    words = [NOT_MARKED]
                    unmarked += 1
            elif status_col is not None:
                word = clean_text(_cell(row, status_col))
                if not word:
                    skipped.append(Skipped(where, id_text, "no status"))
                    continue
                words = [word]
            else:
                words = [fixed]
            if what:
                repairs.append(Repair(where, _safe(str(id_cell)), cid, ", ".join(what)))
            name = _clean_name(_cell(row, cols.get("name")))
            ref = smelters.get(cid) if smelters else None
            if ref is not None and ("?" in name or "\ufffd" in name):
                name = repair_garbled(name, (ref.name, *ref.aliases)) or name
            metal = canonical_metal(_cell(row, cols.get("metal"))) or (
                canonical_metal(ref.metal) if ref else ""
            )
            dates: list[dt.date | None] = []
            for field in ("last_assessment", "next_assessment"):
                value = _cell(row, cols.get(field))
                date = parse_list_date(value, orders.get(field, ""))
                if date is None and not is_blank_date(value):
                    dates_unparsed += 1
                    if orders.get(field) == "mixed" and is_ambiguous_slash(value):
                        ambiguous[field] += 1
                dates.append(date)
            last, following = dates
            cycle = clean_text(_cell(row, cols.get("audit_cycle")))
            if not has_next and last and cycle:
                months = cycle_months(cycle)
                following = add_months(last, months) if months else None
            for word in words:
                standing = (
                    NOT_MARKED_STANDING if word == NOT_MARKED else standing_of(word, status_map)
                )
                if standing is None:
                    unknown[word] += 1
                    continue
                entry = RmapEntry(
                    cid=cid,
                    status=word,
                    name=name,
                    metal=metal,
                    country=clean_text(_cell(row, cols.get("country"))),
                    last_assessment=last,
                    next_assessment=following,
                    audit_cycle=cycle,
                    standing=standing,
                )
                seen.setdefault(cid, []).append(_Seen(word, standing, entry, where))
            read += 1
        sources.append(
            f"{table.label}: {read} row{'' if read == 1 else 's'}, {how}"
            + "".join(f", {note}" for note in date_notes)
        )
        for field, order in orders.items():
            if order == "mixed":
                sources.append(_mixed_note(table, layout.headers[field], ambiguous[field]))

    if bad_marks:
        raise RefDataError(_bad_marks_message(bad_marks, list(bad_columns)))
    if unknown:
        raise RefDataError(_unknown_words_message(unknown))
    if not seen:
        example = f", e.g. {skipped[0].where}: {skipped[0].reason}" if skipped else ""
        raise RefDataError(
            "The header was recognised but no row could be imported: a list needs rows with "
            f"a smelter id of the form CID000000 and a status ({len(skipped)} row(s) "
            f"skipped{example})."
        )

    entries: dict[str, RmapEntry] = {}
    conflicts: list[Conflict] = []
    for cid, sightings in seen.items():
        kept = sightings[0]
        for other in sightings[1:]:
            if less_favourable(other.standing, kept.standing) == other.standing and (
                other.standing != kept.standing
            ):
                kept = other
        entries[cid] = kept.entry
        words = list(dict.fromkeys(s.status for s in sightings))
        keys = {status_key(w) for w in words}
        if len(keys) > 1:
            conflicts.append(
                Conflict(cid, tuple(words), kept.status, tuple(s.where for s in sightings))
            )
    if as_of is None:
        as_of = find_date(path.name)
        as_of_source = "file name" if as_of else ""
    return RmapImport(
        entries=entries,
        metals=frozenset(e.metal for e in entries.values() if e.metal),
        as_of=as_of,
        as_of_source=as_of_source,
        sources=tuple(sources),
        columns=columns,
        conflicts=tuple(conflicts),
        repairs=tuple(repairs),
        skipped=tuple(skipped),
        dates_unparsed=dates_unparsed,
        unmarked=unmarked,
    )


def _clean_name(value: Value) -> str:
    text = value if isinstance(value, str) else clean_text(value)
    return clean_text(ODD_CHARS.sub(" ", text))
