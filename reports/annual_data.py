"""The annual report's figures, read from the Store: counts and dates only, no names.

Everything here is a number, a date, a metal, a CID, a country, a template family, a finding
code, a category or a status. Supplier names, addresses, finding messages and grievance
texts are never read into these values, so the report cannot print them.

**Which year.** A campaign belongs to the year it was opened in. Files, remediations and
grievances count by their stored UTC timestamps: the consolidated list and the risk counts
read each supplier's latest readable, verified file of each family received by the end of
the year (a later file does not change a year's report); remediations and grievances count
when they were opened, closed or received in the year. No clock is read: the report's
dates all come from the data, so the same database gives the same report.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from program.campaign import counts_as_response, response_category
from program.smelter_list import MetalCounts, SmelterList, consolidate, metal_rank, rmap_counts
from storage.campaign_models import AttemptRow, Campaign
from storage.store import Store

from .campaign_status import member_views
from .smelter_source import listed_rows

FAMILIES = ("CMRT", "EMRT", "CRT", "AMRT")


@dataclass(frozen=True)
class CampaignFigures:
    """One campaign opened in the year: its response figures as of ``as_of``."""

    name: str
    family: str
    opened_on: dt.date
    deadline: dt.date
    as_of: dt.date  # min(final deadline, last response received); the final deadline without one
    suppliers: int
    responded: int
    response_rate: float  # 0-1, 4 places
    category: str  # the template's own words for the rate
    #: Days from the opening to each supplier's first response, sorted (the chart's curve).
    first_response_days: tuple[int, ...]


@dataclass(frozen=True)
class RegistryFigures:
    """Without a campaign: a family's registered suppliers and those that sent a file."""

    family: str
    suppliers: int  # registered suppliers expecting the family
    responded: int  # of those, with a readable verified file of it received in the year
    response_rate: float
    category: str
    as_of: dt.date | None  # the last such file received


@dataclass(frozen=True)
class MetalRisk:
    metal: str
    smelters: int
    covered_country: int
    cahra_country: int


@dataclass(frozen=True)
class AnnualFacts:
    year: int
    as_of: dt.date | None  # the last file received in the year (None: none)
    campaigns: tuple[CampaignFigures, ...]
    registry: tuple[RegistryFigures, ...]  # only when no campaign was opened in the year
    files: int  # latest files read for the smelter list and the risks
    suppliers: int  # suppliers whose files were read
    smelters: SmelterList
    counts: tuple[MetalCounts, ...]
    risk_codes: tuple[tuple[str, int], ...]  # (finding code, findings) over the latest files
    metal_risks: tuple[MetalRisk, ...]
    remediations_opened: int
    remediations_closed: int
    remediations_waived: int  # of those closed, closed by an officer's waiver
    remediations_open: int  # open at the end of the year
    grievances: int  # received in the year
    grievance_categories: tuple[tuple[str, int], ...]
    grievance_statuses: tuple[tuple[str, int], ...]  # their status today


def _day(stamp: str) -> dt.date:
    return dt.date.fromisoformat(stamp[:10])


def _in_year(stamp: str, year: int) -> bool:
    return bool(stamp) and stamp[:4] == str(year)


def _rate(responded: int, total: int) -> float:
    return round(responded / total, 4) if total else 0.0


def campaign_figures(store: Store, campaign: Campaign) -> CampaignFigures:
    """A campaign's figures as of min(final deadline, last response), and its curve (the
    declarations are not read: responding is a matter of which files arrived)."""
    views = list(member_views(store, campaign, declarations=False))
    firsts: list[dt.date] = []
    for v in views:
        responses = [a.received for a in v.attempts if counts_as_response(a, campaign.family)]
        if responses:
            firsts.append(min(responses))
    as_of = min(campaign.final_deadline, max(firsts)) if firsts else campaign.final_deadline
    # Responded: a response arrived, whatever its errors (program.campaign.figures' rule).
    responded = sum(1 for v in views if v.latest is not None)
    return CampaignFigures(
        name=campaign.name,
        family=campaign.family,
        opened_on=campaign.opened_on,
        deadline=campaign.deadline,
        as_of=as_of,
        suppliers=len(views),
        responded=responded,
        response_rate=_rate(responded, len(views)),
        category=response_category(responded, len(views)),
        first_response_days=tuple(sorted(max(0, (d - campaign.opened_on).days) for d in firsts)),
    )


