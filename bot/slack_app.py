"""The Slack app (slack-bolt): ask about a smelter or a supplier, screen a shared template,
and read grievance cases (officers only, ephemeral).

Listeners are thin: parse the request, call the store or the screener, render Block Kit.
Each listener thread gets its own Store (sqlite connections belong to their thread).
Bolt verifies every request's signature and refuses timestamps older than five minutes.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import re
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import Ack, App, Say
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from plugins.pipeline import Screener, ScreeningResult
from program.digest import Screened, submission_alerts
from storage.crypto import Cipher
from storage.lookup import lookup_smelter, split_queries
from storage.mail import MessageRecord, OutboxItem
from storage.store import Store

from .slack_render import (
    MAX_BLOCKS,
    context,
    could_not_download,
    esc,
    fallback,
    name_md,
    result_blocks,
    section,
    smelter_blocks,
    supplier_blocks,
)

log = logging.getLogger(__name__)

CASE_RE = re.compile(r"\bGRV-\d{4}-\d{4}\b", re.IGNORECASE)
TEMPLATE_EXT = (".xlsx", ".xlsm", ".xls", ".zip")
TEMPLATE_TYPES = {"xlsx", "xlsm", "xls", "zip", "binary"}
MENTION_RE = re.compile(r"<@[A-Z0-9]+>")

#: Hosts Slack serves ``url_private`` files from (commercial Slack and GovSlack), HTTPS only:
#: the bot token is sent to these and to the origin of ``SlackSettings.api_url``, nowhere else.
SLACK_FILE_ORIGINS = frozenset(
    {("https", "files.slack.com", 443), ("https", "files.slack-gov.com", 443)}
)
MAX_FILES_PER_EVENT = 20  # Slack allows 10 files per message
DOWNLOAD_SECONDS = 120  # a whole download, however slowly the bytes drip in
MAX_REDIRECTS = 3

#: What the app listens to; the app manifest (bot/manifest.json) must declare exactly these.
COMMANDS = ("/smelter", "/supplier", "/grievance")
EVENTS = ("app_mention", "message")


@dataclass
class SlackSettings:
    bot_token: str
    signing_secret: str
    channel: str = ""  # the compliance channel (id or name)
    officers: tuple[str, ...] = ()  # user ids allowed to read grievance cases
    workspace_id: str = ""  # supplier names are shown only here (empty: any)
    api_url: str = ""  # Web API base URL; tests point it at a local stand-in
    max_file_bytes: int = 30 * 1024 * 1024
    extra: dict[str, Any] = field(default_factory=dict)


class StorePerThread:
    def __init__(self, factory: Callable[[], Store]) -> None:
        self.factory = factory
        self.local = threading.local()

    def get(self) -> Store:
        store = getattr(self.local, "store", None)
        if store is None:
            store = self.local.store = self.factory()
        return store


def staff_view(settings: SlackSettings, team_id: str | None) -> bool:
    """Supplier names only inside the configured workspace."""
    return not settings.workspace_id or team_id == settings.workspace_id


def smelter_answer(store: Store, query: str, staff: bool) -> tuple[str, list[dict[str, Any]]]:
    answer = lookup_smelter(store, query)
    for m in answer["matches"]:
        m["grievances"] = store.grievance_count_for(m["cid"])
    return smelter_blocks(answer, staff)


def mention_query(text: str) -> str:
    """The question without the mention; the look-up finds the smelters in it (CIDs in any typed
    form, names once question words are dropped; several in one question)."""
    text = " ".join(MENTION_RE.sub(" ", text).split())
    return text if split_queries([text]) else ""


def build_app(
    settings: SlackSettings,
    store_factory: Callable[[], Store],
    screener_factory: Callable[[Store], Screener],
    cipher: Cipher | None = None,
    client: WebClient | None = None,
) -> App:
    client = client or WebClient(
        token=settings.bot_token, base_url=settings.api_url or "https://slack.com/api/"
    )
    app = App(
        client=client, signing_secret=settings.signing_secret, token_verification_enabled=False
    )
    stores = StorePerThread(store_factory)
    screeners: dict[int, Screener] = {}

    def screener_for(store: Store) -> Screener:
        key = threading.get_ident()
        if key not in screeners:
            screeners[key] = screener_factory(store)
        return screeners[key]

    @app.command(COMMANDS[0])
    def smelter_command(ack: Ack, command: dict[str, Any]) -> None:
        query = (command.get("text") or "").strip()
        if not query:
            ack(text="Usage: /smelter CID002082 or /smelter <name>")
            return
        text, blocks = smelter_answer(
            stores.get(), query, staff_view(settings, command.get("team_id"))
        )
        ack(text=text, blocks=blocks)

    @app.command(COMMANDS[1])
    def supplier_command(ack: Ack, command: dict[str, Any]) -> None:
        name = (command.get("text") or "").strip()
        if not staff_view(settings, command.get("team_id")):
            ack(text="Supplier information is only available in the compliance workspace.")
            return
        store = stores.get()
        supplier, _how = store.match_supplier("", name)
        latest = store.latest_submission(supplier["id"] if supplier else None, name)
        if latest is None and supplier is None:
            ack(text=f"No supplier or submission found for “{name_md(name)}”.")
            return
        findings = store.findings(latest["sha256"]) if latest else []
        text, blocks = supplier_blocks(supplier["name"] if supplier else name, latest, findings)
        ack(text=text, blocks=blocks)

    @app.command(COMMANDS[2])
    def grievance_command(ack: Ack, command: dict[str, Any]) -> None:
        # Slash-command answers are ephemeral: only the officer who asked sees them.
        if command.get("user_id") not in settings.officers:
            ack(text="Grievance cases are shown only to the grievance officers.")
            return
        match = CASE_RE.search(command.get("text") or "")
        store = stores.get()
        if not match:
            cases = store.grievances()
            lines = [
                esc(
                    f"{g['case_id']}  {g['status']}  {g['category'][:60]}  received {g['created_at'][:10]}"
                )
                for g in cases[-20:]
            ]
            ack(text=fallback("\n".join(lines) or "No grievance cases."))
            return
        case = store.grievance(match.group(0).upper())
        if case is None or cipher is None:
            ack(text=f"No case {match.group(0).upper()}.")
            return
        events = store.grievance_events(case["case_id"])
        # The reporter's words are quoted, escaped: no mention or link can be forged from them.
        body = cipher.decrypt(case["body_enc"])[:1500]
        quoted = "\n".join(">" + esc(line) for line in body.splitlines()) or ">"
        history = "\n".join(
            esc(f"• {e['at'][:16]} {e['kind']} {e['status']}".rstrip()) for e in events[-20:]
        )
        cids = ", ".join(json.loads(case["cids"])[:20]) or "-"
        head = esc(
            f"{case['case_id']} — {case['status']}, {case['category']}, received {case['created_at'][:10]}, answer by {case['respond_by']}"
        )
        text = f"*{head}*\nSmelters: {esc(cids)}\n{quoted}\n{history}"
        ack(text=fallback(text), blocks=[section(text)])

    @app.event(EVENTS[0])
    def mention(event: dict[str, Any], say: Say, body: dict[str, Any]) -> None:
        query = mention_query(event.get("text", ""))
        if not query:
            say(
                text="Ask me about a smelter: “@assay is CID002082 conformant?” or “@assay Xiamen Tungsten”.",
                thread_ts=event.get("ts"),
            )
            return
        text, blocks = smelter_answer(
            stores.get(), query, staff_view(settings, body.get("team_id"))
        )
        say(text=text, blocks=blocks, thread_ts=event.get("thread_ts") or event.get("ts"))

    @app.event(EVENTS[1])
    def message(event: dict[str, Any], say: Say, client: WebClient, body: dict[str, Any]) -> None:
        # Every message event needs a listener (else Slack retries a 404); only file shares matter.
        if event.get("bot_id") or not event.get("files"):
            return
        store = stores.get()
        for f in event["files"][:MAX_FILES_PER_EVENT]:
            handle_file(
                f, event, say, client, store, screener_for(store), settings, body.get("team_id")
            )

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error(
            "slack listener failed: %s (%s)", type(error).__name__, body.get("type"), exc_info=error
        )

    return app


def _looks_like_template(info: dict[str, Any]) -> bool:
    name = str(info.get("name", "")).lower()
    return name.endswith(TEMPLATE_EXT) or str(info.get("filetype", "")).lower() in TEMPLATE_TYPES


class DownloadFailed(Exception):
    """A Slack file we could not (or would not) fetch."""


Origin = tuple[str, str, int]


def origin_of(url: str) -> Origin | None:
    """(scheme, host, port) of an http(s) URL without user info; None for anything else
    (spaces and control characters too: urlsplit would drop some, the fetch would not)."""
    if any(c <= " " or c == "\x7f" for c in url):
        return None
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80)


def token_origins(settings: SlackSettings) -> frozenset[Origin]:
    """Where the bot token may go: Slack's file hosts, and the configured Web API's origin."""
    api = origin_of(settings.api_url) if settings.api_url else None
    return SLACK_FILE_ORIGINS | ({api} if api else set())


class _RedirectsWithin(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to an allowed origin, carrying the token there; any other
    redirect is not followed (urllib then raises an HTTPError with the 3xx status)."""

    max_redirections = MAX_REDIRECTS

    def __init__(self, allowed: frozenset[Origin]) -> None:
        self.allowed = allowed

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        if origin_of(newurl) not in self.allowed:
            log.warning("slack download: refused a redirect to another host")
            return None
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        auth = req.get_header("Authorization")
        if new is not None and auth:
            new.add_unredirected_header("Authorization", auth)
        return new


