"""A campaign's status: every supplier's standing, grade and history, and the figures.

The facts come from the Store (members, files received, findings, smelters, grievances) and
the reference lists; every decision is :mod:`program.campaign`'s. The Slack command, the
daily digest, ``assay campaign status`` and the reminders all read this one view.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from plugins.checks import DEFAULT_CURRENT_VERSIONS
from plugins.models import Declaration
from plugins.reference import ReferenceData
from plugins.versions import select_layout, version_key
from program.campaign import (
    Attempt,
    Figures,
    GradeFacts,
    Schedule,
    SupplierState,
    counts_as_response,
    figures,
    grade,
    latest_response,
    still_missing,
    supplier_status,
)
from storage.campaign_models import AttemptRow, Campaign, Member
from storage.store import Store

#: The metals each family asks about (the EMRT's six as of 2.x; the AMRT's are chosen).
FAMILY_METALS: dict[str, tuple[str, ...]] = {
    "CMRT": ("Tantalum", "Tin", "Tungsten", "Gold"),
    "EMRT": ("Cobalt", "Mica", "Copper", "Graphite", "Lithium", "Nickel"),
    "CRT": ("Cobalt",),
    "AMRT": (),
}
LOW_RESPONSE = ("50% or less", "None")
RESPONDED = frozenset({"resubmit", "accepted", "out-of-scope"})


@dataclass(frozen=True)
class SupplierRow:
    supplier_id: int
    name: str
    status: str
    grade: str
    grade_reasons: tuple[str, ...]
    attempts: int
    last_file_date: str
    reminders_sent: int
    owner: str
    metals: tuple[str, ...]
    responded: bool
    overdue: bool
    missing: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "grade": self.grade,
            "grade_reasons": list(self.grade_reasons),
            "attempts": self.attempts,
            "last_file_date": self.last_file_date or None,
            "reminders_sent": self.reminders_sent,
            "owner": self.owner,
            "metals": list(self.metals),
            "missing": list(self.missing),
        }


@dataclass(frozen=True)
class CampaignStatus:
    campaign: Campaign
    as_of: dt.date
    figures: Figures
    by_metal: Mapping[str, Figures]
    overdue: tuple[str, ...]
    rows: tuple[SupplierRow, ...]

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    def to_dict(self) -> dict[str, Any]:
        c, f = self.campaign, self.figures
        return {
            "name": c.name,
            "template": c.family,
            "min_version": c.min_version or None,
            "deadline": c.deadline.isoformat(),
            "final_deadline": c.final_deadline.isoformat(),
            "state": c.state,
            "as_of": self.as_of.isoformat(),
            **_figures(f),
            "by_metal": {m: _figures(x) for m, x in self.by_metal.items()},
            "by_status": {s: self.count(s) for s in sorted({r.status for r in self.rows})},
            "overdue": list(self.overdue),
            "supplier_rows": [r.to_dict() for r in self.rows],
        }


def _figures(f: Figures) -> dict[str, Any]:
    return {
        "suppliers": f.suppliers,
        "responded": f.responded,
        "accepted": f.accepted,
        "response_rate": f.response_rate,
        "response_category": f.response_category,
    }


def metals_in_scope(family: str, registered: Sequence[str]) -> tuple[str, ...]:
    """The family's metals the supplier is registered for (all of them when none is given)."""
    asked = FAMILY_METALS.get(family, ())
    if not registered:
        return asked
    if not asked:
        return tuple(registered)
    return tuple(m for m in asked if m in registered) or asked


def attempt_of(row: AttemptRow) -> Attempt:
    """One file as :mod:`program.campaign` sees it, from its stored counts."""
    return Attempt(
        sha256=row.sha256,
        received=dt.date.fromisoformat(row.received_at[:10]),
        filename=row.filename,
        readable=row.readable,
        family=row.template_type,
        version=row.template_version,
        errors=row.errors,
        risks=row.risks,
        warnings=row.warnings,
        verified=row.verified,
    )


