"""Hostile and broken inputs, built small in code (a sheet that inflates to hundreds of MB is
a few hundred KB on disk)."""

from __future__ import annotations

import io
import random
import zipfile

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Declaration" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
_SHEET_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
_SHEET_TAIL = "</sheetData></worksheet>"


def _workbook_zip(sheet_chunks: object, extra: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        for name, text in (extra or {}).items():
            zf.writestr(name, text)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(_SHEET_HEAD.encode())
            for chunk in sheet_chunks:  # type: ignore[attr-defined]
                f.write(chunk)
            f.write(_SHEET_TAIL.encode())
    return buf.getvalue()


def huge_sheet(megabytes: int = 200) -> bytes:
    """A structurally valid workbook whose one sheet inflates to ``megabytes`` of rows."""
    row = b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x</t></is></c></row>' % (i, i)
        for i in range(1, 2)
    )
    block = row * (1024 * 1024 // len(row))
    return _workbook_zip(block for _ in range(megabytes))


def zip_bomb(megabytes: int = 20) -> bytes:
    """A small sheet under the per-part size limit, but compressed far beyond any real file."""
    return _workbook_zip(b" " * (1024 * 1024) for _ in range(megabytes))


def entity_expansion() -> bytes:
    """A 'billion laughs' DTD in the sheet XML."""
    dtd = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
            for i in range(1, 10)
        )
        + "]>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        zf.writestr(
            "xl/worksheets/sheet1.xml",
            dtd
            + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>',
        )
    return buf.getvalue()


def random_bytes(n: int = 200_000, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(n)


def encrypt(data: bytes, password: str) -> bytes:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(password, out)
    return out.getvalue()


# -- hostile cells in a real filled workbook ------------------------------------------------
# The base is a synthetic example shipped with the project (examples/, made by
# scripts/make_examples.py), so these need nothing beside the clone.

EXAMPLE = (
    __import__("pathlib").Path(__file__).resolve().parents[1]
    / "examples"
    / "northwind-cmrt-6.5.xlsx"
)
_DATE_STYLE = "5"  # a cellXfs entry of the example with a date number format (mmmm d, yyyy)


def _sheet_part(zf: zipfile.ZipFile, sheet: str) -> str:
    import re

    wb = zf.read("xl/workbook.xml").decode()
    rid = re.search(rf'<sheet name="{re.escape(sheet)}"[^>]*r:id="(rId\d+)"', wb)
    assert rid, sheet
    rels = zf.read("xl/_rels/workbook.xml.rels").decode()
    target = re.search(rf'Target="([^"]+)" Id="{rid.group(1)}"', rels)
    assert target, rid.group(1)
    return target.group(1).lstrip("/")


def patch_sheet(base: bytes, sheet: str, edit: object) -> bytes:
    """``base`` with one sheet's XML passed through ``edit(xml) -> xml``; other parts as they were."""
    src = zipfile.ZipFile(io.BytesIO(base))
    part = _sheet_part(src, sheet)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == part:
                data = edit(data)  # type: ignore[operator]
            dst.writestr(info, data)
    return out.getvalue()


def with_row(base: bytes, sheet: str, row: int, cells_xml: str) -> bytes:
    """Append ``<row r=row>cells</row>`` at the end of the sheet's data."""
    return patch_sheet(
        base,
        sheet,
        lambda xml: xml.replace(
            b"</sheetData>", f'<row r="{row}">{cells_xml}</row></sheetData>'.encode()
        ),
    )


def text_cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def far_cell(base: bytes) -> bytes:
    """One cell at XFD1048576: the engine would allocate hundreds of GB."""
    return with_row(base, "Declaration", 1048576, text_cell("XFD1048576", "x"))


def overflowing_ref(base: bytes) -> bytes:
    """A column reference no spreadsheet has (ZZZZZZZ): the engine's index overflows."""
    return with_row(base, "Declaration", 2506, text_cell("ZZZZZZZ2506", "x"))


def last_row_cell(base: bytes) -> bytes:
    """One cell on Excel's last row: a grid of a million rows."""
    return with_row(base, "Declaration", 1048576, text_cell("A1048576", "x"))


def far_column_cell(base: bytes) -> bytes:
    """One cell in Excel's last column on row 5: a grid 16,384 columns wide."""
    return with_row(base, "Declaration", 5000, text_cell("XFD5000", "x"))


def impossible_date(base: bytes) -> bytes:
    """A date-formatted cell holding -1e300: the engine panics converting it."""
    return with_row(base, "Declaration", 200, f'<c r="D200" s="{_DATE_STYLE}"><v>-1e300</v></c>')


def long_smelter_list(base: bytes, rows: int, last_cid: str = "CID003387") -> bytes:
    """A Smelter List of ``rows`` rows (the template's own 2,504 kept), its last row ``last_cid``.

    Filler rows repeat the CIDs the example already lists; the default last CID is a tin
    smelter located in Rwanda, a covered country: a risk only seen if the last row is read.
    """
    import re

    def edit(xml: bytes) -> bytes:
        cids = re.findall(rb"<t>(CID\d{6})</t>", xml)
        assert cids, "the example lists CIDs in column A"
        rows_xml = bytearray()
        for n in range(2505, rows):
            rows_xml += (
                f'<row r="{n}">{text_cell(f"A{n}", cids[n % len(cids)].decode())}</row>'.encode()
            )
        rows_xml += f'<row r="{rows}">{text_cell(f"A{rows}", last_cid)}</row>'.encode()
        return xml.replace(b"</sheetData>", bytes(rows_xml) + b"</sheetData>")

    return patch_sheet(base, "Smelter List", edit)
