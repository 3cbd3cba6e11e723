"""The Slack listeners called directly, with mocked ``ack``/``say``/``client`` and a real Store.

Each handler is a module-level function of Bolt's arguments plus ``Services``: these tests call
it as Bolt would and look at what it acknowledged, said and stored. A few dispatch a signed
request through ``build_app`` (the Web API answered in-process) to check the wiring and the one
error handler. Fast: no servers, no workbooks (a fake screener returns a made-up result).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from slack_bolt import Ack, Say
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web import SlackResponse

from bot.listeners import app_mention, grievance_command, message_file, smelter_command
from bot.listeners import supplier_command as supplier
from bot.listeners.services import Services
from bot.slack_app import SlackSettings, build_app
from plugins.models import Declaration, Finding, ScreeningResult, TemplateMeta
from storage.crypto import Cipher, new_key
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


def acked(slack: Slack) -> dict[str, Any]:
    """The one acknowledgement, which is the command's whole answer: nothing else was called."""
    assert [c[0] for c in slack.calls.mock_calls] == ["ack"]
    return dict(slack.ack.call_args.kwargs)


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
        outbox_for=lambda case_id: [],
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


# -- files shared --------------------------------------------------------------------------


def share(
    *files: dict[str, Any], ts: str = "20.1", channel_type: str = "channel"
) -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "file_share",
        "ts": ts,
        "channel": "C1",
        "channel_type": channel_type,
        "files": list(files) or [{"id": "F1"}],
    }


def info(
    name: str = "cmrt.xlsx",
    url: str = "https://files.slack.com/files-pri/T1-F1/cmrt.xlsx",
    size: int = 100,
    filetype: str = "xlsx",
) -> dict[str, Any]:
    return {
        "file": {
            "id": "F1",
            "name": name,
            "filetype": filetype,
            "size": size,
            "url_private_download": url,
        }
    }


def shared(slack: Slack, store: Store, event: dict[str, Any], fake: Any = None) -> None:
    message_file.message_file(
        event, slack.say, slack.client, {"team_id": "T1"}, services(store, fake)
    )


def outcomes(store: Store) -> list[str]:
    return [m["outcome"] for m in store.messages()]


@pytest.mark.parametrize("event", [{**share(), "bot_id": "B1"}, {"ts": "1.1", "text": "hello"}])
def test_messages_without_files_or_from_bots_are_left_alone(
    store: Store, slack: Slack, event: dict[str, Any]
) -> None:
    shared(slack, store, event)
    assert slack.calls.mock_calls == [] and outcomes(store) == []


def test_files_info_failing_gets_the_one_line_answer(store: Store, slack: Slack) -> None:
    slack.client.files_info.side_effect = SlackApiError("no", {"ok": False, "error": "nope"})
    shared(slack, store, share({"id": "F1", "name": HOSTILE}, ts="20.1"))
    [reply] = said(slack)
    assert reply["thread_ts"] == "20.1" and reply["text"].startswith(
        "I could not download &lt;!channel&gt;"
    )
    assert outcomes(store) == ["download-failed"]


@pytest.mark.parametrize(("channel_type", "answered"), [("im", True), ("channel", False)])
def test_a_file_that_is_no_template_is_explained_in_dms_only(
    store: Store, slack: Slack, channel_type: str, answered: bool
) -> None:
    slack.client.files_info.return_value = info(name=f"{HOSTILE}.png", filetype="png")
    shared(slack, store, share(channel_type=channel_type))
    replies = said(slack)
    assert len(replies) == int(answered) and outcomes(store) == ["ignored"]
    if answered:
        assert "is not one" in replies[0]["text"] and "<!channel>" not in replies[0]["text"]


def test_a_file_too_large_is_never_downloaded(store: Store, slack: Slack) -> None:
    slack.client.files_info.return_value = info(size=SETTINGS.max_file_bytes + 1)
    with mock.patch.object(message_file, "download") as fetch:
        shared(slack, store, share())
    fetch.assert_not_called()
    [reply] = said(slack)
    assert "too large to be an RMI template" in reply["text"] and outcomes(store) == ["too-large"]


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/files-pri/T1-F1/cmrt.xlsx",
        "http://files.slack.com/files-pri/T1-F1/cmrt.xlsx",  # not HTTPS
        "https://files.slack.com@evil.example/cmrt.xlsx",
        "",
    ],
)
def test_a_file_on_another_host_is_refused_without_a_connection(
    store: Store, slack: Slack, url: str
) -> None:
    slack.client.files_info.return_value = info(url=url)
    fake = screener(result())
    contacted = AssertionError("a request was prepared for a refused URL")
    with mock.patch("urllib.request.build_opener", side_effect=contacted) as opener:
        shared(slack, store, share(), fake)
    opener.assert_not_called()  # no request was even prepared, so the token went nowhere
    fake.screen_bytes.assert_not_called()
    [reply] = said(slack)
    assert reply["text"] == (
        "I could not download cmrt.xlsx from Slack; please share it again or e-mail it."
    )
    [rec] = store.messages()
    assert rec["outcome"] == "download-failed" and rec["reason"] == "not a Slack file host"


