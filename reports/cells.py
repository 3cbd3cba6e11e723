"""Patching one worksheet's XML: cell formats, the legacy drawing reference, the tab selection.

Excel refuses a sheet whose rows or cells are out of order, so flagged cells are visited in
one forward pass over ``<sheetData>``: rows are found by their ``r`` (or, where a writer left
it out, by counting), a flagged cell that exists gets a new ``s``, and one that does not is
created in its row in column order (the row itself created in row order if need be), with
the format it showed before (the row's format if the row has one, else its column's). Only
the rows holding flagged cells are looked into; the scan stops after the last of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from plugins.sheet import col_letter, parse_ref

from .package import REL_NS
from .xmltext import (
    Tag,
    XmlShapeError,
    children,
    drop_attr,
    element_end,
    ns_prefix,
    root,
    set_attr,
    tag_at,
)

Cell = tuple[int, int]  # (1-based row, 0-based column)
#: Elements the schema puts after ``legacyDrawing`` in a worksheet.
_AFTER_LEGACY = {
    b"legacyDrawingHF",
    b"drawingHF",
    b"picture",
    b"oleObjects",
    b"controls",
    b"webPublishItems",
    b"tableParts",
    b"extLst",
}
_MAX_MERGES = 20_000  # beyond this, flagged cells are not moved to their merged range's corner


def ref_of(cell: Cell) -> str:
    return f"{col_letter(cell[1])}{cell[0]}"


@dataclass(frozen=True)
class Layout:
    """Where a worksheet's parts are: its root, its ``<sheetData>``, and what follows."""

    top: Tag
    data: Tag  # the <sheetData> start tag
    data_end: int  # offset just past </sheetData> (or the empty tag)
    close: int  # offset of </worksheet>

    @property
    def prefix(self) -> bytes:
        return self.top.prefix


def layout(xml: bytes) -> Layout:
    top = root(xml)
    if top.local != b"worksheet":
        raise XmlShapeError(f"not a worksheet: <{top.local.decode('ascii', 'replace')}>")
    close = xml.rfind(b"</" + top.name + b">")
    if top.empty or close < 0:
        raise XmlShapeError("unclosed worksheet")
    m = re.compile(b"<" + re.escape(top.prefix) + rb"sheetData[\s/>]").search(xml, top.end, close)
    if m is None:
        raise XmlShapeError("a worksheet without sheetData")
    data = tag_at(xml, m.start())
    if data.empty:
        return Layout(top, data, data.end, close)
    end = xml.find(b"</" + data.name + b">", data.end, close)
    if end < 0:
        raise XmlShapeError("unclosed sheetData")
    return Layout(top, data, end + len(data.name) + 3, close)


def merged_ranges(xml: bytes, lay: Layout) -> list[tuple[int, int, int, int]]:
    """``(first row, first col, last row, last col)`` of each merged range."""
    out = []
    pattern = re.compile(b"<" + re.escape(lay.prefix) + rb"mergeCell[\s/>]")
    for m in pattern.finditer(xml, lay.data_end, lay.close):
        ref = tag_at(xml, m.start()).get("ref") or ""
        first, _, last = ref.partition(":")
        a, b = parse_ref(first), parse_ref(last or first)
        if a and b:
            out.append((min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1])))
        if len(out) > _MAX_MERGES:
            return []
    return out


def anchor(cell: Cell, merges: list[tuple[int, int, int, int]]) -> Cell:
    """The cell Excel shows for ``cell``: the top-left one of its merged range, if any."""
    for r1, c1, r2, c2 in merges:
        if r1 <= cell[0] <= r2 and c1 <= cell[1] <= c2:
            return r1, c1
    return cell


def _col_styles(xml: bytes, lay: Layout) -> list[tuple[int, int, int]]:
    out = []
    pattern = re.compile(b"<" + re.escape(lay.prefix) + rb"col[\s/>]")
    for m in pattern.finditer(xml, lay.top.end, lay.data.start):
        tag = tag_at(xml, m.start())
        lo, hi, style = tag.get("min"), tag.get("max"), tag.get("style")
        if lo and hi and style and (lo + hi + style).isdigit() and len(lo + hi + style) < 20:
            out.append((int(lo) - 1, int(hi) - 1, int(style)))
    return out


def _int(value: str | None, default: int) -> int:
    if value is not None and value.isdigit() and len(value) <= 9:
        return int(value)
    return default


