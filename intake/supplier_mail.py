"""A supplier's e-mail: screen every template in it, store, and queue one reply.

The reply itself is rendered and sent by the notifier (``bot``) from the outbox entry
queued here, in the same transaction that records the message: a crash anywhere leaves
either nothing (the message is processed again) or everything (the message is only
moved). Automatic mail is never answered, and replies per sender are rate-limited, so two
robots cannot loop.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

from plugins.pipeline import Screener, ScreeningResult
from program.digest import one_line, screened, submission_alerts
from program.outbox import (
    Alert,
    NeedsAttention,
    NoTemplateReply,
    Previous,
    RateLimited,
    ReplyFile,
    ScreeningReply,
    SenderMismatch,
)
from storage.arrivals import ArrivedFile
from storage.mail import MessageRecord, OutboxItem
from storage.store import Store

from .messages import (
    MailLimits,
    extract_workbooks,
    is_automatic,
    message_id_of,
    parse,
    sender_address,
    subject_of,
)

log = logging.getLogger(__name__)

MAX_SUBJECT = 200  # a reply's subject
MAX_NAME = 200  # names and addresses in alert payloads
MAX_NOTE = 500  # one note of a reply
MAX_NOTES = 50  # distinct notes kept in a reply's payload; the rest are counted


@dataclass(frozen=True)
class ReplyPolicy:
    max_replies_per_hour: int = 5


@dataclass(frozen=True)
class Outcome:
    key: str
    outcome: str  # screened, no-template, auto-ignored, rate-limited, too-large, duplicate
    attention: bool = False  # move to "Needs attention" instead of "Processed"
    reason: str = ""


def message_key(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def reply_subject(subject: str) -> str:
    """``Re: <subject>`` on one line, no control characters, at most ``MAX_SUBJECT`` characters."""
    subject = one_line(subject, MAX_SUBJECT)
    subject = subject if subject.lower().startswith("re:") else f"Re: {subject}".strip()
    return one_line(subject, MAX_SUBJECT)


def collapse_notes(notes: Iterable[str]) -> list[str]:
    """Each note once, in first-seen order, a repeated one with its count ("… (980 times)");
    at most ``MAX_NOTES`` lines, then how many others there were."""
    counts = Counter(one_line(n, MAX_NOTE) for n in notes)
    lines = [n if c == 1 else f"{n} ({c} times)" for n, c in counts.items()]
    if len(lines) > MAX_NOTES:
        lines = [*lines[: MAX_NOTES - 1], f"…and {len(lines) - MAX_NOTES + 1} other note(s)."]
    return lines


@dataclass(frozen=True)
class ScreenedFile:
    filename: str
    sha256: str
    origin: str
    data: bytes
    result: ScreeningResult


@dataclass(frozen=True)
class Analysis:
    """What a message says and what its workbooks screened to: pure, no store involved."""

    key: str
    size: int
    too_large: bool = False
    sender: str = ""
    subject: str = ""
    message_id: str = ""
    references: str = ""
    automatic: str = ""
    notes: tuple[str, ...] = ()
    files: tuple[ScreenedFile, ...] = ()


def analyse_supplier_message(raw: bytes, *, screener: Screener, limits: MailLimits) -> Analysis:
    """Parse the message and screen every workbook in it (CPU only: may run in a worker)."""
    key = message_key(raw)
    if len(raw) > limits.max_message_bytes:
        return Analysis(key, len(raw), too_large=True)
    msg = parse(raw)
    message_id = message_id_of(msg)
    extracted = extract_workbooks(msg, limits)
    files = tuple(
        ScreenedFile(
            a.filename, a.sha256, a.origin, a.data, screener.screen_bytes(a.data, a.sniffed)
        )
        for a in extracted.workbooks
    )
    return Analysis(
        key=key,
        size=len(raw),
        sender=sender_address(msg),
        subject=subject_of(msg),
        message_id=message_id,
        references=f"{msg.get('References', '')} {message_id}".strip(),
        automatic=is_automatic(msg),
        notes=tuple(extracted.notes),
        files=files,
    )


def handle_supplier_message(
    raw: bytes,
    *,
    store: Store,
    screener: Screener,
    mailbox: str,
    limits: MailLimits,
    policy: ReplyPolicy,
    now: dt.datetime | None = None,
) -> Outcome:
    key = message_key(raw)
    if store.message_done(key):
        return Outcome(key, "duplicate")
    return commit_supplier_message(
        analyse_supplier_message(raw, screener=screener, limits=limits),
        store=store,
        mailbox=mailbox,
        policy=policy,
        now=now,
    )


def commit_supplier_message(
    an: Analysis,
    *,
    store: Store,
    mailbox: str,
    policy: ReplyPolicy,
    now: dt.datetime | None = None,
) -> Outcome:
    """Store the screenings, the message and the reply it gets (the reply last, in one transaction)."""
    key = an.key
    if store.message_done(key):
        return Outcome(key, "duplicate")
    now = now or dt.datetime.now(dt.UTC)
    if an.too_large:
        # Too large to parse safely: the team is told; nobody is answered automatically.
        rec = MessageRecord(
            key=key, mailbox=mailbox, outcome="too-large", reason=f"{an.size} bytes"
        )
        rec = _with_alert(
            rec,
            NeedsAttention(mailbox, f"a message of {an.size // (1024 * 1024)} MB, over the limit"),
        )
        store.record_message(rec)
        return Outcome(key, "too-large", attention=True, reason=rec.reason)
    sender = an.sender
    arrival = store.record_submission(
        [ArrivedFile(f.sha256, f.filename, f.data, f.result) for f in an.files],
        source="email",
        sender=sender,
    )
    supplier = arrival.supplier
    alerts: list[Alert] = []
    if supplier and arrival.sender_mismatch:
        alerts.append(
            SenderMismatch(
                sender=one_line(sender, MAX_NAME),
                supplier=one_line(supplier.name, MAX_NAME),
                declared_company=one_line(arrival.declared, MAX_NAME),
            )
        )
    # Only a supplier recognised by who sent the message has "your previous file": a match by
    # the company a file declares would show another company's results to anyone.
    known = arrival.supplier_id if arrival.by_sender else None
    files = tuple(
        ReplyFile(
            f.filename,
            f.sha256,
            f.origin,
            _previous(store, f, known, sender, {g.sha256 for g in an.files}),
        )
        for f in an.files
    )
    outcome = "screened" if files else "no-template"
    reason = ""
    subject, notes = reply_subject(an.subject), tuple(collapse_notes(an.notes))
    reply: ScreeningReply | NoTemplateReply | None = (
        ScreeningReply(
            to=sender,
            subject=subject,
            in_reply_to=an.message_id,
            references=an.references,
            files=files,
            notes=notes,
        )
        if files
        else NoTemplateReply(
            to=sender,
            subject=subject,
            in_reply_to=an.message_id,
            references=an.references,
            notes=notes,
        )
    )
    if an.automatic:
        outcome, reason, reply = "auto-ignored", an.automatic, None
    elif not sender:
        reason, reply = "no sender address", None
    else:
        since = (now - dt.timedelta(hours=1)).replace(microsecond=0).isoformat()
        if store.replies_since(sender, since) >= policy.max_replies_per_hour:
            outcome, reason, reply = (
                "rate-limited",
                f"more than {policy.max_replies_per_hour} replies to this sender in an hour",
                None,
            )
            alerts.append(RateLimited(one_line(sender, MAX_NAME), policy.max_replies_per_hour))
    if files:
        post, details = submission_alerts(
            arrival.label(sender), [screened(f.filename, f.sha256, f.result) for f in an.files]
        )
        # The details go in the post's thread: the notifier finds the post by this key.
        alerts.append(post)
        if details is not None:
            alerts.append(replace(details, thread_of=f"alert:{key}:{len(alerts) - 1}"))
    outbox = [OutboxItem("email", f"reply:{key}", reply, recipient=sender)] if reply else []
    outbox += [OutboxItem("alert", f"alert:{key}:{i}", a) for i, a in enumerate(alerts)]
    supplier_id = supplier.id if supplier else None
    store.record_message(
        MessageRecord(
            key=key,
            mailbox=mailbox,
            message_id=an.message_id,
            sender=sender,
            subject=an.subject,
            outcome=outcome,
            reason=reason,
            supplier_id=supplier_id,
            submissions=tuple(f.sha256 for f in an.files),
            outbox=tuple(outbox),
            sources=tuple((f.sha256, supplier_id) for f in an.files),
            matched_by=arrival.how,
        )
    )
    log.info("%s: message %s… %s (%d workbook(s))", mailbox, key[:12], outcome, len(files))
    return Outcome(key, outcome, reason=reason)


def _previous(
    store: Store, f: ScreenedFile, supplier_id: int | None, sender: str, exclude: set[str]
) -> Previous | None:
    """The earlier file this one replaces (same template family, sent by the same
    supplier), if any."""
    decl = f.result.declaration
    if decl is None:
        return None
    prev = store.previous_submission(
        supplier_id=supplier_id,
        sender=sender,
        company=decl.company.get("company_name", ""),
        template_type=decl.meta.type,
        exclude=exclude,
    )
    if prev is None:
        return None
    return Previous(prev.submission.sha256, prev.received_at[:10])


def _with_alert(rec: MessageRecord, alert: NeedsAttention) -> MessageRecord:
    return MessageRecord(
        **{
            **rec.__dict__,
            "outbox": (*rec.outbox, OutboxItem("alert", f"alert:{rec.key}:attention", alert)),
        }
    )


def record_failure(store: Store, raw: bytes, mailbox: str, error: str) -> Outcome:
    """Our fault (a bug, a full disk): keep the message, tell the team, move it aside."""
    key = message_key(raw)
    rec = MessageRecord(key=key, mailbox=mailbox, outcome="needs-attention", reason=error[:500])
    store.record_message(_with_alert(rec, NeedsAttention(mailbox, error[:300])))
    return Outcome(key, "needs-attention", attention=True, reason=error)
