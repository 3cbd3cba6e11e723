"""E-mail replies a busy supplier acts on in one pass, as plain text and designed HTML.

Per file: the result in one sentence, a summary of counts, what to fix first, then the
findings grouped by what to do (correct, check, for our team) and within each by smelter,
one line per smelter with all its issues (:mod:`program.digest`). Supply-chain risks are
summarised with counts and names. A resubmission opens with what changed since the
supplier's previous file. The reply speaks to the supplier in plain words; finding codes
appear only in the footer. Each kind of reply (screened, unreadable, no template,
resubmission) has its own closing lines, and every reply is signed with the configured
contact (``[mail] signature``).

Everything from outside (file names, company names, finding messages quoting cells, notes)
is cut to a sane length and HTML-escaped in the HTML part; repeated notes collapse into one
line with a count; and a reply stays bounded (``MAX_ITEMS`` lines per section, then a line
saying how many more there are and where they are), whatever the workbooks hold. The HTML
uses tables and inline styles only, which Outlook and Gmail both keep.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from plugins.checks import DEFAULT_CURRENT_VERSIONS
from plugins.models import Declaration, Finding
from program.digest import Item, fix_first, group_items, risk_summary
from storage.store import Store

MAX_NAME = 200  # a file name, a company name, where a file came from
MAX_MESSAGE = 500  # a finding message or a note
MAX_NOTES = 50  # distinct notes listed; the rest are counted
MAX_ITEMS = 15  # lines per section of one file (the workbook's first sheet lists them all)
MAX_FIRST = 5  # "fix these first"
MAX_CHANGES = 5  # fixed / new findings listed for a resubmission
FOOTER = "This is an automatic reply from Assay, our conflict-minerals screening service."
DEFAULT_SIGNATURE = "The compliance team"

#: Section headings and the one sentence that says what to do, per severity.
SECTIONS = (
    ("error", "Please correct", "These make the declaration incomplete."),
    (
        "warning",
        "Please check",
        "No need to resend for these alone; please improve them next time.",
    ),
    (
        "risk",
        "For our compliance team",
        "Supply-chain risks we follow up with you. No change is needed unless an entry is wrong.",
    ),
)
#: Colours per severity: text, background, border (AA contrast on white and on the tint).
COLOURS = {
    "error": ("#9b1c1c", "#fdecea", "#d93025"),
    "warning": ("#7a4f01", "#fff4e0", "#e8a317"),
    "risk": ("#5b2a86", "#f3ecfa", "#8e59c4"),
    "ok": ("#14532d", "#e7f5ec", "#2e7d4f"),
    "none": ("#555555", "#f4f5f7", "#c8ccd2"),
}
FONT = "font-family:Arial,Helvetica,sans-serif;"


@dataclass(frozen=True)
class ReplyStyle:
    """How replies are signed (``[mail] signature``, ``[mail] reply_from``)."""

    signature: str = DEFAULT_SIGNATURE
    contact: str = ""  # the address suppliers can write to; shown under the signature
    # [screening.current_versions]: the templates a reply asks for
    current_versions: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_CURRENT_VERSIONS)
    )

    def current_templates(self) -> str:
        v = self.current_versions
        return (
            f"the current CMRT (Revision {v.get('CMRT', '')}) for tin, tantalum, tungsten and "
            f"gold, or the EMRT (Revision {v.get('EMRT', '')}) for cobalt, mica and other minerals"
        )

    def lines(self) -> list[str]:
        sig = [clip(line, MAX_NAME) for line in self.signature.splitlines() if line.strip()]
        return [
            *(sig or [DEFAULT_SIGNATURE]),
            *([clip(self.contact, MAX_NAME)] if self.contact else []),
        ]


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


@dataclass(frozen=True)
class FileView:
    """One file of a reply, ready to print."""

    title: str
    readable: bool
    verdict: str
    summary: str
    items: tuple[Item, ...] = ()
    first: tuple[Item, ...] = ()
    risks: tuple[str, ...] = ()
    problem: str = ""  # why an unreadable file could not be read
    compared: str = ""  # "Compared with your file of …: N fixed, M still open, K new."
    fixed: tuple[Item, ...] = ()
    new: tuple[Item, ...] = ()
    attachment: str = ""  # name of the marked-up copy attached, if any
    codes: tuple[str, ...] = field(default=())


def verdict(readable: bool, items: Sequence[Item]) -> str:
    if not readable:
        return "We could not open this file, so nothing in it was checked yet."
    n = sum(1 for i in items if i.severity == "error")
    if n:
        return (
            f"Incomplete: please correct {n} point{'s' if n > 1 else ''} and send the file again."
        )
    if any(i.severity in ("risk", "warning") for i in items):
        return "Accepted, with remarks."
    return "Accepted. Thank you: we found nothing to correct."


def _summary(items: Sequence[Item], findings: Sequence[Finding]) -> str:
    n = Counter(i.severity for i in items)
    smelters = {i.subject for i in items if i.severity == "risk" and i.rows}
    parts = [
        f"{n['error']} to correct",
        f"{n['warning']} to check",
        f"{sum(1 for f in findings if f.severity == 'risk')} supply-chain risk(s)"
        + (f" on {len(smelters)} smelter(s)" if smelters else ""),
    ]
    return " · ".join(parts)


def _declaration(sub: dict[str, Any] | None) -> Declaration | None:
    raw = (sub or {}).get("declaration_json")
    return Declaration.from_dict(json.loads(raw)) if raw else None


def _file_view(f: dict[str, Any], store: Store, attached: dict[str, str]) -> FileView:
    sub = store.submission(f["sha256"])
    findings = store.findings(f["sha256"])
    title = clip(f["filename"], MAX_NAME)
    if sub and sub.get("template_type"):
        title += f" ({clip(sub['template_type'], 20)} {clip(sub['template_version'], 20)}"
        title += f", {clip(sub['company_name'], MAX_NAME)})" if sub.get("company_name") else ")"
    if f.get("origin"):
        title += f", from {clip(f['origin'], MAX_NAME)}"
    readable = bool(sub and sub.get("readable"))
    codes = tuple(sorted({x.code for x in findings if x.severity != "info"}))
    if not readable:
        problem = next((clip(x.message, MAX_MESSAGE) for x in findings), "")
        return FileView(title, False, verdict(False, ()), "", problem=problem, codes=codes)
    decl = _declaration(sub)
    items = tuple(group_items(findings, decl))
    compared, fixed, new = _comparison(f.get("previous"), store, decl, findings)
    return FileView(
        title=title,
        readable=True,
        verdict=verdict(True, items),
        summary=_summary(items, findings),
        items=items,
        first=tuple(fix_first(items, MAX_FIRST)),
        risks=tuple(clip(r, MAX_MESSAGE) for r in risk_summary(findings, decl)),
        compared=compared,
        fixed=fixed,
        new=new,
        attachment=clip(attached.get(f["sha256"], ""), MAX_NAME),
        codes=codes,
    )


def _comparison(
    previous: Any, store: Store, decl: Declaration | None, findings: Sequence[Finding]
) -> tuple[str, tuple[Item, ...], tuple[Item, ...]]:
    """The resubmission headline and what was fixed and what is new since ``previous``."""
    if not isinstance(previous, dict) or not previous.get("sha256"):
        return "", (), ()
    from program.diff import compare

    old_sub = store.submission(str(previous["sha256"]))
    if old_sub is None:
        return "", (), ()
    old_decl = _declaration(old_sub)
    cmp = compare(old_decl, store.findings(old_sub["sha256"]), decl, findings)
    try:
        when = dt.date.fromisoformat(str(previous.get("date") or old_sub["first_seen"])[:10])
    except ValueError:
        return "", (), ()
    return (
        cmp.headline(when),
        tuple(group_items(cmp.fixed, old_decl)),
        tuple(group_items(cmp.new, decl)),
    )


def _line(item: Item) -> str:
    """One item on one line: where (and what) it is, then what is wrong."""
    if item.rows:
        where = f"{item.subject}, {item.where.replace('Smelter List ', '')}"
    else:
        named = item.subject and not item.text.startswith(item.subject)
        where = item.where + (f" ({item.subject})" if named else "")
    return clip(f"{where}: {item.text}", MAX_MESSAGE + MAX_NAME)


def _closing(views: Sequence[FileView], resubmission: bool) -> list[str]:
    lines = ["Thank you for sending a corrected file."] if resubmission else []
    if views and not any(v.readable for v in views):
        return [
            *lines,
            "Please open the file in Excel, save it again as an .xlsx workbook (File > Save As), "
            "and reply to this e-mail with it attached. If it is password-protected, remove the "
            "password first.",
        ]
    if any(any(i.severity == "error" for i in v.items) for v in views) or any(
        not v.readable for v in views
    ):
        return [
            *lines,
            "Please correct the points above in your file and reply to this e-mail with the "
            "corrected file attached. You need not send anything else.",
        ]
    if any(v.items for v in views):
        return [
            *lines,
            "Your declaration is accepted; there is no need to resend it. Please take the "
            "remarks above into account in your next declaration.",
        ]
    return [*lines, "Your declaration is accepted. There is nothing more you need to do."]


def render_screening_reply(
    payload: dict[str, Any],
    store: Store,
    style: ReplyStyle | None = None,
    attached: dict[str, str] | None = None,
) -> tuple[str, str]:
    """The reply to a supplier's message with templates: (plain text, HTML).

    ``attached`` maps a file's sha256 to the name of its marked-up copy attached to the
    same e-mail; the reply then points at it.
    """
    style = style or ReplyStyle()
    views = [_file_view(f, store, attached or {}) for f in payload.get("files", [])]
    resubmission = any(v.compared for v in views)
    notes = collapse_notes(payload.get("notes") or [])
    closing = _closing(views, resubmission)
    codes = sorted({c for v in views for c in v.codes})
    return (
        _text(views, notes, closing, codes, style),
        _html(views, notes, closing, codes, style),
    )


def _intro(views: Sequence[FileView]) -> str:
    if len(views) == 1:
        return "Thank you for your declaration. Here is what we found."
    return f"Thank you for your declarations. We checked {len(views)} files; here is what we found in each."


def _text(
    views: Sequence[FileView],
    notes: Sequence[str],
    closing: Sequence[str],
    codes: Sequence[str],
    style: ReplyStyle,
) -> str:
    out = ["Hello,", "", _intro(views), ""]
    for v in views:
        out += [f"== {v.title} ==", v.verdict]
        if not v.readable:
            out += [f"Why: {v.problem}" if v.problem else "", ""]
            continue
        if v.compared:
            out.append(v.compared)
        out += [f"In short: {v.summary}", ""]
        if _many_errors(v):
            out.append("Fix these first:")
            out += [f"  {n}. {_line(i)}" for n, i in enumerate(v.first, 1)]
            out.append("")
        for severity, heading, advice in SECTIONS:
            items = [i for i in v.items if i.severity == severity]
            if not items:
                continue
            count = "" if severity == "risk" else f" ({len(items)})"
            out.append(f"{heading.upper()}{count}: {advice}")
            if severity == "risk":
                out += [f"  - {r}" for r in v.risks[:MAX_ITEMS]]
                if len(v.risks) > MAX_ITEMS:
                    out.append(f"  …and {len(v.risks) - MAX_ITEMS} more{_where_rest(v)}.")
            else:
                out += [f"  - {_line(i)}" for i in items[:MAX_ITEMS]]
                if len(items) > MAX_ITEMS:
                    out.append(f"  …and {len(items) - MAX_ITEMS} more{_where_rest(v)}.")
            out.append("")
        if v.fixed or v.new:
            out.append("SINCE YOUR LAST FILE:")
            out += [f"  fixed: {_line(i)}" for i in v.fixed[:MAX_CHANGES]]
            if len(v.fixed) > MAX_CHANGES:
                out.append(f"  …and {len(v.fixed) - MAX_CHANGES} more fixed.")
            out += [f"  new: {_line(i)}" for i in v.new[:MAX_CHANGES]]
            if len(v.new) > MAX_CHANGES:
                out.append(f"  …and {len(v.new) - MAX_CHANGES} more new.")
            out.append("")
        if v.attachment:
            out += [
                f'Attached: "{v.attachment}", your workbook with every cell above marked; its '
                "first sheet lists them with links.",
                "",
            ]
    if notes:
        out += ["Also:"] + [f"  - {n}" for n in notes] + [""]
    out += [*closing, "", "Kind regards,", *style.lines(), "", "--", FOOTER]
    if codes:
        out.append(clip("Reference codes: " + ", ".join(codes), 600))
    return "\n".join(line for i, line in enumerate(out) if line or (i and out[i - 1])) + "\n"


def _many_errors(v: FileView) -> bool:
    """ "Fix these first" only when the list of corrections is longer than the short list."""
    return sum(1 for i in v.items if i.severity == "error") > MAX_FIRST


def _where_rest(v: FileView) -> str:
    return (
        ", all listed on the first sheet of the attached workbook"
        if v.attachment
        else ", not listed here to keep this message short (ask us for the full list)"
    )


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _badge(severity: str, text: str, n: int) -> str:
    fg, bg, border = COLOURS[severity] if n else COLOURS["none"]
    return (
        f'<span style="{FONT}display:inline-block;padding:2px 8px;margin:0 6px 4px 0;'
        f"border-radius:10px;background:{bg};color:{fg};border:1px solid {border};"
        f'font-size:13px;font-weight:bold;">{_e(text)}</span>'
    )


def _html_items(items: Sequence[Item], severity: str, rest: str) -> str:
    border = COLOURS[severity][2]
    rows = []
    for i in items[:MAX_ITEMS]:
        label = (
            f'{_e(i.subject)}<br><span style="color:#555;font-weight:normal;">{_e(i.where)}</span>'
            if i.rows
            else _e(i.where) + (f" ({_e(i.subject)})" if i.subject else "")
        )
        rows.append(
            f'<tr><td valign="top" style="{FONT}font-size:13px;font-weight:bold;color:#222;'
            f'padding:6px 8px;border-bottom:1px solid #eee;width:38%;">{label}</td>'
            f'<td valign="top" style="{FONT}font-size:14px;color:#222;padding:6px 8px;'
            f'border-bottom:1px solid #eee;">{_e(i.text)}</td></tr>'
        )
    if len(items) > MAX_ITEMS:
        rows.append(
            f'<tr><td colspan="2" style="{FONT}font-size:13px;color:#555;padding:6px 8px;">'
            f"…and {len(items) - MAX_ITEMS} more{_e(rest)}.</td></tr>"
        )
    return (
        f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        f'style="border-collapse:collapse;border-left:4px solid {border};background:#ffffff;">'
        + "".join(rows)
        + "</table>"
    )


def _html(
    views: Sequence[FileView],
    notes: Sequence[str],
    closing: Sequence[str],
    codes: Sequence[str],
    style: ReplyStyle,
) -> str:
    p = f'style="{FONT}font-size:15px;line-height:1.5;color:#222;margin:0 0 12px 0;"'
    body = [f"<p {p}>Hello,</p>", f"<p {p}>{_e(_intro(views))}</p>"]
    for v in views:
        state = "error" if not v.readable or any(i.severity == "error" for i in v.items) else "ok"
        fg, bg, border = COLOURS[state]
        box = [
            f'<div style="{FONT}font-size:17px;font-weight:bold;color:#111;margin-bottom:4px;">{_e(v.title)}</div>',
            f'<div style="{FONT}font-size:15px;font-weight:bold;color:{fg};margin-bottom:8px;">{_e(v.verdict)}</div>',
        ]
        if v.compared:
            box.append(
                f'<div style="{FONT}font-size:14px;color:#222;margin-bottom:8px;">{_e(v.compared)}</div>'
            )
        if v.readable:
            n = Counter(i.severity for i in v.items)
            box.append(
                _badge("error", f"{n['error']} to correct", n["error"])
                + _badge("warning", f"{n['warning']} to check", n["warning"])
                + _badge("risk", v.summary.split(" · ")[-1], n["risk"])
            )
        elif v.problem:
            box.append(f'<div style="{FONT}font-size:14px;color:#222;">{_e(v.problem)}</div>')
        body.append(
            f'<table role="presentation" width="100%" cellpadding="14" cellspacing="0" border="0" '
            f'style="background:{bg};border:1px solid {border};border-radius:6px;margin:0 0 16px 0;">'
            f"<tr><td>{''.join(box)}</td></tr></table>"
        )
        if not v.readable:
            continue
        if _many_errors(v):
            body.append(
                f'<p {p}><b>Fix these first</b></p><ol style="{FONT}font-size:14px;color:#222;margin:0 0 16px 0;padding-left:22px;">'
            )
            body += [f'<li style="margin-bottom:4px;">{_e(_line(i))}</li>' for i in v.first]
            body.append("</ol>")
        for severity, heading, advice in SECTIONS:
            items = [i for i in v.items if i.severity == severity]
            if not items:
                continue
            fg, _bg, _border = COLOURS[severity]
            body.append(
                f'<p style="{FONT}font-size:16px;font-weight:bold;color:{fg};margin:18px 0 2px 0;">'
                f"{_e(heading)}{'' if severity == 'risk' else f' ({len(items)})'}</p>"
                f'<p style="{FONT}font-size:13px;color:#555;margin:0 0 8px 0;">{_e(advice)}</p>'
            )
            if severity == "risk":
                body.append(
                    f'<ul style="{FONT}font-size:14px;color:#222;margin:0 0 12px 0;padding-left:22px;">'
                )
                body += [
                    f'<li style="margin-bottom:4px;">{_e(r)}</li>' for r in v.risks[:MAX_ITEMS]
                ]
                if len(v.risks) > MAX_ITEMS:
                    more = f"…and {len(v.risks) - MAX_ITEMS} more{_where_rest(v)}."
                    body.append(f'<li style="margin-bottom:4px;">{_e(more)}</li>')
                body.append("</ul>")
            else:
                body.append(_html_items(items, severity, _where_rest(v)))
        if v.fixed or v.new:
            body.append(
                f'<p style="{FONT}font-size:16px;font-weight:bold;color:#222;margin:18px 0 6px 0;">Since your last file</p><ul style="{FONT}font-size:14px;color:#222;padding-left:22px;">'
            )
            body += [
                f'<li><span style="color:{COLOURS["ok"][0]};font-weight:bold;">Fixed:</span> {_e(_line(i))}</li>'
                for i in v.fixed[:MAX_CHANGES]
            ]
            body += [
                f'<li><span style="color:{COLOURS["error"][0]};font-weight:bold;">New:</span> {_e(_line(i))}</li>'
                for i in v.new[:MAX_CHANGES]
            ]
            body.append("</ul>")
        if v.attachment:
            body.append(
                f"<p {p}>Attached: <b>{_e(v.attachment)}</b>, your workbook with every cell above "
                "marked; its first sheet lists them with links.</p>"
            )
    if notes:
        body.append(f'<p {p}>Also:</p><ul style="{FONT}font-size:14px;color:#222;">')
        body += [f"<li>{_e(n)}</li>" for n in notes]
        body.append("</ul>")
    body += [f"<p {p}>{_e(line)}</p>" for line in closing]
    body.append(f"<p {p}>Kind regards,<br>" + "<br>".join(_e(x) for x in style.lines()) + "</p>")
    small = f'style="{FONT}font-size:12px;color:#777;margin:0 0 4px 0;"'
    body.append('<hr style="border:none;border-top:1px solid #ddd;margin:20px 0 10px 0;">')
    body.append(f"<p {small}>{_e(FOOTER)}</p>")
    if codes:
        body.append(f"<p {small}>{_e(clip('Reference codes: ' + ', '.join(codes), 600))}</p>")
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        '<body style="margin:0;padding:0;background:#f4f5f7;">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f4f5f7;"><tr><td align="center" style="padding:20px 10px;">'
        '<table role="presentation" width="640" cellpadding="0" cellspacing="0" border="0" style="max-width:640px;width:100%;background:#ffffff;border:1px solid #e2e4e8;border-radius:6px;"><tr><td style="padding:24px 28px;">'
        + "\n".join(body)
        + "</td></tr></table></td></tr></table></body></html>"
    )


def render_no_template(payload: dict[str, Any], style: ReplyStyle | None = None) -> tuple[str, str]:
    style = style or ReplyStyle()
    notes = collapse_notes(payload.get("notes") or [])
    text = [
        "Hello,",
        "",
        "thank you for your message. We found no reporting template attached to it, so there was nothing to check.",
        f"Please reply to this e-mail with {style.current_templates()} attached as an .xlsx file (a .zip of several templates is fine too).",
        "",
    ]
    if notes:
        text += ["What we found:"] + [f" - {n}" for n in notes] + [""]
    text += [
        "You can download the templates from the Responsible Minerals Initiative's website. "
        "You need not write anything in the e-mail itself: the file is enough.",
        "",
        "Kind regards,",
        *style.lines(),
        "",
        "--",
        FOOTER,
    ]
    body = "\n".join(text) + "\n"
    p = f'style="{FONT}font-size:15px;line-height:1.5;color:#222;margin:0 0 12px 0;"'
    return body, "".join(f"<p {p}>{_e(line)}</p>" for line in text if line)


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
