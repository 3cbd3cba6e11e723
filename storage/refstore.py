"""The Store's reference-data part: RMAP lists, CAHRA lists, smelter reference refreshes.

Every list is kept (a result can always be explained by the lists it was screened with);
what screening uses is built here: for each metal the newest RMAP list covering it
(:mod:`storage.rmapstore`), the newest CAHRA list, and the embedded smelter reference with
every imported refresh applied in import order.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlite_utils

from plugins.reference import ReferenceData, RmapEntry, RmapList, SmelterRef

from . import rmapstore
from .db import utcnow
from .mail import OutboxItem, enqueue_in
from .models import CahraList, RmapChange, RmapListInfo
from .refdata import embedded_cahra_as_of, load_embedded_cahra, load_embedded_smelters
from .transactions import write_transaction


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


class ReferenceStore:
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
            cahra=cahra.countries,
            cahra_version=cahra.version,
            cahra_as_of=cahra.as_of,
            cahra_areas=cahra.areas,
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
        return rmapstore.insert_rmap_list(self.db, version, as_of, source, entries, metals, summary)

    def rmap_lists(self) -> list[RmapListInfo]:
        """Every RMAP list imported, newest (by its own date, then import) first."""
        return rmapstore.rmap_lists(self.db)

    def current_rmaps(self, smelters: dict[str, SmelterRef] | None = None) -> tuple[RmapList, ...]:
        """The lists in force, newest first (see :func:`storage.rmapstore.current_rmaps`)."""
        if smelters is None:
            smelters = self.current_smelters()[1]
        return rmapstore.current_rmaps(self.db, smelters)

    def current_rmap(self) -> RmapList | None:
        """The newest list (any metal)."""
        lists = self.current_rmaps()
        return lists[0] if lists else None

    def rmap_changes(self, old: ReferenceData, new: ReferenceData) -> list[RmapChange]:
        """Smelters listed by stored submissions whose RMAP standing differs between two
        reference states, with the suppliers that list them (for the compliance channel)."""
        return rmapstore.rmap_changes(self.db, old, new)

    def alert_stale_list(self, kind: str, version: str, message: str) -> None:
        """One alert per out-of-date list (the outbox keeps one row per key)."""
        from program.outbox import StaleList

        item = OutboxItem("alert", f"stale-list:{kind}:{version}", StaleList(version, message))
        with write_transaction(self.db):
            enqueue_in(self.db, item, utcnow())

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

    def current_cahra_list(self) -> CahraList:
        """The CAHRA list in force (the newest by its date, then import; else the embedded one)."""
        rows = list(
            self.db.table("cahra_lists").rows_where(
                order_by="coalesce(as_of, '') desc, id desc", limit=1
            )
        )
        if not rows:
            version, countries = load_embedded_cahra()
            return CahraList(version, countries, embedded_cahra_as_of())
        row = rows[0]
        return CahraList(
            version=row["version"],
            countries=frozenset(json.loads(row["countries"])),
            as_of=_date(row.get("as_of")),
            areas={k: tuple(v) for k, v in json.loads(row.get("areas") or "{}").items()},
        )

    def current_cahra(self) -> tuple[str, frozenset[str]]:
        cahra = self.current_cahra_list()
        return cahra.version, cahra.countries

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
