"""The campaign part of the Store: each thing sent is recorded, and queued, exactly once."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from storage.campaigns import CampaignExists
from storage.db import open_database
from storage.migrations import MIGRATIONS
from storage.store import Store
from tests.storage.campaign_support import (
    alert_item,
    member,
    receive,
    register,
    send_again,
    spec,
    supplier,
)

DAY = dt.date(2026, 10, 1)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "c.db")
    register(
        s,
        supplier("Alpha Synthetic Metals", owner="owner@buyer.example.test", metals=("Tin",)),
        supplier("Beta Synthetic Alloys", owner="U0123ABCD"),
        supplier("Gamma Synthetic Parts"),
    )
    return s


def _ids(store: Store) -> dict[str, int]:
    return {s.name: s.id for s in store.suppliers()}


def test_create_campaign_and_a_duplicate_name_is_refused(store: Store) -> None:
    ids = _ids(store)
    made = store.create_campaign(
        spec(reminder_days=(7, -14, -3), min_version="6.4"), ids.values(), DAY
    )
    assert (made.name, made.family, made.state, made.min_version) == (
        "CMRT 2026",
        "CMRT",
        "open",
        "6.4",
    )
    assert made.reminder_days == (-14, -3, 7)  # kept in order
    assert made.final_deadline == dt.date(2026, 12, 29)
    assert made.opened_on == DAY and made.created_at
    assert store.campaign("CMRT 2026") == made
    with pytest.raises(CampaignExists):
        store.create_campaign(spec(deadline=dt.date(2027, 1, 1)), [], DAY)
    assert store.count("campaigns") == 1
    assert store.campaign("CMRT 2026") == made  # untouched by the refused one
    assert [c.name for c in store.campaigns("open")] == ["CMRT 2026"]
    assert store.campaigns("closed") == []


def test_members_carry_the_registry_entry_and_adding_twice_adds_nothing(store: Store) -> None:
    ids = _ids(store)
    c = store.create_campaign(spec(), [ids["Alpha Synthetic Metals"]], DAY)
    later = DAY + dt.timedelta(days=3)
    assert store.add_to_campaign(c.id, ids.values(), later) == 2
    assert store.add_to_campaign(c.id, ids.values(), later) == 0
    members = store.members(c.id)
    assert [m.name for m in members] == sorted(ids)
    alpha = member(store, c.id, "Alpha Synthetic Metals")
    assert alpha.owner == "owner@buyer.example.test"
    assert alpha.metals == ("Tin",)
    assert alpha.addresses == ("survey@alphasyntheticmetals.example.test",)
    assert alpha.added_on == DAY  # not moved by the second add
    assert member(store, c.id, "Gamma Synthetic Parts").added_on == later
    assert (alpha.requested_on, alpha.escalated_on, alpha.reminders, alpha.reminders_sent) == (
        None,
        None,
        (),
        0,
    )
    assert [x.name for x in store.campaigns_of(ids["Beta Synthetic Alloys"])] == ["CMRT 2026"]


def test_record_request_queues_once(store: Store) -> None:
    ids = _ids(store)
    c = store.create_campaign(spec(), ids.values(), DAY)
    m = member(store, c.id, "Alpha Synthetic Metals")
    item = alert_item("campaign:1:request:1", "request")
    assert store.record_request(m, DAY, "<req-1@example.test>", item) is True
    again = alert_item("campaign:1:request:1-second", "request again")
    assert (
        store.record_request(m, DAY + dt.timedelta(days=1), "<req-2@example.test>", again) is False
    )
    assert store.count("outbox") == 1
    assert store.outbox_by_key("campaign:1:request:1") is not None
    after = member(store, c.id, "Alpha Synthetic Metals")
    assert after.requested_on == DAY  # the first request's day and Message-ID are kept
    assert after.request_message_id == "<req-1@example.test>"
    assert member(store, c.id, "Beta Synthetic Alloys").requested_on is None


def test_record_reminder_queues_once_and_keeps_skipped_offsets(store: Store) -> None:
    ids = _ids(store)
    c = store.create_campaign(spec(), ids.values(), DAY)
    m = member(store, c.id, "Beta Synthetic Alloys")
    day = dt.date(2026, 11, 29)
    assert store.record_reminder(m, -3, day, alert_item("r:-3"), skipped=(-14,)) is True
    assert store.record_reminder(m, -3, day, alert_item("r:-3:again"), skipped=(-14,)) is False
    assert store.count("outbox") == 1
    after = member(store, c.id, "Beta Synthetic Alloys")
    assert after.reminders == (-14, -3)  # the skipped one is recorded as never to send
    assert after.reminders_sent == 1  # but only one was sent
    # A skipped offset is never sent later, whatever asks for it.
    kinds = {(k, o) for _c, k, o, _d in store.campaign_events(m.supplier_id)}
    assert kinds == {("skipped", -14), ("reminder", -3)}
    # A reminder recorded without an item (no address) queues nothing but still counts once.
    g = member(store, c.id, "Gamma Synthetic Parts")
    assert store.record_reminder(g, 7, day, None) is True
    assert store.record_reminder(g, 7, day, alert_item("r:7")) is False
    assert store.count("outbox") == 1


def test_record_escalation_and_nonresponsive_queue_once(store: Store) -> None:
    ids = _ids(store)
    c = store.create_campaign(spec(), ids.values(), DAY)
    m = member(store, c.id, "Alpha Synthetic Metals")
    day = dt.date(2026, 12, 15)
    assert store.record_escalation(m, day, [alert_item("esc:1"), alert_item("esc:1:dm")]) is True
    assert store.record_escalation(m, day, [alert_item("esc:1:again")]) is False
    assert store.count("outbox") == 2
    assert member(store, c.id, "Alpha Synthetic Metals").escalated_on == day
    late = dt.date(2026, 12, 30)
    assert store.record_nonresponsive(m, late, alert_item("nr:1")) is True
    assert store.record_nonresponsive(m, late, alert_item("nr:1:again")) is False
    assert store.count("outbox") == 3
    assert member(store, c.id, "Alpha Synthetic Metals").nonresponsive_on == late


def test_record_digest_once_a_day(store: Store) -> None:
    c = store.create_campaign(spec(), _ids(store).values(), DAY)
    assert store.record_digest(c.id, DAY, alert_item("digest:1")) is True
    assert store.record_digest(c.id, DAY, alert_item("digest:1:again")) is False
    assert store.count("outbox") == 1
    assert store.record_digest(c.id, DAY + dt.timedelta(days=1), alert_item("digest:2")) is True
    assert store.count("outbox") == 2
    # The digest is the campaign's, not a supplier's: no member gains an event from it.
    assert all(m.reminders == () for m in store.members(c.id))


def test_attempts_since_are_oldest_first_and_a_file_sent_twice_is_one(store: Store) -> None:
    ids = _ids(store)
    alpha, beta = ids["Alpha Synthetic Metals"], ids["Beta Synthetic Alloys"]
    first = receive(store, alpha, "alpha-first", errors=2)
    second = receive(store, alpha, "alpha-second", version="6.4")
    send_again(store, first, alpha)  # the first file again, in a later message
    receive(store, beta, "beta-only")
    receive(store, None, "nobody")  # a file credited to no supplier is nobody's attempt
    rows = ("2026-10-01T08:00:00+00:00", "2026-10-02T08:00:00+00:00", "2026-10-03T08:00:00+00:00")
    for rowid, when in enumerate(rows, start=1):  # dates in the order the messages came
        store.db.execute(
            "update submission_sources set received_at = ? where rowid = ?", [when, rowid]
        )
    store.db.execute(
        "update submission_sources set received_at = '2026-09-01T00:00:00+00:00' where rowid > 3"
    )
    store.db.conn.commit()

    got = store.attempts_since("2026-01-01T00:00:00+00:00")
    assert set(got) == {alpha, beta}
    assert [a.sha256 for a in got[alpha]] == [first, second]
    a1, a2 = got[alpha]
    assert (a1.errors, a1.template_type, a1.template_version, a1.readable) == (
        2,
        "CMRT",
        "6.5",
        True,
    )
    assert (a2.errors, a2.template_version, a2.filename) == (0, "6.4", "alpha-second.xlsx")
    assert a1.received_at == rows[0]
    # Only those received on or after ``since``; only the suppliers asked for.
    later = store.attempts_since("2026-10-02T00:00:00+00:00")
    assert set(later) == {alpha}
    # The first file sent again on 3 October counts from then (once), after the second.
    assert [(a.sha256, a.received_at) for a in later[alpha]] == [
        (second, rows[1]),
        (first, rows[2]),
    ]
    assert set(store.attempts_since("2026-01-01", [beta])) == {beta}


def test_record_grade_keeps_only_changes(store: Store) -> None:
    sid = _ids(store)["Gamma Synthetic Parts"]
    d1, d2, d3, d4 = (DAY + dt.timedelta(days=n) for n in range(4))
    assert store.record_grade(sid, d1, "medium", ["1 open error"]) is True
    assert store.record_grade(sid, d2, "medium", ["1 open error"]) is False  # unchanged
    assert store.record_grade(sid, d3, "high", ["non-responsive"]) is True
    assert store.record_grade(sid, d4, "high", ["non-responsive"]) is False
    history = store.grade_history(sid)
    assert [(g.on_date, g.level, g.reasons) for g in history] == [
        (d1.isoformat(), "medium", ("1 open error",)),
        (d3.isoformat(), "high", ("non-responsive",)),
    ]
    # The same day graded again with another result replaces that day's entry.
    assert store.record_grade(sid, d3, "low", []) is True
    assert [(g.on_date, g.level) for g in store.grade_history(sid)] == [
        (d1.isoformat(), "medium"),
        (d3.isoformat(), "low"),
    ]


def test_remediation_opens_updates_and_closes_once(store: Store) -> None:
    sid = _ids(store)["Alpha Synthetic Metals"]
    opened: list[int] = []

    def alert(rid: int):  # type: ignore[no-untyped-def]
        opened.append(rid)
        return alert_item("ignored", f"opened {rid}")

    rid = store.open_remediation(sid, "a" * 64, ["CID002", "CID001"], alert)
    assert opened == [rid]
    assert store.outbox_by_key(f"remediation-opened:{rid}") is not None
    [r] = store.remediations()
    assert (r.id, r.supplier, r.cids, r.open, r.file_sha256) == (
        rid,
        "Alpha Synthetic Metals",
        ("CID001", "CID002"),
        True,
        "a" * 64,
    )
    store.update_remediation(rid, "b" * 64, ["CID003"])
    updated = store.remediation(rid)
    assert updated is not None and (updated.cids, updated.file_sha256) == (("CID003",), "b" * 64)
    assert store.close_remediation(rid, "a newer file", alert_item("closed")) is True
    assert store.close_remediation(rid, "again", alert_item("closed again")) is False
    closed = store.remediation(rid)
    assert closed is not None and not closed.open and closed.close_reason == "a newer file"
    assert store.outbox_by_key(f"remediation-closed:{rid}") is not None
    assert store.count("outbox") == 2
    store.update_remediation(rid, "c" * 64, ["CID009"])  # a closed one is not changed
    assert store.remediation(rid).cids == ("CID003",)  # type: ignore[union-attr]
    assert store.remediations() == []
    assert [x.id for x in store.remediations(open_only=False, supplier_id=sid)] == [rid]


def test_an_old_database_gains_the_campaign_tables(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = [(n, f) for n, f in MIGRATIONS if n < "007"]
    assert MIGRATIONS[len(old)][0] == "007_campaigns"
    db = open_database(path)
    db.execute("create table _assay_migrations (name text primary key, applied_at text)")
    for name, fn in old:
        fn(db)
        db.execute("insert into _assay_migrations values (?, '2026-01-01')", [name])
    db.table("suppliers").insert(
        {
            "name": "Legacy Synthetic Co",
            "addresses": '["legacy@legacy.example.test"]',
            "domains": "[]",
            "expected": '["CMRT"]',
            "imported_at": "2026-01-01",
        }
    )
    db.conn.commit()
    db.close()
    with sqlite3.connect(path) as conn:
        tables = {t for (t,) in conn.execute("select name from sqlite_master where type='table'")}
    assert "campaigns" not in tables

    store = Store(path)
    with sqlite3.connect(path) as conn:
        tables = {t for (t,) in conn.execute("select name from sqlite_master where type='table'")}
        applied = [n for (n,) in conn.execute("select name from _assay_migrations")]
    assert {
        "campaigns",
        "campaign_suppliers",
        "campaign_events",
        "remediations",
        "grade_history",
    } <= tables
    assert "007_campaigns" in applied
    [legacy] = store.suppliers()
    assert (legacy.name, legacy.owner, legacy.metals) == ("Legacy Synthetic Co", "", ())
    c = store.create_campaign(spec(), [legacy.id], DAY)
    assert [m.name for m in store.members(c.id)] == ["Legacy Synthetic Co"]
    assert Store(path).migrate() == []  # opened again: nothing more to apply
