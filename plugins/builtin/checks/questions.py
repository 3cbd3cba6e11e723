"""Per-mineral questions: completeness, allowed answers, and what the answers disclose.

Gates follow each family's Checker (see :mod:`plugins.scope`). Disclosures are risks for
the compliance team, not errors: a supplier who says "Yes" to covered-country sourcing
answered honestly. "Unknown" is never read as low risk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from plugins.checks import Check, CheckContext
from plugins.hookspecs import hookimpl
from plugins.models import Declaration, Finding
from plugins.scope import layout_of, mineral_gates

LOW_RATES = {"50% or less", "None", "Did not survey"}
COVERED_ONLY = {"DRC only", "DRC or adjoining countries only"}
CAHRA_ONLY = {"India and/or Madagascar only"}


def run(decl: Declaration, ctx: CheckContext) -> Iterator[Finding]:
    layout = layout_of(decl)
    if layout.selection_cells and not decl.minerals:
        yield CHECK.finding(
            "no-minerals-selected",
            "No mineral is selected at the top of the Declaration, so nothing is declared. Choose the minerals this declaration covers.",
            sheet="Declaration",
            cell=layout.selection_cells[0],
        )
    not_identified = {
        r.metal.casefold() for r in decl.smelters if r.sentinel == "not yet identified"
    }
    for gate in mineral_gates(decl):
        m = gate.mineral
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
            yield from _disclosure(q.kind, q.id, ans.value, m, where, decl, not_identified)


def _disclosure(
    kind: str,
    qid: str,
    value: str,
    m: str,
    where: dict[str, str],
    decl: Declaration,
    not_identified: set[str],
) -> Iterator[Finding]:
    n = qid[1:]
    if kind == "covered-sourcing" and value == "Yes":
        yield CHECK.finding(
            "covered-country-sourcing",
            f"{m}: the supplier declares sourcing from the DRC or an adjoining country (question {n}).",
            **where,
        )
    elif kind == "cahra-sourcing" and value in ({"Yes"} | COVERED_ONLY | CAHRA_ONLY):
        if value in COVERED_ONLY:
            yield CHECK.finding(
                "covered-country-sourcing",
                f"{m}: the supplier declares sourcing from {value.replace(' only', '')} (question {n}).",
                **where,
            )
        else:
            yield CHECK.finding(
                "cahra-sourcing",
                f"{m}: the supplier declares sourcing from conflict-affected and high-risk areas ({value}, question {n}).",
                **where,
            )
    if kind in ("covered-sourcing", "cahra-sourcing") and value == "Unknown":
        yield CHECK.finding(
            "sourcing-unknown",
            f"{m}: the origin is 'Unknown' (question {n}); unknown is not low risk, follow up with the supplier.",
            **where,
        )
    if kind == "response-rate" and value != "100%":
        low = value in LOW_RATES
        yield CHECK.finding(
            "low-supplier-response",
            f"{m}: only '{value}' of the supplier's own suppliers responded to its survey (question {n}).",
            **where,
            **({"severity": "risk"} if low else {}),
        )
    if kind == "all-identified":
        rate = next(
            (
                a.value
                for a in decl.answers
                if a.mineral == m and a.question != qid and a.value in _RATES_SET
            ),
            "",
        )
        if value in ("No", "Unknown"):
            yield CHECK.finding(
                "smelters-not-all-identified",
                f"{m}: the supplier has not identified all smelters (question {n} = {value}).",
                **where,
            )
        elif value == "Yes" and m.casefold() in not_identified:
            yield CHECK.finding(
                "contradictory-answers",
                f"{m}: question {n} says all smelters are identified, but the Smelter List has 'Smelter not yet identified' rows.",
                **where,
            )
        elif value == "Yes" and rate and rate != "100%":
            yield CHECK.finding(
                "contradictory-answers",
                f"{m}: question {n} says all smelters are identified, but only '{rate}' of suppliers responded.",
                **where,
            )


_RATES_SET = {
    "100%",
    "Greater than 90%",
    "Greater than 75%",
    "Greater than 50%",
    "50% or less",
    "None",
    "Did not survey",
}

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
    description="Per-mineral questions: gates, allowed answers, sourcing disclosures, response rate, consistency.",
)


@hookimpl
def assay_register_checks(register: Callable[[Check], None]) -> None:
    register(CHECK)
