"""``@assay is CID002082 conformant?``: a smelter question by mention, answered in its thread."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App, Say

from storage.lookup import split_queries

from .services import Services, staff_view
from .smelter_command import smelter_answer

EVENT = "app_mention"
MENTION_RE = re.compile(r"<@[A-Z0-9]+>")


def mention_query(text: str) -> str:
    """The question without the mention; the look-up finds the smelters in it (CIDs in any typed
    form, names once question words are dropped; several in one question)."""
    text = " ".join(MENTION_RE.sub(" ", text).split())
    return text if split_queries([text]) else ""


def app_mention(event: dict[str, Any], say: Say, body: dict[str, Any], services: Services) -> None:
    query = mention_query(event.get("text", ""))
    if not query:
        say(
            text="Ask me about a smelter: “@assay is CID002082 conformant?” or “@assay Xiamen Tungsten”.",
            thread_ts=event.get("ts"),
        )
        return
    text, blocks = smelter_answer(
        services.store(), query, staff_view(services.settings, body.get("team_id"))
    )
    say(text=text, blocks=blocks, thread_ts=event.get("thread_ts") or event.get("ts"))


def register(app: App, services: Services) -> None:
    @app.event(EVENT)
    def listener(event: dict[str, Any], say: Say, body: dict[str, Any]) -> None:
        app_mention(event, say, body, services)
