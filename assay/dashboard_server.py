"""``assay dashboard``: Datasette with datasette-dashboards over the aggregate database.

Design decisions:

- **Only the aggregate database** (:mod:`reports.dashboard_db`) is served, never Assay's own:
  it holds no address, token, grievance text or file. It is opened *mutable* (Datasette reads it
  through ``mode=ro`` connections and never writes) because ``assay serve`` rewrites it in
  place, in one transaction, after each change; the board shows the new figures on reload.
  It is always named ``dashboard`` in URLs, whatever the file is called, so links hold.
- **A login for everything.** Every page, the JSON API and SQL need the configured user
  (:func:`reports.dashboard_board.board_metadata`); datasette-auth-passwords checks the
  password against a ``pbkdf2_sha256`` hash read from an environment variable, never from the
  config file. A missing or malformed hash refuses to start (the plugin would assert, and
  every login would be a 500). Datasette signs the login cookie with a secret made at each
  start, so sessions end when the dashboard restarts.
- **A thin ASGI guard** around Datasette: ``/`` goes to the board; an HTML page refused to an
  anonymous visitor redirects to the login form (the JSON API keeps its 403); the plugin's
  open ``/-/password-tool`` (a CPU-heavy hash for anyone) is 404; the login cookie is
  ``HttpOnly``; responses carry a content security policy that allows this origin only (the
  board's scripts are served locally; nothing is fetched from elsewhere) and no framing.
- Binds ``[dashboard] host``/``port``, 127.0.0.1:8001 by default.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reports.dashboard_board import SLUG, board_metadata

DB_NAME = "dashboard"
BOARD_PATH = f"/-/dashboards/{SLUG}"
#: What datasette-auth-passwords can verify: pbkdf2_sha256$iterations$salt$base64-hash.
HASH_PATTERN = re.compile(r"pbkdf2_sha256\$([1-9][0-9]{0,8})\$([^$\s]+)\$([A-Za-z0-9+/]+=*)")
MIN_ITERATIONS = 100_000
SETTINGS = {
    "allow_download": False,  # the .db file is never handed out
    "allow_csv_stream": False,
    "sql_time_limit_ms": 3000,
    "max_returned_rows": 20000,  # the per-metal response curves: campaigns x metals x days
    "suggest_facets": False,
    "allow_signed_tokens": False,  # no API tokens: the login cookie is the only way in
}
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class DashboardError(Exception):
    """The dashboard cannot start; the message says what to do."""


@dataclass(frozen=True)
class DashboardOptions:
    database: Path
    host: str = "127.0.0.1"
    port: int = 8001
    user: str = "compliance"
    password_hash_env: str = "ASSAY_DASHBOARD_PASSWORD_HASH"


def check_password_hash(env: str, environ: MutableMapping[str, str] | None = None) -> str:
    """The hash in ``$env``, or :class:`DashboardError` naming the variable and the fix."""
    value = (os.environ if environ is None else environ).get(env, "").strip()
    fix = f"make one with `assay dashboard hash-password` and export {env}"
    if not value:
        raise DashboardError(f"${env} is not set: {fix}")
    match = HASH_PATTERN.fullmatch(value)
    if match is None:
        raise DashboardError(f"${env} is not a pbkdf2_sha256$iterations$salt$hash value: {fix}")
    if int(match.group(1)) < MIN_ITERATIONS:
        raise DashboardError(f"${env} has fewer than {MIN_ITERATIONS} iterations: {fix}")
    return value


def build_datasette(options: DashboardOptions) -> Any:
    """The Datasette instance (checks the hash and the database first)."""
    check_password_hash(options.password_hash_env)
    if not options.database.is_file():
        raise DashboardError(
            f"no dashboard database at {options.database}: run `assay dashboard build`"
        )
    from reports.dashboard_db import NotADashboard, check_dashboard_file

    try:
        check_dashboard_file(options.database)
    except NotADashboard as exc:
        raise DashboardError(f"{exc} (run `assay dashboard build`)") from None
    from datasette.app import Datasette
    from datasette.database import Database

    ds = Datasette(
        metadata=board_metadata(DB_NAME, options.user, options.password_hash_env),
        settings=SETTINGS,
    )
    ds.add_database(
        Database(ds, path=str(options.database), is_mutable=True), name=DB_NAME, route=DB_NAME
    )
    return ds


def guard(app: ASGIApp) -> ASGIApp:
    """Datasette's ASGI app behind the rules of the module docstring."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        # No HTTP Basic: datasette-auth-passwords would check any Authorization header, with
        # a 480,000-round hash on the event loop, on every URL; the login form is the one way in.
        headers = scope.get("headers", [])
        if any(k.lower() == b"authorization" for k, _ in headers):
            scope = dict(
                scope, headers=[(k, v) for k, v in headers if k.lower() != b"authorization"]
            )
        path = scope.get("path", "")
        if path == "/":
            await _redirect(send, BOARD_PATH)
            return
        if path == "/-/password-tool":
            await _plain(send, 404, b"Not found")
            return
        html_get = scope.get("method") == "GET" and not path.endswith((".json", ".csv"))
        swallowing = False

        async def send_guarded(message: Message) -> None:
            nonlocal swallowing
            if message["type"] == "http.response.start":
                if html_get and message["status"] == 403 and not _has_cookie(scope, "ds_actor"):
                    swallowing = True  # the Forbidden page becomes a redirect to the login
                    await _redirect(send, "/-/login")
                    return
                message = dict(message, headers=_headers(message.get("headers", [])))
            elif swallowing:
                return
            await send(message)

        await app(scope, receive, send_guarded)

    return guarded


def _has_cookie(scope: Scope, name: str) -> bool:
    for key, value in scope.get("headers", []):
        if key == b"cookie" and f"{name}=".encode() in value:
            return True
    return False


def _headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    out = []
    for key, value in headers:
        if key.lower() == b"set-cookie" and value.startswith(b"ds_actor="):
            value += b"; HttpOnly"
        out.append((key, value))
    out += [
        (b"content-security-policy", CSP.encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    ]
    return out


async def _redirect(send: Send, location: str) -> None:
    headers = [(b"location", location.encode()), (b"content-type", b"text/plain")]
    await send({"type": "http.response.start", "status": 302, "headers": _headers(headers)})
    await send({"type": "http.response.body", "body": b""})


async def _plain(send: Send, status: int, body: bytes) -> None:
    headers = _headers([(b"content-type", b"text/plain; charset=utf-8")])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def serve(ds: Any, options: DashboardOptions) -> None:
    """Run ``ds`` (from :func:`build_datasette`) until interrupted (uvicorn, one process)."""
    import uvicorn

    uvicorn.run(
        guard(ds.app()),
        host=options.host,
        port=options.port,
        log_level="warning",
        server_header=False,
        lifespan="on",
    )
