"""The Slack app (slack-bolt): ask about a smelter or a supplier, screen a shared template,
and read grievance cases (officers only, ephemeral).

Listeners are thin: parse the request, call the store or the screener, render Block Kit.
Each listener thread gets its own Store (sqlite connections belong to their thread).
Bolt verifies every request's signature and refuses timestamps older than five minutes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import Ack, App, Say
from slack_sdk import WebClient

from plugins.pipeline import Screener, ScreeningResult
from storage.crypto import Cipher
from storage.lookup import lookup_smelter
from storage.mail import MessageRecord, OutboxItem
from storage.store import Store

from .slack_render import context, result_blocks, section, smelter_blocks, supplier_blocks

log = logging.getLogger(__name__)

CID_RE = re.compile(r"\bCID\d{6}\b", re.IGNORECASE)
CASE_RE = re.compile(r"\bGRV-\d{4}-\d{4}\b", re.IGNORECASE)
TEMPLATE_EXT = (".xlsx", ".xlsm", ".xls", ".zip")
TEMPLATE_TYPES = {"xlsx", "xlsm", "xls", "zip", "binary"}
MENTION_RE = re.compile(r"<@[A-Z0-9]+>")
ASK_NOISE = re.compile(
    r"\b(is|are|conformant|status|rmap|active|what|about|the|smelter|refiner)\b\??", re.IGNORECASE
)

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
    text = MENTION_RE.sub(" ", text)
    cid = CID_RE.search(text)
    if cid:
        return cid.group(0).upper()
    return " ".join(ASK_NOISE.sub(" ", text).split()).strip(" ?")


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
            ack(text=f"No supplier or submission found for “{name}”.")
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
                f"{g['case_id']}  {g['status']}  {g['category']}  received {g['created_at'][:10]}"
                for g in cases[-20:]
            ]
            ack(text="\n".join(lines) or "No grievance cases.")
            return
        case = store.grievance(match.group(0).upper())
        if case is None or cipher is None:
            ack(text=f"No case {match.group(0).upper()}.")
            return
        events = store.grievance_events(case["case_id"])
        body = cipher.decrypt(case["body_enc"])
        history = "\n".join(f"• {e['at'][:16]} {e['kind']} {e['status']}".rstrip() for e in events)
        text = f"*{case['case_id']}* — {case['status']}, {case['category']}, received {case['created_at'][:10]}, answer by {case['respond_by']}\nSmelters: {', '.join(json.loads(case['cids'])) or '-'}\n>{body[:1500]}\n{history}"
        ack(text=text, blocks=[section(text)])

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
        for f in event["files"]:
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


def download(url: str, token: str, limit: int) -> bytes:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        data: bytes = resp.read(limit + 1)
    if len(data) > limit:
        raise ValueError("file too large")
    return data


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
    info = client.files_info(file=file_id)["file"]
    if not _looks_like_template(info):
        if event.get("channel_type") == "im":
            say(
                text=f"I screen RMI reporting templates (CMRT, EMRT, CRT, AMRT as .xlsx); {info.get('name', 'this file')} is not one.",
                thread_ts=thread,
            )
        store.record_message(
            MessageRecord(key=key, mailbox="slack", outcome="ignored", reason="not a template")
        )
        return
    if int(info.get("size") or 0) > settings.max_file_bytes:
        say(
            text=f"{info.get('name')} is too large to be an RMI template; please share the template alone.",
            thread_ts=thread,
        )
        store.record_message(MessageRecord(key=key, mailbox="slack", outcome="too-large"))
        return
    data = download(
        info.get("url_private_download") or info["url_private"],
        settings.bot_token,
        settings.max_file_bytes,
    )
    sha = hashlib.sha256(data).hexdigest()
    name = str(info.get("name") or "file.xlsx")
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
        sha, result, filename=name, source="slack", as_of=screener.as_of, data=data
    )
    declared = result.declaration.company.get("company_name", "") if result.declaration else ""
    supplier, _ = store.match_supplier("", declared)
    alert = {
        "kind": "submission",
        "supplier": supplier["name"] if supplier else (declared or "unknown supplier"),
        "via": "Slack",
        "files": [
            {
                "filename": name,
                "sha256": sha,
                "template": f"{result.declaration.meta.type} {result.declaration.meta.version}"
                if result.declaration
                else "unreadable",
                "risk_level": result.risk_level,
                "summary": result.summary,
                "high_risk_smelters": result.high_risk_smelters(),
            }
        ],
        "risk_level": result.risk_level,
    }
    store.record_message(
        MessageRecord(
            key=key,
            mailbox="slack",
            outcome="screened",
            supplier_id=supplier["id"] if supplier else None,
            submissions=(sha,),
            outbox=(OutboxItem("alert", f"alert:{key}", alert),),
            sources=((sha, supplier["id"] if supplier else None),),
            source="slack",
        )
    )
    text, blocks = result_blocks(name, store.submission(sha), store.findings(sha))
    say(
        text=text,
        blocks=[
            *blocks,
            context("Stored as a submission from Slack; the compliance channel has been told."),
        ][:50],
        thread_ts=thread,
    )
