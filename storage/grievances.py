"""Grievance cases. Reporter identity and case contents are stored only as Fernet tokens;
the store never sees a key, callers encrypt and decrypt.

A case's number is given when it is created (``GRV-<year>-<n>``, in the creating
transaction). What names the number (the reporter's acknowledgement, the alert) is queued
by the caller in the same transaction: ``with store.transaction():`` around
:meth:`GrievanceStore.create_grievance` and :meth:`~storage.mail.MailStore.enqueue`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import sqlite_utils

from .db import utcnow
from .mail import OutboxItem, enqueue_in, insert_message, message_recorded
from .models import Grievance, GrievanceAttachment, GrievanceEvent
from .transactions import write_transaction

STATUSES = ("received", "screening", "investigating", "action", "closed")
MERGED = "merged"  # set only by merge_grievances: the case lives on in its target


class MergeError(ValueError):
    """A merge the officer asked for that cannot be done (same case, unknown, already merged)."""


class GrievanceStore:
    db: sqlite_utils.Database
    files_dir: Path

    def _event(
        self, case_id: str, at: str, kind: str, status: str = "", note_enc: str = ""
    ) -> None:
        """One step of a case's history, in the caller's transaction."""
        self.db.table("grievance_events").insert(
            {"case_id": case_id, "at": at, "kind": kind, "status": status, "note_enc": note_enc}
        )

    def _next_case_id(self, year: int) -> str:
        prefix = f"GRV-{year}-"
        row = self.db.execute(
            "select max(case_id) from grievances where case_id like ?", [prefix + "%"]
        ).fetchone()
        last = int(row[0][len(prefix) :]) if row and row[0] else 0
        return f"{prefix}{last + 1:04d}"

    def create_grievance(
        self,
        *,
        message_key: str,
        mailbox: str,
        category: str,
        subject_enc: str,
        body_enc: str,
        reporter_enc: str,
        reply_token: str,
        cids: Sequence[str],
        supplier_ids: Sequence[int],
        respond_by: str,
        attachments: Sequence[tuple[str, str, int]],  # (sha256, filename_enc, size)
        year: int,
        mentions: Sequence[str] = (),  # other cases' numbers found in the text
    ) -> str | None:
        """A new case (its number returned), its first event and the message, in one
        transaction. None if the message was already recorded."""
        now = utcnow()
        with write_transaction(self.db):
            if message_recorded(self.db, message_key):
                return None
            case_id = self._next_case_id(year)
            self.db.table("grievances").insert(
                {
                    "case_id": case_id,
                    "created_at": now,
                    "updated_at": now,
                    "status": "received",
                    "category": category,
                    "subject_enc": subject_enc,
                    "body_enc": body_enc,
                    "reporter_enc": reporter_enc,
                    "reply_token": reply_token,
                    "cids": json.dumps(list(cids)),
                    "supplier_ids": json.dumps(list(supplier_ids)),
                    "respond_by": respond_by,
                }
            )
            self._event(case_id, now, "received", "received")
            for other in mentions:
                # Another case's number in the text: shown to the officer, never linked.
                self._event(case_id, now, f"mentions {other} (not linked)")
            for sha, filename_enc, size in attachments:
                self.db.table("grievance_attachments").insert(
                    {"case_id": case_id, "sha256": sha, "filename_enc": filename_enc, "size": size}
                )
            self._record_grievance_message(message_key, mailbox, now, "grievance", case_id)
        return case_id

    def add_followup(
        self,
        *,
        case_id: str,
        message_key: str,
        mailbox: str,
        body_enc: str,
        outbox: Sequence[OutboxItem],
    ) -> bool:
        """A follow-up joins a case, with what it causes, in one transaction. False if the
        message was already recorded."""
        now = utcnow()
        with write_transaction(self.db):
            if message_recorded(self.db, message_key):
                return False
            self._event(case_id, now, "follow-up", note_enc=body_enc)
            self.db.execute(
                "update grievances set updated_at = ? where case_id = ?", [now, case_id]
            )
            self._record_grievance_message(
                message_key, mailbox, now, "grievance-follow-up", case_id
            )
            for item in outbox:
                enqueue_in(self.db, item, now)
        return True

    def _record_grievance_message(
        self, key: str, mailbox: str, now: str, outcome: str, case_id: str
    ) -> None:
        # No sender, no subject, no Message-ID: nothing that could identify the reporter.
        insert_message(
            self.db,
            {
                "key": key,
                "mailbox": mailbox,
                "message_id": "",
                "received_at": now,
                "processed_at": now,
                "sender": "",
                "subject": "",
                "outcome": outcome,
                "reason": case_id,
                "submissions": "[]",
            },
        )

    def keep_grievance_file(self, sha256: str, encrypted: bytes) -> None:
        """Grievance attachments, stored encrypted beside the database."""
        path = self.files_dir / "grievances" / sha256
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(encrypted)

    def grievance(self, case_id: str) -> Grievance | None:
        rows = list(self.db.table("grievances").rows_where("case_id = ?", [case_id.upper()]))
        return Grievance.from_row(rows[0]) if rows else None

    def grievance_by_token(self, token: str) -> Grievance | None:
        rows = list(self.db.table("grievances").rows_where("reply_token = ?", [token]))
        return Grievance.from_row(rows[0]) if rows else None

    def grievances(self, status: str | None = None) -> list[Grievance]:
        where, args = ("status = ?", [status]) if status else (None, None)
        return [
            Grievance.from_row(r)
            for r in self.db.table("grievances").rows_where(where, args, order_by="case_id")
        ]

    def grievance_events(self, case_id: str) -> list[GrievanceEvent]:
        return [
            GrievanceEvent.from_row(r)
            for r in self.db.table("grievance_events").rows_where(
                "case_id = ?", [case_id], order_by="id"
            )
        ]

    def update_grievance(self, case_id: str, status: str, note_enc: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        now = utcnow()
        with write_transaction(self.db):
            row = self.db.execute(
                "select merged_into from grievances where case_id = ?", [case_id]
            ).fetchone()
            if not row:
                raise KeyError(case_id)
            if row[0]:
                raise MergeError(f"{case_id} was merged into {row[0]}; update that case")
            self.db.execute(
                "update grievances set status = ?, updated_at = ? where case_id = ?",
                [status, now, case_id],
            )
            self._event(case_id, now, "status", status, note_enc)

    def grievance_count_for(self, cid: str) -> int:
        return int(
            self.db.execute(
                "select count(*) from grievances where cids like ? and merged_into is null",
                [f'%"{cid}"%'],
            ).fetchone()[0]
        )

    def merged_sources(self, case_id: str) -> list[Grievance]:
        """The cases merged into this one, oldest first."""
        return [
            Grievance.from_row(r)
            for r in self.db.table("grievances").rows_where(
                "merged_into = ?", [case_id.upper()], order_by="case_id"
            )
        ]

    def grievance_attachments(self, case_id: str) -> list[GrievanceAttachment]:
        return [
            GrievanceAttachment.from_row(r)
            for r in self.db.table("grievance_attachments").rows_where(
                "case_id = ?", [case_id.upper()], order_by="rowid"
            )
        ]

    def merge_grievances(
        self, source: str, target: str, note_enc: str = "", note_source_enc: str = ""
    ) -> list[str]:
        """Merge case ``source`` into ``target``, in one transaction; returns the case ids that
        now point at the target (the source, and any case merged into the source before).

        The source keeps its own text, events and attachments (nothing is rewritten; the
        target's history references them); its smelter and supplier links are added to the
        target's; its status becomes ``merged`` with ``merged_into`` set, and a follow-up
        quoting its token joins the target. No chains: merging into a merged case, or a
        merged case again, is refused; cases merged into the source move on to the target.
        """
        source, target = source.strip().upper(), target.strip().upper()
        if source == target:
            raise MergeError(f"cannot merge {source} into itself")
        now = utcnow()
        with write_transaction(self.db):
            src, dst = self.grievance(source), self.grievance(target)
            if src is None:
                raise MergeError(f"no case {source}")
            if dst is None:
                raise MergeError(f"no case {target}")
            if src.merged_into:
                raise MergeError(f"{source} was already merged into {src.merged_into}")
            if dst.merged_into:
                raise MergeError(
                    f"{target} was merged into {dst.merged_into}; merge into that case instead"
                )
            earlier = [r.case_id for r in self.merged_sources(source)]
            cids = sorted(set(dst.cids) | set(src.cids))
            suppliers = sorted(set(dst.supplier_ids) | set(src.supplier_ids))
            self.db.execute(
                "update grievances set cids = ?, supplier_ids = ?, updated_at = ? where case_id = ?",
                [json.dumps(cids), json.dumps(suppliers), now, target],
            )
            moved = [source, *earlier]
            for case_id in moved:
                self.db.execute(
                    "update grievances set status = ?, merged_into = ?, updated_at = ? where case_id = ?",
                    [MERGED, target, now, case_id],
                )
            # The other case's number is in the event's kind: officers see it in any view.
            self.db.table("grievance_events").insert_all(
                [
                    *(
                        {
                            "case_id": case_id,
                            "at": now,
                            "kind": f"merged into {target}",
                            "status": MERGED,
                            "note_enc": note_source_enc,
                        }
                        for case_id in moved
                    ),
                    *(
                        {
                            "case_id": target,
                            "at": now,
                            "kind": f"merged from {case_id}",
                            "status": "",
                            "note_enc": note_enc,
                        }
                        for case_id in moved
                    ),
                ]
            )
        return moved