def attempts_of(
    store: Store,
    rows: Sequence[AttemptRow],
    family: str,
    metals: Sequence[str],
    declarations: bool = True,
) -> tuple[list[Attempt], Declaration | None]:
    """A supplier's files; the latest response gets its error codes and whether it declares
    none of the metals in scope (its declaration is read once, and returned for grading;
    ``declarations=False``: not read, for what needs no grade and no scope, the reminders).

    Files count from the campaign's creation on, by when they really arrived; ``--as-of``
    moves the schedule's day (what is due, overdue, escalated), not the files."""
    attempts = [attempt_of(r) for r in rows]
    for i in range(len(attempts) - 1, -1, -1):
        a = attempts[i]
        if not counts_as_response(a, family):
            continue
        errors = (
            tuple(code for code, _m in store.finding_codes(a.sha256, "error")) if a.errors else ()
        )
        decl = store.declaration(a.sha256) if declarations else None
        unused = False
        if decl is not None and metals:
            q1 = {x.mineral: x.value for x in decl.answers if x.question == "Q1"}
            asked = [m for m in metals if m in q1]
            unused = bool(asked) and all(q1[m] == "No" for m in asked)
        attempts[i] = dataclasses.replace(a, error_codes=errors, no_metal_in_scope=unused)
        return attempts, decl
    return attempts, None


_STANDINGS: list[tuple[ReferenceData, dict[tuple[str, str], str]]] = []


def standing_of(reference: ReferenceData, cid: str, metal: str) -> str:
    """A smelter's RMAP standing, looked up once per reference data and (CID, metal): a
    survey's suppliers list the same few hundred smelters thousands of times."""
    if not _STANDINGS or _STANDINGS[0][0] is not reference:
        _STANDINGS[:] = [(reference, {})]
    seen = _STANDINGS[0][1]
    key = (cid, metal)
    if key not in seen:
        seen[key] = reference.standing(cid, metal).standing
    return seen[key]


def grade_facts(
    store: Store,
    reference: ReferenceData,
    supplier_id: int,
    status: str,
    latest: Attempt | None,
    as_of: dt.date,
    *,
    decl: Declaration | None = None,
    investigating: Mapping[int, Sequence[str]] | None = None,
    min_version: str = "",
    current_version: str = "",
    stale_after_days: int = 400,
) -> GradeFacts:
    grievances = tuple((investigating or {}).get(supplier_id, ()))
    if latest is None:
        return GradeFacts(status=status, grievances=grievances)
    risks = tuple(
        f"{c}: {m if len(m) <= 120 else m[:119] + '…'}"
        for c, m in store.finding_codes(latest.sha256, "risk")
    )
    not_conformant, active = [], []
    for metal, cid in store.listed_smelters(latest.sha256):
        standing = standing_of(reference, cid, metal)
        if standing == "not-conformant":
            not_conformant.append(cid)
        elif standing == "active":
            active.append(cid)
    low: list[str] = []
    stale = False
    if decl is not None:
        layout, _known = select_layout(decl.meta.type, decl.meta.version)
        rate_q = {q.id for q in layout.questions if q.kind == "response-rate"} if layout else set()
        low = sorted(
            {a.mineral for a in decl.answers if a.question in rate_q and a.value in LOW_RESPONSE}
        )
        if decl.effective_date is not None:
            stale = (as_of - decl.effective_date).days > stale_after_days
    floor = max((v for v in (min_version, current_version) if v), key=version_key, default="")
    outdated = bool(floor and latest.version and version_key(latest.version) < version_key(floor))
    return GradeFacts(
        status=status,
        risk_findings=risks,
        not_conformant=tuple(sorted(set(not_conformant))),
        active_only=tuple(sorted(set(active))),
        open_errors=latest.errors,
        low_response=tuple(low),
        outdated=outdated,
        stale=stale,
        grievances=grievances,
    )


