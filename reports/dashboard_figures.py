"""The headline figures: one SQL query each, shared by the board and the daily digest.

The board shows each figure as a metric chart running the query below (with the board's
filters in ``[[ ... ]]`` blocks, datasette-dashboards' syntax); the digest runs the same
query with no filter (:func:`strip_filters` drops the blocks as the plugin does) against the
same aggregate database. One text, one number: :func:`format_figure` prints a value as the
board's JavaScript does (``87.5`` stays ``87.5``, ``90.0`` is ``90``), so the two read alike.

Percentages are computed in SQL, rounded to one decimal, so no client rounds differently.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

_BLOCK = re.compile(r"\[\[.*?\]\]", re.S)

# Filter blocks (datasette-dashboards): a block is kept only when its parameter is set.
CAMPAIGN = "[[ AND campaign = :campaign ]]"
FAMILY = "[[ AND family = :family ]]"
METAL = "[[ AND metal = :metal ]]"
MEMBER_METAL = "[[ AND (',' || metals || ',') LIKE '%,' || :metal || ',%' ]]"
IN_CAMPAIGN = (
    "[[ AND supplier_id IN (SELECT supplier_id FROM campaign_suppliers "
    "WHERE campaign = :campaign) ]]"
)


@dataclass(frozen=True)
class Figure:
    """One headline number (its ``key`` is also the metric chart's slug on the board)."""

    key: str
    title: str
    sql: str  # one row, one column named ``value``
    rows: str  # the Datasette page listing the rows behind it
    percent: bool = False  # ``value`` is a percentage (0-100, one decimal)


HEADLINES: tuple[Figure, ...] = (
    Figure(
        "response-rate",
        "Response rate, open campaigns",
        "SELECT coalesce(round(100.0 * sum(responded) / nullif(sum(suppliers), 0), 1), 0) "
        f"AS value FROM campaigns WHERE state = 'open' {CAMPAIGN} {FAMILY}",
        "/dashboard/campaigns?state=open",
        percent=True,
    ),
    Figure(
        "overdue",
        "Suppliers overdue",
        "SELECT count(DISTINCT supplier_id) AS value FROM campaign_suppliers "
        f"WHERE overdue = 1 {CAMPAIGN} {FAMILY} {MEMBER_METAL}",
        "/dashboard/campaign_suppliers?overdue=1",
    ),
    Figure(
        "conformant",
        "Smelters RMAP conformant",
        "SELECT coalesce(round(100.0 * sum(standing = 'conformant') / "
        "nullif(sum(standing != 'not-covered'), 0), 1), 0) AS value FROM smelters "
        f"WHERE campaign = :campaign {FAMILY} {METAL}",
        "/dashboard/smelters?campaign_id=0&standing=conformant",
        percent=True,
    ),
    Figure(
        "not-conformant",
        "Smelters not yet conformant",
        "SELECT count(*) AS value FROM smelters WHERE standing IN ('active', 'not-conformant') "
        f"AND campaign = :campaign {FAMILY} {METAL}",
        "/dashboard/smelters?campaign_id=0&standing__in=active,not-conformant",
    ),
    Figure(
        "high-risk",
        "High-risk smelters",
        f"SELECT count(*) AS value FROM smelters WHERE high_risk = 1 AND campaign = :campaign "
        f"{FAMILY} {METAL}",
        "/dashboard/smelters?campaign_id=0&high_risk=1",
    ),
    Figure(
        "remediations-open",
        "Remediations open",
        f"SELECT count(*) AS value FROM remediations WHERE state = 'open' {IN_CAMPAIGN}",
        "/dashboard/remediations?state=open",
    ),
    Figure(
        "remediations-90",
        "Remediations open 90 days or more",
        "SELECT count(*) AS value FROM remediations WHERE state = 'open' AND age_days >= 90 "
        f"{IN_CAMPAIGN}",
        "/dashboard/remediations?state=open&age_days__gte=90",
    ),
    Figure(
        "grievances-open",
        "Grievances open",
        "SELECT coalesce(sum(grievances), 0) AS value FROM grievance_counts "
        "WHERE status != 'closed'",
        "/dashboard/grievance_counts?status__not=closed",
    ),
)
FIGURE_BY_KEY = {f.key: f for f in HEADLINES}


def strip_filters(sql: str) -> str:
    """The query with no filter chosen: every ``[[ ... ]]`` block dropped."""
    return " ".join(_BLOCK.sub(" ", sql).split())


def format_figure(figure: Figure, value: float | int) -> str:
    """The figure's text, as the board prints it (shortest form of the number)."""
    number = float(value)
    text = str(int(number)) if number.is_integer() else repr(number)
    return text + ("%" if figure.percent else "")


@dataclass(frozen=True)
class CampaignLine:
    campaign: str
    family: str
    suppliers: int
    responded: int
    response_rate: float  # 0-1
    overdue: int


@dataclass(frozen=True)
class Headline:
    as_of: str
    target: float  # 0-1
    figures: tuple[tuple[str, str, float | int], ...]  # (key, title, value), HEADLINES order
    campaigns: tuple[CampaignLine, ...]  # the open campaigns, by name

    def value(self, key: str) -> float | int:
        for k, _title, v in self.figures:
            if k == key:
                return v
        raise KeyError(key)

    def text(self, key: str) -> str:
        return format_figure(FIGURE_BY_KEY[key], self.value(key))


def headline_figures(path: Path) -> Headline:
    """Every headline figure of a built aggregate database, with no filter (read-only)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        values = []
        for f in HEADLINES:
            row = conn.execute(strip_filters(f.sql), {"campaign": ""}).fetchone()
            values.append((f.key, f.title, row[0] if row and row[0] is not None else 0))
        build = conn.execute("SELECT as_of, response_target FROM build").fetchone()
        lines = tuple(
            CampaignLine(*r)
            for r in conn.execute(
                "SELECT campaign, family, suppliers, responded, response_rate, overdue "
                "FROM campaigns WHERE state = 'open' ORDER BY campaign, campaign_id"
            )
        )
    finally:
        conn.close()
    as_of, target = build if build else ("", 0.0)
    return Headline(as_of, float(target), tuple(values), lines)
