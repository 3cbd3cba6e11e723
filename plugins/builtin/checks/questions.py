"""Per-mineral questions: completeness, allowed answers, and what the answers disclose.

Gates follow each family's Checker (see :mod:`plugins.scope`). Disclosures are risks for
the compliance team, not errors: a supplier who says "Yes" to covered-country sourcing
answered honestly. "Unknown" is never read as low risk.

One cause, one finding: "all smelters identified" = Yes beside a response rate below
100% is said once, in ``low-supplier-response`` (the "all identified" cell in
``related``); the findings about "Smelter not yet identified" name those rows in
``related``, so the pipeline's fold step drops the smelter-list check's restatement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from plugins.checks import Check, CheckContext
from plugins.hookspecs import hookimpl
from plugins.models import Answer, Declaration, Finding, cell_ref
from plugins.scope import layout_of, mineral_gates, question_of_kind

LOW_RATES = {"50% or less", "None", "Did not survey"}
COVERED_ONLY = {"DRC only", "DRC or adjoining countries only"}
CAHRA_ONLY = {"India and/or Madagascar only"}


def run(decl: Declaration, ctx: CheckContext) -> Iterator[Finding]:
    layout = layout_of(decl)
    if layout.selection_cells and not decl.minerals:
        yield CHECK.finding(
            "no-minerals-selected",
            "No mineral is selected at the top of your Declaration, so nothing is declared. "
            "Choose the minerals this declaration covers.",
            sheet="Declaration",
            cell=layout.selection_cells[0],
        )
    lookup = chr(65 + layout.smelter_columns.get("lookup", 2))
    not_identified: dict[str, list[int]] = {}
    for r in decl.smelters:
        if r.sentinel == "not yet identified":
            not_identified.setdefault(r.metal.casefold(), []).append(r.row)
    all_identified = question_of_kind(layout, "all-identified")
    for gate in mineral_gates(decl):
        m = gate.mineral
        facts = _Facts(
            decl,
            m,
            not_identified.get(m.casefold(), []),
            lookup,
            decl.answer(all_identified.id, m) if all_identified else None,
        )
        for q in layout.questions:
            ans = decl.answer(q.id, m)
            if ans is None:
                continue  # this question has no row for this mineral (EMRT 1.x Q4 for mica)
            where = {"sheet": "Declaration", "cell": ans.cell, "mineral": m, "field": q.id}
            required = q.required and (
                q.kind == "scope"
                or (q.kind == "remains" and gate.q2_required)
                or (q.kind not in ("scope", "remains") and gate.details_required)
            )
            if not ans.value:
                if required:
                    yield CHECK.finding(
                        "unanswered-question",
                        f"{m}, question {q.id[1:]} is unanswered: {q.text}",
                        **where,
                    )
                continue
            if ans.value not in q.allowed:
                yield CHECK.finding(
                    "invalid-answer",
                    f"{m}, question {q.id[1:]}: {ans.raw!r} is not an allowed answer ({' / '.join(q.allowed)}).",
                    **where,
                )
                continue
            yield from _disclosure(q.kind, q.id, ans.value, where, facts)


@dataclass(frozen=True)
class _Facts:
    """What a mineral's disclosures are checked against."""

    decl: Declaration
    mineral: str
    unidentified_rows: list[int]  # Smelter List rows "Smelter not yet identified"
    lookup_col: str
    all_identified: Answer | None  # the "all smelters identified" answer

    @property
    def unidentified_cells(self) -> list[str]:
        return [cell_ref("Smelter List", f"{self.lookup_col}{n}") for n in self.unidentified_rows]

    @property
    def say(self) -> str:
        return "says" if len(self.unidentified_rows) == 1 else "say"

    def rows_text(self, limit: int = 5) -> str:
        rows = self.unidentified_rows
        more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
        noun = "row" if len(rows) == 1 else "rows"
        return f"Smelter List {noun} {', '.join(map(str, rows[:limit]))}{more}"


