"""Deliveries that fail and end, and clean output, against aiosmtpd and the Slack stand-in."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.alerts import render_alert
from bot.mailer import EmailNotifier, SmtpSettings
from bot.slack_notifier import SlackAlerts, SlackDelivery
from program.outbox import (
    Counts,
    GrievanceAck,
    ReplyFile,
    ScreeningReply,
    Submission,
    SubmissionFile,
    Undeliverable,
    decode_alert,
)
from storage.crypto import Cipher, new_key
from storage.mail import OutboxItem
from storage.models import SupplierEntry
from storage.store import Store
from tests.bot.delivery_support import (
    alert,
    make_due,
    no_template_reply,
    settings,
    sql,
    submission,
)
from tests.bot.delivery_support import smtp as smtp
from tests.bot.delivery_support import stub as stub
from tests.servers import Smtp
from tests.slack_stub import TOKEN, SlackStub

pytestmark = pytest.mark.e2e

HOSTILE_NAME = "<!channel> <http://evil.example|click me>"


class Refusing:
    """aiosmtpd handler: refuses RCPT with a given reply while ``refuse`` is set, keeps the rest."""

    def __init__(self, refuse: str = "") -> None:
        self.refuse = refuse
        self.rcpt_calls = 0
        self.received: list[tuple[str, list[str], bytes]] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        with self.lock:
            self.rcpt_calls += 1
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        with self.lock:
            self.received.append(
                (envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
            )
        return "250 OK queued"


@pytest.fixture
def refusing() -> Iterator[tuple[Smtp, Refusing]]:
    server = Smtp()
    handler = Refusing()
    from aiosmtpd.controller import Controller

    server.controller = Controller(handler, hostname="127.0.0.1", port=server.port)
    server.start()
    yield server, handler
    server.stop()


# -- failures end -------------------------------------------------------------------------


def test_permanent_smtp_550_is_dead_after_three_attempts_with_one_alert(
    tmp_path: Path, refusing: tuple[Smtp, Refusing]
) -> None:
    server, handler = refusing
    handler.refuse = "550 5.1.1 no such user"
    db = tmp_path / "assay.db"
    store = Store(db)
    store.import_suppliers(
        [SupplierEntry("Synthetic Components Ltd.", ("pat@supplier.example.test",))]
    )
    store.enqueue(no_template_reply(1))
    store.enqueue(no_template_reply(2, to="other@supplier.example.test"))
    notifier = EmailNotifier(store, settings(server.port, retry_seconds=0))
    for _ in range(6):
        notifier.drain()
        make_due(db)
    assert handler.rcpt_calls == 6  # three attempts each, then never again
    assert sql(db, "select status, attempts, last_error from outbox where channel = 'email'") == [
        ("dead", 3, "SMTPRecipientsRefused: 550"),
        ("dead", 3, "SMTPRecipientsRefused: 550"),
    ]
    rows = [p for (p,) in sql(db, "select payload from outbox where channel = 'alert'")]
    alerts = [decode_alert(p) for p in rows]
    assert len(alerts) == 2
    assert all(
        isinstance(a, Undeliverable) and a.message == "no-template reply" and len(a.to_hash) == 12
        for a in alerts
    )
    text = render_alert(alerts[0])
    assert "could not be delivered" in text and "no-template reply" in text
    assert "supplier.example.test" not in json.dumps(rows)  # a hash, never the address


def test_transient_smtp_451_keeps_its_backoff(
    tmp_path: Path, refusing: tuple[Smtp, Refusing]
) -> None:
    server, handler = refusing
    handler.refuse = "451 4.3.0 try again later"
    db = tmp_path / "assay.db"
    store = Store(db)
    store.enqueue(no_template_reply(1))
    notifier = EmailNotifier(store, settings(server.port, retry_seconds=30))
    delays = []
    for _ in range(5):
        before = dt.datetime.now(dt.UTC)
        notifier.drain()
        [(status, nxt)] = sql(db, "select status, next_attempt_at from outbox")
        assert status == "pending"
        delays.append(round((dt.datetime.fromisoformat(nxt) - before).total_seconds() / 30))
        make_due(db)
    assert delays == [1, 2, 4, 8, 16]  # doubling, and still pending after five refusals
    handler.refuse = ""
    assert notifier.drain() == 1
    assert store.outbox_count("alert") == 0


def test_dead_grievance_ack_alert_never_names_the_reporter(
    tmp_path: Path, refusing: tuple[Smtp, Refusing]
) -> None:
    server, handler = refusing
    handler.refuse = "550 5.1.1 no such user"
    cipher = Cipher(new_key())
    db = tmp_path / "assay.db"
    store = Store(db)
    payload = GrievanceAck(
        to="reporter@example.test",
        case_id="GRV-2026-0001",
        token="tok",
        received="2026-06-30",
        respond_by="2026-07-30",
    )
    store.enqueue(OutboxItem("email", "grievance-ack:k1", cipher.encrypt(payload.to_json())))
    notifier = EmailNotifier(
        store, settings(server.port, retry_seconds=0, permanent_attempts=2), cipher
    )
    for _ in range(3):
        notifier.drain()
        make_due(db)
    [(payload_json,)] = sql(db, "select payload from outbox where channel = 'alert'")
    assert "reporter" not in payload_json and "to_hash" not in payload_json
    assert "GRV-2026-0001" in render_alert(decode_alert(payload_json))
    assert "reporter" not in str(sql(db, "select last_error from outbox"))


def test_permanent_slack_error_is_dead_after_three_attempts(
    tmp_path: Path, stub: SlackStub
) -> None:
    db = tmp_path / "assay.db"
    store = Store(db)
    store.enqueue(alert(1))
    store.enqueue(alert(2))
    client = WebClient(token=TOKEN, base_url=stub.url + "/api/")
    dead_log = tmp_path / "alerts.log"
    notifier = SlackAlerts(
        store, client, "C1", delivery=SlackDelivery(backoff_seconds=0), dead_log=dead_log
    )
    stub.fail_next["chat.postMessage"] = ["channel_not_found"] * 3
    for _ in range(10):
        notifier.drain()
        make_due(db)
    failed = [m for m, _a in stub.calls if m == "chat.postMessage:channel_not_found"]
    assert len(failed) == 3  # then the row is dead, and no more tries
    assert sql(db, "select status, attempts from outbox order by id") == [("dead", 3), ("sent", 1)]
    [line] = dead_log.read_text().splitlines()
    assert "given up" in line and "channel_not_found" in line
    assert store.outbox_count(channel="alert") == 2  # no alert about the dead alert
    assert len(stub.called("chat.postMessage")) == 1  # row 2 went out after row 1 died


def test_slack_429_is_still_honoured(tmp_path: Path, stub: SlackStub) -> None:
    db = tmp_path / "assay.db"
    store = Store(db)
    store.enqueue(alert(1))
    client = WebClient(token=TOKEN, base_url=stub.url + "/api/")
    notifier = SlackAlerts(store, client, "C1")
    stub.rate_limit_next["chat.postMessage"] = 5
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    assert notifier.drain() == 0
    [(status, nxt, error)] = sql(db, "select status, next_attempt_at, last_error from outbox")
    assert status == "pending" and error == "slack: 429 ratelimited"
    assert 1 <= (dt.datetime.fromisoformat(nxt) - before).total_seconds() <= 2  # Retry-After: 1
    assert store.outbox_count("dead") == 0


# -- output hygiene -----------------------------------------------------------------------


def test_encoded_crlf_subject_builds_and_is_delivered_with_clean_headers(
    tmp_path: Path, smtp: Smtp, screener: Any
) -> None:
    from intake.messages import MailLimits
    from intake.supplier_mail import ReplyPolicy, handle_supplier_message

    raw = (
        b"From: Pat <pat@supplier.example.test>\r\nTo: survey@example.test\r\n"
        b"Subject: =?utf-8?q?hi=0D=0ABcc:_x@evil.example?=\r\n"
        b"Message-ID: <m1@supplier.example.test>\r\n"
        b"References: <m0@supplier.example.test>\r\n\tjunk\r\n\r\nno template here\r\n"
    )
    store = Store(tmp_path / "assay.db")
    handle_supplier_message(
        raw,
        store=store,
        screener=screener,
        mailbox="suppliers",
        limits=MailLimits(),
        policy=ReplyPolicy(),
    )
    assert EmailNotifier(store, settings(smtp.port)).drain() == 1
    [(_from, rcpts, data)] = smtp.handler.received
    assert rcpts == ["pat@supplier.example.test"]
    reply = message_from_bytes(data)
    assert reply["Subject"] == "Re: hi Bcc: x@evil.example"
    assert reply["Bcc"] is None and b"\nBcc" not in data
    assert reply["In-Reply-To"] == "<m1@supplier.example.test>"
    assert reply["References"] == "<m0@supplier.example.test> <m1@supplier.example.test>"


def test_ten_megabyte_company_name_reply_and_post(
    tmp_path: Path, smtp: Smtp, stub: SlackStub
) -> None:
    huge = "Huge Company " + "x" * (10 * 1024 * 1024)
    store = Store(tmp_path / "assay.db")
    store.db.table("submissions").insert(
        {
            "sha256": "f" * 64,
            "filename": "cmrt.xlsx",
            "readable": 1,
            "template_type": "CMRT",
            "template_version": "6.5",
            "company_name": huge,
        }
    )
    store.enqueue(
        OutboxItem(
            "email",
            "reply:big",
            ScreeningReply(
                to="pat@supplier.example.test",
                subject="Re: " + huge,
                files=(ReplyFile("cmrt.xlsx", "f" * 64),),
            ),
        )
    )
    store.enqueue(alert(1, supplier=huge))
    assert EmailNotifier(store, settings(smtp.port)).drain() == 1
    [(_f, _t, data)] = smtp.handler.received
    reply = message_from_bytes(data, policy=policy.default)
    assert len(reply["Subject"]) <= 200 and reply["Subject"].startswith("Re: Huge Company xxx")
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    client = WebClient(token=TOKEN, base_url=stub.url + "/api/")
    assert SlackAlerts(store, client, "C1").drain() == 1
    [post] = stub.called("chat.postMessage")
    assert len(post["text"]) < 3000 and "Huge Company xxx" in post["text"]


def test_hostile_company_name_is_escaped_in_slack_and_plain_on_the_console(
    tmp_path: Path, stub: SlackStub
) -> None:
    store = Store(tmp_path / "assay.db")
    store.enqueue(alert(1, supplier=HOSTILE_NAME))
    client = WebClient(token=TOKEN, base_url=stub.url + "/api/")
    assert SlackAlerts(store, client, "C1").drain() == 1
    [post] = stub.called("chat.postMessage")
    assert "&lt;!channel&gt;" in post["text"] and "<!channel>" not in post["text"]
    assert "&lt;http://evil.example|click me&gt;" in post["text"] and "<http" not in post["text"]
    console = render_alert(submission(1, supplier=HOSTILE_NAME))
    assert HOSTILE_NAME in console


def test_alert_lists_are_bounded() -> None:
    payload = Submission(
        supplier="S & Co",
        files=tuple(
            SubmissionFile(
                f"f{i}.xlsx\r\n[grievance] fake line",
                "CMRT 6.5",
                "high",
                Counts(error=1, risk=1),
                high_risk_smelters=tuple(f"Smelter {j} (CID{j:06d})" for j in range(40)),
            )
            for i in range(30)
        ),
    )
    text = render_alert(payload, slack=True)
    assert len(text) <= 3000 and "\n" not in text
    assert "S &amp; Co" in text and "…and 30 more" in text  # smelters beyond 10
    assert text.endswith("…")  # ten files of 40 smelters each are cut at the post's bound
    short = render_alert(
        replace(payload, files=tuple(replace(f, high_risk_smelters=()) for f in payload.files))
    )
    assert "…and 20 more" in short and short.count("f1") == 1


def test_grievance_ack_has_a_fixed_subject_and_no_threading(tmp_path: Path) -> None:
    cipher = Cipher(new_key())
    store = Store(tmp_path / "assay.db")
    # The acknowledgement has no field for a subject or a Message-ID (one in a stored row is
    # refused: tests/test_outbox.py), so nothing of the report can reach its headers.
    payload = GrievanceAck(
        to="reporter@example.test",
        case_id="GRV-2026-0001",
        token="TOKEN",
        received="2026-06-30",
        respond_by="2026-07-30",
    )
    store.enqueue(OutboxItem("email", "grievance-ack:k1", cipher.encrypt(payload.to_json())))
    outbox = tmp_path / "outbox"
    assert EmailNotifier(store, SmtpSettings(outbox_dir=str(outbox)), cipher).drain() == 1
    ack = message_from_bytes((outbox / "000001.eml").read_bytes(), policy=policy.default)
    assert ack["Subject"] == "Your report GRV-2026-0001 [ref:TOKEN]"
    assert ack["In-Reply-To"] is None and ack["References"] is None
    assert ack["To"] == "undisclosed-recipients:;"


def test_a_row_that_cannot_be_built_is_dead_with_one_alert(tmp_path: Path) -> None:
    db = tmp_path / "assay.db"
    store = Store(db)
    store.enqueue(no_template_reply(1, to="not an address\r\nBcc: x@evil.example"))
    store.enqueue(no_template_reply(2))
    notifier = EmailNotifier(store, SmtpSettings(outbox_dir=str(tmp_path / "outbox")))
    assert notifier.drain() == 1 and notifier.drain() == 0
    assert sql(db, "select status, last_error from outbox where channel = 'email' order by id") == [
        ("dead", "cannot build: ValueError"),
        ("sent", ""),
    ]
    [(alert_json,)] = sql(db, "select payload from outbox where channel = 'alert'")
    assert "could not be delivered" in render_alert(decode_alert(alert_json))
