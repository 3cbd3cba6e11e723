"""The board's metadata: its shape, its permissions, and every chart's SQL run against the
synthetic program's aggregate database, with hostile names where table charts show them."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from datasette_dashboards import replace_opts_in_query

from reports.dashboard_board import SLUG, TITLE, board_metadata
from reports.dashboard_figures import HEADLINES, format_figure, headline_figures
from reports.dashboard_sql import html_text, percent_text
from tests.reports.dashboard_support import (
    HOSTILE_CAMPAIGN,
    HOSTILE_SMELTER,
    HOSTILE_SUPPLIER,
    KNOWN,
    dashboard_db,
)

ENV = "ASSAY_DASHBOARD_PASSWORD_HASH"
NO_FILTER: dict[str, str] = {}
FILTERS = [
    NO_FILTER,
    {"campaign": HOSTILE_CAMPAIGN},
    {"campaign": "CMRT 2026", "family": "CMRT", "metal": "Tin"},
    {"family": "EMRT", "metal": "Cobalt"},
]
#: Our own markup in a table cell: a link whose href holds only a path and slug parameters.
LINK = re.compile(
    r'<a href="/dashboard/[a-z_]+\?[A-Za-z0-9_]+=[A-Za-z0-9%-]*(?:&amp;[A-Za-z0-9_]+=[A-Za-z0-9%-]*)*">|</a>'
)


def board() -> dict:
    return board_metadata("dashboard", "compliance", ENV)["plugins"]["datasette-dashboards"][SLUG]


def run(db: Path, sql: str, options: dict[str, str]) -> list[sqlite3.Row]:
    """The chart's query as the plugin and Datasette run it: blocks kept only for the
    filters given, every other named parameter ''."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        params = {"campaign": "", "family": "", "metal": "", **options}
        return conn.execute(replace_opts_in_query(sql, options), params).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The program's database with every smelter high-risk and every member overdue, so the
    table charts show the hostile supplier, campaign and smelter names."""
    path = dashboard_db(tmp_path_factory.mktemp("board"))
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE smelters SET high_risk = 1")
        conn.execute("UPDATE campaign_suppliers SET overdue = 1")
    conn.close()
    return path


def test_metadata_locks_everything_to_the_user() -> None:
    meta = board_metadata("dashboard", "compliance", ENV)
    assert meta["allow"] == {"id": "compliance"}
    assert meta["allow_sql"] == {"id": "compliance"}
    assert meta["databases"]["dashboard"]["allow"] == {"id": "compliance"}
    auth = meta["plugins"]["datasette-auth-passwords"]
    assert auth == {"compliance_password_hash": {"$env": ENV}}  # the hash is never in it


@pytest.mark.parametrize("user", ["", "x_password_hash"])
def test_unusable_user_is_refused(user: str) -> None:
    with pytest.raises(ValueError):
        board_metadata("dashboard", user, ENV)


def test_board_shape() -> None:
    b = board()
    assert b["title"] == TITLE
    charts = b["charts"]
    assert [k for k in charts if charts[k]["library"] == "metric"] == [f.key for f in HEADLINES]
    for f in HEADLINES:  # the digest's query, unchanged
        assert charts[f.key]["query"] == f.sql
        assert f.rows.replace("&", "&amp;") in charts[f.key]["display"]["suffix"]
    laid_out = {slug for row in b["layout"] for slug in row}
    assert laid_out == set(charts)
    assert len({len(row) for row in b["layout"]}) == 1  # a rectangular grid
    assert set(b["filters"]) == {"campaign", "family", "metal"}
    assert all(c["db"] == "dashboard" for c in charts.values())
    for chart in charts.values():
        if chart["library"] == "vega-lite":  # no "Open in Vega Editor" (posts data away)
            assert chart["display"]["usermeta"]["embedOptions"]["actions"]["editor"] is False
    for line in (line for c in charts.values() for line in c["query"].splitlines()):
        # datasette-dashboards' block pattern does not cross lines
        assert line.count("[[") == line.count("]]")


@pytest.mark.parametrize("options", FILTERS)
def test_every_query_runs_with_every_filter(hostile_db: Path, options: dict[str, str]) -> None:
    b = board()
    for f in b["filters"].values():
        if "query" in f:
            assert run(hostile_db, f["query"], options)
    for slug, chart in b["charts"].items():
        rows = run(hostile_db, chart["query"], options)
        if chart["library"] == "metric":
            assert len(rows) == 1 and rows[0].keys() == ["value"], slug
            assert isinstance(rows[0]["value"], int | float), slug


def test_metrics_read_like_the_digest(tmp_path: Path) -> None:
    db = dashboard_db(tmp_path)
    headline = headline_figures(db)
    charts = board()["charts"]
    for f in HEADLINES:
        value = run(db, charts[f.key]["query"], NO_FILTER)[0]["value"]
        assert value == headline.value(f.key) == KNOWN[f.key]
        shown = ("%" if f.percent else "") + "</span>"
        assert charts[f.key]["display"]["suffix"].startswith(shown)
        assert format_figure(f, value).rstrip("%") == _js_number(value)


def _js_number(value: float | int) -> str:
    """How JavaScript's template string prints a JSON number."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@pytest.mark.parametrize("options", FILTERS)
