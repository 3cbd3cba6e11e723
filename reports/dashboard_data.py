"""What the dashboard shows, read from Assay's store as plain rows (one dict per row).

The figures come from the same functions as the terminal and Slack answers, so the board
never disagrees with them: :func:`reports.campaign_status.campaign_status` (status, grade,
overdue, response figures), :func:`reports.smelter_source.consolidated` (the consolidated
smelter list and its RMAP standings), the store's remediations, and the grievances' status
and category only (the case's texts are never read: they are encrypted and stay so).

Only the fields the charts need are read; :mod:`reports.dashboard_db` fits each to its column
(cleaning outside text) and writes them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from program.campaign import counts_as_response
from program.smelter_list import SmelterList
from storage.campaign_models import Campaign
from storage.store import Store

from .campaign_status import CampaignStatus, campaign_status, member_views
from .smelter_source import consolidated

Row = dict[str, Any]
THREE_TG = ("Gold", "Tantalum", "Tin", "Tungsten")

#: Open remediations by age (days since opened): upper bound (exclusive), label.
AGE_BANDS: tuple[tuple[int, str], ...] = (
    (30, "0-29 days"),
    (90, "30-89 days"),
    (180, "90-179 days"),
    (10**9, "180+ days"),
)


def age_band(days: int) -> str:
    return next(label for limit, label in AGE_BANDS if days < limit)


def _day(stamp: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(stamp[:10]) if stamp else None
    except ValueError:
        return None


def campaign_rows(status: CampaignStatus) -> tuple[Row, list[Row]]:
    """The campaign's line and one row per supplier."""
    c, f = status.campaign, status.figures
    line = {
        "campaign_id": c.id,
        "campaign": c.name,
        "family": c.family,
        "state": c.state,
        "opened_on": c.opened_on.isoformat(),
        "deadline": c.deadline.isoformat(),
        "final_deadline": c.final_deadline.isoformat(),
        "suppliers": f.suppliers,
        "responded": f.responded,
        "accepted": f.accepted,
        "response_rate": f.response_rate,
        "category": f.response_category,
        "overdue": len(status.overdue),
    }
    suppliers = [
        {
            "campaign_id": c.id,
            "campaign": c.name,
            "family": c.family,
            "supplier_id": r.supplier_id,
            "supplier": r.name,
            "status": r.status,
            "grade": r.grade,
            "grade_reasons": "; ".join(r.grade_reasons),
            "metals": ",".join(r.metals),
            "responded": r.responded,
            "overdue": r.overdue,
            "last_file_date": r.last_file_date,
            "reminders_sent": r.reminders_sent,
        }
        for r in status.rows
    ]
    return line, suppliers


def response_days(store: Store, campaign: Campaign, as_of: dt.date, target: float) -> Iterator[Row]:
    """The cumulative response rate per day, for all suppliers and per registered metal, from
    the day the campaign opened to ``as_of`` (or its final deadline, when earlier)."""
    firsts: list[tuple[tuple[str, ...], dt.date | None]] = []
    for v in member_views(store, campaign, as_of, declarations=False):
        answered = [
            a.received
            for a in v.attempts
            if counts_as_response(a, campaign.family) and a.received <= as_of
        ]
        firsts.append((v.metals, min(answered) if answered else None))
    groups: dict[str, list[dt.date | None]] = {"All": [d for _, d in firsts]}
    for metals, first in firsts:
        for metal in metals:
            groups.setdefault(metal, []).append(first)
    end = min(as_of, campaign.final_deadline)
    days = max(0, (end - campaign.opened_on).days)
    for metal, dates in groups.items():
        for n in range(days + 1):
            day = campaign.opened_on + dt.timedelta(days=n)
            responded = sum(1 for d in dates if d is not None and d <= day)
            yield {
                "campaign_id": campaign.id,
                "campaign": campaign.name,
                "family": campaign.family,
                "metal": metal,
                "day": day.isoformat(),
                "day_number": n,
                "suppliers": len(dates),
                "responded": responded,
                "response_rate": round(responded / len(dates), 4) if dates else 0.0,
                "target": target,
            }


