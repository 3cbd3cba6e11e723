"""Survey campaigns: who was asked, what was sent and when, files received (remediations and
grades over time: :mod:`storage.remediations`). Rows and writes only; every decision is
:mod:`program.campaign`'s.

Each e-mail or alert a campaign causes is queued in the same transaction as the event that
records it, and each event is unique per (campaign, supplier, kind, offset): a run repeated,
or killed and started again, queues nothing twice.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence

import sqlite_utils

from .campaign_models import (
    AttemptRow,
    Campaign,
    CampaignSpec,
    Member,
    _date,
)
from .db import utcnow
from .mail import OutboxItem, enqueue_in
from .transactions import write_transaction


class CampaignExists(ValueError):
    """A campaign of that name exists already."""


class CampaignStore:
    db: sqlite_utils.Database

    # -- campaigns -------------------------------------------------------------------
    def create_campaign(
        self, spec: CampaignSpec, supplier_ids: Iterable[int], opened_on: dt.date
    ) -> Campaign:
        now = utcnow()
        with write_transaction(self.db):
            if self.campaign(spec.name) is not None:
                raise CampaignExists(spec.name)
            campaign_id = (
                self.db.table("campaigns")
                .insert(
                    {
                        "name": spec.name,
                        "family": spec.family,
                        "min_version": spec.min_version,
                        "deadline": spec.deadline.isoformat(),
                        "final_deadline": spec.final_deadline.isoformat(),
                        "escalate_after": spec.escalate_after,
                        "reminder_days": json.dumps(sorted(spec.reminder_days)),
                        "opened_on": opened_on.isoformat(),
                        "created_at": now,
                        "state": "open",
                    }
                )
                .last_pk
            )
            self.add_to_campaign(int(campaign_id or 0), supplier_ids, opened_on)
        found = self.campaign(spec.name)
        assert found is not None
        return found

    def add_to_campaign(self, campaign_id: int, supplier_ids: Iterable[int], on: dt.date) -> int:
        """Add suppliers (those already in it are left as they are); returns how many were new."""
        added = 0
        with write_transaction(self.db):
            for sid in supplier_ids:
                cur = self.db.execute(
                    "insert or ignore into campaign_suppliers (campaign_id, supplier_id, added_on) "
                    "values (?, ?, ?)",
                    [campaign_id, sid, on.isoformat()],
                )
                added += cur.rowcount
        return added

    def campaign(self, name: str) -> Campaign | None:
        rows = list(self.db.table("campaigns").rows_where("name = ?", [name]))
        return Campaign.from_row(rows[0]) if rows else None

    def campaigns(self, state: str | None = None) -> list[Campaign]:
        where, args = ("state = ?", [state]) if state else (None, None)
        return [
            Campaign.from_row(r)
            for r in self.db.table("campaigns").rows_where(where, args, order_by="opened_on, id")
        ]

    def set_campaign_state(self, campaign_id: int, state: str) -> None:
        with write_transaction(self.db):
            self.db.execute("update campaigns set state = ? where id = ?", [state, campaign_id])

    def campaigns_of(self, supplier_id: int) -> list[Campaign]:
        return [
            Campaign.from_row(r)
            for r in self.db.query(
                "select c.* from campaigns c join campaign_suppliers cs on cs.campaign_id = c.id "
                "where cs.supplier_id = ? order by c.opened_on, c.id",
                [supplier_id],
            )
        ]

    def members(self, campaign_id: int, as_of: dt.date | None = None) -> list[Member]:
        """Every supplier of a campaign, by name, with what it has been sent (``as_of``: only
        what was sent by that day, for a status as of an earlier day)."""
        day = as_of.isoformat() if as_of else "9999-12-31"
        events: dict[int, list[tuple[str, int]]] = defaultdict(list)
        nonresponsive: dict[int, str] = {}
        for sid, kind, offset, on in self.db.execute(
            "select supplier_id, kind, offset, on_date from campaign_events "
            "where campaign_id = ? and on_date <= ?",
            [campaign_id, day],
        ):
            events[sid].append((kind, offset))
            if kind == "non-responsive":
                nonresponsive[sid] = on
        out = []
        for r in self.db.query(
            "select cs.*, s.name, s.addresses, s.owner, s.metals from campaign_suppliers cs "
            "join suppliers s on s.id = cs.supplier_id where cs.campaign_id = ? order by s.name",
            [campaign_id],
        ):
            sid = int(r["supplier_id"])
            mine = events.get(sid, [])
            out.append(
                Member(
                    campaign_id=campaign_id,
                    supplier_id=sid,
                    name=r["name"],
                    addresses=tuple(json.loads(r["addresses"] or "[]")),
                    owner=r["owner"] or "",
                    metals=tuple(json.loads(r["metals"] or "[]")),
                    added_on=dt.date.fromisoformat(r["added_on"]),
                    requested_on=_date(_by(r["requested_on"], day)),
                    request_message_id=r["request_message_id"] or "",
                    escalated_on=_date(_by(r["escalated_on"], day)),
                    reminders=tuple(sorted(o for k, o in mine if k in ("reminder", "skipped"))),
                    reminders_sent=sum(1 for k, _o in mine if k == "reminder"),
                    nonresponsive_on=_date(nonresponsive.get(sid)),
                )
            )
        return out

    # -- what is sent: each event once, with its outbox entry --------------------------
    def _campaign_event(
        self, campaign_id: int, supplier_id: int, kind: str, offset: int, on: dt.date, now: str
    ) -> bool:
        cur = self.db.execute(
            "insert or ignore into campaign_events (campaign_id, supplier_id, kind, offset, on_date, created_at) "
            "values (?, ?, ?, ?, ?, ?)",
            [campaign_id, supplier_id, kind, offset, on.isoformat(), now],
        )
        return bool(cur.rowcount)

    def record_request(
        self, member: Member, on: dt.date, message_id: str, item: OutboxItem
    ) -> bool:
        """Queue a supplier's request once; False when it had been queued already."""
        now = utcnow()
        with write_transaction(self.db):
            if not self._campaign_event(
                member.campaign_id, member.supplier_id, "request", 0, on, now
            ):
                return False
            self.db.execute(
                "update campaign_suppliers set requested_on = ?, request_message_id = ? "
                "where campaign_id = ? and supplier_id = ?",
                [on.isoformat(), message_id, member.campaign_id, member.supplier_id],
            )
            enqueue_in(self.db, item, now)
            return True

    def record_reminder(
        self,
        member: Member,
        offset: int,
        on: dt.date,
        item: OutboxItem | None,
        skipped: Sequence[int] = (),
    ) -> bool:
        """Queue reminder ``offset`` once (``skipped``: earlier ones recorded as never to send)."""
        now = utcnow()
        with write_transaction(self.db):
            for k in skipped:
                self._campaign_event(member.campaign_id, member.supplier_id, "skipped", k, on, now)
            if not self._campaign_event(
                member.campaign_id, member.supplier_id, "reminder", offset, on, now
            ):
                return False
            if item is not None:
                enqueue_in(self.db, item, now)
            return True

    def record_escalation(self, member: Member, on: dt.date, items: Sequence[OutboxItem]) -> bool:
        now = utcnow()
        with write_transaction(self.db):
            if not self._campaign_event(
                member.campaign_id, member.supplier_id, "escalation", 0, on, now
            ):
                return False
            self.db.execute(
                "update campaign_suppliers set escalated_on = ? where campaign_id = ? and supplier_id = ?",
                [on.isoformat(), member.campaign_id, member.supplier_id],
            )
            for item in items:
                enqueue_in(self.db, item, now)
            return True

    def record_nonresponsive(self, member: Member, on: dt.date, item: OutboxItem) -> bool:
        now = utcnow()
        with write_transaction(self.db):
            if not self._campaign_event(
                member.campaign_id, member.supplier_id, "non-responsive", 0, on, now
            ):
                return False
            enqueue_in(self.db, item, now)
            return True

    def record_digest(self, campaign_id: int, on: dt.date, item: OutboxItem) -> bool:
        """The day's digest for a campaign, once a day (supplier 0: the campaign itself)."""
        now = utcnow()
        offset = on.toordinal()
        with write_transaction(self.db):
            if not self._campaign_event(campaign_id, 0, "digest", offset, on, now):
                return False
            enqueue_in(self.db, item, now)
            return True

    # -- files received -------------------------------------------------------------
    def attempts_since(
        self, since: str, supplier_ids: Iterable[int] | None = None
    ) -> dict[int, list[AttemptRow]]:
        """Files credited to suppliers, received at or after ``since`` (UTC), oldest first."""
        where, args = "ss.received_at >= ? and ss.supplier_id is not null", [since]
        ids = list(supplier_ids) if supplier_ids is not None else None
        if ids is not None and len(ids) < 500:
            where += f" and ss.supplier_id in ({', '.join('?' * len(ids))})"
            args += [str(i) for i in ids]
        out: dict[int, list[AttemptRow]] = defaultdict(list)
        seen: set[tuple[int, str]] = set()
        for r in self.db.query(
            "select ss.supplier_id, ss.sha256, ss.received_at, ss.source, ss.matched_by, s.filename, s.readable, "
            "s.template_type, s.template_version, s.errors, s.risks, s.warnings "
            "from submission_sources ss join submissions s on s.sha256 = ss.sha256 "
            f"where {where} order by ss.received_at, ss.rowid",
            args,
        ):
            key = (int(r["supplier_id"]), r["sha256"])
            if key in seen:  # the same file sent again is one attempt
                continue
            seen.add(key)
            out[key[0]].append(
                AttemptRow(
                    supplier_id=key[0],
                    sha256=r["sha256"],
                    received_at=r["received_at"],
                    filename=r["filename"] or "",
                    readable=bool(r["readable"]),
                    template_type=r["template_type"] or "",
                    template_version=r["template_version"] or "",
                    errors=int(r["errors"] or 0),
                    risks=int(r["risks"] or 0),
                    warnings=int(r["warnings"] or 0),
                    verified=r["source"] != "email"
                    or r["matched_by"] in (None, "address", "domain"),
                )
            )
        return dict(out)

    def credited_since(self, rowid: int) -> tuple[set[int], int]:
        """Suppliers credited with a file after ``rowid`` of ``submission_sources``, and the
        last rowid now (a follower asks again from there)."""
        ids: set[int] = set()
        last = rowid
        for row_id, sid in self.db.execute(
            "select rowid, supplier_id from submission_sources where rowid > ? order by rowid",
            [rowid],
        ):
            last = max(last, int(row_id))
            if sid is not None:
                ids.add(int(sid))
        return ids, last

    def rmap_mark(self) -> int:
        """The newest RMAP list's id (0: none): a change means the standings may have moved."""
        return int(self.db.execute("select coalesce(max(id), 0) from rmap_lists").fetchone()[0])

    def finding_codes(self, sha256: str, severity: str) -> list[tuple[str, str]]:
        """(code, message) of a file's current findings of one severity."""
        return [
            (c, m)
            for c, m in self.db.execute(
                "select f.code, f.message from findings f join submissions s on s.sha256 = f.sha256 "
                "and f.screening_id = s.last_screening where f.sha256 = ? and f.severity = ? order by f.rowid",
                [sha256, severity],
            )
        ]

    def listed_smelters(self, sha256: str) -> list[tuple[str, str]]:
        """(metal, CID) of every identified smelter row of a file."""
        return [
            (m or "", c)
            for m, c in self.db.execute(
                "select distinct metal, smelter_id from smelter_rows where sha256 = ? "
                "and smelter_id is not null and smelter_id != '' order by metal, smelter_id",
                [sha256],
            )
        ]

    def grievances_investigating(self) -> dict[int, list[str]]:
        """Case ids of grievances under investigation, by the suppliers they are linked to."""
        out: dict[int, list[str]] = defaultdict(list)
        for case, ids in self.db.execute(
            "select case_id, supplier_ids from grievances where status = 'investigating' "
            "and (merged_into is null or merged_into = '') order by case_id"
        ):
            for sid in json.loads(ids or "[]"):
                out[int(sid)].append(case)
        return dict(out)

    def campaign_events(self, supplier_id: int) -> list[tuple[str, str, int, str]]:
        """(campaign, kind, offset, date) of everything sent to or about a supplier."""
        return [
            (n, k, o, d)
            for n, k, o, d in self.db.execute(
                "select c.name, e.kind, e.offset, e.on_date from campaign_events e join campaigns c "
                "on c.id = e.campaign_id where e.supplier_id = ? order by e.on_date, e.id",
                [supplier_id],
            )
        ]


def _by(date: str | None, day: str) -> str | None:
    """``date`` if it is on or before ``day`` (ISO dates compare as text)."""
    return date if date and date <= day else None
