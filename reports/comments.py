"""Cell comments: the ``commentsN.xml`` part and the legacy VML drawing Excel needs to show it.

A sheet that already has comments (the RMI templates ship some) keeps them: ours are added
to its comments part and its VML, under an author "Assay". A cell that already carries a
comment gets our text appended to it (a cell has one comment). Comments of the author
"Assay" are ours from an earlier round (a supplier sending back a file we marked up): they
are replaced, or removed with their note shapes when the cell is no longer flagged.

VML shape ids are numbered in blocks of 1,024 declared by ``<o:idmap data>``; new shapes
take fresh blocks above every block the package uses. Namespace prefixes are whatever the
VML part declares (openpyxl writes ``ns0``/``ns1``...): missing ones are declared on its root.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from plugins.sheet import parse_ref

from .cells import Cell, ref_of
from .xmltext import (
    START_TAG,
    Element,
    XmlShapeError,
    attrs_of,
    children,
    element_end,
    esc,
    ns_prefix,
    root,
    set_attr,
    tag_at,
    unescape,
)

AUTHOR = "Assay"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
VML_NS = "urn:schemas-microsoft-com:vml"
OFFICE_NS = "urn:schemas-microsoft-com:office:office"
EXCEL_NS = "urn:schemas-microsoft-com:office:excel"
SHAPES_PER_BLOCK = 1024

_RPR = '<{p}rPr>{b}<{p}sz val="9"/><{p}color indexed="81"/><{p}rFont val="Tahoma"/><{p}family val="2"/></{p}rPr>'


@dataclass(frozen=True)
class Note:
    """Our comment on one cell (plain text, already cleaned)."""

    cell: Cell
    text: str


@dataclass(frozen=True)
class Merged:
    xml: bytes
    new_shapes: tuple[Note, ...]  # notes whose cell had no comment: each needs a VML shape
    dropped: frozenset[Cell]  # cells whose earlier Assay comment was removed


def _runs(p: str, text: str, lead: str = "") -> str:
    bold = _RPR.format(p=p, b=f"<{p}b/>")
    plain = _RPR.format(p=p, b="")
    return (
        f'<{p}r>{bold}<{p}t xml:space="preserve">{esc(lead + AUTHOR)}:</{p}t></{p}r>'
        f'<{p}r>{plain}<{p}t xml:space="preserve">{esc(chr(10) + text)}</{p}t></{p}r>'
    )


def _comment(p: str, note: Note, author: int) -> bytes:
    return (
        f'<{p}comment ref="{ref_of(note.cell)}" authorId="{author}"><{p}text>'
        f"{_runs(p, note.text)}</{p}text></{p}comment>"
    ).encode()


def merge_comments(xml: bytes | None, notes: Sequence[Note]) -> Merged:
    """The comments part (``xml``, or a new one) with ``notes`` in it."""
    if xml is None:
        body = b"".join(_comment("", n, 0) for n in notes)
        part = (
            (
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<comments xmlns="{MAIN_NS}">'
                f"<authors><author>{AUTHOR}</author></authors><commentList>"
            ).encode()
            + body
            + b"</commentList></comments>"
        )
        return Merged(part, tuple(notes), frozenset())
    top = root(xml)
    if top.local != b"comments" or top.empty:
        raise XmlShapeError("not a comments part")
    p = top.prefix.decode()
    close = xml.rfind(b"</" + top.name + b">")
    if close < top.end:
        raise XmlShapeError("unclosed comments part")
    kids = {el.tag.local: el for el in children(xml, top.end, close)}
    edits: list[tuple[int, int, bytes]] = []

    # authors: ours, found or added
    authors = kids.get(b"authors")
    names = []
    if authors is not None and not authors.tag.empty:
        for el in children(xml, authors.tag.end, authors.end):
            names.append(unescape(xml[el.tag.end : el.end - len(el.tag.name) - 3]))
    if AUTHOR in names:
        author = names.index(AUTHOR)
    else:
        author = len(names)
        new_author = f"<{p}author>{AUTHOR}</{p}author>".encode()
        if authors is None:
            edits.append(
                (
                    top.end,
                    top.end,
                    f"<{p}authors>".encode() + new_author + f"</{p}authors>".encode(),
                )
            )
        elif authors.tag.empty:
            edits.append(
                (
                    authors.start,
                    authors.end,
                    f"<{p}authors>".encode() + new_author + f"</{p}authors>".encode(),
                )
            )
        else:
            at = authors.end - len(authors.tag.name) - 3
            edits.append((at, at, new_author))

    by_cell = {n.cell: n for n in notes}
    done: set[Cell] = set()
    dropped: set[Cell] = set()
    clist = kids.get(b"commentList")
    if clist is not None and not clist.tag.empty:
        for el in children(xml, clist.tag.end, clist.end):
            if el.tag.local != b"comment":
                continue
            cell = parse_ref(el.tag.get("ref") or "")
            ours = el.tag.get("authorId") == str(author) and AUTHOR in names
            if cell in by_cell and cell not in done:
                done.add(cell)
                note = by_cell[cell]
                if ours:
                    edits.append((el.start, el.end, _comment(p, note, author)))
                else:
                    edits.append(_append_text(xml, el, p, note))
            elif ours and cell is not None:
                edits.append((el.start, el.end, b""))
                dropped.add(cell)
    fresh = tuple(n for n in notes if n.cell not in done)
    added = b"".join(_comment(p, n, author) for n in fresh)
    if clist is None:
        at = authors.end if authors is not None else top.end
        edits.append((at, at, f"<{p}commentList>".encode() + added + f"</{p}commentList>".encode()))
    elif clist.tag.empty:
        edits.append(
            (
                clist.start,
                clist.end,
                f"<{p}commentList>".encode() + added + f"</{p}commentList>".encode(),
            )
        )
    else:
        at = clist.end - len(clist.tag.name) - 3
        edits.append((at, at, added))
    return Merged(_splice(xml, edits), fresh, frozenset(dropped))


def _append_text(xml: bytes, comment: Element, p: str, note: Note) -> tuple[int, int, bytes]:
    """An edit adding our runs to someone else's comment, before any phonetic runs."""
    text = next(
        (el for el in children(xml, comment.tag.end, comment.end) if el.tag.local == b"text"), None
    )
    runs = _runs(p, note.text, lead="\n\n").encode()
    if text is None:
        at = comment.end - len(comment.tag.name) - 3
        return at, at, f"<{p}text>".encode() + runs + f"</{p}text>".encode()
    if text.tag.empty:
        return text.start, text.end, f"<{p}text>".encode() + runs + f"</{p}text>".encode()
    at = text.end - len(text.tag.name) - 3
    for el in children(xml, text.tag.end, text.end):
        if el.tag.local in (b"rPh", b"phoneticPr"):
            at = el.start
            break
    return at, at, runs