def member_state(member: Member, attempts: Sequence[Attempt]) -> SupplierState:
    return SupplierState(
        requested_on=member.requested_on,
        reminders=member.reminders,
        escalated_on=member.escalated_on,
        attempts=tuple(attempts),
    )


@dataclass(frozen=True)
class MemberView:
    """A supplier of a campaign with its files, as the rules see it."""

    member: Member
    metals: tuple[str, ...]
    attempts: tuple[Attempt, ...]
    state: SupplierState
    latest: Attempt | None  # the latest response
    decl: Declaration | None  # the latest response's declaration (when read)


def member_views(
    store: Store, campaign: Campaign, as_of: dt.date | None = None, *, declarations: bool = True
) -> Iterator[MemberView]:
    """Every supplier of the campaign (what it was sent by ``as_of``), with the files it sent
    since the campaign was created: the one reading of the Store that the status, the
    reminders and the escalations share."""
    members = store.members(campaign.id, as_of)
    received = store.attempts_since(campaign.created_at, [m.supplier_id for m in members])
    for m in members:
        metals = metals_in_scope(campaign.family, m.metals)
        attempts, decl = attempts_of(
            store, received.get(m.supplier_id, []), campaign.family, metals, declarations
        )
        state = member_state(m, attempts)
        latest = latest_response(state, campaign.family)
        yield MemberView(m, metals, tuple(attempts), state, latest, decl)


def campaign_status(
    store: Store,
    campaign: Campaign,
    as_of: dt.date,
    *,
    current_versions: Mapping[str, str] | None = None,
    stale_after_days: int = 400,
    record_grades: bool = False,
) -> CampaignStatus:
    """The campaign as of a day; ``record_grades`` keeps each supplier's grade in its history."""
    reference = store.reference_data()
    investigating = store.grievances_investigating()
    current = (current_versions or DEFAULT_CURRENT_VERSIONS).get(campaign.family, "")
    schedule = schedule_of(campaign)
    rows: list[SupplierRow] = []
    per_metal: dict[str, list[tuple[str, bool]]] = {}
    for v in member_views(store, campaign, as_of):
        m, metals, attempts, latest, decl = v.member, v.metals, v.attempts, v.latest, v.decl
        status = supplier_status(schedule, v.state, campaign.family, campaign.min_version, as_of)
        g = grade(
            grade_facts(
                store,
                reference,
                m.supplier_id,
                status,
                latest,
                as_of,
                decl=decl,
                investigating=investigating,
                min_version=campaign.min_version,
                current_version=current,
                stale_after_days=stale_after_days,
            )
        )
        if record_grades:
            store.record_grade(m.supplier_id, as_of, g.level, g.reasons, campaign.id)
        responded = latest is not None
        accepted = status in ("accepted", "out-of-scope")
        rows.append(
            SupplierRow(
                supplier_id=m.supplier_id,
                name=m.name,
                status=status,
                grade=g.level,
                grade_reasons=g.reasons,
                attempts=len(attempts),
                last_file_date=attempts[-1].received.isoformat() if attempts else "",
                reminders_sent=m.reminders_sent,
                owner=m.owner,
                metals=metals,
                responded=responded,
                overdue=as_of > campaign.deadline and not accepted,
                missing=()
                if accepted
                else still_missing(campaign.family, latest, campaign.min_version),
            )
        )
        if status != "out-of-scope":
            for metal in metals:
                per_metal.setdefault(metal, []).append((status, responded))
    return CampaignStatus(
        campaign=campaign,
        as_of=as_of,
        figures=figures([(r.status, r.responded) for r in rows]),
        by_metal={metal: figures(v) for metal, v in sorted(per_metal.items())},
        overdue=tuple(r.name for r in rows if r.overdue),
        rows=tuple(rows),
    )


def schedule_of(c: Campaign) -> Schedule:
    return Schedule(
        deadline=c.deadline,
        final_deadline=c.final_deadline,
        escalate_after=c.escalate_after,
        reminder_days=c.reminder_days,
    )
