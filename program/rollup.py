"""The company-level declaration: every answer derived from the suppliers' declarations.

One function per question ``kind`` (see :mod:`plugins.layouts`), each returning a
:class:`Derived`: the answer in the layout's own spelling, the rule that decided it as one
sentence with its figures, and the suppliers whose answers decided it. ``docs/rollup-rules.md``
has a truth table per rule; the tests check every row of it.

The rules are conservative: a company cannot declare more than its suppliers told it.
"Unknown" (or, where a form has no "Unknown", the answer that admits the risk) wins
whenever a supplier did not answer, the survey response is below 100%, or a smelter could
not be identified. A supplier's answer the file did not give (a blank cell, a mineral its
EMRT did not select) counts as not answered, never as "No".

The mineral gates follow the templates' Checker: when the derived scope (Q1) or
"remains" (Q2) answer is a stop answer, the later per-mineral questions are left blank.
Company-level questions come from the ``[company]`` config (:mod:`program.rollup_company`).

Pure: facts in, answers out; no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from plugins.layouts import LAYOUTS, Layout, Question
from plugins.rmap_status import canonical_metal
from program.rollup_company import COMPANY_KEYS, RollupError, company_answer
from program.rollup_facts import Derived, RollupFacts, SupplierAnswers

__all__ = [
    "COMPANY_KEYS",
    "RESTRICTED_YES",
    "Derived",
    "RollupError",
    "RollupFacts",
    "SupplierAnswers",
    "derive",
    "in_scope",
]

#: Yes-like sourcing answers that restrict the "Yes" to some countries.
RESTRICTED_YES: frozenset[str] = frozenset(
    {"DRC only", "India and/or Madagascar only", "DRC or adjoining countries only"}
)
_NAMES_SHOWN = 10


@dataclass(frozen=True)
class _Mineral:
    """What one mineral's rules read: the facts, the form's stop answers, the gate so far."""

    layout: Layout
    facts: RollupFacts
    mineral: str
    q1_stop: frozenset[str]
    q2_stop: frozenset[str]

    def in_scope(self) -> list[SupplierAnswers]:
        return [
            s for s in self.facts.suppliers if in_scope(s, self.mineral, self.q1_stop, self.q2_stop)
        ]

    def derived(self, q: Question, answer: str, rule: str, deciders: Iterable[str] = ()) -> Derived:
        return Derived(q.id, q.kind, self.mineral, answer, rule, tuple(sorted(set(deciders))))

    @property
    def unidentified(self) -> int:
        return self.facts.count(self.facts.unidentified, self.mineral)


def in_scope(
    s: SupplierAnswers, mineral: str, q1_stop: frozenset[str], q2_stop: frozenset[str]
) -> bool:
    """Q1 answered and not a stop answer, and Q2 not a stop answer; or smelters listed."""
    q1, q2 = s.says("scope", mineral), s.says("remains", mineral)
    return (q1 != "" and q1 not in q1_stop and q2 not in q2_stop) or s.lists(mineral)


def _shown(items: list[str]) -> str:
    more = f" and {len(items) - _NAMES_SHOWN} more" if len(items) > _NAMES_SHOWN else ""
    return ", ".join(items[:_NAMES_SHOWN]) + more


def _names(suppliers: list[SupplierAnswers]) -> str:
    return _shown(sorted({s.supplier for s in suppliers}))


def _not_identified(m: _Mineral) -> str:
    n = m.unidentified
    return f"{n} {m.mineral} smelter {'row is' if n == 1 else 'rows are'} not identified"


def _fallback(q: Question, preferred: str = "Unknown", otherwise: str = "Yes") -> str:
    return preferred if preferred in q.allowed else otherwise


def scope(m: _Mineral, q: Question) -> Derived:
    f = m.facts
    if canonical_metal(m.mineral) in {canonical_metal(x) for x in f.out_of_scope}:
        return m.derived(q, "No", f"{m.mineral} is listed in [company] out_of_scope")
    yes = [s for s in f.suppliers if s.says(q.kind, m.mineral) == "Yes" or s.lists(m.mineral)]
    if yes:
        return m.derived(
            q,
            "Yes",
            f"{len(yes)} of {len(f.suppliers)} responding suppliers say Yes or list "
            f"{m.mineral} smelters ({_names(yes)})",
            [s.supplier for s in yes],
        )
    stopped = all(s.says(q.kind, m.mineral) in m.q1_stop for s in f.suppliers)
    if f.full_response and f.suppliers and stopped:
        return m.derived(
            q,
            "No",
            f"all {len(f.suppliers)} suppliers responded ({f.response_category}) and none "
            f"uses {m.mineral}",
            [s.supplier for s in f.suppliers],
        )
    answer = _fallback(q)
    why = "not every supplier answered" if stopped else "a supplier left it unanswered"
    return m.derived(
        q,
        answer,
        f"no supplier says Yes, but {m.mineral} cannot be ruled out: {why} "
        f"({f.response_text}, {f.response_category})",
    )


def remains(m: _Mineral, q: Question, q1: Derived) -> Derived:
    f = m.facts
    if q1.answer == "No":
        return m.derived(q, "No", f"question {q1.question} is No for {m.mineral}")
    scoped = m.in_scope()
    yes = [s for s in scoped if s.says(q.kind, m.mineral) == "Yes"]
    if yes:
        return m.derived(
            q,
            "Yes",
            f"{len(yes)} in-scope suppliers say {m.mineral} remains in the product ({_names(yes)})",
            [s.supplier for s in yes],
        )
    # A supplier that lists smelters for the mineral never counts as saying it is absent.
    no = all(
        (s.says("scope", m.mineral) in m.q1_stop or s.says(q.kind, m.mineral) in m.q2_stop)
        and not s.lists(m.mineral)
        for s in f.suppliers
    )
    if f.full_response and f.suppliers and no:
        return m.derived(
            q,
            "No",
            f"all {len(f.suppliers)} suppliers responded ({f.response_category}) and all say No",
            [s.supplier for s in f.suppliers],
        )
    return m.derived(
        q,
        _fallback(q),
        f"no in-scope supplier says Yes, but not all say No ({f.response_text}, "
        f"{f.response_category})",
    )


def sourcing(m: _Mineral, q: Question) -> Derived:
    """covered-sourcing and cahra-sourcing: any yes is a yes; doubt is Unknown."""
    f, scoped = m.facts, m.in_scope()
    answers = {s.supplier: s.says(q.kind, m.mineral) for s in scoped}
    yes = [
        s for s in scoped if answers[s.supplier] == "Yes" or answers[s.supplier] in RESTRICTED_YES
    ]
    if yes:
        kinds = {answers[s.supplier] for s in yes}
        (only,) = kinds if len(kinds) == 1 else ("Yes",)
        answer = only if only in q.allowed else "Yes"
        said = " / ".join(sorted(kinds))
        return m.derived(
            q,
            answer,
            f"{len(yes)} in-scope suppliers say {said} ({_names(yes)})",
            [s.supplier for s in yes],
        )
    listed = _flagged(m, q.kind)
    if listed:
        where = "covered countries" if q.kind == "covered-sourcing" else "CAHRA-list countries"
        return m.derived(
            q,
            "Yes",
            f"no in-scope supplier says Yes, but the consolidated list has {len(listed)} "
            f"{m.mineral} smelter(s) located in or named as sourcing from {where} "
            f"({_shown(listed)})",
        )
    unknown = [s for s in scoped if answers[s.supplier] in ("Unknown", "")]
    reasons = _doubts(m, unknown)
    if reasons:
        return m.derived(q, _fallback(q), "; ".join(reasons), [s.supplier for s in unknown])
    return m.derived(
        q,
        "No",
        f"all {len(scoped)} in-scope suppliers say No, {f.response_category} responded, "
        "every smelter identified",
        [s.supplier for s in scoped],
    )


def _doubts(m: _Mineral, unknown: list[SupplierAnswers]) -> list[str]:
    """Why a mineral's answer cannot be "No": suppliers in doubt, an incomplete response,
    unidentified smelters (empty: none of these)."""
    f, why = m.facts, []
    if unknown:
        why.append(
            f"{len(unknown)} in-scope suppliers say Unknown or left it blank ({_names(unknown)})"
        )
    if not f.full_response:
        why.append(f"{f.response_text} ({f.response_category})")
    if m.unidentified:
        why.append(_not_identified(m))
    return why


def _flagged(m: _Mineral, kind: str) -> list[str]:
    table = m.facts.covered if kind == "covered-sourcing" else m.facts.cahra
    want = canonical_metal(m.mineral)
    return sorted(
        {c for metal, cids in table.items() if canonical_metal(metal) == want for c in cids}
    )


def recycled(m: _Mineral, q: Question) -> Derived:
    f, scoped = m.facts, m.in_scope()
    answers = {s.supplier: s.says(q.kind, m.mineral) for s in scoped}
    if (
        scoped
        and all(a == "Yes" for a in answers.values())
        and f.full_response
        and not m.unidentified
    ):
        return m.derived(
            q,
            "Yes",
            f"all {len(scoped)} in-scope suppliers say 100% recycled, {f.response_category} "
            "responded, every smelter identified",
            list(answers),
        )
    unknown = [s for s in scoped if answers[s.supplier] in ("Unknown", "")]
    why = _doubts(m, unknown)
    if why:
        return m.derived(
            q, _fallback(q, otherwise="No"), "; ".join(why), [s.supplier for s in unknown]
        )
    no = [s for s in scoped if answers[s.supplier] == "No"]
    rule = (
        f"{len(no)} in-scope suppliers say No ({_names(no)})"
        if no
        else f"no in-scope supplier declares {m.mineral}"
    )
    return m.derived(q, "No", rule, [s.supplier for s in no])


def response_rate(m: _Mineral, q: Question) -> Derived:
    """The campaign's own figure, never the suppliers' answers."""
    f = m.facts
    if f.surveyed <= 0 and "Did not survey" in q.allowed:
        return m.derived(q, "Did not survey", "no supplier was surveyed")
    if f.response_category not in q.allowed:
        raise RollupError(
            f"response category {f.response_category!r} is not an answer to {q.id} "
            f"({' / '.join(q.allowed)})"
        )
    return m.derived(q, f.response_category, f"the campaign's own figure: {f.response_text}")


def all_identified(m: _Mineral, q: Question) -> Derived:
    f, scoped = m.facts, m.in_scope()
    answers = {s.supplier: s.says(q.kind, m.mineral) for s in scoped}
    if (
        scoped
        and f.full_response
        and all(a == "Yes" for a in answers.values())
        and not m.unidentified
    ):
        return m.derived(
            q,
            "Yes",
            f"all {len(scoped)} in-scope suppliers say Yes, {f.response_category} responded, "
            f"no {m.mineral} row unidentified",
            list(answers),
        )
    no = [s for s in f.suppliers if s.says(q.kind, m.mineral) == "No"]
    why = []
    if no:
        why.append(f"{len(no)} suppliers say No ({_names(no)})")
    if m.unidentified:
        why.append(_not_identified(m))
    if not f.full_response:
        why.append(f"{f.response_text} ({f.response_category})")
    if not scoped:
        why.append("no in-scope supplier")
    others = [s for s in scoped if answers[s.supplier] != "Yes"]
    if others and not no:
        why.append(f"{len(others)} in-scope suppliers do not say Yes ({_names(others)})")
    if no or m.unidentified or "Unknown" not in q.allowed:
        return m.derived(q, "No", "; ".join(why), [s.supplier for s in no])
    return m.derived(q, "Unknown", "; ".join(why), [s.supplier for s in others])


def all_reported(m: _Mineral, q: Question) -> Derived:
    n = m.facts.count(m.facts.unreported, m.mineral)
    if n == 0:
        return m.derived(
            q, "Yes", f"every {m.mineral} row received is in the declaration's Smelter List"
        )
    return m.derived(
        q, "No", f"{n} {m.mineral} rows received cannot be carried (malformed CID or no name)"
    )


#: One rule per per-mineral question kind (scope and remains are gated separately).
RULES: dict[str, Callable[[_Mineral, Question], Derived]] = {
    "covered-sourcing": sourcing,
    "cahra-sourcing": sourcing,
    "recycled": recycled,
    "response-rate": response_rate,
    "all-identified": all_identified,
    "all-reported": all_reported,
}


def derive(layout: Layout, facts: RollupFacts) -> list[Derived]:
    """Every question of ``layout`` answered from ``facts``, in form order.

    Per-mineral questions come first (question by question, minerals in form order; a
    question with no row for a mineral, like EMRT 1.x Q4 for mica, gives nothing), then
    the company questions (one per mineral row where the form splits one).
    """
    stops = [lay for lay in LAYOUTS if lay.family == layout.family]
    q1_stop = layout.q1_stop.union(*(lay.q1_stop for lay in stops))
    q2_stop = layout.q2_stop.union(*(lay.q2_stop for lay in stops))
    by_question: dict[str, list[Derived]] = {q.id: [] for q in layout.questions}
    for slot, mineral in enumerate(facts.minerals):
        m = _Mineral(layout, facts, mineral, q1_stop, q2_stop)
        index = layout.minerals.index(mineral) if mineral in layout.minerals else slot
        gate: Derived | None = None  # the first stop answer of Q1/Q2
        q1: Derived | None = None
        for q in layout.questions:
            if index >= len(q.rows) or q.rows[index] is None:
                continue
            if gate is not None and not (q.kind == "remains" and gate.answer == "No"):
                d = m.derived(
                    q, "", f"not asked: question {gate.question} is {gate.answer} for {mineral}"
                )
            elif q.kind == "scope":
                d = q1 = scope(m, q)
                gate = d if d.answer in layout.q1_stop else None
            elif q.kind == "remains":
                d = remains(m, q, q1) if q1 is not None else m.derived(q, "", "no scope question")
                gate = gate or (d if d.answer in layout.q2_stop else None)
            else:
                d = _rule(q.kind)(m, q)
            by_question[q.id].append(d)
    out = [d for q in layout.questions for d in by_question[q.id]]
    return out + _company(layout, facts)


def _rule(kind: str) -> Callable[[_Mineral, Question], Derived]:
    try:
        return RULES[kind]
    except KeyError:
        raise RollupError(f"no roll-up rule for question kind {kind!r}") from None


def _company(layout: Layout, facts: RollupFacts) -> list[Derived]:
    out = []
    for cq in layout.company_questions:
        if cq.per_mineral_rows:
            minerals = list(facts.minerals[: len(cq.per_mineral_rows)])
        else:
            minerals = [cq.mineral]
        for mineral in minerals:
            answer, rule, comment = company_answer(cq, mineral, facts.company, facts.surveyed)
            out.append(Derived(cq.id, cq.kind, mineral, answer, rule, (), comment))
    return out
