"""The Datasette metadata of the dashboard: the ``assay`` board, its login and its permissions.

Pure: builds a dict, imports no datasette (the server, :mod:`assay.dashboard_server`, does).

Design decisions:

- **One figure, one query.** Each headline number is a ``metric`` chart running the SQL of
  :data:`reports.dashboard_figures.HEADLINES` unchanged, the query the daily digest runs, so
  the board and the digest cannot disagree: a percentage is computed and rounded in SQL, the
  browser prints the number as ``format_figure`` does (``87.5``, ``90``) and the chart adds
  the ``%``. The number sits in a ``<span class="figure">``, followed by a "rows" link.
- **Escaping in SQL.** datasette-dashboards puts every cell of a ``table`` chart and the
  metric's text into ``innerHTML``. Every text column of a table chart is therefore wrapped in
  :func:`html_text` (nested ``replace()`` for ``& < > " '``); numbers are numbers. The vega-lite
  charts draw text as SVG text nodes (no markup is parsed), so their columns stay raw.
- **Links from integers and slugs only.** Every figure links to the Datasette rows behind it;
  a link is built from id columns and slug columns (status, grade, standing, metal), run
  through :func:`url_value` anyway, never from a supplier, smelter or campaign name.
- **Filters** follow the spec's convention: ``:campaign`` (a name; '' = none chosen),
  ``:family``, ``:metal`` inside ``[[ ... ]]`` blocks, which datasette-dashboards drops when
  the filter is empty. Its block pattern does not span lines, so each block is on one line.
  Smelter charts use ``campaign = :campaign`` outside a block: no campaign chosen gives the
  campaign-0 rows (every registered supplier's latest files).
- **Access**: ``allow`` (view-instance) and ``allow_sql`` name the one configured user;
  datasette-auth-passwords reads ``{user}_password_hash`` from the environment variable
  (``{"$env": ...}``), so the hash is never in a file.
"""

from __future__ import annotations

from typing import Any

from reports.dashboard_figures import (
    CAMPAIGN,
    FAMILY,
    HEADLINES,
    IN_CAMPAIGN,
    MEMBER_METAL,
    METAL,
    Figure,
)
from reports.dashboard_sql import href as _href
from reports.dashboard_sql import html_text, percent_text, sql_string
from reports.dashboard_sql import link as _link

SLUG = "assay"
TITLE = "Responsible minerals program"
FAMILIES = ("CMRT", "EMRT", "CRT", "AMRT")
AGE_BANDS = ("0-29 days", "30-89 days", "90-179 days", "180+ days")


def _rows_path(figure: Figure, db: str) -> str:
    """The figure's rows page under this database's name."""
    rows = figure.rows
    if rows.startswith("/dashboard/"):
        rows = f"/{db}/" + rows[len("/dashboard/") :]
    return rows


def _metric(figure: Figure, db: str) -> dict[str, Any]:
    href = _rows_path(figure, db).replace("&", "&amp;").replace('"', "&quot;")
    return {
        "title": figure.title,
        "db": db,
        "query": figure.sql,  # the digest's query, unchanged
        "library": "metric",
        "display": {
            "field": "value",
            "prefix": '<span class="figure">',
            "suffix": (
                ("%" if figure.percent else "") + f'</span> <a class="rows" href="{href}" '
                'style="font-size:0.8rem;font-weight:normal">rows</a>'
            ),
        },
    }


# -- filter blocks (one line each), the figures' own --------------------------------------
_CAMPAIGN = CAMPAIGN
_FAMILY = FAMILY
_METAL = METAL
_MEMBER_METAL = MEMBER_METAL
_OPEN = "campaign_id IN (SELECT campaign_id FROM campaigns WHERE state = 'open')"


#: Every vega-lite chart: the shipped Vega-Lite's schema (no version warning), a fixed height,
#: SVG, and vega-embed's menu without "Open in Vega Editor" (which would post the data elsewhere).
_VEGA_DEFAULTS: dict[str, Any] = {
    "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
    "height": 220,
    "usermeta": {
        "embedOptions": {
            "renderer": "svg",  # marks with an href become <a> links (canvas: click handlers)
            "actions": {"export": True, "source": False, "compiled": False, "editor": False},
        }
    },
}


