"""The company-level declaration: every answer derived from the suppliers' declarations.

API skeleton (issue 11): the rules follow in the next commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from plugins.layouts import Layout

__all__ = [
    "COMPANY_KEYS",
    "Derived",
    "RollupError",
    "RollupFacts",
    "SupplierAnswers",
    "derive",
]

#: Minerals an EMRT 2.x form can select: each has its own ``validated_sourcing_<mineral>`` key.
VALIDATED_MINERALS: tuple[str, ...] = ("Cobalt", "Copper", "Graphite", "Lithium", "Mica", "Nickel")

#: Every ``[company]`` config key the rules read (answers and their comments).
COMPANY_KEYS: tuple[str, ...] = (
    "policy",
    "policy_public",
    "policy_url",
    "validated_sourcing",
    *(f"validated_sourcing_{m.lower()}" for m in VALIDATED_MINERALS),
    "due_diligence",
    "survey",
    "survey_description",
    "review",
    "corrective_action",
    "disclosure",
    "policy_scope",
    "supplier_due_diligence",
)


class RollupError(ValueError):
    """The ``[company]`` config gives an answer the template does not allow."""


@dataclass(frozen=True)
class SupplierAnswers:
    """One responding supplier's latest file, as the rules need it."""

    supplier: str
    answers: Mapping[tuple[str, str], str]  # (question kind, mineral) -> normalised answer
    listed_metals: frozenset[str] = frozenset()  # metals its file lists smelter rows for


@dataclass(frozen=True)
class RollupFacts:
    """Everything the rules decide from: the suppliers, the campaign, the list, the config."""

    family: str
    minerals: tuple[str, ...]
    suppliers: tuple[SupplierAnswers, ...]
    surveyed: int
    responded: int
    response_category: str
    smelters: Mapping[str, int]
    unidentified: Mapping[str, int]
    unreported: Mapping[str, int]
    company: Mapping[str, str]
    out_of_scope: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Derived:
    """One answer of the company's declaration and why."""

    question: str
    kind: str
    mineral: str
    answer: str
    rule: str
    deciders: tuple[str, ...] = ()
    comment: str = ""


def derive(layout: Layout, facts: RollupFacts) -> list[Derived]:
    """Every question of ``layout`` answered from ``facts``, in form order."""
    raise NotImplementedError
