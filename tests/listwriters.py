"""Spreadsheet files written from code: CSV (any delimiter and encoding), XLSX (openpyxl),
OpenDocument, and Excel 2003 XML "SpreadsheetML" the way RMI's website exports it (skipped
cells with ``ss:Index``, HTML inside ``ss:Data``, cell comments).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import openpyxl

Rows = list[list[Any]]

#: The shapes :func:`write` writes one table in.
FORMATS = ("csv", "xlsx", "xml")

# -- writers ---------------------------------------------------------------------------------


def write_csv(
    path: Path, rows: Sequence[Sequence[Any]], delimiter: str = ",", encoding: str = "utf-8"
) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, sheets: dict[str, Rows]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(list(row))
    wb.save(path)
    return path


def _xml_cell(value: Any, index: int | None, html: bool, comment: str) -> str:
    at = f' ss:Index="{index}"' if index else ""
    note = (
        f'<Comment ss:Author="Example"><ss:Data xmlns="http://www.w3.org/TR/REC-html40">'
        f"{escape(comment)}</ss:Data></Comment>"
        if comment
        else ""
    )
    if isinstance(value, bool):
        return f'<Cell{at}><Data ss:Type="Boolean">{int(value)}</Data>{note}</Cell>'
    if isinstance(value, int | float):
        return f'<Cell{at}><Data ss:Type="Number">{value}</Data>{note}</Cell>'
    if isinstance(value, dt.datetime | dt.date):
        stamp = (
            value.strftime("%Y-%m-%dT%H:%M:%S.000")
            if isinstance(value, dt.datetime)
            else f"{value.isoformat()}T00:00:00.000"
        )
        return f'<Cell{at} ss:StyleID="s21"><Data ss:Type="DateTime">{stamp}</Data>{note}</Cell>'
    text = escape(str(value))
    if html:
        return (
            f'<Cell{at}><ss:Data ss:Type="String" xmlns="http://www.w3.org/TR/REC-html40">'
            f'<B><Font html:Color="#000000">{text}</Font></B></ss:Data>{note}</Cell>'
        )
    return f'<Cell{at}><Data ss:Type="String">{text}</Data>{note}</Cell>'


def spreadsheetml(
    sheets: dict[str, Rows], *, html_every: int = 3, prolog: str = "", comment_on: str = ""
) -> bytes:
    """An Excel 2003 XML workbook: empty cells and rows are skipped with ``ss:Index``, every
    ``html_every``-th text cell is written as HTML, ``comment_on`` (a cell's text) gets a comment.
    """
    out = [
        '<?xml version="1.0"?>',
        prolog,
        '<?mso-application progid="Excel.Sheet"?>',
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel" '
        'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:html="http://www.w3.org/TR/REC-html40">',
        '<Styles><Style ss:ID="s21"><NumberFormat ss:Format="Short Date"/></Style></Styles>',
    ]
    n_text = 0
    for name, rows in sheets.items():
        out.append(f'<Worksheet ss:Name="{escape(name)}"><Table>')
        skipped_row = False
        for r, row in enumerate(rows, 1):
            if not any(v not in (None, "") for v in row):
                skipped_row = True
                continue
            out.append(f'<Row ss:Index="{r}">' if skipped_row else "<Row>")
            skipped_row = False
            skipped_cell = False
            for c, value in enumerate(row, 1):
                if value is None or value == "":
                    skipped_cell = True
                    continue
                html = False
                if isinstance(value, str):
                    n_text += 1
                    html = bool(html_every) and n_text % html_every == 0
                out.append(
                    _xml_cell(
                        value,
                        c if skipped_cell else None,
                        html,
                        "An example note" if comment_on and value == comment_on else "",
                    )
                )
                skipped_cell = False
            out.append("</Row>")
        out.append("</Table></Worksheet>")
    out.append("</Workbook>")
    return "\n".join(line for line in out if line).encode("utf-8")


def write_spreadsheetml(path: Path, sheets: dict[str, Rows], **options: Any) -> Path:
    path.write_bytes(spreadsheetml(sheets, **options))
    return path


def write_ods(path: Path, sheets: dict[str, Rows]) -> Path:
    """An OpenDocument spreadsheet (text and number cells), as LibreOffice saves one."""
    tables = []
    for name, rows in sheets.items():
        body = []
        for row in rows:
            cells = []
            for value in row:
                if value is None or value == "":
                    cells.append("<table:table-cell/>")
                elif isinstance(value, int | float) and not isinstance(value, bool):
                    cells.append(
                        f'<table:table-cell office:value-type="float" office:value="{value}">'
                        f"<text:p>{value}</text:p></table:table-cell>"
                    )
                else:
                    cells.append(
                        '<table:table-cell office:value-type="string">'
                        f"<text:p>{escape(str(value))}</text:p></table:table-cell>"
                    )
            body.append(f"<table:table-row>{''.join(cells)}</table:table-row>")
        tables.append(f'<table:table table:name="{escape(name)}">{"".join(body)}</table:table>')
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{''.join(tables)}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    mimetype = "application/vnd.oasis.opendocument.spreadsheet"
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        zf.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def write(path: Path, rows: Rows, fmt: str, sheet: str = "Facilities") -> Path:
    """One table as ``fmt`` ("csv", "xlsx" or "xml")."""
    if fmt == "csv":
        return write_csv(path.with_suffix(".csv"), rows)
    if fmt == "xlsx":
        return write_xlsx(path.with_suffix(".xlsx"), {sheet: rows})
    return write_spreadsheetml(path.with_suffix(".xml"), {sheet: rows})
