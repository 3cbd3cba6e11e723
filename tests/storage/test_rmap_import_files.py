"""Reference list files in every format, and hostile files that must end in a sentence."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import pytest

from plugins import isolation
from storage.cahra_import import parse_cahra_file
from storage.listfiles import read_tables
from storage.refdata import RefDataError, parse_rmap_file
from storage.supplier_file import parse_supplier_file
from tests import listwriters, reflists
from tests.builders import real_template

pytestmark = pytest.mark.slow


# -- formats, and files that must end in a sentence --------------------------------------------


def test_workbooks_are_opened_in_the_sandbox(tmp_path: Path) -> None:
    isolation.last_report = None
    path = listwriters.write_xlsx(tmp_path / "f.xlsx", {"Facilities": reflists.facilities_export()})
    tables = read_tables(path)
    assert isolation.last_report is not None and isolation.last_report.outcome == "ok"
    assert isinstance(tables[0].rows[3][5], dt.date)  # dates rebuilt from the child's JSON


def test_opendocument_workbooks(tmp_path: Path) -> None:
    path = listwriters.write_ods(tmp_path / "list.ods", {"Active List": reflists.type_table(False)})
    got = parse_rmap_file(path)
    assert {e.status for e in got.entries.values()} == {"Active"} and len(got.entries) == 3


@pytest.mark.conformance
def test_legacy_encrypted_xls_workbooks() -> None:
    legacy = real_template("legacy/EICC-GeSI_CMRT_3.01_blank_encrypted.xls")
    names = [t.name for t in read_tables(legacy)]  # OLE, encrypted with Excel's default key
    assert "Smelter List" in names and "Declaration" in names
    with pytest.raises(RefDataError, match="reporting template"):
        parse_rmap_file(legacy)


def test_text_encodings_and_delimiters(tmp_path: Path) -> None:
    rows = [["Smelter ID", "Smelter Name", "Status"], ["CID000101", "Exemple Métaux SA", "Active"]]
    for i, (delimiter, encoding) in enumerate(
        ((";", "cp1252"), ("\t", "utf-16"), ("|", "utf-8-sig"), (",", "latin-1"))
    ):
        path = listwriters.write_csv(tmp_path / f"l{i}.csv", rows, delimiter, encoding)
        entry = parse_rmap_file(path).entries["CID000101"]
        assert (entry.name, entry.status) == ("Exemple Métaux SA", "Active"), (delimiter, encoding)


def test_spreadsheetml_skipped_cells_html_and_comments(tmp_path: Path) -> None:
    rows: listwriters.Rows = [
        ["Smelter ID", "Smelter Name", "Metal", "Status", "Country"],
        ["CID000101", None, "Gold", "Conformant", "JAPAN"],  # a skipped cell: ss:Index
        [],  # a skipped row
        ["CID000102", "Example Smelting Ltd.", None, "Active", "PERU"],
    ]
    data = listwriters.spreadsheetml({"Facilities": rows}, html_every=2, comment_on="Conformant")
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
    data = listwriters.spreadsheetml({"S": [["Smelter ID", "Status"], ["CID000101", "&b;"]]})
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


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("kind", "data", "words"),
    [
        ("bomb", _zip({"xl/workbook.xml": b"\0" * (4 * 1024 * 1024)}), "zip bomb"),
        ("not-a-spreadsheet", _zip({"notes.txt": b"CID000101"}), "not a spreadsheet"),
        ("damaged", _zip({"xl/workbook.xml": b"<workbook>"}), "damaged"),
        ("ole-junk", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "old-format"),
    ],
)
def test_the_lists_own_opener_speaks_to_the_operator(
    tmp_path: Path, kind: str, data: bytes, words: str
) -> None:
    """Not the opener of suppliers' templates: a RefDataError in the operator's words (what
    to do with the file), never a FileProblem asking someone to send a template."""
    path = tmp_path / f"{kind}.xlsx"
    path.write_bytes(data)
    with pytest.raises(RefDataError) as err:
        read_tables(path)
    message = str(err.value)
    assert words in message and "save it again" in message, message
    assert "template" not in message and "send" not in message.casefold(), message


def test_formula_looking_cells_stay_text(tmp_path: Path) -> None:
    path = listwriters.write_csv(
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


def test_mutated_lists_end_in_entries_or_a_sentence(tmp_path: Path) -> None:
    """A seeded fuzz: CSV and Excel 2003 XML lists with bytes flipped, cut and spliced."""
    import random

    seeds = [
        listwriters.write_csv(tmp_path / "seed.csv", reflists.facilities_export()).read_bytes(),
        listwriters.spreadsheetml(
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


# -- review fixes: control characters, SpreadsheetML caps, numeric and one-column ids --------


def test_control_and_bidi_characters_are_stripped_from_every_cell(tmp_path: Path) -> None:
    rows = [
        ["Smelter ID", "Smelter Name", "Status", "Country"],
        ["CID000101", "Example\x1b[31m Metals\x07 Co.\u202e", "Conformant", "JA\u2066PAN\u2069"],
        ["CID000102", "Example\tTab\rCo.", "Act\x7five", "PERU"],
    ]
    csv_tables = read_tables(listwriters.write_csv(tmp_path / "c.csv", rows))
    assert csv_tables[0].rows[1][1:] == ["Example[31m Metals Co.", "Conformant", "JAPAN"]
    assert csv_tables[0].rows[2][1:3] == ["Example Tab Co.", "Active"]
    xml = [["Smelter ID", "Smelter Name", "Status"], ["CID000101", "Ex\x85ample\x9b Co.", "Active"]]
    path = listwriters.write_spreadsheetml(tmp_path / "x.xml", {"Li\u202est": xml}, html_every=0)
    [table] = read_tables(path)
    assert table.name == "List" and table.rows[1][1] == "Ex ample Co."
    got = parse_rmap_file(listwriters.write_csv(tmp_path / "d.csv", rows))
    assert got.entries["CID000101"].name == "Example[31m Metals Co."
    assert got.entries["CID000101"].country == "JAPAN"
    assert got.entries["CID000102"].status == "Active"
    cahra = [["Country", "Area"], ["Democratic Republic of the Congo", "North Kivu\nIturi\u202e"]]
    areas = parse_cahra_file(listwriters.write_csv(tmp_path / "cahra-2025-03-31.csv", cahra)).areas
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
    isolation.last_report = None
    [table] = read_tables(trailing)
    assert len(table.rows) == 2
    assert isolation.last_report is not None and isolation.last_report.outcome == "ok"


def test_numeric_ids_are_read_as_cids_and_reported(tmp_path: Path) -> None:
    rows: listwriters.Rows = [
        ["Smelter ID", "Smelter Name", "Status"],
        [2082, "Example Number Co.", "Conformant"],
        [2083.0, "Example Float Co.", "Active"],
        ["002084", "Example Text Co.", "Active"],
        ["1234567", "Example Too Long Co.", "Active"],
        [12.5, "Example Fraction Co.", "Active"],
    ]
    for path in (
        listwriters.write_xlsx(tmp_path / "n.xlsx", {"Facilities": rows}),
        listwriters.write_csv(tmp_path / "n.csv", rows),
        listwriters.write_spreadsheetml(tmp_path / "n.xml", {"Facilities": rows}),
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
    book = listwriters.write_xlsx(
        tmp_path / "ids.xlsx",
        {"Cover": [["Example cover"]], "Ids": [["Smelter ID"], [2082], ["CID000101"]]},
    )
    with pytest.raises(RefDataError, match="--status WORD"):
        parse_rmap_file(book)
    assert sorted(parse_rmap_file(book, default_status="Active").entries) == [
        "CID000101",
        "CID002082",
    ]
