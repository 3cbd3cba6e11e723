"""Small hand-made workbooks marked up: odd parts, styles, names and cells give a valid file."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

import pytest
import python_calamine

from plugins.models import Finding
from reports.markup import MARKUP_SHEET, MarkupError, mark_up
from tests.reports.markup_support import (
    MAIN,
    REL,
    check_one_selected_tab,
    local_names,
    opened,
    parts,
    sheet_order,
    sheet_parts,
    sheet_xml,
    tiny,
)

pytestmark = pytest.mark.slow


def test_missing_cells_and_rows_are_created_in_order() -> None:
    before = tiny(
        {
            "Data": '<row r="1" spans="1:4"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="D1"><v>4</v></c></row><row r="5"><c r="B5" s="1"><v>45000</v></c></row>'
        }
    )
    findings = [
        Finding("x", "error", "m1", "Data", "C1"),  # a missing cell between A1 and D1
        Finding("x", "warning", "m2", "Data", "B3"),  # a missing row between 1 and 5
        Finding("x", "risk", "m3", "Data", "B5"),  # an existing cell keeps its date format
        Finding("x", "error", "m4", "Data", "Z9"),  # past the last row
        Finding("x", "warning", "m5", "Data", "A1"),
    ]
    after = mark_up(before, findings)
    xml = sheet_xml(after, "Data").decode()
    rows = [int(r) for r in re.findall(r'<row r="(\d+)"', xml)]
    assert rows == sorted(rows) == [1, 3, 5, 9]
    assert re.findall(r'<c r="([A-Z]+)1"', xml) == ["A", "C", "D"]
    assert "spans" not in xml.split('<row r="3"')[0]  # a row that got a new cell loses its hint
    ws = opened(after)["Data"]
    assert ws["A1"].value == "a" and ws["D1"].value == 4
    assert ws["B5"].number_format == "mm-dd-yy" and ws["B5"].fill.fgColor.rgb == "FFF8CBAD"
    for ref in ("C1", "B3", "Z9", "A1"):
        assert ws[ref].comment is not None and ws[ref].fill.fill_type == "solid"
    assert ws["A1"].fill.fgColor.rgb == "FFFFEB9C"
    assert opened(after)[MARKUP_SHEET]["B4"].hyperlink.location == "'Data'!C1"
    # the sheet was the active tab: now it is not, and print areas followed their sheet
    assert local_names(after) == local_names(before)
    check_one_selected_tab(after)


def test_prefixed_parts_and_implicit_positions() -> None:
    """Writers that prefix the main namespace (``x:row``) or leave out ``r`` (rows and cells
    then count from the previous one): new cells go where their positions say."""
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><x:worksheet xmlns:x="{MAIN}"><x:sheetData>'
        "<x:row><x:c><x:v>1</x:v></x:c><x:c><x:v>2</x:v></x:c></x:row>"  # row 1: A1, B1
        '<x:row><x:c r="C2"><x:v>3</x:v></x:c></x:row>'  # row 2
        '<x:row r="4"><x:c><x:v>4</x:v></x:c></x:row>'  # row 4: A4
        "</x:sheetData></x:worksheet>"
    )
    before = tiny({"Data": sheet})
    findings = [
        Finding("x", "error", "m", "Data", "B1"),
        Finding("x", "error", "m", "Data", "D1"),
        Finding("x", "error", "m", "Data", "A2"),
        Finding("x", "error", "m", "Data", "B3"),
        Finding("x", "error", "m", "Data", "A4"),
    ]
    after = mark_up(before, findings)
    xml = sheet_xml(after, "Data").decode()
    assert "<x:legacyDrawing " in xml and "<legacyDrawing" not in xml
    assert '<x:c r="D1"' in xml and '<x:c r="A2"' in xml and '<x:row r="3">' in xml
    ws = opened(after)["Data"]
    assert [ws["A1"].value, ws["B1"].value, ws["C2"].value, ws["A4"].value] == [1, 2, 3, 4]
    for f in findings:
        assert ws[f.cell].comment is not None and ws[f.cell].fill.fgColor.rgb == "FFFFC7CE"


STYLES = {
    "empty": f'<styleSheet xmlns="{MAIN}"/>',
    "only-formats": f'<styleSheet xmlns="{MAIN}"><cellXfs count="1"><xf numFmtId="0"/></cellXfs></styleSheet>',
    "empty-sections": f'<styleSheet xmlns="{MAIN}"><fonts count="0"/><fills count="0"/><borders count="0"/><cellXfs count="0"/></styleSheet>',
    "prefixed": f'<s:styleSheet xmlns:s="{MAIN}"><s:fonts count="1"><s:font/></s:fonts><s:fills count="2"><s:fill><s:patternFill patternType="none"/></s:fill><s:fill><s:patternFill patternType="gray125"/></s:fill></s:fills><s:borders count="1"><s:border/></s:borders><s:cellXfs count="1"><s:xf numFmtId="0"/></s:cellXfs></s:styleSheet>',
}


@pytest.mark.filterwarnings("ignore:Workbook contains no default style")
@pytest.mark.parametrize("case", sorted(STYLES))
def test_odd_styles_parts_get_the_fills(case: str) -> None:
    before = tiny(
        {"Data": '<row r="1"><c r="A1"><v>1</v></c></row>'}, extra={"xl/styles.xml": STYLES[case]}
    )
    after = mark_up(before, [Finding("x", "warning", "check", "Data", "A1")])
    styles = parts(after)["xl/styles.xml"][0]
    assert b"FFFFEB9C" in styles
    for section in (b"fonts", b"fills", b"cellXfs"):  # counts say what the sections hold
        m = re.search(
            rb"<(?:s:)?%s count=\"(\d+)\">(.*?)</(?:s:)?%s>" % (section, section), styles, re.S
        )
        assert m, section
        child = {
            b"fonts": rb"<(?:s:)?font[\s/>]",
            b"fills": rb"<(?:s:)?fill[\s/>]",
            b"cellXfs": rb"<(?:s:)?xf[\s/>]",
        }[section]
        assert int(m.group(1)) == len(re.findall(child, m.group(2)))
    ws = opened(after)["Data"]
    assert ws["A1"].value == 1 and ws["A1"].fill.fgColor.rgb == "FFFFEB9C"


def test_damaged_parts_give_a_file_or_markup_error() -> None:
    """Bytes of one part cut, swapped or replaced at random: never another exception."""
    import random

    base = tiny(
        {
            "Data": '<row r="1" spans="1:4"><c r="A1"><v>1</v></c><c r="D1"><v>4</v></c></row>',
            "Other": "",
        }
    )
    with zipfile.ZipFile(io.BytesIO(base)) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    rng = random.Random(9)
    findings = [Finding("x", "error", "m", "Data", "C1"), Finding("x", "risk", "m", "Other", "B7")]
    outcomes = set()
    for _ in range(300):
        name = rng.choice(sorted(files))
        data = bytearray(files[name])
        i = rng.randrange(len(data))
        match rng.randrange(3):
            case 0:
                del data[i : i + rng.randrange(1, 30)]
            case 1:
                data[i:i] = rng.choice(
                    [b"<", b">", b'"', b"<row>", b'<c r="A1"/>', b"&#1;", b"<!--"]
                )
            case _:
                data[i] = rng.randrange(256)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for n, d in files.items():
                zf.writestr(n, bytes(data) if n == name else d)
        try:
            mark_up(buf.getvalue(), findings)
            outcomes.add("file")
        except MarkupError:
            outcomes.add("error")
    assert outcomes == {"file", "error"}


def test_an_earlier_findings_sheet_is_replaced_and_moved_first() -> None:
    """Sheet names compare case-insensitively: "assay FINDINGS" is ours from before."""
    old = '<row r="1"><c r="A1" t="inlineStr"><is><t>stale</t></is></c></row>'
    before = tiny(
        {"Data": "", "assay FINDINGS": old, "Other": '<row r="3"><c r="C3"><v>1</v></c></row>'}
    )
    after = mark_up(before, [Finding("x", "error", "fresh", "Other", "C3")])
    assert sheet_order(after) == [MARKUP_SHEET, "Data", "Other"]
    assert local_names(after) == local_names(before) == [("_xlnm.Print_Area", "Other")]
    assert sheet_parts(after)[MARKUP_SHEET] == sheet_parts(before)["assay FINDINGS"]
    wb = opened(after)
    assert wb[MARKUP_SHEET]["C4"].value == "fresh"
    assert "stale" not in [c.value for row in wb[MARKUP_SHEET].iter_rows() for c in row]
    check_one_selected_tab(after)


def test_workbook_without_styles_gets_one() -> None:
    before = tiny({"Data": '<row r="1"><c r="A1"><v>1</v></c></row>'}, styles=False)
    after = mark_up(before, [Finding("x", "error", "wrong", "Data", "A1")])
    assert "xl/styles.xml" in parts(after)
    ws = opened(after)["Data"]
    assert ws["A1"].value == 1 and ws["A1"].fill.fgColor.rgb == "FFFFC7CE"


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://evil.example","click")',
        "+1+1",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
        "]]><script>alert(1)</script>",
        "bell\x07 nul\x00 esc\x1b \ufffe end",
        "x" * 10_000,
    ],
)
def test_hostile_messages_stay_text(text: str) -> None:
    before = tiny({"Data": '<row r="1"><c r="A1"><v>1</v></c></row>'})
    after = mark_up(
        before, [Finding("x", "error", text, "Data", "A1"), Finding("y", "warning", text)]
    )
    ws = opened(after)[MARKUP_SHEET]
    for row in (4, 5):
        cell = ws.cell(row, 3)
        assert cell.data_type == "s"  # text, never a formula
        assert isinstance(cell.value, str) and len(cell.value) <= 2_000
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", cell.value)
        assert cell.quotePrefix  # and it stays text when edited in Excel
    if len(text) < 100:
        expected = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe]", "", text.replace("\r", "\n"))
        assert ws.cell(4, 3).value == expected
    assert "<script>" not in parts(after)[sheet_parts(after)[MARKUP_SHEET]][0].decode()
    comment = opened(after)["Data"]["A1"].comment.text
    assert "\x07" not in comment and "\x00" not in comment


@pytest.mark.parametrize("name", ["O'Brien & Co", "Q&A's <list>", "Smelter List"])
def test_sheet_names_are_quoted_in_links(name: str) -> None:
    before = tiny({"First": "", name: '<row r="2"><c r="B2"><v>1</v></c></row>'})
    after = mark_up(before, [Finding("x", "error", "m", name, "B2")])
    wb = opened(after)
    link = wb[MARKUP_SHEET]["B4"].hyperlink
    assert link.location == "'{}'!B2".format(name.replace("'", "''"))
    assert wb[MARKUP_SHEET]["B4"].value == f"{name}!B2"
    assert wb[name]["B2"].comment is not None


@pytest.mark.parametrize(
    "cell", ["XFD1048577", "A0", "AAAA1", "A1; DROP TABLE", "", "R1C1", "$B$2", "B2:C3"]
)
def test_odd_cell_references_give_a_valid_file(cell: str) -> None:
    before = tiny({"Data": '<row r="2"><c r="B2"><v>1</v></c></row>'})
    after = mark_up(
        before,
        [Finding("x", "error", "m", "Data", cell), Finding("y", "warning", "m", "Nope", "A1")],
    )
    wb = opened(after)
    ws = wb[MARKUP_SHEET]
    assert ws["A4"].value == "Error" and ws["A5"].value == "Warning"
    # a usable reference links to the cell; any other to the sheet's A1; an unknown sheet to nothing
    expected = "'Data'!B2" if cell in ("$B$2", "B2:C3") else "'Data'!A1"
    assert ws["B4"].hyperlink.location == expected
    assert ws["B5"].hyperlink is None
    assert (wb["Data"]["B2"].comment is not None) == (cell in ("$B$2", "B2:C3"))
    python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(after)).get_sheet_by_name(
        "Data"
    ).to_python()


def test_related_cells_are_flagged_too() -> None:
    @dataclass(frozen=True)
    class WithRelated(Finding):  # stands in for Finding.related until it lands
        related: tuple[str, ...] = ()

    before = tiny({"Data": '<row r="1"><c r="A1"><v>1</v></c></row>', "Other list": ""})
    finding = WithRelated(
        "dup", "risk", "Listed twice.", "Data", "A1", related=("'Other list'!C7", "Data!A9", "junk")
    )
    after = mark_up(before, [finding])
    wb = opened(after)
    assert "Listed twice." in wb["Other list"]["C7"].comment.text
    assert "Data!A1" in wb["Data"]["A9"].comment.text
    assert wb["Other list"]["C7"].fill.fgColor.rgb == "FFF8CBAD"
    assert "Other list!C7" in wb[MARKUP_SHEET]["C4"].value


def test_existing_vml_without_comments_is_extended() -> None:
    """A sheet whose VML holds a form control (no comments yet): the note joins that VML."""
    vml = (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="1"/></o:shapelayout>'
        '<v:shapetype id="_x0000_t201" coordsize="21600,21600" o:spt="201" path="m,l,21600r21600,l21600,xe"/>'
        '<v:shape id="_x0000_s1025" type="#_x0000_t201"><x:ClientData ObjectType="Checkbox"><x:Anchor>1, 0, 1, 0, 2, 0, 2, 0</x:Anchor></x:ClientData></v:shape></xml>'
    )
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}" xmlns:r="{REL}"><sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        '<legacyDrawing r:id="rId1"/><tableParts count="0"/></worksheet>'
    )
    before = tiny(
        {"Data": sheet},
        extra={
            "xl/drawings/vmlDrawing1.vml": vml,
            "xl/worksheets/_rels/sheet1.xml.rels": f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/vmlDrawing" Target="../drawings/vmlDrawing1.vml"/></Relationships>',
        },
    )
    after = mark_up(before, [Finding("x", "error", "m", "Data", "A1")])
    files = parts(after)
    out_vml = files["xl/drawings/vmlDrawing1.vml"][0]
    assert b"_x0000_s1025" in out_vml and b'id="_x0000_t202"' in out_vml
    assert re.search(rb'data="1,2"', out_vml) and b'id="_x0000_s2049"' in out_vml
    assert sheet_xml(after, "Data").count(b"<legacyDrawing") == 1
    assert opened(after)["Data"]["A1"].comment is not None


def test_findings_beyond_the_cap_are_counted() -> None:
    before = tiny({"Data": ""})
    findings = [Finding("x", "warning", f"m{i}", "Data", f"A{i + 1}") for i in range(2_100)]
    findings.append(Finding("i", "info", "only information"))
    ws = opened(mark_up(before, findings))[MARKUP_SHEET]
    assert ws.cell(4 + 2_000 - 1, 3).value == "m1999"
    assert ws.cell(4 + 2_000, 3).value.startswith("…and 100 more")
    assert ws["A2"].value.startswith("2100 warnings.")


def test_no_findings_still_gives_a_sheet() -> None:
    ws = opened(mark_up(tiny({"Data": ""}), [Finding("i", "info", "fyi")]))[MARKUP_SHEET]
    assert ws["C4"].value == "No errors, risks or warnings were found."
