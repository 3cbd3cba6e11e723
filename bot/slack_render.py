"""Block Kit for Slack: smelter answers, screening results, supplier summaries.

Every text that comes from outside (a workbook, a message, a reference list, a query) is
escaped for Slack mrkdwn (``&``, ``<``, ``>``) in blocks and in the fallback ``text``, so no
mention (``<!channel>``, ``<@U…>``) or disguised link can be forged, and is cut to a sane
length: a name to 200 characters, a finding message to 500, a section under 3,000, a message
to 50 blocks. Long finding lists are cut with a line saying how many more there are (the full
list is in the e-mail reply and `assay screen`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugins.models import Finding
from storage.lookup import Lookup
from storage.models import ReceivedSubmission, Submission

from .lookup_render import country_risk, standing_words

MAX_SECTION = 2900  # Slack: 3,000 characters per section text
MAX_TEXT = 3000  # the fallback text of a message or an ephemeral answer
MAX_BLOCKS = 50  # Slack: 50 blocks per message
MAX_NAME = 200  # company, supplier, smelter and file names; queries echoed back
MAX_MESSAGE = 500  # a finding message (which may quote a cell value)
EMOJI = {"high": ":red_circle:", "medium": ":large_orange_circle:", "low": ":large_green_circle:"}


def esc(text: object) -> str:
    """Slack mrkdwn escaping: the three characters Slack asks apps to escape."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: object, limit: int) -> str:
    """At most ``limit`` characters, with "…" when cut."""
    s = str(text)
    return s if len(s) <= limit else s[: max(limit - 1, 0)] + "…"


def one_line(text: object, limit: int) -> str:
    """Whitespace (newlines included) collapsed to single spaces, then cut: for names."""
    s = str(text)[: limit * 4 + 16]  # never split a 10 MB value just to keep 200 characters
    return clip(" ".join(s.split()), limit)


def name_md(text: object, limit: int = MAX_NAME) -> str:
    """An outside name (company, file, supplier, smelter, query) as safe mrkdwn."""
    return esc(one_line(text, limit))


def message_md(text: object, limit: int = MAX_MESSAGE) -> str:
    """An outside message (a finding, a note) as safe mrkdwn."""
    return esc(one_line(text, limit))


def cut(mrkdwn: str, limit: int) -> str:
    """Cut already-escaped mrkdwn to ``limit`` characters without splitting an entity."""
    if len(mrkdwn) <= limit:
        return mrkdwn
    head = mrkdwn[: max(limit - 1, 0)]
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    return head + "…"


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, MAX_SECTION)}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(text, MAX_SECTION)}]}


def fallback(text: str) -> str:
    """The ``text`` of a message: already escaped, cut to ``MAX_TEXT``."""
    return cut(text, MAX_TEXT)


def could_not_download(filename: object) -> str:
    return (
        f"I could not download {name_md(filename)} from Slack; please share it again or e-mail it."
    )


def smelter_blocks(
    answer: Lookup, staff: bool, grievances: Mapping[str, int] | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """The look-up as blocks; ``grievances``: linked cases per CID (shown to staff)."""
    query = name_md(answer.query)
    if not answer.matches:
        near = ", ".join(f"{esc(n.cid)} {name_md(n.name)}" for n in answer.nearest[:10]) or "none"
        text = fallback(f"No smelter found for “{query}”. Nearest: {near}.")
        return text, [section(text)]
    blocks: list[dict[str, Any]] = []
    lines = []
    for m in answer.matches[: MAX_BLOCKS - 1]:
        flags = country_risk(m)
        summary = standing_words(m)
        when = (
            f" (list of {esc(m.rmap_list_date.isoformat())})"
            if m.rmap_list_date
            else (f" ({name_md(m.rmap_list)})" if m.rmap_list else "")
        )
        body = [
            f"*{esc(m.cid)}* {name_md(m.name)} — {esc(m.metal)}, {name_md(m.country)}",
            f"RMAP: {name_md(summary)}{when}",
        ]
        if m.aliases:
            body.append(f"Also known as: {', '.join(name_md(a) for a in m.aliases[:6])}")
        if flags:
            body.append(f":warning: Country risk: {', '.join(name_md(f) for f in flags)}")
        if staff:
            who = ", ".join(name_md(n) for n in m.supplier_names[:10])
            body.append(f"Listed by {m.suppliers} supplier(s)" + (f": {who}" if who else ""))
            body.append(f"Linked grievances: {(grievances or {}).get(m.cid, 0)}")
        blocks.append(section("\n".join(body)))
        lines.append(f"{esc(m.cid)} {name_md(m.name)}: RMAP {name_md(summary)}")
    if len(answer.matches) > 1:
        blocks.insert(
            0, context(f"{len(answer.matches)} smelters match “{query}”; the best first.")
        )
    return fallback("\n".join(lines)), blocks[:MAX_BLOCKS]


def result_blocks(
    filename: str, sub: Submission | None, findings: list[Finding], note: str = ""
) -> tuple[str, list[dict[str, Any]]]:
    fname = name_md(filename)
    if sub is None or not sub.readable:
        why = message_md(findings[0].message) if findings else "unknown problem"
        text = fallback(f"I could not read {fname}: {why}")
        return text, [section(f":x: *{fname}*\n{text}")]
    level = str(sub.risk_level or "low")
    counts = f"{sub.errors} error, {sub.risks} risk, {sub.warnings} warning, {sub.infos} info"
    template = f"{name_md(sub.template_type, 20)} {name_md(sub.template_version, 20)}"
    company = name_md(sub.company_name or "no company name")
    head = f"{EMOJI.get(level, '')} *{fname}* — {template}, {company}\nRisk level *{esc(level.upper())}* ({counts})"
    blocks = [section(head)]
    if note:
        blocks.append(context(esc(note)))
    for severity in ("error", "risk", "warning"):
        items = [f for f in findings if f.severity == severity]
        if not items:
            continue
        lines, size = [], 0
        for i, f in enumerate(items):
            msg = message_md(f.message)
            line = (
                f"• `{name_md(f.sheet, 40)}!{name_md(f.cell, 20)}` {msg}" if f.cell else f"• {msg}"
            )
            if size + len(line) > MAX_SECTION - 100:
                lines.append(f"…and {len(items) - i} more")
                break
            lines.append(line)
            size += len(line) + 1
        blocks.append(section(f"*{severity.capitalize()}s ({len(items)})*\n" + "\n".join(lines)))
    text = fallback(f"{fname}: {template}, risk level {esc(level.upper())} ({counts})")
    return text, blocks[:MAX_BLOCKS]


def supplier_blocks(
    name: str, latest: ReceivedSubmission | None, findings: list[Finding]
) -> tuple[str, list[dict[str, Any]]]:
    who = name_md(name)
    if latest is None:
        text = f"No submission from {who} yet."
        return text, [section(text)]
    sub = latest.submission
    text, blocks = result_blocks(sub.filename or "latest submission", sub, findings)
    received = esc(latest.received_at[:10])
    return fallback(f"{who}: {text}"), [
        section(f"*{who}* — latest submission, received {received}"),
        *blocks,
    ][:MAX_BLOCKS]
