"""The consolidated smelter list (:func:`program.smelter_list.consolidate`) and its RMAP
counts (:func:`program.smelter_list.rmap_counts`), on rows and reference data built in code;
one test reads the standings through a Store with an RMAP list loaded, as the report does.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from plugins.reference import ReferenceData, RmapEntry, RmapList, SmelterRef
from program.smelter_list import (
    MALFORMED,
    NO_MATCH,
    NO_NAME,
    NOT_YET_IDENTIFIED,
    REASONS,
    ListedRow,
    MetalCounts,
    consolidate,
    metal_rank,
    rmap_counts,
)
from storage.store import Store
from tests.storage.campaign_support import rmap

SMELTERS = {
    "CID000001": SmelterRef("CID000001", "Tin", "Synthetic Tin Works", "JAPAN"),
    "CID000002": SmelterRef("CID000002", "Tin", "Invented Tin Smelter", "RWANDA"),
    "CID000003": SmelterRef("CID000003", "Gold", "Example Gold Refinery", "MEXICO"),
    "CID000004": SmelterRef("CID000004", "Tantalum", "Made-up Tantalum Co.", "GERMANY"),
    "CID000005": SmelterRef("CID000005", "Cobalt", "Fictional Cobalt Plant", "FINLAND"),
}


def reference(
    lists: tuple[RmapList, ...] = (), cahra: frozenset[str] = frozenset({"MX"})
) -> ReferenceData:
    return ReferenceData(dict(SMELTERS), "test-1", rmap_lists=lists, cahra=cahra)


def row(supplier: str, metal: str, cid: str = "", **kw: str) -> ListedRow:
    return ListedRow(supplier, metal, cid, **kw)


def test_the_same_cid_from_several_suppliers_is_one_entry() -> None:
    rows = [
        row("Alpha Parts Ltd", "Tin", "CID000001"),
        row("Beta Boards Inc", "Tin", "CID000001"),
        row("Alpha Parts Ltd", "Tin", "CID000001"),  # the same supplier twice
        row("Beta Boards Inc", "Gold", "CID000003"),
    ]
    result = consolidate(rows, reference())
    assert [(e.metal, e.cid) for e in result.entries] == [
        ("Gold", "CID000003"),
        ("Tin", "CID000001"),
    ]
    tin = result.for_metal("Tin")[0]
    assert tin.suppliers == ("Alpha Parts Ltd", "Beta Boards Inc")
    assert tin.name == "Synthetic Tin Works" and tin.country == "JAPAN"
    assert result.suppliers == 2 and result.unidentified == ()


def test_a_cid_under_the_wrong_metal_goes_to_the_reference_metal() -> None:
    result = consolidate(
        [row("Alpha Parts Ltd", "Gold", "CID000001"), row("Beta Boards Inc", "Tin", "cid000001")],
        reference(),
    )
    assert [(e.metal, e.cid, len(e.suppliers)) for e in result.entries] == [("Tin", "CID000001", 2)]


def test_a_cid_unknown_to_the_reference_keeps_the_suppliers_name_and_country() -> None:
    rows = [
        row("Alpha Parts Ltd", "Tungsten", "CID009999", name="Newco Tungsten", country="Austria"),
        row("Beta Boards Inc", "Tungsten", "CID009999", name="Newco Tungsten", country="AUSTRIA"),
        row("Gamma Cells Co", "Tungsten", "CID009999", name="NewCo W", country="Peru"),
    ]
    [entry] = consolidate(rows, reference()).entries
    assert (entry.metal, entry.name, entry.country) == ("Tungsten", "Newco Tungsten", "AUSTRIA")
    assert entry.standing == "no-list"


@pytest.mark.parametrize(
    ("listed", "reason", "name"),
    [
        (row("A", "Tin", lookup="Smelter not yet identified"), NOT_YET_IDENTIFIED, ""),
        (row("A", "Tin", name="Unheard-of Tin Refinery"), NO_MATCH, "Unheard-of Tin Refinery"),
        (row("A", "Tin", "CID12", name="Short Id Smelter"), MALFORMED, "Short Id Smelter"),
        (row("A", "Tin", "SMELTER-7"), MALFORMED, ""),
        (row("A", "Tin"), NO_NAME, ""),
        (row("A", "Tin", name="Unknown"), NO_NAME, ""),
        (row("A", "Tin", name="Smelter not listed"), NO_NAME, ""),
    ],
)
def test_each_reason_a_row_is_not_identified(listed: ListedRow, reason: str, name: str) -> None:
    result = consolidate([listed], reference())
    assert result.entries == ()
    [group] = result.unidentified
    assert (group.metal, group.reason, group.name, group.rows) == ("Tin", reason, name, 1)
    assert group.suppliers == ("A",)


def test_unidentified_rows_are_grouped_and_ordered_by_metal_then_reason() -> None:
    rows = [
        row("Beta", "Tin", name="unheard-of tin refinery", country="peru"),
        row("Alpha", "Tin", name="Unheard-of Tin Refinery", country="PERU"),
        row("Alpha", "Tin", lookup="Smelter not yet identified"),
        row("Gamma", "Tin", lookup="smelter not yet identified"),
        row("Alpha", "Gold", "BAD-ID"),
        row("Alpha", "Tin"),
    ]
    result = consolidate(rows, reference())
    got = [(u.metal, u.reason, u.rows, u.suppliers) for u in result.unidentified]
    assert got == [
        ("Gold", MALFORMED, 1, ("Alpha",)),
        ("Tin", NOT_YET_IDENTIFIED, 2, ("Alpha", "Gamma")),
        ("Tin", NO_MATCH, 2, ("Alpha", "Beta")),
        ("Tin", NO_NAME, 1, ("Alpha",)),
    ]
    assert result.unidentified[2].country == "PERU"
    assert result.unidentified_for("Gold")[0].reason == MALFORMED
    assert set(REASONS) == {NOT_YET_IDENTIFIED, NO_MATCH, MALFORMED, NO_NAME}


def test_entries_are_sorted_by_published_metal_order_then_cid() -> None:
    rows = [row("A", m, c) for c, m in [(c, r.metal) for c, r in reversed(SMELTERS.items())]]
    result = consolidate(rows, reference())
    assert [e.cid for e in result.entries] == [
        "CID000003",  # Gold
        "CID000004",  # Tantalum
        "CID000001",  # Tin
        "CID000002",
        "CID000005",  # Cobalt
    ]
    assert result.metals() == ("Gold", "Tantalum", "Tin", "Cobalt")
    assert metal_rank("Zinc") > metal_rank("Nickel") > metal_rank("Gold")


def test_covered_and_cahra_flags() -> None:
    rows = [
        row("A", "Tin", "CID000002"),  # Rwanda: covered
        row("A", "Gold", "CID000003"),  # Mexico: CAHRA list of this reference
        row("A", "Tin", "CID000001", mine_countries="Rwanda; Japan"),
        row("B", "Tin", "CID000001", mine_countries="Mexico"),
    ]
    by_cid = {e.cid: e for e in consolidate(rows, reference()).entries}
    rw, mx, jp = by_cid["CID000002"], by_cid["CID000003"], by_cid["CID000001"]
    assert (rw.covered_country, rw.cahra_country) == (True, False)
    assert (mx.covered_country, mx.cahra_country) == (False, True)
    assert (jp.covered_country, jp.cahra_country) == (False, False)
    assert jp.risky_mine_countries == ("MX", "RW")
    assert jp.flags == ("mines in MX, RW",)
    assert rw.flags == ("covered country",) and mx.flags == ("CAHRA country",)
    # Without a CAHRA list, Mexico is no flag.
    assert not consolidate(rows[1:2], reference(cahra=frozenset())).entries[0].cahra_country


def test_standings_and_counts_with_a_list_covering_tin_only() -> None:
    tin_list = RmapList(
        "2026-03-01:tin.csv",
        dt.date(2026, 3, 1),
        {"CID000001": RmapEntry("CID000001", "Conformant", metal="Tin")},
        metals=frozenset({"Tin"}),
    )
    rows = [row("A", "Tin", "CID000001"), row("A", "Tin", "CID000002")]
    rows += [row("A", "Gold", "CID000003"), row("A", "Gold", name="Nameless Gold Works")]
    result = consolidate(rows, reference((tin_list,)))
    standing = {e.cid: (e.standing, e.list_date) for e in result.entries}
    assert standing == {
        "CID000001": ("conformant", "2026-03-01"),
        "CID000002": ("not-conformant", "2026-03-01"),
        "CID000003": ("not-covered", ""),
    }
    assert rmap_counts(result) == [
        MetalCounts("Gold", 1, 0, 0, 0, 1, 0.0, ""),
        MetalCounts("Tin", 2, 1, 0, 1, 0, 0.5, "2026-03-01"),
    ]


def test_a_metal_with_only_unidentified_rows_counts_zero_smelters() -> None:
    result = consolidate([row("A", "Mica", lookup="Smelter not yet identified")], reference())
    assert rmap_counts(result) == [MetalCounts("Mica", 0, 0, 0, 0, 0, 0.0, "")]


def test_standings_through_a_store_with_an_rmap_list(tmp_path: Path) -> None:
    store = Store(tmp_path / "assay.db")
    ref = store.reference_data()
    tin = sorted(c for c, s in ref.smelters.items() if s.metal == "Tin")[:3]
    rmap(store, "2026-04-01", dt.date(2026, 4, 1), {tin[0]: "Conformant", tin[1]: "Active"})
    result = consolidate([row("Alpha", "Tin", c) for c in tin], store.reference_data())
    assert [e.standing for e in result.entries] == ["conformant", "active", "not-conformant"]
    assert {e.list_date for e in result.entries} == {"2026-04-01"}
    [counts] = rmap_counts(result)
    assert (counts.smelters, counts.conformant, counts.active, counts.not_conformant) == (
        3,
        1,
        1,
        1,
    )
    assert counts.share_conformant == pytest.approx(0.3333)


def test_full_width_cids_fold_and_other_scripts_digits_are_malformed() -> None:
    """ "CID０００００１" is CID000001 typed on a full-width keyboard; Arabic-Indic digits are
    not a CID (and never a second "smelter" in the published list)."""
    rows = [
        row("Alpha Parts Ltd", "Tin", "CID000001"),
        row("Beta Boards Inc", "Tin", "CID０００００１"),
        row("Gamma Leads Co", "Tin", "cid٠٠٠٠٠١", name="Synthetic Tin Works"),
    ]
    result = consolidate(rows, reference())
    assert [(e.cid, e.suppliers) for e in result.entries] == [
        ("CID000001", ("Alpha Parts Ltd", "Beta Boards Inc"))
    ]
    assert [(u.reason, u.suppliers) for u in result.unidentified] == [
        (MALFORMED, ("Gamma Leads Co",))
    ]
