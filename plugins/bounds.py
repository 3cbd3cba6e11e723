"""Bounds checked on a hostile package's bytes before any spreadsheet engine reads them.

The zip directory is checked for sizes and zip-bomb ratios with nothing inflated
(:func:`check_zip`); a worksheet's XML is scanned for references outside what a template
can hold (:func:`scan_sheet_xml`), and a sheet longer than the row limit is cut and written
back into the package (:func:`replace_part`), so the engine never allocates a grid down to
row 1,048,576 for one stray cell.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from .limits import FileProblem, Limits, too_complex
from .sheet import EXCEL_MAX_COL, EXCEL_MAX_ROW, col_index
from .sniff import WORKBOOK_PARTS

#: Columns a template can hold: real templates use A..AR (44); a sheet reaching column AAA
#: (703) or beyond is not a filled template, and the engine would allocate rows x columns.
MAX_COLUMN_LETTERS = 2


@dataclass(frozen=True)
class Truncation:
    """A sheet longer than ``Limits.max_rows``: what was read, and how far it claims to go."""

    sheet: str
    last_row_read: int
    last_row: int


# A cell or row reference that is out of a template's bounds: three or more column letters,
# or a row number with as many digits as the row limit. Matched on the raw XML with a literal
# prefix, so the 5 MB Smelter List is scanned in a few milliseconds; each hit is then checked
# exactly. References written in other legal XML spellings (single quotes, spaces around "=")
# are not seen here: the sandbox's memory limit is the backstop for those.
_REF_RE = re.compile(rb' r="([A-Za-z]*)([0-9]*)"')
_DIMENSION_RE = re.compile(rb'<dimension ref="([^"]{0,64})"')


def _far_ref_re(max_rows: int) -> re.Pattern[bytes]:
    digits = len(str(max_rows))
    return re.compile(
        rb' r="(?:[A-Za-z]{%d}|[A-Za-z]{0,%d}[0-9]{%d})'
        % (MAX_COLUMN_LETTERS + 1, MAX_COLUMN_LETTERS, digits)
    )


def _ref_bounds(ref: bytes) -> tuple[int, int]:
    """(row, column) of ``b"XFD12"``; out-of-grid or malformed references raise."""
    m = re.fullmatch(rb"([A-Za-z]{0,3})([0-9]{1,7})", ref)
    if not m:
        raise too_complex(f"reference {ref[:40]!r}")
    row = int(m.group(2))
    col = col_index(m.group(1).decode().upper()) + 1 if m.group(1) else 0
    if not 1 <= row <= EXCEL_MAX_ROW or col > EXCEL_MAX_COL:
        raise too_complex(f"reference {ref[:40]!r} outside the grid")
    return row, col


def scan_sheet_xml(xml: bytes, name: str, max_rows: int) -> tuple[bytes, Truncation | None]:
    """Check a worksheet's references before any engine sees it.

    Columns beyond what a template can hold, or references outside Excel's grid, raise
    ``file-too-complex``. Rows beyond ``max_rows`` are cut off (with the sheet's data kept up
    to there) and reported as a :class:`Truncation`, so the engine never allocates a grid
    down to row 1,048,576 for one stray cell.
    """
    dim = _DIMENSION_RE.search(xml, 0, 4096)
    if dim:
        for part in dim.group(1).replace(b"$", b"").split(b":"):
            if part:
                _ref_bounds(part)  # a dimension outside the grid is not from a spreadsheet program
    far = _far_ref_re(max_rows)
    cut: int | None = None
    last_row = 0
    for m in far.finditer(xml):
        ref = _REF_RE.match(xml, m.start())
        if ref is None:
            raise too_complex(f"reference at byte {m.start()}")
        row, _col = _ref_bounds(ref.group(1) + ref.group(2))
        if len(ref.group(1)) > MAX_COLUMN_LETTERS:
            raise too_complex(f"{name}: column of {ref.group(1)[:8]!r}, beyond any template")
        if row > max_rows:
            if cut is None:
                cut = xml.rfind(b"<row", 0, m.start() + 1)
                if cut < 0:
                    raise too_complex(f"{name}: row {row} outside any row element")
            last_row = max(last_row, row)
    if cut is None:
        return xml, None
    head = xml[:cut]
    prev = head.rfind(b"<row ")
    read_to = 0
    if prev >= 0:
        pm = re.compile(rb'<row [^>]*?r="([0-9]{1,7})"').match(head, prev)
        read_to = int(pm.group(1)) if pm else 0
    tail_at = xml.rfind(b"</sheetData>")
    tail = xml[tail_at:] if tail_at > cut else b"</sheetData></worksheet>"
    return head + tail, Truncation(name, min(read_to, max_rows), last_row)


def replace_part(data: bytes, part: str, xml: bytes) -> bytes:
    """The package ``data`` with the part ``part`` holding ``xml`` (stored uncompressed)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst,
    ):
        for info in src.infolist():
            dst.writestr(info.filename, xml if info.filename == part else src.read(info.filename))
    return out.getvalue()


