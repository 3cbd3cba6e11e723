"""The smelter reference: a template's Smelter Look-up, or RMI's Smelter Reference List export.

Two shapes are read:

- the **Smelter Look-up** sheet of an RMI template (a CMRT, EMRT, CRT or AMRT): from row 5,
  A metal, B look-up name (an alias), C standard smelter name, D country, E smelter id. Its
  header row is in the template's UI language, so the sheet is read by position;
- RMI's **Smelter Reference List** export (XLSX, CSV or Excel 2003 XML): columns METAL,
  COUNTRY, STANDARD SMELTER NAME, KEY TERM 1..4 (aliases), V3 Smelter ID, found by name.

RMI's own files carry names whose non-ASCII letters were lost on the way ("Pe?oles" for
"Peñoles") or double-encoded ("MÃ©taux"). A lost letter is restored from the other names
of the same smelter; an alias that cannot be restored is dropped rather than kept garbled.
``scripts/build_refdata.py`` builds the embedded list with the same reader.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from plugins.normalize import clean_cid, clean_text, is_cid
from plugins.reference import SmelterRef
from plugins.rmap_status import canonical_metal

from .listcells import header_key, repair_cid
from .listdates import date_in_cells, find_date
from .listfiles import read_tables
from .listtable import HEADER_SCAN_ROWS, RefDataError, Table, Value

LOOKUP_SHEET = "Smelter Look-up"
LOOKUP_FIRST_ROW = 5
#: Look-up rows that are not smelters (the end of each metal's block).
_SPECIAL_ROWS = frozenset({"smelter not listed", "smelter not yet identified"})

EXPORT_HEADERS: dict[str, tuple[str, ...]] = {
    "cid": ("V3 Smelter ID", "Smelter ID", "Smelter Identification Number", "CID", "Facility ID"),
    "metal": ("Metal", "Mineral"),
    "name": ("Standard Smelter Name", "Standard Smelter Names", "Smelter Name", "Facility Name"),
    "country": (
        "Country",
        "Smelter Country",
        "Country Location",
        "Smelter Facility Location Country",
    ),
}
_EXPORT_KEYS = {f: frozenset(header_key(n) for n in names) for f, names in EXPORT_HEADERS.items()}
_ALIAS_HEADER = re.compile(
    r"key term ?\d*|key terms|aliases?|smelter look ?up|other names?|known as"
)


@dataclass(frozen=True)
class SmelterImport:
    version: str  # "smelters:2025-05-01" or "smelters:<file name>"
    smelters: dict[str, SmelterRef]
    source: str  # what was read, for the summary
    skipped: int  # rows with text but no smelter id


# -- names ------------------------------------------------------------------------------------

_GARBLE = "?\ufffd"
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6"
    "\u02dc\u2013\u2014\u2018\u2019\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039"
    "\u203a\u20ac\u2122]"
)
_WORD = re.compile(r"[\w?\ufffd]+")
_ODD_SPACES = re.compile(r"[\u00a0\u2000-\u200b\u202f\u3000\u3164\ufeff\uffa0]")


def fix_mojibake(text: str) -> str:
    """UTF-8 read as Windows-1252 (``"MÃ©taux"``) decoded back (``"Métaux"``); else as given."""
    if not _MOJIBAKE.search(text):
        return text
    raw = bytearray()
    for char in text:
        try:
            raw += char.encode("cp1252")
        except UnicodeEncodeError:
            if ord(char) > 255:
                return text
            raw.append(ord(char))  # the five bytes cp1252 leaves undefined
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return text


def _garbled_inside(word: str) -> bool:
    """A lost letter inside a word: ``?`` with letters around it, or any U+FFFD."""
    if "\ufffd" in word:
        return True
    core = word.strip("?")
    return "?" in core and any(c.isalpha() for c in core)


def repair_garbled(text: str, others: Iterable[str]) -> str | None:
    """``text`` with each lost letter restored from ``others`` (other names of the smelter).

    In ``"Met-Mex Pe?oles"`` the word ``Pe?oles`` matches ``Peñoles`` in another name
    (``?`` standing for exactly one non-ASCII letter), so it becomes ``"Met-Mex Peñoles"``.
    Returns the text unchanged when nothing is lost, and None when a lost letter cannot be
    restored (no other name has the word, or two names disagree).
    """
    if not any(c in text for c in _GARBLE):
        return text
    pool = {w for other in others for w in re.findall(r"\w+", other) if not w.isascii()}
    out: list[str] = []
    last = 0
    for m in _WORD.finditer(text):
        word = m.group(0)
        if not _garbled_inside(word):
            continue
        pattern = re.compile(
            "".join("([^\\x00-\\x7f])" if c in _GARBLE else re.escape(c) for c in word), re.I
        )
        fills = set()
        for candidate in pool:
            hit = pattern.fullmatch(candidate)
            if hit and all(g.isalpha() for g in hit.groups()):
                fills.add(hit.groups())
        if len(fills) != 1:
            return None
        letters = iter(fills.pop())
        out.append(text[last : m.start()])
        out.append("".join(next(letters) if c in _GARBLE else c for c in word))
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def clean_name(value: Value) -> str:
    """A smelter name: odd spaces (U+FFA0, no-break, full-width) as spaces, mojibake decoded."""
    text = value if isinstance(value, str) else clean_text(value)
    return clean_text(_ODD_SPACES.sub(" ", fix_mojibake(text)))


# -- collecting smelters ------------------------------------------------------------------------


@dataclass
class _Entry:
    cid: str
    metal: str
    name: str
    country: str
    aliases: list[str] = field(default_factory=list)


class SmelterTable:
    """Smelters collected row by row; a later row overwrites name, metal and country.

    (The build script adds templates oldest first, so the newest template's names win.)
    """

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, cid: str, metal: str, name: str, country: str, aliases: Iterable[str]) -> None:
        entry = self._entries.setdefault(cid, _Entry(cid, metal, name, country))
        if name:
            entry.name = name
        if country:
            entry.country = country
        if metal:
            entry.metal = metal
        for alias in aliases:
            if alias and alias != entry.name and alias not in entry.aliases:
                entry.aliases.append(alias)

    def finish(self) -> dict[str, SmelterRef]:
        """The smelters by CID (sorted), names repaired, aliases repaired, de-duplicated, sorted."""
        out: dict[str, SmelterRef] = {}
        for cid in sorted(self._entries):
            entry = self._entries[cid]
            names = [entry.name, *entry.aliases]
            name = repair_garbled(entry.name, names[1:]) or entry.name
            aliases: set[str] = set()
            for i, alias in enumerate(entry.aliases):
                others = [n for j, n in enumerate(names) if j != i + 1]
                fixed = repair_garbled(alias, others)
                if fixed and fixed != name:
                    aliases.add(fixed)
            out[cid] = SmelterRef(cid, entry.metal, name, entry.country, tuple(sorted(aliases)))
        return out


def lookup_records(rows: Sequence[Sequence[Value]]) -> Iterator[tuple[str, str, str, str, str]]:
    """``(cid, metal, look-up name, standard name, country)`` of a Smelter Look-up sheet's rows.

    Rows without a CID in column E or without a metal (the "Smelter not listed" rows) are
    left out.
    """
    for row in rows[LOOKUP_FIRST_ROW - 1 :]:
        if len(row) < 5:
            continue
        cid = clean_cid(row[4])
        metal = clean_text(row[0])
        if not is_cid(cid) or not metal:
            continue
        alias, name, country = (clean_name(v) for v in row[1:4])
        yield cid, metal, alias, name, country


def _is_lookup(table: Table) -> bool:
    return table.kind == "sheet" and header_key(table.name) == header_key(LOOKUP_SHEET)


def _export_layout(rows: Sequence[Sequence[Value]]) -> tuple[int, dict[str, int], list[int]] | None:
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        cols: dict[str, int] = {}
        alias_cols: list[int] = []
        for col, cell in enumerate(row):
            key = header_key(cell)
            if not key:
                continue
            found = next((f for f, keys in _EXPORT_KEYS.items() if key in keys), None)
            if found and found not in cols:
                cols[found] = col
            elif _ALIAS_HEADER.fullmatch(key):
                alias_cols.append(col)
        if "cid" in cols and "name" in cols:
            return i, cols, alias_cols
    return None


def _cell(row: Sequence[Value], col: int | None) -> Value:
    return row[col] if col is not None and col < len(row) else None


def parse_smelter_file(path: Path) -> SmelterImport:
    """A smelter reference from a template's Smelter Look-up or RMI's Smelter Reference List."""
    tables = read_tables(path, sheets=(LOOKUP_SHEET,))
    collected = SmelterTable()
    skipped = 0
    used: list[str] = []
    as_of: dt.date | None = None
    for table in tables:
        if _is_lookup(table):
            before = len(collected)
            for cid, metal, alias, name, country in lookup_records(table.rows):
                collected.add(cid, metal, name, country, [alias])
            for row in table.rows[LOOKUP_FIRST_ROW - 1 :]:
                text = [clean_text(c) for c in row[:5]]
                if any(text) and not is_cid(clean_cid(_cell(row, 4))):
                    skipped += int(text[1].casefold() not in _SPECIAL_ROWS)
            used.append(f"{table.label} (a template's look-up): {len(collected) - before} smelters")
            continue
        layout = _export_layout(table.rows)
        if layout is None:
            continue
        header, cols, alias_cols = layout
        if as_of is None:
            as_of = next(filter(None, (date_in_cells(r) for r in table.rows[:header])), None)
        before = len(collected)
        for row in table.rows[header + 1 :]:
            if not any(clean_text(c) for c in row):
                continue
            repaired, _what = repair_cid(_cell(row, cols["cid"]))
            if repaired is None:
                skipped += 1
                continue
            name = clean_name(_cell(row, cols["name"]))
            aliases = [clean_name(_cell(row, c)) for c in alias_cols]
            collected.add(
                repaired,
                canonical_metal(_cell(row, cols.get("metal"))),
                name,
                clean_name(_cell(row, cols.get("country"))).upper(),
                [a for a in aliases if a],
            )
        used.append(f"{table.label}: {len(collected) - before} smelters")
    if not used:
        expected = "; ".join(
            f"{f}: {' / '.join(repr(n) for n in names[:3])}" for f, names in EXPORT_HEADERS.items()
        )
        raise RefDataError(
            f"Neither a {LOOKUP_SHEET!r} sheet (an RMI template) nor a Smelter Reference List "
            f"header was found. The export's columns are named such as: {expected}; "
            "'KEY TERM 1'..'KEY TERM 4' give aliases."
        )
    smelters = collected.finish()
    if not smelters:
        raise RefDataError(
            "The smelter list was recognised but no row has a smelter id of the form CID000000."
        )
    as_of = as_of or find_date(path.name)
    version = f"smelters:{as_of.isoformat() if as_of else path.name}"
    return SmelterImport(version, smelters, "; ".join(used), skipped)
