"""``/campaign``: called directly with a mocked ``ack`` and a real Store holding a campaign."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from unittest import mock

import pytest
from slack_bolt import Respond

from bot.listeners import campaign_command as cc
from bot.listeners.services import Services
from storage.campaign_models import CampaignSpec
from storage.models import SupplierEntry
from storage.store import Store
from tests.bot.listeners_support import HOSTILE, SETTINGS, Slack, command
from tests.bot.listeners_support import migrated as migrated
from tests.bot.listeners_support import slack as slack
from tests.bot.listeners_support import store as store

DEADLINE = dt.date(2026, 12, 15)


def _services(store: Store, today: dt.date) -> Services:
    return Services(SETTINGS, lambda: store, lambda _s: None, None, today=lambda: today)


def _campaign(store: Store, names: list[str]) -> None:
    store.import_suppliers(
        [
            SupplierEntry(n, (f"s{i}@supplier{i}.example.test",), (), ("CMRT",))
            for i, n in enumerate(names)
        ]
    )
    spec = CampaignSpec("Survey 2026", "CMRT", DEADLINE, DEADLINE + dt.timedelta(days=28))
    store.create_campaign(spec, [s.id for s in store.suppliers()], dt.date(2026, 11, 1))


@pytest.fixture
def respond() -> Any:
    return mock.create_autospec(Respond, instance=True)


def _answer(slack: Slack, respond: Any) -> dict[str, Any]:
    """Acknowledged empty at once, then answered once through the response URL."""
    assert [c[0] for c in slack.calls.mock_calls] == ["ack"]
    assert slack.ack.call_args.kwargs == {} and slack.ack.call_args.args == ()
    assert respond.call_count == 1
    return dict(respond.call_args.kwargs)


def test_a_campaign_by_name_answers_with_its_figures_and_overdue_names(
    store: Store, slack: Slack, respond: Any
) -> None:
    _campaign(store, ["Alpha Alloys", "Beta Bearings", HOSTILE])
    cc.campaign_command(
        slack.ack, command("Survey   2026"), _services(store, dt.date(2026, 12, 20)), respond
    )
    answer = _answer(slack, respond)
    assert "0 of 3 answered (0.0%, None); 3 overdue" in answer["text"]
    blocks = json.dumps(answer["blocks"])
    assert "*Overdue:*" in blocks and "Alpha Alloys" in blocks
    # the hostile supplier name is escaped: no channel ping, mention or link reaches Slack
    assert "<!channel>" not in blocks and "<@U123>" not in blocks and "&lt;!channel&gt;" in blocks


def test_before_the_deadline_nobody_is_overdue(store: Store, slack: Slack, respond: Any) -> None:
    _campaign(store, ["Alpha Alloys"])
    cc.campaign_command(
        slack.ack, command("Survey 2026"), _services(store, dt.date(2026, 12, 1)), respond
    )
    assert "0 overdue" in _answer(slack, respond)["text"]


def test_without_a_name_every_open_campaign_has_a_line(
    store: Store, slack: Slack, respond: Any
) -> None:
    _campaign(store, ["Alpha Alloys", "Beta Bearings"])
    cc.campaign_command(slack.ack, command(""), _services(store, dt.date(2026, 12, 1)), respond)
    assert "*Survey 2026* (CMRT): 0 of 2 answered" in _answer(slack, respond)["text"]


def test_no_campaign_and_an_unknown_name_are_answered(
    store: Store, slack: Slack, respond: Any
) -> None:
    cc.campaign_command(slack.ack, command(""), _services(store, dt.date(2026, 12, 1)), respond)
    assert "No open campaign" in _answer(slack, respond)["text"]
    slack.calls.reset_mock()
    respond.reset_mock()
    cc.campaign_command(
        slack.ack, command(HOSTILE), _services(store, dt.date(2026, 12, 1)), respond
    )
    text = _answer(slack, respond)["text"]
    assert "No campaign named" in text and "<!channel>" not in text


def test_outside_the_workspace_nothing_is_shown(store: Store, slack: Slack, respond: Any) -> None:
    _campaign(store, ["Alpha Alloys"])
    cc.campaign_command(
        slack.ack,
        command("Survey 2026", team="TOTHER"),
        _services(store, dt.date(2026, 12, 1)),
        respond,
    )
    assert "only available in the compliance workspace" in slack.ack.call_args.kwargs["text"]
    respond.assert_not_called()
