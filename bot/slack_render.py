"""Block Kit for Slack: smelter answers, screening results, supplier summaries.

Slack limits a message to 50 blocks and a section to 3,000 characters; long finding
lists are cut with a line saying how many more there are (the full list is in the
e-mail reply and `assay screen`).
"""

from __future__ import annotations

from typing import Any

from plugins.models import Finding

MAX_SECTION = 2900
EMOJI = {"high": ":red_circle:", "medium": ":large_orange_circle:", "low": ":large_green_circle:"}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:MAX_SECTION]}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:MAX_SECTION]}]}


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def smelter_blocks(answer: dict[str, Any], staff: bool) -> tuple[str, list[dict[str, Any]]]:
    if not answer["matches"]:
        near = ", ".join(f"{n['cid']} {esc(n['name'])}" for n in answer["nearest"]) or "none"
        text = f"No smelter found for “{esc(answer['query'])}”. Nearest: {near}."
        return text, [section(text)]
    blocks: list[dict[str, Any]] = []
    lines = []
    for m in answer["matches"]:
        flags = m["country_risk"]
        when = (
            f" (list of {m['rmap_list_date']})"
            if m.get("rmap_list_date")
            else (f" ({m['rmap_list']})" if m.get("rmap_list") else "")
        )
        body = [
            f"*{m['cid']}* {esc(m['name'])} — {m['metal']}, {esc(m['country'])}",
            f"RMAP: {esc(m['rmap_status'])}{when}",
        ]
        if m["aliases"]:
            body.append(f"Also known as: {esc(', '.join(m['aliases'][:6]))}")
        if flags:
            body.append(f":warning: Country risk: {', '.join(flags)}")
        if staff:
            who = ", ".join(esc(n) for n in m.get("supplier_names", [])[:10])
            body.append(f"Listed by {m['suppliers']} supplier(s)" + (f": {who}" if who else ""))
            body.append(f"Linked grievances: {m.get('grievances', 0)}")
        blocks.append(section("\n".join(body)))
        lines.append(f"{m['cid']} {m['name']}: RMAP {m['rmap_status']}")
    if len(answer["matches"]) > 1:
        blocks.insert(
            0,
            context(
                f"{len(answer['matches'])} smelters match “{esc(answer['query'])}”; the best first."
            ),
        )
    return "\n".join(lines), blocks[:50]


def result_blocks(
    filename: str, sub: dict[str, Any] | None, findings: list[Finding], note: str = ""
) -> tuple[str, list[dict[str, Any]]]:
    if sub is None or not sub.get("readable"):
        text = f"I could not read {filename}: " + (
            findings[0].message if findings else "unknown problem"
        )
        return text, [section(f":x: *{esc(filename)}*\n{esc(text)}")]
    level = sub.get("risk_level") or "low"
    counts = f"{sub['errors']} error, {sub['risks']} risk, {sub['warnings']} warning, {sub['infos']} info"
    head = f"{EMOJI.get(level, '')} *{esc(filename)}* — {sub['template_type']} {sub['template_version']}, {esc(sub.get('company_name') or 'no company name')}\nRisk level *{level.upper()}* ({counts})"
    blocks = [section(head)]
    if note:
        blocks.append(context(note))
    for severity in ("error", "risk", "warning"):
        items = [f for f in findings if f.severity == severity]
        if not items:
            continue
        lines, size = [], 0
        for i, f in enumerate(items):
            line = f"• `{f.sheet}!{f.cell}` {esc(f.message)}" if f.cell else f"• {esc(f.message)}"
            if size + len(line) > MAX_SECTION - 100:
                lines.append(f"…and {len(items) - i} more")
                break
            lines.append(line)
            size += len(line) + 1
        blocks.append(section(f"*{severity.capitalize()}s ({len(items)})*\n" + "\n".join(lines)))
    text = f"{filename}: {sub['template_type']} {sub['template_version']}, risk level {level.upper()} ({counts})"
    return text, blocks[:50]


def supplier_blocks(
    name: str, sub: dict[str, Any] | None, findings: list[Finding]
) -> tuple[str, list[dict[str, Any]]]:
    if sub is None:
        text = f"No submission from {name} yet."
        return text, [section(esc(text))]
    text, blocks = result_blocks(sub.get("filename") or "latest submission", sub, findings)
    return f"{name}: {text}", [
        section(f"*{esc(name)}* — latest submission, received {sub.get('received_at', '')[:10]}"),
        *blocks,
    ][:50]
