"""What a screening reply says, before it is text or HTML: pure, from what it is given.

The mailer gathers, for each file of a reply, what the store holds about it and about the
supplier's previous file (:class:`FileFacts`, fetched by sha256: content-addressed, so the
answer never changes); this module turns that into one :class:`FileView` per file (title,
verdict, items grouped by :mod:`program.digest`, the comparison with the previous file) and
the closing lines. :mod:`bot.email_text` and :mod:`bot.email_html` print the views.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from plugins.checks import DEFAULT_CURRENT_VERSIONS
from plugins.models import Declaration, Finding
from program.diff import compare
from program.digest import Item, fix_first, group_items, risk_summary

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


# -- what the reply is given -------------------------------------------------------------


@dataclass(frozen=True)
class Screening:
    """What the store holds about one screened file, as far as a reply needs it."""

    readable: bool
    findings: tuple[Finding, ...] = ()
    declaration: Declaration | None = None
    template_type: str = ""
    template_version: str = ""
    company_name: str = ""


@dataclass(frozen=True)
class EarlierFile:
    """The supplier's previous file of the same family, and when it was received."""

    screening: Screening
    date: str  # ISO date; one that does not parse means no comparison


@dataclass(frozen=True)
class FileFacts:
    """One file of a reply: its name, what the store holds (None: nothing), the previous
    file it is compared with, and the name of its marked-up copy attached (if any)."""

    filename: str
    origin: str = ""
    screening: Screening | None = None
    earlier: EarlierFile | None = None
    attachment: str = ""


@dataclass(frozen=True)
class ReplyFacts:
    files: tuple[FileFacts, ...] = ()
    notes: tuple[str, ...] = ()


# -- what it says ------------------------------------------------------------------------


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


def file_view(f: FileFacts) -> FileView:
    s = f.screening
    findings = s.findings if s else ()
    title = clip(f.filename, MAX_NAME)
    if s and s.template_type:
        title += f" ({clip(s.template_type, 20)} {clip(s.template_version, 20)}"
        title += f", {clip(s.company_name, MAX_NAME)})" if s.company_name else ")"
    if f.origin:
        title += f", from {clip(f.origin, MAX_NAME)}"
    codes = tuple(sorted({x.code for x in findings if x.severity != "info"}))
    if s is None or not s.readable:
        problem = next((clip(x.message, MAX_MESSAGE) for x in findings), "")
        return FileView(title, False, verdict(False, ()), "", problem=problem, codes=codes)
    items = tuple(group_items(findings, s.declaration))
    compared, fixed, new = _comparison(f.earlier, s)
    return FileView(
        title=title,
        readable=True,
        verdict=verdict(True, items),
        summary=_summary(items, findings),
        items=items,
        first=tuple(fix_first(items, MAX_FIRST)),
        risks=tuple(clip(r, MAX_MESSAGE) for r in risk_summary(findings, s.declaration)),
        compared=compared,
        fixed=fixed,
        new=new,
        attachment=clip(f.attachment, MAX_NAME),
        codes=codes,
    )


def _comparison(
    earlier: EarlierFile | None, now: Screening
) -> tuple[str, tuple[Item, ...], tuple[Item, ...]]:
    """The resubmission headline and what was fixed and what is new since ``earlier``."""
    if earlier is None:
        return "", (), ()
    old = earlier.screening
    cmp = compare(old.declaration, old.findings, now.declaration, now.findings)
    try:
        when = dt.date.fromisoformat(earlier.date[:10])
    except ValueError:
        return "", (), ()
    return (
        cmp.headline(when),
        tuple(group_items(cmp.fixed, old.declaration)),
        tuple(group_items(cmp.new, now.declaration)),
    )


def line(item: Item) -> str:
    """One item on one line: where (and what) it is, then what is wrong."""
    if item.rows:
        where = f"{item.subject}, {item.where.replace('Smelter List ', '')}"
    else:
        named = item.subject and not item.text.startswith(item.subject)
        where = item.where + (f" ({item.subject})" if named else "")
    return clip(f"{where}: {item.text}", MAX_MESSAGE + MAX_NAME)


def closing(views: Sequence[FileView], resubmission: bool) -> list[str]:
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


def intro(views: Sequence[FileView]) -> str:
    if len(views) == 1:
        return "Thank you for your declaration. Here is what we found."
    return f"Thank you for your declarations. We checked {len(views)} files; here is what we found in each."


def many_errors(v: FileView) -> bool:
    """ "Fix these first" only when the list of corrections is longer than the short list."""
    return sum(1 for i in v.items if i.severity == "error") > MAX_FIRST


def where_rest(v: FileView) -> str:
    return (
        ", all listed on the first sheet of the attached workbook"
        if v.attachment
        else ", not listed here to keep this message short (ask us for the full list)"
    )
