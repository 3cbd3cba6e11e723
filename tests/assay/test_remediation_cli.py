"""``assay remediation`` and ``assay suppliers show``, run in process.

As ``test_campaign_cli.py``: click's test runner on a database in a temporary folder, files
credited to suppliers through the Store as the mail intake would, no mail server.
"""

from __future__ import annotations

import datetime as dt
import json

from tests.assay.campaign_cli_support import Env, two_answers
from tests.assay.campaign_cli_support import env as env
from tests.storage.campaign_support import outbox, receive, rmap


def _with_remediation(env: Env) -> int:
    """Alpha's latest file lists a tin smelter the RMAP list does not show as conformant."""
    store = env.store()
    alpha = {s.name: s.id for s in store.suppliers()}["Alpha Synthetic Metals"]
    rmap(store, "2026-09-01:tin", dt.date(2026, 9, 1), {"CID000001": "Conformant"})
    receive(store, alpha, "alpha-rem", smelters=(("Tin", "CID000001"), ("Tin", "CID000002")))
    rows = json.loads(env.run("remediation", "list", "--format", "json").output)
    assert [(r["supplier"], r["cids"], r["closed_at"]) for r in rows] == [
        ("Alpha Synthetic Metals", ["CID000002"], "")
    ]
    return int(rows[0]["id"])


def test_remediation_list_and_waive_with_a_reason(env: Env) -> None:
    rid = _with_remediation(env)
    text = env.run("remediation", "list").output
    assert f"#{rid}" in text and "CID000002" in text and "1 open remediation(s)" in text
    env.run("remediation", "close", str(rid), "--reason", "   ", code=2)  # a blank reason
    out = env.run(
        "remediation", "close", str(rid), "--reason", "smelter exited", "--by", "Officer Example"
    )
    assert f"closed remediation #{rid}" in out.output
    again = env.run("remediation", "close", str(rid), "--reason", "twice", code=1)
    assert f"no open remediation #{rid}" in again.output
    env.run("remediation", "close", "999", "--reason", "none such", code=1)
    closed = env.store().remediation(rid)
    assert closed is not None and not closed.open
    assert closed.close_reason == "waived by Officer Example: smelter exited"
    alerts = outbox(env.store(), "remediation-closed")
    assert [a["reason"] for a in alerts] == ["waived by Officer Example: smelter exited"]


def test_a_waived_remediation_stays_closed_for_the_same_file(env: Env) -> None:
    rid = _with_remediation(env)
    env.run("remediation", "close", str(rid), "--reason", "smelter exited", "--by", "Officer")
    text = env.run("remediation", "list").output
    assert "0 open remediation(s)" in text
    assert len(outbox(env.store(), "remediation-opened")) == 1
    # A newer declaration that still lists the smelter is decided on again: a new one opens.
    store = env.store()
    alpha = {s.name: s.id for s in store.suppliers()}["Alpha Synthetic Metals"]
    receive(store, alpha, "alpha-rem-2", smelters=(("Tin", "CID000002"),))
    rows = json.loads(env.run("remediation", "list", "--format", "json").output)
    assert [(r["cids"], r["closed_at"]) for r in rows] == [(["CID000002"], "")]
    assert rows[0]["id"] != rid


def test_suppliers_show_text_and_json(env: Env) -> None:
    two_answers(env)
    env.run("campaign", "status", "CMRT 2026", "--as-of", "2026-11-01")
    h = json.loads(env.run("suppliers", "show", "beta synthetic alloys", "--format", "json").output)
    assert (h["name"], h["owner"], h["templates"], h["campaigns"]) == (
        "Beta Synthetic Alloys",
        "U0123ABCD",
        ["CMRT"],
        ["CMRT 2026"],
    )
    assert [f["filename"] for f in h["files"]] == ["beta-cmrt-1.xlsx", "beta-cmrt-2.xlsx"]
    assert [f["errors"] for f in h["files"]] == [3, 2]
    assert len(h["files"][0]["findings"]) == 3
    assert {f["severity"] for f in h["files"][0]["findings"]} == {"error"}
    assert [(s["campaign"], s["what"], s["date"]) for s in h["sent"]] == [
        ("CMRT 2026", "request", "2026-10-01")
    ]
    assert h["remediations"] == []
    text = env.run("suppliers", "show", "Beta Synthetic Alloys").output
    assert "Beta Synthetic Alloys  owner: U0123ABCD" in text
    assert "campaigns: CMRT 2026" in text
    assert "files (2):" in text and "beta-cmrt-2.xlsx" in text
    assert "2026-10-01  CMRT 2026: request" in text
    missing = env.run("suppliers", "show", "Nobody Synthetic Ltd", code=1).output
    assert "no registered supplier named 'Nobody Synthetic Ltd'" in missing
