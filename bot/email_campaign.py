"""A campaign's e-mails: the request, the reminder and the owner's escalation, as text and HTML.

The request says what a supplier has to do and nothing else: which template and version, for
which company, by when, where to download the template, and that replying to this e-mail with
the file attached is all it takes (no portal, no form). A reminder says only what is still
missing, threaded on the request (the mailer sets the headers). The escalation goes to the
supplier's owner inside the company: which supplier, which campaign, the deadline, the status,
how many reminders went out and what is missing.

Every renderer is a pure function of its payload and the signature (``[mail] signature``).
Names and the "missing" sentences come from outside (a registry, a supplier's file): each is
cut to one line of sane length, and HTML-escaped in the HTML part; a subject goes through
:func:`bot.mail_transport.header_text`, so a line break in a name cannot add a header.
"""

from __future__ import annotations

from collections.abc import Sequence

from program.outbox import CampaignReminder, CampaignRequest, OwnerEscalation

from .email_html import FONT, escape
from .mail_transport import header_text
from .reply_view import MAX_MESSAGE, MAX_NAME, ReplyStyle, clip

RMI_TEMPLATES = "https://www.responsiblemineralsinitiative.org/reporting-templates/"
TEMPLATE_NAMES = {
    "CMRT": "Conflict Minerals Reporting Template",
    "EMRT": "Extended Minerals Reporting Template",
    "CRT": "Cobalt Reporting Template",
    "AMRT": "Additional Minerals Reporting Template",
}
MAX_MISSING = 20  # "still missing" lines listed; the rest are counted
FOOTER = (
    "This is an automatic message from Assay, our conflict-minerals screening service. "
    "Replies to it reach our compliance team."
)
INTERNAL_FOOTER = "Sent by Assay, the conflict-minerals screening service."

#: A body is a list of blocks: a paragraph (text) or a bulleted list (a tuple of lines).
Block = str | tuple[str, ...]


def template_name(family: str) -> str:
    """ "CMRT (Conflict Minerals Reporting Template)"; an unknown family: "XYZ template"."""
    fam = clip(family, 20)
    name = TEMPLATE_NAMES.get(fam.upper())
    return f"{fam} ({name})" if name else f"{fam} template"


def version_words(version: str) -> str:
    """ "version 6.5 or later"; no version asked for: "its latest version"."""
    ver = clip(version, 20)
    return f"version {ver} or later" if ver else "its latest version"


def request_subject(req: CampaignRequest | CampaignReminder) -> str:
    """ "CMRT request: 2026 CMRT (reply by 2026-12-01)"; a reminder's starts with "Re: "."""
    subject = (
        f"{header_text(req.family, 20)} request: {header_text(req.campaign, 80)} "
        f"(reply by {header_text(req.deadline, 20)})"
    )
    return header_text(("Re: " if isinstance(req, CampaignReminder) else "") + subject)


def escalation_subject(esc: OwnerEscalation) -> str:
    return header_text(
        f"Escalation: {header_text(esc.supplier, 80)} has not completed "
        f"{header_text(esc.campaign, 80)} (deadline {header_text(esc.deadline, 20)})"
    )


def _missing(items: Sequence[str]) -> tuple[str, ...]:
    lines = [clip(m, MAX_MESSAGE) for m in items if str(m).strip()]
    if len(lines) > MAX_MISSING:
        rest = len(lines) - MAX_MISSING + 1
        lines = [*lines[: MAX_MISSING - 1], f"…and {rest} more."]
    return tuple(lines)


def render_campaign_request(
    req: CampaignRequest, style: ReplyStyle | None = None
) -> tuple[str, str]:
    """The request to one supplier: (plain text, HTML)."""
    style = style or ReplyStyle()
    supplier, campaign = clip(req.supplier, MAX_NAME), clip(req.campaign, MAX_NAME)
    deadline = clip(req.deadline, 20)
    name, version = template_name(req.family), version_words(req.version)
    blocks: list[Block] = [
        "Hello,",
        f"for our conflict-minerals survey “{campaign}”, please send us the completed {name} "
        f"of {supplier} by {deadline}, in {version}.",
        (
            f"Template: {name}, {version}",
            f"Company: {supplier}",
            f"Reply by: {deadline}",
        ),
        f"You can download the template from the Responsible Minerals Initiative: {RMI_TEMPLATES}",
        "You only need to reply to this e-mail with the completed file attached (the .xlsx "
        "file as it is; a .zip of several templates is fine too). There is no portal to log "
        "in to, and nothing to write in the e-mail itself. We check the file as soon as it "
        "arrives and tell you by return e-mail whether anything needs correcting.",
    ]
    return _render(blocks, style, FOOTER)


