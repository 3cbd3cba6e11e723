"""Resubmissions: the store's look-up of the previous file, and ``assay diff`` end to end."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest

from plugins.layouts import CMRT
from plugins.models import ScreeningResult
from storage.mail import MessageRecord
from storage.models import SupplierEntry
from storage.store import Store
from tests.assay.test_cli import assay
from tests.builders import FAMILIES, build_family, clean_smelters, template
from tests.program.diff_support import decl, finding

# -- the previous file in the store -----------------------------------------------------------


def record(store: Store, sha: str, company: str, when: str, readable: bool = True) -> str:
    d = decl(company={"company_name": company}) if readable else None
    unreadable = (finding("unreadable-file"),) if not readable else ()
    store.record_screening(
        sha, ScreeningResult(d, unreadable, readable=readable), filename=f"{sha[:4]}.xlsx"
    )
    store.db.execute("update submissions set first_seen = ? where sha256 = ?", [when, sha])
    store.db.conn.commit()
    return sha


def link(store: Store, sha: str, supplier_id: int | None, sender: str = "") -> None:
    """``sha`` received in a message (one row of submission_sources, in order of calls)."""
    store.record_message(
        MessageRecord(
            key=f"msg-{uuid.uuid4().hex}",
            mailbox="suppliers",
            sender=sender,
            sources=((sha, supplier_id),),
        )
    )


def test_previous_submission_of_the_same_supplier(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.import_suppliers(
        [
            SupplierEntry("Synthetic Alloys", addresses=("buyer@alloys.example.test",)),
            SupplierEntry("Other Synthetic", domains=("other.example.test",)),
        ]
    )
    ids = {s.name: s.id for s in store.suppliers()}
    mine = ids["Synthetic Alloys"]
    first = record(store, "a1" * 32, "Synthetic Alloys Ltd.", "2026-01-01T00:00:00+00:00")
    renamed = record(store, "a2" * 32, "Renamed Alloys", "2026-02-01T00:00:00+00:00")
    broken = record(store, "a3" * 32, "", "2026-02-15T00:00:00+00:00", readable=False)
    current = record(store, "a4" * 32, "Synthetic Alloys Ltd.", "2026-03-01T00:00:00+00:00")
    others = record(store, "a6" * 32, "Synthetic Alloys Ltd.", "2026-02-20T00:00:00+00:00")
    for sha in (first, renamed, broken):
        link(store, sha, mine, "buyer@alloys.example.test")
    link(store, others, ids["Other Synthetic"], "ops@other.example.test")
    # Credited to the supplier because it declared its name, but sent by a stranger: not "yours".
    forged = record(store, "a7" * 32, "Synthetic Alloys Ltd.", "2026-02-21T00:00:00+00:00")
    link(store, forged, mine, "mallory@elsewhere.example.test")

    def prev(**kw: object) -> str | None:
        args: dict[str, object] = {"supplier_id": mine, "sender": "", "company": "", **kw}
        row = store.previous_submission(exclude={current}, **args)  # type: ignore[arg-type]
        return row.submission.sha256 if row else None

    # The last readable file credited to the supplier; not another supplier's, not itself.
    assert prev() == renamed
    assert prev(template_type="EMRT") is None  # a CMRT is never compared with an EMRT
    # Sent again later, an older file becomes the latest one received (A, B, then A again).
    link(store, first, mine, "BUYER@alloys.example.test")
    assert prev() == first
    assert prev(supplier_id=ids["Other Synthetic"]) == others


def test_previous_submission_never_by_declared_company_alone(tmp_path: Path) -> None:
    """A company name anyone can type never shows that company's files: only the same address,
    or the same domain declaring the same company, finds an unregistered sender's files."""
    store = Store(tmp_path / "s.db")
    theirs = record(store, "b1" * 32, "Synthetic Metals GmbH", "2026-01-01T00:00:00+00:00")
    link(store, theirs, None, "buyer@metals.example.test")
    current = record(store, "b3" * 32, "synthetic metals gmbh", "2026-03-01T00:00:00+00:00")

    def prev(sender: str, company: str = "Synthetic  METALS GmbH") -> str | None:
        row = store.previous_submission(
            supplier_id=None, sender=sender, company=company, exclude={current}
        )
        return row.submission.sha256 if row else None

    assert prev("mallory@elsewhere.example.test") is None
    assert prev("BUYER@metals.example.test", company="") == theirs  # the same address
    assert prev("colleague@metals.example.test") == theirs  # same domain, same company
    assert prev("colleague@metals.example.test", company="Synthetic Metals") is None
    assert prev("x@metals_example.test") is None  # "_" is not a wildcard
    assert prev("") is None