def test_table_cells_are_escaped(hostile_db: Path, options: dict[str, str]) -> None:
    seen = ""
    for slug, chart in board()["charts"].items():
        if chart["library"] != "table":
            continue
        for row in run(hostile_db, chart["query"], options):
            for cell in row:
                if isinstance(cell, str):
                    seen += cell
                    bare = LINK.sub("", cell)
                    assert not set("<>\"'") & set(bare), (slug, cell)
    if not options:  # every hostile name reached a table, escaped
        for name in (HOSTILE_SUPPLIER, HOSTILE_SMELTER):
            assert _escaped(name) in seen
            assert name not in seen
        assert _escaped(HOSTILE_CAMPAIGN) in seen


def test_empty_database_still_renders(tmp_path: Path) -> None:
    """No rows anywhere: a metric still has one value, a table chart one (empty) row (the
    plugin reads a table's columns from its first row and throws on none)."""
    db = dashboard_db(tmp_path)
    conn = sqlite3.connect(db)
    with conn:
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            conn.execute(f"DELETE FROM {table}")
    conn.close()
    for options in FILTERS:
        for slug, chart in board()["charts"].items():
            rows = run(db, chart["query"], options)
            if chart["library"] in ("metric", "table"):
                assert len(rows) == 1, slug
                assert rows[0].keys(), slug


def _escaped(text: str) -> str:
    for old, new in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#39;")):
        text = text.replace(old, new)
    return text


def test_sql_helpers() -> None:
    conn = sqlite3.connect(":memory:")
    hostile = "<a href=\"x\" onclick='y'>&amp;"
    assert conn.execute(f"SELECT {html_text('?')}", [hostile]).fetchone()[0] == _escaped(hostile)
    assert conn.execute(f"SELECT {html_text('NULL')}").fetchone()[0] == ""
    for value in (0.125, 0.135, 0.5, 0.625, 0.875, 0.994, 0.995, 1.0, 0.0):
        shown = conn.execute(f"SELECT {percent_text(':v')}", {"v": value}).fetchone()[0]
        assert shown == f"{value:.0%}", value
    assert conn.execute(f"SELECT {percent_text('NULL')}").fetchone()[0] == "–"


@pytest.mark.parametrize("campaign", ["", "CMRT 2026", HOSTILE_CAMPAIGN])
def test_the_remediation_chart_counts_what_its_card_counts(tmp_path: Path, campaign: str) -> None:
    """A filter applies alike to a card and to the chart beside it."""
    db = dashboard_db(tmp_path)
    charts = board()["charts"]
    options = {"campaign": campaign} if campaign else {}
    card = run(db, charts["remediations-open"]["query"], options)[0]["value"]
    bars = run(db, charts["remediations-age"]["query"], options)
    assert sum(r["remediations"] for r in bars) == card
    assert card == {"": 2, "CMRT 2026": 2, HOSTILE_CAMPAIGN: 0}[campaign]
