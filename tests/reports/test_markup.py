"""The supplier's workbook marked up: a findings sheet first, flagged cells coloured and
commented, and nothing else of the file changed.

Real templates filled from code (openpyxl drops their drawings on save), and the untouched
blank templates (which still have them: images, comments, VML, conditional formats, data
validations), each marked up with what screening them found.
"""

from __future__ import annotations

import io
import pickle
import re
import zipfile
from dataclasses import dataclass

import openpyxl
import pytest
import python_calamine

from plugins.limits import Limits
from plugins.models import Finding
from plugins.pipeline import Screener
from reports.markup import MARKUP_SHEET, MarkupError, mark_up, marked_up_name
from tests import hostile
from tests.builders import TEMPLATES, build_family, require_shared

pytestmark = pytest.mark.slow

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
BLANKS = {"CMRT-6.5": "cmrt/RMI_CMRT_6.5_zh-ui.xlsx", "EMRT-2.1": "emrt/RMI_EMRT_2.1.xlsx"}
# Problems a supplier makes, so screening finds errors and warnings on real cells.
EXTRA = {
    "CMRT-6.5": {
        "Declaration": {"D8": None, "D26": "Maybe", "D16": "not-an-email"},
        "Smelter List": {"A30": "CID999999", "B31": "Gold", "C31": "Smelter not listed"},
    },
    "EMRT-2.1": {
        "Declaration": {"D8": None, "D16": "not-an-email"},
        "Smelter List": {"A30": "CID999999"},
    },
}


def key(findings: object) -> list[tuple[str, str, str, str, str]]:
    return [(f.code, f.severity, f.sheet, f.cell, f.message) for f in findings]  # type: ignore[attr-defined]


def parts(data: bytes) -> dict[str, tuple[bytes, int]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: (zf.read(i.filename), i.compress_type) for i in zf.infolist()}


def sheet_parts(data: bytes) -> dict[str, str]:
    """Sheet name -> part name (the test's own reading, independent of the writer's)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        wb = zf.read("xl/workbook.xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
    targets = {}
    for tag in re.findall(r"<Relationship [^>]*>", rels):
        rid = re.search(r'Id="([^"]+)"', tag)
        target = re.search(r'Target="([^"]+)"', tag)
        if rid and target:
            t = target.group(1)
            targets[rid.group(1)] = t.lstrip("/") if t.startswith("/") else "xl/" + t
    out = {}
    for tag in re.findall(r"<sheet [^>]*>", wb):
        name = re.search(r'name="([^"]*)"', tag)
        rid = re.search(r'r:id="([^"]+)"', tag)
        if name and rid:
            out[name.group(1).replace("&amp;", "&").replace("&apos;", "'")] = targets[rid.group(1)]
    return out


def sheet_order(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        wb = zf.read("xl/workbook.xml").decode()
    return [n.replace("&amp;", "&") for n in re.findall(r'<sheet [^>]*?name="([^"]*)"', wb)]


def local_names(data: bytes) -> list[tuple[str, str]]:
    """(defined name, the sheet its localSheetId points at), for sheet-scoped names."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        wb = zf.read("xl/workbook.xml").decode()
    order = sheet_order(data)
    out = []
    for tag in re.findall(r"<definedName [^>]*>", wb):
        local = re.search(r'localSheetId="(\d+)"', tag)
        name = re.search(r'name="([^"]*)"', tag)
        if local and name:
            out.append((name.group(1), order[int(local.group(1))]))
    return sorted(out)


def features(data: bytes) -> dict[str, tuple[int, ...]]:
    """Per sheet: data validations, conditional formats, drawing references, hyperlinks."""
    files = parts(data)
    out = {}
    for name, part in sheet_parts(data).items():
        xml = files[part][0]
        out[name] = (
            len(re.findall(rb"<(?:x14:)?dataValidation[\s>]", xml)),
            len(re.findall(rb"<(?:x14:)?conditionalFormatting[\s>]", xml)),
            len(re.findall(rb"<drawing[\s>]", xml)),
            len(re.findall(rb"<hyperlink[\s>]", xml)),
        )
    return out


def check_untouched(before: bytes, after: bytes, may_change: set[str]) -> None:
    """Every part of ``before`` not in ``may_change`` is in ``after`` with the same bytes and
    compression; the order is kept and new parts come last."""
    a, b = parts(before), parts(after)
    assert list(b)[: len(a)] == list(a), "parts reordered or dropped"
    changed = {n for n in a if a[n] != b[n]}
    assert changed <= may_change, sorted(changed - may_change)
    for n in a:
        assert a[n][1] == b[n][1], f"{n}: compression changed"


