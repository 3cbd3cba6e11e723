"""The store: one submission per file content, results with their provenance, re-screening."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest

from assay.rescreen import rescreen
from plugins.manager import get_plugin_manager
from plugins.pipeline import Screener
from plugins.reference import RmapEntry
from storage.store import Store
from tests.builders import AS_OF


def screen_into(store: Store, path: Path) -> str:
    screener = Screener(get_plugin_manager(), store.reference_data(), as_of=AS_OF)
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    store.record_screening(
        sha, screener.screen_bytes(data), filename=path.name, as_of=AS_OF, data=data
    )
    return sha


def test_same_bytes_twice_is_one_submission(tmp_path: Path, filled: dict[str, Path]) -> None:
    store = Store(tmp_path / "a.db")
    sha1 = screen_into(store, filled["CMRT-6.5"])
    sha2 = screen_into(store, filled["CMRT-6.5"])
    assert sha1 == sha2
    assert store.count("submissions") == 1
    assert store.count("screenings") == 2  # history of runs is kept
    assert store.count("smelter_rows") == 12  # but rows and findings are not duplicated
    sub = store.submission(sha1)
    assert sub is not None
    assert len(store.findings(sha1)) == sum(
        n or 0 for n in (sub.infos, sub.warnings, sub.errors, sub.risks)
    )
    assert (store.files_dir / sha1[:2] / sha1).read_bytes() == filled["CMRT-6.5"].read_bytes()


def test_stored_result_names_reference_and_check_versions(
    tmp_path: Path, filled: dict[str, Path]
) -> None:
    store = Store(tmp_path / "a.db")
    sha = screen_into(store, filled["EMRT-2.1"])
    sub = store.submission(sha)
    assert sub is not None and sub.last_screening is not None
    assert (sub.template_type, sub.template_version, sub.company_name) == (
        "EMRT",
        "2.1",
        "Synthetic Components Ltd.",
    )
    screening = store.screening(sub.last_screening)
    refs = screening.reference_versions
    assert refs["smelters"].startswith("embedded:") and refs["rmap"] == "" and refs["cahra"]
    assert screening.as_of == AS_OF and screening.sha256 == sha
    assert set(screening.check_versions) >= {
        "company",
        "rmap-status",
        "smelter-list",
    }


def test_rescreen_from_database_with_new_rmap_list(tmp_path: Path, filled: dict[str, Path]) -> None:
    """A new RMAP list changes results without the original files."""
    store = Store(tmp_path / "a.db", files_dir=tmp_path / "nofiles")
    sha = screen_into(store, filled["CMRT-6.5"])
    assert {f.code for f in store.findings(sha)} >= {"rmap-status-unknown"}
    decl_cids = [r["smelter_id"] for r in store.db["smelter_rows"].rows_where("sha256 = ?", [sha])]
    # The new list: first smelter Active, the rest Conformant.
    entries = {cid: RmapEntry(cid, "Conformant") for cid in decl_cids}
    entries[decl_cids[0]] = RmapEntry(decl_cids[0], "Active")
    store.add_rmap_list("2026-06-01:test.csv", dt.date(2026, 6, 1), "test.csv", entries)
    for p in (tmp_path / "nofiles").rglob("*"):
        if p.is_file():
            p.unlink()  # prove the originals are not needed
    screener = Screener(get_plugin_manager(), store.reference_data(), as_of=AS_OF)
    assert rescreen(store, screener.screen, as_of=AS_OF) == 1
    codes = [(f.code, f.smelter_id) for f in store.findings(sha)]
    assert ("smelter-active", decl_cids[0]) in codes
    assert "rmap-status-unknown" not in {c for c, _ in codes}
    sub = store.submission(sha)
    assert sub is not None and sub.last_screening is not None
    latest = store.screening(sub.last_screening)
    assert latest.reference_versions["rmap"] == "2026-06-01:test.csv"


def test_unreadable_file_is_stored_with_its_finding(tmp_path: Path) -> None:
    store = Store(tmp_path / "a.db")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    sha = screen_into(store, bad)
    sub = store.submission(sha)
    assert sub is not None and not sub.readable and sub.declaration_json is None
    assert [f.code for f in store.findings(sha)] == ["unreadable-file"]


def test_migrations_run_once_and_wal(tmp_path: Path) -> None:
    from storage.migrations import MIGRATIONS

    first = Store(tmp_path / "m.db")
    assert first.count("_assay_migrations") == len(MIGRATIONS) >= 2
    first.close()
    again = Store(tmp_path / "m.db")
    assert again.migrate() == []
    assert again.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_current_rmap_is_the_latest_dated(tmp_path: Path) -> None:
    store = Store(tmp_path / "r.db")
    store.add_rmap_list(
        "new", dt.date(2026, 5, 1), "n", {"CID000001": RmapEntry("CID000001", "Active")}
    )
    store.add_rmap_list(
        "old", dt.date(2024, 1, 1), "o", {"CID000001": RmapEntry("CID000001", "Conformant")}
    )
    rmap = store.current_rmap()
    assert (
        rmap is not None and rmap.version == "new" and rmap.entries["CID000001"].status == "Active"
    )


def test_a_following_screener_applies_a_newly_loaded_list(
    tmp_path: Path, filled: dict[str, Path]
) -> None:
    """The long-running service screens with the store's current lists, no restart needed."""
    store = Store(tmp_path / "f.db")
    screener = Screener(
        get_plugin_manager(),
        store.reference_data(),
        as_of=AS_OF,
        reference_provider=store.reference_data,
    )
    data = filled["CMRT-6.5"].read_bytes()
    before = {f.code for f in screener.screen_bytes(data).findings}
    assert "rmap-status-unknown" in before and "smelter-active" not in before
    cids = {r.smelter_id for r in screener.read(data).smelters}
    store.add_rmap_list(
        "2026-06-01:new", dt.date(2026, 6, 1), "new", {c: RmapEntry(c, "Active") for c in cids}
    )
    after = screener.screen_bytes(data)
    assert "smelter-active" in {f.code for f in after.findings}
    assert after.reference_versions["rmap"] == "2026-06-01:new"


