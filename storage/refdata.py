"""Reference data files: the embedded smelter list, CAHRA lists, RMAP status exports.

RMAP exports come in many shapes (the 2014 CFSI CSV, today's RMI facilities exports in
XLSX or CSV, with or without a title block above the header). The header row is found by
recognising column names, and an unknown layout is refused with a message naming the
columns that were expected, so an operator never loads a list that silently means nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from plugins.countries import country_code
from plugins.normalize import clean_cid, clean_text, is_cid, parse_date
from plugins.reference import RmapEntry, SmelterRef
from plugins.workbook import FileProblem, open_workbook


class RefDataError(ValueError):
    """A reference file the operator gave cannot be used; the message says why."""


@lru_cache(maxsize=1)
def load_embedded_smelters() -> tuple[str, dict[str, SmelterRef]]:
    """The embedded smelter reference list (read once per process; treat as read-only)."""
    raw = json.loads(resources.files("storage").joinpath("data/smelters.json").read_text("utf-8"))
    smelters = {
        s["cid"]: SmelterRef(
            s["cid"], s["metal"], s["name"], s["country"], tuple(s.get("aliases", ()))
        )
        for s in raw["smelters"]
    }
    return str(raw["version"]), smelters


def load_embedded_cahra() -> tuple[str, frozenset[str]]:
    raw = json.loads(resources.files("storage").joinpath("data/cahra.json").read_text("utf-8"))
    return str(raw["version"]), frozenset(raw["countries"])


def parse_cahra_file(path: Path) -> tuple[str, frozenset[str]]:
    """A CAHRA list as JSON (``{"version", "countries"}``) or one country (name or ISO-2) per line/CSV row."""
    text = path.read_text("utf-8-sig")
    if path.suffix.lower() == ".json":
        data = json.loads(text)
        names: Iterable[str] = data.get("countries", [])
        version = str(data.get("version") or path.stem)
    else:
        names = [row[0] for row in csv.reader(io.StringIO(text)) if row and row[0].strip()]
        version = path.stem
    codes, unknown = set(), []
    for name in names:
        code = country_code(str(name))
        if code:
            codes.add(code)
        elif str(name).strip().casefold() not in ("country", "iso", "code", "name"):
            unknown.append(str(name))
    if unknown:
        raise RefDataError(f"unknown countries in {path.name}: {', '.join(unknown[:10])}")
    if not codes:
        raise RefDataError(f"{path.name} names no countries")
    return version, frozenset(codes)


# -- RMAP status lists -----------------------------------------------------------------

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "cid": (
        "smelter id",
        "new smelter id",
        "facility id",
        "smelter identification",
        "smelter identification number",
        "cid",
        "rmi id",
        "smelterid",
    ),
    "status": (
        "status",
        "assessment status",
        "rmap status",
        "audit status",
        "conformance status",
        "facility status",
    ),
    "name": (
        "standard smelter name",
        "smelter name",
        "facility name",
        "smelter/refiner name",
        "name",
    ),
    "metal": ("metal", "mineral", "metal type"),
    "country": (
        "country",
        "location",
        "smelter country",
        "country location",
        "facility location country",
        "smelter facility location country",
    ),
    "last_assessment": (
        "last assessment date",
        "last audit date",
        "assessment date",
        "audit date",
        "date of last assessment",
        "last assessment",
    ),
    "next_assessment": (
        "next assessment date",
        "re-assessment date",
        "reassessment date",
        "next audit date",
        "re-audit date",
        "valid until",
        "expiry date",
        "conformance expiry",
    ),
}
REQUIRED_COLUMNS = ("cid",)


def _norm_header(value: object) -> str:
    return re.sub(r"[^a-z0-9/ -]+", "", clean_text(value).casefold()).strip()


def find_header(rows: Sequence[Sequence[object]], max_scan: int = 30) -> tuple[int, dict[str, int]]:
    """Index of the header row and field -> column; raises RefDataError naming what was expected."""
    for i, row in enumerate(rows[:max_scan]):
        mapping: dict[str, int] = {}
        for col, cell in enumerate(row):
            header = _norm_header(cell)
            for field, names in COLUMN_ALIASES.items():
                if field not in mapping and header in names:
                    mapping[field] = col
        if all(f in mapping for f in REQUIRED_COLUMNS) and len(mapping) >= 2:
            return i, mapping
    expected = "; ".join(
        f"{field}: {' / '.join(repr(n) for n in names[:4])}"
        for field, names in COLUMN_ALIASES.items()
    )
    raise RefDataError(
        "No header row found in the first rows of the file. Expected a smelter id column and a status "
        f"column, with names such as: {expected}."
    )


@dataclass(frozen=True)
class ParsedRmap:
    entries: dict[str, RmapEntry]
    skipped: int
    columns: dict[str, int]


def _read_rows(path: Path) -> list[list[Any]]:
    data = path.read_bytes()
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods") or data[:4] in (
        b"PK\x03\x04",
        b"\xd0\xcf\x11\xe0",
    ):
        try:
            wb = open_workbook(data).workbook
        except FileProblem as exc:
            raise RefDataError(exc.message) from exc
        best: list[list[Any]] = []
        for name in wb.sheet_names:  # the sheet whose header we recognise wins
            rows = [list(r) for _n, r in wb.sheet(name).iter_rows(1)]
            try:
                find_header(rows)
                return rows
            except RefDataError:
                best = best or rows
        return best
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t") if text.strip() else csv.excel
    return [list(r) for r in csv.reader(io.StringIO(text), dialect)]


def parse_rmap_file(path: Path, default_status: str = "") -> ParsedRmap:
    rows = _read_rows(path)
    header, cols = find_header(rows)
    if "status" not in cols and not default_status:
        raise RefDataError(
            "The file has smelter ids but no status column ('Status', 'Assessment Status' or 'RMAP Status'). "
            "If it is a list of one status (e.g. the Conformant list), pass --status Conformant."
        )
    entries: dict[str, RmapEntry] = {}
    skipped = 0

    def get(row: Sequence[object], field: str) -> object:
        col = cols.get(field)
        return row[col] if col is not None and col < len(row) else None

    for row in rows[header + 1 :]:
        cid = clean_cid(get(row, "cid"))
        if not is_cid(cid):
            skipped += int(any(clean_text(c) for c in row))
            continue
        status = clean_text(get(row, "status")) or default_status
        if status.casefold() == "compliant":
            status = "Conformant"  # the 2014 term for today's Conformant
        entries[cid] = RmapEntry(
            cid=cid,
            status=status or "Unknown",
            name=clean_text(get(row, "name")),
            metal=clean_text(get(row, "metal")),
            country=clean_text(get(row, "country")),
            last_assessment=parse_date(get(row, "last_assessment")),
            next_assessment=parse_date(get(row, "next_assessment")),
        )
    if not entries:
        raise RefDataError(
            "The header was recognised but no row has a smelter id of the form CID000000."
        )
    return ParsedRmap(entries, skipped, cols)


_DATE_IN_NAME = re.compile(r"(20\d\d)[-_.]?(\d\d)[-_.]?(\d\d)")


def date_from_name(name: str) -> dt.date | None:
    m = _DATE_IN_NAME.search(name)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