def expected_changes(before: bytes, after: bytes, sheets: set[str]) -> set[str]:
    names = sheet_parts(before)
    allowed = {
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "[Content_Types].xml",
        "xl/styles.xml",
    }
    files = parts(before)
    for sheet in sheets:
        part = names[sheet]
        allowed.add(part)
        folder, base = part.rsplit("/", 1)
        rels = f"{folder}/_rels/{base}.rels"
        allowed.add(rels)
        for target in re.findall(rb'Target="([^"]+)"', files.get(rels, (b"", 0))[0]):
            t = target.decode()
            allowed.add(t.lstrip("/") if t.startswith("/") else "xl/" + t.replace("../", ""))
    for part in names.values():  # a sheet whose tab was selected loses the selection
        if b'tabSelected="1"' in files[part][0][:100_000]:
            allowed.add(part)
    return allowed


def opened(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def check_reads(data: bytes) -> None:
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert book.sheet_names[0] == MARKUP_SHEET
    rows = book.get_sheet_by_name(MARKUP_SHEET).to_python()
    assert rows[2][:4] == ["Severity", "Where", "Finding", "What to do"]


def check_one_selected_tab(data: bytes) -> None:
    files = parts(data)
    selected = [
        name
        for name, part in sheet_parts(data).items()
        if re.search(rb'<sheetView [^>]*tabSelected="(1|true)"', files[part][0][:200_000])
    ]
    assert selected == [MARKUP_SHEET]
    assert re.search(rb'activeTab="0"', files["xl/workbook.xml"][0])


def check_marked(wb: openpyxl.Workbook, findings: list[Finding]) -> None:
    """The findings sheet lists every non-info finding with a link; flagged cells carry a
    severity fill and a comment quoting the message."""
    assert wb.sheetnames[0] == MARKUP_SHEET
    ws = wb[MARKUP_SHEET]
    listed = [f for f in findings if f.severity != "info"]
    rows = list(ws.iter_rows(min_row=4, max_col=4))
    assert len(rows) == len(listed)
    fills = {"error": "FFFFC7CE", "risk": "FFF8CBAD", "warning": "FFFFEB9C"}
    for f in listed:
        where = f"{f.sheet}!{f.cell}" if f.sheet and f.cell else f.sheet or "(the whole file)"
        row = next(r for r in rows if r[1].value == where and r[2].value.startswith(f.message[:60]))
        assert row[0].value == f.severity.capitalize()
        assert row[0].fill.fgColor.rgb == fills[f.severity]
        if f.sheet and f.cell:
            assert row[1].hyperlink is not None
            assert row[1].hyperlink.location == f"'{f.sheet}'!{f.cell}"
            cell = wb[f.sheet][f.cell]
            assert cell.comment is not None and f.message[:60] in cell.comment.text
            assert cell.fill.fgColor.rgb in fills.values()


# -- real templates ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def supplier_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Filled templates with a supplier's usual mistakes, built once for this module."""
    out = tmp_path_factory.mktemp("supplier")
    return {f: build_family(f, out, EXTRA[f])[0].read_bytes() for f in sorted(EXTRA)}


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(EXTRA))
def test_filled_template_marked_up(
    supplier_files: dict[str, bytes], screener: Screener, family: str
) -> None:
    before = supplier_files[family]
    result = screener.screen_bytes(before)
    findings = list(result.findings)
    assert {"error", "warning"} <= {f.severity for f in findings}
    after = mark_up(before, findings, title=f"{family}.xlsx")

    flagged = {f.sheet for f in findings if f.sheet and f.cell and f.severity != "info"}
    check_untouched(before, after, expected_changes(before, after, flagged))
    assert features(after) == {
        MARKUP_SHEET: (0, 0, 0, len([f for f in findings if f.sheet and f.severity != "info"])),
        **features(before),
    }
    assert local_names(after) == local_names(before) and local_names(before)
    assert sheet_order(after) == [MARKUP_SHEET, *sheet_order(before)]
    check_one_selected_tab(after)
    check_reads(after)
    check_marked(opened(after), findings)
    # The marked-up file screens exactly as the original did.
    assert key(screener.screen_bytes(after).findings) == key(findings)


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(BLANKS))
def test_blank_template_keeps_its_drawings_and_comments(screener: Screener, family: str) -> None:
    """The untouched template still has what openpyxl would drop: it all survives."""
    before = (require_shared(TEMPLATES) / BLANKS[family]).read_bytes()
    result = screener.screen_bytes(before)
    findings = list(result.findings)
    # A template comment's cell flagged too: our text joins the template's comment.
    commented = "W3" if family == "CMRT-6.5" else None
    if commented:
        findings.append(
            Finding("test-merge", "warning", "A flagged commented cell.", "Smelter List", commented)
        )
    after = mark_up(before, findings)
    a, b = parts(before), parts(after)

    flagged = {f.sheet for f in findings if f.sheet and f.cell and f.severity != "info"}
    assert flagged, "the blank template gives findings on cells"
    check_untouched(before, after, expected_changes(before, after, flagged))
    media = [n for n in a if n.startswith(("xl/media/", "xl/drawings/drawing"))]
    assert media and all(b[n] == a[n] for n in media)
    fb, fa = features(before), features(after)
    assert sum(v[0] for v in fb.values()) > 0 and sum(v[1] for v in fb.values()) > 0
    assert sum(v[2] for v in fb.values()) > 0
    assert {k: v for k, v in fa.items() if k != MARKUP_SHEET} == fb
    assert local_names(after) == local_names(before) and local_names(before)
    check_one_selected_tab(after)
    check_reads(after)

    # Comments of the template are all still there, ours added beside them.
    def comments(data: bytes) -> list[bytes]:
        return [
            c
            for n, (x, _) in parts(data).items()
            if n.startswith("xl/comments")
            for c in re.findall(rb"<comment ref=\"[A-Z]+[0-9]+\"", x)
        ]

    assert set(comments(before)) < set(comments(after))
    wb = opened(after)
    if commented:
        text = wb["Smelter List"][commented].comment.text
        assert "list for Validation" in text and "A flagged commented cell." in text
    flagged_cells = [
        f for f in findings if f.sheet in wb.sheetnames and f.cell and f.severity != "info"
    ]
    for f in flagged_cells:
        assert wb[f.sheet][f.cell].comment is not None, f
    assert key(screener.screen_bytes(after).findings) == key(result.findings)


