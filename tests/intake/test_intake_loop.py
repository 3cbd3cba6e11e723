"""The intake loop on a Maildir: exactly-once handling, failures kept aside, nothing lost."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

from intake.loop import Handled, process_pending
from intake.mailbox import MailboxSettings, MaildirMailbox
from intake.supplier_mail import record_failure
from storage.store import Store


def message(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"supplier{n}@example.test"
    msg["Subject"] = f"message {n}"
    msg.set_content("hello")
    return bytes(msg)


def test_our_failure_goes_to_needs_attention_with_reason_and_alert(tmp_path: Path) -> None:
    box = MaildirMailbox("suppliers", MailboxSettings(path=str(tmp_path / "mail")))
    for n in range(3):
        box.deliver(message(n), f"m{n}")
    store = Store(tmp_path / "a.db")
    seen: list[bytes] = []

    def handle(raw: bytes) -> Handled:
        seen.append(raw)
        if b"message 1" in raw:
            raise RuntimeError("synthetic bug")
        return Handled()

    def fail(raw: bytes, error: str) -> Handled:
        return Handled(attention=record_failure(store, raw, "suppliers", error).attention)

    box.connect()
    assert process_pending(box, handle, fail) == 3
    assert box.pending() == []
    assert sorted(p.name for p in (tmp_path / "mail" / ".Processed" / "cur").iterdir()) == [
        "m0",
        "m2",
    ]
    assert [p.name for p in (tmp_path / "mail" / ".Needs_attention" / "cur").iterdir()] == ["m1"]
    [rec] = store.messages("needs-attention")
    assert "synthetic bug" in rec["reason"]
    alerts = [
        json.loads(r["payload"]) for r in store.db.table("outbox").rows_where("channel = 'alert'")
    ]
    assert alerts == [
        {
            "kind": "needs-attention",
            "version": 1,
            "mailbox": "suppliers",
            "reason": "RuntimeError: synthetic bug",
        }
    ]


def test_when_the_store_fails_too_the_message_stays(tmp_path: Path) -> None:
    box = MaildirMailbox("suppliers", MailboxSettings(path=str(tmp_path / "mail")))
    box.deliver(message(1), "m1")

    def handle(raw: bytes) -> Handled:
        raise RuntimeError("bug")

    def fail(raw: bytes, error: str) -> Handled:
        raise OSError("disk full")

    box.connect()
    assert process_pending(box, handle, fail) == 0
    assert [r.uid for r in box.pending()] == ["new/m1"]  # left in place for the next pass


def test_grievance_mailbox_deletes_what_it_has_stored(tmp_path: Path) -> None:
    box = MaildirMailbox(
        "grievances", MailboxSettings(path=str(tmp_path / "g"), delete_processed=True)
    )
    box.deliver(message(1), "g1")
    box.connect()
    assert process_pending(box, lambda raw: Handled(), lambda raw, e: Handled()) == 1
    assert box.pending() == [] and not (tmp_path / "g" / ".Processed").exists()
