"""The EU's indicative list of conflict-affected and high-risk areas (CAHRAs), as distributed.

Accepted shapes:

- a spreadsheet or CSV as cahraslist.net publishes it: per row a country, often a
  sub-national area (region, province) and a classification ("conflict-affected",
  "high-risk"), under a title carrying the update date; columns found by name;
- JSON ``{"version": ..., "as_of": "2025-03-31", "countries": [...], "areas": {...}}``;
- one country (name or ISO-2 code) per line.

Country names go through :func:`plugins.countries.country_code`; a name it does not know
stops the import, naming it. The list's date comes from a title row, a full date in the file
name, or the JSON's ``as_of``/``version``; it is None when none says (a quarter such as
``2025-Q1`` is not a date), and the caller then asks the operator for it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plugins.countries import country_code
from plugins.normalize import clean_text

from .listcells import header_key
from .listdates import date_in_cells, find_date
from .listfiles import clean_cell, read_table_bytes
from .listtable import HEADER_SCAN_ROWS, MAX_FILE_BYTES, RefDataError, Table, Value

CAHRA_HEADERS: dict[str, tuple[str, ...]] = {
    "country": ("Country", "Country Name", "Countries", "Country/Territory", "State", "ISO Code"),
    "area": (
        "Region",
        "Regions",
        "Area",
        "Areas",
        "Area Name",
        "Region/Area",
        "Sub-national Area",
        "Sub-national Areas",
        "Subnational Area",
        "Sub-national Region",
        "Province",
        "Provinces",
        "Affected Areas",
        "Conflict-affected and High-risk Area",
    ),
    "classification": (
        "Status",
        "Classification",
        "Category",
        "Type",
        "Risk",
        "Risk Type",
        "CAHRA Type",
        "Conflict-affected or High-risk",
        "Conflict-affected",
        "High-risk",
    ),
}
_KEYS = {f: frozenset(header_key(n) for n in names) for f, names in CAHRA_HEADERS.items()}
_HEADER_WORDS = frozenset({"country", "countries", "iso", "code", "name", "iso code"})
#: Names the EU uses that the template's country list spells otherwise.
_EXTRA_NAMES = {
    "TURKIYE": "TR",
    "TÜRKIYE": "TR",
    "PALESTINE": "PS",
    "STATE OF PALESTINE": "PS",
    "PALESTINIAN TERRITORIES": "PS",
    "OCCUPIED PALESTINIAN TERRITORY": "PS",
    "GAZA": "PS",
    "WEST BANK": "PS",
}


@dataclass(frozen=True)
class CahraImport:
    version: str  # the JSON's version, else "cahra:<as_of>", else "cahra:<file name>"
    as_of: dt.date | None
    countries: frozenset[str]  # ISO-2
    areas: dict[str, tuple[str, ...]]  # ISO-2 -> sub-national areas named
    source: str  # what was read, for the summary

    def __iter__(self) -> Iterator[Any]:
        """``version, codes = parse_cahra_file(path)``: the older two-value form, for callers
        not yet reading the fields."""
        return iter((self.version, self.countries))


def cahra_country(text: str) -> str:
    """ISO-2 code of a country as the EU's list names it; ``""`` when unknown."""
    name = clean_text(text)
    if not name:
        return ""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    for candidate in (name, plain, *re.split(r"\s*[/()]\s*", name)):
        code = country_code(candidate.strip()) or _EXTRA_NAMES.get(candidate.strip().upper(), "")
        if code:
            return code
    return ""


def _layout(rows: Sequence[Sequence[Value]]) -> tuple[int, dict[str, int]] | None:
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        cols: dict[str, int] = {}
        for col, cell in enumerate(row):
            key = header_key(cell)
            field = next((f for f, keys in _KEYS.items() if key in keys), None)
            if field and field not in cols:
                cols[field] = col
        if "country" in cols and len(cols) >= 2:
            return i, cols
    return None


def _cell(row: Sequence[Value], col: int | None) -> Value:
    return row[col] if col is not None and col < len(row) else None


