"""Reference lists as people hold them: RMAP status lists (smelter reference lists and CAHRA
in test_smelter_cahra_import.py, file formats and hostile files in test_rmap_import_files.py).

Every file is built from code (tests/reflists.py, written by tests/listwriters.py) in each
shape it comes in: CSV, XLSX and the Excel 2003 XML RMI's website exports.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from plugins.reference import SmelterRef
from storage.listcells import repair_cid
from storage.listdates import cycle_months, find_date, parse_list_date
from storage.refdata import RefDataError, parse_rmap_file
from tests import listwriters, reflists
from tests.listwriters import FORMATS

pytestmark = pytest.mark.slow


# -- RMI's facilities export -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_facilities_export_in_every_format(tmp_path: Path, fmt: str) -> None:
    path = listwriters.write(tmp_path / "facilities", reflists.facilities_export(), fmt)
    got = parse_rmap_file(path)
    assert sorted(got.entries) == ["CID000101", "CID000102", "CID000103", "CID000104"]
    gold = got.entries["CID000101"]
    assert (gold.status, gold.standing, gold.metal, gold.country) == (
        "Conformant",
        "conformant",
        "Gold",
        "JAPAN",
    )
    assert gold.last_assessment == dt.date(2024, 11, 19)
    assert gold.next_assessment == dt.date(2025, 11, 19)
    assert gold.audit_cycle == "1 Year"
    assert got.entries["CID000102"].standing == "active"
    assert got.entries["CID000103"].metal == "Tantalum"  # "TANTALUM" made canonical
    assert got.entries["CID000104"].standing == "not-conformant"
    assert got.as_of == dt.date(2025, 5, 1)
    assert got.as_of_source.startswith("title row") and "May 1, 2025" in got.as_of_source
    assert got.columns["status"] == "RMAP Audit Status" and got.columns["cid"] == "Smelter ID"
    assert got.metals == frozenset({"Gold", "Tin", "Tantalum", "Tungsten"})
    assert got.sources and "4 rows" in got.sources[0] and "RMAP Audit Status" in got.sources[0]
    assert not got.skipped and not got.repairs and not got.conflicts and got.dates_unparsed == 0


def test_assessment_status_header_and_re_audit_computed_from_the_cycle(tmp_path: Path) -> None:
    rows = [r[:7] for r in reflists.facilities_export("Assessment Status")]  # no Re-audit Due
    got = parse_rmap_file(listwriters.write_csv(tmp_path / "list.csv", rows))
    assert got.columns["status"] == "Assessment Status"
    assert got.entries["CID000101"].next_assessment == dt.date(2025, 11, 19)  # + 1 Year
    assert got.entries["CID000103"].next_assessment == dt.date(2026, 3, 1)  # + 3 Years
    assert got.entries["CID000102"].next_assessment is None


def test_audit_cycles() -> None:
    assert [cycle_months(t) for t in ("1 Year", "3 Years", "12 months", "2", "18", "Annual")] == [
        12,
        36,
        12,
        24,
        18,
        12,
    ]
    assert cycle_months("whenever") is None


# -- status words ------------------------------------------------------------------------------


def test_filing_table_with_all_seven_status_words(tmp_path: Path) -> None:
    path = listwriters.write_xlsx(tmp_path / "sd-2025.xlsx", {"Annex": reflists.filing_table()})
    got = parse_rmap_file(path)
    assert got.columns["cid"] == "Smelter Identification"
    entries = [got.entries[f"CID00020{i + 1}"] for i in range(7)]
    assert tuple(e.status for e in entries) == reflists.SEVEN_WORDS  # RMI's words, en dashes kept
    assert tuple(e.standing for e in entries) == reflists.SEVEN_STANDINGS


def test_type_column_is_a_status_only_when_it_holds_status_words(tmp_path: Path) -> None:
    status = parse_rmap_file(listwriters.write_csv(tmp_path / "t.csv", reflists.type_table(True)))
    assert [e.status for e in status.entries.values()] == ["Conformant", "Active", "Conformant"]
    assert status.columns["status"] == "Type"
    kinds = listwriters.write_csv(tmp_path / "k.csv", reflists.type_table(False))
    with pytest.raises(RefDataError) as err:
        parse_rmap_file(kinds)
    assert "--status" in str(err.value) and "EVERY row" in str(err.value)
    # The same table on a sheet named after a status takes the sheet's word, not "Smelter".
    book = listwriters.write_xlsx(
        tmp_path / "k.xlsx", {"Conformant Smelters": reflists.type_table(False)}
    )
    named = parse_rmap_file(book)
    assert {e.status for e in named.entries.values()} == {"Conformant"}
    assert "status from the sheet name" in named.sources[0]


def test_mark_columns(tmp_path: Path) -> None:
    got = parse_rmap_file(
        listwriters.write_xlsx(tmp_path / "m.xlsx", {"List": reflists.mark_table()})
    )
    status = {cid: (e.status, e.standing) for cid, e in got.entries.items()}
    assert status == {
        "CID000401": ("RMAP Conformant", "conformant"),
        "CID000402": ("Active", "active"),
        "CID000403": ("RMAP Conformant", "conformant"),
        "CID000404": ("Not marked", "not-conformant"),
        "CID000405": ("RMAP Conformant", "conformant"),  # "No" is not a mark
    }
    assert got.unmarked == 1
    assert "mark column" in got.sources[0]


def test_two_sheets_named_after_statuses_and_a_cid_on_both(tmp_path: Path) -> None:
    path = listwriters.write_xlsx(tmp_path / "rmap.xlsx", reflists.two_sheet_workbook())
    got = parse_rmap_file(path)
    assert got.entries["CID000501"].status == "Conformant"
    assert got.entries["CID000503"].status == "Active"
    both = got.entries["CID000502"]
    assert (both.status, both.standing) == ("Active", "active")  # the less favourable wins
    [conflict] = got.conflicts
    assert conflict.cid == "CID000502" and conflict.statuses == ("Conformant", "Active")
    assert conflict.kept == "Active"
    assert conflict.where == ("sheet 'Conformant' row 4", "sheet 'Active List' row 2")
    assert got.as_of == dt.date(2025, 4, 15)  # the Conformant sheet's title row
    assert any("'Read Me': ignored" in s for s in got.sources)
    assert any("'Active List': 2 rows, status from the sheet name" in s for s in got.sources)


def test_same_status_twice_is_no_conflict_and_a_sheet_of_ids_without_status_stops(
    tmp_path: Path,
) -> None:
    sheets = reflists.two_sheet_workbook()
    sheets["Active List"] = sheets["Conformant"][1:]  # the same rows, same word ... renamed:
    sheets["Conformant Copy"] = sheets.pop("Active List")
    path = listwriters.write_xlsx(tmp_path / "x.xlsx", sheets)
    with pytest.raises(RefDataError) as err:  # a sheet of ids is never left out silently
        parse_rmap_file(path)
    message = str(err.value)
    assert message.startswith("The sheet 'Conformant Copy' holds smelter ids but no status")
    assert "Nothing was imported" in message and "Rename" in message and "--map" in message
    assert "--status" not in message  # two sheets hold ids: one status would not fit both
    with pytest.raises(RefDataError, match="2 sheets with smelter ids"):
        parse_rmap_file(path, default_status="Conformant")
    sheets["Conformant - Gold"] = sheets.pop("Conformant Copy")
    got = parse_rmap_file(listwriters.write_xlsx(tmp_path / "c.xlsx", sheets))
    assert not got.conflicts and got.entries["CID000502"].status == "Conformant"
    assert any("'Read Me': ignored" in s for s in got.sources)
    sheets["Approved Smelters"] = sheets.pop("Conformant - Gold")
    approved = listwriters.write_xlsx(tmp_path / "a.xlsx", sheets)
    with pytest.raises(RefDataError, match='--map "Approved=conformant'):
        parse_rmap_file(approved)
    got = parse_rmap_file(approved, status_map={"Approved": "conformant"})
    assert got.entries["CID000501"].status == "Conformant"
    assert [c.statuses for c in got.conflicts] == [("Conformant", "Approved")] * 2
    with_default = parse_rmap_file(
        listwriters.write_xlsx(tmp_path / "y.xlsx", {"Facilities": sheets["Conformant"]}),
        default_status="Conformant",
    )
    assert with_default.entries["CID000502"].status == "Conformant"
    assert "given for every row" in with_default.sources[0]


def test_unknown_status_words_stop_the_import(tmp_path: Path) -> None:
    path = listwriters.write_csv(tmp_path / "u.csv", reflists.unknown_words_table())
    with pytest.raises(RefDataError) as err:
        parse_rmap_file(path)
    message = str(err.value)
    assert "'Progressing' (2 rows)" in message and "'Pending Review' (1 row)" in message
    assert "--map" in message and "Nothing was imported" in message
    got = parse_rmap_file(
        path, status_map={"Progressing": "active", "pending review": "not-conformant"}
    )
    assert got.entries["CID000802"].status == "Progressing"
    assert got.entries["CID000802"].standing == "active"
    assert got.entries["CID000804"].standing == "not-conformant"
    with pytest.raises(RefDataError, match="standing"):
        parse_rmap_file(path, status_map={"Progressing": "fine"})
    with pytest.raises(RefDataError, match="--map"):
        parse_rmap_file(
            listwriters.write_csv(tmp_path / "n.csv", [["Smelter ID", "Name"], ["CID000001", "X"]]),
            default_status="Approved",
        )


@pytest.mark.conformance
def test_2014_cfsi_export_keeps_compliant_and_repairs_its_ids() -> None:
    from tests.builders import shared_file

    path = shared_file("data/cfsi-compliant-smelters-2014.csv")
    with pytest.raises(RefDataError, match="Progressing"):
        parse_rmap_file(path)
    got = parse_rmap_file(path, status_map={"Progressing": "active"})
    entry = got.entries["CID000035"]
    assert (entry.status, entry.standing, entry.metal) == ("Compliant", "conformant", "Gold")
    assert any(r.cid == "CID002307" and "U+FFA0" in r.what for r in got.repairs)
    assert [(s.text, s.reason[:9]) for s in got.skipped] == [("ID000157", "not a CID")]
    assert got.as_of is None  # "2014" alone is not a date


# -- ids, dates, dates of the list ----------------------------------------------------------


def test_ids_repaired_reported_or_skipped(tmp_path: Path) -> None:
    got = parse_rmap_file(listwriters.write_csv(tmp_path / "r.csv", reflists.repair_table()))
    assert sorted(got.entries) == ["CID000701", "CID000703", "CID002082", "CID002084"]
    repairs = {(r.cid, r.what) for r in got.repairs}
    assert ("CID000701", "invisible character U+00A0 removed") in repairs
    assert ("CID002082", "invisible character U+FFA0 removed") in repairs
    assert ("CID000703", "spaces removed") in repairs
    assert ("CID002084", "upper-cased, zeros padded") in repairs  # one repair per id
    halfwidth = next(r for r in got.repairs if r.cid == "CID002082")
    assert halfwidth.raw == "\\uffa0CID002082" and halfwidth.where == "row 3"
    skipped = {s.where: (s.text, s.reason) for s in got.skipped}
    assert skipped["row 6"][0] == "ID002085" and skipped["row 6"][1].startswith("not a CID")
    assert skipped["row 7"] == ("", "no smelter id")
    assert skipped["row 8"] == ("CID000706", "no status")


def test_repair_cid_does_not_guess() -> None:
    assert repair_cid("CID002082") == ("CID002082", ())
    assert repair_cid("ＣＩＤ００２０８２")[0] == "CID002082"
    assert repair_cid("CID-2082") == ("CID002082", ("separator '-' removed", "zeros padded"))
    for bad in ("ID002082", "C002082", "CID0020821", "2082", "CID", "CIDx"):
        assert repair_cid(bad) == (None, ()), bad


@pytest.mark.parametrize("fmt", FORMATS)
def test_dates_as_text_serials_and_dates(tmp_path: Path, fmt: str) -> None:
    got = parse_rmap_file(listwriters.write(tmp_path / "d", reflists.date_table(), fmt))
    nov19, next_year = dt.date(2020, 11, 19), dt.date(2021, 11, 19)
    for cid in ("CID000601", "CID000602", "CID000603", "CID000604"):
        assert got.entries[cid].last_assessment == nov19, cid
        assert got.entries[cid].next_assessment == next_year, cid
    assert got.entries["CID000605"].last_assessment is None
    assert got.dates_unparsed == 2  # "soon" and "13/13/2020"; "N/A" means none


def test_list_date_cells() -> None:
    assert parse_list_date("03/04/2021") == dt.date(2021, 3, 4)  # RMI is American
    assert parse_list_date("19-Nov-2020") == dt.date(2020, 11, 19)
    assert parse_list_date("2020-11-19 13:05:00") == dt.date(2020, 11, 19)
    assert parse_list_date(dt.datetime(2020, 11, 19, 8)) == dt.date(2020, 11, 19)
    assert parse_list_date(3.0) is None  # a cycle, not a date
    assert parse_list_date("Q1 2021") is None


def test_dates_in_titles_and_file_names() -> None:
    for name in (
        "rmap-2025-05-01.xlsx",
        "rmap_20250501.csv",
        "RMAP 2025_05_01.xml",
        "conformant 1-May-2025.csv",
        "Conformant May 1 2025.xlsx",
    ):
        assert find_date(name) == dt.date(2025, 5, 1), name
    for name in ("rmap-2025-Q1.xlsx", "rmap-2025-05.csv", "rmap.csv", "cid002082.csv"):
        assert find_date(name) is None, name


def test_as_of_from_the_file_name_never_today(tmp_path: Path) -> None:
    rows = reflists.facilities_export()[2:]  # no title row
    dated = parse_rmap_file(listwriters.write_csv(tmp_path / "facilities_20250601.csv", rows))
    assert (dated.as_of, dated.as_of_source) == (dt.date(2025, 6, 1), "file name")
    undated = parse_rmap_file(listwriters.write_csv(tmp_path / "facilities.csv", rows))
    assert (undated.as_of, undated.as_of_source) == (None, "")


def test_metal_from_the_smelter_reference_when_the_list_has_none(tmp_path: Path) -> None:
    path = listwriters.write_csv(
        tmp_path / "c.csv", [["Smelter ID", "Status"], ["CID000101", "Conformant"]]
    )
    assert parse_rmap_file(path).metals == frozenset()
    ref = {"CID000101": SmelterRef("CID000101", "Gold", "Example Metals Co.", "JAPAN")}
    got = parse_rmap_file(path, smelters=ref)
    assert got.metals == frozenset({"Gold"}) and got.entries["CID000101"].metal == "Gold"


# -- review fixes: sheet names, marks, ids, dates ---------------------------------------------


def test_slash_dates_are_read_in_one_order_per_column(tmp_path: Path) -> None:
    rows = [
        ["Smelter ID", "Status", "Last Audit Date", "Re-audit Due Date"],
        ["CID000601", "Conformant", "19/11/2020", "03/04/2021"],
        ["CID000602", "Conformant", "03/04/2021", "11/19/2021"],
        ["CID000603", "Conformant", "13/13/2020", "04/05/2022"],
    ]
    got = parse_rmap_file(listwriters.write_csv(tmp_path / "day-first.csv", rows))
    # "19/11/2020" makes the whole Last Audit Date column day first, 03/04 included;
    # the Re-audit Due column has "11/19/2021": month first, as RMI writes.
    assert got.entries["CID000602"].last_assessment == dt.date(2021, 4, 3)
    assert got.entries["CID000601"].next_assessment == dt.date(2021, 3, 4)
    assert got.entries["CID000603"].next_assessment == dt.date(2022, 4, 5)
    assert got.dates_unparsed == 1  # 13/13/2020
    assert any("'Last Audit Date'" in s and "day first" in s for s in got.sources)
    rows[3][2] = "11/19/2020"  # now the column has both orders: 03/04/2021 is not guessed
    mixed = parse_rmap_file(listwriters.write_csv(tmp_path / "mixed.csv", rows))
    assert mixed.entries["CID000601"].last_assessment == dt.date(2020, 11, 19)
    assert mixed.entries["CID000603"].last_assessment == dt.date(2020, 11, 19)
    assert mixed.entries["CID000602"].last_assessment is None
    assert mixed.dates_unparsed == 1
    [note] = [s for s in mixed.sources if "mixes" in s]
    assert "'Last Audit Date'" in note and "1 date that could be either" in note
    assert parse_list_date("03/04/2021", "dmy") == dt.date(2021, 4, 3)
    assert parse_list_date("03/04/2021", "mixed") is None
    assert parse_list_date("19/11/2020", "mixed") == dt.date(2020, 11, 19)


def _named_sheets(names: list[str]) -> dict[str, listwriters.Rows]:
    return {
        name: [
            ["Metal", "Smelter ID", "Smelter Name"],
            ["Gold", f"CID00110{i}", f"Example Sheet {i} Co."],
        ]
        for i, name in enumerate(names)
    }


def test_sheet_names_give_a_status_loosely(tmp_path: Path) -> None:
    names = [
        "Active - Gold",
        "Conformant Smelters & Refiners",
        "Active Smelters & Refiners",
        "RMAP Conformant (Tin)",
        "Conformant_Tantalum",
        "Non-Conformant Tungsten",
        "Progressing-Cobalt",
        "Outreach Required – Tin",
    ]
    got = parse_rmap_file(
        listwriters.write_xlsx(tmp_path / "named.xlsx", _named_sheets(names)),
        status_map={"Progressing": "active"},
    )
    assert [got.entries[f"CID00110{i}"].status for i in range(len(names))] == [
        "Active",
        "Conformant",
        "Active",
        "Conformant",
        "Conformant",
        "Non-Conformant",
        "Progressing",
        "Outreach Required",
    ]
    assert all("status from the sheet name" in s for s in got.sources)


def test_repairs_are_one_per_id_and_unknown_words_are_cut(tmp_path: Path) -> None:
    got = parse_rmap_file(listwriters.write_csv(tmp_path / "r.csv", reflists.repair_table()))
    [lower] = [r for r in got.repairs if r.cid == "CID002084"]
    assert lower.what == "upper-cased, zeros padded"
    assert len(got.repairs) == len({r.cid for r in got.repairs}) == 4
    rows = [["Smelter ID", "Status"]]
    rows += [[f"CID0012{i:02d}", f"Unknown Word {i}"] for i in range(24)]
    rows.append(["CID001299", "Pending " + "x" * 200])
    with pytest.raises(RefDataError) as err:
        parse_rmap_file(listwriters.write_csv(tmp_path / "u.csv", rows))
    message = str(err.value)
    assert "'Unknown Word 19' (1 row)" in message and "'Unknown Word 20'" not in message
    assert "and 5 more" in message and "x" * 61 not in message and len(message) < 2000


def test_marks_are_read_strictly(tmp_path: Path) -> None:
    rows = reflists.mark_table()
    rows[1][3], rows[3][3], rows[5][3] = "1", "√", "\u2714\ufe0f"
    rows[4][3] = "Conformant"  # the column's own status word ("RMAP Conformant" loosely)
    rows[4][4] = "active"
    got = parse_rmap_file(listwriters.write_xlsx(tmp_path / "m.xlsx", {"List": rows}))
    assert {cid: e.status for cid, e in got.entries.items()} == {
        "CID000401": "RMAP Conformant",
        "CID000402": "Active",
        "CID000403": "RMAP Conformant",
        "CID000404": "Active",  # marked in both columns: the less favourable
        "CID000405": "RMAP Conformant",  # "No" is no mark
    }
    assert got.unmarked == 0 and [c.cid for c in got.conflicts] == ["CID000404"]
    rows[2][4] = "Pending"
    rows[4][4] = "pending"
    rows[3][4] = "See note " + "y" * 100
    with pytest.raises(RefDataError) as err:
        parse_rmap_file(listwriters.write_xlsx(tmp_path / "bad.xlsx", {"List": rows}))
    message = str(err.value)
    assert "'Pending' (1 row)" in message and "'pending' (1 row)" in message
    assert "y" * 30 + "…" in message and "y" * 31 not in message  # cut to 40 characters
    assert "Nothing was imported" in message and "'Active'" in message
    many = [["Smelter ID", "Conformant"]] + [[f"CID0013{i:02d}", f"v{i}"] for i in range(14)]
    with pytest.raises(RefDataError, match="and 4 more"):
        parse_rmap_file(listwriters.write_csv(tmp_path / "many.csv", many))
