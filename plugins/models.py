"""Domain values of the screening core.

Everything a check sees is one of these frozen dataclasses: a check never touches a
worksheet, so the same checks run on a freshly read file and on a declaration loaded
back from the database (re-screening without the original file).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

Severity = Literal["error", "risk", "warning", "info"]
#: Most "Sheet!Cell" references one finding keeps in ``related`` (its message says how many
#: rows there are; a 100,000-row sheet of "various" must not make one finding megabytes).
MAX_RELATED = 1000
SEVERITIES: tuple[Severity, ...] = ("error", "risk", "warning", "info")
SEVERITY_RANK: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}

#: The company-block fields every template family has, in the order of the form.
COMPANY_FIELDS: tuple[str, ...] = (
    "company_name",
    "declaration_scope",
    "scope_description",
    "company_unique_id",
    "company_unique_id_authority",
    "address",
    "contact_name",
    "contact_email",
    "contact_phone",
    "authorizer",
    "authorizer_title",
    "authorizer_email",
    "authorizer_phone",
    "effective_date",
)


@dataclass(frozen=True)
class TemplateMeta:
    """What the reader found out about the workbook itself."""

    type: str  # CMRT, EMRT, CRT, AMRT
    version: str  # as written in Declaration!J3, e.g. "6.4"
    layout: str  # the cell map used, e.g. "CMRT_6.x"
    known_version: bool = True  # False: newer than any known layout, read best-effort
    language: str = ""
    version_cell: str = "Declaration!J3"
    #: formula cells the reader found without a cached value (files saved by other tools)
    uncached_formulas: bool = False
    #: sheets longer than the row limit: (sheet, last row read, last row the sheet claims)
    truncated: tuple[tuple[str, int, int], ...] = ()


@dataclass(frozen=True)
class Answer:
    """One answer cell of the declaration (a per-mineral or a company-level question)."""

    question: str  # "Q1".."Q8" or "A".."I"
    value: str  # normalised text; "" when blank
    cell: str  # "D26"
    mineral: str = ""  # "" for company-level questions
    comment: str = ""
    comment_cell: str = ""
    raw: str = ""  # the value as read, before normalisation (for messages)
    # The URL the comment cell links to (a cell showing a policy's title as a hyperlink):
    # http, https or mailto only, as read by :meth:`plugins.workbook.Workbook.hyperlinks`.
    comment_url: str = ""


@dataclass(frozen=True)
class SmelterRow:
    """One non-blank row of the Smelter List, with values resolved and normalised."""

    row: int
    metal: str = ""
    lookup: str = ""  # column C: a Look-up name, alias, or a sentinel
    name: str = ""  # column D (free-text name)
    country: str = ""  # column E, upper-case as in the template's country list
    smelter_id: str = ""  # resolved CID (F, else A, else look-up by metal + name)
    id_input: str = ""  # column A as typed
    id_column: str = ""  # column F as read (cached value)
    id_source: str = ""  # where smelter_id came from: F, A, lookup, name
    source: str = ""  # column G
    street: str = ""
    city: str = ""
    state: str = ""
    contact_name: str = ""
    contact_email: str = ""
    next_steps: str = ""
    mine_names: str = ""
    mine_countries: str = ""
    recycled: str = ""
    comments: str = ""
    standard_name: str = ""  # hidden R, else the workbook's Look-up, else D

    @property
    def display_name(self) -> str:
        return self.standard_name or self.name or self.lookup

    @property
    def sentinel(self) -> str:
        """'not listed', 'not yet identified' or '' (compared case-insensitively)."""
        low = self.lookup.casefold()
        if low == "smelter not listed":
            return "not listed"
        if low == "smelter not yet identified":
            return "not yet identified"
        return ""


@dataclass(frozen=True)
class ProductRow:
    row: int
    number: str
    name: str = ""
    comments: str = ""


@dataclass(frozen=True)
class MineRow:
    row: int
    metal: str = ""
    smelter: str = ""
    name: str = ""
    mine_id: str = ""
    country: str = ""


@dataclass(frozen=True)
class Declaration:
    """A supplier's declaration, as read from any RMI template family."""

    meta: TemplateMeta
    company: dict[str, str] = field(default_factory=dict)  # COMPANY_FIELDS -> text
    company_cells: dict[str, str] = field(default_factory=dict)  # field -> "D8"
    effective_date: dt.date | None = None
    effective_date_raw: str = ""
    minerals: tuple[str, ...] = ()  # minerals the form asks about, in form order
    answers: tuple[Answer, ...] = ()  # per-mineral questions
    company_answers: tuple[Answer, ...] = ()
    smelters: tuple[SmelterRow, ...] = ()
    products: tuple[ProductRow, ...] = ()
    mines: tuple[MineRow, ...] = ()

    def answer(self, question: str, mineral: str) -> Answer | None:
        for a in self.answers:
            if a.question == question and a.mineral == mineral:
                return a
        return None

    def company_answer(self, question: str, mineral: str = "") -> Answer | None:
        for a in self.company_answers:
            if a.question == question and a.mineral == mineral:
                return a
        return None

    def to_dict(self) -> dict[str, Any]:
        # vars() rather than dataclasses.asdict(): the values are flat, and asdict deep-copies.
        return {
            "meta": vars(self.meta).copy(),
            "company": dict(self.company),
            "company_cells": dict(self.company_cells),
            "effective_date": self.effective_date.isoformat() if self.effective_date else None,
            "effective_date_raw": self.effective_date_raw,
            "minerals": list(self.minerals),
            "answers": [vars(a).copy() for a in self.answers],
            "company_answers": [vars(a).copy() for a in self.company_answers],
            # Only non-empty fields: most of a row's 22 fields are blank, and re-screening
            # thousands of stored declarations pays for every byte of JSON.
            "smelters": [{k: v for k, v in vars(r).items() if v != ""} for r in self.smelters],
            "products": [vars(p).copy() for p in self.products],
            "mines": [vars(m).copy() for m in self.mines],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Declaration:
        """Rebuild a declaration stored by :meth:`to_dict` (re-screening from the database)."""
        eff = data.get("effective_date")
        return cls(
            meta=_meta(data["meta"]),
            company=dict(data.get("company", {})),
            company_cells=dict(data.get("company_cells", {})),
            effective_date=dt.date.fromisoformat(eff) if eff else None,
            effective_date_raw=data.get("effective_date_raw", ""),
            minerals=tuple(data.get("minerals", ())),
            answers=tuple(Answer(**a) for a in data.get("answers", ())),
            company_answers=tuple(Answer(**a) for a in data.get("company_answers", ())),
            smelters=tuple(_fast(SmelterRow, s) for s in data.get("smelters", ())),
            products=tuple(ProductRow(**p) for p in data.get("products", ())),
            mines=tuple(MineRow(**m) for m in data.get("mines", ())),
        )


def _meta(values: dict[str, Any]) -> TemplateMeta:
    values = dict(values)
    values["truncated"] = tuple(tuple(t) for t in values.get("truncated", ()))
    return TemplateMeta(**values)


def _fast(cls: type[Any], values: dict[str, Any]) -> Any:
    """Build a frozen dataclass from a dict written by ``to_dict`` without running ``__init__``.

    Re-screening loads hundreds of thousands of stored rows; the generated frozen
    ``__init__`` (one ``object.__setattr__`` per field) is most of that cost. Only for
    trusted data this module wrote itself (missing keys take their defaults).
    """
    obj = object.__new__(cls)
    defaults = _DEFAULTS.get(cls)
    if defaults is None:
        defaults = _DEFAULTS[cls] = {
            k: f.default
            for k, f in cls.__dataclass_fields__.items()
            if f.default is not dataclasses.MISSING
        }
    obj.__dict__.update(defaults)
    obj.__dict__.update(values)
    return obj


_DEFAULTS: dict[type[Any], dict[str, Any]] = {}


@dataclass(frozen=True)
class Finding:
    """One problem or red flag, addressed to a cell a person can open."""

    code: str
    severity: Severity
    message: str
    sheet: str = ""
    cell: str = ""
    mineral: str = ""
    smelter_id: str = ""
    field: str = ""
    check: str = ""  # id of the check that produced it
    #: The other cells involved, as "Sheet!Cell" (the finding's own sheet and cell stay the
    #: primary place): the rows a contradiction names, the findings folded into this one.
    related: tuple[str, ...] = ()

    def sort_key(self) -> tuple[int, str, int, str, str, str]:
        """Documented order: severity, sheet, row, column, code, smelter id."""
        row, col = split_cell(self.cell)
        return (SEVERITY_RANK[self.severity], self.sheet, row, col, self.code, self.smelter_id)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = dataclasses.asdict(self)
        data["related"] = list(self.related)
        return data

    @property
    def where(self) -> str:
        """``"Sheet!Cell"`` of the finding itself ("" without a cell)."""
        return cell_ref(self.sheet, self.cell)


def cell_ref(sheet: str, cell: str) -> str:
    """``"Smelter List!C6"``: how :attr:`Finding.related` names a cell."""
    return f"{sheet}!{cell}" if cell else ""


def split_cell(cell: str) -> tuple[int, str]:
    """``"AB12"`` -> (12, " AB"): row, then column letters right-aligned so they sort."""
    col = cell.rstrip("0123456789")
    digits = cell[len(col) :]
    if col.isalpha() or not col:
        return (int(digits) if digits else 0, col.rjust(3))
    return _split_odd(cell)


@lru_cache(maxsize=4096)
def _split_odd(cell: str) -> tuple[int, str]:
    col = "".join(ch for ch in cell if ch.isalpha())
    digits = "".join(ch for ch in cell if ch.isdigit())
    return (int(digits) if digits.isascii() and digits else 0, col.rjust(3))


def summarize(findings: list[Finding] | tuple[Finding, ...]) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        counts[f.severity] += 1
    return counts


def risk_level(findings: list[Finding] | tuple[Finding, ...]) -> str:
    """high: any risk finding; medium: errors or warnings only; low: neither."""
    counts = summarize(findings)
    if counts["risk"]:
        return "high"
    if counts["error"] or counts["warning"]:
        return "medium"
    return "low"


@dataclass(frozen=True)
class ScreeningResult:
    declaration: Declaration | None
    findings: tuple[Finding, ...]
    check_versions: dict[str, str] = field(default_factory=dict)
    reference_versions: dict[str, str] = field(default_factory=dict)
    readable: bool = True  # False: the file could not be read at all
    # Warnings about the reference data itself (a list older than allowed), not the file.
    notices: tuple[str, ...] = ()
    as_of: dt.date | None = None  # the date it was screened against

    @property
    def summary(self) -> dict[str, int]:
        return summarize(self.findings)

    @property
    def risk_level(self) -> str:
        return risk_level(self.findings)