def _disclosure(
    kind: str, qid: str, value: str, where: dict[str, str], facts: _Facts
) -> Iterator[Finding]:
    n = qid[1:]
    m = facts.mineral
    if kind == "covered-sourcing" and value == "Yes":
        yield CHECK.finding(
            "covered-country-sourcing",
            f"{m}: you declared sourcing from the DRC or a country bordering it (question {n}).",
            **where,
        )
    elif kind == "cahra-sourcing" and value in ({"Yes"} | COVERED_ONLY | CAHRA_ONLY):
        if value in COVERED_ONLY:
            yield CHECK.finding(
                "covered-country-sourcing",
                f"{m}: you declared sourcing from {value.replace(' only', '')} (question {n}).",
                **where,
            )
        else:
            yield CHECK.finding(
                "cahra-sourcing",
                f"{m}: you declared sourcing from conflict-affected and high-risk areas ({value}, question {n}).",
                **where,
            )
    if kind in ("covered-sourcing", "cahra-sourcing") and value == "Unknown":
        yield CHECK.finding(
            "sourcing-unknown",
            f"{m}: you answered 'Unknown' to question {n}, on where the {m.lower()} comes from. "
            "An unknown origin is not low risk: please find out from your suppliers.",
            **where,
        )
    if kind == "response-rate" and value != "100%":
        yield _low_response(qid, value, where, facts)
    if kind == "all-identified":
        yield from _all_identified(qid, value, where, facts)


def _low_response(qid: str, value: str, where: dict[str, str], facts: _Facts) -> Finding:
    """Below 100%; a "Yes, all smelters identified" beside it restates the same gap, so it is
    named here (its cell in ``related``) instead of being a second finding."""
    n, m = qid[1:], facts.mineral
    claim = facts.all_identified
    also, related = "", []
    if claim is not None and claim.value == "Yes":
        also = (
            f" Yet question {claim.question[1:]} says you identified all smelters: with part "
            "of your suppliers not answering, that cannot be known. Please correct one of "
            "the two answers."
        )
        related = [cell_ref("Declaration", claim.cell)]
    low = value in LOW_RATES
    return CHECK.finding(
        "low-supplier-response",
        f"{m}: you declared that '{value}' of your suppliers responded to your survey "
        f"(question {n}).{also}",
        related=related,
        **where,
        **({"severity": "risk"} if low else {}),
    )


def _all_identified(
    qid: str, value: str, where: dict[str, str], facts: _Facts
) -> Iterator[Finding]:
    n, m = qid[1:], facts.mineral
    rows = facts.unidentified_rows
    if value in ("No", "Unknown"):
        listed = (
            f" Your {facts.rows_text()} {facts.say} 'Smelter not yet identified'." if rows else ""
        )
        yield CHECK.finding(
            "smelters-not-all-identified",
            f"{m}: you have not identified all smelters (question {n} = {value}).{listed}",
            related=facts.unidentified_cells,
            **where,
        )
    elif value == "Yes" and rows:
        yield CHECK.finding(
            "contradictory-answers",
            f"{m}: question {n} says you identified all smelters, but your "
            f"{facts.rows_text()} {facts.say} 'Smelter not yet identified'. Please identify those "
            f"smelters, or answer question {n} No.",
            related=facts.unidentified_cells,
            **where,
        )


CHECK = Check(
    id="mineral-questions",
    run=run,
    codes={
        "unanswered-question": "error",
        "no-minerals-selected": "error",
        "invalid-answer": "error",
        "covered-country-sourcing": "risk",
        "cahra-sourcing": "risk",
        "sourcing-unknown": "warning",
        "low-supplier-response": "warning",
        "smelters-not-all-identified": "warning",
        "contradictory-answers": "warning",
    },
    version="2",
    description="Per-mineral questions: gates, allowed answers, sourcing disclosures, response rate, consistency.",
)


@hookimpl
def assay_register_checks(register: Callable[[Check], None]) -> None:
    register(CHECK)