def check_zip(data: bytes, limits: Limits) -> zipfile.ZipFile:
    """The workbook's zip directory, once its sizes and ratios passed the limits."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise FileProblem(
            "unreadable-file",
            "The file is damaged (it looks like an Excel workbook, but its contents are "
            "truncated or corrupt). Please save it again from Excel and resend it.",
            str(exc),
        ) from exc
    names = {i.filename for i in infos}
    if not any(part in names for part in WORKBOOK_PARTS):
        raise FileProblem(
            "unreadable-file",
            "The file is a zip archive but not an Excel workbook. Please send the completed "
            "RMI template as an .xlsx file.",
        )
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > limits.max_entry_bytes or total > limits.max_total_bytes:
            raise FileProblem(
                "unreadable-file",
                "The workbook is far larger than any RMI template once unpacked "
                f"({info.file_size // (1024 * 1024)} MB in one part), so it was not opened. "
                "Please send the template without extra sheets or data.",
                f"{info.filename}: {info.file_size} bytes",
            )
        if info.file_size > 1024 * 1024 and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise FileProblem(
                "unreadable-file",
                "The workbook is compressed in a way no spreadsheet program produces (a "
                "'zip bomb'), so it was not opened. Please save the template again from Excel.",
                f"{info.filename}: {info.file_size}/{info.compress_size}",
            )
    return zf


# A value for :func:`trim_tail`: ``<v>`` with text, ``<v`` with attributes, an inline string.
# (Markup this scan does not follow, CDATA, comments, processing instructions, leaves the
# sheet whole; so do namespace prefixes.)
_VALUE_RE = re.compile(rb"<(?:v>[^<]|v\s+[^\s/]|is[\s/>])")  # <v /> is empty
_PREFIXED_RE = re.compile(rb":(?:c|v|is|row|f)[\s/>]")
# A cell's start tag as spreadsheet programs write it, up to the value: the column is told by
# its one ``r`` (no second ``r``, no ``<`` in an attribute), and only a formula stands between.
_CELL_START_RE = re.compile(
    rb'<c r="([A-Z]{1,3})[0-9]{1,7}"(?: (?:s|t|cm|vm|ph)="[^"<>]*")*\s*>'
    rb"(?:<f(?: [^<>]*)?/>|<f(?: [^<>]*)?>[^<]*</f>)?"
)


_ROW_NUMBER_RE = re.compile(rb'<row r="([0-9]{1,7})"')


def trim_tail(xml: bytes, columns: int) -> bytes | None:
    """The worksheet without the rows after the last one holding a value in its first
    ``columns`` columns (every column a reader takes from the sheet), or ``None`` when there
    is nothing to cut or the XML is spelled in a way this scan does not follow.

    A template's Smelter List runs to row 2,504 with look-up formulas whose cached values are
    empty in the input columns (hidden helper columns hold ``#N/A`` and ``0``); a supplier
    fills a few hundred rows, and the engine then parses an eighth of the XML. Only rows whose
    input columns are empty to any reader are cut: a value in a cell whose column cannot be
    told keeps its row, and any CDATA, comment, processing instruction or prefixed element in
    the sheet data keeps the whole sheet.

    Rows are taken from the end. A row is looked at value by value (:func:`_last_input`)
    unless it is the row after it with that row's number replaced by its own (the template's
    rows are alike but for their numbers): replacing a run of digits by a shorter or equal one
    changes no tag, no column letter and no value's presence, so such a row holds input
    exactly when the row after it does, and that one was shown to hold none.
    """
    start = xml.find(b"<sheetData")
    end = xml.find(b"</sheetData>", start)
    if start < 0 or end < start:
        return None
    if xml.find(b"<sheetData", start + 1) >= 0 or xml.find(b"</sheetData>", end + 1) >= 0:
        return None  # one block of sheet data, or the cut could land in the wrong one
    if (
        xml.find(b"<!", start, end) >= 0
        or xml.find(b"<?", start, end) >= 0
        or _PREFIXED_RE.search(xml, start, end)
    ):
        return None
    last = -1
    pos = end
    after: tuple[bytes, bytes] | None = None  # (the row after this one, its number)
    while last < 0:
        at = xml.rfind(b"<row", start, pos)
        if at < 0:
            return None  # no input anywhere: nothing is cut
        number = _ROW_NUMBER_RE.match(xml, at)
        alike = None
        if after is not None and number is not None and len(number[1]) <= len(after[1]):
            alike = after[0].replace(after[1], number[1])
            if len(alike) != pos - at or not xml.startswith(alike, at):
                alike = None
        if alike is None:  # looked at value by value
            last = _last_input(xml, at, pos, columns)
            segment = xml[at:pos]
        else:  # alike the row after it, which holds no input
            segment = alike
        after = (segment, number[1]) if number is not None else None
        pos = at
    row_end = xml.find(b"</row>", last, end)
    if row_end < 0:
        return None
    row_end += len(b"</row>")
    if xml.find(b"<row", row_end, end) < 0:
        return None  # nothing after it
    return xml[:row_end] + xml[end:]


def _last_input(xml: bytes, start: int, end: int, columns: int) -> int:
    """Where the last value between ``start`` and ``end`` that a reader of the first
    ``columns`` columns could see begins (a value in such a column, or in a cell spelled
    otherwise than :data:`_CELL_START_RE`), or -1."""
    found = [m.start() for m in _VALUE_RE.finditer(xml, start, end)]
    for pos in reversed(found):
        cell = xml.rfind(b"<c", start, pos)
        m = _CELL_START_RE.match(xml, cell) if cell >= 0 else None
        if m is None or m.end() != pos:
            return pos  # a cell spelled otherwise: its column is not told here
        letters = m.group(1)
        if len(letters) == 1 and letters[0] - 65 < columns:
            return pos  # a value in a column that is read
    return -1