def smelter_rows(
    smelters: SmelterList, campaign: Campaign | None, ids: Mapping[str, int]
) -> tuple[list[Row], list[Row]]:
    """The consolidated list's rows (campaign 0: every registered supplier) and who lists each
    smelter that is high-risk or not yet conformant (the ones somebody has to chase)."""
    cid_, name = (campaign.id, campaign.name) if campaign else (0, "")
    rows: list[Row] = []
    listed: list[Row] = []
    for e in smelters.entries:
        family = campaign.family if campaign else ("CMRT" if e.metal in THREE_TG else "EMRT")
        risky = bool(e.covered_country or e.cahra_country or e.risky_mine_countries)
        rows.append(
            {
                "campaign_id": cid_,
                "campaign": name,
                "family": family,
                "metal": e.metal,
                "cid": e.cid,
                "smelter": e.name,
                "country": e.country,
                "standing": e.standing if e.standing != "no-list" else "not-covered",
                "list_date": e.list_date,
                "suppliers": len(e.suppliers),
                "covered_country": e.covered_country,
                "cahra_country": e.cahra_country,
                "risky_mines": ", ".join(e.risky_mine_countries),
                "high_risk": risky,
                "risk": "; ".join(e.flags),
            }
        )
        if e.standing == "conformant" and not risky:
            continue  # nothing to chase: the suppliers behind it are not listed
        listed.extend(
            {
                "campaign_id": cid_,
                "campaign": name,
                "metal": e.metal,
                "cid": e.cid,
                "supplier_id": ids.get(s, 0),
                "supplier": s,
            }
            for s in e.suppliers
        )
    return rows, listed


def remediation_rows(store: Store, as_of: dt.date) -> Iterator[Row]:
    for r in store.remediations(open_only=False):
        opened = _day(r.opened_at) or as_of
        closed = _day(r.closed_at)
        age = max(0, ((closed or as_of) - opened).days)
        yield {
            "remediation_id": r.id,
            "supplier_id": r.supplier_id,
            "supplier": r.supplier,
            "state": "open" if closed is None else ("waived" if r.waived else "closed"),
            "opened_on": opened.isoformat(),
            "closed_on": closed.isoformat() if closed else "",
            "age_days": age,
            "age_band": age_band(age),
            "smelters": len(r.cids),
            "cids": list(r.cids),
        }


def grievance_rows(store: Store) -> Iterator[Row]:
    """Counts by status and category: the only grievance figures the dashboard has."""
    counted = Counter((g.status, g.category or "uncategorised") for g in store.grievances())
    for (status, category), n in sorted(counted.items()):
        yield {"status": status, "category": category, "grievances": n}


def dashboard_rows(
    store: Store,
    as_of: dt.date,
    *,
    target: float = 0.9,
    current_versions: Mapping[str, str] | None = None,
    stale_after_days: int = 400,
) -> dict[str, list[Row]]:
    """Every table's rows (``build`` included) as of a day."""
    out: dict[str, list[Row]] = {t: [] for t in ("campaigns", "campaign_suppliers")}
    out["response_daily"] = []
    reference = store.reference_data()
    ids = {s.name: s.id for s in store.suppliers()}
    everyone = consolidated(store, None, reference)
    out["smelters"], out["smelter_suppliers"] = smelter_rows(everyone, None, ids)
    for campaign in store.campaigns("open"):
        status = campaign_status(
            store,
            campaign,
            as_of,
            current_versions=current_versions,
            stale_after_days=stale_after_days,
        )
        line, suppliers = campaign_rows(status)
        out["campaigns"].append(line)
        out["campaign_suppliers"].extend(suppliers)
        out["response_daily"].extend(response_days(store, campaign, as_of, target))
        rows, listed = smelter_rows(consolidated(store, campaign, reference), campaign, ids)
        out["smelters"].extend(rows)
        out["smelter_suppliers"].extend(listed)
    out["remediations"] = list(remediation_rows(store, as_of))
    out["grievance_counts"] = list(grievance_rows(store))
    dates = [r.as_of.isoformat() for r in reference.rmap_lists if r.as_of]
    out["build"] = [
        {
            "as_of": as_of.isoformat(),
            "built_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            "response_target": target,
            "rmap_list_date": max(dates) if dates else "",
            "schema_version": 0,  # set by the writer
        }
    ]
    return out
