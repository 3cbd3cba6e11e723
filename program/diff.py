"""What changed between two files of one supplier: fields, answers, smelters and findings.

A resubmission is judged against the supplier's previous file: which findings were fixed,
which are still open, which are new, and what the supplier changed on the way. Everything
here is pure: the caller fetches both declarations and both sets of findings (a screened
file, or a stored submission) and hands them to :func:`compare`.

**A finding's identity** (:func:`finding_key`) must survive rows moving: a supplier who
inserts a smelter row shifts every cell below it, and a newer template version moves the
company block. Messages never take part (they quote values that change). The key is the
code, the sheet, the mineral, the smelter id and the field, plus a *locator* only where
those are not enough:

- a finding with a smelter id needs nothing more (the id names the row wherever it is);
- a finding about one row of the Smelter List or the Mine List without an id is located by
  what the row names (its resolved id, else its smelter or mine name, else the id as typed),
  read from the declaration the finding came from, never by its row number;
- a Declaration finding without a field (``no-minerals-selected``) is located by its cell;
  with a field (a company field, a question id) the field is enough, so a file moved to a
  newer template whose company block starts lower keeps its findings' identity;
- findings about a list as a whole (:data:`LIST_LEVEL_CODES`: "Tin has no smelter row")
  point at the first row concerned; that row is not part of their identity.

Findings are matched as a multiset: two findings with one key in the old file and one in
the new give one still open and one fixed. :meth:`Comparison.counts` leaves ``info``
findings out (they ask nothing of the supplier); the tuples keep them.

Field, answer and smelter changes need both declarations: when either file could not be
read there is nothing to compare them with, so only the findings are compared (the
unreadable file's own finding is then fixed or new like any other).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from plugins.builtin.checks.company import LABELS
from plugins.models import COMPANY_FIELDS, Answer, Declaration, Finding, split_cell
from plugins.normalize import is_cid, name_key
from plugins.reference import ReferenceData
from plugins.rmap_status import canonical_metal

#: Severities :meth:`Comparison.counts` counts (``info`` asks nothing of the supplier).
COUNTED = frozenset({"error", "warning", "risk"})

#: Findings about a whole list (per mineral): their cell is only the first row concerned.
LIST_LEVEL_CODES = frozenset(
    {
        "metal-without-smelters",
        "smelters-for-undeclared-metal",
        "smelters-not-all-identified",
        "rmap-metal-not-covered",
        "rmap-status-unknown",
    }
)

#: The smelter list counts as replaced wholesale from this many (metal, CID) pairs before ...
REPLACED_MIN_ROWS = 10
#: ... when fewer than this share of them are kept.
REPLACED_KEPT_SHARE = 0.2

_ROW_SHEETS = ("Smelter List", "Mine List")


@dataclass(frozen=True)
class FieldChange:
    """One value the supplier changed: a company field or a question's answer."""

    label: str  # "Contact Name", "Tin, question 1"
    where: str  # "Declaration!D8"
    old: str
    new: str


@dataclass(frozen=True)
class SmelterChange:
    """A smelter that joined or left the Smelter List, with its standing today."""

    metal: str
    cid: str  # "" for a row without an identification number (named only)
    name: str
    country: str
    standing: (
        str  # "conformant", "active", "not conformant", "not covered", "no list"; "" = unknown
    )


