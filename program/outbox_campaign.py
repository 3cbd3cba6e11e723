"""The outbox kinds of survey campaigns and remediation: one frozen dataclass per kind.

E-mails (the request, its reminders, the escalation to the supplier's internal owner) and
alerts (the escalation as a Slack direct message, a remediation opened or closed, the daily
digest, a supplier silent past the final deadline). They are stored, versioned and decoded as
every other kind (:mod:`program.outbox`, which re-exports them and lists them in its unions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from program.outbox_codec import Payload, json_name

# -- e-mails -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignRequest(Payload):
    """A campaign's request to one supplier: which template, which version, by when. Its
    ``message_id`` is given by the caller (and stored), so reminders can thread on it."""

    KIND: ClassVar[str] = "campaign-request"
    to: str
    supplier: str
    campaign: str
    family: str  # "CMRT", "EMRT", "CRT", "AMRT"
    # The version asked for ("6.5"; "" for any). Stored as "template_version": "version"
    # is the payload's schema version.
    version: str = field(metadata=json_name("template_version"))
    deadline: str  # ISO date
    message_id: str  # "<...@...>"


@dataclass(frozen=True)
class CampaignReminder(Payload):
    """A reminder threaded on the request (``in_reply_to``: its Message-ID), saying only
    what is still missing (:func:`program.campaign.still_missing`)."""

    KIND: ClassVar[str] = "campaign-reminder"
    to: str
    supplier: str
    campaign: str
    family: str
    version: str = field(metadata=json_name("template_version"))  # as in the request
    deadline: str
    missing: tuple[str, ...]
    in_reply_to: str
    message_id: str
    overdue: bool = False  # sent after the deadline


@dataclass(frozen=True)
class OwnerEscalation(Payload):
    """To the supplier's internal owner (an address): the supplier has not delivered."""

    KIND: ClassVar[str] = "owner-escalation"
    to: str
    supplier: str
    campaign: str
    deadline: str
    status: str
    missing: tuple[str, ...]
    reminders_sent: int


# -- alerts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnerEscalationDM(Payload):
    """An escalation as a Slack direct message to the owner (``slack_user``: U… or W…)."""

    KIND: ClassVar[str] = "owner-escalation-dm"
    slack_user: str
    supplier: str
    campaign: str
    deadline: str
    status: str
    missing: tuple[str, ...]
    reminders_sent: int


@dataclass(frozen=True)
class RemediationOpened(Payload):
    """A supplier's latest file lists smelters that are not conformant."""

    KIND: ClassVar[str] = "remediation-opened"
    supplier: str
    remediation_id: int
    cids: tuple[str, ...]
    file_date: str  # ISO date of the file that opened it


@dataclass(frozen=True)
class RemediationClosed(Payload):
    KIND: ClassVar[str] = "remediation-closed"
    supplier: str
    remediation_id: int
    reason: str  # "a newer file", "RMAP list X of D", "waived by U: reason"


@dataclass(frozen=True)
class CampaignDigest(Payload):
    """A campaign's daily figures for the compliance channel."""

    KIND: ClassVar[str] = "campaign-digest"
    campaign: str
    family: str
    suppliers: int
    responded: int
    accepted: int
    response_rate: float  # 0-1
    response_category: str
    overdue: int
    resubmit: int
    escalated: int


@dataclass(frozen=True)
class NonResponsive(Payload):
    """A supplier silent past the campaign's final deadline."""

    KIND: ClassVar[str] = "campaign-non-responsive"
    campaign: str
    supplier: str
    final_deadline: str