def latest_by_year_end(store: Store, year: int) -> dict[int, list[AttemptRow]]:
    """Each supplier's latest readable, verified file of each family received by the end of
    ``year`` (as :meth:`storage.report_reads.ReportStore.latest_files`, with an end)."""
    end = f"{year + 1}-01-01"
    out: dict[int, list[AttemptRow]] = {}
    for sid, rows in store.attempts_since("").items():
        seen: set[str] = set()
        for a in reversed(rows):
            if a.received_at >= end or not (a.readable and a.verified and a.template_type):
                continue
            if a.template_type in seen:
                continue
            seen.add(a.template_type)
            out.setdefault(sid, []).append(a)
    return out


def registry_figures(
    store: Store, latest: dict[int, list[AttemptRow]], year: int
) -> tuple[RegistryFigures, ...]:
    """Per family: the suppliers registered for it (a supplier that lists no template is
    asked for any, as ``campaign create`` has it) and those of them with a file of it
    received in the year. A family shows when a supplier lists it or a file of it came."""
    out = []
    suppliers = store.suppliers()
    for family in FAMILIES:
        asked = [s.id for s in suppliers if family in s.expected or not s.expected]
        received = [
            a
            for sid in asked
            for a in latest.get(sid, [])
            if a.template_type == family and _in_year(a.received_at, year)
        ]
        if not received and not any(family in s.expected for s in suppliers):
            continue
        responded = len({a.supplier_id for a in received})
        out.append(
            RegistryFigures(
                family=family,
                suppliers=len(asked),
                responded=responded,
                response_rate=_rate(responded, len(asked)),
                category=response_category(responded, len(asked)),
                as_of=max((_day(a.received_at) for a in received), default=None),
            )
        )
    return tuple(out)


def _counted(values: Iterable[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(Counter(values).items()))


def metal_risks(smelters: SmelterList) -> tuple[MetalRisk, ...]:
    return tuple(
        MetalRisk(
            metal=m,
            smelters=len(smelters.for_metal(m)),
            covered_country=sum(1 for e in smelters.for_metal(m) if e.covered_country),
            cahra_country=sum(1 for e in smelters.for_metal(m) if e.cahra_country),
        )
        for m in sorted({e.metal for e in smelters.entries}, key=metal_rank)
    )


def risk_codes(store: Store, shas: Sequence[str]) -> tuple[tuple[str, int], ...]:
    """Risk findings by code over these files (the codes only: messages may name anyone)."""
    return _counted(code for sha in shas for code, _message in store.finding_codes(sha, "risk"))


def annual_facts(store: Store, year: int) -> AnnualFacts:
    """Everything the annual report of ``year`` shows."""
    campaigns = tuple(
        campaign_figures(store, c)
        for c in sorted(store.campaigns(), key=lambda c: (c.opened_on, c.family, c.name))
        if c.opened_on.year == year
    )
    latest = latest_by_year_end(store, year)
    names = {s.id: s.name for s in store.suppliers()}
    files: dict[str, list[str]] = {}
    for sid in sorted(latest, key=lambda i: names.get(i, "")):
        for a in latest[sid]:
            files.setdefault(a.sha256, []).append(names.get(sid, f"supplier {sid}"))
    smelters = consolidate(listed_rows(store, files), store.reference_data())
    in_year = [
        _day(a.received_at)
        for rows in latest.values()
        for a in rows
        if _in_year(a.received_at, year)
    ]
    rems = store.remediations(open_only=False)
    end = f"{year + 1}-01-01"
    closed = [r for r in rems if _in_year(r.closed_at, year)]
    grievances = [g for g in store.grievances() if _in_year(g.created_at, year)]
    return AnnualFacts(
        year=year,
        as_of=max(in_year, default=None),
        campaigns=campaigns,
        registry=() if campaigns else registry_figures(store, latest, year),
        files=len(files),
        suppliers=len(latest),
        smelters=smelters,
        counts=tuple(rmap_counts(smelters)),
        risk_codes=risk_codes(store, sorted(files)),
        metal_risks=metal_risks(smelters),
        remediations_opened=sum(1 for r in rems if _in_year(r.opened_at, year)),
        remediations_closed=len(closed),
        remediations_waived=sum(1 for r in closed if r.waived),
        remediations_open=sum(
            1 for r in rems if r.opened_at < end and not (r.closed_at and r.closed_at < end)
        ),
        grievances=len(grievances),
        grievance_categories=_counted(g.category or "other" for g in grievances),
        grievance_statuses=_counted(g.status for g in grievances),
    )
