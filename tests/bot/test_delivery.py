"""Each outbox row delivered once, against real parts: aiosmtpd for SMTP and the local Slack
Web API stand-in (tests/slack_stub.py). Failures that end and clean output are in
``test_delivery_failures.py``."""

from __future__ import annotations

import io
import threading
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.alerts import ConsoleAlerts
from bot.mailer import EmailNotifier, SmtpSettings
from bot.slack_notifier import SlackAlerts, SlackDelivery
from storage.store import Store
from tests.bot.delivery_support import (
    abandon,
    alert,
    make_due,
    no_template_reply,
    settings,
    sql,
)
from tests.bot.delivery_support import smtp as smtp
from tests.bot.delivery_support import stub as stub
from tests.servers import Smtp
from tests.slack_stub import TOKEN, SlackStub

pytestmark = pytest.mark.e2e


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
    assert store.mark_sent(row.id, "elsewhere.example:1.1:1")
    # A row marked by an owner who lost its lease is not touched.
    store.enqueue(no_template_reply(2))
    [row2] = store.claim_outbox("email", "a.example:1.1:1", lease_seconds=300)
    abandon(db, row2.id)
    [again] = store.claim_outbox("email", "b.example:1.1:1", lease_seconds=300)
    assert again.claimed_from == "sending"
    assert not store.mark_sent(row2.id, "a.example:1.1:1")
    assert store.mark_sent(row2.id, "b.example:1.1:1")


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