def test_a_message_is_recorded_with_everything_it_causes_or_not_at_all(tmp_path: Path) -> None:
    """sqlite-utils commits its own writes when no transaction is open: recording a message
    must still be one transaction, so a failure (or a kill) after the message row and before
    its reply leaves nothing, and the message is handled again."""
    from program.outbox import NoTemplateReply
    from storage.mail import MessageRecord, OutboxItem

    class Unserialisable:
        def to_json(self) -> str:
            return json.dumps({"not json": {1, 2}})

    store = Store(tmp_path / "t.db")
    store.migrate()
    broken = OutboxItem("email", "reply:k1", Unserialisable())  # fails after the message row
    rec = MessageRecord(key="k1", mailbox="suppliers", outcome="screened", outbox=(broken,))
    with pytest.raises(TypeError):
        store.record_message(rec)
    assert store.message_done("k1") is None
    assert store.count("outbox") == 0
    ok = OutboxItem("email", "reply:k1", NoTemplateReply(to="s@example.test"))
    assert store.record_message(
        MessageRecord(key="k1", mailbox="suppliers", outcome="no-template", outbox=(ok,))
    )
    assert store.message_done("k1") is not None and store.count("outbox") == 1


@pytest.mark.parametrize("workers", [1, 2])
def test_rescreen_in_batches_with_and_without_workers(
    tmp_path: Path, filled: dict[str, Path], workers: int
) -> None:
    """Every stored declaration is screened again, batch by batch; one run, one screening time
    (a result that did not change is not written again: its screening records the run)."""
    store = Store(tmp_path / "b.db")
    shas = {screen_into(store, filled[name]) for name in ("CMRT-6.5", "EMRT-2.1")}
    screener = Screener(get_plugin_manager(), store.reference_data(), as_of=AS_OF)
    assert rescreen(store, screener.screen, as_of=AS_OF, batch=1, workers=workers) == 2
    assert [len(b) for b in store.declaration_batches(1)] == [1, 1]
    subs = [store.submission(sha) for sha in shas]
    times = {store.screening(s.last_screening).checked_at for s in subs if s and s.last_screening}
    assert len(times) == 1 and store.count("screenings") == 2


def test_reads_are_dataclasses(tmp_path: Path) -> None:
    """Rows leave the Store typed: JSON columns decoded, the outbox payload as stored."""
    from program.outbox import NoTemplateReply
    from storage.mail import MessageRecord, OutboxItem
    from storage.models import Message, OutboxRow

    store = Store(tmp_path / "d.db")
    reply = NoTemplateReply(to="a@example.test")
    item = OutboxItem("email", "reply:k", reply, recipient="a@example.test")
    store.record_message(
        MessageRecord(key="k", mailbox="suppliers", outcome="no-template", outbox=(item,))
    )
    [message] = store.messages("no-template")
    assert isinstance(message, Message) and message.submissions == () and message.key == "k"
    row = store.outbox_by_key("reply:k")
    assert isinstance(row, OutboxRow) and row.payload == reply.to_json()
    assert row.status == "pending" and not row.encrypted and row.attempts == 0
    [claimed] = store.claim_outbox("email", "me", 60)
    assert claimed.claimed_from == "pending" and claimed.status == "sending"
    assert store.outbox_row(claimed.id) == replace(claimed, claimed_from="")
    cahra = store.current_cahra_list()
    assert cahra.version and cahra.countries and cahra.as_of is not None
