"""Writing values into one worksheet's XML: typed cells, kept formulas with new cached values.

The company declaration is written into a blank RMI template, whose answer cells are empty
styled cells and whose Smelter List rows are look-up formulas. Like :mod:`reports.cells`,
the target cells are visited in one forward pass over ``<sheetData>`` (Excel refuses rows
or cells out of order); a cell that exists keeps its ``s`` (format), one that does not is
created with its row's or column's format. Only rows holding targets are looked into.

A value is written either as a plain cell (a string as an inline string, which is never a
formula whatever it starts with; a number as ``<v>``), or, with ``cached=True``, as the
cached result of the formula the cell already holds (the formula is kept, so the template
still works when recalculated). Replacing the master cell of a shared formula would break
the cells that share it: that is refused (:class:`~reports.xmltext.XmlShapeError`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .cells import Cell, layout, patch_cells, ref_of
from .xmltext import Tag, XmlShapeError, clean, drop_attr, element_end, esc, set_attr, tag_at

MAX_TEXT = 32_767  # Excel's limit for one cell's text


@dataclass(frozen=True)
class Value:
    """What to write into one cell: ``text`` or ``number``; ``cached`` keeps the formula."""

    text: str | None = None
    number: float | None = None
    cached: bool = False


def _number(n: float) -> bytes:
    return (str(int(n)) if float(n).is_integer() else repr(float(n))).encode()


def _plain_body(value: Value) -> tuple[str | None, bytes]:
    """(``t`` attribute, cell content) of a plain value."""
    if value.number is not None:
        return None, b"<v>" + _number(value.number) + b"</v>"
    text = esc(clean(value.text or "", MAX_TEXT))
    return "inlineStr", b'<is><t xml:space="preserve">' + text.encode() + b"</t></is>"


def _with_type(start: bytes, t: str | None) -> bytes:
    start = drop_attr(start, "t")
    return set_attr(start, "t", t) if t else start


def _formula(xml: bytes, prefix: bytes, body_start: int, body_end: int) -> Tag | None:
    m = re.compile(b"<" + re.escape(prefix) + rb"f[\s/>]").search(xml, body_start, body_end)
    return tag_at(xml, m.start()) if m else None


def _rewrite(xml: bytes, tag: Tag, end: int, value: Value) -> bytes:
    """The existing cell ``tag`` (ending at ``end``) holding ``value``."""
    p = tag.prefix
    start = xml[tag.start : tag.end]
    if start.endswith(b"/>"):
        start = start[:-2].rstrip() + b">"
    body_start, body_end = (tag.end, tag.end) if tag.empty else (tag.end, end - len(tag.name) - 3)
    f = _formula(xml, p, body_start, body_end)
    close = b"</" + tag.name + b">"
    if value.cached and f is not None:
        f_xml = xml[f.start : element_end(xml, f)]
        if value.number is not None:
            return (
                _with_type(start, None)
                + f_xml
                + b"<%sv>%s</%sv>" % (p, _number(value.number), p)
                + close
            )
        text = esc(clean(value.text or "", MAX_TEXT)).encode()
        return _with_type(start, "str") + f_xml + b"<%sv>%s</%sv>" % (p, text, p) + close
    if f is not None and f.get("ref") and (f.get("t") or "") == "shared":
        raise XmlShapeError(f"cell {tag.get('r')} holds a shared formula others depend on")
    t, body = _plain_body(value)
    start = drop_attr(drop_attr(start, "cm"), "vm")
    if p:
        body = body.replace(b"<", b"<" + p).replace(b"<" + p + b"/", b"</" + p)
    return _with_type(start, t) + body + close


def _new_cell(prefix: bytes, cell: Cell, style: int, value: Value) -> bytes:
    t, body = _plain_body(value)
    if prefix:
        body = body.replace(b"<", b"<" + prefix).replace(b"<" + prefix + b"/", b"</" + prefix)
    s = b' s="%d"' % style if style else b""
    tt = f' t="{t}"'.encode() if t else b""
    return b'<%sc r="%s"%s%s>%s</%sc>' % (prefix, ref_of(cell).encode(), s, tt, body, prefix)


def write_cells(xml: bytes, values: Mapping[Cell, Value]) -> bytes:
    """``xml`` (a worksheet) with each target cell holding its value; rows and cells that do
    not exist are created in order (:func:`reports.cells.patch_cells`)."""
    if not values:
        return xml
    p = layout(xml).prefix

    def new_cell(cell: Cell, style: int) -> bytes:
        return _new_cell(p, cell, style, values[cell])

    def rewrite(doc: bytes, tag: Tag, end: int, cell: Cell) -> bytes:
        return _rewrite(doc, tag, end, values[cell])

    return patch_cells(xml, values, new_cell, rewrite)