def _vega(title: str, db: str, query: str, display: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": title,
        "db": db,
        "query": query,
        "library": "vega-lite",
        "display": {**_VEGA_DEFAULTS, **display},
    }


def _table(title: str, db: str, query: str) -> dict[str, Any]:
    """A table chart. datasette-dashboards reads the column names from the first row (and
    raises on none), so an empty result becomes one row of empty cells."""
    query = (
        f"WITH shown AS (\n{query}\n)\nSELECT * FROM shown UNION ALL "
        "SELECT shown.* FROM (SELECT 1) LEFT JOIN shown ON 0 "
        "WHERE NOT EXISTS (SELECT 1 FROM shown)"
    )
    return {"title": title, "db": db, "query": query, "library": "table"}


def _curve(colour: str, named: tuple[str, ...], detail: str = "") -> dict[str, Any]:
    """A response-rate curve per ``colour`` over the days, with a dashed rule at the target;
    ``named``: the fields the tooltip shows before the day and the rate."""
    encoding: dict[str, Any] = {
        "x": {"field": "day", "type": "temporal", "title": "day", "scale": {"type": "utc"}},
        "y": {
            "field": "response_rate",
            "type": "quantitative",
            "title": "response rate",
            "axis": {"format": ".0%"},
            "scale": {"domain": [0, 1]},
        },
        "color": {"field": colour, "type": "nominal"},
        "href": {"field": "href"},
        "tooltip": [
            *({"field": f} for f in named),
            {"field": "day", "type": "temporal", "timeUnit": "utcyearmonthdate"},
            {"field": "response_rate", "format": ".0%"},
        ],
    }
    if detail:
        encoding["detail"] = {"field": detail, "type": "nominal"}
    return {
        "layer": [
            {"mark": {"type": "line", "point": True}, "encoding": encoding},
            {
                "mark": {"type": "rule", "color": "#c0392b", "strokeDash": [4, 4]},
                "encoding": {"y": {"aggregate": "max", "field": "target"}},
            },
        ]
    }


