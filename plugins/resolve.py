"""Which reference smelter each Smelter List row is: by CID, else by name within its metal.

Name matching follows the rules: exact CID, then exact normalised name (standard name or
alias) within the metal, then a fuzzy match above a cut-off. Below it a person decides;
nothing is guessed. Several checks need the same answer, so the last result is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from plugins.models import Declaration, SmelterRow
from plugins.normalize import is_cid
from plugins.reference import NameMatch, ReferenceData

DEFAULT_CUTOFF = 88.0


@dataclass(frozen=True)
class Resolved:
    row: SmelterRow
    cid: str  # "" when unresolved
    how: str  # "id", "name", "" (unresolved), "unidentified"
    match: NameMatch | None = None
    rejected: NameMatch | None = None  # best candidate below the cut-off


_last: tuple[Declaration, ReferenceData, float, list[Resolved]] | None = None


def resolve_rows(
    decl: Declaration, reference: ReferenceData, cutoff: float = DEFAULT_CUTOFF
) -> list[Resolved]:
    global _last
    if _last is not None and _last[0] is decl and _last[1] is reference and _last[2] == cutoff:
        return _last[3]
    out: list[Resolved] = []
    for row in decl.smelters:
        if is_cid(row.smelter_id):
            out.append(Resolved(row, row.smelter_id, "id"))
        elif row.sentinel == "not yet identified":
            out.append(Resolved(row, "", "unidentified"))
        else:
            name = row.name or (row.lookup if not row.sentinel else "")
            match, rejected = (
                reference.match_name(row.metal, name, cutoff) if name else (None, None)
            )
            out.append(
                Resolved(row, match.cid if match else "", "name" if match else "", match, rejected)
            )
    _last = (decl, reference, cutoff, out)
    return out
