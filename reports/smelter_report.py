"""``assay report smelters`` and ``assay report rmap-counts`` as tables: CSV, XLSX, JSON, text.

Two column sets. ``published`` is what companies publish (``Metal,Smelter,Country``, the
Smelter being the CID) and never names a supplier, not even in the unidentified section;
``full`` is internal and adds the standard name, RMAP standing, the suppliers and the
country-risk flags. Rows that name no identifiable smelter are a second table: in CSV after
one empty row, under a row whose first cell is ``Unidentified smelters`` (only when there
are such rows, so a fully identified list is exactly the publishable table); in XLSX a
second sheet "Unidentified"; in JSON the ``unidentified`` array.

Outside text (names, countries given by suppliers) is escaped by :mod:`reports.tables`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from program.smelter_list import MetalCounts, SmelterEntry, SmelterList, UnidentifiedEntry

from .tables import Value, csv_cell, write_xlsx

COLUMNS = ("published", "full")
PUBLISHED_HEADER: tuple[str, ...] = ("Metal", "Smelter", "Country")
FULL_HEADER: tuple[str, ...] = (
    "Metal",
    "Smelter ID",
    "Standard name",
    "Country",
    "RMAP standing",
    "List date",
    "Suppliers (count)",
    "Covered country",
    "CAHRA country",
    "Risky mine countries",
    "Supplier names",
)
UNIDENTIFIED_TITLE = "Unidentified smelters"
UNIDENTIFIED_PUBLISHED_HEADER: tuple[str, ...] = ("Metal", "Name", "Country", "Reason", "Rows")
UNIDENTIFIED_FULL_HEADER: tuple[str, ...] = (
    *UNIDENTIFIED_PUBLISHED_HEADER,
    "Suppliers (count)",
    "Supplier names",
)
COUNTS_HEADER: tuple[str, ...] = (
    "Metal",
    "Smelters",
    "Conformant",
    "Active",
    "Not conformant",
    "Not covered",
    "Share conformant (%)",
    "List date",
)


def _check(columns: str) -> None:
    if columns not in COLUMNS:
        raise ValueError(f"columns must be one of {', '.join(COLUMNS)}, not {columns!r}")


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _names(suppliers: Sequence[str]) -> str:
    return "; ".join(suppliers)


def headers(columns: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(smelter header, unidentified header) of a column set."""
    _check(columns)
    if columns == "published":
        return PUBLISHED_HEADER, UNIDENTIFIED_PUBLISHED_HEADER
    return FULL_HEADER, UNIDENTIFIED_FULL_HEADER


def entry_row(e: SmelterEntry, columns: str) -> list[Value]:
    if columns == "published":
        return [e.metal, e.cid, e.country]
    return [
        e.metal,
        e.cid,
        e.name,
        e.country,
        e.standing,
        e.list_date,
        len(e.suppliers),
        _yes(e.covered_country),
        _yes(e.cahra_country),
        ", ".join(e.risky_mine_countries),
        _names(e.suppliers),
    ]


def unidentified_row(u: UnidentifiedEntry, columns: str) -> list[Value]:
    row: list[Value] = [u.metal, u.name, u.country, u.reason, u.rows]
    if columns == "full":
        row += [len(u.suppliers), _names(u.suppliers)]
    return row


def smelter_tables(
    smelters: SmelterList, columns: str = "published"
) -> tuple[list[list[Value]], list[list[Value]]]:
    """(smelter rows, unidentified rows) in the column set's order."""
    _check(columns)
    return (
        [entry_row(e, columns) for e in smelters.entries],
        [unidentified_row(u, columns) for u in smelters.unidentified],
    )


def smelters_csv(smelters: SmelterList, columns: str = "published") -> str:
    head, unhead = headers(columns)
    rows, unidentified = smelter_tables(smelters, columns)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(head)
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    if unidentified:
        writer.writerow([])
        writer.writerow([UNIDENTIFIED_TITLE])
        writer.writerow(unhead)
        writer.writerows([csv_cell(v) for v in row] for row in unidentified)
    return out.getvalue()


def write_smelters_xlsx(path: Path, smelters: SmelterList, columns: str = "published") -> None:
    head, unhead = headers(columns)
    rows, unidentified = smelter_tables(smelters, columns)
    write_xlsx(path, [("Smelters", head, rows), ("Unidentified", unhead, unidentified)])