class _Collector:
    def __init__(self) -> None:
        self.codes: set[str] = set()
        self.areas: dict[str, list[str]] = {}
        self.unknown: list[str] = []

    def add(self, name: str, where: str, areas: Sequence[str] = ()) -> None:
        code = cahra_country(name)
        if not code:
            self.unknown.append(f"{name!r} ({where})")
            return
        self.codes.add(code)
        for area in areas:
            known = self.areas.setdefault(code, [])
            if area not in known:
                known.append(area)


def _split_areas(value: Value) -> list[str]:
    return [a for a in (clean_text(p) for p in re.split(r"[;\n\r]+", str(value or ""))) if a]


def _from_tables(tables: list[Table], found: _Collector) -> tuple[dt.date | None, str]:
    as_of: dt.date | None = None
    for table in tables:
        layout = _layout(table.rows)
        if layout is not None:
            header, cols = layout
            as_of = as_of or next(
                filter(None, (date_in_cells(r) for r in table.rows[:header])), None
            )
            name = ""
            for index in range(header + 1, len(table.rows)):
                row = table.rows[index]
                areas = _split_areas(_cell(row, cols.get("area")))
                # A country merged over its areas' rows is written once, on the first.
                name = clean_text(_cell(row, cols["country"])) or (name if areas else "")
                if name:
                    found.add(name, table.where(index + 1), areas)
            return as_of, f"{table.label}: columns found by name"
    # No header: one country per row, in the first column, under an optional title.
    table = tables[0]
    for index, row in enumerate(table.rows):
        name = clean_text(row[0]) if row else ""
        if not name or name.casefold() in _HEADER_WORDS:
            continue
        if not found.codes and not cahra_country(name):
            date = date_in_cells(row)
            if date or len(name.split()) > 4:  # a title row above the countries
                as_of = as_of or date
                continue
        found.add(name, table.where(index + 1))
    return as_of, f"{table.label}: one country per row"


def _from_json(data: bytes, found: _Collector) -> tuple[dt.date | None, str]:
    try:
        raw: Any = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RefDataError(f"The file looks like JSON but cannot be read ({exc}).") from None
    if isinstance(raw, list):
        raw = {"countries": raw}
    if not isinstance(raw, dict) or not isinstance(raw.get("countries", []), list):
        raise RefDataError('The JSON file must hold {"version": ..., "countries": [...]}.')
    for i, name in enumerate(raw.get("countries", [])):
        found.add(clean_text(name), f"countries[{i}]")
    areas = raw.get("areas") or {}
    if isinstance(areas, dict):
        for name, names in areas.items():
            texts = [clean_text(clean_cell(a)) for a in names or ()]
            found.add(clean_text(name), "areas", [a for a in texts if a])
    as_of = None
    for key in ("as_of", "version"):
        value = raw.get(key)
        if isinstance(value, str):
            as_of = as_of or find_date(value)
    return as_of, "JSON"


def parse_cahra_file(path: Path) -> CahraImport:
    """The CAHRA list in ``path``; :class:`RefDataError` with a sentence when it cannot be used."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise RefDataError("The file is far larger than any CAHRA list, so it was not read.")
        data = path.read_bytes()
    except OSError as exc:
        raise RefDataError(f"The file cannot be read ({exc.strerror or exc}).") from exc
    found = _Collector()
    version = ""
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        as_of, how = _from_json(data, found)
        try:
            version = clean_text(
                clean_cell(str(json.loads(data.decode("utf-8-sig")).get("version") or ""))
            )
        except (AttributeError, ValueError):
            version = ""
    else:
        as_of, how = _from_tables(read_table_bytes(data, path.name, keep_newlines=True), found)
    if found.unknown:
        more = f" and {len(found.unknown) - 10} more" if len(found.unknown) > 10 else ""
        raise RefDataError(
            f"The list names countries Assay does not know: {', '.join(found.unknown[:10])}{more}. "
            "Use the country's English name or its ISO-2 code."
        )
    if not found.codes:
        raise RefDataError("The file names no countries.")
    as_of = as_of or find_date(path.name)
    version = version or f"cahra:{as_of.isoformat() if as_of else path.name}"
    areas = {code: tuple(names) for code, names in sorted(found.areas.items())}
    source = f"{how}: {len(found.codes)} countries, {sum(len(a) for a in areas.values())} areas"
    return CahraImport(version, as_of, frozenset(found.codes), areas, source)
