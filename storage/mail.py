"""Messages, the durable outbox, and suppliers: the Store's half that intake and bot share.

The database is the hand-off: intake records a message (with its screenings and the
outbox entries it causes) and only then marks the message in the mailbox; the notifier
delivers outbox entries and marks them sent. Every write is keyed so that doing it twice
changes nothing: messages by the sha256 of their bytes, outbox entries by a dedupe key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from plugins.normalize import name_key


def utcnow() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def recipient_hash(address: str) -> str:
    """A stable, non-reversible handle on an address (rate limits without storing it)."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


@dataclass(frozen=True)
class OutboxItem:
    channel: str  # "email" or "alert"
    dedupe_key: str
    payload: dict[str, Any] | str  # a str is an already encrypted payload
    recipient: str = ""  # only to compute recipient_hash; never stored


@dataclass(frozen=True)
class MessageRecord:
    key: str
    mailbox: str
    message_id: str = ""
    sender: str = ""
    subject: str = ""
    outcome: str = ""
    reason: str = ""
    supplier_id: int | None = None
    submissions: tuple[str, ...] = ()
    outbox: tuple[OutboxItem, ...] = ()
    sources: tuple[tuple[str, int | None], ...] = field(default=())  # (sha256, supplier id)
    source: str = "email"  # how the submissions arrived: email, slack


