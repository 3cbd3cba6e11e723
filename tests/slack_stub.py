"""A local Slack Web API stand-in: answers the methods the bot calls, records every call,
serves `url_private` downloads behind the bot token, and can answer 429 with Retry-After.

Posts are kept per channel with their message metadata, and `conversations.history`
returns them (newest first, metadata only with `include_all_metadata`), as Slack does.
A test can make a method answer a given error N times (`fail_next`), or accept a post and
then drop the connection without an answer (`drop_next`: the ambiguous case)."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from .servers import free_port

TOKEN = "xoxb-test-token"


def signed_request(
    port: int,
    body: bytes,
    secret: str,
    content_type: str = "application/x-www-form-urlencoded",
    timestamp: int | None = None,
) -> urllib.request.Request:
    """A request to the app's /slack/events, signed as Slack signs it."""
    from slack_sdk.signature import SignatureVerifier

    ts = str(timestamp if timestamp is not None else int(time.time()))
    return urllib.request.Request(
        f"http://127.0.0.1:{port}/slack/events",
        data=body,
        headers={
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": SignatureVerifier(secret).generate_signature(
                timestamp=ts, body=body
            ),
        },
    )


class SlackStub:
    def __init__(self) -> None:
        self.port = free_port()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.files: dict[str, tuple[dict[str, Any], bytes]] = {}
        self.rate_limit_next: dict[str, int] = {}  # method -> how many 429s to answer first
        self.fail_next: dict[str, list[str]] = {}  # method -> errors to answer, one per call
        self.drop_next: dict[str, int] = {}  # method -> how many calls to perform, then hang up
        self.history: dict[str, list[dict[str, Any]]] = {}  # channel -> posted messages
        self.replies: dict[str, list[dict[str, Any]]] = {}  # parent ts -> thread replies
        self.delay: dict[str, float] = {}  # method -> seconds between doing it and answering
        self.cond = threading.Condition()
        self._ts = 1000
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(
                self,
                status: int,
                body: bytes,
                ctype: str = "application/json",
                headers: dict[str, str] | None = None,
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path.startswith("/files/"):
                    if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                        self._reply(403, b"forbidden", "text/plain")
                        return
                    file_id = self.path.split("/")[2]
                    _info, data = stub.files.get(file_id, ({}, b""))
                    self._reply(
                        200 if data else 404, data or b"missing", "application/octet-stream"
                    )
                    return
                self.do_POST()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                method = self.path.split("/api/")[-1].split("?")[0]
                if "application/json" in (self.headers.get("Content-Type") or ""):
                    args = json.loads(raw or b"{}")
                else:
                    args = {
                        k: v[0]
                        for k, v in parse_qs(raw.decode() or self.path.partition("?")[2]).items()
                    }
                if (
                    self.headers.get("Authorization") not in (f"Bearer {TOKEN}", None)
                    and method != "response_url"
                ):
                    self._reply(200, json.dumps({"ok": False, "error": "invalid_auth"}).encode())
                    return
                with stub.cond:
                    if stub.rate_limit_next.get(method, 0) > 0:
                        stub.rate_limit_next[method] -= 1
                        stub.calls.append((method + ":429", args))
                        stub.cond.notify_all()
                        self._reply(
                            429,
                            json.dumps({"ok": False, "error": "ratelimited"}).encode(),
                            headers={"Retry-After": "1"},
                        )
                        return
                    failures = stub.fail_next.get(method)
                    if failures:
                        error = failures.pop(0)
                        stub.calls.append((method + ":" + error, args))
                        stub.cond.notify_all()
                        self._reply(200, json.dumps({"ok": False, "error": error}).encode())
                        return
                    stub.calls.append((method, args))
                    answer = stub.answer(method, args)
                    drop = stub.drop_next.get(method, 0) > 0
                    if drop:
                        stub.drop_next[method] -= 1
                    stub.cond.notify_all()
                if stub.delay.get(method):
                    time.sleep(stub.delay[method])
                if drop:  # done, but the client never hears: close without an answer
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self._reply(200, json.dumps(answer).encode())

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client killed mid-request (the fault test) is not the stand-in's error

        self.server = Server(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "user_id": "UBOT",
                "bot_id": "BBOT",
                "team_id": "T1",
                "team": "Synthetic Workspace",
            }
        if method in ("chat.postMessage", "chat.postEphemeral"):
            self._ts += 1
            ts = f"{int(time.time())}.{self._ts:06d}"  # real time, as Slack's history filters by it
            if method == "chat.postMessage":
                message = {"type": "message", "ts": ts, "text": args.get("text")}
                if args.get("metadata"):
                    message["metadata"] = args["metadata"]
                if args.get("thread_ts"):
                    # As Slack: a thread reply is not in the channel's history, only in
                    # conversations.replies of its parent.
                    message["thread_ts"] = str(args["thread_ts"])
                    self.replies.setdefault(str(args["thread_ts"]), []).append(message)
                else:
                    self.history.setdefault(str(args.get("channel")), []).append(message)
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": ts,
                "message_ts": ts,
            }
        if method == "files.info":
            info, _data = self.files.get(str(args.get("file")), ({}, b""))
            return {"ok": True, "file": info} if info else {"ok": False, "error": "file_not_found"}
        if method == "conversations.history":
            oldest = float(args.get("oldest") or 0)
            full = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
            found = [
                m if full else {k: v for k, v in m.items() if k != "metadata"}
                for m in reversed(self.history.get(str(args.get("channel")), []))
                if float(m["ts"]) > oldest
            ]
            return {"ok": True, "messages": found, "has_more": False}
        if method == "conversations.replies":
            oldest = float(args.get("oldest") or 0)
            full = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
            parent = [
                m
                for m in self.history.get(str(args.get("channel")), [])
                if m["ts"] == str(args.get("ts"))
            ]
            if not parent:
                return {"ok": False, "error": "thread_not_found"}
            found = [
                m if full else {k: v for k, v in m.items() if k != "metadata"}
                for m in [*parent, *self.replies.get(str(args.get("ts")), [])]
                if float(m["ts"]) > oldest
            ]
            return {"ok": True, "messages": found, "has_more": False}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", "U"))[:8]}}
        return {"ok": True}

    def add_file(
        self, file_id: str, name: str, data: bytes, filetype: str = "xlsx"
    ) -> dict[str, Any]:
        info = {
            "id": file_id,
            "name": name,
            "filetype": filetype,
            "size": len(data),
            "url_private": f"{self.url}/files/{file_id}/{name}",
            "url_private_download": f"{self.url}/files/{file_id}/{name}",
        }
        self.files[file_id] = (info, data)
        return info

    def start(self) -> SlackStub:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, method: str, count: int = 1, timeout: float = 30.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [a for m, a in self.calls if m == method]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{method} called {len(found)} time(s), expected {count}: {[m for m, _ in self.calls]}"
                    )
                self.cond.wait(left)

    def called(self, method: str) -> list[dict[str, Any]]:
        with self.cond:
            return [a for m, a in self.calls if m == method]
