"""The HTML part of a screening reply: the views of :mod:`bot.reply_view`, designed.

Tables and inline styles only, which Outlook and Gmail both keep; everything from outside
is HTML-escaped.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence

from program.digest import Item

from .reply_view import (
    FOOTER,
    MAX_CHANGES,
    MAX_ITEMS,
    SECTIONS,
    FileView,
    ReplyStyle,
    clip,
    intro,
    line,
    many_errors,
    where_rest,
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


def escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def _badge(severity: str, text: str, n: int) -> str:
    fg, bg, border = COLOURS[severity] if n else COLOURS["none"]
    return (
        f'<span style="{FONT}display:inline-block;padding:2px 8px;margin:0 6px 4px 0;'
        f"border-radius:10px;background:{bg};color:{fg};border:1px solid {border};"
        f'font-size:13px;font-weight:bold;">{escape(text)}</span>'
    )


def _html_items(items: Sequence[Item], severity: str, rest: str) -> str:
    border = COLOURS[severity][2]
    rows = []
    for i in items[:MAX_ITEMS]:
        label = (
            f'{escape(i.subject)}<br><span style="color:#555;font-weight:normal;">{escape(i.where)}</span>'
            if i.rows
            else escape(i.where) + (f" ({escape(i.subject)})" if i.subject else "")
        )
        rows.append(
            f'<tr><td valign="top" style="{FONT}font-size:13px;font-weight:bold;color:#222;'
            f'padding:6px 8px;border-bottom:1px solid #eee;width:38%;">{label}</td>'
            f'<td valign="top" style="{FONT}font-size:14px;color:#222;padding:6px 8px;'
            f'border-bottom:1px solid #eee;">{escape(i.text)}</td></tr>'
        )
    if len(items) > MAX_ITEMS:
        rows.append(
            f'<tr><td colspan="2" style="{FONT}font-size:13px;color:#555;padding:6px 8px;">'
            f"…and {len(items) - MAX_ITEMS} more{escape(rest)}.</td></tr>"
        )
    return (
        f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        f'style="border-collapse:collapse;border-left:4px solid {border};background:#ffffff;">'
        + "".join(rows)
        + "</table>"
    )


def screening_html(
    views: Sequence[FileView],
    notes: Sequence[str],
    closing: Sequence[str],
    codes: Sequence[str],
    style: ReplyStyle,
) -> str:
    p = f'style="{FONT}font-size:15px;line-height:1.5;color:#222;margin:0 0 12px 0;"'
    body = [f"<p {p}>Hello,</p>", f"<p {p}>{escape(intro(views))}</p>"]
    for v in views:
        state = "error" if not v.readable or any(i.severity == "error" for i in v.items) else "ok"
        fg, bg, border = COLOURS[state]
        box = [
            f'<div style="{FONT}font-size:17px;font-weight:bold;color:#111;margin-bottom:4px;">{escape(v.title)}</div>',
            f'<div style="{FONT}font-size:15px;font-weight:bold;color:{fg};margin-bottom:8px;">{escape(v.verdict)}</div>',
        ]
        if v.compared:
            box.append(
                f'<div style="{FONT}font-size:14px;color:#222;margin-bottom:8px;">{escape(v.compared)}</div>'
            )
        if v.readable:
            n = Counter(i.severity for i in v.items)
            box.append(
                _badge("error", f"{n['error']} to correct", n["error"])
                + _badge("warning", f"{n['warning']} to check", n["warning"])
                + _badge("risk", v.summary.split(" · ")[-1], n["risk"])
            )
        elif v.problem:
            box.append(f'<div style="{FONT}font-size:14px;color:#222;">{escape(v.problem)}</div>')
        body.append(
            f'<table role="presentation" width="100%" cellpadding="14" cellspacing="0" border="0" '
            f'style="background:{bg};border:1px solid {border};border-radius:6px;margin:0 0 16px 0;">'
            f"<tr><td>{''.join(box)}</td></tr></table>"
        )
        if not v.readable:
            continue
        if many_errors(v):
            body.append(
                f'<p {p}><b>Fix these first</b></p><ol style="{FONT}font-size:14px;color:#222;margin:0 0 16px 0;padding-left:22px;">'
            )
            body += [f'<li style="margin-bottom:4px;">{escape(line(i))}</li>' for i in v.first]
            body.append("</ol>")
        for severity, heading, advice in SECTIONS:
            items = [i for i in v.items if i.severity == severity]
            if not items:
                continue
            fg, _bg, _border = COLOURS[severity]
            body.append(
                f'<p style="{FONT}font-size:16px;font-weight:bold;color:{fg};margin:18px 0 2px 0;">'
                f"{escape(heading)}{'' if severity == 'risk' else f' ({len(items)})'}</p>"
                f'<p style="{FONT}font-size:13px;color:#555;margin:0 0 8px 0;">{escape(advice)}</p>'
            )
            if severity == "risk":
                body.append(
                    f'<ul style="{FONT}font-size:14px;color:#222;margin:0 0 12px 0;padding-left:22px;">'
                )
                body += [
                    f'<li style="margin-bottom:4px;">{escape(r)}</li>' for r in v.risks[:MAX_ITEMS]
                ]
                if len(v.risks) > MAX_ITEMS:
                    more = f"…and {len(v.risks) - MAX_ITEMS} more{where_rest(v)}."
                    body.append(f'<li style="margin-bottom:4px;">{escape(more)}</li>')
                body.append("</ul>")
            else:
                body.append(_html_items(items, severity, where_rest(v)))
        if v.fixed or v.new:
            body.append(
                f'<p style="{FONT}font-size:16px;font-weight:bold;color:#222;margin:18px 0 6px 0;">Since your last file</p><ul style="{FONT}font-size:14px;color:#222;padding-left:22px;">'
            )
            body += [
                f'<li><span style="color:{COLOURS["ok"][0]};font-weight:bold;">Fixed:</span> {escape(line(i))}</li>'
                for i in v.fixed[:MAX_CHANGES]
            ]
            body += [
                f'<li><span style="color:{COLOURS["error"][0]};font-weight:bold;">New:</span> {escape(line(i))}</li>'
                for i in v.new[:MAX_CHANGES]
            ]
            body.append("</ul>")
        if v.attachment:
            body.append(
                f"<p {p}>Attached: <b>{escape(v.attachment)}</b>, your workbook with every cell above "
                "marked; its first sheet lists them with links.</p>"
            )
    if notes:
        body.append(f'<p {p}>Also:</p><ul style="{FONT}font-size:14px;color:#222;">')
        body += [f"<li>{escape(n)}</li>" for n in notes]
        body.append("</ul>")
    body += [f"<p {p}>{escape(line)}</p>" for line in closing]
    body.append(
        f"<p {p}>Kind regards,<br>" + "<br>".join(escape(x) for x in style.lines()) + "</p>"
    )
    small = f'style="{FONT}font-size:12px;color:#777;margin:0 0 4px 0;"'
    body.append('<hr style="border:none;border-top:1px solid #ddd;margin:20px 0 10px 0;">')
    body.append(f"<p {small}>{escape(FOOTER)}</p>")
    if codes:
        body.append(f"<p {small}>{escape(clip('Reference codes: ' + ', '.join(codes), 600))}</p>")
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        '<body style="margin:0;padding:0;background:#f4f5f7;">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f4f5f7;"><tr><td align="center" style="padding:20px 10px;">'
        '<table role="presentation" width="640" cellpadding="0" cellspacing="0" border="0" style="max-width:640px;width:100%;background:#ffffff;border:1px solid #e2e4e8;border-radius:6px;"><tr><td style="padding:24px 28px;">'
        + "\n".join(body)
        + "</td></tr></table></td></tr></table></body></html>"
    )