@pytest.mark.slow
def test_marking_up_twice_replaces_the_first_round(
    supplier_files: dict[str, bytes], screener: Screener
) -> None:
    original = supplier_files["CMRT-6.5"]
    findings = list(screener.screen_bytes(original).findings)
    once = mark_up(original, findings)
    fewer = [f for f in findings if f.cell != "D8"]  # the supplier fixed D8
    twice = mark_up(once, fewer)
    assert sheet_order(twice) == sheet_order(once)  # one findings sheet, still first
    assert local_names(twice) == local_names(original)
    check_one_selected_tab(twice)
    wb = opened(twice)
    assert wb["Declaration"]["D8"].comment is None  # our stale comment is gone
    text = wb["Declaration"]["D26"].comment.text
    assert text.count("not an allowed answer") == 1  # replaced, not appended
    assert len(list(wb[MARKUP_SHEET].iter_rows(min_row=4))) == len(
        [f for f in fewer if f.severity != "info"]
    )
    # the VML has no note left for D8 (row 7, column 3, 0-based)
    vml = [
        x
        for n, (x, _) in parts(twice).items()
        if n.endswith(".vml") and b"<ns2:Row>7</ns2:Row><ns2:Column>3<" in x
    ]
    assert not vml


# -- small hand-made workbooks ---------------------------------------------------------------


