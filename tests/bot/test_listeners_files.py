"""The Slack file-share listener, and the app's wiring and error handler, with mocked Slack."""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from typing import Any
from unittest import mock

import pytest
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web import SlackResponse

from bot.listeners import message_file
from bot.slack_app import build_app
from storage.store import Store
from tests.bot.listeners_support import (
    HOSTILE,
    OFFICER,
    SECRET,
    SETTINGS,
    Slack,
    command,
    result,
    said,
    screener,
    services,
)
from tests.bot.listeners_support import migrated as migrated
from tests.bot.listeners_support import slack as slack
from tests.bot.listeners_support import store as store

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
    return [m.outcome for m in store.messages()]


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
    assert rec.outcome == "download-failed" and rec.reason == "not a Slack file host"


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
