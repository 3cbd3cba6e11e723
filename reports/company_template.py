"""The company's own CMRT/EMRT: a blank RMI template with our declaration written in.

The blank the user downloaded from RMI is patched at the byte level (:mod:`reports.package`),
never loaded into a spreadsheet library and saved again, which would drop its data
validations, conditional formats, sheet protection and the look-up formulas customers rely
on. Only three parts change: ``xl/workbook.xml`` (``fullCalcOnLoad`` set on ``<calcPr>``, so
Excel recalculates what we could not), the Declaration sheet and the Smelter List sheet;
every other part is written back with the same bytes.

On the Declaration: the company block (strings, and the effective date as an Excel serial
number in the cell's own date format), each derived answer in column D of its row with its
comment in column G. The response-rate "100%" is the number 1 where the template's dropdown
source is a number (CMRT up to 6.22, EMRT 1.x).

On the Smelter List, from row 5, one row per consolidated (metal, CID) entry, then the
unidentified groups as "Smelter not yet identified" / "Smelter not listed" rows (name in D,
country in E). A CID the template's own Smelter Look-up knows is typed in A, as a supplier
would, and the formula cells B, C, E, F, G, R, S keep their formulas with the look-up's
values written as their cached results: the values a reader needs are present without
recalculation. A CID the look-up lacks (a newer RMI list than the template's) is written as
plain values (B metal, C "Smelter not listed", D name, E country, F CID, G "RMI").

Every string is cleaned of control characters, escaped and written as an inline string,
which is never a formula, whatever it starts with.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from plugins.layouts import Layout
from plugins.limits import Limits
from plugins.list_sheets import LookupRow
from plugins.sheet import cell_rc
from plugins.versions import version_key
from program.smelter_list import NO_MATCH, NOT_YET_IDENTIFIED, SmelterList, UnidentifiedEntry

from .book import check_workbook, sheet_entries
from .cells import Cell
from .company_cells import Value, write_cells
from .package import REL_WORKSHEET, Package, PackageError, parse_rels, resolve
from .xmltext import XmlShapeError, root, set_attr, tag_at

_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
DECLARATION = "Declaration"
SMELTER_LIST = "Smelter List"
NOT_LISTED = "Smelter not listed"
NOT_YET = "Smelter not yet identified"
#: [company] config key -> the layout's company-cell field
COMPANY_FIELDS: dict[str, str] = {
    "name": "company_name",
    "scope": "declaration_scope",
    "scope_description": "scope_description",
    "unique_id": "company_unique_id",
    "unique_id_authority": "company_unique_id_authority",
    "address": "address",
    "contact_name": "contact_name",
    "contact_email": "contact_email",
    "contact_phone": "contact_phone",
    "authorizer": "authorizer",
    "authorizer_title": "authorizer_title",
    "authorizer_email": "authorizer_email",
    "authorizer_phone": "authorizer_phone",
}
_UNIDENTIFIED_LABEL = {NOT_YET_IDENTIFIED: NOT_YET, NO_MATCH: NOT_LISTED}
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_D, _G = 3, 6  # answer and comment columns


class CompanyTemplateError(Exception):
    """The blank cannot be written (damaged, not the template its layout says...)."""


class DerivedKind(Protocol):
    """What :func:`with_placeholders` needs of :class:`program.rollup.Derived`."""

    @property
    def kind(self) -> str: ...
    @property
    def mineral(self) -> str: ...
    @property
    def answer(self) -> str: ...


class DerivedLike(Protocol):
    """What the writer needs of :class:`program.rollup.Derived`."""

    @property
    def question(self) -> str: ...
    @property
    def mineral(self) -> str: ...
    @property
    def answer(self) -> str: ...
    @property
    def comment(self) -> str: ...


@dataclass(frozen=True)
class TemplateInfo:
    """What the writer needs to know of the blank, read by :mod:`reports.rollup_source`."""

    layout: Layout
    version: str
    minerals: tuple[str, ...]  # the form's minerals in slot order
    lookup: Mapping[str, LookupRow]  # CID -> the template's own Smelter Look-up row
    country_codes: Mapping[str, str]  # upper-case country name -> the template's code (sheet C)


def excel_serial(day: dt.date) -> int:
    return (day - _EXCEL_EPOCH).days


def numeric_full_rate(layout: Layout, version: str) -> bool:
    """Whether the template's response-rate dropdown holds the number 1 for "100%"."""
    key = version_key(version)
    return (layout.family == "CMRT" and key <= (6, 22)) or (
        layout.family == "EMRT" and key < (2, 0)
    )