#: Makes a cell that does not exist yet: (cell, the format it shows now) -> ``<c>`` element.
NewCell = Callable[[Cell, int], bytes]
#: Rewrites a cell that exists: (sheet XML, its start tag, the offset past it, cell) -> XML.
Rewrite = Callable[[bytes, Tag, int, Cell], bytes]


def patch_cells(xml: bytes, cells: Iterable[Cell], new_cell: NewCell, rewrite: Rewrite) -> bytes:
    """``xml`` (a worksheet) with each of ``cells`` rewritten where it exists and created
    where it does not, rows created as needed, all in one forward pass in row and column
    order. A new cell gets the format it showed before: its row's (a row with
    ``customFormat``), else its column's, else the default."""
    wanted_cells = list(cells)
    if not wanted_cells:
        return xml
    lay = layout(xml)
    p = lay.prefix
    cols = _col_styles(xml, lay)

    def shown(col: int, row_style: int | None) -> int:
        if row_style is not None:
            return row_style
        return next((s for lo, hi, s in cols if lo <= col <= hi), 0)

    by_row: dict[int, list[int]] = {}
    for row, col in wanted_cells:
        by_row.setdefault(row, []).append(col)
    wanted = sorted(by_row)

    def fresh_row(r: int) -> bytes:
        made = b"".join(new_cell((r, c), shown(c, None)) for c in sorted(by_row[r]))
        return b'<%srow r="%d">%s</%srow>' % (p, r, made, p)

    edits: list[tuple[int, int, bytes]] = []
    if lay.data.empty:
        name = lay.data.name
        rows = b"".join(fresh_row(r) for r in wanted)
        edits.append(
            (lay.data.start, lay.data.end, b"<" + name + b">" + rows + b"</" + name + b">")
        )
        return _apply(xml, edits, _grown_dimension(xml, lay, wanted_cells))
    content_end = lay.data_end - len(lay.data.name) - 3
    i = 0
    current = 0
    row_pattern = re.compile(b"<" + re.escape(p) + rb"row[\s/>]")
    for m in row_pattern.finditer(xml, lay.data.end, content_end):
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
            row_xml = _patch_row(xml, tag, end, number, by_row[number], new_cell, rewrite, shown)
            edits.append((tag.start, end, row_xml))
            i += 1
    for r in wanted[i:]:
        edits.append((content_end, content_end, fresh_row(r)))
    return _apply(xml, edits, _grown_dimension(xml, lay, wanted_cells))


def restyle_cells(
    xml: bytes, targets: dict[Cell, str], restyle: Callable[[int, str], int]
) -> bytes:
    """``xml`` with each target cell's format replaced by ``restyle(old format, severity)``,
    creating cells and rows that do not exist."""
    p = layout(xml).prefix if targets else b""

    def new_cell(cell: Cell, style: int) -> bytes:
        return b'<%sc r="%s" s="%d"/>' % (p, ref_of(cell).encode(), restyle(style, targets[cell]))

    def rewrite(doc: bytes, tag: Tag, end: int, cell: Cell) -> bytes:
        old = _int(tag.get("s"), 0)
        start = set_attr(doc[tag.start : tag.end], "s", str(restyle(old, targets[cell])))
        return start + doc[tag.end : end]

    return patch_cells(xml, targets, new_cell, rewrite)


def _patch_row(
    xml: bytes,
    tag: Tag,
    end: int,
    number: int,
    cols: list[int],
    new_cell: NewCell,
    rewrite: Rewrite,
    shown: Callable[[int, int | None], int],
) -> bytes:
    p = tag.prefix
    custom = (tag.get("customFormat") or "").strip() in ("1", "true")
    row_style = _int(tag.get("s"), 0) if custom else None
    wanted = sorted(cols)
    out: list[bytes] = []
    head = xml[tag.start : tag.end]
    if tag.empty:
        body_start = body_end = tag.end
    else:
        body_start, body_end = tag.end, end - len(tag.name) - 3
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
            out.append(new_cell((number, wanted[i]), shown(wanted[i], row_style)))
            added = True
            i += 1
        if i < len(wanted) and wanted[i] == col:
            out.append(rewrite(xml, cell_tag, cell_end, (number, col)))
            i += 1
        else:
            out.append(xml[cell_tag.start : cell_end])
        pos = cell_end
    out.append(xml[pos:body_end])
    while i < len(wanted):
        out.append(new_cell((number, wanted[i]), shown(wanted[i], row_style)))
        added = True
        i += 1
    if added:
        head = drop_attr(head, "spans")  # a hint only; a stale one could mislead a reader
    if tag.empty:
        if not added:
            return head
        head = head[:-2].rstrip() + b">"
    return head + b"".join(out) + b"</" + tag.name + b">"


