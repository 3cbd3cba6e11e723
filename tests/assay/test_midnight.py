"""A service that runs for weeks knows what day it is: midnight passes under an injected clock.

The supplier intake of ``assay serve`` keeps one screener per mailbox thread for as long as
the service runs. The same handler screens the example CMRT (effective date 2 May 2026) on
the evening of 1 May and again just after midnight in the configured time zone (Auckland,
where the day turns twelve hours before it does in UTC): the effective date is "in the
future" only the first time, and each stored screening records the day it was screened
against.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from email.message import EmailMessage
from pathlib import Path

import pytest

from assay.config import parse_config
from assay.serve import Service
from intake.loop import process_pending

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "northwind-cmrt-6.5.xlsx"  # Effective Date 2026-05-02
ZONE = "Pacific/Auckland"  # UTC+12 in May

# Screens a real workbook through the sandboxed intake, twice: a second, not a unit test.
pytestmark = pytest.mark.slow


def _message(n: int, workbook: Path) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Pat Example <pat@supplier.example.test>"
    msg["To"] = "compliance@example.test"
    msg["Subject"] = "Our CMRT"
    msg["Message-ID"] = f"<midnight-{n}@supplier.example.test>"
    msg.set_content("Please find our declaration attached.")
    msg.add_attachment(
        workbook.read_bytes(),
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename="cmrt.xlsx",
    )
    return msg.as_bytes()


def _deliver(maildir: Path, n: int, workbook: Path) -> None:
    (maildir / "new").mkdir(parents=True, exist_ok=True)
    (maildir / "new" / f"{n}.eml").write_bytes(_message(n, workbook))


def _latest(db: Path) -> tuple[str, bool]:
    """The latest screening's date, and whether it found the effective date in the future."""
    with sqlite3.connect(db) as conn:
        screening, as_of = conn.execute(
            "select id, as_of from screenings order by id desc limit 1"
        ).fetchone()
        messages = [
            m
            for (m,) in conn.execute(
                "select message from findings where screening_id = ? and code = ?",
                [screening, "invalid-effective-date"],
            )
        ]
    return as_of, any("in the future" in m for m in messages)


def test_the_intake_screens_against_the_day_after_midnight(tmp_path: Path) -> None:
    workbook = EXAMPLE
    maildir, db = tmp_path / "mail", tmp_path / "assay.db"
    config = parse_config(
        {
            "assay": {"database": str(db), "time_zone": ZONE},
            "mail": {
                "workers": 1,
                "seed_examples": False,
                "suppliers": {"path": str(maildir)},
                "grievances": {"enabled": False},
            },
            "smtp": {"outbox_dir": str(tmp_path / "outbox")},
        }
    )
    now = [dt.datetime(2026, 5, 1, 11, 59, 30, tzinfo=dt.UTC)]  # 23:59:30 in Auckland
    clock = dataclasses.replace(config.clock(), source=lambda: now[0])
    service = Service(config, clock=clock)

    # What serve's intake thread builds once and keeps: a store, a mailbox and its handlers.
    store = service.store()
    [(name, mailbox)] = service.mailboxes()
    handle, fail = service.supplier_handler(store)
    mailbox.connect()
    try:
        _deliver(maildir, 1, workbook)
        assert process_pending(mailbox, handle, fail) == 1
        assert _latest(db) == ("2026-05-01", True), "2 May is in the future on 1 May"

        now[0] += dt.timedelta(minutes=1)  # 00:00:30 on 2 May in Auckland; still 1 May in UTC
        assert now[0].date() == dt.date(2026, 5, 1)
        _deliver(maildir, 2, workbook)
        assert process_pending(mailbox, handle, fail) == 1
        assert _latest(db) == ("2026-05-02", False), "on 2 May, 2 May is not in the future"
    finally:
        mailbox.close()
        store.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from submissions").fetchone() == (1,)
    assert name == "suppliers"


def test_each_screening_asks_the_clock_unless_a_date_is_fixed() -> None:
    from plugins.manager import get_plugin_manager
    from plugins.pipeline import Screener
    from storage.refdata import embedded_reference

    data, pm, reference = EXAMPLE.read_bytes(), get_plugin_manager(), embedded_reference()
    days = iter([dt.date(2026, 5, 1), dt.date(2026, 5, 2)])
    screener = Screener(pm, reference, clock=lambda: next(days))
    first, second = screener.screen_bytes(data), screener.screen_bytes(data)
    assert (first.as_of, second.as_of) == (dt.date(2026, 5, 1), dt.date(2026, 5, 2))

    def never() -> dt.date:
        raise AssertionError("a fixed date needs no clock")

    fixed = Screener(pm, reference, as_of=dt.date(2026, 6, 30), clock=never)
    assert fixed.screen_bytes(data).as_of == dt.date(2026, 6, 30)
    assert fixed.screen_bytes(b"not a workbook").as_of == dt.date(2026, 6, 30)
