"""Reading a marked-up workbook's parts, and small hand-made workbooks, for the mark-up tests."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import python_calamine

from plugins.models import Finding
from reports.markup import MARKUP_SHEET

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


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
