"""Compliance-channel alerts. Without Slack (the embedded default) they go to the console
and a log file, so the quick start shows the whole flow. Alerts are redacted by
construction: intake never puts a grievance reporter or a grievance's text in one."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any, TextIO

from storage.store import Store

log = logging.getLogger(__name__)


def render_alert(alert: dict[str, Any]) -> str:
    kind = alert.get("kind")
    if kind == "submission":
        files = "; ".join(
            f"{f['filename']} ({f['template']}): {f['risk_level'].upper()} — {f['summary']['error']} error, {f['summary']['risk']} risk, {f['summary']['warning']} warning"
            + (
                f"; high-risk smelters: {', '.join(f['high_risk_smelters'])}"
                if f.get("high_risk_smelters")
                else ""
            )
            for f in alert.get("files", [])
        )
        return f"[submission] {alert.get('supplier') or 'unknown supplier'}: {files}"
    if kind == "grievance":
        return f"[grievance] new case {alert['case_id']} received {alert['received']}, category {alert['category']} (details: assay grievance show {alert['case_id']})"
    if kind == "grievance-follow-up":
        return f"[grievance] follow-up on {alert['case_id']} received {alert['received']}"
    if kind == "sender-mismatch":
        return f"[warning] {alert['sender']} (supplier {alert['supplier']}) sent a declaration for {alert['declared_company']!r}"
    if kind == "rate-limited":
        return f"[warning] replies to {alert['sender']} paused: more than {alert['limit']} in an hour (a mail loop?)"
    if kind == "rmap-change":
        lines = [
            f"[rmap] new RMAP list {alert['list']}: {len(alert['changes'])} smelter(s) in suppliers' lists changed standing"
        ]
        for c in alert["changes"][:20]:
            lines.append(
                f"  {c['cid']}: {c['from']} -> {c['to']}; listed by {', '.join(c['suppliers'][:10]) or 'no named supplier'}"
            )
        if len(alert["changes"]) > 20:
            lines.append(f"  …and {len(alert['changes']) - 20} more (assay smelter CID)")
        return "\n".join(lines)
    if kind == "needs-attention":
        return f"[attention] {alert.get('mailbox')}: a message could not be handled ({alert.get('reason')}); it is in 'Needs attention'"
    return f"[{kind}] {json.dumps(alert, ensure_ascii=False)}"


class ConsoleAlerts:
    """Drains ``alert`` outbox entries to a stream and a log file."""

    def __init__(self, store: Store, log_file: Path | None, stream: TextIO | None = None) -> None:
        self.store = store
        self.log_file = log_file
        self.stream = stream if stream is not None else sys.stdout

    def drain(self, limit: int = 200) -> int:
        n = 0
        for row in self.store.due_outbox("alert", limit):
            line = render_alert(json.loads(row["payload"]))
            print(line, file=self.stream, flush=True)
            if self.log_file is not None:
                self.log_file.parent.mkdir(parents=True, exist_ok=True)
                with self.log_file.open("a", encoding="utf-8") as f:
                    f.write(line + "\n")
            self.store.mark_sent(row["id"])
            n += 1
        return n
