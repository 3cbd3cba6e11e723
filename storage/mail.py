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
import os
import socket
import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import sqlite_utils

from plugins.models import Declaration
from plugins.normalize import clean_text, name_key
from storage.transactions import write_transaction


def utcnow() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def lease_owner() -> str:
    """Who is delivering: ``host:pid.start:thread`` (the start time tells a reused pid apart)."""
    return (
        f"{socket.gethostname()}:{os.getpid()}.{_start_time(os.getpid())}:{threading.get_ident()}"
    )


def _start_time(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def owner_dead(owner: str) -> bool:
    """True only when ``owner`` ran on this host and its process is gone (killed, crashed).

    A lease of another host, or one we cannot judge, is left to expire.
    """
    host, _, rest = owner.partition(":")
    proc, _, _thread = rest.partition(":")
    pid, _, start = proc.partition(".")
    if host != socket.gethostname() or not pid.isdigit() or not start:
        return False
    if not Path("/proc/self/stat").exists():
        return False
    return _start_time(int(pid)) != start


def recipient_hash(address: str) -> str:
    """A stable, non-reversible handle on an address (rate limits without storing it)."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


def company_key(name: str) -> str:
    """A declared company name compared without regard to case and spacing."""
    return " ".join(clean_text(name).casefold().split())


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


def _recognised(everyone: list[dict[str, Any]], sender: str) -> tuple[dict[str, Any] | None, str]:
    """The registered supplier a sender's address, or else its domain, belongs to."""
    sender = sender.strip().lower()
    domain = sender.rpartition("@")[2]
    for s in everyone:
        if sender and sender in s["addresses"]:
            return s, "address"
    for s in everyone:
        if domain and domain in s["domains"]:
            return s, "domain"
    return None, ""


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
        with write_transaction(self.db):
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
        with write_transaction(self.db):
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
                item.payload if isinstance(item.payload, str) else item.payload.to_json(),
                int(encrypted),
                recipient_hash(item.recipient) if item.recipient else "",
                now,
            ],
        )

    def due_outbox(
        self, channel: str, limit: int = 100, now: str | None = None
    ) -> list[dict[str, Any]]:
        """What is due, read only (for inspection; notifiers use :meth:`claim_outbox`)."""
        return list(
            self.db.table("outbox").rows_where(
                "channel = ? and status = 'pending' and next_attempt_at <= ?",
                [channel, now or utcnow()],
                order_by="id",
                limit=limit,
            )
        )

    def claim_outbox(
        self,
        channel: str,
        owner: str,
        lease_seconds: float,
        limit: int = 1,
        in_order: bool = False,
        skip: Collection[int] = (),
        now: dt.datetime | None = None,
    ) -> list[dict[str, Any]]:
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
                row["claimed_from"] = row["status"]
                rows.append(row)
                if len(rows) >= limit:
                    break
            for row in rows:
                conn.execute(
                    "update outbox set status = 'sending', lease_owner = ?, lease_until = ?, "
                    "first_attempt_at = coalesce(first_attempt_at, ?) where id = ?",
                    [owner, until, stamp, row["id"]],
                )
                row["first_attempt_at"] = row.get("first_attempt_at") or stamp
                row["lease_owner"], row["lease_until"], row["status"] = owner, until, "sending"
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return rows

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
                self._enqueue(dead_alert, utcnow())
            return done

    def release_outbox(self, outbox_id: int, owner: str) -> None:
        """Give a claimed row back untouched (pending, due now): we did not try it."""
        with write_transaction(self.db):
            self.db.execute(
                "update outbox set status = 'pending', lease_owner = null, lease_until = null "
                "where id = ? and status = 'sending' and lease_owner = ?",
                [outbox_id, owner],
            )

    def outbox_row(self, outbox_id: int) -> dict[str, Any] | None:
        rows = list(self.db.table("outbox").rows_where("id = ?", [outbox_id]))
        return dict(rows[0]) if rows else None

    def outbox_by_key(self, dedupe_key: str) -> dict[str, Any] | None:
        """The outbox row with this dedupe key (a thread reply looks up its post's ``ts``)."""
        rows = list(self.db.table("outbox").rows_where("dedupe_key = ?", [dedupe_key]))
        return dict(rows[0]) if rows else None

    def supplier_for_message(self, message_key: str) -> str:
        """The registered supplier's name for a stored message ("" when unknown)."""
        row = self.db.execute(
            "select s.name from messages m join suppliers s on s.id = m.supplier_id where m.key = ?",
            [message_key],
        ).fetchone()
        return str(row[0]) if row else ""

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
        with write_transaction(self.db):
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
        self.credit_stored_submissions()
        return len(rows)

    def credit_stored_submissions(self) -> int:
        """Credit submissions stored before their supplier was registered.

        A source without a supplier is matched by its sender (address, then domain) and the
        declared company; a submission with no source at all (``assay screen``) by its
        declared company. Returns how many submissions gained a supplier.
        """
        credited = 0
        with write_transaction(self.db):
            for rowid, sender, company in self.db.execute(
                "select ss.rowid, ss.sender, s.company_name from submission_sources ss "
                "join submissions s on s.sha256 = ss.sha256 where ss.supplier_id is null"
            ).fetchall():
                supplier, _how = self.match_supplier(sender or "", company or "")
                if supplier is not None:
                    self.db.execute(
                        "update submission_sources set supplier_id = ? where rowid = ?",
                        [supplier["id"], rowid],
                    )
                    credited += 1
            for sha, company, source, seen in self.db.execute(
                "select sha256, company_name, source, first_seen from submissions s where company_name is not null "
                "and not exists (select 1 from submission_sources ss where ss.sha256 = s.sha256)"
            ).fetchall():
                credited += self._credit_by_company(sha, company, source or "cli", seen)
        return credited

    def credit_submission(self, sha256: str, company: str, source: str = "cli") -> bool:
        """Credit a submission screened outside the mail intake to the registered supplier whose
        name is its declared company (once)."""
        with write_transaction(self.db):
            return bool(self._credit_by_company(sha256, company, source, utcnow()))

    def _credit_by_company(self, sha256: str, company: str, source: str, when: str) -> int:
        supplier, _how = self.match_supplier("", company)
        if supplier is None:
            return 0
        if self.db.execute(
            "select 1 from submission_sources where sha256 = ? and supplier_id = ?",
            [sha256, supplier["id"]],
        ).fetchone():
            return 0
        self.db.table("submission_sources").insert(
            {
                "sha256": sha256,
                "source": source,
                "message_key": None,
                "supplier_id": supplier["id"],
                "sender": "",
                "received_at": when,
            }
        )
        return 1

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
        everyone = self.suppliers()
        found, how = _recognised(everyone, sender)
        if found is not None:
            return found, how
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

    def previous_submission(
        self,
        *,
        supplier_id: int | None,
        sender: str,
        company: str,
        template_type: str = "",
        exclude: Collection[str] = (),
    ) -> dict[str, Any] | None:
        """The file a resubmission is compared with: the supplier's last readable file of the
        same template family (when ``template_type`` is given), by when it was last received.

        Only files the same supplier *sent* count: those credited to ``supplier_id`` (pass it
        only for a supplier recognised by the sender's address or domain, never by the company
        a file declares), else those sent from the same address, else those sent from the same
        domain declaring the same company (case and spacing ignored). Declaring another
        company's name never shows that company's files. ``exclude``: the files of the message
        being answered (two files of one message are not each other's previous file). The row
        carries ``last_received`` (ISO time).
        """
        where = ["s.readable = 1", "s.declaration_json is not null"]
        args: list[Any] = []
        if exclude:
            where.append(f"s.sha256 not in ({', '.join('?' * len(exclude))})")
            args += list(exclude)
        if template_type:
            where.append("s.template_type = ?")
            args.append(template_type)
        query = (
            "select s.*, ss.received_at as last_received, ss.sender as source_sender "
            "from submissions s join submission_sources ss on ss.sha256 = s.sha256 where "
            + " and ".join(where)
            + " and {who} order by ss.received_at desc, ss.rowid desc limit 500"
        )
        address = sender.strip().lower()
        if supplier_id is not None:
            # Only what the supplier's own addresses or domains sent: a file credited to it
            # because it declared the supplier's name came from someone else.
            everyone = self.suppliers()
            for row in self.db.query(query.format(who="ss.supplier_id = ?"), [*args, supplier_id]):
                who, how = _recognised(everyone, str(row["source_sender"] or ""))
                if who is not None and who["id"] == supplier_id and how:
                    return dict(row)
        if not address or "@" not in address:
            return None
        for row in self.db.query(query.format(who="lower(ss.sender) = ?"), [*args, address]):
            return dict(row)
        key = company_key(company)
        domain = address.rsplit("@", 1)[1]
        if not key or not domain:
            return None
        for row in self.db.query(
            query.format(who="lower(ss.sender) like ? escape '\\'"),
            [*args, "%@" + domain.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")],
        ):
            if company_key(row["company_name"] or "") == key:
                return dict(row)
        return None

    def declaration(self, sha256: str) -> Declaration | None:
        """A stored submission's declaration (None: unknown, or the file was unreadable)."""
        row = self.db.execute(
            "select declaration_json from submissions where sha256 = ?", [sha256]
        ).fetchone()
        return Declaration.from_dict(json.loads(row[0])) if row and row[0] else None

    def submissions_with_prefix(self, prefix: str, limit: int = 2) -> list[str]:
        """The sha256 of stored submissions starting with ``prefix`` (lower-case hex), at most
        ``limit`` (two tell a unique prefix from an ambiguous one)."""
        prefix = prefix.lower()
        if not prefix or any(c not in "0123456789abcdef" for c in prefix):
            return []
        return [
            row[0]
            for row in self.db.execute(
                "select sha256 from submissions where sha256 >= ? and sha256 < ? order by sha256 limit ?",
                [prefix, prefix + "g", limit],
            )
        ]

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
