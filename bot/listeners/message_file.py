"""A file shared in a channel the bot is in, or in a direct message: a template is downloaded,
screened, stored as a submission from Slack and answered in its thread.

Slack sends a ``message`` event for every message; only file shares matter here, but every
message event needs a listener (else Slack retries a 404). A retried event is answered once:
each file is keyed by its id and the message's timestamp.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from slack_bolt import App, Say
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from plugins.pipeline import Screener, ScreeningResult
from program.digest import screened, submission_alerts
from storage.arrivals import ArrivedFile
from storage.mail import MessageRecord, OutboxItem
from storage.store import Store

from ..slack_files import DownloadFailed, download, token_origins
from ..slack_render import MAX_BLOCKS, context, could_not_download, name_md, result_blocks
from .services import Services

if TYPE_CHECKING:
    from ..slack_app import SlackSettings

log = logging.getLogger(__name__)

EVENT = "message"
TEMPLATE_EXT = (".xlsx", ".xlsm", ".xls", ".zip")
TEMPLATE_TYPES = {"xlsx", "xlsm", "xls", "zip", "binary"}
MAX_FILES_PER_EVENT = 20  # Slack allows 10 files per message


def message_file(
    event: dict[str, Any], say: Say, client: WebClient, body: dict[str, Any], services: Services
) -> None:
    if event.get("bot_id") or not event.get("files"):
        return
    store = services.store()
    for f in event["files"][:MAX_FILES_PER_EVENT]:
        handle_file(
            f,
            event,
            say,
            client,
            store,
            services.screener(store),
            services.settings,
            body.get("team_id"),
        )


def register(app: App, services: Services) -> None:
    @app.event(EVENT)
    def listener(event: dict[str, Any], say: Say, client: WebClient, body: dict[str, Any]) -> None:
        message_file(event, say, client, body, services)


def _looks_like_template(info: dict[str, Any]) -> bool:
    name = str(info.get("name", "")).lower()
    return name.endswith(TEMPLATE_EXT) or str(info.get("filetype", "")).lower() in TEMPLATE_TYPES


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
    arrival = store.record_submission([ArrivedFile(sha, name, data, result)], source="slack")
    supplier = arrival.supplier
    post, details = submission_alerts(
        arrival.label("unknown supplier"), [screened(name, sha, result)], via="Slack"
    )
    store.record_message(
        MessageRecord(
            key=key,
            mailbox="slack",
            outcome="screened",
            supplier_id=supplier.id if supplier else None,
            submissions=(sha,),
            outbox=(
                OutboxItem("alert", f"alert:{key}", post),
                *(
                    [
                        OutboxItem(
                            "alert",
                            f"alert:{key}:details",
                            replace(details, thread_of=f"alert:{key}"),
                        )
                    ]
                    if details
                    else []
                ),
            ),
            sources=((sha, supplier.id if supplier else None),),
            source="slack",
            matched_by=arrival.how,
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