def test_stored_declarations_and_prefixes(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    sha = record(store, "c1" * 32, "Synthetic Alloys Ltd.", "2026-01-01T00:00:00+00:00")
    record(store, "c1" * 31 + "ff", "Synthetic Alloys Ltd.", "2026-01-01T00:00:00+00:00")
    broken = record(store, "d1" * 32, "", "2026-01-01T00:00:00+00:00", readable=False)
    loaded = store.declaration(sha)
    assert loaded is not None and loaded.company["company_name"] == "Synthetic Alloys Ltd."
    assert store.declaration(broken) is None and store.declaration("0" * 64) is None
    assert store.submissions_with_prefix("D1D1D1D1") == [broken]
    assert len(store.submissions_with_prefix("c1c1c1c1")) == 2
    assert store.submissions_with_prefix(sha) == [sha]
    assert store.submissions_with_prefix("c1%") == [] and store.submissions_with_prefix("") == []


# -- assay diff ---------------------------------------------------------------------------------

HOSTILE_COMPANY = "Evil\x9b31m Co_x001B_[2J\u202e <script>alert(1)</script>"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The first file lacks the contact e-mail; the second fixes it and adds a Tin smelter."""
    out = tmp_path_factory.mktemp("diff")
    rel, _cells = FAMILIES["CMRT-6.4"]
    extra = clean_smelters(template(rel), "Tin", 4)[3]
    email = CMRT.company_cells["contact_email"]
    built = {}
    for name, cells in {
        "old": {"Declaration": {email: None}},
        "new": {"Smelter List": {"A17": extra.cid}},
        "hostile": {
            "Declaration": {email: None, CMRT.company_cells["company_name"]: HOSTILE_COMPANY}
        },
    }.items():
        (out / name).mkdir()
        built[name] = build_family("CMRT-6.4", out / name, cells)[0]
    (out / "not-a-workbook.xlsx").write_bytes(b"%PDF-1.4 this is not a workbook\x1b[2J")
    return {**built, "junk": out / "not-a-workbook.xlsx", "cid": extra.cid, "email": email}


def diff(*args: str, db: Path) -> Any:
    return assay("diff", "--db", str(db), "--as-of", "2026-06-30", *args)


@pytest.fixture
def db(tmp_path: Path, files: dict[str, Any]) -> tuple[Path, str]:
    """A database holding the first file."""
    path = tmp_path / "s.db"
    proc = assay(
        "screen", "--db", str(path), "--as-of", "2026-06-30", "--format", "json", str(files["old"])
    )
    assert proc.returncode == 0, proc.stderr
    return path, json.loads(proc.stdout)[0]["sha256"]


def test_diff_of_two_files_in_text(files: dict[str, Any], db: tuple[Path, str]) -> None:
    proc = diff(str(files["old"]), str(files["new"]), db=db[0])
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "1 fixed, 1 still open, 0 new" in out
    assert (
        f"Declaration!{files['email']}" in out and '(blank) -> "alex.example@example.test"' in out
    )
    added = out.split("Smelters added (1)\n")[1].splitlines()[0]
    assert files["cid"] in added and added.endswith(": no list")  # no RMAP list in this database
    fixed = out.split("Findings fixed (1)\n")[1].splitlines()[0]
    assert "missing-required-field" in fixed
    assert "New findings" not in out and "Smelters removed" not in out


def test_diff_in_json_and_against_a_stored_submission(
    files: dict[str, Any], db: tuple[Path, str]
) -> None:
    path, sha = db
    by_file = diff("--format", "json", str(files["old"]), str(files["new"]), db=path)
    by_prefix = diff("--format", "json", sha[:8], str(files["new"]), db=path)
    assert by_file.returncode == by_prefix.returncode == 0, by_prefix.stderr
    a, b = json.loads(by_file.stdout), json.loads(by_prefix.stdout)
    assert a["counts"] == b["counts"] == {"fixed": 1, "still_open": 1, "new": 0}
    assert b["old"]["sha256"] == sha and b["old"]["received"] and a["old"]["received"] is None
    assert [s["cid"] for s in b["smelters_added"]] == [files["cid"]]
    assert [(f["field"], f["code"]) for f in b["findings"]["fixed"]] == [
        ("contact_email", "missing-required-field")
    ]
    assert [c["label"] for c in b["fields"]] == ["Email – Contact"]
    # Both sides stored: no screening at all, the same answer.
    same = diff(sha, sha, db=path)
    assert same.returncode == 0 and "0 fixed, 2 still open, 0 new" in same.stdout


@pytest.mark.parametrize(
    ("argument", "says"),
    [
        ("deadbeefdeadbeef", "no such file or stored submission"),
        ("missing.xlsx", "no such file"),
        ("dead", "no such file"),  # too short to be a prefix
        ("00000000", "several stored submissions"),
    ],
)
def test_diff_refuses_unknown_and_ambiguous_names(
    files: dict[str, Any], db: tuple[Path, str], argument: str, says: str
) -> None:
    with sqlite3.connect(db[0]) as conn:
        for sha in ("0" * 63 + "1", "0" * 63 + "2"):
            conn.execute("insert into submissions (sha256, readable) values (?, 1)", [sha])
    proc = diff(argument, str(files["new"]), db=db[0])
    assert proc.returncode == 2 and says in proc.stderr
    assert "Traceback" not in proc.stderr


def test_diff_of_hostile_files(files: dict[str, Any], db: tuple[Path, str]) -> None:
    proc = diff(str(files["junk"]), str(files["hostile"]), db=db[0])
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "not readable, compared as no declaration" in out
    fixed = out.split("Findings fixed (1)\n")[1].splitlines()[0]
    assert "unreadable-file" in fixed
    # The company name is shown, on one line, without its control characters or bidi override.
    assert "Evil31m Co[2J <script>alert(1)</script>" in out
    assert not any(ch in out for ch in "\x1b\x9b\u202e\x00")
    proc = diff("--format", "json", str(files["old"]), str(files["hostile"]), db=db[0])
    assert proc.returncode == 0, proc.stderr
    assert not any(ch in proc.stdout for ch in "\x1b\x9b\u202e")
    data = json.loads(proc.stdout)
    (change,) = [c for c in data["fields"] if c["label"] == "Company Name"]
    assert change["new"] == "Evil\x9b31m Co\x1b[2J\u202e <script>alert(1)</script>"  # lossless
