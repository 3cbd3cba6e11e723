"""Schema migrations: append-only, applied in order, each in one transaction.

Never edit a migration that has shipped; add a new one.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils


def m001_initial(db: sqlite_utils.Database) -> None:
    db.create_table(
        "submissions",
        {
            "sha256": str,
            "first_seen": str,
            "filename": str,
            "size": int,
            "source": str,
            "template_type": str,
            "template_version": str,
            "company_name": str,
            "declaration_json": str,
            "readable": int,
            "last_screening": int,
            "risk_level": str,
            "errors": int,
            "risks": int,
            "warnings": int,
            "infos": int,
        },
        pk="sha256",
    )
    db.create_table(
        "screenings",
        {
            "id": int,
            "sha256": str,
            "screened_at": str,
            "as_of": str,
            "risk_level": str,
            "summary": str,
            "reference_versions": str,
            "check_versions": str,
        },
        pk="id",
    )
    db.table("screenings").create_index(["sha256"])
    db.create_table(
        "findings",
        {
            "sha256": str,
            "screening_id": int,
            "code": str,
            "severity": str,
            "message": str,
            "sheet": str,
            "cell": str,
            "mineral": str,
            "smelter_id": str,
            "field": str,
            "check": str,
        },
    )
    db.table("findings").create_index(["sha256"])
    db.table("findings").create_index(["code"])
    db.create_table(
        "smelter_rows",
        {
            "sha256": str,
            "row": int,
            "metal": str,
            "smelter_id": str,
            "name": str,
            "country": str,
            "lookup": str,
            "mine_countries": str,
        },
    )
    db.table("smelter_rows").create_index(["sha256"])
    db.table("smelter_rows").create_index(["smelter_id"])
    db.create_table(
        "rmap_lists",
        {
            "id": int,
            "version": str,
            "as_of": str,
            "source": str,
            "imported_at": str,
            "entries": int,
        },
        pk="id",
    )
    db.create_table(
        "rmap_entries",
        {
            "list_id": int,
            "cid": str,
            "status": str,
            "name": str,
            "metal": str,
            "country": str,
            "last_assessment": str,
            "next_assessment": str,
        },
    )
    db.table("rmap_entries").create_index(["list_id", "cid"], unique=True)
    db.create_table(
        "cahra_lists",
        {"id": int, "version": str, "countries": str, "source": str, "imported_at": str},
        pk="id",
    )


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("001_initial", m001_initial),
]