def download(
    url: str,
    token: str,
    limit: int,
    allowed: frozenset[Origin] = SLACK_FILE_ORIGINS,
    seconds: float = DOWNLOAD_SECONDS,
) -> bytes:
    """A Slack file's bytes, fetched with the bot token only from ``allowed`` origins."""
    if origin_of(url) not in allowed:
        raise DownloadFailed("not a Slack file host")
    req = urllib.request.Request(url)
    # Unredirected: urllib itself never copies it onto a redirect; _RedirectsWithin does,
    # and only to an allowed origin.
    req.add_unredirected_header("Authorization", f"Bearer {token}")
    opener = urllib.request.build_opener(_RedirectsWithin(allowed))
    deadline = time.monotonic() + seconds
    chunks, size = [], 0
    with opener.open(req, timeout=30) as resp:
        while chunk := resp.read1(256 * 1024):  # read1: returns what has arrived
            size += len(chunk)
            if size > limit:
                raise DownloadFailed("file too large")
            if time.monotonic() > deadline:
                raise DownloadFailed("download too slow")
            chunks.append(chunk)
    return b"".join(chunks)


def handle_file(
    f: dict[str, Any],
    event: dict[str, Any],
    say: Say,
    client: WebClient,
    store: Store,
    screener: Screener,
    settings: SlackSettings,
    team_id: str | None,
) -> None:
    thread = event.get("thread_ts") or event.get("ts")
    file_id = str(f.get("id", ""))
    key = hashlib.sha256(f"slack:{file_id}:{event.get('ts')}".encode()).hexdigest()
    if store.message_done(key):
        return  # Slack retried the event: answered already
    try:
        info = client.files_info(file=file_id)["file"]
    except SlackApiError as exc:
        log.warning("slack: files.info %s failed: %s", file_id[:40], exc.response.get("error"))
        say(text=could_not_download(f.get("name") or "the file"), thread_ts=thread)
        store.record_message(
            MessageRecord(key=key, mailbox="slack", outcome="download-failed", reason="files.info")
        )
        return
    name = str(info.get("name") or "file.xlsx")
    if not _looks_like_template(info):
        if event.get("channel_type") == "im":
            say(
                text=f"I screen RMI reporting templates (CMRT, EMRT, CRT, AMRT as .xlsx); {name_md(info.get('name') or 'this file')} is not one.",
                thread_ts=thread,
            )
        store.record_message(
            MessageRecord(key=key, mailbox="slack", outcome="ignored", reason="not a template")
        )
        return
    try:
        size = int(info.get("size") or 0)
    except (TypeError, ValueError):
        size = 0
    if size > settings.max_file_bytes:
        say(
            text=f"{name_md(name)} is too large to be an RMI template; please share the template alone.",
            thread_ts=thread,
        )
        store.record_message(MessageRecord(key=key, mailbox="slack", outcome="too-large"))
        return
    url = str(info.get("url_private_download") or info.get("url_private") or "")
    try:
        data = download(url, settings.bot_token, settings.max_file_bytes, token_origins(settings))
    except (DownloadFailed, OSError, http.client.HTTPException) as exc:
        # Wrong host, a redirect away, an HTTP error, a timeout, too large: one answer, recorded
        # so a retried event is not answered again; the service goes on.
        log.warning("slack: could not download file %s: %s", file_id[:40], exc)
        say(text=could_not_download(name), thread_ts=thread)
        store.record_message(
            MessageRecord(
                key=key, mailbox="slack", outcome="download-failed", reason=str(exc)[:200]
            )
        )
        return
    sha = hashlib.sha256(data).hexdigest()
    if store.has_submission(sha):
        sub = store.submission(sha)
        text, blocks = result_blocks(
            name, sub, store.findings(sha), note="Already screened: these are the stored results."
        )
        say(text=text, blocks=blocks, thread_ts=thread)
        store.record_message(
            MessageRecord(key=key, mailbox="slack", outcome="duplicate", submissions=(sha,))
        )
        return
    result: ScreeningResult = screener.screen_bytes(data)
    store.record_screening(
        sha, result, filename=name, source="slack", as_of=result.as_of, data=data
    )
    declared = result.declaration.company.get("company_name", "") if result.declaration else ""
    supplier, _ = store.match_supplier("", declared)
    decl = result.declaration
    post, details = submission_alerts(
        supplier["name"] if supplier else (declared or "unknown supplier"),
        [
            Screened(
                filename=name,
                sha256=sha,
                template=f"{decl.meta.type} {decl.meta.version}" if decl else "unreadable",
                risk_level=result.risk_level,
                summary=result.summary,
                findings=result.findings,
                declaration=decl,
            )
        ],
        via="Slack",
    )
    store.record_message(
        MessageRecord(
            key=key,
            mailbox="slack",
            outcome="screened",
            supplier_id=supplier["id"] if supplier else None,
            submissions=(sha,),
            outbox=(
                OutboxItem("alert", f"alert:{key}", post),
                *(
                    [
                        OutboxItem(
                            "alert",
                            f"alert:{key}:details",
                            {**details, "thread_of": f"alert:{key}"},
                        )
                    ]
                    if details
                    else []
                ),
            ),
            sources=((sha, supplier["id"] if supplier else None),),
            source="slack",
        )
    )
    text, blocks = result_blocks(name, store.submission(sha), store.findings(sha))
    say(
        text=text,
        blocks=[
            *blocks[: MAX_BLOCKS - 1],
            context("Stored as a submission from Slack; the compliance channel has been told."),
        ],
        thread_ts=thread,
    )
