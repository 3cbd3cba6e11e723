"""Servers, outbox rows and database helpers shared by the delivery tests."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.mailer import SmtpSettings
from program.outbox import (
    Counts,
    NoTemplateReply,
    Submission,
    SubmissionFile,
)
from storage.mail import OutboxItem
from tests.servers import Smtp
from tests.slack_stub import SlackStub


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp().start()
    yield server
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
