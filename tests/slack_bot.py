"""The Slack app under test: the Bolt app served over real HTTP on loopback, talking to the
local Web API stand-in (tests/slack_stub.py), and the events Slack sends it.

Slack's events are acknowledged before their listener runs (Bolt runs it on a pool), so a
test that expects *nothing* to happen waits for ``Bot.wait_idle()``: every listener run
started so far has finished. Then "nothing was posted" is a fact, not a guess about timing.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from slack_sdk import WebClient

from bot.slack_app import SlackSettings, build_app
from bot.slack_http import serve_http
from bot.slack_notifier import SlackAlerts
from plugins.manager import get_plugin_manager
from plugins.pipeline import Screener
from storage.crypto import Cipher, new_key
from storage.store import Store

from .builders import AS_OF
from .servers import free_port
from .slack_stub import TOKEN, SlackStub, signed_request

SECRET = "test-signing-secret"
OFFICER = "UOFFICER"


def file_share(
    file_id: str, ts: str, channel: str = "C1", channel_type: str = "channel"
) -> dict[str, Any]:
    """The `message` event Slack sends when a user shares one file."""
    return {
        "type": "message",
        "subtype": "file_share",
        "user": "U1",
        "ts": ts,
        "channel": channel,
        "channel_type": channel_type,
        "files": [{"id": file_id}],
    }


class CountingPool(ThreadPoolExecutor):
    """Bolt's listener pool, counting the runs it was given and the runs that have finished."""

    def __init__(self) -> None:
        super().__init__(max_workers=5, thread_name_prefix="slack-listener")
        self.cond = threading.Condition()
        self.started = self.finished = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        def run() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                with self.cond:
                    self.finished += 1
                    self.cond.notify_all()

        with self.cond:
            self.started += 1
        return super().submit(run)

    def wait_idle(self, timeout: float = 30.0) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: self.finished == self.started, timeout):
                raise AssertionError(f"{self.started - self.finished} listener run(s) unfinished")


class Bot:
    def __init__(self, tmp: Path, stub: SlackStub) -> None:
        self.db = tmp / "slack.db"
        self.stub = stub
        self.cipher = Cipher(new_key())
        settings = SlackSettings(
            bot_token=TOKEN,
            signing_secret=SECRET,
            channel="C_COMPLIANCE",
            officers=(OFFICER,),
            workspace_id="T1",
            api_url=stub.url + "/api/",
        )
        client = WebClient(token=TOKEN, base_url=stub.url + "/api/")
        self.pool = CountingPool()
        app = build_app(
            settings,
            lambda: Store(self.db),
            lambda store: Screener(get_plugin_manager(), store.reference_data(), as_of=AS_OF),
            self.cipher,
            client,
            listener_executor=self.pool,
        )
        self.port = free_port()
        self.server, _ = serve_http(app, "127.0.0.1", self.port)
        self.alerts = SlackAlerts(Store(self.db), client, "C_COMPLIANCE", backoff_seconds=0.5)

    def post(
        self, body: bytes, content_type: str, timestamp: int | None = None, secret: str = SECRET
    ) -> tuple[int, bytes]:
        req = signed_request(self.port, body, secret, content_type, timestamp)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def command(
        self, command: str, text: str, user: str = "USTAFF", team: str = "T1"
    ) -> tuple[int, Any]:
        body = urllib.parse.urlencode(
            {
                "command": command,
                "text": text,
                "user_id": user,
                "team_id": team,
                "channel_id": "C1",
                "response_url": self.stub.url + "/api/response_url",
                "trigger_id": "1",
            }
        ).encode()
        status, raw = self.post(body, "application/x-www-form-urlencoded")
        return status, json.loads(raw) if raw.startswith(b"{") else raw.decode()

    def event(self, event: dict[str, Any], team: str = "T1") -> int:
        body = json.dumps(
            {
                "type": "event_callback",
                "team_id": team,
                "api_app_id": "A1",
                "event_id": f"Ev{time.monotonic_ns()}",
                "event_time": int(time.time()),
                "event": event,
            }
        ).encode()
        return self.post(body, "application/json")[0]

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Until every listener run started so far has finished (events are acknowledged
        before their listener runs)."""
        self.pool.wait_idle(timeout)

    def close(self) -> None:
        self.server.shutdown()
        self.pool.shutdown(wait=False)
