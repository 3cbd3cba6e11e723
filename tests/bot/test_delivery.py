"""Each outbox row delivered once, failures that end, and clean output, against real parts:
aiosmtpd for SMTP and the local Slack Web API stand-in (tests/slack_stub.py)."""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import replace
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.alerts import ConsoleAlerts, render_alert
from bot.mailer import EmailNotifier, SmtpSettings
from bot.slack_notifier import SlackAlerts, SlackDelivery
from program.outbox import (
    Counts,
    GrievanceAck,
    NoTemplateReply,
    ReplyFile,
    ScreeningReply,
    Submission,
    SubmissionFile,
    Undeliverable,
    decode_alert,
)
from storage.crypto import Cipher, new_key
from storage.mail import OutboxItem
from storage.store import Store
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
def smtp() -> Iterator[Smtp]:
    server = Smtp().start()
    yield server
    server.stop()


@pytest.fixture
def refusing() -> Iterator[tuple[Smtp, Refusing]]:
    server = Smtp()
    handler = Refusing()
    from aiosmtpd.controller import Controller

    server.controller = Controller(handler, hostname="127.0.0.1", port=server.port)
    server.start()
    yield server, handler
    server.stop()


@pytest.fixture
def stub() -> Iterator[SlackStub]:
    s = SlackStub().start()
    yield s
    s.stop()


def no_template_reply(i: int, to: str = "pat@supplier.example.test") -> OutboxItem:
    return OutboxItem(
        "email",
        f"reply:msg{i:03d}",
        NoTemplateReply(
            to=to, subject=f"Re: survey {i}", in_reply_to=f"<m{i}@supplier.example.test>"
        ),
        recipient=to,
    )


def submission(i: int, supplier: str = "Synthetic Components Ltd.") -> Submission:
    return Submission(
        supplier=supplier,
        files=(SubmissionFile(f"cmrt-{i}.xlsx", "CMRT 6.5", "low", Counts(warning=1)),),
    )


def alert(i: int, supplier: str = "Synthetic Components Ltd.") -> OutboxItem:
    return OutboxItem("alert", f"alert:msg{i:03d}:0", submission(i, supplier))


def settings(port: int, **kw: Any) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=port, security="none", **kw)


def sql(db: Path, query: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(query, args).fetchall()


def abandon(db: Path, outbox_id: int, minutes_ago: int = 10) -> None:
    """What a notifier killed mid-delivery leaves: 'sending', its lease long expired."""
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)).replace(microsecond=0)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "update outbox set status = 'sending', lease_owner = 'gone.example:1.1:1', lease_until = ?, "
            "first_attempt_at = coalesce(first_attempt_at, ?) where id = ?",
            [past.isoformat(), (past - dt.timedelta(minutes=1)).isoformat(), outbox_id],
        )


def make_due(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("update outbox set next_attempt_at = '2000-01-01T00:00:00+00:00'")


def run_together(*factories: Any) -> None:
    """Build each notifier in its own thread (a sqlite connection belongs to its thread),
    then let them all drain the same database at once."""
    barrier = threading.Barrier(len(factories))
    errors: list[BaseException] = []

    def go(factory: Any) -> None:
        try:
            drain = factory().drain
            barrier.wait()
            for _ in range(5):
                drain()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(f,)) for f in factories]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors


# -- each delivery once -------------------------------------------------------------------


def test_two_notifiers_send_each_of_50_replies_once(tmp_path: Path, smtp: Smtp) -> None:
    db = tmp_path / "assay.db"
    store = Store(db)
    for i in range(50):
        store.enqueue(no_template_reply(i))
    run_together(*[lambda: EmailNotifier(Store(db), settings(smtp.port))] * 2)
    ids = [message_from_bytes(data)["Message-ID"] for _f, _t, data in smtp.handler.received]
    assert len(ids) == 50 and len(set(ids)) == 50
    assert store.outbox_count("sent", "email") == 50


def test_two_slack_notifiers_post_each_of_50_alerts_once_in_order(
    tmp_path: Path, stub: SlackStub
) -> None:
    db = tmp_path / "assay.db"
    store = Store(db)
    for i in range(50):
        store.enqueue(alert(i))
    run_together(
        *[lambda: SlackAlerts(Store(db), WebClient(token=TOKEN, base_url=stub.url + "/api/"), "C1")]
        * 2
    )
    keys = [p["metadata"]["event_payload"]["key"] for p in stub.called("chat.postMessage")]
    assert keys == [f"alert:msg{i:03d}:0" for i in range(50)]  # once each, in order
    assert store.outbox_count("sent", "alert") == 50


def test_two_console_notifiers_print_each_alert_once(tmp_path: Path) -> None:
    db = tmp_path / "assay.db"
    store = Store(db)
    for i in range(50):
        store.enqueue(alert(i))
    log_file = tmp_path / "alerts.log"
    streams = [io.StringIO(), io.StringIO()]
    run_together(*(lambda s=s: ConsoleAlerts(Store(db), log_file, s) for s in streams))
    lines = log_file.read_text().splitlines()
    assert len(lines) == 50 and len(set(lines)) == 50
    assert sorted(lines) == sorted(s for st in streams for s in st.getvalue().splitlines())


