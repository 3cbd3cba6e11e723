"""The supplier registry file: CSV or XLSX, one supplier per row, header recognised by name."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from plugins.normalize import clean_text
from plugins.rmap_status import METALS, canonical_metal

from .listfiles import read_tables
from .listtable import RefDataError
from .models import SupplierEntry

COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name", "supplier", "supplier name", "company", "company name"),
    "addresses": (
        "email",
        "emails",
        "e-mail",
        "contact email",
        "contact emails",
        "addresses",
        "contacts",
    ),
    "domains": ("domain", "domains", "email domain", "email domains"),
    "expected": ("templates", "expected", "expected templates", "template"),
    "owner": ("owner", "internal owner", "buyer", "supplier owner"),
    "metals": ("metals", "metals in scope", "minerals", "minerals in scope"),
}
#: A Slack user or workspace-user id, as an owner may be given instead of an e-mail address.
SLACK_USER = re.compile(r"^[UW][A-Z0-9]{6,20}$")
_OWNER_ADDRESS = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


def _metal_words(text: str) -> list[str]:
    """Metals of a cell: separated by ``;``, ``,``, ``|`` or ``/``; a piece that is no metal
    we know but whose words all are ("Tin Gold") is taken word by word."""
    out: list[str] = []
    for piece in (p.strip() for p in _METALS_SPLIT.split(text)):
        words = piece.split()
        if (
            piece.casefold() not in METALS
            and len(words) > 1
            and all(w.casefold() in METALS for w in words)
        ):
            out += words
        elif piece:
            out.append(piece)
    return out


def owner_kind(owner: str) -> str:
    """``"email"``, ``"slack"`` or ``""`` (not a usable owner)."""
    if SLACK_USER.match(owner):
        return "slack"
    if _OWNER_ADDRESS.match(owner) and len(owner) <= 254:
        return "email"
    return ""


_SPLIT = re.compile(r"[;,\s]+")
_METALS_SPLIT = re.compile(r"[;,|/]+")
TEMPLATES = {"CMRT", "EMRT", "CRT", "AMRT"}


def _find_header(rows: list[list[Any]]) -> tuple[int, dict[str, int]] | None:
    for i, row in enumerate(rows[:20]):
        headers = [clean_text(c).casefold() for c in row]
        cols = {
            field: headers.index(n)
            for field, names in COLUMNS.items()
            for n in names
            if n in headers
        }
        if "name" in cols and ("addresses" in cols or "domains" in cols):
            return i, cols
    return None


def parse_supplier_file(path: Path) -> list[SupplierEntry]:
    """Suppliers of a CSV or workbook (the first sheet with a recognised header)."""
    found = None
    tables = read_tables(path)
    for table in tables:
        found = _find_header(table.rows)
        if found is not None:
            rows = table.rows
            break
    if found is None:
        if all(len(row) <= 1 for table in tables for row in table.rows):
            raise RefDataError(
                "The file has a single column, so it cannot hold a supplier name and an e-mail "
                "or domain. Expected columns such as: name, emails, domains, templates "
                "(separated by commas, semicolons, tabs or |)."
            )
        raise RefDataError(
            "No header row with a supplier name column and an e-mail or domain column. "
            "Expected columns such as: name, emails, domains, templates."
        )
    header, cols = found
    out: list[SupplierEntry] = []
    for number, row in enumerate(rows[header + 1 :], start=header + 2):

        def get(field: str, row: list[Any] = row) -> str:
            col = cols.get(field)
            return clean_text(row[col]) if col is not None and col < len(row) else ""

        name = get("name")
        if not name:
            continue
        addresses = [a for a in _SPLIT.split(get("addresses")) if "@" in a]
        domains = [d.lstrip("@").lower() for d in _SPLIT.split(get("domains")) if "." in d]
        expected = [t.upper() for t in _SPLIT.split(get("expected")) if t.upper() in TEMPLATES]
        owner = get("owner").strip()
        if owner and not owner_kind(owner):
            raise RefDataError(
                f"Row {number}: the owner {owner[:80]!r} is neither an e-mail address "
                "nor a Slack user id (U... or W...)."
            )
        metals = sorted({canonical_metal(m) for m in _metal_words(get("metals"))})
        out.append(
            SupplierEntry(
                name, tuple(addresses), tuple(domains), tuple(expected), owner, tuple(metals)
            )
        )
    if not out:
        raise RefDataError("The header was recognised but no row names a supplier.")
    return out
