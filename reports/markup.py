"""The supplier's own workbook, marked up with our findings.

The reply to a supplier carries their file back with a first sheet "Assay findings" (one
row per finding, each linking to its cell) and every flagged cell filled in its severity's
colour with a comment saying what is wrong. Everything else stays as the supplier sent it:
the package is patched at the byte level (:mod:`reports.package`), never loaded into a
spreadsheet library and saved again, which would drop the RMI templates' conditional
formats, drawings and data validations. Parts we do not change are written back with the
same bytes; the parts we change are ``xl/workbook.xml`` and its relationships,
``[Content_Types].xml``, ``xl/styles.xml``, the flagged sheets (and any other sheet whose
tab was selected) with their relationships, comments and VML drawings.

The file is hostile: it is opened within the workbook limits of :mod:`plugins.limits`,
read with bounded forward scans, and whatever we cannot patch raises :class:`MarkupError`
(the caller then replies without the attachment). Text from findings quotes the supplier's
cells: it is cleaned, capped and escaped, and written as inline strings, which are never
formulas. :func:`mark_up` is a pure top-level function of bytes and findings, so it can run
in the sandbox's child process.

A file that went through Assay before has its "Assay findings" sheet replaced (kept in
first place) and our earlier comments replaced or removed; the fills of cells flagged the
first time stay, as nothing tells them apart from the supplier's own formats.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence

from plugins.limits import Limits
from plugins.models import SEVERITY_RANK, Finding
from plugins.parts import rels_part
from plugins.sheet import parse_ref
from program.digest import plain

from .book import check_workbook, put_first, sheet_entries, sheet_tag
from .cells import (
    Cell,
    add_legacy_drawing,
    deselect,
    layout,
    legacy_drawing_rid,
    merged_ranges,
    ref_of,
    restyle_cells,
)
from .comments import Note, blocks_needed, merge_comments, merge_vml, used_blocks
from .findings_sheet import LABELS, Line, findings_sheet
from .marks import Mark, anchored, collect_marks, split_ref, where
from .package import (
    CONTENT_TYPES,
    CT_COMMENTS,
    CT_STYLES,
    CT_VML,
    CT_WORKSHEET,
    REL_COMMENTS,
    REL_STYLES,
    REL_VML,
    REL_WORKSHEET,
    Package,
    PackageError,
    Rel,
    add_overrides,
    add_rel,
    content_type_entries,
    new_rel_id,
    parse_rels,
    relative,
    resolve,
)
from .styles import MINIMAL_STYLES, StyleBook
from .xmltext import XmlShapeError, clean

log = logging.getLogger(__name__)

MARKUP_SHEET = "Assay findings"
MAX_LISTED = 2_000  # rows of the findings sheet; the rest is counted in a last line
MAX_MESSAGE = 2_000  # characters of a finding in the findings sheet
_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_EMPTY_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>'
)


class MarkupError(Exception):
    """The file cannot be marked up (not an xlsx/xlsm package, damaged, too big...)."""


def mark_up(
    data: bytes, findings: Sequence[Finding], *, title: str = "", limits: Limits | None = None
) -> bytes:
    """The workbook ``data`` with an "Assay findings" first sheet and its flagged cells
    coloured and commented; ``info`` findings are left out. Raises :class:`MarkupError`."""
    try:
        pkg = Package(data, limits or Limits())
        return _mark_up(pkg, list(findings), title)
    except PackageError as exc:
        raise MarkupError(str(exc)) from exc
    except XmlShapeError as exc:
        raise MarkupError(f"a part of the workbook is malformed: {exc}") from exc


_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*\u202a-\u202e\u2066-\u2069]+')
_SUFFIX = f" ({MARKUP_SHEET})"


def marked_up_name(filename: str) -> str:
    """``"acme-cmrt.xlsx"`` -> ``"acme-cmrt (Assay findings).xlsx"``: a bare file name (no
    folder, no characters file systems or mail clients refuse), at most 120 characters,
    keeping ``.xlsm`` (and the template extensions) and ``.xlsx`` otherwise."""
    base = re.split(r"[/\\]", filename or "")[-1]
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    ext = ext.lower() if ext.lower() in ("xlsx", "xlsm", "xltx", "xltm") else "xlsx"
    stem = " ".join(_UNSAFE_NAME.sub(" ", stem).split()).strip(" .")
    if stem.endswith(_SUFFIX):
        stem = stem[: -len(_SUFFIX)].rstrip(" .")
    stem = stem or "workbook"
    room = 120 - len(_SUFFIX) - len(ext) - 1
    return f"{stem[:room].rstrip(' .') or 'workbook'}{_SUFFIX}.{ext}"


def _location(sheet: str, cell: Cell | None) -> str:
    return "'{}'!{}".format(clean(sheet, 255).replace("'", "''"), ref_of(cell or (1, 0)))


class _Marker:
    """One marking-up of one package: reads what it needs, then :meth:`run` writes."""

    def __init__(self, pkg: Package, findings: list[Finding], title: str) -> None:
        self.pkg = pkg
        self.title = title
        wb = pkg.get(_WORKBOOK)
        check_workbook(wb)
        self.wb = wb
        self.wb_rels = pkg.get(_WORKBOOK_RELS) if pkg.has(_WORKBOOK_RELS) else None
        self.rels = parse_rels(self.wb_rels)
        self.entries = sheet_entries(wb)
        self.parts: dict[str, str] = {}  # sheet name -> part, for worksheets present
        for e in self.entries:
            rel = next((r for r in self.rels if r.id == e.rid and not r.external), None)
            part = resolve(_WORKBOOK, rel.target) if rel and rel.type == REL_WORKSHEET else None
            name = pkg.name_of(part) if part else None
            if name:
                self.parts[e.name] = name
        self.by_fold = {e.name.casefold(): e.name for e in self.entries}
        if not pkg.has(CONTENT_TYPES):
            raise PackageError("no [Content_Types].xml")
        self.ct = pkg.get(CONTENT_TYPES)
        self.overrides: list[tuple[str, str]] = []
        taken, self.defaults = content_type_entries(self.ct)
        self.taken = taken
        listed = [f for f in findings if f.severity in LABELS]
        listed.sort(key=lambda f: SEVERITY_RANK[f.severity])  # stable: the caller's order within
        self.listed = listed
        self.counts = {s: sum(f.severity == s for f in listed) for s in LABELS}
        self.next_block = 1  # first free VML shape-id block, set by run()

    def sheet_name(self, name: str) -> str | None:
        """The workbook's spelling of sheet ``name`` (Excel compares them case-insensitively)."""
        return self.by_fold.get(str(name).casefold())

    # -- styles ---------------------------------------------------------------------------
    def styles(self) -> tuple[StyleBook, str]:
        rel = next((r for r in self.rels if r.type == REL_STYLES and not r.external), None)
        part = resolve(_WORKBOOK, rel.target) if rel else None
        name = self.pkg.name_of(part) if part else None
        if name:
            return StyleBook(self.pkg.get(name)), name
        if part is None:
            free = not self.pkg.has("xl/styles.xml") and "xl/styles.xml" not in self.taken
            part = "xl/styles.xml" if free else self.pkg.free_name("xl/styles{}.xml", self.taken)
        if rel is None:
            self.add_workbook_rel(REL_STYLES, part)
        self.overrides.append((part, CT_STYLES))
        return StyleBook(MINIMAL_STYLES), part

    def add_workbook_rel(self, rel_type: str, part: str) -> str:
        rid = new_rel_id(self.rels)
        rel = Rel(rid, rel_type, relative(_WORKBOOK, part), False)
        self.wb_rels = add_rel(self.wb_rels, rel)
        self.rels.append(rel)
        return rid

    # -- flagged cells ------------------------------------------------------------------
    def markable(self, markup_sheet: str | None) -> Callable[[str], str | None]:
        """The workbook's spelling of a worksheet whose cells may be marked (not ours)."""

        def check(sheet: str) -> str | None:
            name = self.sheet_name(sheet)
            return name if name in self.parts and name != markup_sheet else None

        return check

    def flag_sheet(self, name: str, marks: dict[Cell, Mark], styles: StyleBook) -> None:
        """Fill and comment the flagged cells of one sheet. A sheet we cannot patch (a
        chartsheet, rows out of order...) is left as it is; the other sheets still get theirs.
        Nothing of the sheet is stored until all of it is patched."""
        part = self.parts[name]
        xml = self.pkg.get(part)
        try:
            cells = anchored(marks, merged_ranges(xml, layout(xml)))
            xml = restyle_cells(xml, {c: m.severity for c, m in cells.items()}, styles.flagged)
            notes = [Note(c, m.note(MARKUP_SHEET)) for c, m in sorted(cells.items())]
            xml = self.comment(part, xml, notes)
        except XmlShapeError as exc:
            log.info("sheet %r not marked: %s", name[:40], exc)
            return
        self.pkg.put(part, xml)

    def comment(self, part: str, xml: bytes, notes: list[Note]) -> bytes:
        """Comments for ``notes`` in the sheet's comments part and VML; the sheet XML back,
        with a ``legacyDrawing`` if it had none."""
        rels_name = rels_part(part)
        rels_xml = self.pkg.get(rels_name) if self.pkg.has(rels_name) else None
        rels = parse_rels(rels_xml)
        crel = next((r for r in rels if r.type == REL_COMMENTS and not r.external), None)
        comments_part = resolve(part, crel.target) if crel else None
        vml_part = None
        rid = legacy_drawing_rid(xml)
        if rid is not None:
            vrel = next((r for r in rels if r.id == rid and not r.external), None)
            vml_part = resolve(part, vrel.target) if vrel else None
            if vml_part is None or not self.pkg.has(vml_part):
                log.info("sheet %s: its legacy drawing is missing; no comments added", part)
                return xml
        existing = (
            self.pkg.get(comments_part) if comments_part and self.pkg.has(comments_part) else None
        )
        merged = merge_comments(existing, notes)
        vml_xml = merge_vml(
            self.pkg.get(vml_part) if vml_part else None,
            merged.new_shapes,
            merged.dropped,
            self.next_block,
        )
        self.next_block += blocks_needed(len(merged.new_shapes))
        if comments_part is None:
            comments_part = self.pkg.free_name("xl/comments{}.xml", self.taken)
            rel = Rel(new_rel_id(rels), REL_COMMENTS, relative(part, comments_part), False)
            rels_xml = add_rel(rels_xml, rel)
            rels.append(rel)
        if not self.pkg.has(comments_part):
            self.overrides.append((comments_part, CT_COMMENTS))
        if vml_part is None:
            vml_part = self.pkg.free_name("xl/drawings/vmlDrawing{}.vml", self.taken)
            rel = Rel(new_rel_id(rels), REL_VML, relative(part, vml_part), False)
            rels_xml = add_rel(rels_xml, rel)
            rels.append(rel)
            xml = add_legacy_drawing(xml, rel.id)
            if "vml" not in self.defaults:
                self.overrides.append((vml_part, CT_VML))
        self.pkg.put(comments_part, merged.xml)
        self.pkg.put(vml_part, vml_xml)
        if rels_xml is not None and (
            not self.pkg.has(rels_name) or rels_xml != self.pkg.get(rels_name)
        ):
            self.pkg.put(rels_name, rels_xml)
        return xml

    # -- the findings sheet -------------------------------------------------------------
    def lines(self) -> list[Line]:
        out = []
        for f in self.listed[:MAX_LISTED]:
            sheet = self.sheet_name(f.sheet) if f.sheet else None
            cell = parse_ref(str(f.cell)) if f.cell else None
            location = _location(sheet, cell) if sheet else None
            message = clean(plain(f.message), MAX_MESSAGE)
            related = [where(*split_ref(r)) for r in list(getattr(f, "related", ()) or ())[:10]]
            if related:
                message += clean(" Other cells involved: " + ", ".join(related) + ".", 1_000)
            out.append(Line(f.severity, where(f.sheet, f.cell), location, message))
        return out

    def run(self) -> bytes:
        markup = self.sheet_name(MARKUP_SHEET)
        replaced = None
        if markup is not None and markup not in self.parts:
            raise MarkupError(f"the workbook has a sheet {MARKUP_SHEET!r} that is not a worksheet")
        styles, styles_part = self.styles()
        vmls = [n for n in self.pkg.names() if n.casefold().endswith(".vml")]
        self.next_block = max((used_blocks(self.pkg.get(n)) for n in vmls), default=0) + 1
        for name, marks in collect_marks(self.listed[:MAX_LISTED], self.markable(markup)).items():
            self.flag_sheet(name, marks, styles)
        sheet_xml = findings_sheet(
            self.lines(),
            title=clean(f"{MARKUP_SHEET}: {self.title}" if self.title else MARKUP_SHEET, 250),
            counts=self.counts,
            more=max(len(self.listed) - MAX_LISTED, 0),
            styles=styles.sheet_styles(),
        )
        if markup is not None:  # an earlier round's sheet: replaced, and put first
            part = self.parts[markup]
            replaced = next(i for i, e in enumerate(self.entries) if e.name == markup)
            entry = self.entries[replaced]
            first = sheet_tag(self.wb, MARKUP_SHEET, entry.sheet_id, entry.rid)
            if self.pkg.has(rels_part(part)):
                self.pkg.put(rels_part(part), _EMPTY_RELS)
        else:
            part = self.pkg.free_name("xl/worksheets/sheet{}.xml", self.taken)
            rid = self.add_workbook_rel(REL_WORKSHEET, part)
            sheet_id = max((e.sheet_id for e in self.entries), default=0) + 1
            first = sheet_tag(self.wb, MARKUP_SHEET, sheet_id, rid)
            self.overrides.append((part, CT_WORKSHEET))
        self.pkg.put(part, sheet_xml)
        for name, other in self.parts.items():
            if other != part and b"tabSelected" in self.pkg.head(other, 65_536):
                try:
                    unselected = deselect(self.pkg.get(other))
                except XmlShapeError as exc:
                    log.info("sheet %r keeps its selection: %s", name[:40], exc)
                    continue
                if unselected is not None:
                    self.pkg.put(other, unselected)
        self.pkg.put(_WORKBOOK, put_first(self.wb, self.entries, first, replaced))
        if self.wb_rels is not None:
            self.pkg.put(_WORKBOOK_RELS, self.wb_rels)
        self.pkg.put(styles_part, styles.to_bytes())
        self.pkg.put(CONTENT_TYPES, add_overrides(self.ct, self.overrides))
        return self.pkg.to_bytes()


def _mark_up(pkg: Package, findings: list[Finding], title: str) -> bytes:
    return _Marker(pkg, findings, title).run()
