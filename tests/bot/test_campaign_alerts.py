"""A campaign's alerts: how each new kind reads on the console and in Slack, and the owner's
escalation going to the owner's direct messages, never to the compliance channel."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.alerts import ConsoleAlerts, percent, render_alert
from bot.slack_notifier import EVENT_TYPE, SlackAlerts, SlackDelivery
from program.outbox import (
    Alert,
    CampaignDigest,
    NonResponsive,
    OwnerEscalationDM,
    RemediationClosed,
    RemediationOpened,
)
from storage.mail import OutboxItem
from storage.store import Store
from tests.bot.delivery_support import abandon, make_due, sql

DM = OwnerEscalationDM(
    slack_user="U0OWNER01",
    supplier="Synthetic Components Ltd.",
    campaign="2026 CMRT",
    deadline="2026-12-01",
    status="escalated",
    missing=("your completed CMRT (version 6.5 or later)",),
    reminders_sent=3,
)
OPENED = RemediationOpened("Synthetic Components Ltd.", 7, ("CID000001", "CID000002"), "2026-05-02")
CLOSED = RemediationClosed("Synthetic Components Ltd.", 7, "RMAP list 2026-06-01 of 2026-06-02")
DIGEST = CampaignDigest("2026 CMRT", "CMRT", 239, 212, 200, 0.887, "Greater than 75%", 9, 4, 2)
SILENT = NonResponsive("2026 CMRT", "Synthetic Components Ltd.", "2026-12-29")
HOSTILE = "*bold* <!channel> <script>x</script>\r\n<http://evil.example|click>"


@pytest.mark.parametrize(
    ("alert", "expected"),
    [
        (
            DM,
            "[escalation] to Slack user U0OWNER01: Synthetic Components Ltd. has not completed "
            "campaign 2026 CMRT (deadline 2026-12-01): status escalated, 3 reminder(s) sent; "
            "still missing: your completed CMRT (version 6.5 or later)",
        ),
        (
            OPENED,
            "[remediation] #7 opened for Synthetic Components Ltd.: 2 smelter(s) not RMAP "
            "conformant in its file of 2026-05-02: CID000001, CID000002",
        ),
        (
            CLOSED,
            "[remediation] #7 closed for Synthetic Components Ltd.: RMAP list 2026-06-01 of "
            "2026-06-02",
        ),
        (
            DIGEST,
            "[campaign] Campaign 2026 CMRT (CMRT): 212 of 239 answered (88.7%, Greater than "
            "75%); 9 overdue; 4 to resubmit; 2 escalated.",
        ),
        (
            SILENT,
            "[campaign] Synthetic Components Ltd. is non-responsive in campaign 2026 CMRT: no "
            "answer by the final deadline 2026-12-29",
        ),
    ],
    ids=["dm", "opened", "closed", "digest", "non-responsive"],
)
def test_each_new_kind_on_the_console(alert: Alert, expected: str) -> None:
    assert render_alert(alert) == expected


def test_the_digest_in_slack_reads_as_one_sentence() -> None:
    assert render_alert(DIGEST, slack=True) == (
        "Campaign *2026 CMRT* (CMRT): 212 of 239 answered (88.7%, Greater than 75%); "
        "9 overdue; 4 to resubmit; 2 escalated."
    )


@pytest.mark.parametrize(
    ("rate", "text"),
    [(0.887, "88.7%"), (1.0, "100.0%"), (0.6, "60.0%"), (0.0, "0.0%"), (0.9999, "100.0%")],
)
def test_percent(rate: float, text: str) -> None:
    assert percent(rate) == text


def test_the_dm_speaks_to_the_owner_and_does_not_name_them() -> None:
    text = render_alert(DM, slack=True)
    assert text.startswith("Escalation: Synthetic Components Ltd. has not completed campaign")
    assert text.endswith("Please contact the supplier directly.")
    assert "U0OWNER01" not in text


def test_a_long_cid_list_is_cut() -> None:
    cids = tuple(f"CID{i:06d}" for i in range(25))
    text = render_alert(RemediationOpened("S", 1, cids, "2026-05-02"))
    assert "25 smelter(s)" in text and "CID000009" in text and "CID000010" not in text
    assert text.endswith("…and 15 more")


@pytest.mark.parametrize(
    "alert",
    [
        OwnerEscalationDM("U1", HOSTILE, HOSTILE, "2026-12-01", "escalated", (HOSTILE,), 1),
        RemediationOpened(HOSTILE, 1, (HOSTILE,), "2026-05-02"),
        RemediationClosed(HOSTILE, 1, HOSTILE),
        CampaignDigest(HOSTILE, "CMRT", 2, 1, 1, 0.5, HOSTILE, 0, 0, 0),
        NonResponsive(HOSTILE, HOSTILE, "2026-12-29"),
    ],
    ids=lambda a: type(a).__name__,
)
def test_outside_text_cannot_ping_link_or_break_lines(alert: Alert) -> None:
    slack = render_alert(alert, slack=True)
    assert "<!channel>" not in slack and "<http" not in slack and "<script>" not in slack
    assert "&lt;!channel&gt;" in slack and "&lt;http://evil.example|click&gt;" in slack
    assert "\n" not in slack and "\r" not in slack
    console = render_alert(alert)
    assert "<!channel>" in console and "\n" not in console and "\r" not in console


# -- delivery ---------------------------------------------------------------------------------


class FakeSlack:
    """A Slack Web API client double: records posts; a user id as the channel posts into
    that user's DM (``D`` + the id), as Slack does."""

    def __init__(self) -> None:
        self.retry_handlers: list[Any] = []
        self.posts: list[dict[str, Any]] = []
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.opened: list[str] = []
        self.fail_with: Exception | None = None

    def _dm(self, channel: str) -> str:
        return "D" + channel if channel[:1] in "UW" else channel

    def chat_postMessage(self, **kw: Any) -> dict[str, Any]:
        if self.fail_with is not None:
            raise self.fail_with
        ts = f"1700000000.{len(self.posts) + 1:06d}"
        self.posts.append(kw)
        message = {"ts": ts, "text": kw["text"], "metadata": kw.get("metadata")}
        self.history.setdefault(self._dm(kw["channel"]), []).append(message)
        return {"ok": True, "channel": self._dm(kw["channel"]), "ts": ts}

    def conversations_open(self, users: str) -> dict[str, Any]:
        self.opened.append(users)
        return {"ok": True, "channel": {"id": self._dm(users)}}

    def conversations_history(self, channel: str, **_kw: Any) -> dict[str, Any]:
        if channel[:1] in "UW":  # as Slack: history wants a conversation id
            raise AssertionError("conversations.history with a user id")
        return {"ok": True, "messages": self.history.get(channel, [])}


