"""``/smelter CID002082`` or ``/smelter <name>``: a smelter's standing, answered ephemerally."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from storage.lookup import lookup_smelter
from storage.store import Store

from ..slack_render import smelter_blocks
from .services import Services, staff_view

COMMAND = "/smelter"


def smelter_answer(store: Store, query: str, staff: bool) -> tuple[str, list[dict[str, Any]]]:
    """The answer to a smelter question (also asked by mention); supplier data for staff only."""
    answer = lookup_smelter(store, query)
    for m in answer["matches"]:
        m["grievances"] = store.grievance_count_for(m["cid"])
    return smelter_blocks(answer, staff)


def smelter_command(ack: Ack, command: dict[str, Any], services: Services) -> None:
    query = (command.get("text") or "").strip()
    if not query:
        ack(text="Usage: /smelter CID002082 or /smelter <name>")
        return
    text, blocks = smelter_answer(
        services.store(), query, staff_view(services.settings, command.get("team_id"))
    )
    ack(text=text, blocks=blocks)


def register(app: App, services: Services) -> None:
    @app.command(COMMAND)
    def listener(ack: Ack, command: dict[str, Any]) -> None:
        smelter_command(ack, command, services)
