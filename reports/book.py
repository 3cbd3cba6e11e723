"""``xl/workbook.xml``: the sheet list, and what refers to sheets by position.

Putting a sheet first moves every other sheet one place right, and two things in the
workbook part count sheets by position rather than by name or id: ``localSheetId`` of a
defined name (print areas, filter ranges, sheet-scoped names) and ``activeTab`` /
``firstSheet`` of the workbook views. Both are renumbered; ``sheetId``, which other parts
use (custom views, the calculation chain), never changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .package import REL_NS
from .xmltext import XmlShapeError, esc_attr, ns_prefix, root, set_attr, tag_at

TRANSITIONAL_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


@dataclass(frozen=True)
class SheetEntry:
    """One ``<sheet>`` of the workbook, in tab order."""

    name: str
    sheet_id: int
    rid: str
    start: int
    end: int


def check_workbook(xml: bytes) -> None:
    top = root(xml)
    if top.local != b"workbook" or top.empty:
        raise XmlShapeError("xl/workbook.xml is not a workbook")
    if ns_prefix(top, TRANSITIONAL_NS) is None:
        raise XmlShapeError("not a transitional Office Open XML workbook (Strict is not supported)")


def _sheets_span(xml: bytes) -> tuple[int, int, bytes]:
    """(offset after <sheets>, offset of </sheets>, element prefix)."""
    top = root(xml)
    m = re.compile(b"<" + re.escape(top.prefix) + rb"sheets[\s/>]").search(xml, top.end)
    if m is None:
        raise XmlShapeError("a workbook without sheets")
    tag = tag_at(xml, m.start())
    if tag.empty:
        raise XmlShapeError("a workbook without sheets")
    close = xml.find(b"</" + tag.name + b">", tag.end)
    if close < 0:
        raise XmlShapeError("unclosed sheets")
    return tag.end, close, top.prefix


def sheet_entries(xml: bytes) -> list[SheetEntry]:
    start, close, p = _sheets_span(xml)
    out = []
    for m in re.compile(b"<" + re.escape(p) + rb"sheet[\s/>]").finditer(xml, start, close):
        tag = tag_at(xml, m.start())
        sheet_id = tag.get("sheetId") or ""
        out.append(
            SheetEntry(
                name=tag.get("name") or "",
                sheet_id=int(sheet_id) if sheet_id.isdigit() and len(sheet_id) < 10 else 0,
                rid=tag.get("*:id") or "",
                start=tag.start,
                end=tag.end,
            )
        )
    return out


def sheet_tag(xml: bytes, name: str, sheet_id: int, rid: str) -> bytes:
    """A ``<sheet>`` element written with the workbook's own prefixes."""
    top = root(xml)
    p = top.prefix.decode()
    rp = ns_prefix(top, REL_NS)
    if rp:
        rel = f'{rp.decode()}:id="{esc_attr(rid)}"'
    else:
        rel = f'xmlns:r="{REL_NS}" r:id="{esc_attr(rid)}"'
    return f'<{p}sheet name="{esc_attr(name)}" sheetId="{sheet_id}" {rel}/>'.encode()


def put_first(xml: bytes, entries: list[SheetEntry], first: bytes, replaced: int | None) -> bytes:
    """The workbook with ``first`` as its first sheet (in place of entry ``replaced``, if
    given), sheet positions renumbered, and the first sheet the active, only selected tab."""

    def moved(index: int) -> int:
        if replaced is None or index < replaced:
            return index + 1
        return 0 if index == replaced else index

    start, close, p = _sheets_span(xml)
    kept = [xml[e.start : e.end] for i, e in enumerate(entries) if i != replaced]
    # Whatever sits between the <sheet> tags (whitespace, comments) is dropped with them.
    head, tail = xml[:start], xml[close:]
    head = _renumber(head, p, moved)
    tail = _renumber(tail, p, moved)
    return head + first + b"".join(kept) + tail


def _renumber(xml: bytes, p: bytes, move: Callable[[int], int]) -> bytes:
    out, pos = [], 0
    pattern = re.compile(b"<" + re.escape(p) + rb"(definedName|workbookView)[\s/>]")
    for m in pattern.finditer(xml):
        tag = tag_at(xml, m.start())
        text = xml[tag.start : tag.end]
        if m.group(1) == b"definedName":
            local = tag.get("localSheetId") or ""
            if local.isdigit() and len(local) < 7:
                text = set_attr(text, "localSheetId", str(move(int(local))))
        else:
            text = set_attr(text, "activeTab", "0")
            if tag.get("firstSheet") is not None:
                text = set_attr(text, "firstSheet", "0")
        out += [xml[pos : tag.start], text]
        pos = tag.end
    out.append(xml[pos:])
    return b"".join(out)