def test_a_template_is_screened_stored_and_answered_once(store: Store, slack: Slack) -> None:
    slack.client.files_info.return_value = info()
    fake = screener(result(message=HOSTILE))
    event = {**share(ts="30.2"), "thread_ts": "30.1"}
    with mock.patch.object(message_file, "download", return_value=b"template bytes") as fetch:
        shared(slack, store, event, fake)
        [reply] = said(slack)
        assert reply["thread_ts"] == "30.1"
        blob = json.dumps(reply)
        assert "CMRT 6.5" in blob and "Stored as a submission from Slack" in blob
        assert "&lt;!channel&gt;" in blob and "<!channel>" not in blob
        assert outcomes(store) == ["screened"] and store.count("submissions") == 1
        assert store.outbox_count("pending", "alert") == 1
        # Slack retries the event: answered already, nothing more.
        shared(slack, store, event, fake)
        assert len(said(slack)) == 1 and fetch.call_count == 1
        # The same bytes shared again: the stored result.
        shared(slack, store, share(ts="31.1"), fake)
    again = said(slack)[-1]
    assert again["thread_ts"] == "31.1" and "Already screened" in json.dumps(again)
    assert fake.screen_bytes.call_count == 1 and outcomes(store) == ["screened", "duplicate"]


def test_at_most_twenty_files_of_one_message_are_looked_at(store: Store, slack: Slack) -> None:
    slack.client.files_info.return_value = info(name="photo.png", filetype="png")
    shared(slack, store, share(*({"id": f"F{i}"} for i in range(25))))
    assert slack.client.files_info.call_count == message_file.MAX_FILES_PER_EVENT == 20


# -- the app: wiring and the error handler -------------------------------------------------


class Inline(Executor):
    """Runs each listener before dispatch returns, so a test sees everything it did."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


@pytest.fixture
def web_api() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every Web API call, answered in-process (Bolt makes its own client per request)."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def api_call(client: WebClient, api_method: str, **kwargs: Any) -> SlackResponse:
        calls.append((api_method, kwargs))
        data = {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1"}
        if api_method == "files.info":
            data = {"ok": True, **info(name="photo.png", filetype="png")}
        return SlackResponse(
            client=client,
            http_verb="POST",
            api_url=api_method,
            req_args=kwargs,
            data=data,
            headers={},
            status_code=200,
        )

    with mock.patch.object(WebClient, "api_call", api_call):
        yield calls


def dispatch(store_factory: Callable[[], Store], body: str, json_body: bool = False) -> Any:
    app = build_app(
        SETTINGS,
        store_factory,
        lambda _s: mock.Mock(),
        None,
        WebClient(token=SETTINGS.bot_token, base_url="http://127.0.0.1:9/api/"),
        Inline(),
    )
    ts = str(int(time.time()))
    ctype = "application/json" if json_body else "application/x-www-form-urlencoded"
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
    return app.dispatch(
        BoltRequest(
            body=body,
            headers={
                "content-type": ctype,
                "x-slack-request-timestamp": ts,
                "x-slack-signature": signature,
            },
        )
    )


def slash(name: str, text: str) -> str:
    return urllib.parse.urlencode({"command": name, **command(text, user=OFFICER)})


def event_callback(event: dict[str, Any]) -> str:
    return json.dumps({"type": "event_callback", "team_id": "T1", "event": event})


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("/smelter", "CID002082", "Xiamen Tungsten"),
        ("/supplier", "Nobody Ltd", "No supplier or submission found"),
        ("/grievance", "", "No grievance cases."),
    ],
)
def test_build_app_wires_each_command(
    store: Store, web_api: list[Any], name: str, text: str, expected: str
) -> None:
    response = dispatch(lambda: store, slash(name, text))
    assert response.status == 200 and expected in response.body


def test_build_app_wires_the_events(store: Store, web_api: list[Any]) -> None:
    mention = {"type": "app_mention", "text": "<@UBOT> CID002082", "ts": "40.1", "channel": "C1"}
    assert dispatch(lambda: store, event_callback(mention), json_body=True).status == 200
    assert dispatch(lambda: store, event_callback(share()), json_body=True).status == 200
    assert [m for m, _ in web_api if m != "auth.test"] == ["chat.postMessage", "files.info"]
    [post] = [kwargs["json"] for m, kwargs in web_api if m == "chat.postMessage"]
    assert post["thread_ts"] == "40.1" and "CID002082" in post["text"]
    assert outcomes(store) == ["ignored"]


@pytest.mark.parametrize(
    ("body", "json_body", "kind"),
    [
        (slash("/smelter", "CID002082"), False, "None"),
        (
            event_callback({"type": "app_mention", "text": "<@UBOT> CID002082", "ts": "1.1"}),
            True,
            "event_callback",
        ),
    ],
)
def test_a_failing_listener_reaches_the_error_handler(
    web_api: list[Any], caplog: pytest.LogCaptureFixture, body: str, json_body: bool, kind: str
) -> None:
    def broken() -> Store:
        raise sqlite3.OperationalError("disk I/O error")

    with caplog.at_level("ERROR", logger="bot.slack_app"):
        response = dispatch(broken, body, json_body)
    [record] = [r for r in caplog.records if r.name == "bot.slack_app"]
    assert record.getMessage() == f"slack listener failed: OperationalError ({kind})"
    assert record.exc_info is not None and isinstance(record.exc_info[1], sqlite3.OperationalError)
    if not json_body:
        assert response.status == 500  # a command is answered with the failure
