"""The Slack listeners called directly, with mocked ``ack``/``say``/``client`` and a real Store.

Each handler is a module-level function of Bolt's arguments plus ``Services``: these tests call
it as Bolt would and look at what it acknowledged, said and stored. Files shared, and the
signed requests dispatched through ``build_app`` (the wiring and the one error handler), are in
``test_listeners_files.py``. Fast: no servers, no workbooks (a fake screener returns a made-up result).
"""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest

from bot.listeners import app_mention, grievance_command, smelter_command
from bot.listeners import supplier_command as supplier
from bot.listeners.services import Services
from storage.crypto import Cipher, new_key
from storage.store import Store
from tests.bot.listeners_support import (
    COMPANY,
    HOSTILE,
    OFFICER,
    SETTINGS,
    Slack,
    command,
    result,
    said,
    services,
)
from tests.bot.listeners_support import migrated as migrated
from tests.bot.listeners_support import slack as slack
from tests.bot.listeners_support import store as store
from tests.builders import AS_OF


def acked(slack: Slack) -> dict[str, Any]:
    """The one acknowledgement, which is the command's whole answer: nothing else was called."""
    assert [c[0] for c in slack.calls.mock_calls] == ["ack"]
    return dict(slack.ack.call_args.kwargs)


# -- /smelter ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CID002082", ["CID002082", "Xiamen Tungsten"]),
        ("xiamen tungsten", ["CID002082"]),
        ("Zzyzx Qwerty Nonsense", ["No smelter found", "Nearest"]),
        ("  ", ["Usage: /smelter"]),
    ],
)
def test_smelter_command_answers_in_its_one_ack(
    store: Store, slack: Slack, text: str, expected: list[str]
) -> None:
    smelter_command.smelter_command(slack.ack, command(text), services(store))
    answer = json.dumps(acked(slack))
    assert all(e in answer for e in expected), answer


def test_smelter_command_names_suppliers_to_staff_only(store: Store, slack: Slack) -> None:
    smelter_command.smelter_command(slack.ack, command("CID002082"), services(store))
    assert "Listed by" in json.dumps(acked(slack))
    slack.calls.reset_mock()
    smelter_command.smelter_command(slack.ack, command("CID002082", team="TOTHER"), services(store))
    assert "Listed by" not in json.dumps(acked(slack))


def test_smelter_command_echoes_a_hostile_query_escaped(store: Store, slack: Slack) -> None:
    smelter_command.smelter_command(slack.ack, command(HOSTILE), services(store))
    answer = acked(slack)
    for text in (answer["text"], json.dumps(answer["blocks"])):
        assert "<!channel>" not in text and "<@U123>" not in text and "<https:" not in text
        assert "&lt;!channel&gt;" in text and "&lt;@U123&gt;" in text
    assert "bold* line" in answer["text"]  # a new line in a name is folded into one line


# -- /supplier -----------------------------------------------------------------------------


def test_supplier_command_outside_the_workspace_never_opens_the_store(slack: Slack) -> None:
    opened = mock.Mock()
    supplier.supplier_command(
        slack.ack, command(COMPANY, team="TOTHER"), Services(SETTINGS, opened, mock.Mock())
    )
    assert acked(slack)["text"] == (
        "Supplier information is only available in the compliance workspace."
    )
    opened.assert_not_called()


def test_supplier_command_unknown_name_is_echoed_escaped(store: Store, slack: Slack) -> None:
    supplier.supplier_command(slack.ack, command(HOSTILE), services(store))
    text = acked(slack)["text"]
    assert text.startswith("No supplier or submission found for “&lt;!channel&gt; &lt;@U123&gt;")
    assert "<!channel>" not in text and "\n" not in text


def test_supplier_command_shows_the_latest_submission(store: Store, slack: Slack) -> None:
    store.record_screening("a" * 64, result(message=HOSTILE), filename="cmrt.xlsx", as_of=AS_OF)
    supplier.supplier_command(slack.ack, command(COMPANY.lower()), services(store))
    answer = json.dumps(acked(slack))
    assert COMPANY in answer and "CMRT 6.5" in answer and "Risk level" in answer
    assert "&lt;!channel&gt;" in answer and "<!channel>" not in answer


