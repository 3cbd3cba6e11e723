"""What the campaign part of the Store returns: frozen dataclasses, no decisions."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from .models import Row


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


@dataclass(frozen=True)
class CampaignSpec:
    """What ``assay campaign create`` is given."""

    name: str
    family: str  # CMRT, EMRT, CRT, AMRT
    deadline: dt.date
    final_deadline: dt.date
    escalate_after: int = 14
    reminder_days: tuple[int, ...] = (-14, -3, 7)
    min_version: str = ""


@dataclass(frozen=True)
class Campaign:
    id: int
    name: str
    family: str
    deadline: dt.date
    final_deadline: dt.date
    escalate_after: int
    reminder_days: tuple[int, ...]
    min_version: str
    opened_on: dt.date
    created_at: str  # UTC timestamp: files received from then on are responses
    state: str  # open | closed

    @classmethod
    def from_row(cls, row: Row) -> Campaign:
        return cls(
            id=int(row["id"]),
            name=row["name"],
            family=row["family"],
            deadline=dt.date.fromisoformat(row["deadline"]),
            final_deadline=dt.date.fromisoformat(row["final_deadline"]),
            escalate_after=int(row["escalate_after"]),
            reminder_days=tuple(int(d) for d in json.loads(row["reminder_days"] or "[]")),
            min_version=row["min_version"] or "",
            opened_on=dt.date.fromisoformat(row["opened_on"]),
            created_at=row["created_at"],
            state=row["state"],
        )


@dataclass(frozen=True)
class Member:
    """A supplier in a campaign: its registry entry and what it has been sent."""

    campaign_id: int
    supplier_id: int
    name: str
    addresses: tuple[str, ...]
    owner: str
    metals: tuple[str, ...]
    added_on: dt.date
    requested_on: dt.date | None
    request_message_id: str
    escalated_on: dt.date | None
    reminders: tuple[int, ...]  # offsets sent or skipped
    reminders_sent: int  # only those actually sent
    nonresponsive_on: dt.date | None


@dataclass(frozen=True)
class AttemptRow:
    """One file a supplier sent (credited to it), with its latest screening's counts."""

    supplier_id: int
    sha256: str
    received_at: str  # UTC timestamp
    filename: str
    readable: bool
    template_type: str
    template_version: str
    errors: int
    risks: int
    warnings: int
    #: Tied to the supplier by who sent it (its address or domain), or put in by staff
    #: (Slack, ``assay screen``); False for an e-mail from an address the registry does not
    #: know that merely declares the supplier's name.
    verified: bool = True


@dataclass(frozen=True)
class Remediation:
    """A supplier's follow-up until every smelter of its latest file is RMAP conformant."""

    id: int
    supplier_id: int
    supplier: str
    opened_at: str
    file_sha256: str
    cids: tuple[str, ...]
    updated_at: str
    closed_at: str
    close_reason: str
    waived: bool = False

    @property
    def open(self) -> bool:
        return not self.closed_at

    @classmethod
    def from_row(cls, row: Row) -> Remediation:
        return cls(
            id=int(row["id"]),
            supplier_id=int(row["supplier_id"]),
            supplier=row.get("supplier") or "",
            opened_at=row["opened_at"],
            file_sha256=row["file_sha256"] or "",
            cids=tuple(json.loads(row["cids"] or "[]")),
            updated_at=row["updated_at"] or "",
            closed_at=row["closed_at"] or "",
            close_reason=row["close_reason"] or "",
            waived=bool(row.get("waived")),
        )


@dataclass(frozen=True)
class GradeEntry:
    on_date: str
    level: str
    reasons: tuple[str, ...]
    campaign: str = ""  # the campaign it was graded in