def _splice(xml: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    edits.sort(key=lambda e: (e[0], e[1]))
    out, pos = [], 0
    for start, end, text in edits:
        if start < pos:
            raise XmlShapeError("overlapping edits")
        out += [xml[pos:start], text]
        pos = end
    out.append(xml[pos:])
    return b"".join(out)


# -- VML --------------------------------------------------------------------------------

_IDMAP = re.compile(rb"<(?:[\w.-]+:)?idmap[\s/>]")
_SHAPE_ID = re.compile(rb"_x0000_s([0-9]{1,9})\b")


def blocks_needed(shapes: int) -> int:
    """Shape-id blocks that ``shapes`` new shapes take (1,023 ids of each block are used)."""
    return shapes // (SHAPES_PER_BLOCK - 1) + 1


def used_blocks(vml: bytes) -> int:
    """The highest shape-id block a VML part declares or uses."""
    top = 0
    for m in _IDMAP.finditer(vml):
        tag = START_TAG.match(vml, m.start())
        data = attrs_of(tag.group(2)).get(b"data", b"") if tag else b""
        for item in re.findall(rb"[0-9]{1,9}", data):
            top = max(top, int(item))
    for m in _SHAPE_ID.finditer(vml):
        top = max(top, int(m.group(1)) // SHAPES_PER_BLOCK)
    return top


def merge_vml(
    xml: bytes | None, add: Sequence[Note], drop: frozenset[Cell], first_block: int
) -> bytes:
    """The VML part (``xml``, or a new one) with a note shape per ``add`` and the note shapes
    of ``drop`` removed. New shape ids come from blocks ``first_block``, ``first_block + 1``..."""
    blocks = [first_block + i for i in range(blocks_needed(len(add)))]
    if xml is None:
        xml = (
            f'<xml xmlns:v="{VML_NS}" xmlns:o="{OFFICE_NS}" xmlns:x="{EXCEL_NS}">'
            f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{",".join(map(str, blocks))}"/>'
            "</o:shapelayout></xml>"
        ).encode()
        blocks_declared = True
    else:
        blocks_declared = False
    top = root(xml)
    close = xml.rfind(b"</" + top.name + b">")
    if top.empty or close < top.end:
        raise XmlShapeError("not a VML drawing")
    head = xml[top.start : top.end]
    prefixes: dict[str, str] = {}
    for uri, want in ((VML_NS, "v"), (OFFICE_NS, "o"), (EXCEL_NS, "x")):
        found = ns_prefix(top, uri)
        if found:
            prefixes[want] = found.decode()
        else:  # declare it on the root under a prefix the part does not use
            name = want
            declared = {k.decode() for k in attrs_of(top.attrs)}
            while f"xmlns:{name}" in declared:
                name += "x"
            head = set_attr(head, f"xmlns:{name}", uri)
            prefixes[want] = name
    v, o, x = prefixes["v"], prefixes["o"], prefixes["x"]
    edits: list[tuple[int, int, bytes]] = [(top.start, top.end, head)]
    if not blocks_declared and add:
        m = _IDMAP.search(xml, top.end, close)
        if m is not None:
            tag = tag_at(xml, m.start())
            data = tag.get("data") or ""
            merged = ",".join([d for d in data.split(",") if d.strip()] + [str(b) for b in blocks])
            edits.append((tag.start, tag.end, set_attr(xml[tag.start : tag.end], "data", merged)))
    existing: set[Cell] = set()
    shape_pattern = re.compile(b"<" + re.escape(v.encode()) + rb":shape[\s/>]")
    for m in shape_pattern.finditer(xml, top.end, close):
        tag = tag_at(xml, m.start())
        end = element_end(xml, tag)
        body = xml[tag.end : end]
        if b'ObjectType="Note"' not in body:
            continue
        row = re.search(rb":Row>\s*([0-9]{1,7})\s*<", body)
        col = re.search(rb":Column>\s*([0-9]{1,5})\s*<", body)
        if row and col:
            cell = (int(row.group(1)) + 1, int(col.group(1)))
            if cell in drop:
                edits.append((tag.start, end, b""))
            else:
                existing.add(cell)
    shapes = []
    if add and b"_x0000_t202" not in xml:
        shapes.append(
            f'<{v}:shapetype id="_x0000_t202" coordsize="21600,21600" {o}:spt="202" '
            f'path="m,l,21600r21600,l21600,xe"><{v}:stroke joinstyle="miter"/>'
            f'<{v}:path gradientshapeok="t" {o}:connecttype="rect"/></{v}:shapetype>'
        )
    n = 0
    for note in add:
        if note.cell in existing:
            continue
        block = blocks[n // (SHAPES_PER_BLOCK - 1)]
        shape_id = block * SHAPES_PER_BLOCK + n % (SHAPES_PER_BLOCK - 1) + 1
        n += 1
        shapes.append(_shape(v, o, x, shape_id, n, note))
    edits.append((close, close, "".join(shapes).encode()))
    return _splice(xml, edits)


def _shape(v: str, o: str, x: str, shape_id: int, z: int, note: Note) -> str:
    row, col = note.cell[0] - 1, note.cell[1]
    lines = min(sum(len(line) // 48 + 1 for line in note.text.split("\n")) + 1, 30)
    top = max(row - 1, 0)
    bottom = min(top + max(lines * 3 // 4, 4), 1_048_575)
    right = min(col + 5, 16_383)
    return (
        f'<{v}:shape id="_x0000_s{shape_id}" type="#_x0000_t202" '
        f'style="position:absolute;margin-left:80pt;margin-top:2pt;width:260pt;'
        f'height:{lines * 12 + 10}pt;z-index:{z};visibility:hidden" fillcolor="#ffffe1" '
        f'{o}:insetmode="auto"><{v}:fill color2="#ffffe1"/>'
        f'<{v}:shadow on="t" color="black" obscured="t"/><{v}:path {o}:connecttype="none"/>'
        f'<{v}:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div>'
        f'</{v}:textbox><{x}:ClientData ObjectType="Note"><{x}:MoveWithCells/>'
        f"<{x}:SizeWithCells/><{x}:Anchor>{min(col + 1, 16_383)}, 15, {top}, 10, {right}, 15, "
        f"{bottom}, 4</{x}:Anchor><{x}:AutoFill>False</{x}:AutoFill>"
        f"<{x}:Row>{row}</{x}:Row><{x}:Column>{col}</{x}:Column></{x}:ClientData></{v}:shape>"
    )
