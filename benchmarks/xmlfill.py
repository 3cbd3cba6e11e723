"""Filling a blank RMI template at the XML level: what a supplier's Excel would save.

openpyxl takes ~15 s to load and save a CMRT on a busy two-core machine and drops every
cached value; twenty benchmark files would take minutes to build. The blank as RMI ships it
was saved by Excel, with a cached value beside every formula. So a filled file is made here
by writing the typed cells into the blank's sheet XML (inline strings, numbers, dates as
serial numbers; the cell's style kept) and re-evaluating the Smelter List's formulas of the
filled rows (benchmarks/cached.py); everything else stays byte for byte as Excel wrote it.

``cached=False`` then strips every formula cell's value, as openpyxl's save does (the
formula text stays; shared formulas stay shared, a small difference from openpyxl, which
writes each out): the "no cached values" case.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import zipfile
from pathlib import Path
from typing import Any

from cached import _CELL_RE, _Lookup, _rewrite, _sheet_parts, shared_masters

_ADDR = re.compile(r"([A-Z]+)(\d+)")
_STYLE = re.compile(rb'\ss="\d+"')


def _col(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _cell(addr: str, style: bytes, value: Any) -> bytes:
    a = addr.encode()
    if isinstance(value, dt.datetime | dt.date):
        when = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        serial = (when - dt.datetime(1899, 12, 30)).total_seconds() / 86400
        return b'<c r="' + a + b'"' + style + b"><v>" + f"{serial:g}".encode() + b"</v></c>"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return b'<c r="' + a + b'"' + style + b"><v>" + repr(value).encode() + b"</v></c>"
    text = html.escape(str(value), quote=False).encode()
    space = b' xml:space="preserve"' if text != text.strip() else b""
    return (
        b'<c r="'
        + a
        + b'"'
        + style
        + b' t="inlineStr"><is><t'
        + space
        + b">"
        + text
        + b"</t></is></c>"
    )


def set_cells(xml: bytes, values: dict[str, Any]) -> bytes:
    """``xml`` (a worksheet part) with ``values`` ({address: value}) written in."""
    by_row: dict[int, dict[str, Any]] = {}
    for addr, value in values.items():
        m = _ADDR.fullmatch(addr)
        if m is None:
            raise ValueError(addr)
        by_row.setdefault(int(m.group(2)), {})[m.group(1)] = value
    out, pos = [], 0
    for rm in re.finditer(rb'<row r="(\d+)"[^>]*?(?:/>|>(.*?)</row>)', xml, re.S):
        r = int(rm.group(1))
        if r not in by_row:
            continue
        wanted = by_row.pop(r)
        start = rm.start(2) if rm.group(2) is not None else None
        cells = list(_CELL_RE.finditer(rm.group(2) or b""))
        pieces: list[tuple[int, bytes]] = []
        for c in cells:
            col = c.group(1).decode()
            if col in wanted:
                style = (_STYLE.search(c.group(3)) or re.match(b"", b"")).group(0)  # type: ignore[union-attr]
                pieces.append((_col(c.group(1)), _cell(col + str(r), style, wanted.pop(col))))
            else:
                pieces.append((_col(c.group(1)), c.group(0)))
        for col, value in wanted.items():
            pieces.append((_col(col.encode()), _cell(col + str(r), b"", value)))
        body = b"".join(p for _, p in sorted(pieces, key=lambda x: x[0]))
        head = (
            xml[rm.start() : start] if start is not None else xml[rm.start() : rm.end() - 2] + b">"
        )
        out += [xml[pos : rm.start()], head, body, b"</row>"]
        pos = rm.end()
    if by_row:
        raise ValueError(f"rows not in the sheet: {sorted(by_row)[:5]}")
    out.append(xml[pos:])
    return b"".join(out)


def strip_cached(xml: bytes) -> bytes:
    """Every formula cell's cached value removed, as openpyxl saves them."""

    def strip(m: re.Match[bytes]) -> bytes:
        inner = m.group(4) or b""
        if b"<f" not in inner:
            return m.group(0)
        attrs = re.sub(rb'\st="[^"]*"', b"", m.group(3))
        f = re.search(rb"<f\b[^>]*?(?:/>|>.*?</f>)", inner, re.S)
        return b'<c r="' + m.group(1) + m.group(2) + b'"' + attrs + b">" + f.group(0) + b"<v /></c>"  # type: ignore[union-attr]

    return _CELL_RE.sub(strip, xml)


def _row_of(addr: str) -> int:
    m = _ADDR.fullmatch(addr)
    assert m is not None
    return int(m.group(2))


def _evaluate_rows(xml: bytes, rows: set[int], lookup: _Lookup) -> bytes:
    """The filled ``rows``' formula values evaluated (benchmarks/cached.py); the other rows
    keep the values Excel stored in the blank, byte for byte."""
    shared = shared_masters(xml)
    out, pos = [], 0
    for rm in re.finditer(rb'<row r="(\d+)"[^>]*?(?:/>|>.*?</row>)', xml, re.S):
        if int(rm.group(1)) in rows:
            out += [xml[pos : rm.start()], _rewrite(rm.group(0), {}, lookup, shared, keep=True)]
            pos = rm.end()
    out.append(xml[pos:])
    return b"".join(out)


def fill_xml(blank: Path, dest: Path, cells: dict[str, dict[str, Any]], cached: bool) -> Path:
    """A copy of ``blank`` with ``cells`` ({sheet: {address: value}}) written in; cached
    values as Excel would store them, or none (``cached=False``)."""
    lookup = _Lookup(blank)
    with zipfile.ZipFile(blank) as zb:
        parts = {part: name for name, part in _sheet_parts(zb).items()}
        tmp = dest.with_suffix(".part")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zo:
            for info in zb.infolist():
                data = zb.read(info)
                name = parts.get(info.filename)
                if name is not None:
                    if name in cells:
                        data = set_cells(data, cells[name])
                    if name == "Smelter List" and cached:
                        data = _evaluate_rows(data, set(map(_row_of, cells[name])), lookup)
                    if not cached:
                        data = strip_cached(data)
                zo.writestr(info, data)
    tmp.rename(dest)
    return dest