def smelters_json(
    smelters: SmelterList, columns: str = "published", generated_from: str = ""
) -> dict[str, Any]:
    """``{"smelters": [...], "unidentified": [...], "suppliers": N, "generated_from": ...}``."""
    _check(columns)
    full = columns == "full"
    items: list[dict[str, Any]] = []
    for e in smelters.entries:
        item: dict[str, Any] = {"metal": e.metal, "smelter": e.cid, "country": e.country}
        if full:
            item.update(
                name=e.name,
                standing=e.standing,
                list_date=e.list_date,
                list_label=e.list_label,
                suppliers_count=len(e.suppliers),
                covered_country=e.covered_country,
                cahra_country=e.cahra_country,
                risky_mine_countries=list(e.risky_mine_countries),
                supplier_names=list(e.suppliers),
            )
        items.append(item)
    unidentified: list[dict[str, Any]] = []
    for u in smelters.unidentified:
        group: dict[str, Any] = {
            "metal": u.metal,
            "name": u.name,
            "country": u.country,
            "reason": u.reason,
            "rows": u.rows,
        }
        if full:
            group.update(suppliers_count=len(u.suppliers), supplier_names=list(u.suppliers))
        unidentified.append(group)
    return {
        "smelters": items,
        "unidentified": unidentified,
        "suppliers": smelters.suppliers,
        "generated_from": generated_from,
    }


# -- RMAP counts -----------------------------------------------------------------------


def _share(conformant: int, smelters: int) -> float:
    """Percent with one decimal (0.0 with no smelter)."""
    return round(100 * conformant / smelters, 1) if smelters else 0.0


def total(counts: Sequence[MetalCounts]) -> MetalCounts:
    """The total row: sums, the share over all smelters, the newest list date."""
    n = sum(c.smelters for c in counts)
    conformant = sum(c.conformant for c in counts)
    dates = sorted(c.list_date for c in counts if c.list_date)
    return MetalCounts(
        metal="Total",
        smelters=n,
        conformant=conformant,
        active=sum(c.active for c in counts),
        not_conformant=sum(c.not_conformant for c in counts),
        not_covered=sum(c.not_covered for c in counts),
        share_conformant=round(conformant / n, 4) if n else 0.0,
        list_date=dates[-1] if dates else "",
    )


def counts_rows(counts: Sequence[MetalCounts], with_total: bool = True) -> list[list[Value]]:
    """Rows in :data:`COUNTS_HEADER`'s order, the share in percent with one decimal."""
    rows = list(counts) + ([total(counts)] if with_total else [])
    return [
        [
            c.metal,
            c.smelters,
            c.conformant,
            c.active,
            c.not_conformant,
            c.not_covered,
            _share(c.conformant, c.smelters),
            c.list_date,
        ]
        for c in rows
    ]


def counts_csv(counts: Sequence[MetalCounts]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COUNTS_HEADER)
    writer.writerows([csv_cell(v) for v in row] for row in counts_rows(counts))
    return out.getvalue()


def counts_text(counts: Sequence[MetalCounts]) -> str:
    head = ("Metal", "Smelters", "Conformant", "Active", "Not conf.", "Not covered", "Share")
    lines = [f"{head[0]:<10}" + "".join(f"{h:>13}" for h in head[1:]) + "  List date"]
    for row in counts_rows(counts):
        numbers = [*row[1:6], f"{row[6]:.1f}%"]
        lines.append(f"{row[0]!s:<10}" + "".join(f"{v!s:>13}" for v in numbers) + f"  {row[7]}")
    return "\n".join(lines) + "\n"


def counts_json(counts: Sequence[MetalCounts]) -> list[dict[str, Any]]:
    """Per metal (no total), the share as the fraction."""
    return [
        {
            "metal": c.metal,
            "smelters": c.smelters,
            "conformant": c.conformant,
            "active": c.active,
            "not_conformant": c.not_conformant,
            "not_covered": c.not_covered,
            "share_conformant": c.share_conformant,
            "list_date": c.list_date,
        }
        for c in counts
    ]


def write_counts_xlsx(path: Path, counts: Sequence[MetalCounts]) -> None:
    write_xlsx(path, [("RMAP counts", COUNTS_HEADER, counts_rows(counts))])