def render_campaign_reminder(
    rem: CampaignReminder, style: ReplyStyle | None = None
) -> tuple[str, str]:
    """A reminder: only what is still missing (plain text, HTML)."""
    style = style or ReplyStyle()
    supplier, campaign = clip(rem.supplier, MAX_NAME), clip(rem.campaign, MAX_NAME)
    deadline = clip(rem.deadline, 20)
    missing = _missing(rem.missing) or (
        f"your completed {template_name(rem.family)}, {version_words(rem.version)}",
    )
    if rem.overdue:
        opening = (
            f"the deadline of our survey “{campaign}”, {deadline}, has passed, and we still "
            f"need the following from {supplier}:"
        )
    else:
        opening = (
            f"a reminder of our survey “{campaign}”: by {deadline}, we still need the "
            f"following from {supplier}:"
        )
    blocks: list[Block] = [
        "Hello,",
        opening,
        missing,
        "Please reply to this e-mail with the file attached.",
    ]
    return _render(blocks, style, FOOTER)


def render_owner_escalation(
    esc: OwnerEscalation, style: ReplyStyle | None = None
) -> tuple[str, str]:
    """To the supplier's owner inside the company (plain text, HTML)."""
    style = style or ReplyStyle()
    supplier, campaign = clip(esc.supplier, MAX_NAME), clip(esc.campaign, MAX_NAME)
    blocks: list[Block] = [
        "Hello,",
        f"{supplier}, a supplier you are the owner of, has not completed the campaign "
        f"“{campaign}”, and its deadline has passed. Please contact the supplier directly.",
        (
            f"Supplier: {supplier}",
            f"Campaign: {campaign}",
            f"Deadline: {clip(esc.deadline, 20)}",
            f"Status: {clip(esc.status, 40)}",
            f"Reminders sent: {esc.reminders_sent}",
        ),
    ]
    missing = _missing(esc.missing)
    if missing:
        blocks += ["Still missing:", missing]
    blocks.append(
        f"“assay suppliers show {supplier}” lists its files, their findings and the reminders sent."
    )
    return _render(blocks, style, INTERNAL_FOOTER)


def _render(blocks: Sequence[Block], style: ReplyStyle, footer: str) -> tuple[str, str]:
    """The blocks, signed, as plain text and as HTML (inline styles, everything escaped)."""
    blocks = [*blocks, ("Kind regards,", *style.lines())]
    text: list[str] = []
    parts: list[str] = []
    p = f'style="{FONT}font-size:15px;line-height:1.5;color:#222;margin:0 0 12px 0;"'
    for i, block in enumerate(blocks):
        signature = i == len(blocks) - 1
        if isinstance(block, str):
            text += [block, ""]
            parts.append(f"<p {p}>{_link(escape(block))}</p>")
        elif signature:
            text += [*block, ""]
            parts.append(f"<p {p}>{'<br>'.join(escape(line) for line in block)}</p>")
        else:
            text += [f" - {line}" for line in block] + [""]
            items = "".join(f'<li style="margin:0 0 4px 0;">{escape(x)}</li>' for x in block)
            parts.append(
                f'<ul style="{FONT}font-size:15px;color:#222;margin:0 0 12px 0;">{items}</ul>'
            )
    text += ["--", footer]
    parts.append(
        f'<p style="{FONT}font-size:12px;color:#666;margin:16px 0 0 0;">{escape(footer)}</p>'
    )
    return "\n".join(text) + "\n", "".join(parts)


def _link(escaped: str) -> str:
    """The RMI's page as a link (the address is ours, never from outside)."""
    return escaped.replace(RMI_TEMPLATES, f'<a href="{RMI_TEMPLATES}">{RMI_TEMPLATES}</a>')
