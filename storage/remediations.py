"""Remediations and grades over time: a supplier's open and closed remediations (the
smelters a file must drop, and officers' waivers) and the grades kept for it, by campaign.
Rows and writes only; every decision is :mod:`program.campaign`'s.

Each alert a remediation causes is queued in the same transaction as the write that records it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Collection, Sequence

import sqlite_utils

from .campaign_models import GradeEntry, Remediation
from .db import utcnow
from .mail import OutboxItem, enqueue_in
from .transactions import write_transaction


class RemediationStore:
    db: sqlite_utils.Database

    # -- remediations ----------------------------------------------------------------
    def remediations(
        self, *, open_only: bool = True, supplier_id: int | None = None
    ) -> list[Remediation]:
        clauses = ["r.closed_at is null"] if open_only else []
        args: list[object] = []
        if supplier_id is not None:
            clauses.append("r.supplier_id = ?")
            args.append(supplier_id)
        where = ("where " + " and ".join(clauses)) if clauses else ""
        return [
            Remediation.from_row(r)
            for r in self.db.query(
                "select r.*, s.name as supplier from remediations r join suppliers s on s.id = r.supplier_id "
                f"{where} order by r.opened_at, r.id",
                args,
            )
        ]

    def remediation(self, remediation_id: int) -> Remediation | None:
        rows = list(
            self.db.query(
                "select r.*, s.name as supplier from remediations r join suppliers s on s.id = r.supplier_id where r.id = ?",
                [remediation_id],
            )
        )
        return Remediation.from_row(rows[0]) if rows else None

    def open_remediation(
        self,
        supplier_id: int,
        sha256: str,
        cids: Sequence[str],
        alert: Callable[[int], OutboxItem] | None = None,
    ) -> int:
        """Open a remediation; ``alert(id)`` is queued with it, in the same transaction."""
        now = utcnow()
        with write_transaction(self.db):
            rid = (
                self.db.table("remediations")
                .insert(
                    {
                        "supplier_id": supplier_id,
                        "opened_at": now,
                        "file_sha256": sha256,
                        "cids": json.dumps(sorted(cids)),
                        "updated_at": now,
                        "closed_at": None,
                        "close_reason": "",
                        "waived": 0,
                    }
                )
                .last_pk
            )
            if alert is not None:
                enqueue_in(self.db, _keyed(alert(int(rid or 0)), f"remediation-opened:{rid}"), now)
            return int(rid or 0)

    def waived_smelters(self, supplier_id: int, files: Collection[str]) -> set[str]:
        """CIDs an officer waived for a supplier's remediation of one of ``files``."""
        out: set[str] = set()
        for sha, cids in self.db.execute(
            "select file_sha256, cids from remediations where supplier_id = ? and waived = 1",
            [supplier_id],
        ):
            if sha in files:
                out |= set(json.loads(cids or "[]"))
        return out

    def update_remediation(self, remediation_id: int, sha256: str, cids: Sequence[str]) -> None:
        with write_transaction(self.db):
            self.db.execute(
                "update remediations set cids = ?, file_sha256 = ?, updated_at = ? where id = ? and closed_at is null",
                [json.dumps(sorted(cids)), sha256, utcnow(), remediation_id],
            )

    def close_remediation(
        self, remediation_id: int, reason: str, alert: OutboxItem | None, waived: bool = False
    ) -> bool:
        """Close an open remediation (once); ``waived``: an officer's waiver, whose smelters
        then open no new remediation for the supplier."""
        now = utcnow()
        with write_transaction(self.db):
            cur = self.db.execute(
                "update remediations set closed_at = ?, close_reason = ?, waived = ? "
                "where id = ? and closed_at is null",
                [now, reason[:500], int(waived), remediation_id],
            )
            if cur.rowcount and alert is not None:
                enqueue_in(self.db, _keyed(alert, f"remediation-closed:{remediation_id}"), now)
            return bool(cur.rowcount)

    # -- grades over time -------------------------------------------------------------
    def record_grade(
        self,
        supplier_id: int,
        on: dt.date,
        level: str,
        reasons: Sequence[str],
        campaign_id: int = 0,
    ) -> bool:
        """Keep a supplier's grade in a campaign (0: outside any) for the day, when it differs
        from the last one kept for that campaign."""
        with write_transaction(self.db):
            last = self.db.execute(
                "select level, reasons from grade_history where campaign_id = ? and supplier_id = ? "
                "and on_date < ? order by on_date desc limit 1",
                [campaign_id, supplier_id, on.isoformat()],
            ).fetchone()
            if last and last[0] == level and json.loads(last[1]) == list(reasons):
                self.db.execute(
                    "delete from grade_history where campaign_id = ? and supplier_id = ? and on_date = ?",
                    [campaign_id, supplier_id, on.isoformat()],
                )
                return False
            self.db.execute(
                "insert or replace into grade_history (campaign_id, supplier_id, on_date, level, reasons) "
                "values (?, ?, ?, ?, ?)",
                [campaign_id, supplier_id, on.isoformat(), level, json.dumps(list(reasons))],
            )
            return True

    def grade_history(self, supplier_id: int) -> list[GradeEntry]:
        """A supplier's grades over time, by date, each with its campaign's name."""
        return [
            GradeEntry(d, lv, tuple(json.loads(r)), name or "")
            for d, lv, r, name in self.db.execute(
                "select g.on_date, g.level, g.reasons, c.name from grade_history g "
                "left join campaigns c on c.id = g.campaign_id where g.supplier_id = ? "
                "order by g.on_date, c.name",
                [supplier_id],
            )
        ]


def _keyed(item: OutboxItem, key: str) -> OutboxItem:
    return OutboxItem(item.channel, key, item.payload, item.recipient)
