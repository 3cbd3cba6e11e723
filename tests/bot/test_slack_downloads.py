"""Slack downloads: the bot token goes only to Slack's file hosts (here: the origin of the
configured Web API stand-in), never to another host and never across a redirect away; a file
that cannot be fetched gets one line in its thread, once. Over real HTTP: the Bolt app, the
Web API stand-in, and a second loopback server standing for somebody else's host."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.slack_app import SlackSettings
from bot.slack_files import SLACK_FILE_ORIGINS, DownloadFailed, download, origin_of, token_origins
from storage.store import Store
from tests.builders import build_family
from tests.servers import free_port
from tests.slack_bot import Bot, file_share
from tests.slack_stub import TOKEN, SlackStub

pytestmark = pytest.mark.e2e

ANSWER = "I could not download {} from Slack; please share it again or e-mail it."


class Elsewhere:
    """Somebody else's host: records every request and the Authorization header it carried."""

    def __init__(self, body: bytes = b"PK\x03\x04 not really") -> None:
        self.port = free_port()
        self.seen: list[tuple[str, str | None]] = []
        rec = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                rec.seen.append((self.path, self.headers.get("Authorization")))
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RedirectingStub(SlackStub):
    """The stand-in, whose file URLs can also answer with a redirect (``redirects[path]``)."""

    def __init__(self) -> None:
        super().__init__()
        self.redirects: dict[str, tuple[int, str]] = {}
        redirects = self.redirects
        base: Any = self.server.RequestHandlerClass

        class Handler(base):
            def do_GET(self) -> None:
                if self.path in redirects:
                    code, location = redirects[self.path]
                    self.send_response(code)
                    self.send_header("Location", location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                super().do_GET()

        self.server.RequestHandlerClass = Handler


@pytest.fixture
def stub() -> Iterator[RedirectingStub]:
    s = RedirectingStub()
    s.start()
    yield s
    s.stop()


@pytest.fixture
def elsewhere() -> Iterator[Elsewhere]:
    e = Elsewhere()
    yield e
    e.stop()


@pytest.fixture
def bot(tmp_path: Path, stub: RedirectingStub) -> Iterator[Bot]:
    b = Bot(tmp_path, stub)
    yield b
    b.close()


@pytest.fixture(scope="module")
def cmrt(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return build_family("CMRT-6.5", tmp_path_factory.mktemp("cmrt"))[0].read_bytes()


def share(bot: Bot, file_id: str, ts: str) -> dict[str, Any]:
    event = file_share(file_id, ts)
    assert bot.event(event) == 200
    return event


def thread_posts(stub: SlackStub, ts: str) -> list[dict[str, Any]]:
    return [c for c in stub.called("chat.postMessage") if c.get("thread_ts") == ts]


def test_a_file_on_another_host_is_never_fetched_and_answered_once(
    bot: Bot, stub: RedirectingStub, elsewhere: Elsewhere, cmrt: bytes
) -> None:
    info = stub.add_file("FX1", "cmrt.xlsx", cmrt)
    info["url_private"] = info["url_private_download"] = f"{elsewhere.url}/files/FX1/cmrt.xlsx"
    event = share(bot, "FX1", "900.1")
    [post] = stub.wait_for("chat.postMessage")
    assert post["thread_ts"] == "900.1" and post["text"] == ANSWER.format("cmrt.xlsx")
    bot.wait_idle()  # the listener answers first and records right after
    assert elsewhere.seen == []  # not contacted at all, so it never saw the token
    [rec] = Store(bot.db).messages("download-failed")
    assert rec["mailbox"] == "slack"
    # Slack retries the event: its listener runs to the end and answers nothing more.
    calls = len(stub.calls)
    assert bot.event(event) == 200
    bot.wait_idle()
    assert len(stub.calls) == calls and elsewhere.seen == []
    # The service goes on with the next file.
    stub.add_file("FX2", "good.xlsx", cmrt)
    share(bot, "FX2", "901.1")
    good = stub.wait_for("chat.postMessage", count=2)[-1]
    assert good["thread_ts"] == "901.1" and "CMRT 6.5" in json.dumps(good)
    assert len(thread_posts(stub, "900.1")) == 1 and elsewhere.seen == []


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_host_does_not_carry_the_token(
    bot: Bot, stub: RedirectingStub, elsewhere: Elsewhere, cmrt: bytes, code: int
) -> None:
    stub.add_file("FR1", "cmrt.xlsx", cmrt)
    stub.redirects["/files/FR1/cmrt.xlsx"] = (code, f"{elsewhere.url}/steal/cmrt.xlsx")
    share(bot, "FR1", "910.1")
    [post] = stub.wait_for("chat.postMessage")
    assert post["thread_ts"] == "910.1" and post["text"] == ANSWER.format("cmrt.xlsx")
    assert all(auth is None for _path, auth in elsewhere.seen)
    assert elsewhere.seen == []  # the redirect is not followed at all
    assert Store(bot.db).count("submissions") == 0


def test_a_redirect_within_slacks_host_is_followed_with_the_token(
    bot: Bot, stub: RedirectingStub, cmrt: bytes
) -> None:
    stub.add_file("FR2", "real.xlsx", cmrt)
    stub.redirects["/files/FR2/moved.xlsx"] = (302, f"{stub.url}/files/FR2/real.xlsx")
    info = stub.add_file("FR3", "moved.xlsx", b"")
    stub.files["FR3"] = ({**info, "size": len(cmrt)}, b"")
    stub.files["FR3"][0]["url_private_download"] = f"{stub.url}/files/FR2/moved.xlsx"
    share(bot, "FR3", "920.1")
    [post] = stub.wait_for("chat.postMessage")
    assert "CMRT 6.5" in json.dumps(post) and "Risk level" in json.dumps(post)


def test_an_http_error_gets_the_one_line_answer(
    bot: Bot, stub: RedirectingStub, cmrt: bytes
) -> None:
    missing = stub.add_file("FE1", "gone.xlsx", cmrt)
    missing["url_private_download"] = f"{stub.url}/files/NOPE/gone.xlsx"  # 404
    share(bot, "FE1", "930.1")
    [post] = stub.wait_for("chat.postMessage")
    assert post["thread_ts"] == "930.1" and post["text"] == ANSWER.format("gone.xlsx")


def test_a_body_larger_than_the_limit_is_refused_while_reading(
    stub: RedirectingStub, cmrt: bytes
) -> None:
    info = stub.add_file("FE2", "liar.xlsx", cmrt)  # whatever size Slack reported
    allowed = token_origins(settings(stub))
    assert download(info["url_private_download"], TOKEN, len(cmrt), allowed) == cmrt
    with pytest.raises(DownloadFailed, match="too large"):
        download(info["url_private_download"], TOKEN, len(cmrt) - 1, allowed)


def settings(stub: SlackStub) -> SlackSettings:
    return SlackSettings(bot_token=TOKEN, signing_secret="x", api_url=stub.url + "/api/")


def test_a_hostile_file_name_in_the_answer_is_escaped(
    bot: Bot, stub: RedirectingStub, elsewhere: Elsewhere
) -> None:
    info = stub.add_file("FN1", "x.xlsx", b"PK")
    info["name"] = "<!channel> <http://evil.example|click me>.xlsx"
    info["url_private_download"] = f"{elsewhere.url}/x.xlsx"
    share(bot, "FN1", "940.1")
    [post] = stub.wait_for("chat.postMessage")
    assert "<!channel>" not in post["text"] and "&lt;!channel&gt;" in post["text"]


def test_which_urls_may_carry_the_token() -> None:
    allowed = token_origins(
        SlackSettings(bot_token="t", signing_secret="s", api_url="http://127.0.0.1:8123/api/")
    )
    assert ("http", "127.0.0.1", 8123) in allowed and allowed >= SLACK_FILE_ORIGINS
    assert token_origins(SlackSettings(bot_token="t", signing_secret="s")) == SLACK_FILE_ORIGINS
    yes = [
        "https://files.slack.com/files-pri/T1-F1/download/a.xlsx",
        "https://FILES.SLACK.COM/files-pri/T1-F1/a.xlsx",
        "https://files.slack.com:443/files-pri/T1-F1/a.xlsx",
        "https://files.slack-gov.com/files-pri/T1-F1/a.xlsx",
        "http://127.0.0.1:8123/files/F1/a.xlsx",
    ]
    no = [
        "http://files.slack.com/files-pri/T1-F1/a.xlsx",  # not HTTPS
        "https://files.slack.com:8443/a.xlsx",  # another port
        "https://files.slack.com.evil.example/a.xlsx",
        "https://evil.example/files.slack.com/a.xlsx",
        "https://files.slack.com@evil.example/a.xlsx",
        "https://user:pw@files.slack.com/a.xlsx",
        "https://slack.com/a.xlsx",
        "http://127.0.0.1:8124/files/F1/a.xlsx",  # the stand-in's host, another port
        "https://127.0.0.1:8123/files/F1/a.xlsx",  # its port, another scheme
        "file:///etc/passwd",
        "ftp://files.slack.com/a.xlsx",
        "https://files.slack.com:99999/a.xlsx",
        "https://files.slack.com\t@evil.example/a.xlsx",
        "https://evil.example\n.files.slack.com/a.xlsx",
        "https://files.slack.com /a.xlsx",
        "",
    ]
    assert [u for u in yes if origin_of(u) not in allowed] == []
    assert [u for u in no if origin_of(u) in allowed] == []


def test_a_refused_url_is_not_contacted(elsewhere: Elsewhere) -> None:
    with pytest.raises(DownloadFailed, match="not a Slack file host"):
        download(f"{elsewhere.url}/a.xlsx", TOKEN, 1000, SLACK_FILE_ORIGINS)
    # download is synchronous and refuses before opening anything: when it has raised, it
    # has done all it will ever do. A later request is the first the host sees.
    urllib.request.urlopen(f"{elsewhere.url}/probe", timeout=10).close()
    assert elsewhere.seen == [("/probe", None)]


def test_a_download_that_drips_is_stopped_at_its_deadline() -> None:
    """Bytes that keep arriving, each well within the socket timeout: the whole download still
    has a deadline."""
    stop = threading.Event()

    class Drip(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            while not stop.is_set():
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.05)

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Drip)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/f.xlsx"
    started = time.monotonic()
    try:
        with pytest.raises(DownloadFailed, match="too slow"):
            download(url, TOKEN, 10**7, origin_of_set(url), seconds=1.0)
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
    assert time.monotonic() - started < 10


def origin_of_set(url: str) -> frozenset[tuple[str, str, int]]:
    origin = origin_of(url)
    assert origin is not None
    return frozenset({origin})