class MailStoreMixin:
    db: sqlite_utils.Database

    # -- messages ------------------------------------------------------------------
    def message_done(self, key: str) -> dict[str, Any] | None:
        rows = list(self.db.table("messages").rows_where("key = ?", [key]))
        return rows[0] if rows else None

    def record_message(self, rec: MessageRecord) -> bool:
        """Store a processed message and what it caused, in one transaction.

        Returns False (and writes nothing) when the message was already recorded.
        """
        now = utcnow()
        with self.db.conn:
            if self.db.execute("select 1 from messages where key = ?", [rec.key]).fetchone():
                return False
            self.db.table("messages").insert(
                {
                    "key": rec.key,
                    "mailbox": rec.mailbox,
                    "message_id": rec.message_id,
                    "received_at": now,
                    "processed_at": now,
                    "sender": rec.sender,
                    "subject": rec.subject,
                    "outcome": rec.outcome,
                    "reason": rec.reason,
                    "supplier_id": rec.supplier_id,
                    "submissions": json.dumps(list(rec.submissions)),
                }
            )
            for sha, supplier_id in rec.sources:
                self.db.table("submission_sources").insert(
                    {
                        "sha256": sha,
                        "source": rec.source,
                        "message_key": rec.key,
                        "supplier_id": supplier_id,
                        "sender": rec.sender,
                        "received_at": now,
                    }
                )
            for item in rec.outbox:
                self._enqueue(item, now)
        return True

    def messages(self, outcome: str | None = None) -> list[dict[str, Any]]:
        where, args = ("outcome = ?", [outcome]) if outcome else (None, None)
        return list(self.db.table("messages").rows_where(where, args, order_by="processed_at"))

    # -- outbox ----------------------------------------------------------------------
    def enqueue(self, item: OutboxItem) -> None:
        with self.db.conn:
            self._enqueue(item, utcnow())

    def _enqueue(self, item: OutboxItem, now: str) -> None:
        encrypted = isinstance(item.payload, str)
        self.db.execute(
            "insert or ignore into outbox (dedupe_key, channel, created_at, payload, encrypted, recipient_hash, status, attempts, next_attempt_at) "
            "values (?, ?, ?, ?, ?, ?, 'pending', 0, ?)",
            [
                item.dedupe_key,
                item.channel,
                now,
                item.payload if encrypted else json.dumps(item.payload, ensure_ascii=False),
                int(encrypted),
                recipient_hash(item.recipient) if item.recipient else "",
                now,
            ],
        )

    def due_outbox(
        self, channel: str, limit: int = 100, now: str | None = None
    ) -> list[dict[str, Any]]:
        return list(
            self.db.table("outbox").rows_where(
                "channel = ? and status = 'pending' and next_attempt_at <= ?",
                [channel, now or utcnow()],
                order_by="id",
                limit=limit,
            )
        )

    def mark_sent(self, outbox_id: int) -> None:
        with self.db.conn:
            self.db.execute(
                "update outbox set status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = '' where id = ?",
                [utcnow(), outbox_id],
            )

    def mark_failed(self, outbox_id: int, error: str, retry_at: str | None) -> None:
        """Record a failed attempt; ``retry_at`` None gives up (status ``dead``)."""
        with self.db.conn:
            self.db.execute(
                "update outbox set attempts = attempts + 1, last_error = ?, status = ?, next_attempt_at = coalesce(?, next_attempt_at) where id = ?",
                [error[:500], "pending" if retry_at else "dead", retry_at, outbox_id],
            )

    def outbox_count(self, status: str | None = None, channel: str | None = None) -> int:
        clauses, args = [], []
        if status:
            clauses.append("status = ?")
            args.append(status)
        if channel:
            clauses.append("channel = ?")
            args.append(channel)
        where = (" where " + " and ".join(clauses)) if clauses else ""
        return int(self.db.execute(f"select count(*) from outbox{where}", args).fetchone()[0])

    def replies_since(self, address: str, since: str) -> int:
        return int(
            self.db.execute(
                "select count(*) from outbox where channel = 'email' and recipient_hash = ? and created_at >= ?",
                [recipient_hash(address), since],
            ).fetchone()[0]
        )

    # -- suppliers -------------------------------------------------------------------
    def import_suppliers(self, rows: list[dict[str, Any]]) -> int:
        now = utcnow()
        with self.db.conn:
            for row in rows:
                self.db.table("suppliers").upsert(
                    {
                        "name": row["name"],
                        "addresses": json.dumps(
                            sorted({a.lower() for a in row.get("addresses", [])})
                        ),
                        "domains": json.dumps(
                            sorted({d.lower().lstrip("@") for d in row.get("domains", [])})
                        ),
                        "expected": json.dumps(row.get("expected", [])),
                        "imported_at": now,
                    },
                    pk="name",
                    alter=False,
                )
        return len(rows)

    def suppliers(self) -> list[dict[str, Any]]:
        out = []
        for row in self.db.table("suppliers").rows_where(order_by="name"):
            row = dict(row)
            for key in ("addresses", "domains", "expected"):
                row[key] = json.loads(row[key] or "[]")
            out.append(row)
        return out

    def match_supplier(
        self, sender: str, company_name: str = ""
    ) -> tuple[dict[str, Any] | None, str]:
        """The supplier a message comes from: by address, then domain, then declared company."""
        sender = sender.strip().lower()
        domain = sender.rpartition("@")[2]
        everyone = self.suppliers()
        for s in everyone:
            if sender and sender in s["addresses"]:
                return s, "address"
        for s in everyone:
            if domain and domain in s["domains"]:
                return s, "domain"
        key = name_key(company_name)
        for s in everyone:
            if key and name_key(s["name"]) == key:
                return s, "company"
        return None, ""

    def latest_submission(
        self, supplier_id: int | None, company: str = ""
    ) -> dict[str, Any] | None:
        """A supplier's latest submission (by registry id, else by declared company name)."""
        row = None
        if supplier_id is not None:
            row = self.db.execute(
                "select sha256, received_at from submission_sources where supplier_id = ? order by received_at desc, rowid desc limit 1",
                [supplier_id],
            ).fetchone()
        if row is None and company:
            key = name_key(company)
            for sha, name, seen in self.db.execute(
                "select sha256, company_name, first_seen from submissions where company_name is not null order by first_seen desc"
            ):
                if name_key(name or "") == key:
                    row = (sha, seen)
                    break
        if row is None:
            return None
        sub = dict(self.db.table("submissions").get(row[0]))
        sub["received_at"] = row[1]
        return sub

    def supplier_status(self) -> list[dict[str, Any]]:
        """Every supplier with its latest submission (if any) and that submission's result."""
        rows = self.db.query(
            """
            select s.id, s.name, s.expected,
                   (select max(ss.received_at) from submission_sources ss where ss.supplier_id = s.id) as last_received,
                   (select ss.sha256 from submission_sources ss where ss.supplier_id = s.id order by ss.received_at desc, ss.rowid desc limit 1) as last_sha
            from suppliers s order by s.name
            """
        )
        out = []
        for r in rows:
            r = dict(r)
            sub = self.db.execute(
                "select template_type, template_version, risk_level, errors, risks, warnings, infos from submissions where sha256 = ?",
                [r["last_sha"]],
            ).fetchone()
            keys = (
                "template_type",
                "template_version",
                "risk_level",
                "errors",
                "risks",
                "warnings",
                "infos",
            )
            r.update(dict(zip(keys, sub, strict=True)) if sub else dict.fromkeys(keys))
            r["expected"] = json.loads(r["expected"] or "[]")
            out.append(r)
        return out
