"""Which files answer for a supplier: only those tied to it by who sent them (or put in by
staff); a file from an unknown address that merely declares the supplier's name never does."""

from __future__ import annotations

import datetime as dt

from assay.campaign_run import sync_remediations
from reports.campaign_status import campaign_status
from storage.store import Store
from tests.storage.campaign_support import receive, register, rmap, spec, supplier

AS_OF = dt.date(2026, 11, 25)


def _store(tmp_path) -> tuple[Store, dict[str, int]]:  # type: ignore[no-untyped-def]
    store = Store(tmp_path / "a.db")
    ids = register(store, supplier("Acme Synthetic Metals"), supplier("Birch Synthetic Alloys"))
    store.create_campaign(spec(), ids.values(), dt.date(2026, 10, 1))
    return store, ids


def _rows(store: Store) -> dict[str, tuple[str, int]]:
    campaign = store.campaign("CMRT 2026")
    assert campaign is not None
    status = campaign_status(store, campaign, AS_OF)
    return {r.name: (r.status, r.attempts) for r in status.rows}


def test_a_file_from_an_unknown_address_declaring_the_name_is_an_attempt_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store, ids = _store(tmp_path)
    receive(store, ids["Acme Synthetic Metals"], "forged", matched_by="company",
            sender="anyone@elsewhere.example.test")  # fmt: skip
    assert _rows(store)["Acme Synthetic Metals"] == ("not-sent", 1)
    receive(store, ids["Acme Synthetic Metals"], "genuine", matched_by="address")
    assert _rows(store)["Acme Synthetic Metals"] == ("accepted", 2)


def test_a_domain_match_counts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store, ids = _store(tmp_path)
    receive(store, ids["Birch Synthetic Alloys"], "by-domain", matched_by="domain", errors=1)
    assert _rows(store)["Birch Synthetic Alloys"] == ("resubmit", 1)


def test_a_forged_file_neither_opens_nor_closes_a_remediation(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store, ids = _store(tmp_path)
    rmap(store, "2026-11", dt.date(2026, 11, 1), {"CID000001": "Conformant"})
    acme = ids["Acme Synthetic Metals"]
    receive(store, acme, "genuine", smelters=(("Tin", "CID000002"),))  # not conformant
    sync_remediations(store)
    [opened] = store.remediations()
    assert opened.cids == ("CID000002",)
    receive(store, acme, "forged", matched_by="company", smelters=(("Tin", "CID000001"),))
    sync_remediations(store)
    assert [r.id for r in store.remediations()] == [opened.id]  # still open
    receive(store, acme, "forged-bad", matched_by="company", smelters=(("Tin", "CID000009"),))
    sync_remediations(store)
    assert store.remediations()[0].cids == ("CID000002",)


def test_a_linked_grievance_under_investigation_makes_the_grade_high(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store, ids = _store(tmp_path)
    acme = ids["Acme Synthetic Metals"]
    receive(store, acme, "genuine")
    case = store.create_grievance(
        message_key="m1", mailbox="grievances", category="other", subject_enc="s",
        body_enc="b", reporter_enc="r", reply_token="t1", cids=(), supplier_ids=(acme,),
        respond_by="2026-12-31", attachments=(), year=2026,
    )  # fmt: skip
    assert case is not None
    campaign = store.campaign("CMRT 2026")
    assert campaign is not None
    [row] = [r for r in campaign_status(store, campaign, AS_OF).rows if r.supplier_id == acme]
    assert row.grade == "low"  # received, not yet under investigation
    store.update_grievance(case, "investigating", "n")
    [row] = [r for r in campaign_status(store, campaign, AS_OF).rows if r.supplier_id == acme]
    assert row.grade == "high" and any(case in reason for reason in row.grade_reasons)


def test_a_supplier_without_an_address_is_raised_with_its_owner_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from assay.campaign_run import remind, send_requests
    from tests.storage.campaign_support import outbox

    store = Store(tmp_path / "a.db")
    ids = register(store, supplier("Nomail Synthetic", address="", owner="buyer@corp.example.test"))
    store.create_campaign(spec(), ids.values(), dt.date(2026, 10, 1))
    campaign = store.campaign("CMRT 2026")
    assert campaign is not None
    sent = send_requests(
        store, campaign, dt.date(2026, 10, 1), domain="d.test", current_versions={}
    )
    assert sent.no_address == ["Nomail Synthetic"] and not sent.requests
    kw = {"domain": "d.test", "current_versions": {}}
    assert remind(store, campaign, dt.date(2026, 12, 14), **kw).escalations == []  # not yet
    assert remind(store, campaign, dt.date(2026, 12, 15), **kw).escalations == ["Nomail Synthetic"]
    assert remind(store, campaign, dt.date(2026, 12, 16), **kw).escalations == []  # once
    [told] = outbox(store, "owner-escalation")
    assert told["to"] == "buyer@corp.example.test" and "e-mail address" in told["missing"][0]
