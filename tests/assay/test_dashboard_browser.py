"""The board in headless Chromium (Debian's ``chromium``, driven by Playwright's bundled
driver): a login is required, every chart renders without a console error, the headline
numbers read exactly as the digest prints them, and hostile names stay text."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reports.dashboard_board import board_metadata
from reports.dashboard_figures import HEADLINES, format_figure, headline_figures
from tests.assay.dashboard_support import ENV, PASSWORD, USER, Dashboard, start
from tests.reports.dashboard_support import HOSTILE_CAMPAIGN, HOSTILE_SUPPLIER, KNOWN

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "the playwright package"
    else:
        missing = "" if CHROMIUM.exists() else "/usr/bin/chromium (apt-get install chromium)"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing} is missing; .ci/run (scripts/test) must install it")
        pytest.skip(f"{missing} is missing")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    yield from start(tmp_path_factory.mktemp("dashboard"))


def _page(browser: Any, board: Dashboard) -> tuple[Any, list[str], list[str]]:
    """A fresh page; (page, console and page errors, URLs requested elsewhere)."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    errors: list[str] = []
    elsewhere: list[str] = []
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on(
        "request",
        lambda r: (
            None if r.url.startswith((board.url, "data:", "blob:")) else elsewhere.append(r.url)
        ),
    )
    return page, errors, elsewhere


def test_no_board_without_a_login(browser: Any, board: Dashboard) -> None:
    page, _errors, _ = _page(browser, board)
    page.goto(board.url + "/-/dashboards/assay")
    assert page.url.endswith("/-/login")
    assert page.locator(".dashboard-grid").count() == 0
    page.fill("input[name=username]", USER)
    page.fill("input[name=password]", "wrong password")
    page.click("form input[type=submit]")
    assert "Invalid username or password" in page.content()
    page.goto(board.url + "/-/dashboards/assay")
    assert page.url.endswith("/-/login")
    page.context.close()


def test_board_renders_every_chart(browser: Any, board: Dashboard) -> None:
    page, errors, elsewhere = _page(browser, board)
    page.goto(board.url + "/-/dashboards/assay")
    page.fill("input[name=username]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("form input[type=submit]")
    page.wait_for_url("**/-/dashboards/assay")
    charts = board_metadata("dashboard", USER, ENV)["plugins"]["datasette-dashboards"]["assay"][
        "charts"
    ]
    for slug, chart in charts.items():
        rendered = {
            "metric": f"#chart-{slug} .figure",
            "table": f"#chart-{slug} table td",
            "vega-lite": f"#chart-{slug} svg, #chart-{slug} canvas",
        }[chart["library"]]
        page.wait_for_selector(rendered, timeout=20_000)
    page.wait_for_load_state("networkidle")

    headline = headline_figures(board.db)
    for f in HEADLINES:
        shown = page.inner_text(f"#chart-{f.key} .figure").strip()
        assert shown == format_figure(f, headline.value(f.key)) == format_figure(f, KNOWN[f.key])
        assert page.get_attribute(f"#chart-{f.key} a.rows", "href") == f.rows

    # hostile supplier and campaign names are shown as text and run nothing
    text = page.inner_text("body")
    assert HOSTILE_SUPPLIER in text and HOSTILE_CAMPAIGN in text
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert errors == []
    assert elsewhere == []  # every script, style and datum from this server

    # a bar links to the rows behind it (vega follows the mark's href)
    page.click("#chart-suppliers-status g.mark-rect path >> nth=0")
    page.wait_for_url("**/dashboard/campaign_suppliers?campaign_id=*&status=*")
    assert page.locator("table.rows-and-columns tbody tr").count() >= 1
    page.goto(board.url + "/-/dashboards/assay")

    # a filter narrows the figures (CMRT 2026: 2 of 4 members responded)
    page.select_option("#campaign", "CMRT 2026")
    page.click(".dashboard-filters input[type=submit]")
    page.wait_for_selector("#chart-response-rate .figure", timeout=20_000)
    assert page.inner_text("#chart-response-rate .figure").strip() == "50%"
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert errors == []
    page.context.close()
