"""Opening a workbook a stranger sent us, safely, and reading cells by address.

Design: every file goes through :func:`open_workbook`, which looks at the bytes before any
spreadsheet library does. Size limits and zip-bomb ratios are checked on the zip directory
(no inflation needed), OLE containers are told apart (legacy ``.xls`` versus an encrypted
``.xlsx``), and Excel's default "VelvetSweatshop" encryption is removed with msoffcrypto.
Only then is python-calamine (Rust, ~10x faster than openpyxl on a CMRT) asked to read
the two or three sheets a reader needs. Problems become :class:`FileProblem`, the
supplier's-fault exception family that the pipeline turns into a finding and a reply.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

import python_calamine

from .sniff import OLE_MAGIC, WORKBOOK_PARTS, ZIP_MAGIC, Sniffed, sniff

# Callers elsewhere import the magic numbers from here; they are defined in plugins.sniff.
__all__ = ["OLE_MAGIC", "ZIP_MAGIC"]

log = logging.getLogger(__name__)
DEFAULT_PASSWORD = "VelvetSweatshop"  # Excel's built-in "no password" encryption key


@dataclass(frozen=True)
class Limits:
    """Bounds on what we inflate and read; every number is configurable under ``[limits]``."""

    max_file_bytes: int = 30 * 1024 * 1024
    max_entry_bytes: int = 32 * 1024 * 1024  # real templates: 5 MB at most
    max_total_bytes: int = 128 * 1024 * 1024  # real templates: 10 MB
    max_ratio: int = 100  # real templates: 10 at most; uncompressed/compressed beyond which a big entry is a bomb
    # Rows read from one sheet: templates have at most 2,504; a 100,000-row Smelter List is
    # read whole within the memory limit. Beyond it: a ``too-many-rows`` error naming the
    # last row read, never a silent cut.
    max_rows: int = 100_000
    # The sandbox (plugins.sandbox): a workbook is opened and read in a child process with
    # these hard limits. Real templates need ~100 MB and well under a second.
    memory_bytes: int = 512 * 1024 * 1024  # address space the child may add to what it inherits
    cpu_seconds: int = 20
    wall_seconds: float = 30.0
    isolate: bool = True  # False only for trusted files (tests of pure reading code)


#: Columns a template can hold: real templates use A..AR (44); a sheet reaching column AAA
#: (703) or beyond is not a filled template, and the engine would allocate rows x columns.
MAX_COLUMN_LETTERS = 2
#: Excel's own grid.
EXCEL_MAX_ROW, EXCEL_MAX_COL = 1_048_576, 16_384


TOO_COMPLEX = "file-too-complex"
TOO_MANY_ROWS = "too-many-rows"
TOO_COMPLEX_MESSAGE = (
    "This workbook needs far more memory or time to open than any RMI template does (it "
    "refers to cells far outside the template, or holds values no spreadsheet program "
    "writes), so it was not screened. Please copy your answers into a fresh copy of the "
    "current template and send that file."
)


class FileProblem(Exception):
    """The file cannot be screened, and it is the sender's to fix. Becomes a finding."""

    def __init__(self, code: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail


def _col_index(col: str) -> int:
    n = 0
    for ch in col:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


_CELL_RE = re.compile(r"^([A-Z]{1,3})(\d+)$")


def cell_rc(cell: str) -> tuple[int, int]:
    """``"D8"`` -> (8, 3): 1-based row, 0-based column."""
    m = _CELL_RE.match(cell)
    if not m:
        raise ValueError(f"not a cell address: {cell!r}")
    return int(m.group(2)), _col_index(m.group(1))


def col_letter(index: int) -> str:
    """0-based column index -> letters."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


class Sheet:
    """Cell values of one sheet, addressed as in Excel.

    The grid is anchored at A1 (calamine's default would start at the first used cell).
    """

    def __init__(self, name: str, rows: list[list[Any]]) -> None:
        self.name = name
        self._rows = rows

    def get(self, row: int, col: int) -> Any:
        """Value at 1-based ``row`` and 0-based ``col``; ``None`` outside the used range."""
        r = row - 1
        c = col
        if r < 0 or c < 0 or r >= len(self._rows):
            return None
        line = self._rows[r]
        if c >= len(line):
            return None
        value = line[c]
        return None if value == "" else value

    def __getitem__(self, cell: str) -> Any:
        row, col = cell_rc(cell)
        return self.get(row, col)

    @property
    def last_row(self) -> int:
        return len(self._rows)

    def iter_rows(self, first: int, last: int | None = None) -> Any:
        """Yield ``(row_number, values)`` with values indexed from column A."""
        stop = self.last_row if last is None else min(last, self.last_row)
        for row in range(max(first, 1), stop + 1):
            yield row, self._rows[row - 1]


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


def _too_complex(detail: str) -> FileProblem:
    return FileProblem(TOO_COMPLEX, TOO_COMPLEX_MESSAGE, detail)


def _ref_bounds(ref: bytes) -> tuple[int, int]:
    """(row, column) of ``b"XFD12"``; out-of-grid or malformed references raise."""
    m = re.fullmatch(rb"([A-Za-z]{0,3})([0-9]{1,7})", ref)
    if not m:
        raise _too_complex(f"reference {ref[:40]!r}")
    row = int(m.group(2))
    col = _col_index(m.group(1).decode().upper()) + 1 if m.group(1) else 0
    if not 1 <= row <= EXCEL_MAX_ROW or col > EXCEL_MAX_COL:
        raise _too_complex(f"reference {ref[:40]!r} outside the grid")
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
            raise _too_complex(f"reference at byte {m.start()}")
        row, _col = _ref_bounds(ref.group(1) + ref.group(2))
        if len(ref.group(1)) > MAX_COLUMN_LETTERS:
            raise _too_complex(f"{name}: column of {ref.group(1)[:8]!r}, beyond any template")
        if row > max_rows:
            if cut is None:
                cut = xml.rfind(b"<row", 0, m.start() + 1)
                if cut < 0:
                    raise _too_complex(f"{name}: row {row} outside any row element")
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


_SHEET_TAG_RE = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_ATTR_RE = re.compile(rb'([\w:]+)="([^"]*)"')
_XML_ENTITIES = {b"&amp;": b"&", b"&lt;": b"<", b"&gt;": b">", b"&quot;": b'"', b"&apos;": b"'"}


def _unescape(raw: bytes) -> str:
    for k, v in _XML_ENTITIES.items():
        raw = raw.replace(k, v)
    return raw.decode("utf-8", "replace")


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> zip part, from ``xl/workbook.xml`` and its relationships (regex only:
    these small parts are read without an XML parser that could expand entities)."""
    try:
        wb = zf.read("xl/workbook.xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
    except (KeyError, OSError, zipfile.BadZipFile, EOFError):
        return {}
    targets: dict[bytes, str] = {}
    for tag in re.finditer(rb"<(?:\w+:)?Relationship\b[^>]*>", rels):
        attrs = dict(_ATTR_RE.findall(tag.group(0)))
        if b"Id" in attrs and b"Target" in attrs:
            target = _unescape(attrs[b"Target"])
            targets[attrs[b"Id"]] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    out: dict[str, str] = {}
    for tag in _SHEET_TAG_RE.finditer(wb):
        attrs = dict(_ATTR_RE.findall(tag.group(0)))
        rid = next((v for k, v in attrs.items() if k.endswith(b":id")), None)
        if b"name" in attrs and rid in targets:
            out[_unescape(attrs[b"name"])] = targets[rid]
    return out


# -- hyperlinks -------------------------------------------------------------------------
# A comment cell often shows a policy's title and links to its URL; the engine reads only
# the title. Links are read from the sheet's ``<hyperlinks>`` block and its ``_rels`` part
# (or a ``HYPERLINK("url", "title")`` formula) with bounded regular expressions: no XML
# parser, so no entity expansion, and every count and length is capped.

#: Longest URL kept (browsers handle far more; a policy URL is a few hundred characters).
MAX_URL_CHARS = 2048
#: Hyperlinks read from one sheet (a template has a handful).
MAX_HYPERLINKS = 10_000
#: Cells of one hyperlink range that are all given its URL ("G77:J77"); a larger range
#: gives its top-left cell only.
MAX_RANGE_CELLS = 64
_URL_SCHEME = re.compile(r"(?:https?://|mailto:)", re.IGNORECASE)
_ATTRS = rb'(?:\s+[\w:.-]{1,64}\s*=\s*(?:"[^"]{0,65536}"|\'[^\']{0,65536}\'))*'
_HYPERLINKS_OPEN = re.compile(rb"<(?:\w{1,32}:)?hyperlinks\b")
_HYPERLINKS_CLOSE = re.compile(rb"</(?:\w{1,32}:)?hyperlinks\s*>")
_HYPERLINK_TAG = re.compile(rb"<(?:\w{1,32}:)?hyperlink(" + _ATTRS + rb")\s*/?>")
_RELATIONSHIP_TAG = re.compile(rb"<(?:\w{1,32}:)?Relationship(" + _ATTRS + rb")\s*/?>")
_ONE_ATTR = re.compile(rb'([\w:.-]{1,64})\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')
_CHAR_REF = re.compile(r"&#(x[0-9A-Fa-f]{1,6}|[0-9]{1,7});")
_FORMULA_CELL = re.compile(
    rb"<(?:\w{1,32}:)?c\b([^>]{0,512})>\s{0,64}<(?:\w{1,32}:)?f\b[^>]{0,256}>\s{0,64}"
    rb"(?:_xlfn\.)?HYPERLINK\(\s{0,64}(?:\"|&quot;)((?:[^\"<&]|&amp;){1,%d}?)(?:\"|&quot;)"
    % MAX_URL_CHARS
)
_R_ATTR = re.compile(rb'\br\s*=\s*"([A-Za-z]{1,3}[0-9]{1,7})"')


def _attrs(raw: bytes) -> dict[str, str]:
    """Attributes of one tag, names without their namespace prefix, values unescaped."""
    out: dict[str, str] = {}
    for m in _ONE_ATTR.finditer(raw):
        name = m.group(1).decode("ascii", "replace")
        value = m.group(2) if m.group(2) is not None else m.group(3)
        out.setdefault(name.rsplit(":", 1)[-1], _unescape_text(value))
    return out


def _unescape_text(raw: bytes) -> str:
    """The five XML entities and numeric character references; nothing else is expanded."""

    def char(m: re.Match[str]) -> str:
        ref = m.group(1)
        code = int(ref[1:], 16) if ref[0] == "x" else int(ref)
        return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else ""

    return _CHAR_REF.sub(char, _unescape(raw))


def safe_url(text: str) -> str:
    """``text`` when it is an http, https or mailto URL of at most ``MAX_URL_CHARS``
    printable characters without spaces; else ``""``."""
    url = text.strip()
    if not url or len(url) > MAX_URL_CHARS or not _URL_SCHEME.match(url):
        return ""
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return ""
    return url


def _range_cells(ref: str) -> list[str]:
    """Cells a hyperlink's ``ref`` covers: all of a small range, the top-left of a big one."""
    parts = ref.replace("$", "").upper().split(":")
    try:
        first = cell_rc(parts[0])
        last = cell_rc(parts[1]) if len(parts) == 2 else first
    except ValueError:
        return []
    (r1, c1), (r2, c2) = first, last
    r1, r2, c1, c2 = min(r1, r2), max(r1, r2), min(c1, c2), max(c1, c2)
    if (r2 - r1 + 1) * (c2 - c1 + 1) > MAX_RANGE_CELLS:
        return [f"{col_letter(c1)}{r1}"]
    return [f"{col_letter(c)}{r}" for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]


def rels_part(part: str) -> str:
    """``xl/worksheets/sheet4.xml`` -> ``xl/worksheets/_rels/sheet4.xml.rels``."""
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"


def parse_hyperlinks(sheet_xml: bytes, rels_xml: bytes | None) -> dict[str, str]:
    """Cell address -> URL of a worksheet's external hyperlinks and ``HYPERLINK`` formulas.

    Only http, https and mailto targets are kept (:func:`safe_url`); links to places
    inside the workbook (``location`` only) are not URLs and are skipped.
    """
    targets: dict[str, str] = {}
    for n, tag in enumerate(_RELATIONSHIP_TAG.finditer(rels_xml or b"")):
        if n >= MAX_HYPERLINKS:
            break
        attrs = _attrs(tag.group(1))
        if "Id" in attrs and "Target" in attrs:
            targets[attrs["Id"]] = attrs["Target"]
    links: dict[str, str] = {}
    # Formulas first, so a real hyperlink element on the same cell wins.
    if b"HYPERLINK(" in sheet_xml:
        for n, m in enumerate(_FORMULA_CELL.finditer(sheet_xml)):
            if n >= MAX_HYPERLINKS:
                break
            ref = _R_ATTR.search(m.group(1))
            url = safe_url(_unescape_text(m.group(2)))
            if ref and url:
                links[ref.group(1).decode("ascii").upper()] = url
    opened = _HYPERLINKS_OPEN.search(sheet_xml, max(sheet_xml.rfind(b"sheetData>"), 0))
    if opened is None:
        return links
    closed = _HYPERLINKS_CLOSE.search(sheet_xml, opened.end())
    end = closed.start() if closed else len(sheet_xml)
    for n, tag in enumerate(_HYPERLINK_TAG.finditer(sheet_xml, opened.end(), end)):
        if n >= MAX_HYPERLINKS:
            break
        attrs = _attrs(tag.group(1))
        target = targets.get(attrs.get("id", ""), "")
        if target and attrs.get("location") and "#" not in target:
            target = f"{target}#{attrs['location']}"
        url = safe_url(target)
        if url:
            for cell in _range_cells(attrs.get("ref", "")):
                links.setdefault(cell, url)
    return links


class Workbook:
    """Sheets of an opened workbook, read on first use.

    Before the engine reads a sheet of an ``.xlsx``, its XML is checked by
    :func:`scan_sheet_xml`; a sheet longer than ``max_rows`` is read up to there and
    recorded in :attr:`truncations`.
    """

    def __init__(
        self,
        book: python_calamine.CalamineWorkbook,
        limits: Limits,
        data: bytes | None = None,
        zf: zipfile.ZipFile | None = None,
    ) -> None:
        self._book = book
        self._limits = limits
        self._data = data  # the .xlsx bytes (None for .xls: no XML to check)
        self._zip = zf  # their zip directory, as the size checks read it
        self._parts: dict[str, str] | None = None
        self._rows: dict[str, list[list[Any]]] = {}
        self._links: dict[str, dict[str, str]] = {}
        self.sheet_names: list[str] = list(book.sheet_names)
        self.truncations: list[Truncation] = []

    def has(self, name: str) -> bool:
        return name in self.sheet_names

    def sheet(self, name: str, nrows: int | None = None) -> Sheet:
        """A sheet's cells (``nrows``: only the first rows are needed; the sheet is read once)."""
        if name not in self.sheet_names:
            raise KeyError(name)
        rows = self._rows.get(name)
        if rows is None:
            rows = self._rows[name] = self._read(name)
        return Sheet(name, rows if nrows is None else rows[:nrows])

    def hyperlinks(self, name: str) -> dict[str, str]:
        """Cell address -> URL of the sheet's hyperlinks (see :func:`parse_hyperlinks`).

        Empty for an ``.xls``, an unknown sheet, or parts that cannot be read: a link is a
        nicety, and its absence is never a reason to refuse a file.
        """
        if name in self._links:
            return self._links[name]
        links: dict[str, str] = {}
        if self._zip is not None and name in self.sheet_names:
            if self._parts is None:
                self._parts = sheet_parts(self._zip)
            part = self._parts.get(name)
            if part:
                try:
                    xml = self._zip.read(part)
                    names = set(self._zip.namelist())
                    rels = self._zip.read(rels_part(part)) if rels_part(part) in names else None
                    links = parse_hyperlinks(xml, rels)
                except (KeyError, OSError, zipfile.BadZipFile, EOFError, ValueError, zlib.error):
                    log.info("hyperlinks of sheet %r not readable", name)
        self._links[name] = links
        return links

    def _checked_book(self, name: str) -> python_calamine.CalamineWorkbook:
        """The engine's workbook for ``name``, after its XML passed the bounds check."""
        if self._zip is None or self._data is None:
            return self._book
        if self._parts is None:
            self._parts = sheet_parts(self._zip)
        part = self._parts.get(name)
        candidates = (
            [part]
            if part
            else [n for n in self._zip.namelist() if n.startswith("xl/") and n.endswith(".xml")]
        )
        book = self._book
        for candidate in candidates:
            try:
                xml = self._zip.read(candidate)
            except (KeyError, OSError, zipfile.BadZipFile, EOFError, ValueError) as exc:
                raise FileProblem(
                    "unreadable-file",
                    f"The sheet {name!r} of this workbook is damaged and cannot be read.",
                    str(exc),
                ) from exc
            if part is None and b"<sheetData" not in xml:
                continue
            kept, truncation = scan_sheet_xml(xml, name, self._limits.max_rows)
            if truncation is not None and part is not None:
                self.truncations.append(truncation)
                book = python_calamine.CalamineWorkbook.from_filelike(
                    io.BytesIO(_replace_part(self._data, part, kept))
                )
        return book

    def _read(self, name: str) -> list[list[Any]]:
        try:
            book = self._checked_book(name)
            cal = book.get_sheet_by_name(name)
            # skip_empty_area=False anchors the grid at A1, so addresses map directly
            rows: list[list[Any]] = cal.to_python(skip_empty_area=False)
        except python_calamine.CalamineError as exc:  # corrupt XML inside a valid zip
            raise FileProblem(
                "unreadable-file",
                f"The sheet {name!r} of this workbook is damaged and cannot be read.",
                str(exc),
            ) from exc
        limit = self._limits.max_rows
        if len(rows) > limit:
            # Rows in a spelling the scan does not see (or an .xls): read, but cut all the same.
            self.truncations.append(Truncation(name, limit, len(rows)))
            rows = rows[:limit]
        return rows


def _replace_part(data: bytes, part: str, xml: bytes) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst,
    ):
        for info in src.infolist():
            dst.writestr(info.filename, xml if info.filename == part else src.read(info.filename))
    return out.getvalue()


def _check_zip(data: bytes, limits: Limits) -> zipfile.ZipFile:
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


def _decrypt_ole(data: bytes) -> tuple[bytes, bool]:
    """Decrypt an OLE container with Excel's default password.

    Returns ``(bytes, encrypted)``; unencrypted OLE (a plain .xls) is returned as is.
    """
    import msoffcrypto  # imported lazily: only OLE files need it

    try:
        office = msoffcrypto.OfficeFile(io.BytesIO(data))
        encrypted = office.is_encrypted()
    except Exception as exc:  # msoffcrypto raises assorted errors on junk OLE files
        raise FileProblem(
            "unreadable-file",
            "The file looks like an old-format Office document but cannot be read. "
            "Please send the completed RMI template as an .xlsx file.",
            repr(exc),
        ) from exc
    if not encrypted:
        return data, False
    out = io.BytesIO()
    try:
        office.load_key(password=DEFAULT_PASSWORD)
        office.decrypt(out)
    except Exception as exc:  # wrong password: msoffcrypto raises InvalidKeyError and others
        raise FileProblem(
            "unreadable-file",
            "The workbook is protected with a password, so we cannot read it. Please remove "
            "the password (File > Info > Protect Workbook > Encrypt with Password, clear it) "
            "and resend the file.",
            repr(exc),
        ) from exc
    return out.getvalue(), True


@dataclass(frozen=True)
class Opened:
    workbook: Workbook
    container: str  # "xlsx" or "xls"
    decrypted: bool


def open_workbook(
    data: bytes, limits: Limits | None = None, sniffed: Sniffed | None = None
) -> Opened:
    """Open workbook bytes or raise :class:`FileProblem` with a sentence for the sender.

    ``sniffed``: what :func:`plugins.sniff.sniff` said of these very bytes, when the caller
    already asked (a mail attachment); otherwise it is asked here. It only routes: a wrong
    answer fails safe, as the checks below read the bytes themselves.
    """
    limits = limits or Limits()
    if not data:
        raise FileProblem(
            "unreadable-file",
            "The file is empty (0 bytes). Please attach the completed template again.",
        )
    if len(data) > limits.max_file_bytes:
        raise FileProblem(
            "unreadable-file",
            f"The file is {len(data) // (1024 * 1024)} MB, far larger than an RMI template "
            f"(limit {limits.max_file_bytes // (1024 * 1024)} MB). Please send the template alone.",
        )
    kind = (sniffed or sniff(data)).kind
    decrypted = False
    if kind == "ole":
        data, decrypted = _decrypt_ole(data)
        if decrypted:
            # New bytes (the package inside the encryption): sniffed by the same function.
            kind = sniff(data).kind
            if kind != "ole" and len(data) > limits.max_file_bytes:
                raise FileProblem(
                    "unreadable-file", "The decrypted workbook is too large to screen."
                )
    if kind == "other":
        raise FileProblem(
            "unreadable-file",
            "The file is not an Excel workbook (it may be a PDF, an image or a damaged "
            "download). Please send the completed RMI template as an .xlsx file.",
        )
    container = "xls" if kind == "ole" else "xlsx"
    # A zip (workbook or not) goes through the size checks, which also word the answer to a
    # damaged zip or a zip that holds no workbook.
    zf = _check_zip(data, limits) if container == "xlsx" else None
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (python_calamine.CalamineError, ValueError, OSError) as exc:
        raise FileProblem(
            "unreadable-file",
            "The workbook is damaged and cannot be opened. Please save it again from Excel "
            "and resend it.",
            str(exc),
        ) from exc
    return Opened(
        Workbook(book, limits, data if zf is not None else None, zf), container, decrypted
    )
