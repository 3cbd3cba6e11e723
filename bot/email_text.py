"""The plain-text part of a screening reply: the views of :mod:`bot.reply_view`, printed.

Plain text stays as written (it is not markup); every line is already bounded by the views.
"""

from __future__ import annotations

from collections.abc import Sequence

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


def screening_text(
    views: Sequence[FileView],
    notes: Sequence[str],
    closing: Sequence[str],
    codes: Sequence[str],
    style: ReplyStyle,
) -> str:
    out = ["Hello,", "", intro(views), ""]
    for v in views:
        out += [f"== {v.title} ==", v.verdict]
        if not v.readable:
            out += [f"Why: {v.problem}" if v.problem else "", ""]
            continue
        if v.compared:
            out.append(v.compared)
        out += [f"In short: {v.summary}", ""]
        if many_errors(v):
            out.append("Fix these first:")
            out += [f"  {n}. {line(i)}" for n, i in enumerate(v.first, 1)]
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
                    out.append(f"  …and {len(v.risks) - MAX_ITEMS} more{where_rest(v)}.")
            else:
                out += [f"  - {line(i)}" for i in items[:MAX_ITEMS]]
                if len(items) > MAX_ITEMS:
                    out.append(f"  …and {len(items) - MAX_ITEMS} more{where_rest(v)}.")
            out.append("")
        if v.fixed or v.new:
            out.append("SINCE YOUR LAST FILE:")
            out += [f"  fixed: {line(i)}" for i in v.fixed[:MAX_CHANGES]]
            if len(v.fixed) > MAX_CHANGES:
                out.append(f"  …and {len(v.fixed) - MAX_CHANGES} more fixed.")
            out += [f"  new: {line(i)}" for i in v.new[:MAX_CHANGES]]
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
    return "\n".join(text for i, text in enumerate(out) if text or (i and out[i - 1])) + "\n"