# -- /grievance ----------------------------------------------------------------------------


def grievance(store: Store, cipher: Cipher, body: str) -> str:
    case = store.create_grievance(
        message_key="unit-k1",
        mailbox="grievances",
        category="armed-groups",
        subject_enc=cipher.encrypt("subject"),
        body_enc=cipher.encrypt(body),
        reporter_enc=cipher.encrypt("{}"),
        reply_token="tok" * 6,
        cids=["CID000292"],
        supplier_ids=[],
        respond_by="2026-12-31",
        attachments=[],
        year=2026,
    )
    assert case is not None
    return case


@pytest.mark.parametrize("text", ["", "GRV-2026-0001"])
def test_grievance_command_refuses_others_without_opening_the_store(
    slack: Slack, text: str
) -> None:
    opened = mock.Mock()
    grievance_command.grievance_command(
        slack.ack, command(text), Services(SETTINGS, opened, mock.Mock(), Cipher(new_key()))
    )
    assert acked(slack)["text"] == "Grievance cases are shown only to the grievance officers."
    opened.assert_not_called()


def test_grievance_command_shows_an_officer_the_case_quoted_and_escaped(
    store: Store, slack: Slack
) -> None:
    cipher = Cipher(new_key())
    case = grievance(store, cipher, f"Soldiers at the checkpoint.\n{HOSTILE}")
    grievance_command.grievance_command(
        slack.ack, command("", user=OFFICER), services(store, cipher=cipher)
    )
    listing = acked(slack)["text"]
    assert case in listing and "armed-groups" in listing and "Soldiers" not in listing
    slack.calls.reset_mock()
    grievance_command.grievance_command(
        slack.ack, command(case.lower(), user=OFFICER), services(store, cipher=cipher)
    )
    answer = acked(slack)
    text = answer["blocks"][0]["text"]["text"]
    assert answer["text"] == text and text.startswith(f"*{case} — received, armed-groups")
    quoted = [line for line in text.splitlines() if line.startswith(">")]
    assert quoted[0] == ">Soldiers at the checkpoint."
    assert quoted[1].startswith(">&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|click")
    assert quoted[2] == ">line"  # every line of the reporter's text stays inside the quote
    assert "<!channel>" not in text and "<@U123>" not in text


@pytest.mark.parametrize("with_cipher", [True, False])
def test_grievance_command_unknown_case_or_no_key(
    store: Store, slack: Slack, with_cipher: bool
) -> None:
    cipher = Cipher(new_key())
    case = grievance(store, cipher, "text")
    asked = case if not with_cipher else "GRV-2026-9999"
    grievance_command.grievance_command(
        slack.ack,
        command(asked, user=OFFICER),
        services(store, cipher=cipher if with_cipher else None),
    )
    assert acked(slack)["text"] == f"No case {asked}."


# -- mentions ------------------------------------------------------------------------------


def test_a_mention_without_a_question_explains_in_its_thread(store: Store, slack: Slack) -> None:
    event = {"text": "<@UBOT>  ", "ts": "10.1", "channel": "C1"}
    app_mention.app_mention(event, slack.say, {"team_id": "T1"}, services(store))
    [reply] = said(slack)
    assert reply["thread_ts"] == "10.1" and reply["text"].startswith("Ask me about a smelter")


def test_a_mention_is_answered_in_the_thread_it_came_from(store: Store, slack: Slack) -> None:
    event = {"text": "<@UBOT> is CID002082 conformant?", "ts": "10.2", "thread_ts": "10.0"}
    app_mention.app_mention(event, slack.say, {"team_id": "TOTHER"}, services(store))
    [reply] = said(slack)
    assert reply["thread_ts"] == "10.0" and "CID002082" in reply["text"]
    assert "Listed by" not in json.dumps(reply["blocks"])  # another workspace: no suppliers
    assert [c[0] for c in slack.calls.mock_calls] == ["say"]


def test_the_mention_is_not_part_of_the_question() -> None:
    assert app_mention.mention_query("<@UBOT> cid2082 and <@U2> Heraeus?") == "cid2082 and Heraeus?"
    assert app_mention.mention_query("<@UBOT>   ") == ""