def test_killed_after_writing_the_eml_is_not_written_again(tmp_path: Path) -> None:
    db = tmp_path / "assay.db"
    store = Store(db)
    store.enqueue(no_template_reply(1))
    store.enqueue(no_template_reply(2))
    outbox = tmp_path / "outbox"
    notifier = EmailNotifier(store, SmtpSettings(outbox_dir=str(outbox)))
    assert notifier.drain() == 2
    written = {p.name: p.stat().st_mtime_ns for p in outbox.glob("*.eml")}
    # Row 1: the process died after writing the file, before marking it sent.
    abandon(db, 1)
    # Row 2: it died after claiming, before writing.
    (outbox / "000002.eml").unlink()
    abandon(db, 2)
    assert notifier.drain() == 2
    assert (outbox / "000001.eml").stat().st_mtime_ns == written["000001.eml"]  # untouched
    assert sorted(p.name for p in outbox.glob("*.eml")) == ["000001.eml", "000002.eml"]
    assert store.outbox_count("sent", "email") == 2


def test_a_live_lease_is_left_alone(tmp_path: Path, smtp: Smtp) -> None:
    db = tmp_path / "assay.db"
    store = Store(db)
    store.enqueue(no_template_reply(1))
    [row] = store.claim_outbox("email", "elsewhere.example:1.1:1", lease_seconds=300)
    assert EmailNotifier(Store(db), settings(smtp.port)).drain() == 0
    assert smtp.handler.received == []
    assert store.mark_sent(row["id"], "elsewhere.example:1.1:1")
    # A row marked by an owner who lost its lease is not touched.
    store.enqueue(no_template_reply(2))
    [row2] = store.claim_outbox("email", "a.example:1.1:1", lease_seconds=300)
    abandon(db, row2["id"])
    [again] = store.claim_outbox("email", "b.example:1.1:1", lease_seconds=300)
    assert again["claimed_from"] == "sending"
    assert not store.mark_sent(row2["id"], "a.example:1.1:1")
    assert store.mark_sent(row2["id"], "b.example:1.1:1")


def test_smtp_resend_after_a_crash_keeps_the_message_id(tmp_path: Path, smtp: Smtp) -> None:
    db = tmp_path / "assay.db"
    store = Store(db)
    store.enqueue(no_template_reply(1))
    notifier = EmailNotifier(store, settings(smtp.port))
    assert notifier.drain() == 1
    abandon(db, 1)  # died after DATA was accepted, before the commit: the documented window
    assert notifier.drain() == 1
    first, second = (message_from_bytes(d) for _f, _t, d in smtp.handler.received)
    assert first["Message-ID"] == second["Message-ID"]  # a recipient's client folds them


def test_slack_post_left_sending_is_found_by_its_metadata(tmp_path: Path, stub: SlackStub) -> None:
    db = tmp_path / "assay.db"
    store = Store(db)
    store.enqueue(alert(1))
    store.enqueue(alert(2))
    client = WebClient(token=TOKEN, base_url=stub.url + "/api/")
    notifier = SlackAlerts(store, client, "C1")
    # Row 1 was posted, then the process died before marking it sent.
    client.chat_postMessage(
        channel="C1",
        text="posted before the crash",
        metadata={"event_type": "assay_outbox", "event_payload": {"key": "alert:msg001:0"}},
    )
    abandon(db, 1)
    # Row 2 was claimed, and the process died before posting it.
    abandon(db, 2)
    assert notifier.drain() == 2
    keys = [p["metadata"]["event_payload"]["key"] for p in stub.called("chat.postMessage")]
    assert keys == ["alert:msg001:0", "alert:msg002:0"]  # row 1 not posted again
    assert len(stub.called("conversations.history")) == 2
    assert store.outbox_count("sent", "alert") == 2
    assert sql(db, "select delivered_ref from outbox where id = 1")[0][0]


def test_slack_post_whose_answer_was_lost_is_not_posted_again(
    tmp_path: Path, stub: SlackStub
) -> None:
    db = tmp_path / "assay.db"
    store = Store(db)
    store.enqueue(alert(1))
    client = WebClient(token=TOKEN, base_url=stub.url + "/api/", timeout=5)
    notifier = SlackAlerts(store, client, "C1", delivery=SlackDelivery(backoff_seconds=0))
    stub.drop_next["chat.postMessage"] = 1  # Slack posts it; the connection drops before the answer
    assert notifier.drain() == 0
    [(status, error)] = sql(db, "select status, last_error from outbox")
    assert status == "pending" and error.startswith("ambiguous")
    make_due(db)
    assert notifier.drain() == 1
    assert len(stub.called("chat.postMessage")) == 1
    assert store.outbox_count("sent", "alert") == 1


# -- failures end -------------------------------------------------------------------------


def test_permanent_smtp_550_is_dead_after_three_attempts_with_one_alert(
    tmp_path: Path, refusing: tuple[Smtp, Refusing]
) -> None:
    server, handler = refusing
    handler.refuse = "550 5.1.1 no such user"
    db = tmp_path / "assay.db"
    store = Store(db)
    store.import_suppliers(
        [{"name": "Synthetic Components Ltd.", "addresses": ["pat@supplier.example.test"]}]
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