def declaration_values(
    info: TemplateInfo,
    company: Mapping[str, str],
    effective_date: dt.date,
    answers: Sequence[DerivedLike],
) -> dict[Cell, Value]:
    """The Declaration cells to write: company block, answers (D) and comments (G)."""
    lay = info.layout
    out: dict[Cell, Value] = {}
    for key, text in company.items():
        field = COMPANY_FIELDS.get(key, key)
        addr = lay.company_cells.get(field)
        if addr and text:
            out[cell_rc(addr)] = Value(text=text)
    date_addr = lay.company_cells.get("effective_date")
    if date_addr:
        out[cell_rc(date_addr)] = Value(number=excel_serial(effective_date))
    numeric = numeric_full_rate(lay, info.version)
    for d in answers:
        row = _answer_row(info, d)
        if row is None:
            continue
        if d.answer:
            if numeric and d.answer == "100%" and _kind_of(lay, d.question) == "response-rate":
                out[(row, _D)] = Value(number=1)
            else:
                out[(row, _D)] = Value(text=d.answer)
        if d.comment:
            out[(row, _G)] = Value(text=d.comment)
    return out


def _kind_of(lay: Layout, question: str) -> str:
    return next((q.kind for q in lay.questions if q.id == question), "")


def _answer_row(info: TemplateInfo, d: DerivedLike) -> int | None:
    """The row of a derived answer on this template; None where the form has none."""
    lay = info.layout
    slot = info.minerals.index(d.mineral) if d.mineral in info.minerals else None
    for q in lay.questions:
        if q.id == d.question:
            if slot is None or slot >= len(q.rows):
                return None
            return q.rows[slot]
    for cq in lay.company_questions:
        if cq.id != d.question:
            continue
        if cq.per_mineral_rows:
            if slot is not None and slot < len(cq.per_mineral_rows):
                return cq.per_mineral_rows[slot]
            continue
        if cq.mineral and cq.mineral != d.mineral:
            continue  # EMRT 1.x: one row per mineral for question C
        return cq.row
    return None


def smelter_values(info: TemplateInfo, smelters: SmelterList) -> dict[Cell, Value]:
    """The Smelter List cells to write, one row per entry from the layout's first row."""
    cols = info.layout.smelter_columns
    minerals = {m.casefold() for m in info.minerals}
    out: dict[Cell, Value] = {}
    row = info.layout.smelter_first_row

    def put(col: str, value: Value) -> None:
        if col in cols:
            out[(row, cols[col])] = value

    for e in smelters.entries:
        if e.metal.casefold() not in minerals:
            continue
        known = info.lookup.get(e.cid)
        if known is not None and "id_input" in cols:
            put("id_input", Value(text=e.cid))
            put("metal", Value(text=known.metal, cached=True))
            put("lookup", Value(text=known.name, cached=True))
            put("country", Value(text=known.country, cached=True))
            put("id_column", Value(text=known.cid, cached=True))
            put("source", Value(text=known.source, cached=True))
            put("standard_name", Value(text=known.name, cached=True))
            code = info.country_codes.get(known.country.upper(), "")
            put("country_code", Value(text=code, cached=True))
        else:
            put("metal", Value(text=e.metal))
            put("lookup", Value(text=NOT_LISTED))
            put("name", Value(text=e.name))
            put("country", Value(text=e.country))
            put("id_column", Value(text=e.cid))
            put("source", Value(text="RMI"))
        row += 1
    for u in smelters.unidentified:
        label = _UNIDENTIFIED_LABEL.get(u.reason)
        if label is None or u.metal.casefold() not in minerals:
            continue  # rows the declaration cannot carry (counted as not reported)
        put("metal", Value(text=u.metal))
        put("lookup", Value(text=label))
        put("name", Value(text=u.name))
        put("country", Value(text=u.country))
        row += 1
    return out


