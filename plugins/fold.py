"""One cause, one finding: folding the findings that restate another.

Checks are independent plugins, so two of them can report one cause: the mineral-questions
check says "question 7 says all smelters are identified, but rows 6 and 9 say 'Smelter not
yet identified'", and the smelter-list check says "rows 6 and 9 say 'Smelter not yet
identified'". The supplier should read that once.

The rule is explicit and small: a finding *absorbs* another when the pair of codes is in
:data:`ABSORBS`, both concern the same mineral, and the absorbing finding already names
the other's cell in its ``related`` cells (so its message names those rows). The absorbed
finding is dropped and its own related cells are added to the absorbing one. Risk
findings are never absorbed: they are the compliance team's per-row record.

The step runs after every check, on the findings in their documented order, so its result
does not depend on the order in which plugins ran.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from .models import MAX_RELATED, Finding

#: (absorbing code, absorbed code).
ABSORBS: frozenset[tuple[str, str]] = frozenset(
    {
        # "all identified" = Yes, with "Smelter not yet identified" rows
        ("contradictory-answers", "smelters-not-all-identified"),
        # "all identified" = No/Unknown (a question), and the rows that say so (the list)
        ("smelters-not-all-identified", "smelters-not-all-identified"),
        # a shifted row already names its odd mine-country cell
        ("smelter-row-shifted", "mine-country-unclear"),
    }
)


def fold_findings(findings: Iterable[Finding]) -> list[Finding]:
    """``findings`` without those another finding absorbs (see :data:`ABSORBS`), in order."""
    items = sorted(findings, key=Finding.sort_key)
    absorbers = {g for g, _ in ABSORBS}
    named_by: dict[str, list[int]] = {}  # "Sheet!Cell" -> the absorbing findings naming it
    for j, g in enumerate(items):
        if g.code in absorbers:
            for ref in g.related:
                named_by.setdefault(ref, []).append(j)
    absorbed_by: dict[int, int] = {}
    for i, f in enumerate(items):
        if f.severity == "risk" or not f.cell:
            continue
        for j in named_by.get(f.where, ()):
            g = items[j]
            if (
                j != i
                and j not in absorbed_by
                and (g.code, f.code) in ABSORBS
                and g.mineral.casefold() == f.mineral.casefold()
            ):
                absorbed_by[i] = j
                break
    if not absorbed_by:
        return items
    extra: dict[int, list[str]] = {}
    for i, j in absorbed_by.items():
        extra.setdefault(j, []).extend(items[i].related)
    out = []
    for k, f in enumerate(items):
        if k in absorbed_by:
            continue
        if extra.get(k):
            merged = tuple(dict.fromkeys((*f.related, *extra[k])))
            merged = tuple(r for r in merged if r != f.where)[:MAX_RELATED]
            f = replace(f, related=merged)
        out.append(f)
    return out
