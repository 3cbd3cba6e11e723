"""Posts compliance-channel alerts to Slack, draining the outbox.

A Slack outage or a 429 (with its Retry-After) leaves entries pending until their retry
time; none is lost. An entry is marked sent right after Slack accepted it, so a restart
does not post it again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from storage.store import Store

from .alerts import render_alert

log = logging.getLogger(__name__)


class SlackAlerts:
    def __init__(
        self, store: Store, client: WebClient, channel: str, backoff_seconds: float = 30.0
    ) -> None:
        self.store = store
        self.client = client
        self.channel = channel
        self.backoff_seconds = backoff_seconds

    def drain(self, limit: int = 100) -> int:
        posted = 0
        for row in self.store.due_outbox("alert", limit):
            text = render_alert(json.loads(row["payload"]))
            try:
                self.client.chat_postMessage(channel=self.channel, text=text, unfurl_links=False)
            except SlackApiError as exc:
                wait = (
                    float(exc.response.headers.get("Retry-After", 0) or 0)
                    if exc.response.status_code == 429
                    else self.backoff_seconds * 2 ** min(int(row["attempts"]), 7)
                )
                retry = (
                    (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=max(wait, 1)))
                    .replace(microsecond=0)
                    .isoformat()
                )
                log.warning(
                    "slack post failed (%s); retry at %s",
                    exc.response.get("error") or exc.response.status_code,
                    retry,
                )
                self.store.mark_failed(
                    row["id"],
                    f"slack: {exc.response.status_code} {exc.response.get('error')}",
                    retry,
                )
                break  # keep the channel's order: nothing later goes out before this one
            except (SlackClientError, OSError) as exc:
                retry = (
                    (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.backoff_seconds))
                    .replace(microsecond=0)
                    .isoformat()
                )
                log.warning("slack unreachable (%s); retry at %s", type(exc).__name__, retry)
                self.store.mark_failed(row["id"], f"slack: {type(exc).__name__}", retry)
                break
            self.store.mark_sent(row["id"])
            posted += 1
        return posted