def slack(store: Store, client: FakeSlack, **kw: Any) -> SlackAlerts:
    """The notifier of the compliance channel C0COMPLIANCE, posting through ``client``."""
    return SlackAlerts(store, cast(WebClient, client), "C0COMPLIANCE", **kw)


def queue(store: Store, *alerts: Alert) -> None:
    for i, alert in enumerate(alerts):
        store.enqueue(OutboxItem("alert", f"alert:campaign:{i}", alert))


def test_the_dm_goes_to_the_owner_and_the_rest_to_the_channel(tmp_path: Path) -> None:
    store = Store(tmp_path / "assay.db")
    queue(store, DIGEST, DM, OPENED)
    client = FakeSlack()
    assert SlackAlerts(store, client, "C0COMPLIANCE").drain() == 3  # type: ignore[arg-type]
    assert [p["channel"] for p in client.posts] == ["C0COMPLIANCE", "U0OWNER01", "C0COMPLIANCE"]
    assert client.posts[1]["text"].startswith("Escalation: Synthetic Components Ltd.")
    assert client.posts[1]["metadata"] == {
        "event_type": EVENT_TYPE,
        "event_payload": {"key": "alert:campaign:1"},
    }
    assert "Escalation" not in " ".join(p["text"] for p in client.history["C0COMPLIANCE"])
    assert store.outbox_count("sent", "alert") == 3


