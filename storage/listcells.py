"""Cells of reference lists read loosely: smelter ids repaired, headers compared, rows quoted.

A CID pasted from a web page or a PDF carries invisible characters, full-width digits, a
separator or missing zeros; :func:`repair_cid` repairs what can be told for certain and
names each repair. Headers and status words are compared without case, punctuation or odd
spaces (:func:`header_key`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from plugins.normalize import clean_text

from .listtable import Value


def row_text(row: Sequence[Value], limit: int = 100) -> str:
    """A row's cells joined for a message (cut to ``limit`` characters)."""
    text = " ".join(clean_text(c) for c in row if clean_text(c))
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: Invisible or odd characters found in ids pasted from web pages and PDFs.
ODD_CHARS = re.compile(
    r"[\u00a0\u00ad\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\u3164\ufeff\uffa0\t\r\n\v\f]"
)
_CID_LIKE = re.compile(r"(CID)([-_#:.]?)([0-9]{1,6})", re.I)


def repair_cid(value: Value) -> tuple[str | None, tuple[str, ...]]:
    """``(cid, what was repaired)``, or ``(None, ())`` when the cell is not a CID.

    Repaired: invisible and odd space characters, inner spaces, full-width characters,
    lower case, a separator after ``CID``, fewer than six digits. Not guessed: a missing
    letter (``ID002082``, ``C002082``) or more than six digits.
    """
    raw = value if isinstance(value, str) else clean_text(value)
    text = raw.strip(" ")
    what: list[str] = []
    odd = list(dict.fromkeys(ODD_CHARS.findall(text)))
    for char in odd:
        text = text.replace(char, " " if char in "\t\r\n\v\f\u3000" else "")
        name = "tab" if char == "\t" else f"invisible character U+{ord(char):04X}"
        what.append(f"{name} removed")
    text = text.strip(" ")
    folded = unicodedata.normalize("NFKC", text)
    if folded != text:
        what.append("full-width characters converted")
        text = folded.strip(" ")
    if " " in text:
        text = text.replace(" ", "")
        what.append("spaces removed")
    m = _CID_LIKE.fullmatch(text)
    if not m:
        return None, ()
    if m[1] != "CID":
        what.append("upper-cased")
    if m[2]:
        what.append(f"separator {m[2]!r} removed")
    if len(m[3]) < 6:
        what.append("zeros padded")
    return "CID" + m[3].zfill(6), tuple(what)


def header_key(value: Value) -> str:
    """A header (or a status word) compared loosely: case, punctuation and odd spaces ignored.

    ``"Re-audit Due"`` -> ``"reaudit due"``; ``"Smelter/Refiner Name"`` ->
    ``"smelter refiner name"``; ``"Metal (*)"`` -> ``"metal"``.
    """
    text = clean_text(value).casefold()
    text = re.sub(r"[\u00a0\u3000\uffa0\u200b\ufeff\s]+", " ", text)
    text = re.sub(r"['’.\-\u2010-\u2015]", "", text)
    text = re.sub(r"[^\w ]+|_", " ", text)
    return " ".join(text.split())
