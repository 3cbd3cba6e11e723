"""E-mail replies, as text and HTML: per file the verdict, then every finding by severity.

Everything from outside (file names, company names, finding messages quoting cells, notes)
is cut to a sane length and HTML-escaped in the HTML part; repeated notes collapse into one
line with a count; and a reply stays bounded (``MAX_LISTING`` characters of findings per
part, then a line saying how many more there are), whatever the workbooks hold.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable
from typing import Any

from plugins.models import Finding
from storage.store import Store

SECTIONS = (
    ("error", "Errors: please correct these and send the file again"),
    ("risk", "Supply-chain risks: our compliance team will follow up with you"),
    ("warning", "Warnings: please improve these next time"),
)
FOOTER = (
    "This is an automatic reply from Assay, our conflict-minerals screening service. "
    "Reply to this message with the corrected file attached; every finding above refers to the sheet and cell of your workbook."
)
MAX_NAME = 200  # a file name, a company name, where a file came from
MAX_MESSAGE = 500  # a finding message or a note
MAX_NOTES = 50  # distinct notes listed; the rest are counted
MAX_LISTING = 60_000  # characters of finding lines per part (text, HTML) of one reply
CURRENT_TEMPLATES = "the current CMRT (Revision 6.5) for tin, tantalum, tungsten and gold, or the EMRT (Revision 2.1) for cobalt, mica and other minerals"


def clip(text: object, limit: int) -> str:
    """One line (whitespace collapsed), at most ``limit`` characters, "…" when cut."""
    s = " ".join(str(text)[: limit * 4 + 16].split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def collapse_notes(notes: Iterable[object], limit: int = MAX_NOTES) -> list[str]:
    """Notes cut to ``MAX_MESSAGE``, each once in first-seen order, a repeated one with its
    count ("… (980 times)"); at most ``limit`` lines, then how many others there were."""
    counts = Counter(clip(n, MAX_MESSAGE) for n in notes)
    lines = [n if c == 1 else f"{n} ({c} times)" for n, c in counts.items()]
    if len(lines) > limit:
        rest = len(lines) - limit + 1
        lines = [*lines[: limit - 1], f"…and {rest} other note(s)."]
    return lines


def verdict(sub: dict[str, Any] | None, findings: list[Finding]) -> str:
    if sub is None or not sub.get("readable"):
        return "We could not read this file."
    if any(f.severity == "error" for f in findings):
        return "Incomplete: please correct the errors below and send the file again."
    if any(f.severity in ("risk", "warning") for f in findings):
        return "Received and accepted, with remarks."
    return "Received and accepted. Thank you."


def _file_blocks(payload: dict[str, Any], store: Store) -> list[dict[str, Any]]:
    blocks = []
    for f in payload.get("files", []):
        sub = store.submission(f["sha256"])
        findings = store.findings(f["sha256"])
        title = clip(f["filename"], MAX_NAME)
        if sub and sub.get("template_type"):
            title += f" ({clip(sub['template_type'], 20)} {clip(sub['template_version'], 20)}"
            title += f", {clip(sub['company_name'], MAX_NAME)})" if sub.get("company_name") else ")"
        if f.get("origin"):
            title += f", from {clip(f['origin'], MAX_NAME)}"
        blocks.append(
            {
                "title": title,
                "verdict": verdict(sub, findings),
                "sections": [
                    (label, [x for x in findings if x.severity == sev]) for sev, label in SECTIONS
                ],
                "infos": sum(1 for x in findings if x.severity == "info"),
            }
        )
    return blocks


def _where(f: Finding) -> str:
    return clip(f"{f.sheet}!{f.cell}" if f.cell else (f.sheet or "file"), 60)


def render_screening_reply(payload: dict[str, Any], store: Store) -> tuple[str, str]:
    blocks = _file_blocks(payload, store)
    lines = [
        "Hello,",
        "",
        f"thank you for your declaration. We screened {len(blocks)} file(s).",
        "",
    ]
    parts = [
        "<p>Hello,</p>",
        f"<p>thank you for your declaration. We screened {len(blocks)} file(s).</p>",
    ]
    budget = {"text": MAX_LISTING, "html": MAX_LISTING}
    for b in blocks:
        lines += [b["title"], f"  {b['verdict']}"]
        parts += [
            f"<h3>{html.escape(b['title'])}</h3>",
            f"<p><b>{html.escape(b['verdict'])}</b></p>",
        ]
        for label, items in b["sections"]:
            if not items:
                continue
            lines += ["", f"  {label} ({len(items)}):"]
            parts += [
                f"<p>{html.escape(label)} ({len(items)}):</p>",
                "<table border='1' cellpadding='4' cellspacing='0'><tr><th>Where</th><th>What</th><th>Code</th></tr>",
            ]
            for i, f in enumerate(items):
                where, what, code = _where(f), clip(f.message, MAX_MESSAGE), clip(f.code, 40)
                line = f"   - {where}: {what} [{code}]"
                row = f"<tr><td>{html.escape(where)}</td><td>{html.escape(what)}</td><td>{html.escape(code)}</td></tr>"
                if len(line) > budget["text"] or len(row) > budget["html"]:
                    more = f"…and {len(items) - i} more, not listed to keep this message short."
                    lines.append(f"   {more}")
                    parts.append(f"<tr><td colspan='3'>{html.escape(more)}</td></tr>")
                    break
                budget["text"] -= len(line) + 1
                budget["html"] -= len(row) + 1
                lines.append(line)
                parts.append(row)
            parts.append("</table>")
        if b["infos"]:
            lines.append(f"  ({b['infos']} informational note(s) for our records are not listed.)")
        lines.append("")
    notes = collapse_notes(payload.get("notes") or [])
    if notes:
        lines += ["Also:"] + [f" - {n}" for n in notes] + [""]
        parts += ["<p>Also:</p><ul>"] + [f"<li>{html.escape(n)}</li>" for n in notes] + ["</ul>"]
    lines += ["--", FOOTER]
    parts += ["<hr>", f"<p><small>{html.escape(FOOTER)}</small></p>"]
    return "\n".join(lines) + "\n", "\n".join(parts)


def render_no_template(payload: dict[str, Any]) -> tuple[str, str]:
    notes = collapse_notes(payload.get("notes") or [])
    text = [
        "Hello,",
        "",
        "thank you for your message. We found no reporting template attached to it, so there was nothing to screen.",
        f"Please reply with {CURRENT_TEMPLATES} attached as an .xlsx file (a .zip of several templates is fine too).",
        "",
    ]
    if notes:
        text += ["What we found:"] + [f" - {n}" for n in notes] + [""]
    text += ["--", FOOTER]
    body = "\n".join(text) + "\n"
    return body, "".join(f"<p>{html.escape(line)}</p>" for line in text if line)


def render_grievance_ack(payload: dict[str, Any]) -> tuple[str, str]:
    case_id, token, respond_by = payload["case_id"], payload["token"], payload.get("respond_by", "")
    if payload.get("kind") == "grievance-follow-up":
        text = [
            "Hello,",
            "",
            f"your message has been added to case {case_id}. The grievance officer will take it into account.",
            f"You can expect an answer by {respond_by}.",
        ]
    else:
        text = [
            "Hello,",
            "",
            f"we have received your report. Its case number is {case_id}.",
            "",
            "What happens next: our grievance officer reviews every report within 5 working days, investigates it "
            "and decides on action with the companies concerned. Your identity is not shared with anyone: staff "
            "see only the case number and what you wrote.",
            f"You will hear from us by {respond_by}.",
            "",
            f"To add information or ask about your case, reply to this e-mail and keep {case_id} and [ref:{token}] in the subject.",
        ]
    text += [
        "",
        "--",
        "Grievance mechanism (OECD Due Diligence Guidance, step 1). This is an automatic acknowledgement.",
    ]
    return "\n".join(text) + "\n", "".join(f"<p>{html.escape(line)}</p>" for line in text if line)