def test_a_dm_left_sending_is_looked_up_in_the_owners_dm_not_posted_twice(tmp_path: Path) -> None:
    db = tmp_path / "assay.db"
    store = Store(db)
    queue(store, DM)
    client = FakeSlack()
    # Posted, then the notifier died before marking it sent.
    client.chat_postMessage(
        channel="U0OWNER01",
        text="posted before the crash",
        metadata={"event_type": EVENT_TYPE, "event_payload": {"key": "alert:campaign:0"}},
    )
    abandon(db, 1)
    assert SlackAlerts(store, client, "C0COMPLIANCE").drain() == 1  # type: ignore[arg-type]
    assert client.opened == ["U0OWNER01"]
    assert len(client.posts) == 1  # not posted again
    assert sql(db, "select status, delivered_ref from outbox") == [("sent", "1700000000.000001")]


def test_a_dm_to_something_that_is_not_a_user_id_is_dead_and_never_posted(
    tmp_path: Path,
) -> None:
    db = tmp_path / "assay.db"
    store = Store(db)
    queue(store, OwnerEscalationDM("C0COMPLIANCE", "S", "C", "2026-12-01", "escalated", (), 1))
    store.enqueue(OutboxItem("alert", "alert:after", OPENED))
    client = FakeSlack()
    dead_log = tmp_path / "alerts.log"
    notifier = slack(store, client, dead_log=dead_log)
    assert notifier.drain() == 1
    assert [p["text"][:13] for p in client.posts] == ["[remediation]"]
    assert sql(db, "select status from outbox order by id") == [("dead",), ("sent",)]
    assert "[undeliverable] direct message 1" in dead_log.read_text()


def test_a_dm_refused_by_slack_is_retried_then_dead_as_before(tmp_path: Path) -> None:
    db = tmp_path / "assay.db"
    store = Store(db)
    queue(store, DM)
    client = FakeSlack()
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.example.test/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": "user_not_found"},
        headers={},
        status_code=200,
    )
    client.fail_with = SlackApiError("user_not_found", response)
    notifier = slack(store, client, delivery=SlackDelivery(backoff_seconds=0, permanent_attempts=2))
    assert notifier.drain() == 0
    assert sql(db, "select status, last_error from outbox") == [
        ("pending", "slack: 200 user_not_found")
    ]
    make_due(db)
    assert notifier.drain() == 0
    assert sql(db, "select status from outbox") == [("dead",)]


def test_the_console_prints_the_dm_with_its_owner(tmp_path: Path) -> None:
    store = Store(tmp_path / "assay.db")
    queue(store, DM, SILENT)
    stream = io.StringIO()
    log_file = tmp_path / "alerts.log"
    assert ConsoleAlerts(store, log_file, stream).drain() == 2
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("[escalation] to Slack user U0OWNER01: Synthetic Components Ltd.")
    assert lines[1].startswith("[campaign] Synthetic Components Ltd. is non-responsive")
    assert log_file.read_text().splitlines() == lines


def test_an_escalation_without_an_owner_is_raised_in_the_channel(tmp_path: Path) -> None:
    orphan = replace(DM, slack_user="")
    assert render_alert(orphan).startswith(
        "[escalation] Synthetic Components Ltd. has not completed campaign 2026 CMRT"
    )
    assert render_alert(orphan, slack=True).endswith("No owner is registered for this supplier.")
    store = Store(tmp_path / "assay.db")
    queue(store, orphan)
    client = FakeSlack()
    assert slack(store, client).drain() == 1
    assert [p["channel"] for p in client.posts] == ["C0COMPLIANCE"]
    assert client.posts[0]["text"].startswith("[escalation] Synthetic Components Ltd.")