@dataclass(frozen=True)
class Comparison:
    fixed: tuple[Finding, ...]  # in the old file only (the old finding)
    still_open: tuple[Finding, ...]  # in both (the new finding)
    new: tuple[Finding, ...]  # in the new file only
    fields: tuple[FieldChange, ...]
    answers: tuple[FieldChange, ...]
    smelters_added: tuple[SmelterChange, ...]
    smelters_removed: tuple[SmelterChange, ...]
    list_replaced: bool  # the Smelter List was replaced wholesale, not edited

    def counts(self) -> tuple[int, int, int]:
        """(fixed, still open, new), errors, risks and warnings only."""
        return (
            sum(f.severity in COUNTED for f in self.fixed),
            sum(f.severity in COUNTED for f in self.still_open),
            sum(f.severity in COUNTED for f in self.new),
        )

    def headline(self, previous_date: dt.date) -> str:
        fixed, still_open, new = self.counts()
        return (
            f"Compared with your file of {previous_date.isoformat()}: "
            f"{fixed} fixed, {still_open} still open, {new} new."
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (the text is as the files gave it: escape it where it goes)."""
        fixed, still_open, new = self.counts()
        return {
            "counts": {"fixed": fixed, "still_open": still_open, "new": new},
            "fields": [vars(c).copy() for c in self.fields],
            "answers": [vars(c).copy() for c in self.answers],
            "smelters_added": [vars(s).copy() for s in self.smelters_added],
            "smelters_removed": [vars(s).copy() for s in self.smelters_removed],
            "list_replaced": self.list_replaced,
            "findings": {
                "fixed": [_finding_dict(f) for f in self.fixed],
                "still_open": [_finding_dict(f) for f in self.still_open],
                "new": [_finding_dict(f) for f in self.new],
            },
        }


def _finding_dict(f: Finding) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in vars(f).items()}


# -- findings ----------------------------------------------------------------------------

_Rows = Mapping[str, Mapping[int, str]]  # sheet -> row number -> what the row names


def finding_key(f: Finding, declaration: Declaration | None = None) -> tuple[str, ...]:
    """A finding's identity across two files of one supplier (see the module docstring).

    ``declaration`` is the one the finding came from: without it a row finding that has no
    smelter id cannot be located and is keyed without a locator.
    """
    return _key(f, _row_names(declaration))


def _key(f: Finding, rows: _Rows) -> tuple[str, ...]:
    cid = f.smelter_id.strip().upper()
    locator = ""
    if cid or f.code in LIST_LEVEL_CODES:
        pass
    elif f.sheet in _ROW_SHEETS and f.cell:
        row = split_cell(f.cell)[0]
        locator = rows.get(f.sheet, {}).get(row, "")
    elif f.sheet == "Declaration" and not f.field:
        locator = f.cell
    return (f.code, f.sheet, _fold(f.mineral), cid, f.field, locator)


def _row_names(decl: Declaration | None) -> dict[str, dict[int, str]]:
    if decl is None:
        return {}
    smelters = {
        r.row: _smelter_identity(r.smelter_id, r.display_name, r.id_input or r.id_column)
        for r in decl.smelters
    }
    mines = {m.row: _smelter_identity("", m.name, m.mine_id) for m in decl.mines}
    return {"Smelter List": smelters, "Mine List": mines}


def _smelter_identity(cid: str, name: str, typed_id: str) -> str:
    if is_cid(cid):
        return f"cid:{cid}"
    key = name_key(name) or _fold(name)
    if key:
        return f"name:{key}"
    typed = _fold(typed_id)
    return f"id:{typed}" if typed else ""


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _match_findings(
    old: Sequence[Finding],
    old_decl: Declaration | None,
    new: Sequence[Finding],
    new_decl: Declaration | None,
) -> tuple[list[Finding], list[Finding], list[Finding]]:
    old_rows, new_rows = _row_names(old_decl), _row_names(new_decl)
    before: dict[tuple[str, ...], list[Finding]] = {}
    for f in sorted(old, key=Finding.sort_key):
        before.setdefault(_key(f, old_rows), []).append(f)
    fixed: list[Finding] = []
    still_open: list[Finding] = []
    added: list[Finding] = []
    for f in sorted(new, key=Finding.sort_key):
        waiting = before.get(_key(f, new_rows))
        if waiting:
            waiting.pop(0)
            still_open.append(f)
        else:
            added.append(f)
    for left in before.values():
        fixed.extend(left)
    fixed.sort(key=Finding.sort_key)
    return fixed, still_open, added


# -- declaration fields and answers --------------------------------------------------------


def _field_value(decl: Declaration, name: str) -> str:
    if name == "effective_date":
        if decl.effective_date is not None:
            return decl.effective_date.isoformat()
        return decl.effective_date_raw or decl.company.get(name, "")
    return decl.company.get(name, "")


def _where(cell: str) -> str:
    return f"Declaration!{cell}" if cell else "Declaration"


def _field_changes(old: Declaration, new: Declaration) -> list[FieldChange]:
    out = []
    for name in COMPANY_FIELDS:
        before, after = _field_value(old, name), _field_value(new, name)
        if before != after:
            cell = new.company_cells.get(name) or old.company_cells.get(name, "")
            label = LABELS.get(name) or name.replace("_", " ").capitalize()
            out.append(FieldChange(label, _where(cell), before, after))
    return out


def _answer_label(a: Answer, per_mineral: bool) -> str:
    if per_mineral:
        number = a.question[1:] if a.question[:1] == "Q" else a.question
        return f"{a.mineral}, question {number}" if a.mineral else f"Question {number}"
    return f"Question {a.question}" + (f" ({a.mineral})" if a.mineral else "")


def _answer_changes(
    old: Iterable[Answer], new: Iterable[Answer], per_mineral: bool
) -> list[FieldChange]:
    before = {(a.question, _fold(a.mineral)): a for a in old}
    after = {(a.question, _fold(a.mineral)): a for a in new}
    out = []
    for key in [*after, *(k for k in before if k not in after)]:
        a, b = before.get(key), after.get(key)
        shown = b or a
        if shown is None:
            continue
        label = _answer_label(shown, per_mineral)
        old_value, new_value = (a.value if a else ""), (b.value if b else "")
        if old_value != new_value:
            out.append(FieldChange(label, _where(shown.cell), old_value, new_value))
        old_comment, new_comment = (a.comment if a else ""), (b.comment if b else "")
        if old_comment != new_comment:
            cell = (b.comment_cell if b else "") or (a.comment_cell if a else "")
            out.append(FieldChange(f"{label}, comment", _where(cell), old_comment, new_comment))
    return out


# -- smelters ------------------------------------------------------------------------------


def _smelters(
    decl: Declaration, reference: ReferenceData | None
) -> dict[tuple[str, str], SmelterChange]:
    """The smelters a declaration names, by (metal, CID), else (metal, name) for unnamed ids.

    'Smelter not yet identified' rows name no smelter; a smelter listed twice counts once.
    """
    out: dict[tuple[str, str], SmelterChange] = {}
    for r in decl.smelters:
        metal = canonical_metal(r.metal)
        if is_cid(r.smelter_id):
            key = (metal, r.smelter_id)
        elif r.sentinel == "not yet identified" or not (r.name or r.standard_name or r.lookup):
            continue
        elif r.sentinel and not (r.name or r.standard_name):
            continue  # 'Smelter not listed' without a name names nothing yet
        else:
            name = name_key(r.display_name) or _fold(r.display_name)
            if not name:
                continue
            key = (metal, f"name:{name}")
        if key not in out:
            out[key] = SmelterChange(
                r.metal,
                r.smelter_id if is_cid(r.smelter_id) else "",
                r.display_name,
                r.country,
                _standing(r.smelter_id, metal, reference),
            )
    return out


def _standing(cid: str, metal: str, reference: ReferenceData | None) -> str:
    if reference is None or not is_cid(cid):
        return ""
    known = reference.smelters.get(cid)
    standing = reference.standing(cid, canonical_metal(known.metal) if known else metal).standing
    return standing.replace("-", " ")


def _smelter_order(s: SmelterChange) -> tuple[str, str, str]:
    return (canonical_metal(s.metal), s.cid or "~", _fold(s.name))


# -- the comparison --------------------------------------------------------------------------


def compare(
    old: Declaration | None,
    old_findings: Sequence[Finding],
    new: Declaration | None,
    new_findings: Sequence[Finding],
    reference: ReferenceData | None = None,
) -> Comparison:
    """Compare a supplier's previous file (``old``) with the new one.

    ``reference`` gives the standing of added and removed smelters (today's lists); without
    it their standing is "". A declaration of None (a file that could not be read) compares
    findings only.
    """
    fixed, still_open, added = _match_findings(old_findings, old, new_findings, new)
    fields: list[FieldChange] = []
    answers: list[FieldChange] = []
    smelters_added: list[SmelterChange] = []
    smelters_removed: list[SmelterChange] = []
    replaced = False
    if old is not None and new is not None:
        fields = _field_changes(old, new)
        answers = _answer_changes(old.answers, new.answers, per_mineral=True)
        answers += _answer_changes(old.company_answers, new.company_answers, per_mineral=False)
        before, after = _smelters(old, reference), _smelters(new, reference)
        smelters_added = sorted(
            (s for k, s in after.items() if k not in before), key=_smelter_order
        )
        smelters_removed = sorted(
            (s for k, s in before.items() if k not in after), key=_smelter_order
        )
        with_cid = {k for k in before if not k[1].startswith("name:")}
        kept = sum(1 for k in with_cid if k in after)
        replaced = len(with_cid) >= REPLACED_MIN_ROWS and kept < REPLACED_KEPT_SHARE * len(with_cid)
    return Comparison(
        fixed=tuple(fixed),
        still_open=tuple(still_open),
        new=tuple(added),
        fields=tuple(fields),
        answers=tuple(answers),
        smelters_added=tuple(smelters_added),
        smelters_removed=tuple(smelters_removed),
        list_replaced=replaced,
    )
