"""What kind of file we were sent, decided once, from its bytes (its name only as a hint).

Suppliers send templates as ``application/octet-stream``, without an extension, zipped,
encrypted with Excel's default password, or as a PDF named ``cmrt.xlsx``. :func:`sniff` is
the one place that tells these apart; the mail parser uses it to pick the attachments worth
screening (and the archives worth opening), and the workbook opener
(:func:`plugins.workbook.open_workbook`) routes on the same answer, which travels with a
mail attachment so it is not decided again.

Only the first bytes and, for a zip, its directory (names, no inflation) are read. That is
enough for a decision, not for safety: the opener still bounds what it inflates and reads.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Literal

#: An OLE compound file: a legacy ``.xls``, or an ``.xlsx`` encrypted (Excel wraps the
#: encrypted package in OLE, even with its default "no password" key).
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: A zip local file header: an ``.xlsx``/``.xlsm``/``.xlsb`` package, or any other archive.
ZIP_MAGIC = b"PK\x03\x04"
#: The part a zip must hold to be a workbook (``.xlsb`` has the binary one).
WORKBOOK_PARTS = ("xl/workbook.xml", "xl/workbook.bin")
#: Names a workbook goes by; a file so named is screened whatever it holds, so that its
#: sender hears why it cannot be read.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb")

Kind = Literal["xlsx", "ole", "zip", "broken-zip", "other"]


@dataclass(frozen=True)
class Sniffed:
    """What :func:`sniff` found.

    ``kind``: ``xlsx`` (a zip holding a workbook part), ``ole`` (a legacy ``.xls`` or an
    encrypted workbook; only decryption tells), ``zip`` (an archive that is not a workbook:
    perhaps templates zipped together), ``broken-zip`` (zip magic, unreadable directory),
    ``other`` (anything else: PDF, image, text).
    """

    kind: Kind
    named_like_workbook: bool = False  # the file name ends in a workbook extension
    detail: str = ""  # why a ``broken-zip`` could not be read (for logs, never the sender)

    @property
    def is_workbook(self) -> bool:
        """A container a spreadsheet engine may open (after decryption, for ``ole``)."""
        return self.kind in ("xlsx", "ole")

    @property
    def worth_screening(self) -> bool:
        """A workbook, or a file that claims to be one (damaged zip, workbook name): the
        screening then says what is wrong with it."""
        return self.is_workbook or self.kind == "broken-zip" or self.named_like_workbook


def named_like_workbook(filename: str) -> bool:
    return filename.lower().endswith(WORKBOOK_SUFFIXES)


def sniff(data: bytes, filename: str = "") -> Sniffed:
    """The kind of ``data``; ``filename`` (optional) only sets ``named_like_workbook``."""
    named = named_like_workbook(filename)
    if data.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            return Sniffed("broken-zip", named, str(exc))
        if any(part in names for part in WORKBOOK_PARTS):
            return Sniffed("xlsx", named)
        return Sniffed("zip", named)
    if data.startswith(OLE_MAGIC):
        return Sniffed("ole", named)
    return Sniffed("other", named)