def _grown_dimension(
    xml: bytes, lay: Layout, cells: Iterable[Cell]
) -> tuple[int, int, bytes] | None:
    """An edit of ``<dimension ref>`` so it covers ``cells`` too (None if it already does)."""
    m = re.compile(b"<" + re.escape(lay.prefix) + rb"dimension[\s/>]").search(
        xml, lay.top.end, lay.data.start
    )
    if m is None:
        return None
    tag = tag_at(xml, m.start())
    ref = tag.get("ref") or ""
    first, _, last = ref.partition(":")
    a, b = parse_ref(first), parse_ref(last or first)
    if a is None or b is None:
        return None
    box = (a[0], a[1], b[0], b[1])
    r1, c1, r2, c2 = box
    for row, col in cells:
        r1, c1, r2, c2 = min(r1, row), min(c1, col), max(r2, row), max(c2, col)
    if (r1, c1, r2, c2) == box:
        return None
    new = f"{ref_of((r1, c1))}:{ref_of((r2, c2))}"
    return tag.start, tag.end, set_attr(xml[tag.start : tag.end], "ref", new)


def _apply(
    xml: bytes, edits: list[tuple[int, int, bytes]], extra: tuple[int, int, bytes] | None
) -> bytes:
    if extra is not None:
        edits = [extra, *edits]
    edits.sort(key=lambda e: (e[0], e[1]))
    out = []
    pos = 0
    for start, end, text in edits:
        if start < pos:
            raise XmlShapeError("overlapping edits")
        out.append(xml[pos:start])
        out.append(text)
        pos = end
    out.append(xml[pos:])
    return b"".join(out)


# -- legacy drawing (the comments' VML) ---------------------------------------------------


def legacy_drawing_rid(xml: bytes) -> str | None:
    lay = layout(xml)
    pattern = re.compile(b"<" + re.escape(lay.prefix) + rb"legacyDrawing[\s/>]")
    m = pattern.search(xml, lay.data_end, lay.close)
    return tag_at(xml, m.start()).get("*:id") if m else None


def add_legacy_drawing(xml: bytes, rid: str) -> bytes:
    """``xml`` with ``<legacyDrawing r:id=rid/>`` where the schema wants it: before the first
    of legacyDrawingHF, drawingHF, picture, oleObjects, controls, webPublishItems,
    tableParts and extLst (also when wrapped in ``mc:AlternateContent``)."""
    lay = layout(xml)
    at = lay.close
    for el in children(xml, lay.data_end, lay.close):
        name = el.tag.local
        if name == b"AlternateContent":
            choice = next(children(xml, el.tag.end, el.end), None)
            inner = next(children(xml, choice.tag.end, choice.end), None) if choice else None
            name = inner.tag.local if inner else name
        if name in _AFTER_LEGACY:
            at = el.start
            break
    rp = ns_prefix(lay.top, REL_NS)
    p = lay.prefix.decode()
    if rp:
        element = f'<{p}legacyDrawing {rp.decode()}:id="{rid}"/>'
    else:
        element = f'<{p}legacyDrawing xmlns:r="{REL_NS}" r:id="{rid}"/>'
    return xml[:at] + element.encode() + xml[at:]


# -- tab selection -----------------------------------------------------------------------


def deselect(xml: bytes) -> bytes | None:
    """``xml`` with ``tabSelected`` removed from its sheet views; None when none had it."""
    top = root(xml)
    m = re.compile(b"<" + re.escape(top.prefix) + rb"sheetData[\s/>]").search(xml, top.end)
    stop = m.start() if m else len(xml)
    pattern = re.compile(b"<" + re.escape(top.prefix) + rb"sheetView[\s/>]")
    edits = []
    for v in pattern.finditer(xml, top.end, stop):
        tag = tag_at(xml, v.start())
        if (tag.get("tabSelected") or "").strip() in ("1", "true"):
            edits.append((tag.start, tag.end, drop_attr(xml[tag.start : tag.end], "tabSelected")))
    return _apply(xml, edits, None) if edits else None
