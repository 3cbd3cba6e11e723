"""The Store's reference-data half: RMAP lists, CAHRA lists, smelter reference refreshes.

Every list is kept (a result can always be explained by the lists it was screened with);
what screening uses is built here: for each metal the newest RMAP list covering it, the
newest CAHRA list, and the embedded smelter reference with every imported refresh applied
in import order.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from importlib import resources
from typing import Any

import sqlite_utils

from plugins.reference import ReferenceData, RmapEntry, RmapList, SmelterRef
from plugins.rmap_status import canonical_metal

from .mail import utcnow
from .refdata import load_embedded_cahra, load_embedded_smelters
from .transactions import write_transaction

#: Standings that judge nothing: a move between them is no change anyone acts on.
UNJUDGED = {"no-list", "not-covered"}


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def embedded_cahra_as_of() -> dt.date | None:
    """The embedded CAHRA list's date (for the age warning)."""
    raw = json.loads(resources.files("storage").joinpath("data/cahra.json").read_text("utf-8"))
    return _date(raw.get("as_of"))


class ReferenceStoreMixin:
    db: sqlite_utils.Database
    _reference: tuple[tuple[Any, ...], ReferenceData] | None

    # -- what screening uses ---------------------------------------------------------
    def reference_data(self) -> ReferenceData:
        """The reference data in force; rebuilt only when a list was imported since.

        Cached per Store: the name index and fuzzy-search choices are built once, so a
        smelter look-up costs milliseconds.
        """
        key = tuple(
            self.db.execute(f"select max(id) from {table}").fetchone()[0]
            for table in ("rmap_lists", "cahra_lists", "smelter_lists")
        )
        if self._reference is not None and self._reference[0] == key:
            return self._reference[1]
        version, smelters = self.current_smelters()
        cahra = self.current_cahra_list()
        ref = ReferenceData(
            smelters=smelters,
            smelter_list_version=version,
            rmap_lists=self.current_rmaps(smelters),
            cahra=cahra["countries"],
            cahra_version=cahra["version"],
            cahra_as_of=cahra["as_of"],
            cahra_areas=cahra["areas"],
        )
        self._reference = (key, ref)
        return ref

    # -- RMAP lists -------------------------------------------------------------------
    def add_rmap_list(
        self,
        version: str,
        as_of: dt.date | None,
        source: str,
        entries: dict[str, RmapEntry],
        metals: frozenset[str] | None = None,
        summary: dict[str, Any] | None = None,
    ) -> int:
        if metals is None:  # the rows' metals, else the reference metals of their CIDs
            smelters = self.current_smelters()[1]
            metals = frozenset(
                e.metal or (smelters[e.cid].metal if e.cid in smelters else "")
                for e in entries.values()
            ) - {""}
        covered = sorted({canonical_metal(m) for m in metals})
        with write_transaction(self.db):
            list_id = (
                self.db.table("rmap_lists")
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
            self.db.table("rmap_entries").insert_all(
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
                        "last_assessment": e.last_assessment.isoformat()
                        if e.last_assessment
                        else None,
                        "next_assessment": e.next_assessment.isoformat()
                        if e.next_assessment
                        else None,
                    }
                    for e in entries.values()
                ),
                batch_size=1000,
            )
        return int(list_id)  # type: ignore[arg-type]

    def rmap_lists(self) -> list[dict[str, Any]]:
        """Every RMAP list imported, newest (by its own date, then import) first."""
        return list(
            self.db.table("rmap_lists").rows_where(order_by="coalesce(as_of, '') desc, id desc")
        )

    def _list_metals(self, row: dict[str, Any], smelters: dict[str, SmelterRef]) -> frozenset[str]:
        """The metals a stored list covers (lists from before coverage was kept: its rows' metals,
        else the reference metals of its CIDs)."""
        stored = json.loads(row.get("metals") or "[]")
        if stored:
            return frozenset(stored)
        metals = {
            canonical_metal(m)
            for (m,) in self.db.execute(
                "select distinct metal from rmap_entries where list_id = ? and coalesce(metal, '') != ''",
                [row["id"]],
            )
        }
        if not metals:
            metals = {
                canonical_metal(smelters[cid].metal)
                for (cid,) in self.db.execute(
                    "select cid from rmap_entries where list_id = ?", [row["id"]]
                )
                if cid in smelters
            }
        return frozenset(metals)

    def _load_rmap(self, row: dict[str, Any], metals: frozenset[str]) -> RmapList:
        entries = {}
        for e in self.db.table("rmap_entries").rows_where("list_id = ?", [row["id"]]):
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
        return RmapList(row["version"], _date(row["as_of"]), entries, metals)

    def current_rmaps(self, smelters: dict[str, SmelterRef] | None = None) -> tuple[RmapList, ...]:
        """The lists in force, newest first: for at least one metal, a list of the newest date
        covering it (lists of one date are read together, see ReferenceData.lists_for)."""
        if smelters is None:
            smelters = self.current_smelters()[1]
        covered: set[str] = set()  # metals with a list of a newer date
        out = []
        rows = self.rmap_lists()
        for _date_key, group in itertools.groupby(rows, key=lambda r: r["as_of"] or ""):
            this_date: set[str] = set()
            for row in group:
                metals = self._list_metals(row, smelters)
                if metals and metals <= covered:
                    continue  # every metal it covers has a newer list
                this_date |= metals
                out.append(self._load_rmap(row, metals))
            covered |= this_date
        return tuple(out)

    def current_rmap(self) -> RmapList | None:
        """The newest list (any metal)."""
        lists = self.current_rmaps()
        return lists[0] if lists else None

    def rmap_changes(self, old: ReferenceData, new: ReferenceData) -> list[dict[str, Any]]:
        """Smelters listed by stored submissions whose RMAP standing differs between two
        reference states, with the suppliers that list them (for the compliance channel)."""

        def words(ref: ReferenceData, cid: str, metal: str) -> tuple[str, str]:
            s = ref.standing(cid, metal)
            return s.standing, (s.status or s.standing)

        changes = []
        rows = self.db.execute(
            "select smelter_id, min(metal) from smelter_rows where smelter_id like 'CID%' group by smelter_id order by smelter_id"
        ).fetchall()
        for cid, metal in rows:
            ref_metal = new.smelters[cid].metal if cid in new.smelters else (metal or "")
            before, after = words(old, cid, ref_metal), words(new, cid, ref_metal)
            if before[0] == after[0] or {before[0], after[0]} <= UNJUDGED:
                continue
            suppliers = sorted(
                {s["company_name"] or "(no name)" for s in self.suppliers_listing(cid)}  # type: ignore[attr-defined]
            )
            changes.append({"cid": cid, "from": before[1], "to": after[1], "suppliers": suppliers})
        return changes

    def alert_stale_list(self, kind: str, version: str, message: str) -> None:
        """One alert per out-of-date list (the outbox keeps one row per key)."""
        from program.outbox import StaleList

        from .mail import OutboxItem

        self.enqueue(  # type: ignore[attr-defined]
            OutboxItem("alert", f"stale-list:{kind}:{version}", StaleList(version, message))
        )

    # -- CAHRA lists -------------------------------------------------------------------
    def set_cahra(
        self,
        version: str,
        countries: frozenset[str],
        source: str,
        as_of: dt.date | None = None,
        areas: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        with write_transaction(self.db):
            self.db.table("cahra_lists").insert(
                {
                    "version": version,
                    "countries": json.dumps(sorted(countries)),
                    "source": source,
                    "imported_at": utcnow(),
                    "as_of": as_of.isoformat() if as_of else None,
                    "areas": json.dumps({k: list(v) for k, v in (areas or {}).items()}),
                }
            )

    def current_cahra_list(self) -> dict[str, Any]:
        """The CAHRA list in force (the newest by its date, then import; else the embedded one)."""
        rows = list(
            self.db.table("cahra_lists").rows_where(
                order_by="coalesce(as_of, '') desc, id desc", limit=1
            )
        )
        if not rows:
            version, countries = load_embedded_cahra()
            return {
                "version": version,
                "countries": countries,
                "as_of": embedded_cahra_as_of(),
                "areas": {},
            }
        row = rows[0]
        return {
            "version": row["version"],
            "countries": frozenset(json.loads(row["countries"])),
            "as_of": _date(row.get("as_of")),
            "areas": {k: tuple(v) for k, v in json.loads(row.get("areas") or "{}").items()},
        }

    def current_cahra(self) -> tuple[str, frozenset[str]]:
        cahra = self.current_cahra_list()
        return cahra["version"], cahra["countries"]

    # -- smelter reference refreshes -----------------------------------------------
    def add_smelter_list(self, version: str, source: str, smelters: dict[str, SmelterRef]) -> int:
        with write_transaction(self.db):
            list_id = (
                self.db.table("smelter_lists")
                .insert(
                    {
                        "version": version,
                        "source": source,
                        "imported_at": utcnow(),
                        "smelters": len(smelters),
                    }
                )
                .last_pk
            )
            self.db.table("smelter_refs").insert_all(
                (
                    {
                        "list_id": list_id,
                        "cid": s.cid,
                        "metal": s.metal,
                        "name": s.name,
                        "country": s.country,
                        "aliases": json.dumps(list(s.aliases), ensure_ascii=False),
                    }
                    for s in smelters.values()
                ),
                batch_size=1000,
            )
        return int(list_id)  # type: ignore[arg-type]

    def current_smelters(self) -> tuple[str, dict[str, SmelterRef]]:
        """The embedded smelter reference with every imported refresh applied, oldest first.

        A refresh replaces a smelter's name, metal and country; the names it had before stay
        as aliases (suppliers still type them), so nothing they could match is lost.
        """
        version, embedded = load_embedded_smelters()
        lists = list(self.db.table("smelter_lists").rows_where(order_by="id"))
        if not lists:
            return version, embedded
        smelters = dict(embedded)
        for row in lists:
            for r in self.db.table("smelter_refs").rows_where("list_id = ?", [row["id"]]):
                old = smelters.get(r["cid"])
                aliases = list(json.loads(r["aliases"] or "[]"))
                if old is not None:
                    aliases += [old.name, *old.aliases]
                name = r["name"] or (old.name if old else "")
                smelters[r["cid"]] = SmelterRef(
                    r["cid"],
                    r["metal"] or (old.metal if old else ""),
                    name,
                    r["country"] or (old.country if old else ""),
                    tuple(dict.fromkeys(a for a in aliases if a and a != name)),
                )
        return f"{version}+{lists[-1]['version']}", smelters


def embedded_reference() -> ReferenceData:
    """The reference data an installed Assay has without a database: the embedded smelter
    list and CAHRA list, no RMAP list."""
    version, smelters = load_embedded_smelters()
    cahra_version, cahra = load_embedded_cahra()
    return ReferenceData(
        smelters, version, (), cahra, cahra_version, cahra_as_of=embedded_cahra_as_of()
    )
