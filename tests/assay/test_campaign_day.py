"""``assay serve``'s daily campaign run and remediation follow-up, under an injected clock.

A month passes in a loop: the clock is moved a day at a time and the service asked to run
its campaign day; what each day queued is read back from the outbox. No mail is delivered
(that is the end-to-end test's job); the Store is real.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from assay.campaign_run import send_requests
from assay.config import Config, parse_config
from assay.serve import Service
from plugins.clock import Clock
from plugins.reference import RmapEntry
from storage.store import Store
from tests.storage.campaign_support import (
    member,
    outbox,
    receive,
    register,
    rmap,
    spec,
    supplier,
)

ZONE = "Europe/Berlin"  # UTC+1 in November: 08:00 there is 07:00 UTC
DEADLINE = dt.date(2026, 12, 1)  # reminders 17 Nov, 28 Nov, 8 Dec; owner told 15 Dec


class Moving:
    """A clock source the test moves."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def berlin(self, day: dt.date, hour: int, minute: int = 0) -> None:
        self.at = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(ZONE))


def _config(tmp_path: Path, **campaigns: Any) -> Config:
    return parse_config(
        {
            "assay": {"database": str(tmp_path / "assay.db"), "time_zone": ZONE},
            "mail": {"seed_examples": False, "grievances": {"enabled": False}},
            "smtp": {"outbox_dir": str(tmp_path / "outbox")},
            "campaigns": campaigns,
        }
    )


def _service(config: Config, source: Moving) -> Service:
    clock: Clock = dataclasses.replace(config.clock(), source=source)
    return Service(config, clock=clock)


@pytest.fixture
def world(tmp_path: Path) -> tuple[Config, Store, dict[str, int]]:
    config = _config(tmp_path)
    store = Store(config.database)
    ids = register(
        store,
        supplier("Alpha Synthetic Metals", owner="alpha.owner@corp.example.test"),
        supplier("Beta Synthetic Alloys", owner="U0123ABCD"),
        supplier("Delta Synthetic Works", owner="delta.owner@corp.example.test"),
        supplier("Gamma Synthetic Parts"),  # no owner: the compliance channel hears instead
    )
    c = store.create_campaign(spec(deadline=DEADLINE), ids.values(), dt.date(2026, 11, 1))
    out = send_requests(
        store,
        c,
        dt.date(2026, 11, 1),
        domain="example.test",
        current_versions=config.screening.current_versions,
    )
    assert len(out.requests) == 4
    receive(store, ids["Alpha Synthetic Metals"], "alpha-clean")
    receive(store, ids["Beta Synthetic Alloys"], "beta-errors", errors=2)
    return config, store, ids


def _new(store: Store, before: int) -> list[dict[str, Any]]:
    return outbox(store)[before:]


def test_nothing_before_run_at_then_once_a_day(world: tuple[Config, Store, dict[str, int]]) -> None:
    config, store, _ids = world
    source = Moving(dt.datetime(2026, 11, 16, tzinfo=dt.UTC))
    service = _service(config, source)
    start = len(outbox(store))

    source.berlin(dt.date(2026, 11, 16), 7, 59)
    assert service.campaign_day(store) == 0
    assert len(outbox(store)) == start
    # 07:05 UTC is 08:05 in Berlin: run_at is read on the clock's zone.
    source.at = dt.datetime(2026, 11, 16, 7, 5, tzinfo=dt.UTC)
    assert service.campaign_day(store) == 1  # the digest; no reminder is due yet
    [digest] = _new(store, start)
    assert digest["kind"] == "campaign-digest"
    assert (digest["suppliers"], digest["responded"], digest["accepted"]) == (4, 2, 1)
    assert digest["resubmit"] == 1 and digest["response_category"] == "50% or less"

    source.berlin(dt.date(2026, 11, 16), 18, 0)
    assert service.campaign_day(store) == 0  # ran today already
    # A restarted service runs again the same day, and queues nothing twice.
    assert _service(config, source).campaign_day(store) == 0
    assert len(outbox(store)) == start + 1

    source.berlin(dt.date(2026, 11, 17), 8, 0)  # a new day, at run_at exactly
    assert service.campaign_day(store) == 4  # three reminders and the digest
    assert len(outbox(store, "campaign-digest")) == 2


def test_any_time_runs_before_run_at_and_the_digest_can_be_off(tmp_path: Path) -> None:
    config = _config(tmp_path, run_at="23:30", digest=False)
    store = Store(config.database)
    ids = register(store, supplier("Delta Synthetic Works"))
    c = store.create_campaign(spec(deadline=DEADLINE), ids.values(), dt.date(2026, 11, 1))
    send_requests(store, c, dt.date(2026, 11, 1), domain="example.test", current_versions={})
    source = Moving(dt.datetime(2026, 11, 17, 9, tzinfo=dt.UTC))
    service = _service(config, source)
    assert service.campaign_day(store) == 0  # 10:00 in Berlin: before 23:30
    assert service.campaign_day(store, any_time=True) == 1  # as serve --once does
    assert [x["kind"] for x in outbox(store)] == ["campaign-request", "campaign-reminder"]