def _charts(db: str) -> dict[str, dict[str, Any]]:
    p = f"/{db}"
    return {
        "campaigns": _table(
            "Open campaigns: response rate against the target",
            db,
            f"""SELECT {_link(f"{p}/campaign_suppliers", (("campaign_id", "campaign_id"),), html_text("campaign"))} AS campaign,
  {html_text("family")} AS template, {html_text("deadline")} AS deadline,
  suppliers, responded, accepted, {percent_text("response_rate")} AS "response rate",
  {percent_text("(SELECT response_target FROM build)")} AS target,
  {html_text("category")} AS category, overdue
FROM campaigns WHERE state = 'open'
{_CAMPAIGN}
{_FAMILY}
ORDER BY deadline, campaign_id""",
        ),
        "response-campaigns": _vega(
            "Response rate over time, per open campaign (rule: target)",
            db,
            f"""SELECT campaign_id, campaign, day, day_number, response_rate, target,
  {_href(f"{p}/campaign_suppliers", (("campaign_id", "campaign_id"),))} AS href
FROM response_daily WHERE metal = 'All' AND {_OPEN}
{_CAMPAIGN}
{_FAMILY}
ORDER BY campaign_id, day""",
            _curve("campaign", ("campaign",)),
        ),
        "response-metals": _vega(
            "Response rate over time, per metal (rule: target)",
            db,
            f"""SELECT campaign_id, campaign, metal, day, response_rate, target,
  {_href(f"{p}/campaign_suppliers", (("campaign_id", "campaign_id"), ("metals__contains", "metal")))} AS href
FROM response_daily WHERE metal <> 'All' AND {_OPEN}
{_CAMPAIGN}
{_FAMILY}
{_METAL}
ORDER BY campaign_id, metal, day""",
            _curve("metal", ("metal", "campaign"), detail="campaign_id"),
        ),
        "suppliers-status": _supplier_bars(db, "status", "Suppliers by status"),
        "suppliers-grade": _supplier_bars(db, "grade", "Suppliers by grade"),
        "overdue-suppliers": _table(
            "Overdue suppliers",
            db,
            f"""SELECT {_link(f"{p}/campaign_suppliers", (("campaign_id", "campaign_id"), ("supplier_id", "supplier_id")), html_text("supplier"))} AS supplier,
  {html_text("campaign")} AS campaign, {html_text("status")} AS status,
  {html_text("grade")} AS grade, reminders_sent AS reminders,
  {html_text("last_file_date")} AS "last file"
FROM campaign_suppliers WHERE overdue > 0
{_CAMPAIGN}
{_FAMILY}
{_MEMBER_METAL}
ORDER BY campaign_id, supplier_id LIMIT 200""",
        ),
        "smelters-standing": _vega(
            "Smelters by RMAP standing, per metal (and the RMAP list's date)",
            db,
            f"""SELECT s.metal || ' (list ' || ifnull(nullif(d.list_date, ''), 'none') || ')' AS metal,
  s.standing, count(*) AS smelters,
  {_href(f"{p}/smelters", (("campaign_id", "s.campaign_id"), ("metal", "s.metal"), ("standing", "s.standing")))} AS href
FROM smelters s JOIN (
  SELECT campaign_id, metal, max(list_date) AS list_date FROM smelters GROUP BY campaign_id, metal
) d ON d.campaign_id = s.campaign_id AND d.metal = s.metal
WHERE s.campaign = :campaign
[[ AND s.family = :family ]]
[[ AND s.metal = :metal ]]
GROUP BY s.campaign_id, s.metal, s.standing ORDER BY s.metal, s.standing""",
            {
                "mark": "bar",
                "encoding": {
                    "y": {"field": "metal", "type": "nominal", "title": None},
                    "x": {"field": "smelters", "type": "quantitative", "title": "smelters"},
                    "color": {
                        "field": "standing",
                        "type": "nominal",
                        "scale": {
                            "domain": ["conformant", "active", "not-conformant", "not-covered"],
                            "range": ["#2e7d32", "#9ccc65", "#c62828", "#9e9e9e"],
                        },
                    },
                    "href": {"field": "href"},
                    "tooltip": [{"field": "metal"}, {"field": "standing"}, {"field": "smelters"}],
                },
            },
        ),
        "high-risk-smelters": _table(
            "High-risk smelters (covered or CAHRA country) and how many suppliers list them",
            db,
            f"""SELECT {html_text("smelter")} AS smelter, {html_text("cid")} AS cid,
  {html_text("metal")} AS metal, {html_text("country")} AS country,
  {html_text("standing")} AS standing,
  {_link(f"{p}/smelter_suppliers", (("campaign_id", "campaign_id"), ("metal", "metal"), ("cid", "cid")), "suppliers")} AS suppliers,
  {html_text("risk")} AS risk
FROM smelters WHERE high_risk = 1 AND campaign = :campaign
{_FAMILY}
{_METAL}
ORDER BY suppliers DESC, metal, cid LIMIT 200""",
        ),
        "remediations-age": _vega(
            "Open remediations by age",
            db,
            "WITH bands(age_band, n) AS (VALUES "
            + ", ".join(f"({sql_string(b)}, {n})" for n, b in enumerate(AGE_BANDS))
            + f""")
SELECT b.n, b.age_band, count(r.remediation_id) AS remediations,
  {_href(f"{p}/remediations", (("state", "'open'"), ("age_band", "b.age_band")))} AS href
FROM bands b LEFT JOIN remediations r ON r.age_band = b.age_band AND r.state = 'open'
  {IN_CAMPAIGN.replace("supplier_id IN", "r.supplier_id IN")}
GROUP BY b.n ORDER BY b.n""",
            {
                "mark": "bar",
                "encoding": {
                    "x": {"field": "age_band", "type": "ordinal", "sort": None, "title": "age"},
                    "y": {
                        "field": "remediations",
                        "type": "quantitative",
                        "axis": {"tickMinStep": 1},
                    },
                    "href": {"field": "href"},
                    "tooltip": [{"field": "age_band"}, {"field": "remediations"}],
                },
            },
        ),
        "grievances": _vega(
            "Grievances by status and category (counts only)",
            db,
            f"""SELECT status, category, grievances,
  {_href(f"{p}/grievance_counts", (("status", "status"), ("category", "category")))} AS href
FROM grievance_counts ORDER BY status, category""",
            {
                "mark": "bar",
                "encoding": {
                    "y": {"field": "status", "type": "nominal"},
                    "x": {
                        "field": "grievances",
                        "type": "quantitative",
                        "axis": {"tickMinStep": 1},
                    },
                    "color": {"field": "category", "type": "nominal"},
                    "href": {"field": "href"},
                    "tooltip": [
                        {"field": "status"},
                        {"field": "category"},
                        {"field": "grievances"},
                    ],
                },
            },
        ),
    }


