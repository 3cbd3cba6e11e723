"""Settings, a copied Store, mocked ``ack``/``say``/``client`` and helpers for the listener tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from slack_bolt import Ack, Say
from slack_sdk import WebClient

from bot.listeners.services import Services
from bot.slack_app import SlackSettings
from plugins.models import Declaration, Finding, ScreeningResult, TemplateMeta
from storage.crypto import Cipher
from storage.store import Store
from tests.builders import AS_OF

OFFICER = "UOFFICER"
SECRET = "unit-signing-secret"
SETTINGS = SlackSettings(
    bot_token="xoxb-unit",
    signing_secret=SECRET,
    officers=(OFFICER,),
    workspace_id="T1",
    max_file_bytes=10_000,
)
#: Outside text that would post a channel ping, a user mention, a disguised link and a new
#: line if it reached Slack unescaped.
HOSTILE = "<!channel> <@U123> <https://evil.example|click> *bold*\nline"
COMPANY = "Synthetic Components Ltd."


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty database, made once: each test gets a copy (cheaper than migrating)."""
    path = tmp_path_factory.mktemp("listeners") / "base.db"
    Store(path).close()
    return path


@pytest.fixture
def store(migrated: Path, tmp_path: Path) -> Iterator[Store]:
    shutil.copy(migrated, tmp_path / "bot.db")
    s = Store(tmp_path / "bot.db")
    yield s
    s.close()


@dataclass
class Slack:
    """Bolt's ``ack`` and ``say`` as autospecced mocks (a wrong argument fails), the Web API
    client as a mock of its methods; ``calls`` sees every call to them, in order."""

    ack: Any
    say: Any
    client: Any
    calls: mock.Mock


@pytest.fixture
def slack() -> Slack:
    calls = mock.Mock()
    ack = mock.create_autospec(Ack, instance=True)
    say = mock.create_autospec(Say, instance=True)
    client = mock.NonCallableMock(spec=WebClient)  # autospeccing its 300 methods takes 0.5 s
    for name, m in (("ack", ack), ("say", say), ("client", client)):
        calls.attach_mock(m, name)
    return Slack(ack, say, client, calls)


def services(store: Store, screener: Any = None, cipher: Cipher | None = None) -> Services:
    return Services(SETTINGS, lambda: store, lambda _s: screener, cipher)


def said(slack: Slack) -> list[dict[str, Any]]:
    return [dict(c.kwargs) for c in slack.say.call_args_list]


def command(text: str, user: str = "USTAFF", team: str = "T1") -> dict[str, Any]:
    return {"text": text, "user_id": user, "team_id": team, "channel_id": "C1"}


def result(company: str = COMPANY, message: str = "A finding.") -> ScreeningResult:
    """A screening as the pipeline would return it, without a workbook."""
    decl = Declaration(
        meta=TemplateMeta(type="CMRT", version="6.5", layout="CMRT_6.x"),
        company={"company_name": company},
    )
    finding = Finding("unit-risk", "risk", message, sheet="Declaration", cell="D8")
    return ScreeningResult(declaration=decl, findings=(finding,))


def screener(res: ScreeningResult) -> mock.Mock:
    fake = mock.Mock(spec=["screen_bytes", "as_of"])
    fake.screen_bytes.return_value = res
    fake.as_of = AS_OF
    return fake
