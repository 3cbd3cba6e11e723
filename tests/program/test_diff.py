"""Resubmissions: what changed since the supplier's previous file.

Pure tests of :func:`program.diff.compare` on declarations built in code first; then the
store's look-up of the previous file; then ``assay diff`` end to end on synthetic CMRTs
filled from the shared templates.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from plugins.layouts import CMRT
from plugins.models import (
    Answer,
    Declaration,
    Finding,
    MineRow,
    ScreeningResult,
    SmelterRow,
    TemplateMeta,
)
from plugins.reference import ReferenceData
from program.diff import Comparison, compare, finding_key
from storage.mail import MessageRecord
from storage.store import Store
from tests.assay.test_cli import assay
from tests.builders import FAMILIES, build_family, clean_smelters, template

META = TemplateMeta(type="CMRT", version="6.5", layout="CMRT_6.x")
COMPANY = {"company_name": "Synthetic Alloys Ltd.", "contact_email": ""}
CELLS = {"company_name": "D8", "contact_email": "D16"}


def decl(
    smelters: tuple[SmelterRow, ...] = (),
    company: dict[str, str] | None = None,
    answers: tuple[Answer, ...] = (),
    company_answers: tuple[Answer, ...] = (),
    mines: tuple[MineRow, ...] = (),
) -> Declaration:
    return Declaration(
        meta=META,
        company=dict(COMPANY if company is None else company),
        company_cells=dict(CELLS),
        minerals=("Tantalum", "Tin", "Gold", "Tungsten"),
        answers=answers,
        company_answers=company_answers,
        smelters=smelters,
        mines=mines,
    )


def finding(code: str, severity: Any = "error", **where: str) -> Finding:
    return Finding(code=code, severity=severity, message=f"{code} (quoted {where})", **where)


def not_listed(row: int, name: str, country: str = "") -> SmelterRow:
    return SmelterRow(row=row, metal="Tin", lookup="Smelter not listed", name=name, country=country)


def row_incomplete(row: int) -> Finding:
    return finding(
        "smelter-row-incomplete",
        sheet="Smelter List",
        cell=f"E{row}",
        mineral="Tin",
        field="country",
    )


def cids(reference: ReferenceData, metal: str, n: int) -> list[str]:
    return sorted(c for c, s in reference.smelters.items() if s.metal == metal)[:n]


# -- identity of a finding --------------------------------------------------------------------


def test_a_row_finding_keeps_its_identity_when_the_rows_move() -> None:
    old = decl(smelters=(not_listed(5, "Synthetic Tin Works"),))
    # The supplier inserted a row above: the same smelter, one row lower.
    new = decl(
        smelters=(not_listed(5, "Other Smelter", "SPAIN"), not_listed(6, "Synthetic Tin Works"))
    )
    assert finding_key(row_incomplete(5), old) == finding_key(row_incomplete(6), new)
    # Row 5 of the new file is another smelter: not the same finding.
    assert finding_key(row_incomplete(5), old) != finding_key(row_incomplete(5), new)
    c = compare(old, [row_incomplete(5)], new, [row_incomplete(6)])
    assert (len(c.fixed), len(c.still_open), len(c.new)) == (0, 1, 0)
    assert c.still_open[0].cell == "E6"  # the new file's finding


def test_a_smelter_id_names_the_row_wherever_it_is_and_messages_do_not_count() -> None:
    a = Finding(
        "smelter-not-conformant",
        "risk",
        "CID000001 has status 'X'",
        "Smelter List",
        "A5",
        "Tin",
        "CID000001",
    )
    b = replace(a, cell="A40", message="CID000001 has status 'Y'")
    assert finding_key(a) == finding_key(b)
    assert finding_key(a) != finding_key(replace(a, smelter_id="CID000002"))
    assert finding_key(a) != finding_key(replace(a, mineral="Gold"))


def test_declaration_findings_by_field_survive_a_moved_company_block_and_cells_count_without_one() -> (
    None
):
    missing = finding(
        "missing-required-field", sheet="Declaration", cell="D16", field="contact_email"
    )
    assert finding_key(missing) == finding_key(replace(missing, cell="D24"))
    no_field = finding("no-minerals-selected", sheet="Declaration", cell="D12")
    assert finding_key(no_field) != finding_key(replace(no_field, cell="E12"))


def test_a_list_finding_is_not_located_by_the_first_row_it_names() -> None:
    old = decl(smelters=(not_listed(5, "Alpha"), not_listed(6, "Beta")))
    new = decl(smelters=(not_listed(5, "Beta"),))
    f = finding(
        "smelters-for-undeclared-metal", "warning", sheet="Smelter List", cell="B5", mineral="Tin"
    )
    assert finding_key(f, old) == finding_key(f, new)


def test_mine_rows_are_located_by_the_mine() -> None:
    old = decl(mines=(MineRow(7, "Tin", name="Synthetic Mine"),))
    new = decl(
        mines=(MineRow(7, "Tin", name="Other Mine"), MineRow(8, "Tin", name="Synthetic Mine"))
    )
    f = finding("mine-in-cahra", "risk", sheet="Mine List", cell="F7", mineral="Tin")
    assert finding_key(f, old) == finding_key(replace(f, cell="F8"), new)
    assert finding_key(f, old) != finding_key(f, new)


# -- findings fixed, still open, new ----------------------------------------------------------


def test_counts_and_headline_leave_info_out() -> None:
    d = decl()
    old = [
        finding("missing-required-field", sheet="Declaration", cell="D16", field="contact_email"),
        finding("outdated-template", "warning", sheet="Declaration", cell="J3"),
        finding("rmap-status-unknown", "info", sheet="Smelter List"),
    ]
    new = [
        finding("outdated-template", "warning", sheet="Declaration", cell="J3"),
        finding(
            "smelter-not-conformant",
            "risk",
            sheet="Smelter List",
            cell="A9",
            smelter_id="CID000009",
        ),
        finding("smelter-active", "info", sheet="Smelter List", cell="A9", smelter_id="CID000010"),
    ]
    c = compare(d, old, d, new)
    assert [f.code for f in c.fixed] == ["missing-required-field", "rmap-status-unknown"]
    assert [f.code for f in c.still_open] == ["outdated-template"]
    assert [f.code for f in c.new] == ["smelter-not-conformant", "smelter-active"]
    assert c.counts() == (1, 1, 1)
    assert c.headline(dt.date(2026, 5, 2)) == (
        "Compared with your file of 2026-05-02: 1 fixed, 1 still open, 1 new."
    )


def test_identical_keys_are_matched_one_for_one() -> None:
    d = decl()
    dup = finding(
        "duplicate-smelter", "warning", sheet="Smelter List", cell="A7", smelter_id="CID000001"
    )
    c = compare(d, [dup, replace(dup, cell="A9")], d, [replace(dup, cell="A12")])
    assert (len(c.fixed), len(c.still_open), len(c.new)) == (1, 1, 0)
    c = compare(d, [dup], d, [dup, replace(dup, cell="A9")])
    assert (len(c.fixed), len(c.still_open), len(c.new)) == (0, 1, 1)


def test_an_unreadable_side_compares_findings_only() -> None:
    unreadable = Finding("unreadable-file", "error", "The file is not a workbook.")
    d = decl(smelters=(not_listed(5, "Synthetic Tin Works"),), company={"company_name": "X"})
    c = compare(None, [unreadable], d, [row_incomplete(5)])
    assert [f.code for f in c.fixed] == ["unreadable-file"]
    assert [f.code for f in c.new] == ["smelter-row-incomplete"]
    assert c.fields == c.answers == c.smelters_added == c.smelters_removed == ()
    c = compare(d, [], None, [unreadable])
    assert c.counts() == (0, 0, 1) and not c.smelters_removed
    c = compare(None, [unreadable], None, [unreadable])
    assert c.counts() == (0, 1, 0)


# -- what the supplier changed ----------------------------------------------------------------


def test_field_and_answer_changes_name_their_cells() -> None:
    q1 = Answer("Q1", "Yes", "D24", "Tin")
    ca = Answer("A", "Yes", "D53", comment="", comment_cell="F53")
    old = decl(answers=(q1, Answer("Q1", "Yes", "D23", "Tantalum")), company_answers=(ca,))
    new = decl(
        company={"company_name": "Synthetic Alloys Ltd.", "contact_email": "pat@example.test"},
        answers=(replace(q1, value="No"), Answer("Q1", "Yes", "D23", "Tantalum")),
        company_answers=(replace(ca, comment="https://example.test/policy"),),
    )
    c = compare(old, [], new, [])
    assert [(x.label, x.where, x.old, x.new) for x in c.fields] == [
        ("Email – Contact", "Declaration!D16", "", "pat@example.test")
    ]
    assert [(x.label, x.where, x.old, x.new) for x in c.answers] == [
        ("Tin, question 1", "Declaration!D24", "Yes", "No"),
        ("Question A, comment", "Declaration!F53", "", "https://example.test/policy"),
    ]


def test_effective_date_changes_compare_the_dates() -> None:
    old = replace(
        decl(), effective_date=dt.date(2025, 5, 2), company_cells={**CELLS, "effective_date": "D22"}
    )
    new = replace(old, effective_date=dt.date(2026, 5, 2), effective_date_raw="02-May-2026")
    (change,) = compare(old, [], new, []).fields
    assert (change.label, change.where, change.old, change.new) == (
        "Effective Date",
        "Declaration!D22",
        "2025-05-02",
        "2026-05-02",
    )


def test_smelters_added_and_removed_carry_their_standing(
    conformant: ReferenceData, embedded: ReferenceData
) -> None:
    kept, gone, joined = cids(conformant, "Tin", 3)
    old = decl(
        smelters=(
            SmelterRow(5, "Tin", smelter_id=kept, name="Kept"),
            SmelterRow(6, "Tin", smelter_id=gone, name="Gone", country="SPAIN"),
            SmelterRow(7, "Tin", lookup="Smelter not yet identified"),
        )
    )
    new = decl(
        smelters=(
            SmelterRow(5, "Tin", lookup="Smelter not yet identified"),
            SmelterRow(6, "tin", smelter_id=kept, name="Kept"),  # moved, metal spelt otherwise
            SmelterRow(7, "Tin", smelter_id=joined, name="Joined"),
            not_listed(8, "Synthetic Tin Works", "SPAIN"),
        )
    )
    c = compare(old, [], new, [], conformant)
    assert [(s.cid, s.name, s.standing) for s in c.smelters_added] == [
        (joined, "Joined", "conformant"),
        ("", "Synthetic Tin Works", ""),
    ]
    assert [(s.metal, s.cid, s.country, s.standing) for s in c.smelters_removed] == [
        ("Tin", gone, "SPAIN", "conformant")
    ]
    assert not c.list_replaced
    # No RMAP list loaded: the standing says so; no reference at all: unknown.
    assert compare(old, [], new, [], embedded).smelters_added[0].standing == "no list"
    assert compare(old, [], new, []).smelters_added[0].standing == ""
    # The reference list knows the smelter as Tin; a list that covers only Gold judges nothing.
    gold_only = replace(
        conformant,
        rmap_lists=(replace(conformant.rmap_lists[0], metals=frozenset({"Gold"})),),
    )
    assert compare(old, [], new, [], gold_only).smelters_added[0].standing == "not covered"


@pytest.mark.parametrize(("kept", "replaced"), [(1, True), (2, False), (10, False)])
def test_a_list_replaced_wholesale_is_told_apart_from_edits(
    conformant: ReferenceData, kept: int, replaced: bool
) -> None:
    tin = cids(conformant, "Tin", 20)
    old = decl(
        smelters=tuple(SmelterRow(5 + i, "Tin", smelter_id=c) for i, c in enumerate(tin[:10]))
    )
    now = tin[:kept] + tin[10 : 20 - kept]
    new = decl(smelters=tuple(SmelterRow(5 + i, "Tin", smelter_id=c) for i, c in enumerate(now)))
    c = compare(old, [], new, [])
    assert c.list_replaced is replaced
    assert len(c.smelters_removed) == 10 - kept


def test_a_short_list_changed_entirely_is_not_a_replacement(conformant: ReferenceData) -> None:
    tin = cids(conformant, "Tin", 6)
    old = decl(
        smelters=tuple(SmelterRow(5 + i, "Tin", smelter_id=c) for i, c in enumerate(tin[:3]))
    )
    new = decl(
        smelters=tuple(SmelterRow(5 + i, "Tin", smelter_id=c) for i, c in enumerate(tin[3:]))
    )
    c = compare(old, [], new, [])
    assert not c.list_replaced and len(c.smelters_added) == len(c.smelters_removed) == 3


def test_to_dict_is_json() -> None:
    c = compare(decl(), [row_incomplete(5)], decl(company={"company_name": "Y"}), [])
    data = json.loads(json.dumps(c.to_dict()))
    assert data["counts"] == {"fixed": 1, "still_open": 0, "new": 0}
    assert data["findings"]["fixed"][0]["cell"] == "E5"
    assert data["fields"][0]["new"] == "Y"
    assert isinstance(c, Comparison)


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
            {"name": "Synthetic Alloys", "addresses": ["buyer@alloys.example.test"]},
            {"name": "Other Synthetic", "domains": ["other.example.test"]},
        ]
    )
    ids = {s["name"]: s["id"] for s in store.suppliers()}
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
        return row["sha256"] if row else None

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
        return row["sha256"] if row else None

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
