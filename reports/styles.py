"""Cell formats added to ``xl/styles.xml``: severity fills and the findings sheet's look.

A flagged cell keeps everything of its format but the fill: its ``<xf>`` in ``<cellXfs>``
is cloned with a severity fill (one clone per original format and severity), and the cell
points at the clone. Existing fonts, fills and formats keep their indexes, since cells,
conditional formats and other parts refer to them by position; new ones are appended and
the ``count`` attributes set to what the sections really hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .xmltext import Element, XmlShapeError, children, element_end, root, set_attr, tag_at

#: Excel refuses a workbook with more cell formats than this.
MAX_CELL_XFS = 64_000

SEVERITY_RGB = {"error": "FFFFC7CE", "risk": "FFF8CBAD", "warning": "FFFFEB9C"}
_HEADER_RGB = "FFD9D9D9"
_ORDER = (
    b"numFmts",
    b"fonts",
    b"fills",
    b"borders",
    b"cellStyleXfs",
    b"cellXfs",
    b"cellStyles",
    b"dxfs",
    b"tableStyles",
    b"colors",
    b"extLst",
)
# What a section must hold before our entries, when a styles part lacks it altogether:
# fills 0 and 1 are reserved by Excel (none, gray125).
_CHILD = {
    b"fonts": b"font",
    b"fills": b"fill",
    b"borders": b"border",
    b"cellStyleXfs": b"xf",
    b"cellXfs": b"xf",
}
_DEFAULTS = {
    b"fonts": [b'<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'],
    b"fills": [
        b'<fill><patternFill patternType="none"/></fill>',
        b'<fill><patternFill patternType="gray125"/></fill>',
    ],
    b"borders": [b"<border><left/><right/><top/><bottom/><diagonal/></border>"],
    b"cellXfs": [b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'],
}
#: The styles part of a workbook that had none (every cell then shows format 0).
MINIMAL_STYLES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<fonts count="1">' + _DEFAULTS[b"fonts"][0] + b"</fonts>"
    b'<fills count="2">' + b"".join(_DEFAULTS[b"fills"]) + b"</fills>"
    b'<borders count="1">' + _DEFAULTS[b"borders"][0] + b"</borders>"
    b'<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    b'<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    b'<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    b"</styleSheet>"
)


@dataclass(frozen=True)
class SheetStyles:
    """Format indexes of the findings sheet."""

    title: int
    note: int
    header: int
    body: int
    link: int
    severity: dict[str, int]


class StyleBook:
    """The workbook's styles part, with formats appended on demand."""

    def __init__(self, xml: bytes) -> None:
        top = root(xml)
        if top.local != b"styleSheet":
            raise XmlShapeError("the styles part is not a styleSheet")
        if top.empty:  # <styleSheet/>: give it room for sections
            xml = xml[: top.end - 2].rstrip() + b"></" + top.name + b">" + xml[top.end :]
            top = root(xml)
        self._xml = xml
        self._top = top
        close = xml.rfind(b"</" + top.name + b">")
        if close < top.end:
            raise XmlShapeError("unclosed styleSheet")
        self._close = close
        self._p = top.prefix.decode()
        # Sections by name: each appears once, directly in styleSheet, and never inside
        # another section under the same prefixed name.
        self._sections: dict[bytes, Element] = {}
        for name in _ORDER:
            m = re.compile(b"<" + re.escape(top.prefix) + name + rb"[\s/>]").search(
                xml, top.end, close
            )
            if m is not None:
                tag = tag_at(xml, m.start())
                self._sections[name] = Element(tag, element_end(xml, tag))
        self._counts = {name: len(self._items(name)) for name in (b"fonts", b"fills", b"borders")}
        self._xfs = self._items(b"cellXfs")
        self._has_style_xf = bool(self._items(b"cellStyleXfs"))
        self._new: dict[bytes, list[bytes]] = {b"fonts": [], b"fills": [], b"cellXfs": []}
        self._fills: dict[str, int] = {}
        self._clones: dict[tuple[int, str], int] = {}
        self._sheet: SheetStyles | None = None

    def _items(self, name: bytes) -> list[int]:
        """Offsets of a section's entries (``-1`` for the defaults of a missing section)."""
        el = self._sections.get(name)
        if el is None:
            return [-1] * len(_DEFAULTS.get(name, []))
        if el.tag.empty:
            return []
        child = _CHILD[name]
        pattern = re.compile(b"<" + re.escape(el.tag.prefix) + child + rb"[\s/>]")
        return [m.start() for m in pattern.finditer(self._xml, el.tag.end, el.end)]

    def _xf(self, index: int) -> bytes:
        """The bytes of format ``index`` (format 0 or a plain one when there is no such)."""
        if not 0 <= index < len(self._xfs):
            index = 0  # a cell pointing past the formats: Excel shows it as format 0
        if index >= len(self._xfs) or self._xfs[index] < 0:
            return _DEFAULTS[b"cellXfs"][0]
        tag = tag_at(self._xml, self._xfs[index])
        return self._xml[tag.start : element_end(self._xml, tag)]

    def _append(self, section: bytes, item: str) -> int:
        self._new[section].append(item.encode())
        base = len(self._xfs) if section == b"cellXfs" else self._counts[section]
        index = base + len(self._new[section]) - 1
        if section == b"cellXfs" and index >= MAX_CELL_XFS:
            raise XmlShapeError("the workbook holds too many cell formats to add more")
        return index

    def _fill(self, rgb: str) -> int:
        if rgb not in self._fills:
            # fills 0 and 1 are reserved (Excel ignores what they say): never ours
            while self._counts[b"fills"] + len(self._new[b"fills"]) < 2:
                count = self._counts[b"fills"] + len(self._new[b"fills"])
                self._new[b"fills"].append(_DEFAULTS[b"fills"][count])
            self._fills[rgb] = self._append(
                b"fills",
                f'<{self._p}fill><{self._p}patternFill patternType="solid">'
                f'<{self._p}fgColor rgb="{rgb}"/><{self._p}bgColor indexed="64"/>'
                f"</{self._p}patternFill></{self._p}fill>",
            )
        return self._fills[rgb]

    def flagged(self, base: int, severity: str) -> int:
        """Index of a format like ``base`` but filled in the severity's colour."""
        key = (base, severity)
        if key not in self._clones:
            fill = self._fill(SEVERITY_RGB[severity])
            source = self._xf(base)
            start = tag_at(source, 0)
            head, rest = source[: start.end], source[start.end :]
            head = set_attr(head, "fillId", str(fill))
            head = set_attr(head, "applyFill", "1")
            self._clones[key] = self._append(b"cellXfs", (head + rest).decode("utf-8", "replace"))
        return self._clones[key]

    def sheet_styles(self) -> SheetStyles:
        """Formats of the findings sheet (created once)."""
        if self._sheet is None:
            p = self._p

            def font(extra: str, size: int = 11, rgb: str = "FF000000") -> int:
                return self._append(
                    b"fonts",
                    f'<{p}font>{extra}<{p}sz val="{size}"/><{p}color rgb="{rgb}"/>'
                    f'<{p}name val="Calibri"/><{p}family val="2"/></{p}font>',
                )

            def xf(font_id: int, fill: int = 0, wrap: bool = True, quote: bool = False) -> int:
                style = ' xfId="0"' if self._has_style_xf else ""
                prefix = ' quotePrefix="1"' if quote else ""
                wrapping = ' wrapText="1"' if wrap else ""
                align = f'<{p}alignment vertical="top"{wrapping}/>'
                return self._append(
                    b"cellXfs",
                    f'<{p}xf numFmtId="0" fontId="{font_id}" fillId="{fill}" borderId="0"{style}'
                    f'{prefix} applyFont="1" applyFill="1" applyAlignment="1">{align}</{p}xf>',
                )

            plain, bold = font(""), font(f"<{p}b/>")
            title, link = font(f"<{p}b/>", 14), font(f"<{p}u/>", rgb="FF0563C1")
            self._sheet = SheetStyles(
                title=xf(title, wrap=False),
                note=xf(plain, wrap=False),
                header=xf(bold, self._fill(_HEADER_RGB)),
                body=xf(plain, quote=True),
                link=xf(link, quote=True),
                severity={s: xf(bold, self._fill(rgb)) for s, rgb in SEVERITY_RGB.items()},
            )
        return self._sheet

    def to_bytes(self) -> bytes:
        """The styles part with the new entries; the original bytes when nothing was added."""
        if not any(self._new.values()):
            return self._xml
        xml = self._xml
        edits: list[tuple[int, int, bytes]] = []
        missing: list[bytes] = []
        for name in (b"fonts", b"fills", b"borders", b"cellXfs"):
            new = self._new.get(name, [])
            el = self._sections.get(name)
            if el is None:
                missing.append(name)
                continue
            if not new:
                continue
            count = (len(self._xfs) if name == b"cellXfs" else self._counts[name]) + len(new)
            tag = xml[el.tag.start : el.tag.end]
            if el.tag.empty:
                head = set_attr(tag, "count", str(count))[:-2].rstrip() + b">"
                edits.append((el.start, el.end, head + b"".join(new) + b"</" + el.tag.name + b">"))
            else:
                close = el.end - len(b"</" + el.tag.name + b">")
                edits.append((el.start, el.tag.end, set_attr(tag, "count", str(count))))
                edits.append((close, close, b"".join(new)))
        for name in missing:
            items = _DEFAULTS[name] + self._new.get(name, [])
            section = (
                f'<{self._p}{name.decode()} count="{len(items)}">'.encode()
                + b"".join(items)
                + f"</{self._p}{name.decode()}>".encode()
            )
            edits.append((self._insert_at(name), self._insert_at(name), section))
        edits.sort(key=lambda e: (e[0], e[1]))
        out = []
        pos = 0
        for start, end, text in edits:
            out.append(xml[pos:start])
            out.append(text)
            pos = end
        out.append(xml[pos:])
        return b"".join(out)

    def _insert_at(self, name: bytes) -> int:
        """Offset before the first section that the schema puts after ``name`` (a walk of
        the whole part, done only when a section is missing)."""
        later = _ORDER[_ORDER.index(name) + 1 :]
        for el in children(self._xml, self._top.end, self._close):
            if el.tag.local in later:
                return el.start
        return self._close
