"""Which minerals a declaration puts in scope, and which answers it therefore owes.

One place for the question gates of every family (the templates' Checker rules), so the
question, company-question and smelter-list checks agree on what "in scope" means.
"""

from __future__ import annotations

from dataclasses import dataclass

from .layouts import LAYOUTS, Layout, Question
from .models import Answer, Declaration

_BY_ID = {layout.id: layout for layout in LAYOUTS}


def layout_of(decl: Declaration) -> Layout:
    try:
        return _BY_ID[decl.meta.layout]
    except KeyError:
        raise ValueError(f"no layout {decl.meta.layout!r}") from None


def question_of_kind(layout: Layout, kind: str) -> Question | None:
    return next((q for q in layout.questions if q.kind == kind), None)


@dataclass(frozen=True)
class MineralGate:
    mineral: str
    q1: Answer | None
    q2: Answer | None
    q2_required: bool  # Q1 is not a "stop" answer (blank counts as required)
    details_required: bool  # Q3 onwards owed
    in_scope: bool  # Q1 = Yes and (no Q2, or Q2 = Yes)
    out_of_scope: bool  # Q1 or Q2 answered with a stop answer


def mineral_gates(decl: Declaration) -> list[MineralGate]:
    layout = layout_of(decl)
    remains = question_of_kind(layout, "remains")
    gates = []
    for mineral in decl.minerals:
        q1 = decl.answer("Q1", mineral)
        q2 = decl.answer(remains.id, mineral) if remains else None
        v1 = q1.value if q1 else ""
        v2 = q2.value if q2 else ""
        q2_required = remains is not None and v1 not in layout.q1_stop
        details = v1 not in layout.q1_stop and (remains is None or v2 not in layout.q2_stop)
        in_scope = v1 == "Yes" and (remains is None or v2 == "Yes")
        out = v1 in layout.q1_stop or (remains is not None and v2 in layout.q2_stop)
        gates.append(MineralGate(mineral, q1, q2, q2_required, details, in_scope, out))
    return gates


def any_in_scope(decl: Declaration) -> bool:
    """Company-level questions are owed once any mineral is in scope (Checker: SUM(F24:F27)>0)."""
    return any(
        g.in_scope or (g.q1 is not None and g.q1.value == "Yes" and g.details_required)
        for g in mineral_gates(decl)
    )
