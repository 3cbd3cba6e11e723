"""``/supplier <name>``: that supplier's latest submission, in the staff workspace only."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from ..slack_render import name_md, supplier_blocks
from .services import Services, staff_view

COMMAND = "/supplier"


def supplier_command(ack: Ack, command: dict[str, Any], services: Services) -> None:
    name = (command.get("text") or "").strip()
    if not staff_view(services.settings, command.get("team_id")):
        ack(text="Supplier information is only available in the compliance workspace.")
        return
    store = services.store()
    supplier, _how = store.match_supplier("", name)
    latest = store.latest_submission(supplier["id"] if supplier else None, name)
    if latest is None and supplier is None:
        ack(text=f"No supplier or submission found for “{name_md(name)}”.")
        return
    findings = store.findings(latest["sha256"]) if latest else []
    text, blocks = supplier_blocks(supplier["name"] if supplier else name, latest, findings)
    ack(text=text, blocks=blocks)


def register(app: App, services: Services) -> None:
    @app.command(COMMAND)
    def listener(ack: Ack, command: dict[str, Any]) -> None:
        supplier_command(ack, command, services)
