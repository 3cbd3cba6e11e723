"""Suppliers: the registry, recognising who sent a file, and crediting files to suppliers.

A message's sender is matched by address, then domain, then the company its file declares;
a file screened before its supplier was registered is credited when the registry is
imported. Which earlier file a resubmission is compared with is decided here too: only one
the same supplier *sent* (never one that merely declares its name).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

import sqlite_utils

from plugins.normalize import clean_text, name_key

from .db import utcnow
from .models import ReceivedSubmission, Submission, Supplier, SupplierEntry, SupplierStatus
from .transactions import write_transaction


def company_key(name: str) -> str:
    """A declared company name compared without regard to case and spacing."""
    return " ".join(clean_text(name).casefold().split())


def _recognised(everyone: Sequence[Supplier], sender: str) -> tuple[Supplier | None, str]:
    """The registered supplier a sender's address, or else its domain, belongs to."""
    sender = sender.strip().lower()
    domain = sender.rpartition("@")[2]
    for s in everyone:
        if sender and sender in s.addresses:
            return s, "address"
    for s in everyone:
        if domain and domain in s.domains:
            return s, "domain"
    return None, ""


def _received(row: dict[str, Any], received_at: str, sender: str = "") -> ReceivedSubmission:
    return ReceivedSubmission(Submission.from_row(row), received_at, sender)


class SupplierStore:
    db: sqlite_utils.Database

    def import_suppliers(self, rows: Sequence[SupplierEntry]) -> int:
        now = utcnow()
        with write_transaction(self.db):
            for row in rows:
                self.db.table("suppliers").upsert(
                    {
                        "name": row.name,
                        "addresses": json.dumps(sorted({a.lower() for a in row.addresses})),
                        "domains": json.dumps(sorted({d.lower().lstrip("@") for d in row.domains})),
                        "expected": json.dumps(list(row.expected)),
                        "owner": row.owner,
                        "metals": json.dumps(list(row.metals)),
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
                supplier, how = self.match_supplier(sender or "", company or "")
                if supplier is not None:
                    self.db.execute(
                        "update submission_sources set supplier_id = ?, matched_by = ? where rowid = ?",
                        [supplier.id, how, rowid],
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
            [sha256, supplier.id],
        ).fetchone():
            return 0
        self.db.table("submission_sources").insert(
            {
                "sha256": sha256,
                "source": source,
                "message_key": None,
                "supplier_id": supplier.id,
                "sender": "",
                "received_at": when,
                "matched_by": "company",
            }
        )
        return 1

    def supplier_for_message(self, message_key: str) -> str:
        """The registered supplier's name for a stored message ("" when unknown)."""
        row = self.db.execute(
            "select s.name from messages m join suppliers s on s.id = m.supplier_id where m.key = ?",
            [message_key],
        ).fetchone()
        return str(row[0]) if row else ""

    def suppliers(self) -> list[Supplier]:
        return [
            Supplier.from_row(r) for r in self.db.table("suppliers").rows_where(order_by="name")
        ]

    def match_supplier(self, sender: str, company_name: str = "") -> tuple[Supplier | None, str]:
        """The supplier a message comes from: by address, then domain, then declared company."""
        everyone = self.suppliers()
        found, how = _recognised(everyone, sender)
        if found is not None:
            return found, how
        key = name_key(company_name)
        for s in everyone:
            if key and name_key(s.name) == key:
                return s, "company"
        return None, ""

    def latest_submission(
        self, supplier_id: int | None, company: str = ""
    ) -> ReceivedSubmission | None:
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
        return _received(dict(self.db.table("submissions").get(row[0])), row[1])

    def previous_submission(
        self,
        *,
        supplier_id: int | None,
        sender: str,
        company: str,
        template_type: str = "",
        exclude: Collection[str] = (),
    ) -> ReceivedSubmission | None:
        """The file a resubmission is compared with: the supplier's last readable file of the
        same template family (when ``template_type`` is given), by when it was last received.

        Only files the same supplier *sent* count: those credited to ``supplier_id`` (pass it
        only for a supplier recognised by the sender's address or domain, never by the company
        a file declares), else those sent from the same address, else those sent from the same
        domain declaring the same company (case and spacing ignored). Declaring another
        company's name never shows that company's files. ``exclude``: the files of the message
        being answered (two files of one message are not each other's previous file).
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

        def found(row: dict[str, Any]) -> ReceivedSubmission:
            return _received(row, str(row["last_received"]), str(row["source_sender"] or ""))

        address = sender.strip().lower()
        if supplier_id is not None:
            # Only what the supplier's own addresses or domains sent: a file credited to it
            # because it declared the supplier's name came from someone else.
            everyone = self.suppliers()
            for row in self.db.query(query.format(who="ss.supplier_id = ?"), [*args, supplier_id]):
                who, how = _recognised(everyone, str(row["source_sender"] or ""))
                if who is not None and who.id == supplier_id and how:
                    return found(row)
        if not address or "@" not in address:
            return None
        for row in self.db.query(query.format(who="lower(ss.sender) = ?"), [*args, address]):
            return found(row)
        key = company_key(company)
        domain = address.rsplit("@", 1)[1]
        if not key or not domain:
            return None
        for row in self.db.query(
            query.format(who="lower(ss.sender) like ? escape '\\'"),
            [*args, "%@" + domain.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")],
        ):
            if company_key(row["company_name"] or "") == key:
                return found(row)
        return None

    def supplier_status(self) -> list[SupplierStatus]:
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
            sub = self.db.execute(
                "select template_type, template_version, risk_level, errors, risks, warnings, infos from submissions where sha256 = ?",
                [r["last_sha"]],
            ).fetchone()
            out.append(
                SupplierStatus(
                    int(r["id"]),
                    r["name"],
                    tuple(json.loads(r["expected"] or "[]")),
                    r["last_received"],
                    r["last_sha"],
                    *(sub or ()),
                )
            )
        return out
