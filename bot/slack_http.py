"""Serving the Bolt app: HTTP (Events API and slash commands) or Socket Mode."""

from __future__ import annotations

import logging
import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

log = logging.getLogger(__name__)
PATH = "/slack/events"
#: Slack's events and slash commands are a few KB; anything far larger is refused before it is
#: read (Bolt would read the whole body into memory before checking its signature).
MAX_BODY = 1024 * 1024


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("slack http: " + format, *args)


def serve_http(app: App, host: str, port: int) -> tuple[WSGIServer, threading.Thread]:
    """Start the app on ``http://host:port/slack/events`` in a thread; returns the server."""
    handler = SlackRequestHandler(app)

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") != PATH:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            start_response("413 Content Too Large", [("Content-Type", "text/plain")])
            return [b"too large"]
        return handler(environ, start_response)

    server = make_server(
        host, port, wsgi, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="slack-http", daemon=True)
    thread.start()
    log.info("slack app listening on http://%s:%s%s", host, server.server_port, PATH)
    return server, thread


def serve_socket_mode(app: App, app_token: str) -> Any:
    """Connect over Socket Mode (no public URL needed); returns the handler (``close()`` to stop)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(app, app_token)
    handler.connect()
    return handler
