"""Opening a workbook a stranger sent us, safely; its sheets read on first use.

Design: every file goes through :func:`open_workbook`, which looks at the bytes before any
spreadsheet library does. The kind of file is :func:`plugins.sniff.sniff`'s answer; size
limits and zip-bomb ratios are checked on the zip directory (no inflation needed,
:mod:`plugins.bounds`), OLE containers are told apart (legacy ``.xls`` versus an encrypted
``.xlsx``), and Excel's default "VelvetSweatshop" encryption is removed with msoffcrypto.
Only then is python-calamine (Rust, ~10x faster than openpyxl on a CMRT) asked to read
the two or three sheets a reader needs, each after its XML passed the bounds check.
Problems become :class:`~plugins.limits.FileProblem`, the supplier's-fault exception family
that the pipeline turns into a finding and a reply.

The reading is split by job: :mod:`plugins.limits` (limits, the error), :mod:`plugins.sheet`
(cell addresses, one sheet's values), :mod:`plugins.bounds` (checks on the bytes),
:mod:`plugins.parts` (where sheets are in the package), :mod:`plugins.hyperlinks`. The
names readers and callers use are importable from here.
"""

from __future__ import annotations

import io
import logging
import zipfile
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import python_calamine

from .bounds import Truncation, check_zip, replace_part, scan_sheet_xml
from .hyperlinks import parse_hyperlinks, safe_url
from .limits import TOO_COMPLEX, TOO_COMPLEX_MESSAGE, TOO_MANY_ROWS, FileProblem, Limits
from .parts import rels_part, sheet_parts, sheet_tag_names
from .sheet import Sheet
from .slim import Slim, checked_slim, slim_package
from .sniff import OLE_MAGIC, ZIP_MAGIC, Sniffed, sniff

if TYPE_CHECKING:
    from .lookup_cache import LookupCache, LookupTable

__all__ = [
    "OLE_MAGIC",
    "TOO_COMPLEX",
    "TOO_COMPLEX_MESSAGE",
    "TOO_MANY_ROWS",
    "ZIP_MAGIC",
    "FileProblem",
    "Limits",
    "Opened",
    "Sheet",
    "Truncation",
    "Workbook",
    "open_workbook",
    "parse_hyperlinks",
    "safe_url",
]

log = logging.getLogger(__name__)
DEFAULT_PASSWORD = "VelvetSweatshop"  # Excel's built-in "no password" encryption key


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
        slim: Slim | None = None,
    ) -> None:
        self._book = book  # the engine's workbook: of ``slim`` when there is one
        self._slim = slim
        self._whole: python_calamine.CalamineWorkbook | None = None
        self._limits = limits
        self._data = data  # the .xlsx bytes (None for .xls: no XML to check)
        self._zip = zf  # their zip directory, as the size checks read it
        self._parts: dict[str, str] | None = None
        self._rows: dict[str, list[list[Any]]] = {}
        self._links: dict[str, dict[str, str]] = {}
        self.sheet_names: list[str] = list(book.sheet_names)
        self.truncations: list[Truncation] = []
        # Parsed Smelter Look-ups of other files (plugins.lookup_cache), and the one parsed
        # here on a miss, for the caller to keep.
        self.lookup_cache: LookupCache | None = None
        self.learned_lookup: tuple[str, LookupTable] | None = None
        self.lookup_hit: str | None = None  # the key of a hit, "" a miss, None: not asked

    @property
    def limits(self) -> Limits:
        return self._limits

    def part_xml(self, name: str) -> bytes | None:
        """The raw XML of a sheet's part (``None``: an ``.xls``, no such part, or a package
        where the engine and :mod:`plugins.parts` might not mean the same part by ``name``).

        The look-up cache keys a table by these bytes while the engine parses the sheet it
        finds by name: the two must be the same part, or a hostile package (a second
        ``<sheet name="Smelter Look-up">`` before the real one, a name spelled with a
        character reference) could store its own rows under the template's key. So the name
        must be unique and the sheet list read here must equal the engine's, in order."""
        if self._zip is None or self.sheet_names.count(name) != 1:
            return None
        if sheet_tag_names(self._zip) != self.sheet_names:
            return None
        names = self._zip.namelist()
        if len(set(names)) != len(names):  # two parts of one name: which one would be read?
            return None
        if self._parts is None:
            self._parts = sheet_parts(self._zip)
        part = self._parts.get(name)
        if not part:
            return None
        try:
            return self._zip.read(part)
        except (KeyError, OSError, zipfile.BadZipFile, EOFError, ValueError, zlib.error):
            return None  # the engine's own read of the sheet says what is wrong

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
        book = self._book
        if self._slim is not None:
            if name in self._slim.scanned:
                truncation = self._slim.scanned[name]
                if truncation is not None:
                    self.truncations.append(truncation)
                return self._book
            if name in self._slim.left_out:
                book = self._whole_book()
        if self._parts is None:
            self._parts = sheet_parts(self._zip)
        part = self._parts.get(name)
        candidates = (
            [part]
            if part
            else [n for n in self._zip.namelist() if n.startswith("xl/") and n.endswith(".xml")]
        )
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
                    io.BytesIO(replace_part(self._data, part, kept))
                )
        return book

    def _whole_book(self) -> python_calamine.CalamineWorkbook:
        """The engine's workbook of the whole package (for a sheet :class:`Slim` left out)."""
        if self._whole is None:
            assert self._data is not None
            self._whole = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(self._data))
        return self._whole

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
    data: bytes,
    limits: Limits | None = None,
    sniffed: Sniffed | None = None,
    prepared: Slim | None = None,
) -> Opened:
    """Open workbook bytes or raise :class:`FileProblem` with a sentence for the sender.

    ``sniffed``: what :func:`plugins.sniff.sniff` said of these very bytes, when the caller
    already asked (a mail attachment, whose kind travels with it); otherwise it is asked
    here. It only routes: the limits below are checked on the bytes themselves.
    ``prepared``: the slim package of these bytes, made ahead (:mod:`plugins.slim`); used
    once :func:`~plugins.slim.checked_slim` accepts it, else one is made here.
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
    # Any zip goes through check_zip: the size and ratio limits, read from the directory it
    # returns. It re-applies sniff's workbook-part test to that directory (a validation of the
    # one decision, which also words the answer to a damaged zip or a zip without a workbook;
    # reports.package calls it with no sniff at all), so a caller's wrong label fails safe.
    zf = check_zip(data, limits) if container == "xlsx" else None
    slim = None
    if zf is not None:
        if prepared is not None and not decrypted:
            slim = checked_slim(prepared, zf, limits)
        if slim is None:
            slim = slim_package(data, zf, limits)
    book = None
    if slim is not None:
        try:
            book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(slim.data))
        except (python_calamine.CalamineError, ValueError, OSError):
            book = None  # the whole package's own opening says what is wrong
        if book is not None and list(book.sheet_names) != slim.sheet_names:
            book = None
        if book is None:
            slim = None
    if book is None:
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
        Workbook(book, limits, data if zf is not None else None, zf, slim), container, decrypted
    )