def _supplier_bars(db: str, column: str, title: str) -> dict[str, Any]:
    href = _href(f"/{db}/campaign_suppliers", (("campaign_id", "campaign_id"), (column, column)))
    return _vega(
        f"{title}, per open campaign",
        db,
        f"""SELECT campaign_id, campaign, {column}, count(*) AS suppliers, {href} AS href
FROM campaign_suppliers WHERE 1 = 1
{_CAMPAIGN}
{_FAMILY}
{_MEMBER_METAL}
GROUP BY campaign_id, {column} ORDER BY campaign_id, {column}""",
        {
            "mark": "bar",
            "encoding": {
                "y": {"field": "campaign", "type": "nominal", "title": None},
                "x": {"field": "suppliers", "type": "quantitative", "axis": {"tickMinStep": 1}},
                "color": {"field": column, "type": "nominal"},
                "href": {"field": "href"},
                "tooltip": [{"field": "campaign"}, {"field": column}, {"field": "suppliers"}],
            },
        },
    )


def _layout(metrics: list[str]) -> list[list[str]]:
    """A 12-column grid: the headline figures in rows of up to 6, then the charts, in pairs
    or alone."""
    width = 12  # the plugin's columns are at least 100 px: 12 fit a laptop's screen
    n = len(metrics)
    if n <= 6 and n and width % n == 0:
        per_row = n
    else:  # 8 figures: two rows of 4
        per_row = next((k for k in (6, 4, 3) if n % k == 0), 6)
    rows: list[list[str]] = []
    for start in range(0, len(metrics), per_row):
        chunk = metrics[start : start + per_row]
        span = width // per_row
        row = [slug for slug in chunk for _ in range(span)]
        row += [chunk[-1]] * (width - len(row))  # a short last row: its last figure widens
        rows.append(row)
    half = width // 2
    for pair in (
        ("campaigns",),
        ("response-campaigns", "response-metals"),
        ("suppliers-status", "suppliers-grade"),
        ("overdue-suppliers",),
        ("smelters-standing", "high-risk-smelters"),
        ("remediations-age", "grievances"),
    ):
        rows.append([slug for slug in pair for _ in range(width if len(pair) == 1 else half)])
    return rows


def board(db: str) -> dict[str, Any]:
    """The datasette-dashboards config of the ``assay`` board."""
    metrics = {f.key: _metric(f, db) for f in HEADLINES}
    charts = _charts(db)
    clash = set(metrics) & set(charts)
    if clash:
        raise ValueError(f"a headline figure's key names a chart: {sorted(clash)}")
    return {
        "title": TITLE,
        "description": (
            "Aggregate figures from Assay, rebuilt after every change. Filters apply where a "
            "chart has the column; every figure and bar links to the rows behind it."
        ),
        "settings": {"allow_fullscreen": True},
        "layout": _layout(list(metrics)),
        "filters": {
            "campaign": {
                "name": "Campaign",
                "type": "select",
                "db": db,
                "query": "SELECT campaign FROM campaigns WHERE state = 'open' ORDER BY campaign",
            },
            "family": {"name": "Template", "type": "select", "options": list(FAMILIES)},
            "metal": {
                "name": "Metal",
                "type": "select",
                "db": db,
                "query": "SELECT DISTINCT metal FROM smelters ORDER BY metal",
            },
        },
        "charts": {**metrics, **charts},
    }


def board_metadata(db_name: str, user: str, password_hash_env: str) -> dict[str, Any]:
    """Datasette metadata: the board, and every page (SQL included) for ``user`` only, who
    logs in with the hash in the environment variable ``password_hash_env``."""
    if not user or "_password_hash" in user:
        raise ValueError(f"not a usable login name: {user!r}")
    only_user = {"id": user}
    return {
        "title": TITLE,
        "allow": only_user,
        "allow_sql": only_user,
        "databases": {db_name: {"allow": only_user, "allow_sql": only_user}},
        "plugins": {
            "datasette-auth-passwords": {f"{user}_password_hash": {"$env": password_hash_env}},
            "datasette-dashboards": {SLUG: board(db_name)},
        },
    }