def test_a_month_of_days_reminds_on_the_right_days_and_escalates_once(
    world: tuple[Config, Store, dict[str, int]],
) -> None:
    config, store, ids = world
    source = Moving(dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    service = _service(config, source)
    requests = {r["supplier"]: r["message_id"] for r in outbox(store, "campaign-request")}
    reminders: dict[dt.date, list[dict[str, Any]]] = {}
    escalations: dict[dt.date, list[dict[str, Any]]] = {}
    silenced: dict[dt.date, list[str]] = {}
    digests = 0
    day = dt.date(2026, 11, 2)
    while day <= dt.date(2026, 12, 31):
        before = len(outbox(store))
        source.berlin(day, 8, 30)
        service.campaign_day(store)
        service.campaign_day(store)  # twice the same day: nothing more
        for item in _new(store, before):
            if item["kind"] == "campaign-reminder":
                reminders.setdefault(day, []).append(item)
            elif item["kind"] in ("owner-escalation", "owner-escalation-dm"):
                escalations.setdefault(day, []).append(item)
            elif item["kind"] == "campaign-digest":
                digests += 1
            elif item["kind"] == "campaign-non-responsive":
                silenced.setdefault(day, []).append(item["supplier"])
            else:
                raise AssertionError(f"unexpected {item['kind']} on {day}")
        day += dt.timedelta(days=1)

    assert digests == (dt.date(2026, 12, 31) - dt.date(2026, 11, 2)).days + 1  # one a day
    assert sorted(reminders) == [dt.date(2026, 11, 17), dt.date(2026, 11, 28), dt.date(2026, 12, 8)]
    silent = ["Beta Synthetic Alloys", "Delta Synthetic Works", "Gamma Synthetic Parts"]
    for items in reminders.values():
        assert sorted(r["supplier"] for r in items) == silent  # never the accepted Alpha
        for r in items:
            assert r["in_reply_to"] == requests[r["supplier"]]  # threaded on the request
    by_name = {r["supplier"]: r for r in reminders[dt.date(2026, 12, 8)]}
    assert by_name["Delta Synthetic Works"]["missing"] == ["your completed CMRT"]
    assert by_name["Beta Synthetic Alloys"]["missing"][0].startswith("a corrected CMRT:")
    assert "2 errors" in by_name["Beta Synthetic Alloys"]["missing"][0]
    assert by_name["Delta Synthetic Works"]["overdue"] is True
    assert all(not r.get("overdue") for r in reminders[dt.date(2026, 11, 28)])

    assert list(escalations) == [dt.date(2026, 12, 15)]  # deadline + 14 days, once
    esc = {e["supplier"]: e for e in escalations[dt.date(2026, 12, 15)]}
    assert sorted(esc) == silent
    assert esc["Delta Synthetic Works"]["kind"] == "owner-escalation"
    assert esc["Delta Synthetic Works"]["to"] == "delta.owner@corp.example.test"
    assert esc["Delta Synthetic Works"]["reminders_sent"] == 3
    assert esc["Beta Synthetic Alloys"]["kind"] == "owner-escalation-dm"
    assert esc["Beta Synthetic Alloys"]["slack_user"] == "U0123ABCD"
    assert esc["Gamma Synthetic Parts"]["kind"] == "owner-escalation-dm"
    assert esc["Gamma Synthetic Parts"]["slack_user"] == ""
    c = store.campaign("CMRT 2026")
    assert c is not None
    assert member(store, c.id, "Delta Synthetic Works").escalated_on == dt.date(2026, 12, 15)
    assert member(store, c.id, "Alpha Synthetic Metals").reminders_sent == 0
    # The day after the final deadline (29 Dec), those that never answered are marked, once;
    # Beta answered (with errors), so it is not silent.
    assert silenced == {dt.date(2026, 12, 30): ["Delta Synthetic Works", "Gamma Synthetic Parts"]}
    # The digest graded everyone daily; the history keeps only the changes.
    for name in ("Alpha Synthetic Metals", "Delta Synthetic Works"):
        history = store.grade_history(ids[name])
        assert history and len(history) < 10
        pairs = list(itertools.pairwise(history))
        assert all((a.level, a.reasons) != (b.level, b.reasons) for a, b in pairs)
    assert [g.level for g in store.grade_history(ids["Alpha Synthetic Metals"])] == ["low"]
    assert store.grade_history(ids["Delta Synthetic Works"])[-1].level == "high"  # silent


def test_a_late_day_sends_only_the_latest_reminder(
    world: tuple[Config, Store, dict[str, int]],
) -> None:
    """The service down from 16 Nov to 29 Nov: one reminder (-3) on its return, -14 skipped."""
    config, store, _ids = world
    source = Moving(dt.datetime(2026, 11, 29, 8, tzinfo=dt.UTC))
    service = _service(config, source)
    before = len(outbox(store))
    service.campaign_day(store)
    sent = [x for x in _new(store, before) if x["kind"] == "campaign-reminder"]
    assert len(sent) == 3
    c = store.campaign("CMRT 2026")
    assert c is not None
    delta = member(store, c.id, "Delta Synthetic Works")
    assert (delta.reminders, delta.reminders_sent) == ((-14, -3), 1)
    source.berlin(dt.date(2026, 11, 30), 9)
    before = len(outbox(store))
    service.campaign_day(store)
    assert [x["kind"] for x in _new(store, before)] == ["campaign-digest"]


# -- remediations ----------------------------------------------------------------------------


def test_a_remediation_opens_and_closes_when_a_newer_list_shows_the_smelter_conformant(
    world: tuple[Config, Store, dict[str, int]],
) -> None:
    config, store, ids = world
    service = _service(config, Moving(dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)))
    assert service.follow_remediations(store) == (0, 0)  # no list, no smelter: nothing
    rmap(store, "2026-10-01:tin", dt.date(2026, 10, 1), {"CID000001": "Conformant"})
    alpha = ids["Alpha Synthetic Metals"]
    sha = receive(
        store, alpha, "alpha-smelters", smelters=(("Tin", "CID000001"), ("Tin", "CID000777"))
    )
    assert service.follow_remediations(store) == (1, 0)
    [r] = store.remediations()
    assert (r.supplier, r.cids, r.file_sha256) == ("Alpha Synthetic Metals", ("CID000777",), sha)
    [opened] = outbox(store, "remediation-opened")
    assert (opened["supplier"], opened["cids"], opened["remediation_id"]) == (
        "Alpha Synthetic Metals",
        ["CID000777"],
        r.id,
    )
    assert service.follow_remediations(store) == (0, 0)  # nothing new arrived
    assert len(store.remediations()) == 1

    rmap(
        store,
        "2026-11-15:tin",
        dt.date(2026, 11, 15),
        {"CID000001": "Conformant", "CID000777": "Conformant"},
    )
    assert service.follow_remediations(store) == (0, 1)
    closed = store.remediation(r.id)
    assert closed is not None and not closed.open
    assert closed.close_reason == "RMAP list 2026-11-15:tin of 2026-11-15"
    [told] = outbox(store, "remediation-closed")
    assert told["reason"] == closed.close_reason and told["remediation_id"] == r.id
    assert store.remediations() == []
    assert service.follow_remediations(store) == (0, 0)


