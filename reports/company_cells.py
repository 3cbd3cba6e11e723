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
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from plugins.sheet import parse_ref

from .cells import Cell, _grown_dimension, layout, ref_of
from .xmltext import Tag, XmlShapeError, clean, drop_attr, element_end, esc, set_attr, tag_at

MAX_TEXT = 32_767  # Excel's limit for one cell's text


@dataclass(frozen=True)
class Value:
    """What to write into one cell: ``text`` or ``number``; ``cached`` keeps the formula."""

    text: str | None = None
    number: float | None = None
    cached: bool = False


def _int(value: str | None, default: int) -> int:
    if value is not None and value.isdigit() and len(value) <= 9:
        return int(value)
    return default


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
    not exist are created in order."""
    if not values:
        return xml
    lay = layout(xml)
    p = lay.prefix
    cols = _col_styles(xml, lay.top.end, lay.data.start, p)

    def style_of(col: int, row_style: int | None) -> int:
        if row_style is not None:
            return row_style
        return next((s for lo, hi, s in cols if lo <= col <= hi), 0)

    by_row: dict[int, list[int]] = {}
    for row, col in values:
        by_row.setdefault(row, []).append(col)
    wanted = sorted(by_row)

    def fresh_row(r: int) -> bytes:
        cells = b"".join(
            _new_cell(p, (r, c), style_of(c, None), values[(r, c)]) for c in sorted(by_row[r])
        )
        return b'<%srow r="%d">%s</%srow>' % (p, r, cells, p)

    edits: list[tuple[int, int, bytes]] = []
    if lay.data.empty:
        name = lay.data.name
        rows = b"".join(fresh_row(r) for r in wanted)
        edits.append(
            (lay.data.start, lay.data.end, b"<" + name + b">" + rows + b"</" + name + b">")
        )
        return _apply(xml, edits, _grown_dimension(xml, lay, values))
    content_end = lay.data_end - len(lay.data.name) - 3
    i = 0
    current = 0
    for m in re.compile(b"<" + re.escape(p) + rb"row[\s/>]").finditer(
        xml, lay.data.end, content_end
    ):
        if i >= len(wanted):
            break
        tag = tag_at(xml, m.start())
        number = _int(tag.get("r"), current + 1)
        if number <= current:
            raise XmlShapeError(f"row {number} after row {current}")
        current = number
        while i < len(wanted) and wanted[i] < number:
            edits.append((tag.start, tag.start, fresh_row(wanted[i])))
            i += 1
        if i < len(wanted) and wanted[i] == number:
            end = element_end(xml, tag)
            edits.append(
                (
                    tag.start,
                    end,
                    _patch_row(xml, tag, end, number, by_row[number], values, style_of),
                )
            )
            i += 1
    for r in wanted[i:]:
        edits.append((content_end, content_end, fresh_row(r)))
    return _apply(xml, edits, _grown_dimension(xml, lay, values))


def _patch_row(
    xml: bytes,
    tag: Tag,
    end: int,
    number: int,
    cols: list[int],
    values: Mapping[Cell, Value],
    style_of: Callable[[int, int | None], int],
) -> bytes:
    p = tag.prefix
    custom = (tag.get("customFormat") or "").strip() in ("1", "true")
    row_style = _int(tag.get("s"), 0) if custom else None
    wanted = sorted(cols)
    head = xml[tag.start : tag.end]
    body_start, body_end = (tag.end, tag.end) if tag.empty else (tag.end, end - len(tag.name) - 3)
    out: list[bytes] = []
    pos = body_start
    i = 0
    current = -1
    added = False
    cell_pattern = re.compile(b"<" + re.escape(p) + rb"c[\s/>]")
    while i < len(wanted):
        m = cell_pattern.search(xml, pos, body_end)
        if m is None:
            break
        cell_tag = tag_at(xml, m.start())
        cell_end = element_end(xml, cell_tag)
        ref = cell_tag.get("r")
        parsed = parse_ref(ref) if ref else None
        if ref and parsed is None:
            raise XmlShapeError(f"cell reference {ref[:20]!r}")
        col = parsed[1] if parsed else current + 1
        if col <= current:
            raise XmlShapeError(f"cell column {col} after {current} in row {number}")
        current = col
        out.append(xml[pos : cell_tag.start])
        while i < len(wanted) and wanted[i] < col:
            cell = (number, wanted[i])
            out.append(_new_cell(p, cell, style_of(wanted[i], row_style), values[cell]))
            added = True
            i += 1
        if i < len(wanted) and wanted[i] == col:
            if not ref:
                raise XmlShapeError(f"a cell without a reference in row {number}")
            out.append(_rewrite(xml, cell_tag, cell_end, values[(number, col)]))
            i += 1
        else:
            out.append(xml[cell_tag.start : cell_end])
        pos = cell_end
    out.append(xml[pos:body_end])
    while i < len(wanted):
        cell = (number, wanted[i])
        out.append(_new_cell(p, cell, style_of(wanted[i], row_style), values[cell]))
        added = True
        i += 1
    if added:
        head = drop_attr(head, "spans")
    if tag.empty:
        head = head[:-2].rstrip() + b">"
    return head + b"".join(out) + b"</" + tag.name + b">"


def _col_styles(xml: bytes, start: int, stop: int, p: bytes) -> list[tuple[int, int, int]]:
    out = []
    for m in re.compile(b"<" + re.escape(p) + rb"col[\s/>]").finditer(xml, start, stop):
        tag = tag_at(xml, m.start())
        lo, hi, style = tag.get("min"), tag.get("max"), tag.get("style")
        if lo and hi and style and (lo + hi + style).isdigit() and len(lo + hi + style) < 20:
            out.append((int(lo) - 1, int(hi) - 1, int(style)))
    return out


def _apply(
    xml: bytes, edits: list[tuple[int, int, bytes]], extra: tuple[int, int, bytes] | None
) -> bytes:
    if extra is not None:
        edits = [extra, *edits]
    edits.sort(key=lambda e: (e[0], e[1]))
    out = []
    pos = 0
    for start, stop, text in edits:
        if start < pos:
            raise XmlShapeError("overlapping edits")
        out.append(xml[pos:start])
        out.append(text)
        pos = stop
    out.append(xml[pos:])
    return b"".join(out)
