"""Hyperlinks of a worksheet: cell address -> URL, read from the package's bytes.

A comment cell often shows a policy's title and links to its URL; the engine reads only
the title. Links are read from the sheet's ``<hyperlinks>`` block and its ``_rels`` part
(or a ``HYPERLINK("url", "title")`` formula) with bounded regular expressions: no XML
parser, so no entity expansion, and every count and length is capped.
"""

from __future__ import annotations

import re

from .parts import unescape
from .sheet import cell_rc, col_letter

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

    return _CHAR_REF.sub(char, unescape(raw))


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
