"""The values the roll-up rules read and return (:mod:`program.rollup`): one responding
supplier's answers, the facts of the whole survey, and one derived answer. Pure data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from plugins.rmap_status import canonical_metal

_FULL = "100%"


@dataclass(frozen=True)
class SupplierAnswers:
    """One responding supplier's latest file, as the rules need it."""

    supplier: str
    answers: Mapping[tuple[str, str], str]  # (question kind, mineral) -> normalised answer
    listed_metals: frozenset[str] = frozenset()  # metals its file lists smelter rows for

    def says(self, kind: str, mineral: str) -> str:
        """The answer to ``kind`` for ``mineral`` ("" when not given); minerals match by name."""
        value = self.answers.get((kind, mineral))
        if value is None:
            want = canonical_metal(mineral)
            value = next(
                (
                    v
                    for (k, m), v in self.answers.items()
                    if k == kind and canonical_metal(m) == want
                ),
                "",
            )
        return value.strip()

    def lists(self, mineral: str) -> bool:
        want = canonical_metal(mineral)
        return any(canonical_metal(m) == want for m in self.listed_metals)


@dataclass(frozen=True)
class RollupFacts:
    """Everything the rules decide from: the suppliers, the campaign, the list, the config."""

    family: str  # target template family: "CMRT", "EMRT" (CRT/AMRT: best effort)
    minerals: tuple[str, ...]  # the target layout's minerals, form order
    suppliers: tuple[SupplierAnswers, ...]  # latest file of each responding supplier
    surveyed: int  # suppliers asked
    responded: int  # suppliers that responded (campaign rules)
    response_category: str  # program.campaign.response_category(responded, surveyed)
    smelters: Mapping[str, int]  # mineral -> identified (metal, CID) entries
    unidentified: Mapping[str, int]  # mineral -> rows not identified (all reasons)
    unreported: Mapping[str, int]  # mineral -> rows the declaration cannot carry
    company: Mapping[str, str]  # [company] config answers by key (COMPANY_KEYS)
    out_of_scope: frozenset[str] = frozenset()  # [company] out_of_scope minerals
    #: mineral -> CIDs of the consolidated list located in, or named as sourcing from, a
    #: covered country (``covered``) or a country of the CAHRA list in force (``cahra``)
    covered: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    cahra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def full_response(self) -> bool:
        return self.response_category == _FULL

    @property
    def response_text(self) -> str:
        return f"{self.responded} of {self.surveyed} suppliers responded"

    def count(self, table: Mapping[str, int], mineral: str) -> int:
        want = canonical_metal(mineral)
        return sum(n for m, n in table.items() if canonical_metal(m) == want)


@dataclass(frozen=True)
class Derived:
    """One answer of the company's declaration and why."""

    question: str  # "Q3", "A", ...
    kind: str  # the layout's kind
    mineral: str  # "" for company-level (per-mineral company question: the mineral)
    answer: str  # one of the question's allowed answers as the layout spells it; "" = blank
    rule: str  # one sentence: the rule that decided, with the figures
    deciders: tuple[str, ...] = ()  # supplier names that decided it
    comment: str = ""  # comment-cell text (policy URL, survey description)
