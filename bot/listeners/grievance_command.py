"""``/grievance [GRV-YYYY-NNNN]``: grievance cases, for the grievance officers only.

Slash-command answers are ephemeral: only the officer who asked sees them. The reporter's
words are quoted escaped, so no mention or link can be forged from them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, App

from ..slack_render import esc, fallback, section
from .services import Services

COMMAND = "/grievance"
CASE_RE = re.compile(r"\bGRV-\d{4}-\d{4}\b", re.IGNORECASE)


def grievance_command(ack: Ack, command: dict[str, Any], services: Services) -> None:
    if command.get("user_id") not in services.settings.officers:
        ack(text="Grievance cases are shown only to the grievance officers.")
        return
    match = CASE_RE.search(command.get("text") or "")
    store = services.store()
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
    if case is None or services.cipher is None:
        ack(text=f"No case {match.group(0).upper()}.")
        return
    events = store.grievance_events(case["case_id"])
    body = services.cipher.decrypt(case["body_enc"])[:1500]
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


def register(app: App, services: Services) -> None:
    @app.command(COMMAND)
    def listener(ack: Ack, command: dict[str, Any]) -> None:
        grievance_command(ack, command, services)
