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

Every renderer here is a pure function of what it is given: the mailer gathers what the store
holds about each file (:class:`bot.reply_view.ReplyFacts`) before rendering. The parts:
:mod:`bot.reply_view` (what a reply says), :mod:`bot.email_text` and :mod:`bot.email_html`
(how it is printed); this module is the entry point, with the short replies.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from program.outbox import GrievanceAck, GrievanceFollowUpAck

from .email_html import FONT, escape, screening_html
from .email_text import screening_text
from .reply_view import FOOTER, ReplyFacts, ReplyStyle, closing, collapse_notes, file_view


def render_screening_reply(facts: ReplyFacts, style: ReplyStyle | None = None) -> tuple[str, str]:
    """The reply to a supplier's message with templates: (plain text, HTML).

    A file's :attr:`~bot.reply_view.FileFacts.attachment` names its marked-up copy attached
    to the same e-mail; the reply then points at it.
    """
    style = style or ReplyStyle()
    views = [file_view(f) for f in facts.files]
    resubmission = any(v.compared for v in views)
    notes = collapse_notes(facts.notes)
    lines = closing(views, resubmission)
    codes = sorted({c for v in views for c in v.codes})
    return (
        screening_text(views, notes, lines, codes, style),
        screening_html(views, notes, lines, codes, style),
    )


def render_no_template(notes: Sequence[str], style: ReplyStyle | None = None) -> tuple[str, str]:
    """The reply to a message without any template: (plain text, HTML)."""
    style = style or ReplyStyle()
    notes = collapse_notes(notes)
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
    return body, "".join(f"<p {p}>{escape(line)}</p>" for line in text if line)


def render_grievance_ack(ack: GrievanceAck | GrievanceFollowUpAck) -> tuple[str, str]:
    """A grievance acknowledgement (new case or follow-up): (plain text, HTML)."""
    case_id, token, respond_by = ack.case_id, ack.token, ack.respond_by
    if isinstance(ack, GrievanceFollowUpAck):
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
