"""The daily digest: the board's headline figures in the compliance channel and the alerts log.

Rendered on the console and in Slack (outside names escaped, the link only when it cannot
break Slack's markup), equal to the aggregate database's figures on the synthetic program of
:mod:`tests.reports.dashboard_support`, queued once a day, and kept fresh by ``assay serve``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from assay import dashboard_run
from assay.config import Config, parse_config
from assay.dashboard_run import DashboardKeeper, digest_key, queue_program_digest
from assay.serve import Service
from bot.alerts import POST_MAX, render_alert
from program.outbox import (
    DigestCampaign,
    DigestFigure,
    OutboxError,
    ProgramDigest,
    decode_alert,
)
from reports.dashboard_figures import FIGURE_BY_KEY, HEADLINES, format_figure, headline_figures
from storage.mail import OutboxItem
from storage.store import Store
from tests.reports.dashboard_support import AS_OF, HOSTILE_CAMPAIGN, KNOWN, program_store
from tests.slack_stub import SlackStub

ASSAY = shutil.which("assay", path=str(Path(sys.executable).parent)) or "assay"
URL = "https://board.example.test/-/dashboards/assay"
HOSTILE = ("<!channel> now", "*x* Metals", "<http://evil.example.test|x> Mining")


def _digest(names: tuple[str, ...] = HOSTILE, url: str = URL) -> ProgramDigest:
    return ProgramDigest(
        as_of="2026-11-20",
        target=0.9,
        figures=(
            DigestFigure("response-rate", "Response rate, open campaigns", "87.5%"),
            DigestFigure("overdue", "Suppliers overdue", "12"),
        ),
        campaigns=tuple(DigestCampaign(n, "CMRT", 3, 4, "75%", 1) for n in names),
        url=url,
    )


# -- rendering ----------------------------------------------------------------------------


def test_the_console_shows_dashboard_lines_with_the_names_as_they_are() -> None:
    text = render_alert(_digest((*HOSTILE, "two\nlines\x1b[31m")))
    lines = text.splitlines()
    assert all(line.startswith("[dashboard] ") for line in lines)
    assert lines[0] == "[dashboard] Program digest for 2026-11-20 (response target 90%)"
    assert "[dashboard] • Response rate, open campaigns: 87.5%" in lines
    assert "[dashboard] • Suppliers overdue: 12" in lines
    for name in HOSTILE:  # plain text on the console
        assert f"[dashboard] • {name} (CMRT): 3 of 4 answered (75%); 1 overdue" in lines
    assert "[dashboard] • two lines [31m (CMRT): 3 of 4 answered (75%); 1 overdue" in lines
    assert "\x1b" not in text and len(lines) == 9  # a name never adds a line
    assert lines[-1] == f"[dashboard] Dashboard: {URL}"


def test_slack_escapes_every_outside_name_and_links_the_dashboard() -> None:
    text = render_alert(_digest(), slack=True)
    assert text.startswith("*Program digest for 2026-11-20 (response target 90%)*\n")
    assert "<!channel>" not in text and "<http://evil" not in text
    assert "• &lt;!channel&gt; now (CMRT): 3 of 4 answered (75%); 1 overdue" in text
    assert "• &lt;http://evil.example.test|x&gt; Mining (CMRT)" in text
    # A name's asterisks stay its own: never inside our bold, which could not be closed.
    assert "\n• *x* Metals (CMRT)" in text
    assert text.endswith(f"\n<{URL}|Open the dashboard>")
    assert text.count("<") == 1  # the one link is ours


@pytest.mark.parametrize(
    ("url", "last"),
    [
        (URL, f"<{URL}|Open the dashboard>"),
        ("http://127.0.0.1:8001/-/dashboards/assay", "<http://127.0.0.1:8001/-/dashboards/assay|"),
        ("https://b.example.test/?a=1&b=2", "<https://b.example.test/?a=1&amp;b=2|Open the"),
        ("https://b.example.test/a|<!channel>", "Dashboard: https://b.example.test/a|&lt;!channel"),
        ("https://b.example.test/a>b", "Dashboard: https://b.example.test/a&gt;b"),
        ("javascript:alert(1)", "Dashboard: javascript:alert(1)"),
        ("https://b.example.test/a b", "Dashboard: https://b.example.test/a b"),
    ],
)
def test_the_link_is_a_link_only_when_it_cannot_break_slack_markup(url: str, last: str) -> None:
    text = render_alert(_digest(("Plain Co",), url), slack=True)
    assert text.splitlines()[-1].startswith(last)
    assert text.count("<") == (1 if last.startswith("<") else 0)


def test_without_a_url_there_is_no_link_line() -> None:
    for slack in (False, True):
        text = render_alert(_digest(("Plain Co",), ""), slack=slack)
        assert "Dashboard" not in text and "Open the dashboard" not in text
        assert text.splitlines()[-1].endswith("(75%); 1 overdue")


def test_a_long_digest_stays_within_a_post_and_keeps_its_link() -> None:
    names = tuple(f"{i:02d} " + "&<" * 150 for i in range(40))
    for slack in (False, True):
        text = render_alert(_digest(names), slack=slack)
        assert len(text) <= POST_MAX
        assert text.endswith(f"<{URL}|Open the dashboard>" if slack else f"Dashboard: {URL}")
    text = render_alert(_digest(tuple(f"Co {i}" for i in range(40))))
    assert "…and 30 more (on the dashboard)" in text and "Co 9 " in text and "Co 10 " not in text


def test_the_digest_survives_the_outbox_and_a_bad_row_is_refused() -> None:
    alert = _digest()
    assert decode_alert(alert.to_json()) == alert
    broken = alert.to_json().replace('"key": "overdue", ', "")
    with pytest.raises(
        OutboxError, match=re.escape("program-digest.figures[1]: field 'key' missing")
    ):
        decode_alert(broken)


# -- queuing on the synthetic program ------------------------------------------------------


def _config(tmp_path: Path, db: Path, **sections: Any) -> Config:
    raw: dict[str, Any] = {
        "assay": {"database": str(db)},
        "screening": {"as_of": AS_OF.isoformat()},
        "mail": {
            "seed_examples": False,
            "suppliers": {"path": str(tmp_path / "mail")},
            "grievances": {"enabled": False},
        },
        "smtp": {"outbox_dir": str(tmp_path / "outbox")},
        "alerts": {"log_file": str(tmp_path / "alerts.log")},
        "dashboard": {"database": str(tmp_path / "board" / "dashboard.db"), "url": URL},
    }
    for name, values in sections.items():
        raw[name] = {**raw.get(name, {}), **values}
    return parse_config(raw)


def _queued(store: Store, day: dt.date = AS_OF) -> ProgramDigest:
    row = store.outbox_by_key(digest_key(day))
    assert row is not None
    alert = decode_alert(row.payload)
    assert isinstance(alert, ProgramDigest)
    return alert


def test_the_digest_holds_the_figures_of_the_database(tmp_path: Path) -> None:
    db = program_store(tmp_path)
    config = _config(tmp_path, db)
    store = Store(db)
    assert queue_program_digest(store, config, AS_OF)
    alert = _queued(store)
    assert [f.key for f in alert.figures] == [f.key for f in HEADLINES]
    headline = headline_figures(config.dashboard.path)
    for f in alert.figures:
        assert f.text == format_figure(FIGURE_BY_KEY[f.key], KNOWN[f.key]), f.key
        assert f.text == headline.text(f.key) and f.title == FIGURE_BY_KEY[f.key].title
    assert {f.key: f.text for f in alert.figures}["response-rate"] == "50%"
    lines = {c.campaign: c for c in alert.campaigns}
    assert lines["CMRT 2026"] == DigestCampaign("CMRT 2026", "CMRT", 2, 4, "50%", 3)
    assert lines[HOSTILE_CAMPAIGN] == DigestCampaign(HOSTILE_CAMPAIGN, "EMRT", 1, 2, "50%", 0)
    assert (alert.as_of, alert.target, alert.url) == ("2026-11-20", 0.9, URL)
    slack = render_alert(alert, slack=True)
    assert (
        "<!here>" not in slack and "&lt;b&gt;EMRT&lt;/b&gt; 2026 &lt;!here&gt; &amp; *co*" in slack
    )


def test_the_digest_is_queued_once_a_day(tmp_path: Path) -> None:
    db = program_store(tmp_path)
    config = _config(tmp_path, db)
    store = Store(db)
    assert queue_program_digest(store, config, AS_OF)
    before = store.outbox_count(channel="alert")
    assert not queue_program_digest(store, config, AS_OF)  # a restart the same day
    assert store.outbox_count(channel="alert") == before
    assert queue_program_digest(store, config, AS_OF + dt.timedelta(days=1))
    assert store.outbox_count(channel="alert") == before + 1


def test_a_failed_build_is_one_line_and_no_digest(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = program_store(tmp_path)
    (tmp_path / "board" / "dashboard.db").mkdir(parents=True)  # a folder: it cannot be built
    config = _config(tmp_path, db)
    store = Store(db)
    with caplog.at_level(logging.ERROR, logger="assay.dashboard_run"):
        assert not queue_program_digest(store, config, AS_OF)
        keeper = DashboardKeeper(config, config.clock())
        keeper.tick(store, changed=True)  # tries the digest once, then waits
        keeper.tick(store, changed=True)
    assert store.outbox_by_key(digest_key(AS_OF)) is None
    assert len(caplog.records) == 2  # one per try, not one per pass
    assert all("was not refreshed" in r.getMessage() for r in caplog.records)


# -- the service ---------------------------------------------------------------------------


class Moving:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


def test_the_service_queues_the_digest_from_digest_at_and_once(tmp_path: Path) -> None:
    db = program_store(tmp_path)
    zone = ZoneInfo("Europe/Berlin")
    config = _config(
        tmp_path,
        db,
        assay={"time_zone": "Europe/Berlin"},
        screening={"as_of": ""},
        dashboard={"digest_at": "09:30"},
    )
    source = Moving(dt.datetime(2026, 11, 20, 9, 0, tzinfo=zone))
    keeper = DashboardKeeper(config, dataclasses.replace(config.clock(), source=source))
    store = Store(db)
    keeper.tick(store, changed=False)
    assert store.outbox_by_key(digest_key(AS_OF)) is None
    assert config.dashboard.path.exists()  # not the digest's hour, but the board is built
    source.at = dt.datetime(2026, 11, 20, 9, 30, tzinfo=zone)
    keeper.tick(store, changed=False)
    assert _queued(store).as_of == "2026-11-20"
    count = store.outbox_count(channel="alert")
    keeper.tick(store, changed=False)
    assert store.outbox_count(channel="alert") == count
    off = DashboardKeeper(dataclasses.replace(config, dashboard=dataclasses.replace(
        config.dashboard, digest=False)), keeper.clock)  # fmt: skip
    source.at = dt.datetime(2026, 11, 21, 12, 0, tzinfo=zone)
    off.tick(store, changed=False)
    assert store.outbox_by_key(digest_key(AS_OF + dt.timedelta(days=1))) is None


def test_rebuilds_follow_changes_from_any_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = program_store(tmp_path)
    config = _config(tmp_path, db, dashboard={"digest": False})
    builds: list[dt.date] = []
    monkeypatch.setattr(
        dashboard_run, "refresh_dashboard", lambda s, c, t: builds.append(t) or True
    )
    monkeypatch.setattr(dashboard_run, "REFRESH_EVERY", 0.0)
    monkeypatch.setattr(dashboard_run, "BUSY_FACTOR", 0.0)
    keeper = DashboardKeeper(config, config.clock())
    store, other = Store(db), Store(db)
    keeper.tick(store, changed=False)
    assert len(builds) == 1  # the first pass builds
    keeper.tick(store, changed=False)
    assert len(builds) == 1  # nothing changed
    other.enqueue(OutboxItem("alert", "other:1", _digest()))  # another connection commits
    keeper.tick(store, changed=False)
    assert len(builds) == 2
    keeper.tick(store, changed=True)  # this thread's own work
    assert len(builds) == 3
    monkeypatch.setattr(dashboard_run, "REFRESH_EVERY", 60.0)
    keeper.tick(store, changed=True)  # builds, then waits a minute before the next
    keeper.tick(store, changed=True)
    assert len(builds) == 4
    keeper._next_build = 0.0  # the minute has passed: the change left waiting is built
    keeper.tick(store, changed=False)
    assert len(builds) == 5
    # A slow build (seconds on thousands of suppliers) waits a multiple of its own time.
    monkeypatch.setattr(dashboard_run, "REFRESH_EVERY", 0.0)
    monkeypatch.setattr(dashboard_run, "BUSY_FACTOR", 4.0)
    monkeypatch.setattr(
        dashboard_run,
        "refresh_dashboard",
        lambda s, c, t: time.sleep(0.05) or builds.append(t) or True,
    )
    keeper._next_build = 0.0
    keeper.tick(store, changed=True)
    assert len(builds) == 6
    keeper.tick(store, changed=True)  # 4 x 0.05 s have not passed
    assert len(builds) == 6
    time.sleep(0.25)
    keeper.tick(store, changed=False)
    assert len(builds) == 7
    quiet = DashboardKeeper(
        dataclasses.replace(config, dashboard=dataclasses.replace(config.dashboard, refresh=False)),
        config.clock(),
    )
    quiet.tick(store, changed=True)
    assert len(builds) == 7


@pytest.mark.e2e
def test_serve_once_builds_the_board_and_logs_the_digest_without_slack(tmp_path: Path) -> None:
    db = program_store(tmp_path)
    config = tmp_path / "assay.toml"
    config.write_text(
        f'[assay]\ndatabase = "{db}"\n[screening]\nas_of = {AS_OF.isoformat()}\n'
        "[mail]\nseed_examples = false\n[mail.grievances]\nenabled = false\n"
        '[dashboard]\ndatabase = "board/dashboard.db"\ndigest_at = "23:59"\n',
        "utf-8",
    )
    for _ in range(2):  # the second run the same day sends nothing again
        proc = subprocess.run(
            [ASSAY, "--config", str(config), "serve", "--once"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
    board = tmp_path / "board" / "dashboard.db"
    with sqlite3.connect(board) as conn:
        assert conn.execute("select count(*) from campaigns").fetchone() == (2,)
        assert conn.execute("select as_of from build").fetchone() == ("2026-11-20",)
    log = (tmp_path / "var" / "alerts.log").read_text("utf-8")
    assert log.count("[dashboard] Program digest for 2026-11-20 (response target 90%)") == 1
    headline = headline_figures(board)
    for key, title, _value in headline.figures:
        assert f"[dashboard] • {title}: {headline.text(key)}\n" in log
    assert "[dashboard] Dashboard: http://127.0.0.1:8001/-/dashboards/assay\n" in log


def test_the_digest_reaches_slack(
    tmp_path: Path, stub: SlackStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    db = program_store(tmp_path)
    config = _config(tmp_path, db, slack={"channel": "C1", "api_url": stub.url + "/api/"})
    Service(config).run_once()
    posts = [
        p
        for p in stub.called("chat.postMessage")
        if p["metadata"]["event_payload"]["key"] == digest_key(AS_OF)
    ]
    assert len(posts) == 1
    text = posts[0]["text"]
    assert text.startswith("*Program digest for 2026-11-20 (response target 90%)*")
    assert text.endswith(f"<{URL}|Open the dashboard>")
    assert "<!here>" not in text and "&lt;!here&gt;" in text
    assert not (tmp_path / "alerts.log").exists() or "Program digest" not in (
        tmp_path / "alerts.log"
    ).read_text("utf-8")


def test_the_running_service_builds_the_board_and_queues_the_digest(tmp_path: Path) -> None:
    db = program_store(tmp_path)
    config = _config(tmp_path, db, dashboard={"digest_at": "00:00"})
    stop = threading.Event()
    service = Service(config)
    runner = threading.Thread(target=service.run_forever, args=(stop,), kwargs={"drain_every": 0.2})
    runner.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "Program digest" not in _log(tmp_path):
            time.sleep(0.2)
    finally:
        stop.set()
        runner.join(timeout=60)
    assert not runner.is_alive()
    assert "[dashboard] Program digest for 2026-11-20" in _log(tmp_path)
    headline = headline_figures(config.dashboard.path)
    assert f"[dashboard] • Suppliers overdue: {headline.text('overdue')}\n" in _log(tmp_path)


def _log(tmp_path: Path) -> str:
    path = tmp_path / "alerts.log"
    return path.read_text("utf-8") if path.exists() else ""


def test_a_new_day_rebuilds_without_a_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ages, overdue counts and the response curves move with the date alone."""
    db = program_store(tmp_path)
    config = _config(tmp_path, db, screening={"as_of": ""}, dashboard={"digest": False})
    builds: list[dt.date] = []
    monkeypatch.setattr(
        dashboard_run, "refresh_dashboard", lambda s, c, t: builds.append(t) or True
    )
    monkeypatch.setattr(dashboard_run, "REFRESH_EVERY", 0.0)
    monkeypatch.setattr(dashboard_run, "BUSY_FACTOR", 0.0)
    source = Moving(dt.datetime(2026, 11, 20, 23, 0, tzinfo=dt.UTC))
    keeper = DashboardKeeper(config, dataclasses.replace(config.clock(), source=source))
    store = Store(db)
    keeper.tick(store, changed=False)
    keeper.tick(store, changed=False)
    assert builds == [dt.date(2026, 11, 20)]
    source.at = dt.datetime(2026, 11, 21, 0, 5, tzinfo=dt.UTC)
    keeper.tick(store, changed=False)
    assert builds == [dt.date(2026, 11, 20), dt.date(2026, 11, 21)]


def test_a_campaign_rate_reads_as_on_the_board() -> None:
    from reports.dashboard_figures import CampaignLine, Headline

    line = CampaignLine("CMRT 2026", "CMRT", 3, 2, 0.6667, 1)
    digest = dashboard_run.program_digest(Headline("2026-11-20", 0.9, (), (line,)), URL)
    assert digest.campaigns[0].rate == "67%"  # reports.dashboard_sql.percent_text's 2/3
