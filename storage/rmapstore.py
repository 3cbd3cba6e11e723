"""RMAP lists as stored: every list kept, the ones in force chosen per metal.

A list covers the metals it names (or, for lists from before coverage was kept, its rows'
metals, else the reference metals of its CIDs). In force, for each metal, is the list of the
newest date covering it; lists of one date are read together
(:meth:`plugins.reference.ReferenceData.lists_for`). Functions of the shared connection;
:class:`storage.refstore.ReferenceStore` offers them as the Store's methods.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

import sqlite_utils

from plugins.reference import ReferenceData, RmapEntry, RmapList, SmelterRef
from plugins.rmap_status import canonical_metal

from .db import utcnow
from .models import RmapChange, RmapListInfo
from .submissions import suppliers_listing
from .transactions import write_transaction

#: Standings that judge nothing: a move between them is no change anyone acts on.
UNJUDGED = {"no-list", "not-covered"}


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def insert_rmap_list(
    db: sqlite_utils.Database,
    version: str,
    as_of: dt.date | None,
    source: str,
    entries: dict[str, RmapEntry],
    metals: frozenset[str],
    summary: dict[str, Any] | None = None,
) -> int:
    covered = sorted({canonical_metal(m) for m in metals})
    with write_transaction(db):
        list_id = (
            db.table("rmap_lists")
            .insert(
                {
                    "version": version,
                    "as_of": as_of.isoformat() if as_of else None,
                    "source": source,
                    "imported_at": utcnow(),
                    "entries": len(entries),
                    "metals": json.dumps(covered),
                    "summary": json.dumps(summary or {}, ensure_ascii=False),
                }
            )
            .last_pk
        )
        db.table("rmap_entries").insert_all(
            (
                {
                    "list_id": list_id,
                    "cid": e.cid,
                    "status": e.status,
                    "standing": e.standing,
                    "name": e.name,
                    "metal": e.metal,
                    "country": e.country,
                    "audit_cycle": e.audit_cycle,
                    "last_assessment": e.last_assessment.isoformat() if e.last_assessment else None,
                    "next_assessment": e.next_assessment.isoformat() if e.next_assessment else None,
                }
                for e in entries.values()
            ),
            batch_size=1000,
        )
    return int(list_id)  # type: ignore[arg-type]


def rmap_lists(db: sqlite_utils.Database) -> list[RmapListInfo]:
    """Every RMAP list imported, newest (by its own date, then import) first."""
    return [
        RmapListInfo.from_row(r)
        for r in db.table("rmap_lists").rows_where(order_by="coalesce(as_of, '') desc, id desc")
    ]


def _list_metals(
    db: sqlite_utils.Database, info: RmapListInfo, smelters: dict[str, SmelterRef]
) -> frozenset[str]:
    """The metals a stored list covers (lists from before coverage was kept: its rows' metals,
    else the reference metals of its CIDs)."""
    if info.metals:
        return frozenset(info.metals)
    metals = {
        canonical_metal(m)
        for (m,) in db.execute(
            "select distinct metal from rmap_entries where list_id = ? and coalesce(metal, '') != ''",
            [info.id],
        )
    }
    if not metals:
        metals = {
            canonical_metal(smelters[cid].metal)
            for (cid,) in db.execute("select cid from rmap_entries where list_id = ?", [info.id])
            if cid in smelters
        }
    return frozenset(metals)


def _load_rmap(db: sqlite_utils.Database, info: RmapListInfo, metals: frozenset[str]) -> RmapList:
    entries = {}
    for e in db.table("rmap_entries").rows_where("list_id = ?", [info.id]):
        entries[e["cid"]] = RmapEntry(
            cid=e["cid"],
            status=e["status"],
            name=e["name"] or "",
            metal=canonical_metal(e["metal"]),
            country=e["country"] or "",
            last_assessment=_date(e["last_assessment"]),
            next_assessment=_date(e["next_assessment"]),
            audit_cycle=e.get("audit_cycle") or "",
            standing=e.get("standing") or "",
        )
    return RmapList(info.version, info.as_of, entries, metals)


def current_rmaps(
    db: sqlite_utils.Database, smelters: dict[str, SmelterRef]
) -> tuple[RmapList, ...]:
    """The lists in force, newest first: for at least one metal, a list of the newest date
    covering it (lists of one date are read together, see ReferenceData.lists_for)."""
    covered: set[str] = set()  # metals with a list of a newer date
    out = []
    for _date_key, group in itertools.groupby(rmap_lists(db), key=lambda r: r.as_of):
        this_date: set[str] = set()
        for info in group:
            metals = _list_metals(db, info, smelters)
            if metals and metals <= covered:
                continue  # every metal it covers has a newer list
            this_date |= metals
            out.append(_load_rmap(db, info, metals))
        covered |= this_date
    return tuple(out)


def rmap_changes(
    db: sqlite_utils.Database, old: ReferenceData, new: ReferenceData
) -> list[RmapChange]:
    """Smelters listed by stored submissions whose RMAP standing differs between two
    reference states, with the suppliers that list them (for the compliance channel)."""

    def words(ref: ReferenceData, cid: str, metal: str) -> tuple[str, str]:
        s = ref.standing(cid, metal)
        return s.standing, (s.status or s.standing)

    changes = []
    rows = db.execute(
        "select smelter_id, min(metal) from smelter_rows where smelter_id like 'CID%' group by smelter_id order by smelter_id"
    ).fetchall()
    for cid, metal in rows:
        ref_metal = new.smelters[cid].metal if cid in new.smelters else (metal or "")
        before, after = words(old, cid, ref_metal), words(new, cid, ref_metal)
        if before[0] == after[0] or {before[0], after[0]} <= UNJUDGED:
            continue
        suppliers = sorted({s.company_name or "(no name)" for s in suppliers_listing(db, cid)})
        changes.append(RmapChange(cid, before[1], after[1], tuple(suppliers)))
    return changes
