"""What goes through the outbox, the one hand-off between intake and bot: one type per kind.

Intake (and the CLI, and the Slack app) queue an e-mail or an alert by building one of these
frozen dataclasses; the notifiers read the row back with :func:`decode_email` or
:func:`decode_alert` and dispatch on the class, so mypy checks every producer against every
consumer and a misspelt field fails in a test, not in a supplier's inbox.

The stored form is JSON (:mod:`program.outbox_codec`): ``kind`` (the class's ``KIND``),
``version`` (its ``VERSION``) and its fields by name (a few fields take another JSON name,
``"from"`` and ``"list"``, given in the field's metadata). Nested values are frozen dataclasses
and tuples, stored as objects and lists. An optional field (``metadata=OPTIONAL``) is left out
while it is empty, as the rows written before these types left it out. Decoding is strict: an
unknown kind, a version this build does not read, an unknown or missing field, or a value of
the wrong type raises :class:`OutboxError` naming it. A row without ``version`` was written
before versions existed: it is version 1. A new field with a default keeps the version;
anything else (a field removed, renamed, or its meaning changed) takes the next version.

The e-mail and alert channels are decoded apart: ``grievance-follow-up`` names both the
reporter's acknowledgement (an e-mail) and the compliance channel's note (an alert).

The kinds of survey campaigns and remediation live in :mod:`program.outbox_campaign`, the
program's daily digest in :mod:`program.outbox_program`; both are re-exported here. Every kind
subclasses :class:`program.outbox_codec.Payload`. This module keeps the unions (:data:`Email`, :data:`Alert`), the :data:`EMAILS` and :data:`ALERTS`
tables and the decoders, so ``from program.outbox import ...`` is the one way in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from program.outbox_campaign import CampaignDigest as CampaignDigest
from program.outbox_campaign import CampaignReminder as CampaignReminder
from program.outbox_campaign import CampaignRequest as CampaignRequest
from program.outbox_campaign import NonResponsive as NonResponsive
from program.outbox_campaign import OwnerEscalation as OwnerEscalation
from program.outbox_campaign import OwnerEscalationDM as OwnerEscalationDM
from program.outbox_campaign import RemediationClosed as RemediationClosed
from program.outbox_campaign import RemediationOpened as RemediationOpened
from program.outbox_codec import OPTIONAL, OutboxError, Payload, from_json, json_name
from program.outbox_program import DigestCampaign as DigestCampaign
from program.outbox_program import DigestFigure as DigestFigure
from program.outbox_program import ProgramDigest as ProgramDigest

# -- e-mails -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Previous:
    """The earlier file a resubmission is compared with (content-addressed)."""

    sha256: str
    date: str  # ISO date it was received


@dataclass(frozen=True)
class ReplyFile:
    """One file of a screening reply; the mailer fetches its results by ``sha256``."""

    filename: str
    sha256: str
    origin: str = ""  # where in the message it was found ("archive.zip")
    previous: Previous | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True)
class ScreeningReply(Payload):
    """The reply to a supplier's message that carried templates."""

    KIND: ClassVar[str] = "screening-reply"
    to: str
    subject: str = ""
    in_reply_to: str = ""
    references: str = ""
    files: tuple[ReplyFile, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class NoTemplateReply(Payload):
    """The reply to a supplier's message without any template."""

    KIND: ClassVar[str] = "no-template"
    DROPPED: ClassVar[frozenset[str]] = frozenset({"files"})  # version 1 wrote []
    to: str
    subject: str = ""
    in_reply_to: str = ""
    references: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class GrievanceAck(Payload):
    """A new case's acknowledgement: the envelope address, the case, its token and dates,
    nothing from the reporter's message. Encrypted before it is queued."""

    KIND: ClassVar[str] = "grievance-ack"
    to: str
    case_id: str
    token: str
    received: str
    respond_by: str


@dataclass(frozen=True)
class GrievanceFollowUpAck(Payload):
    """The acknowledgement of a follow-up on a case (encrypted, as :class:`GrievanceAck`)."""

    KIND: ClassVar[str] = "grievance-follow-up"
    to: str
    case_id: str
    token: str
    received: str
    respond_by: str


Email = (
    ScreeningReply
    | NoTemplateReply
    | GrievanceAck
    | GrievanceFollowUpAck
    | CampaignRequest
    | CampaignReminder
    | OwnerEscalation
)


# -- alerts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NeedsAttention(Payload):
    KIND: ClassVar[str] = "needs-attention"
    mailbox: str
    reason: str


@dataclass(frozen=True)
class SenderMismatch(Payload):
    """A registered supplier's address sent a declaration naming another company."""

    KIND: ClassVar[str] = "sender-mismatch"
    sender: str
    supplier: str
    declared_company: str


@dataclass(frozen=True)
class RateLimited(Payload):
    KIND: ClassVar[str] = "rate-limited"
    sender: str
    limit: int


@dataclass(frozen=True)
class Counts:
    """Findings per severity."""

    error: int = 0
    risk: int = 0
    warning: int = 0
    info: int = 0

    @classmethod
    def of(cls, summary: Mapping[str, int]) -> Counts:
        return cls(*(int(summary.get(s, 0)) for s in ("error", "risk", "warning", "info")))


@dataclass(frozen=True)
class SubmissionFile:
    """One file's line in a submission post."""

    filename: str
    template: str  # "CMRT 6.5", or "unreadable"
    risk_level: str
    summary: Counts
    sha256: str = ""
    high_risk_count: int = 0  # named in the post's thread
    high_risk_smelters: tuple[str, ...] = field(
        default=(), metadata=OPTIONAL
    )  # posts queued before threads existed


@dataclass(frozen=True)
class Submission(Payload):
    """The compliance channel's post for one submission: one line per file."""

    KIND: ClassVar[str] = "submission"
    supplier: str
    files: tuple[SubmissionFile, ...] = ()
    risk_level: str = "low"
    via: str = field(default="", metadata=OPTIONAL)  # "Slack"; e-mail says nothing


@dataclass(frozen=True)
class HighRisk:
    """A smelter with a risk on its own row, and why."""

    cid: str
    name: str
    metal: str
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class DetailsFile:
    filename: str
    high_risk: tuple[HighRisk, ...] = ()
    to_correct: tuple[str, ...] = ()


@dataclass(frozen=True)
class SubmissionDetails(Payload):
    """A submission's details, posted in its post's thread (``thread_of``: that post's key)."""

    KIND: ClassVar[str] = "submission-details"
    supplier: str
    files: tuple[DetailsFile, ...] = ()
    thread_of: str = field(default="", metadata=OPTIONAL)


@dataclass(frozen=True)
class GrievanceAlert(Payload):
    """A new grievance case: number, date, category and counts, never the reporter."""

    KIND: ClassVar[str] = "grievance"
    case_id: str
    received: str
    category: str
    linked_smelters: int
    linked_suppliers: int


@dataclass(frozen=True)
class GrievanceFollowUpAlert(Payload):
    KIND: ClassVar[str] = "grievance-follow-up"
    case_id: str
    received: str


@dataclass(frozen=True)
class Undeliverable(Payload):
    """An e-mail given up: what it was, and to whom (a supplier's name or an address hash;
    for a grievance acknowledgement only the case)."""

    KIND: ClassVar[str] = "undeliverable"
    message: str  # "no-template reply", "grievance acknowledgement", ...
    error: str
    case_id: str = field(default="", metadata=OPTIONAL)
    supplier: str = field(default="", metadata=OPTIONAL)
    to_hash: str = field(default="", metadata=OPTIONAL)


@dataclass(frozen=True)
class StaleList(Payload):
    KIND: ClassVar[str] = "stale-list"
    list_version: str = field(metadata=json_name("list"))
    message: str


@dataclass(frozen=True)
class RmapChange:
    """A smelter in suppliers' lists whose RMAP standing changed."""

    cid: str
    from_: str = field(metadata=json_name("from"))
    to: str
    suppliers: tuple[str, ...] = ()


@dataclass(frozen=True)
class RmapChanges(Payload):
    KIND: ClassVar[str] = "rmap-change"
    list_version: str = field(metadata=json_name("list"))
    changes: tuple[RmapChange, ...] = ()


Alert = (
    NeedsAttention
    | SenderMismatch
    | RateLimited
    | Submission
    | SubmissionDetails
    | GrievanceAlert
    | GrievanceFollowUpAlert
    | Undeliverable
    | StaleList
    | RmapChanges
    | OwnerEscalationDM
    | RemediationOpened
    | RemediationClosed
    | CampaignDigest
    | NonResponsive
    | ProgramDigest
)
Message = Email | Alert

EMAILS: dict[str, type[Email]] = {
    c.KIND: c
    for c in (
        ScreeningReply,
        NoTemplateReply,
        GrievanceAck,
        GrievanceFollowUpAck,
        CampaignRequest,
        CampaignReminder,
        OwnerEscalation,
    )
}
ALERTS: dict[str, type[Alert]] = {
    c.KIND: c
    for c in (
        NeedsAttention,
        SenderMismatch,
        RateLimited,
        Submission,
        SubmissionDetails,
        GrievanceAlert,
        GrievanceFollowUpAlert,
        Undeliverable,
        StaleList,
        RmapChanges,
        OwnerEscalationDM,
        RemediationOpened,
        RemediationClosed,
        CampaignDigest,
        NonResponsive,
        ProgramDigest,
    )
}


def decode_email(text: str) -> Email:
    """An ``email`` row's payload (decrypted first, for a grievance acknowledgement)."""
    return from_json(text, EMAILS, "e-mail")


def decode_alert(text: str) -> Alert:
    """An ``alert`` row's payload."""
    return from_json(text, ALERTS, "alert")


def decode(text: str, channel: str) -> Message:
    """A payload of the ``email`` or ``alert`` channel."""
    if channel == "email":
        return decode_email(text)
    if channel == "alert":
        return decode_alert(text)
    raise OutboxError(f"unknown outbox channel {channel[:40]!r}")
