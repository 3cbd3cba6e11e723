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
import re
import zipfile
from dataclasses import dataclass
from typing import Any

import python_calamine

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
DEFAULT_PASSWORD = "VelvetSweatshop"  # Excel's built-in "no password" encryption key


@dataclass(frozen=True)
class Limits:
    """Bounds on what we inflate; every number is configurable under ``[limits]``."""

    max_file_bytes: int = 30 * 1024 * 1024
    max_entry_bytes: int = 32 * 1024 * 1024  # real templates: 5 MB at most
    max_total_bytes: int = 128 * 1024 * 1024  # real templates: 10 MB
    max_ratio: int = 100  # real templates: 10 at most; uncompressed/compressed beyond which a big entry is a bomb
    max_rows: int = 20000  # rows read from one sheet; templates have at most 2,504


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


class Workbook:
    """Sheets of an opened workbook, read on first use."""

    def __init__(self, book: python_calamine.CalamineWorkbook, limits: Limits) -> None:
        self._book = book
        self._limits = limits
        self._cache: dict[str, Sheet] = {}
        self.sheet_names: list[str] = list(book.sheet_names)

    def has(self, name: str) -> bool:
        return name in self.sheet_names

    def sheet(self, name: str, nrows: int | None = None) -> Sheet:
        key = f"{name}\0{nrows}"
        if key in self._cache:
            return self._cache[key]
        if name not in self.sheet_names:
            raise KeyError(name)
        try:
            cal = self._book.get_sheet_by_name(name)
            limit = nrows if nrows is not None else self._limits.max_rows
            # skip_empty_area=False anchors the grid at A1, so addresses map directly
            rows = cal.to_python(skip_empty_area=False, nrows=limit)
        except python_calamine.CalamineError as exc:  # corrupt XML inside a valid zip
            raise FileProblem(
                "unreadable-file",
                f"The sheet {name!r} of this workbook is damaged and cannot be read.",
                str(exc),
            ) from exc
        sheet = Sheet(name, rows)
        self._cache[key] = sheet
        return sheet


def _check_zip(data: bytes, limits: Limits) -> None:
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
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
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


def open_workbook(data: bytes, limits: Limits | None = None) -> Opened:
    """Open workbook bytes or raise :class:`FileProblem` with a sentence for the sender."""
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
    container = "xlsx"
    decrypted = False
    if data.startswith(OLE_MAGIC):
        data, decrypted = _decrypt_ole(data)
        if data.startswith(OLE_MAGIC):
            container = "xls"
        elif len(data) > limits.max_file_bytes:
            raise FileProblem("unreadable-file", "The decrypted workbook is too large to screen.")
    if container == "xlsx":
        if not data.startswith(ZIP_MAGIC):
            raise FileProblem(
                "unreadable-file",
                "The file is not an Excel workbook (it may be a PDF, an image or a damaged "
                "download). Please send the completed RMI template as an .xlsx file.",
            )
        _check_zip(data, limits)
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (python_calamine.CalamineError, ValueError, OSError) as exc:
        raise FileProblem(
            "unreadable-file",
            "The workbook is damaged and cannot be opened. Please save it again from Excel "
            "and resend it.",
            str(exc),
        ) from exc
    return Opened(Workbook(book, limits), container, decrypted)