def with_placeholders(
    info: TemplateInfo, smelters: SmelterList, answers: Sequence[DerivedKind]
) -> SmelterList:
    """``smelters`` with a "Smelter not yet identified" row for each mineral the derived
    answers declare in scope (Q1 and, where asked, Q2 not a stop answer) that no row names:
    the template's Checker wants a row for every such mineral, and "not yet identified" is
    what the company knows of it."""
    lay = info.layout
    have = {e.metal.casefold() for e in smelters.entries}
    have |= {u.metal.casefold() for u in smelters.unidentified}
    scope = {d.mineral: d.answer for d in answers if d.kind == "scope"}
    remains = {d.mineral: d.answer for d in answers if d.kind == "remains"}
    added = []
    for mineral in info.minerals:
        q1 = scope.get(mineral, "")
        q2 = remains.get(mineral)
        if not q1 or q1 in lay.q1_stop or (q2 is not None and (not q2 or q2 in lay.q2_stop)):
            continue
        if mineral.casefold() not in have:
            added.append(UnidentifiedEntry(mineral, "", "", NOT_YET_IDENTIFIED, (), 0))
    if not added:
        return smelters
    return SmelterList(smelters.entries, (*smelters.unidentified, *added), smelters.suppliers)


def fill_company_template(
    blank: bytes,
    info: TemplateInfo,
    *,
    company: Mapping[str, str],
    effective_date: dt.date,
    answers: Sequence[DerivedLike],
    smelters: SmelterList,
    limits: Limits | None = None,
) -> bytes:
    """The blank template ``blank`` filled with the company's declaration. Raises
    :class:`CompanyTemplateError`."""
    try:
        pkg = Package(blank, limits or Limits())
        parts = _sheet_parts(pkg)
        for sheet, values in (
            (DECLARATION, declaration_values(info, company, effective_date, answers)),
            (SMELTER_LIST, smelter_values(info, smelters)),
        ):
            if not values:
                continue
            part = parts.get(sheet)
            if part is None:
                raise CompanyTemplateError(f"the template has no {sheet!r} sheet")
            xml = pkg.get(part)
            if sheet == SMELTER_LIST:
                _check_room(xml, info, values)
            pkg.put(part, write_cells(xml, values))
        pkg.put(_WORKBOOK, full_calc_on_load(pkg.get(_WORKBOOK)))
        return pkg.to_bytes()
    except PackageError as exc:
        raise CompanyTemplateError(str(exc)) from exc
    except XmlShapeError as exc:
        raise CompanyTemplateError(f"a part of the template is malformed: {exc}") from exc


_METAL_VALIDATION = re.compile(rb'sqref="[^"]*?\bB(\d{1,7}):B(\d{1,7})\b')


def _check_room(xml: bytes, info: TemplateInfo, values: Mapping[Cell, Value]) -> None:
    """Refuse a list longer than the template's Smelter List: beyond its last row (the end of
    the metal column's validation, 2504 in a CMRT) there are no drop-downs, no look-up
    formulas, and neither the Checker nor RMI's tools read it."""
    m = _METAL_VALIDATION.search(xml)
    if m is None or not values:
        return
    last = int(m.group(2))
    needed = max(r for r, _c in values)
    if needed > last:
        first = info.layout.smelter_first_row
        raise CompanyTemplateError(
            f"the smelter list needs {needed - first + 1} rows but the template's Smelter List "
            f"holds {last - first + 1} (rows {first} to {last})"
        )


def _sheet_parts(pkg: Package) -> dict[str, str]:
    wb = pkg.get(_WORKBOOK)
    check_workbook(wb)
    rels = parse_rels(pkg.get(_WORKBOOK_RELS) if pkg.has(_WORKBOOK_RELS) else None)
    out: dict[str, str] = {}
    for e in sheet_entries(wb):
        rel = next((r for r in rels if r.id == e.rid and not r.external), None)
        part = resolve(_WORKBOOK, rel.target) if rel and rel.type == REL_WORKSHEET else None
        name = pkg.name_of(part) if part else None
        if name:
            out[e.name] = name
    return out


def full_calc_on_load(xml: bytes) -> bytes:
    """``xl/workbook.xml`` with ``fullCalcOnLoad="1"`` on its ``<calcPr>`` (unchanged
    without one: the schema's place for a new one is not worth the risk)."""
    top = root(xml)
    m = re.compile(b"<" + re.escape(top.prefix) + rb"calcPr[\s/>]").search(xml, top.end)
    if m is None:
        return xml
    tag = tag_at(xml, m.start())
    new = set_attr(xml[tag.start : tag.end], "fullCalcOnLoad", "1")
    return xml[: tag.start] + new + xml[tag.end :]