def tiny(
    sheets: dict[str, str], *, styles: bool = True, extra: dict[str, str] | None = None
) -> bytes:
    """A minimal package: sheets given as their <sheetData> content (or a whole part)."""
    ct = [
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>',
        '<Default Extension="xml" ContentType="application/xml"/>',
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>',
    ]
    rels, tags, files = [], [], {}
    for i, (name, body) in enumerate(sheets.items(), start=1):
        view = '<sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>'
        xml = (
            body
            if body.startswith("<?xml")
            else (
                f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}" xmlns:r="{REL}">'
                f"{view if i == len(sheets) else ''}<sheetData>{body}</sheetData></worksheet>"
            )
        )
        files[f"xl/worksheets/sheet{i}.xml"] = xml
        ct.append(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        )
        rels.append(
            f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        )
        escaped = name.replace("&", "&amp;").replace("'", "&apos;").replace("<", "&lt;")
        tags.append(f'<sheet name="{escaped}" sheetId="{i}" r:id="rId{i}"/>')
    if styles:
        files["xl/styles.xml"] = (
            f'<styleSheet xmlns="{MAIN}"><fonts count="1"><font><sz val="11"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
            '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/><xf numFmtId="14" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
        )
        rels.append(f'<Relationship Id="rId99" Type="{REL}/styles" Target="styles.xml"/>')
        ct.append(
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        )
    last = len(sheets) - 1  # the last sheet is the active one and has a print area
    area = (
        "'{}'!$A$1:$B$2".format(list(sheets)[-1].replace("'", "''"))
        .replace("&", "&amp;")
        .replace("<", "&lt;")
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "[Content_Types].xml",
            f'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">{"".join(ct)}</Types>',
        )
        zf.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        zf.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><bookViews><workbookView activeTab="{last}"/></bookViews>'
            f'<sheets>{"".join(tags)}</sheets><definedNames><definedName name="_xlnm.Print_Area" localSheetId="{last}">{area}</definedName></definedNames></workbook>',
        )
        zf.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{"".join(rels)}</Relationships>',
        )
        for name, text in {**files, **(extra or {})}.items():
            zf.writestr(name, text)
    return buf.getvalue()


def sheet_xml(data: bytes, sheet: str) -> bytes:
    return parts(data)[sheet_parts(data)[sheet]][0]


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


# -- files that cannot be marked up --------------------------------------------------------


def _not_a_workbook() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    return buf.getvalue()


def _sample() -> bytes:
    return tiny({"Data": '<row r="1"><c r="A1"><v>1</v></c></row>'})


HOSTILE = {
    "empty": lambda: b"",
    "random-bytes": lambda: hostile.random_bytes(),
    "truncated-zip": lambda: _sample()[: len(_sample()) // 2],
    "not-a-workbook-zip": _not_a_workbook,
    "zip-bomb": lambda: hostile.zip_bomb(20),
    "encrypted": lambda: hostile.encrypt(_sample(), "a-secret-password"),
    "legacy-xls": lambda: (
        require_shared() / "legacy/EICC-GeSI_CMRT_3.01_blank_encrypted.xls"
    ).read_bytes(),
    "too-big": lambda: _sample() + b"\0" * 2_000_000,
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_unusable_files_raise_markup_error(case: str) -> None:
    data = HOSTILE[case]()
    with pytest.raises(MarkupError):
        mark_up(
            data,
            [Finding("x", "error", "m", "Data", "A1")],
            limits=Limits(max_file_bytes=1_000_000),
        )


def test_a_sheet_with_a_dtd_is_left_alone() -> None:
    """Entities are never expanded: a sheet declaring some is not marked, the rest is."""
    before = hostile.entity_expansion()
    after = mark_up(before, [Finding("x", "error", "m", "Declaration", "A1")])
    assert parts(after)["xl/worksheets/sheet1.xml"] == parts(before)["xl/worksheets/sheet1.xml"]
    assert sheet_order(after) == [MARKUP_SHEET, "Declaration"]


def test_mark_up_can_cross_a_process_boundary() -> None:
    assert pickle.loads(pickle.dumps(mark_up)) is mark_up


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("acme-cmrt.xlsx", "acme-cmrt (Assay findings).xlsx"),
        ("Macro Book.XLSM", "Macro Book (Assay findings).xlsm"),
        ("../../etc/passwd", "passwd (Assay findings).xlsx"),
        ("C:\\Users\\x\\cmrt.xlsx", "cmrt (Assay findings).xlsx"),
        ("acme (Assay findings).xlsx", "acme (Assay findings).xlsx"),
        ("", "workbook (Assay findings).xlsx"),
        ("...xlsx", "workbook (Assay findings).xlsx"),
        ('a<b>:"c|d?*\x00\u202e.xlsx', "a b c d (Assay findings).xlsx"),
        ("report.pdf", "report (Assay findings).xlsx"),
    ],
)
def test_marked_up_name(given: str, expected: str) -> None:
    assert marked_up_name(given) == expected


def test_marked_up_name_is_bounded() -> None:
    name = marked_up_name("x" * 500 + ".xlsx")
    assert len(name) <= 120 and name.endswith(" (Assay findings).xlsx")
