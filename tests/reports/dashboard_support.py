"""A synthetic program with known figures, for the dashboard's and the digest's tests.

Two open campaigns on 2026-11-20 (``AS_OF``):

- "CMRT 2026" (deadline 2026-11-01, past): Alpha answered cleanly (accepted), Beta answered
  with errors (resubmit, overdue), and two suppliers with hostile names never answered
  (overdue). 2 of 4 responded.
- ``HOSTILE_CAMPAIGN`` (EMRT, deadline 2026-12-15): Delta answered, Epsilon did not (not yet
  overdue). 1 of 2 responded.

Smelters (all registered suppliers' latest files; the RMAP list covers Tin only): Tin
CID000228 conformant, CID004065 active (in the DRC: high-risk), CID000292 and CID999991 (a
CID no list knows, with a hostile name) not conformant; Gold CID000015 and Cobalt CID003209 are
not covered by any list. Remediations: Beta's open 142 days, Alpha's open 19 days, one closed.
Grievances: received, investigating and closed (their texts and reporters carry ``MARKER``
and addresses, which the aggregate database must never hold).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from reports.dashboard_db import BuildSummary, build_dashboard
from storage.store import Store
from tests.storage.campaign_support import receive, register, rmap, spec, supplier

AS_OF = dt.date(2026, 11, 20)
TARGET = 0.9
MARKER = "confidential-marker"
ADDRESS = "reporter@private.example.test"
HOSTILE_SUPPLIER = "<img src=x onerror=\"window.__pwned='supplier'\"> Metals"
HOSTILE_SLACK = "*bold* <!channel> <http://evil.example.test|x> Works"
HOSTILE_CAMPAIGN = "<b>EMRT</b> 2026 <!here> & *co*"
HOSTILE_SMELTER = "<script>window.__pwned='smelter'</script> Smelter"

#: The headline figures of this program (reports.dashboard_figures.HEADLINES keys).
KNOWN: dict[str, float | int] = {
    "response-rate": 50.0,  # 3 of 6 members of open campaigns
    "overdue": 3,  # Beta and the two silent CMRT suppliers
    "conformant": 25.0,  # 1 of the 4 Tin smelters (Gold and Cobalt: no list)
    "not-conformant": 3,  # CID004065 (active), CID000292, CID999991
    "high-risk": 1,  # CID004065, in the DRC
    "remediations-open": 2,
    "remediations-90": 1,
    "grievances-open": 2,
}


def _stamp(day: dt.date) -> str:
    return dt.datetime(day.year, day.month, day.day, 9, tzinfo=dt.UTC).isoformat()


def _set(store: Store, sql: str, args: list[object]) -> None:
    store.db.execute(sql, args)
    store.db.conn.commit()


def program_store(tmp_path: Path) -> Path:
    """Assay's database of the synthetic program above; returns its path."""
    db = tmp_path / "assay.db"
    store = Store(db)
    ids = register(
        store,
        supplier("Alpha Synthetic Metals", metals=("Tin", "Gold")),
        supplier("Beta Synthetic Alloys", metals=("Tin",)),
        supplier(HOSTILE_SUPPLIER, metals=("Tin",)),
        supplier(HOSTILE_SLACK, metals=("Gold",)),
        supplier("Delta Synthetic Refining", expected=("EMRT",), metals=("Cobalt",)),
        supplier("Epsilon Synthetic Mining", expected=("EMRT",), metals=("Cobalt",)),
    )
    cmrt = store.create_campaign(
        spec("CMRT 2026", dt.date(2026, 11, 1)),
        [ids[n] for n in ("Alpha Synthetic Metals", "Beta Synthetic Alloys")]
        + [ids[HOSTILE_SUPPLIER], ids[HOSTILE_SLACK]],
        dt.date(2026, 9, 1),
    )
    emrt = store.create_campaign(
        spec(HOSTILE_CAMPAIGN, dt.date(2026, 12, 15), family="EMRT"),
        [ids["Delta Synthetic Refining"], ids["Epsilon Synthetic Mining"]],
        dt.date(2026, 10, 1),
    )
    for c, opened in ((cmrt, dt.date(2026, 9, 1)), (emrt, dt.date(2026, 10, 1))):
        stamp = dt.datetime(opened.year, opened.month, opened.day, tzinfo=dt.UTC).isoformat()
        _set(store, "update campaigns set created_at = ? where id = ?", [stamp, c.id])
    alpha = receive(
        store,
        ids["Alpha Synthetic Metals"],
        "Alpha Synthetic Metals",
        smelters=(("Tin", "CID000228"), ("Tin", "CID004065"), ("Gold", "CID000015")),
    )
    beta = receive(
        store,
        ids["Beta Synthetic Alloys"],
        "Beta Synthetic Alloys",
        errors=2,
        smelters=(("Tin", "CID000228"), ("Tin", "CID000292"), ("Tin", "CID999991")),
    )
    delta = receive(
        store,
        ids["Delta Synthetic Refining"],
        "Delta Synthetic Refining",
        family="EMRT",
        version="2.1",
        smelters=(("Cobalt", "CID003209"),),
    )
    _set(
        store, "update smelter_rows set name = ? where smelter_id = 'CID999991'", [HOSTILE_SMELTER]
    )
    for sha, day in (
        (alpha, dt.date(2026, 9, 20)),
        (beta, dt.date(2026, 10, 5)),
        (delta, dt.date(2026, 10, 12)),
    ):
        _set(
            store,
            "update submission_sources set received_at = ? where sha256 = ?",
            [_stamp(day), sha],
        )
    rmap(store, "1.0", dt.date(2026, 10, 15), {"CID000228": "Conformant", "CID004065": "Active"})
    for sid, sha, opened, closed in (
        (ids["Beta Synthetic Alloys"], beta, dt.date(2026, 7, 1), None),
        (ids["Alpha Synthetic Metals"], alpha, dt.date(2026, 11, 1), None),
        (ids["Alpha Synthetic Metals"], alpha, dt.date(2026, 3, 1), dt.date(2026, 4, 1)),
    ):
        rid = store.open_remediation(sid, sha, ["CID000292", "CID999991"])
        if closed is not None:
            store.close_remediation(rid, "a newer file", None)
        _set(
            store,
            "update remediations set opened_at = ?, closed_at = ? where id = ?",
            [_stamp(opened), _stamp(closed) if closed else None, rid],
        )
    for n, (category, status) in enumerate(
        (("child-labour", ""), ("environment", "investigating"), ("environment", "closed"))
    ):
        case = store.create_grievance(
            message_key=f"grv-{n}",
            mailbox="grievances",
            category=category,
            subject_enc=f"{MARKER} subject",
            body_enc=f"{MARKER} body by {ADDRESS}",
            reporter_enc=ADDRESS,
            reply_token=f"token-{MARKER}-{n}",
            cids=["CID004065"],
            supplier_ids=[],
            respond_by="",
            attachments=[],
            year=2026,
        )
        assert case is not None
        if status:
            store.update_grievance(case, status, f"{MARKER} note")
    store.close()
    return db


def build(tmp_path: Path) -> BuildSummary:
    """Build the aggregate database of :func:`program_store` (as of ``AS_OF``) in tmp_path."""
    store = Store(program_store(tmp_path))
    try:
        return build_dashboard(store, tmp_path / "dashboard.db", as_of=AS_OF, target=TARGET)
    finally:
        store.close()


def dashboard_db(tmp_path: Path) -> Path:
    """The aggregate database of :func:`program_store`, as of ``AS_OF``."""
    return build(tmp_path).path
