"""Messages and the durable outbox: the Store's part that intake and bot hand work over by.

The database is the hand-off: intake records a message (with its screenings and the
outbox entries it causes) and only then marks the message in the mailbox; the notifier
claims outbox entries with a lease (:mod:`storage.leases`), delivers them and marks them
sent. Every write is keyed so that doing it twice changes nothing: messages by the sha256
of their bytes, outbox entries by a dedupe key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlite_utils

from .db import utcnow
from .leases import owner_dead
from .models import Message, OutboxRow
from .transactions import write_transaction


def recipient_hash(address: str) -> str:
    """A stable, non-reversible handle on an address (rate limits without storing it)."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


class Payload(Protocol):
    """What an outbox entry carries (``program.outbox`` has one type per kind)."""

    def to_json(self) -> str: ...


@dataclass(frozen=True)
class OutboxItem:
    channel: str  # "email" or "alert"
    dedupe_key: str
    payload: Payload | str  # a str is an already encrypted payload
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
    matched_by: str = ""  # how the supplier was recognised: address, domain, company, ""


def message_recorded(db: sqlite_utils.Database, key: str) -> bool:
    return bool(db.execute("select 1 from messages where key = ?", [key]).fetchone())


def insert_message(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    """A ``messages`` row, in the caller's transaction."""
    db.table("messages").insert(row)


def enqueue_in(db: sqlite_utils.Database, item: OutboxItem, now: str) -> None:
    """Queue ``item`` in the caller's transaction (once per dedupe key)."""
    encrypted = isinstance(item.payload, str)
    db.execute(
        "insert or ignore into outbox (dedupe_key, channel, created_at, payload, encrypted, recipient_hash, status, attempts, next_attempt_at) "
        "values (?, ?, ?, ?, ?, ?, 'pending', 0, ?)",
        [
            item.dedupe_key,
            item.channel,
            now,
            item.payload if isinstance(item.payload, str) else item.payload.to_json(),
            int(encrypted),
            recipient_hash(item.recipient) if item.recipient else "",
            now,
        ],
    )


class MailStore:
    db: sqlite_utils.Database

    # -- messages ------------------------------------------------------------------
    def message_done(self, key: str) -> Message | None:
        rows = list(self.db.table("messages").rows_where("key = ?", [key]))
        return Message.from_row(rows[0]) if rows else None

    def record_message(self, rec: MessageRecord) -> bool:
        """Store a processed message and what it caused, in one transaction.

        Returns False (and writes nothing) when the message was already recorded.
        """
        now = utcnow()
        with write_transaction(self.db):
            if message_recorded(self.db, rec.key):
                return False
            insert_message(
                self.db,
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
                },
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
                        "matched_by": rec.matched_by if supplier_id is not None else "",
                    }
                )
            for item in rec.outbox:
                enqueue_in(self.db, item, now)
        return True

    def messages(self, outcome: str | None = None) -> list[Message]:
        where, args = ("outcome = ?", [outcome]) if outcome else (None, None)
        return [
            Message.from_row(r)
            for r in self.db.table("messages").rows_where(where, args, order_by="processed_at")
        ]

    # -- outbox ----------------------------------------------------------------------
    def enqueue(self, item: OutboxItem) -> None:
        with write_transaction(self.db):
            enqueue_in(self.db, item, utcnow())

    def due_outbox(self, channel: str, limit: int = 100, now: str | None = None) -> list[OutboxRow]:
        """What is due, read only (for inspection; notifiers use :meth:`claim_outbox`)."""
        return [
            OutboxRow.from_row(r)
            for r in self.db.table("outbox").rows_where(
                "channel = ? and status = 'pending' and next_attempt_at <= ?",
                [channel, now or utcnow()],
                order_by="id",
                limit=limit,
            )
        ]

    def claim_outbox(
        self,
        channel: str,
        owner: str,
        lease_seconds: float,
        limit: int = 1,
        in_order: bool = False,
        skip: Collection[int] = (),
        now: dt.datetime | None = None,
    ) -> list[OutboxRow]:
        """Claim due rows for delivery, atomically (one ``BEGIN IMMEDIATE`` transaction).

        Due are pending rows whose retry time has come, and ``sending`` rows whose lease
        expired or whose owner is known to be dead (their owner crashed mid-delivery). Each
        claimed row becomes ``sending`` with our lease; the returned rows carry
        ``claimed_from`` (the status they had: ``pending`` or ``sending``). With
        ``in_order`` nothing is claimed while another live owner holds a row of the
        channel, so the channel's rows are delivered one after another, in id order.
        """
        moment = now or dt.datetime.now(dt.UTC)
        stamp = moment.replace(microsecond=0).isoformat()
        until = (moment + dt.timedelta(seconds=lease_seconds)).replace(microsecond=0).isoformat()
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            held = conn.execute(
                "select id, lease_owner, lease_until from outbox where channel = ? and status = 'sending' order by id",
                [channel],
            ).fetchall()
            stale = {i for i, who, lease in held if (lease or "") <= stamp or owner_dead(who or "")}
            if in_order and any(i not in stale and who != owner for i, who, _l in held):
                conn.execute("COMMIT")
                return []
            cur = conn.execute(
                "select * from outbox where channel = ? and ((status = 'pending' and next_attempt_at <= ?) "
                "or status = 'sending') order by id",
                [channel, stamp],
            )
            cols = [c[0] for c in cur.description]
            rows: list[dict[str, Any]] = []
            for values in cur.fetchall():
                row = dict(zip(cols, values, strict=True))
                if row["status"] == "sending" and row["id"] not in stale:
                    continue  # a live owner is delivering it
                if row["id"] in skip:
                    if in_order:
                        break  # tried in this pass already: nothing later may overtake it
                    continue
                rows.append(row)
                if len(rows) >= limit:
                    break
            claimed = []
            for row in rows:
                conn.execute(
                    "update outbox set status = 'sending', lease_owner = ?, lease_until = ?, "
                    "first_attempt_at = coalesce(first_attempt_at, ?) where id = ?",
                    [owner, until, stamp, row["id"]],
                )
                claimed_from = row["status"]
                row["first_attempt_at"] = row.get("first_attempt_at") or stamp
                row["lease_owner"], row["lease_until"], row["status"] = owner, until, "sending"
                claimed.append(OutboxRow.from_row(row, claimed_from=claimed_from))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return claimed

    def mark_sent(self, outbox_id: int, owner: str | None = None, ref: str = "") -> bool:
        """Mark delivered; with ``owner``, only while that owner still holds the lease."""
        guard, args = (
            ("", []) if owner is None else (" and status = 'sending' and lease_owner = ?", [owner])
        )
        with write_transaction(self.db):
            cur = self.db.execute(
                "update outbox set status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = '', "
                "delivered_ref = ?, lease_owner = null, lease_until = null where id = ?" + guard,
                [utcnow(), ref[:200], outbox_id, *args],
            )
            return bool(cur.rowcount)

    def mark_failed(
        self,
        outbox_id: int,
        error: str,
        retry_at: str | None,
        owner: str | None = None,
        dead_alert: OutboxItem | None = None,
    ) -> bool:
        """Record a failed attempt; ``retry_at`` None gives up (status ``dead``).

        With ``owner``, only while that owner still holds the lease. ``dead_alert`` is
        queued in the same transaction when the row dies (its dedupe key makes it one).
        """
        guard, args = (
            ("", []) if owner is None else (" and status = 'sending' and lease_owner = ?", [owner])
        )
        with write_transaction(self.db):
            cur = self.db.execute(
                "update outbox set attempts = attempts + 1, last_error = ?, status = ?, "
                "next_attempt_at = coalesce(?, next_attempt_at), lease_owner = null, lease_until = null where id = ?"
                + guard,
                [error[:500], "pending" if retry_at else "dead", retry_at, outbox_id, *args],
            )
            done = bool(cur.rowcount)
            if done and retry_at is None and dead_alert is not None:
                enqueue_in(self.db, dead_alert, utcnow())
            return done

    def release_outbox(self, outbox_id: int, owner: str) -> None:
        """Give a claimed row back untouched (pending, due now): we did not try it."""
        with write_transaction(self.db):
            self.db.execute(
                "update outbox set status = 'pending', lease_owner = null, lease_until = null "
                "where id = ? and status = 'sending' and lease_owner = ?",
                [outbox_id, owner],
            )

    def outbox_row(self, outbox_id: int) -> OutboxRow | None:
        rows = list(self.db.table("outbox").rows_where("id = ?", [outbox_id]))
        return OutboxRow.from_row(rows[0]) if rows else None

    def outbox_by_key(self, dedupe_key: str) -> OutboxRow | None:
        """The outbox row with this dedupe key (a thread reply looks up its post's ``ts``)."""
        rows = list(self.db.table("outbox").rows_where("dedupe_key = ?", [dedupe_key]))
        return OutboxRow.from_row(rows[0]) if rows else None

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