def test_a_remediation_closes_when_a_newer_file_drops_the_smelter(
    world: tuple[Config, Store, dict[str, int]],
) -> None:
    config, store, ids = world
    service = _service(config, Moving(dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)))
    rmap(store, "2026-10-01:tin", dt.date(2026, 10, 1), {"CID000001": "Conformant"})
    beta = ids["Beta Synthetic Alloys"]
    receive(store, beta, "beta-v1", smelters=(("Tin", "CID000777"), ("Tin", "CID000888")))
    assert service.follow_remediations(store) == (1, 0)
    [r] = store.remediations()
    assert r.cids == ("CID000777", "CID000888")
    # A newer file with one of them gone: the same remediation, narrowed.
    v2 = receive(store, beta, "beta-v2", smelters=(("Tin", "CID000888"),))
    assert service.follow_remediations(store) == (0, 0)
    [same] = store.remediations()
    assert (same.id, same.cids, same.file_sha256) == (r.id, ("CID000888",), v2)
    # Then a file listing only conformant smelters.
    receive(store, beta, "beta-v3", smelters=(("Tin", "CID000001"),))
    assert service.follow_remediations(store) == (0, 1)
    closed = store.remediation(r.id)
    assert closed is not None and closed.close_reason == "a newer file"
    assert [x["reason"] for x in outbox(store, "remediation-closed")] == ["a newer file"]
    assert len(outbox(store, "remediation-opened")) == 1


def test_the_close_reason_names_the_list_that_decided(
    world: tuple[Config, Store, dict[str, int]],
) -> None:
    config, store, ids = world
    service = _service(config, Moving(dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)))
    rmap(store, "2026-10-01:tin", dt.date(2026, 10, 1), {"CID000001": "Conformant"})
    receive(store, ids["Beta Synthetic Alloys"], "beta-tin", smelters=(("Tin", "CID000777"),))
    assert service.follow_remediations(store) == (1, 0)
    rmap(store, "2026-11-15:tin", dt.date(2026, 11, 15), {"CID000777": "Conformant"})
    store.add_rmap_list(  # a gold list of a later date, loaded the same day
        "2026-11-18:gold",
        dt.date(2026, 11, 18),
        "gold.csv",
        {"CID000999": RmapEntry("CID000999", "Conformant", metal="Gold")},
        metals=frozenset({"Gold"}),
    )
    assert service.follow_remediations(store) == (0, 1)
    [closed] = store.remediations(open_only=False)
    assert closed.close_reason == "RMAP list 2026-11-15:tin of 2026-11-15"
