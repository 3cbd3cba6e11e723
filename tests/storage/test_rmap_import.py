"""Reference lists as people hold them: RMAP status lists, smelter reference lists, CAHRA.

Every file is built from code (tests/reflists.py) in each shape it comes in: CSV, XLSX and
the Excel 2003 XML RMI's website exports; plus hostile files that must end in a sentence.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from plugins import sandbox
from plugins.reference import SmelterRef
from storage.cahra_import import parse_cahra_file
from storage.refdata import RefDataError, load_embedded_smelters, parse_rmap_file
from storage.rmap_import import cycle_months, repair_cid
from storage.smelter_import import (
    SmelterTable,
    fix_mojibake,
    parse_smelter_file,
    repair_garbled,
)
from storage.supplier_file import parse_supplier_file
from storage.tables import find_date, parse_list_date, read_tables
from tests import reflists
from tests.builders import TEMPLATES, require_shared

pytestmark = pytest.mark.slow

FORMATS = ("csv", "xlsx", "xml")


# -- RMI's facilities export -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_facilities_export_in_every_format(tmp_path: Path, fmt: str) -> None:
    path = reflists.write(tmp_path / "facilities", reflists.facilities_export(), fmt)
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
    got = parse_rmap_file(reflists.write_csv(tmp_path / "list.csv", rows))
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
    path = reflists.write_xlsx(tmp_path / "sd-2025.xlsx", {"Annex": reflists.filing_table()})
    got = parse_rmap_file(path)
    assert got.columns["cid"] == "Smelter Identification"
    entries = [got.entries[f"CID00020{i + 1}"] for i in range(7)]
    assert tuple(e.status for e in entries) == reflists.SEVEN_WORDS  # RMI's words, en dashes kept
    assert tuple(e.standing for e in entries) == reflists.SEVEN_STANDINGS


def test_type_column_is_a_status_only_when_it_holds_status_words(tmp_path: Path) -> None:
    status = parse_rmap_file(reflists.write_csv(tmp_path / "t.csv", reflists.type_table(True)))
    assert [e.status for e in status.entries.values()] == ["Conformant", "Active", "Conformant"]
    assert status.columns["status"] == "Type"
    kinds = reflists.write_csv(tmp_path / "k.csv", reflists.type_table(False))
    with pytest.raises(RefDataError) as err:
        parse_rmap_file(kinds)
    assert "--status" in str(err.value) and "EVERY row" in str(err.value)
    # The same table on a sheet named after a status takes the sheet's word, not "Smelter".
    book = reflists.write_xlsx(
        tmp_path / "k.xlsx", {"Conformant Smelters": reflists.type_table(False)}
    )
    named = parse_rmap_file(book)
    assert {e.status for e in named.entries.values()} == {"Conformant"}
    assert "status from the sheet name" in named.sources[0]


def test_mark_columns(tmp_path: Path) -> None:
    got = parse_rmap_file(reflists.write_xlsx(tmp_path / "m.xlsx", {"List": reflists.mark_table()}))
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
    path = reflists.write_xlsx(tmp_path / "rmap.xlsx", reflists.two_sheet_workbook())
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
    path = reflists.write_xlsx(tmp_path / "x.xlsx", sheets)
    with pytest.raises(RefDataError) as err:  # a sheet of ids is never left out silently
        parse_rmap_file(path)
    message = str(err.value)
    assert message.startswith("The sheet 'Conformant Copy' holds smelter ids but no status")
    assert "Nothing was imported" in message and "Rename" in message and "--map" in message
    assert "--status" not in message  # two sheets hold ids: one status would not fit both
    with pytest.raises(RefDataError, match="2 sheets with smelter ids"):
        parse_rmap_file(path, default_status="Conformant")
    sheets["Conformant - Gold"] = sheets.pop("Conformant Copy")
    got = parse_rmap_file(reflists.write_xlsx(tmp_path / "c.xlsx", sheets))
    assert not got.conflicts and got.entries["CID000502"].status == "Conformant"
    assert any("'Read Me': ignored" in s for s in got.sources)
    sheets["Approved Smelters"] = sheets.pop("Conformant - Gold")
    approved = reflists.write_xlsx(tmp_path / "a.xlsx", sheets)
    with pytest.raises(RefDataError, match='--map "Approved=conformant'):
        parse_rmap_file(approved)
    got = parse_rmap_file(approved, status_map={"Approved": "conformant"})
    assert got.entries["CID000501"].status == "Conformant"
    assert [c.statuses for c in got.conflicts] == [("Conformant", "Approved")] * 2
    with_default = parse_rmap_file(
        reflists.write_xlsx(tmp_path / "y.xlsx", {"Facilities": sheets["Conformant"]}),
        default_status="Conformant",
    )
    assert with_default.entries["CID000502"].status == "Conformant"
    assert "given for every row" in with_default.sources[0]


def test_unknown_status_words_stop_the_import(tmp_path: Path) -> None:
    path = reflists.write_csv(tmp_path / "u.csv", reflists.unknown_words_table())
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
            reflists.write_csv(tmp_path / "n.csv", [["Smelter ID", "Name"], ["CID000001", "X"]]),
            default_status="Approved",
        )


def test_2014_cfsi_export_keeps_compliant_and_repairs_its_ids() -> None:
    from tests.builders import SHARED

    path = require_shared(SHARED / "data") / "cfsi-compliant-smelters-2014.csv"
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
    got = parse_rmap_file(reflists.write_csv(tmp_path / "r.csv", reflists.repair_table()))
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
    got = parse_rmap_file(reflists.write(tmp_path / "d", reflists.date_table(), fmt))
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
    dated = parse_rmap_file(reflists.write_csv(tmp_path / "facilities_20250601.csv", rows))
    assert (dated.as_of, dated.as_of_source) == (dt.date(2025, 6, 1), "file name")
    undated = parse_rmap_file(reflists.write_csv(tmp_path / "facilities.csv", rows))
    assert (undated.as_of, undated.as_of_source) == (None, "")


def test_metal_from_the_smelter_reference_when_the_list_has_none(tmp_path: Path) -> None:
    path = reflists.write_csv(
        tmp_path / "c.csv", [["Smelter ID", "Status"], ["CID000101", "Conformant"]]
    )
    assert parse_rmap_file(path).metals == frozenset()
    ref = {"CID000101": SmelterRef("CID000101", "Gold", "Example Metals Co.", "JAPAN")}
    got = parse_rmap_file(path, smelters=ref)
    assert got.metals == frozenset({"Gold"}) and got.entries["CID000101"].metal == "Gold"


# -- formats, and files that must end in a sentence --------------------------------------------


def test_workbooks_are_opened_in_the_sandbox(tmp_path: Path) -> None:
    sandbox.last_report = None
    path = reflists.write_xlsx(tmp_path / "f.xlsx", {"Facilities": reflists.facilities_export()})
    tables = read_tables(path)
    assert sandbox.last_report is not None and sandbox.last_report.outcome == "ok"
    assert isinstance(tables[0].rows[3][5], dt.date)  # dates rebuilt from the child's JSON


def test_opendocument_and_legacy_xls_workbooks(tmp_path: Path) -> None:
    path = reflists.write_ods(tmp_path / "list.ods", {"Active List": reflists.type_table(False)})
    got = parse_rmap_file(path)
    assert {e.status for e in got.entries.values()} == {"Active"} and len(got.entries) == 3
    legacy = require_shared(TEMPLATES / "legacy") / "EICC-GeSI_CMRT_3.01_blank_encrypted.xls"
    names = [t.name for t in read_tables(legacy)]  # OLE, encrypted with Excel's default key
    assert "Smelter List" in names and "Declaration" in names
    with pytest.raises(RefDataError, match="reporting template"):
        parse_rmap_file(legacy)


def test_text_encodings_and_delimiters(tmp_path: Path) -> None:
    rows = [["Smelter ID", "Smelter Name", "Status"], ["CID000101", "Exemple Métaux SA", "Active"]]
    for i, (delimiter, encoding) in enumerate(
        ((";", "cp1252"), ("\t", "utf-16"), ("|", "utf-8-sig"), (",", "latin-1"))
    ):
        path = reflists.write_csv(tmp_path / f"l{i}.csv", rows, delimiter, encoding)
        entry = parse_rmap_file(path).entries["CID000101"]
        assert (entry.name, entry.status) == ("Exemple Métaux SA", "Active"), (delimiter, encoding)


def test_spreadsheetml_skipped_cells_html_and_comments(tmp_path: Path) -> None:
    rows: reflists.Rows = [
        ["Smelter ID", "Smelter Name", "Metal", "Status", "Country"],
        ["CID000101", None, "Gold", "Conformant", "JAPAN"],  # a skipped cell: ss:Index
        [],  # a skipped row
        ["CID000102", "Example Smelting Ltd.", None, "Active", "PERU"],
    ]
    data = reflists.spreadsheetml({"Facilities": rows}, html_every=2, comment_on="Conformant")
    assert b'ss:Index="' in data and b"<B>" in data and b"<Comment" in data
    path = tmp_path / "export.xls"  # RMI's site names it .xls; the bytes decide
    path.write_bytes(data)
    [table] = read_tables(path)
    assert table.rows[1] == ["CID000101", "", "Gold", "Conformant", "JAPAN"]
    assert table.rows[2] == [] and table.rows[3][0] == "CID000102"
    got = parse_rmap_file(path)
    assert got.entries["CID000101"].status == "Conformant"  # the comment's text is not the cell's
    assert got.entries["CID000102"].country == "PERU"


@pytest.mark.parametrize("declaration", ["doctype", "entity"])
def test_spreadsheetml_with_a_doctype_or_entity_is_refused(
    tmp_path: Path, declaration: str
) -> None:
    bomb = (
        '<!DOCTYPE Workbook [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        if declaration == "entity"
        else '<!DOCTYPE Workbook SYSTEM "file:///etc/passwd">'
    )
    data = reflists.spreadsheetml({"S": [["Smelter ID", "Status"], ["CID000101", "&b;"]]})
    data = data.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0"?>\n' + bomb.encode())
    path = tmp_path / "bomb.xml"
    path.write_bytes(data.replace(b"&amp;b;", b"&b;"))
    with pytest.raises(RefDataError, match=r"DOCTYPE|ENTITY") as err:
        parse_rmap_file(path)
    assert "refused" in str(err.value)


def _one_column(tmp_path: Path) -> Path:
    path = tmp_path / "one.csv"
    path.write_text("Smelter ID\nCID000101\nCID000102\n", "utf-8")
    return path


def test_one_column_csv_is_a_sentence(tmp_path: Path) -> None:
    path = _one_column(tmp_path)
    assert read_tables(path)[0].rows == [["Smelter ID"], ["CID000101"], ["CID000102"]]
    with pytest.raises(RefDataError, match="--status WORD"):
        parse_rmap_file(path)
    with pytest.raises(RefDataError, match="single column"):
        parse_supplier_file(path)


HOSTILE: dict[str, bytes] = {
    "empty": b"",
    "nul": b"Smelter ID,Status\nCID000101,Conf\x00ormant\n",
    "junk": bytes(range(256)) * 64,
    "junk-without-nul": bytes(range(1, 256)) * 64,
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
    "wide": b"Smelter ID,Status" + b",x" * 100_000 + b"\nCID000101,Conformant\n",
    "long-line": b"x" * (10 * 1024 * 1024),
    "open-quote": b'Smelter ID,Status\n"CID000101,Conformant\n' + b"y" * 200_000,
    "open-quote-short": b'Smelter ID,Status\n"CID000101,Conformant\nCID000102,Active\n',
    "zip-not-a-workbook": b"PK\x03\x04" + b"\x00" * 100,
    "html": b"<html><body><table><tr><td>Smelter ID</td></tr></table></body></html>",
    "xml-not-excel": b'<?xml version="1.0"?><list><smelter id="CID000101"/></list>',
    "broken-xml": b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet>',
    "far-index": b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
    b'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="S"><Table>'
    b'<Row><Cell ss:Index="999999999"><Data ss:Type="String">x</Data></Cell></Row></Table></Worksheet></Workbook>',
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_files_end_in_a_sentence(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(HOSTILE[kind])
    with pytest.raises(RefDataError) as err:
        parse_rmap_file(path)
    message = str(err.value)
    assert message[0].isupper() and message.rstrip().endswith("."), message
    assert "Traceback" not in message and len(message) < 1200


def test_a_row_of_100k_empty_columns_is_read(tmp_path: Path) -> None:
    path = tmp_path / "trailing.csv"
    path.write_bytes(b"Smelter ID,Status" + b"," * 100_000 + b"\nCID000101,Conformant\n")
    assert parse_rmap_file(path).entries["CID000101"].status == "Conformant"


def test_a_file_over_the_size_cap_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as f:
        f.truncate(51 * 1024 * 1024)  # sparse: nothing is written
    with pytest.raises(RefDataError, match="51 MB"):
        parse_rmap_file(path)


def test_formula_looking_cells_stay_text(tmp_path: Path) -> None:
    path = reflists.write_csv(
        tmp_path / "f.csv",
        [
            ["Smelter ID", "Smelter Name", "Status"],
            ["CID000101", '=HYPERLINK("http://example.test","Example Metals Co.")', "Conformant"],
            ['=HYPERLINK("http://example.test","CID000102")', "@SUM(1,2)", "Active"],
        ],
    )
    got = parse_rmap_file(path)
    assert got.entries["CID000101"].name.startswith("=HYPERLINK(")
    assert got.skipped[0].text.startswith("=HYPERLINK(") and "not a CID" in got.skipped[0].reason


# -- smelter reference lists -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_smelter_reference_list_export(tmp_path: Path, fmt: str) -> None:
    path = reflists.write(
        tmp_path / "reference", reflists.smelter_reference_export(), fmt, "Export"
    )
    got = parse_smelter_file(path)
    assert got.version == "smelters:2025-06-02"
    assert sorted(got.smelters) == ["CID000901", "CID000902", "CID000903"]
    gold = got.smelters["CID000901"]
    assert (gold.metal, gold.country, gold.name) == ("Gold", "SWITZERLAND", "Example Métaux SA")
    # "Exemple M?taux" has no word to restore "M?taux" from ("Métaux" is in the names: restored)
    assert gold.aliases == ("Example Métaux", "Exemple Métaux")
    assert got.smelters["CID000902"].aliases == ("ETS", "Example Tin")
    assert got.smelters["CID000903"].metal == "Tungsten"
    assert got.skipped == 1  # the "Smelter not listed" row


def test_smelter_lookup_of_a_real_blank_template() -> None:
    path = require_shared(TEMPLATES) / "cmrt" / "RMI_CMRT_6.5_zh-ui.xlsx"
    got = parse_smelter_file(require_shared(path))
    assert got.version == "smelters:RMI_CMRT_6.5_zh-ui.xlsx"
    assert 340 <= len(got.smelters) <= 360  # 349 distinct CIDs in 6.5's look-up
    assert {s.metal for s in got.smelters.values()} == {"Gold", "Tantalum", "Tin", "Tungsten"}
    assert "Smelter Look-up" in got.source
    _version, embedded = load_embedded_smelters()
    for cid, ref in got.smelters.items():
        assert cid in embedded and embedded[cid].metal == ref.metal


def test_garbled_names_repaired_from_the_other_names() -> None:
    assert repair_garbled("Met-Mex Pe?oles, S.A.", ["Metalúrgica Met-Mex Peñoles S.A."]) == (
        "Met-Mex Peñoles, S.A."
    )
    assert repair_garbled("Cendres + M?taux SA", ["Cendres + Metaux", "Cendres + Métaux"]) == (
        "Cendres + Métaux SA"
    )
    assert repair_garbled("Minera\ufffd\ufffdo Example", ["Mineração Example"]) == (
        "Mineração Example"
    )
    assert repair_garbled("Example Pe?oles", ["Example Penoles"]) is None  # nothing to restore from
    assert repair_garbled("Who? Example Co.", []) == "Who? Example Co."  # not inside a word
    assert fix_mojibake("Cendres + MÃ©taux") == "Cendres + Métaux"
    assert fix_mojibake("Métaux") == "Métaux"
    table = SmelterTable()
    table.add("CID000001", "Gold", "Example Pe?oles", "MEXICO", ["Example Peñoles", "Ex M?x"])
    [ref] = table.finish().values()
    assert ref.name == "Example Peñoles" and ref.aliases == ()  # repaired = name; "M?x" dropped


def test_embedded_list_has_no_garbled_names() -> None:
    import re

    _version, smelters = load_embedded_smelters()
    for ref in smelters.values():
        for name in (ref.name, *ref.aliases):
            assert not re.search(r"\w\?\w", name) and "\ufffd" not in name, (ref.cid, name)
            assert fix_mojibake(name) == name, (ref.cid, name)
    assert "Met-Mex Peñoles, S.A." in smelters["CID001161"].aliases
    assert "Cendres + Métaux SA" in smelters["CID000189"].aliases


# -- CAHRA -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_eu_cahra_list_as_distributed(tmp_path: Path, fmt: str) -> None:
    got = parse_cahra_file(reflists.write(tmp_path / "cahra", reflists.cahra_sheet(), fmt, "CAHRA"))
    assert got.countries == frozenset({"CD", "MM", "CO", "CI"})
    assert got.areas["CD"] == ("North Kivu", "South Kivu", "Ituri")
    assert got.areas["MM"] == ("Shan State",) and "CO" not in got.areas
    assert got.areas["CI"] == ("Example Region", "Another Example Region")
    assert got.as_of == dt.date(2025, 3, 31) and got.version == "cahra:2025-03-31"


def test_cahra_quarter_is_not_a_date_and_unknown_countries_are_named(tmp_path: Path) -> None:
    rows = reflists.cahra_sheet()[3:]
    got = parse_cahra_file(reflists.write_csv(tmp_path / "cahra-2025-Q1.csv", rows))
    assert got.as_of is None and got.version == "cahra:cahra-2025-Q1.csv"
    rows.append(["Atlantis", "Lost City", "High-risk"])
    with pytest.raises(RefDataError, match="'Atlantis' \\(row 8\\)"):
        parse_cahra_file(reflists.write_csv(tmp_path / "bad.csv", rows))


def test_cahra_json_and_plain_lines(tmp_path: Path) -> None:
    path = tmp_path / "cahra.json"
    path.write_text(
        json.dumps(
            {"version": "eu-cahra:2025-03", "as_of": "2025-03-31", "countries": ["MM", "Ukraine"]}
        ),
        "utf-8",
    )
    got = parse_cahra_file(path)
    assert (got.version, got.as_of, got.countries) == (
        "eu-cahra:2025-03",
        dt.date(2025, 3, 31),
        frozenset({"MM", "UA"}),
    )
    lines = tmp_path / "cahra.txt"
    lines.write_text("CAHRA countries as of 31 March 2025\nMyanmar\nDRC\n", "utf-8")
    plain = parse_cahra_file(lines)
    assert plain.countries == frozenset({"MM", "CD"}) and plain.as_of == dt.date(2025, 3, 31)


def test_mutated_lists_end_in_entries_or_a_sentence(tmp_path: Path) -> None:
    """A seeded fuzz: CSV and Excel 2003 XML lists with bytes flipped, cut and spliced."""
    import random

    seeds = [
        reflists.write_csv(tmp_path / "seed.csv", reflists.facilities_export()).read_bytes(),
        reflists.spreadsheetml(
            {"Facilities": reflists.facilities_export(), "Active List": reflists.mark_table()}
        ),
    ]
    splices = [b'"', b"<", b"&", b'ss:Index="3"', b"\t", b";", b"\x00", b"</Cell>", b"\xff\xfe"]
    rng = random.Random(2025)
    outcomes = {"entries": 0, "sentence": 0}
    for i in range(300):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 6)):
            pos = rng.randrange(len(data))
            action = rng.random()
            if action < 0.4:
                data[pos] = rng.randrange(256)
            elif action < 0.7:
                del data[pos : pos + rng.randint(1, 40)]
            else:
                data[pos:pos] = rng.choice(splices)
        path = tmp_path / f"m{i}.csv"
        path.write_bytes(bytes(data))
        try:
            parse_rmap_file(path)
            outcomes["entries"] += 1
        except RefDataError as err:
            assert str(err)[:1].isupper(), str(err)
            outcomes["sentence"] += 1
    assert outcomes["entries"] and outcomes["sentence"]  # both kinds were exercised


# -- review fixes: control characters, SpreadsheetML caps, sheet names, marks, ids, dates -------


def test_control_and_bidi_characters_are_stripped_from_every_cell(tmp_path: Path) -> None:
    rows = [
        ["Smelter ID", "Smelter Name", "Status", "Country"],
        ["CID000101", "Example\x1b[31m Metals\x07 Co.\u202e", "Conformant", "JA\u2066PAN\u2069"],
        ["CID000102", "Example\tTab\rCo.", "Act\x7five", "PERU"],
    ]
    csv_tables = read_tables(reflists.write_csv(tmp_path / "c.csv", rows))
    assert csv_tables[0].rows[1][1:] == ["Example[31m Metals Co.", "Conformant", "JAPAN"]
    assert csv_tables[0].rows[2][1:3] == ["Example Tab Co.", "Active"]
    xml = [["Smelter ID", "Smelter Name", "Status"], ["CID000101", "Ex\x85ample\x9b Co.", "Active"]]
    path = reflists.write_spreadsheetml(tmp_path / "x.xml", {"Li\u202est": xml}, html_every=0)
    [table] = read_tables(path)
    assert table.name == "List" and table.rows[1][1] == "Ex ample Co."
    got = parse_rmap_file(reflists.write_csv(tmp_path / "d.csv", rows))
    assert got.entries["CID000101"].name == "Example[31m Metals Co."
    assert got.entries["CID000101"].country == "JAPAN"
    assert got.entries["CID000102"].status == "Active"
    cahra = [["Country", "Area"], ["Democratic Republic of the Congo", "North Kivu\nIturi\u202e"]]
    areas = parse_cahra_file(reflists.write_csv(tmp_path / "cahra-2025-03-31.csv", cahra)).areas
    assert areas["CD"] == ("North Kivu", "Ituri")  # one area per line still
    path = tmp_path / "cahra.json"
    path.write_text(json.dumps({"countries": ["MM"], "areas": {"MM": ["Shan\u202e State\x1b"]}}))
    assert parse_cahra_file(path).areas["MM"] == ("Shan State",)


def _xml_workbook(body: str) -> bytes:
    return (
        '<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
        f'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">{body}</Workbook>'
    ).encode()


def test_spreadsheetml_row_jumps_are_capped_across_worksheets(tmp_path: Path) -> None:
    import time

    sheet = '<Worksheet ss:Name="S{}"><Table><Row ss:Index="99000"/></Table></Worksheet>'
    hostile = tmp_path / "jumps.xls"
    hostile.write_bytes(_xml_workbook("".join(sheet.format(i) for i in range(200))))
    assert len(hostile.read_bytes()) < 20_000
    start = time.monotonic()
    with pytest.raises(RefDataError, match="rows") as err:
        read_tables(hostile)
    assert time.monotonic() - start < 2
    assert str(err.value).endswith(".") and "all its worksheets" in str(err.value)
    many = tmp_path / "sheets.xls"
    many.write_bytes(_xml_workbook('<Worksheet ss:Name="S"><Table/></Worksheet>' * 201))
    with pytest.raises(RefDataError, match="more than 200 worksheets"):
        read_tables(many)
    wide = tmp_path / "cells.xls"
    row = '<Row><Cell ss:Index="16000"><Data ss:Type="String">x</Data></Cell></Row>'
    wide.write_bytes(
        _xml_workbook(f'<Worksheet ss:Name="W"><Table>{row * 200}</Table></Worksheet>')
    )
    with pytest.raises(RefDataError, match="cells"):
        read_tables(wide)
    # One sheet whose last row is far below: read, without the empty rows after the list.
    trailing = tmp_path / "trailing.xls"
    rows = (
        '<Row><Cell><Data ss:Type="String">Smelter ID</Data></Cell>'
        '<Cell><Data ss:Type="String">Status</Data></Cell></Row>'
        '<Row><Cell><Data ss:Type="String">CID000101</Data></Cell>'
        '<Cell><Data ss:Type="String">Active</Data></Cell></Row><Row ss:Index="90000"/>'
    )
    trailing.write_bytes(_xml_workbook(f'<Worksheet ss:Name="L"><Table>{rows}</Table></Worksheet>'))
    sandbox.last_report = None
    [table] = read_tables(trailing)
    assert len(table.rows) == 2
    assert sandbox.last_report is not None and sandbox.last_report.outcome == "ok"


def test_slash_dates_are_read_in_one_order_per_column(tmp_path: Path) -> None:
    rows = [
        ["Smelter ID", "Status", "Last Audit Date", "Re-audit Due Date"],
        ["CID000601", "Conformant", "19/11/2020", "03/04/2021"],
        ["CID000602", "Conformant", "03/04/2021", "11/19/2021"],
        ["CID000603", "Conformant", "13/13/2020", "04/05/2022"],
    ]
    got = parse_rmap_file(reflists.write_csv(tmp_path / "day-first.csv", rows))
    # "19/11/2020" makes the whole Last Audit Date column day first, 03/04 included;
    # the Re-audit Due column has "11/19/2021": month first, as RMI writes.
    assert got.entries["CID000602"].last_assessment == dt.date(2021, 4, 3)
    assert got.entries["CID000601"].next_assessment == dt.date(2021, 3, 4)
    assert got.entries["CID000603"].next_assessment == dt.date(2022, 4, 5)
    assert got.dates_unparsed == 1  # 13/13/2020
    assert any("'Last Audit Date'" in s and "day first" in s for s in got.sources)
    rows[3][2] = "11/19/2020"  # now the column has both orders: 03/04/2021 is not guessed
    mixed = parse_rmap_file(reflists.write_csv(tmp_path / "mixed.csv", rows))
    assert mixed.entries["CID000601"].last_assessment == dt.date(2020, 11, 19)
    assert mixed.entries["CID000603"].last_assessment == dt.date(2020, 11, 19)
    assert mixed.entries["CID000602"].last_assessment is None
    assert mixed.dates_unparsed == 1
    [note] = [s for s in mixed.sources if "mixes" in s]
    assert "'Last Audit Date'" in note and "1 date that could be either" in note
    assert parse_list_date("03/04/2021", "dmy") == dt.date(2021, 4, 3)
    assert parse_list_date("03/04/2021", "mixed") is None
    assert parse_list_date("19/11/2020", "mixed") == dt.date(2020, 11, 19)


def _named_sheets(names: list[str]) -> dict[str, reflists.Rows]:
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
        reflists.write_xlsx(tmp_path / "named.xlsx", _named_sheets(names)),
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
    got = parse_rmap_file(reflists.write_csv(tmp_path / "r.csv", reflists.repair_table()))
    [lower] = [r for r in got.repairs if r.cid == "CID002084"]
    assert lower.what == "upper-cased, zeros padded"
    assert len(got.repairs) == len({r.cid for r in got.repairs}) == 4
    rows = [["Smelter ID", "Status"]]
    rows += [[f"CID0012{i:02d}", f"Unknown Word {i}"] for i in range(24)]
    rows.append(["CID001299", "Pending " + "x" * 200])
    with pytest.raises(RefDataError) as err:
        parse_rmap_file(reflists.write_csv(tmp_path / "u.csv", rows))
    message = str(err.value)
    assert "'Unknown Word 19' (1 row)" in message and "'Unknown Word 20'" not in message
    assert "and 5 more" in message and "x" * 61 not in message and len(message) < 2000


def test_numeric_ids_are_read_as_cids_and_reported(tmp_path: Path) -> None:
    rows: reflists.Rows = [
        ["Smelter ID", "Smelter Name", "Status"],
        [2082, "Example Number Co.", "Conformant"],
        [2083.0, "Example Float Co.", "Active"],
        ["002084", "Example Text Co.", "Active"],
        ["1234567", "Example Too Long Co.", "Active"],
        [12.5, "Example Fraction Co.", "Active"],
    ]
    for path in (
        reflists.write_xlsx(tmp_path / "n.xlsx", {"Facilities": rows}),
        reflists.write_csv(tmp_path / "n.csv", rows),
        reflists.write_spreadsheetml(tmp_path / "n.xml", {"Facilities": rows}),
    ):
        got = parse_rmap_file(path)
        assert sorted(got.entries) == ["CID002082", "CID002083", "CID002084"], path.name
        assert {r.cid: r.what for r in got.repairs} == {
            "CID002082": "number read as a CID",
            "CID002083": "number read as a CID",
            "CID002084": "number read as a CID",
        }
        assert [s.text for s in got.skipped] == ["1234567", "12.5"]


def test_one_column_id_list_with_status(tmp_path: Path) -> None:
    path = _one_column(tmp_path)
    with pytest.raises(RefDataError, match="--status WORD") as err:
        parse_rmap_file(path)
    assert "EVERY row" in str(err.value)
    got = parse_rmap_file(path, default_status="Conformant")
    assert sorted(got.entries) == ["CID000101", "CID000102"]
    assert {e.status for e in got.entries.values()} == {"Conformant"}
    book = reflists.write_xlsx(
        tmp_path / "ids.xlsx",
        {"Cover": [["Example cover"]], "Ids": [["Smelter ID"], [2082], ["CID000101"]]},
    )
    with pytest.raises(RefDataError, match="--status WORD"):
        parse_rmap_file(book)
    assert sorted(parse_rmap_file(book, default_status="Active").entries) == [
        "CID000101",
        "CID002082",
    ]


def test_marks_are_read_strictly(tmp_path: Path) -> None:
    rows = reflists.mark_table()
    rows[1][3], rows[3][3], rows[5][3] = "1", "√", "\u2714\ufe0f"
    rows[4][3] = "Conformant"  # the column's own status word ("RMAP Conformant" loosely)
    rows[4][4] = "active"
    got = parse_rmap_file(reflists.write_xlsx(tmp_path / "m.xlsx", {"List": rows}))
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
        parse_rmap_file(reflists.write_xlsx(tmp_path / "bad.xlsx", {"List": rows}))
    message = str(err.value)
    assert "'Pending' (1 row)" in message and "'pending' (1 row)" in message
    assert "y" * 30 + "…" in message and "y" * 31 not in message  # cut to 40 characters
    assert "Nothing was imported" in message and "'Active'" in message
    many = [["Smelter ID", "Conformant"]] + [[f"CID0013{i:02d}", f"v{i}"] for i in range(14)]
    with pytest.raises(RefDataError, match="and 4 more"):
        parse_rmap_file(reflists.write_csv(tmp_path / "many.csv", many))
