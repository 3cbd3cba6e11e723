"""Resubmissions: what changed since the supplier's previous file.

Pure tests of :func:`program.diff.compare` on declarations built in code. The store's
look-up of the previous file and ``assay diff`` end to end are in test_diff_previous.py.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest

from plugins.models import Answer, Finding, MineRow, SmelterRow
from plugins.reference import ReferenceData
from program.diff import Comparison, compare, finding_key
from tests.program.diff_support import CELLS, decl, finding


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
