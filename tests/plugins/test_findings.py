"""Every minimum finding code: one case that makes it fire, and its absence on a clean declaration.

Cases mutate a clean declaration read from a real filled template (checks are pure
functions of the declaration), so each case changes exactly one thing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from plugins.countries import COVERED_COUNTRIES, country_code
from plugins.manager import get_plugin_manager
from plugins.models import Declaration, SmelterRow
from plugins.pipeline import Screener
from plugins.reference import ReferenceData, RmapList
from tests.builders import AS_OF
from tests.plugins.findings_support import answer, company, with_status

ROOT = Path(__file__).resolve().parents[2]


def minimum_codes() -> dict[str, str]:
    """The 'Minimum finding codes' table of the screening rules, as shipped in docs/."""
    text = (ROOT / "docs" / "findings.md").read_text("utf-8")
    return dict(
        re.findall(r"^\| `([a-z-]+)` \| (error|risk|warning|info) \| .*\| minimum \|$", text, re.M)
    )


def documented_codes() -> dict[str, str]:
    """Every code of docs/findings.md with its severity (minimum and extra)."""
    text = (ROOT / "docs" / "findings.md").read_text("utf-8")
    return dict(re.findall(r"^\| `([a-z-]+)` \| (error|risk|warning|info) \|", text, re.M))


def company_answer(
    decl: Declaration, q: str, value: str, comment: str | None = None
) -> Declaration:
    answers = tuple(
        replace(a, value=value, raw=value, comment=a.comment if comment is None else comment)
        if a.question == q
        else a
        for a in decl.company_answers
    )
    return replace(decl, company_answers=answers)


def add_row(decl: Declaration, **fields: str) -> Declaration:
    row = SmelterRow(row=max(r.row for r in decl.smelters) + 1, **fields)  # type: ignore[arg-type]
    return replace(decl, smelters=(*decl.smelters, row))


def first_cid(ref: ReferenceData, metal: str, pred: Callable[[str], bool]) -> tuple[str, str]:
    for s in ref.smelters.values():
        if s.metal == metal and pred(country_code(s.country)):
            return s.cid, s.country
    raise LookupError(metal)


def without_cid(ref: ReferenceData, cid: str) -> ReferenceData:
    assert ref.rmap is not None
    entries = {k: v for k, v in ref.rmap.entries.items() if k != cid}
    return replace(ref, rmap_lists=(replace(ref.rmap, entries=entries),))


Case = Callable[[Declaration, ReferenceData], tuple[Declaration, ReferenceData]]

CASES: dict[str, Case] = {
    "missing-required-field": lambda d, r: (company(d, company_name=""), r),
    "invalid-email": lambda d, r: (company(d, contact_email="alex.example@example,test"), r),
    "placeholder-value": lambda d, r: (company(d, authorizer="Same"), r),
    "scope-description-missing": lambda d, r: (
        company(
            d,
            declaration_scope="C. User defined [Specify in 'Description of scope']",
            scope_description="",
        ),
        r,
    ),
    "product-list-missing": lambda d, r: (
        company(d, declaration_scope="B. Product (or List of Products)"),
        r,
    ),
    "invalid-effective-date": lambda d, r: (
        replace(d, effective_date=None, effective_date_raw="sometime in May"),
        r,
    ),
    "stale-declaration": lambda d, r: (replace(d, effective_date=dt.date(2025, 1, 15)), r),
    "unanswered-question": lambda d, r: (answer(d, "Q3", "Tin", ""), r),
    "invalid-answer": lambda d, r: (answer(d, "Q1", "Gold", "Maybe"), r),
    "unanswered-company-question": lambda d, r: (company_answer(d, "A", ""), r),
    "company-question-no": lambda d, r: (company_answer(d, "D", "No"), r),
    "policy-url-missing": lambda d, r: (company_answer(d, "B", "Yes", comment=""), r),
    "covered-country-sourcing": lambda d, r: (answer(d, "Q3", "Tin", "Yes"), r),
    "cahra-sourcing": lambda d, r: (answer(d, "Q4", "Gold", "Yes"), r),
    "sourcing-unknown": lambda d, r: (answer(d, "Q3", "Tantalum", "Unknown"), r),
    "low-supplier-response": lambda d, r: (answer(d, "Q6", "Tin", "Greater than 75%"), r),
    "smelters-not-all-identified": lambda d, r: (answer(d, "Q7", "Tin", "No"), r),
    "contradictory-answers": lambda d, r: (
        add_row(
            d, metal="Tin", lookup="Smelter not yet identified", name="Unknown", country="Unknown"
        ),
        r,
    ),
    "metal-without-smelters": lambda d, r: (
        replace(d, smelters=tuple(s for s in d.smelters if s.metal != "Gold")),
        r,
    ),
    "smelters-for-undeclared-metal": lambda d, r: (answer(d, "Q1", "Tungsten", "No"), r),
    "smelter-row-incomplete": lambda d, r: (
        add_row(d, metal="Tin", lookup="Smelter not listed"),
        r,
    ),
    "invalid-smelter-id": lambda d, r: (
        add_row(
            d,
            metal="Tin",
            id_input="CID12",
            lookup="Smelter not listed",
            name="X Refinery",
            country="JAPAN",
        ),
        r,
    ),
    "smelter-id-mismatch": lambda d, r: (
        replace(
            d,
            smelters=(
                replace(d.smelters[0], id_input="CID000001", id_column=d.smelters[0].smelter_id),
                *d.smelters[1:],
            ),
        ),
        r,
    ),
    "unknown-smelter-id": lambda d, r: (
        add_row(d, metal="Tin", smelter_id="CID999999", id_input="CID999999", lookup="x"),
        r,
    ),
    "smelter-reference-mismatch": lambda d, r: (
        replace(
            d,
            smelters=(
                replace(
                    d.smelters[0], metal="Tungsten" if d.smelters[0].metal != "Tungsten" else "Tin"
                ),
                *d.smelters[1:],
            ),
        ),
        r,
    ),
    "smelter-name-matched": lambda d, r: (
        add_row(
            d,
            metal=d.smelters[0].metal,
            lookup="Smelter not listed",
            name=d.smelters[0].standard_name.upper() + " ",
            country=d.smelters[0].country,
        ),
        r,
    ),
    "smelter-name-unmatched": lambda d, r: (
        add_row(
            d,
            metal="Tin",
            lookup="Smelter not listed",
            name="Nonexistent Synthetic Refinery Works",
            country="JAPAN",
        ),
        r,
    ),
    "duplicate-smelter": lambda d, r: (
        replace(d, smelters=(*d.smelters, replace(d.smelters[0], row=999))),
        r,
    ),
    "smelter-not-conformant": lambda d, r: (d, without_cid(r, d.smelters[0].smelter_id)),
    "smelter-active": lambda d, r: (d, with_status(r, d.smelters[0].smelter_id, "Active")),
    "rmap-reaudit-due": lambda d, r: (
        d,
        with_status(
            r,
            d.smelters[0].smelter_id,
            "Conformant",
            next_assessment=AS_OF + dt.timedelta(days=10),
        ),
    ),
    # A list that covers only mica: the CMRT's 3TG smelters are not judged, and it says so once.
    "rmap-metal-not-covered": lambda d, r: (
        d,
        replace(r, rmap_lists=(RmapList("mica-only", AS_OF, {}, frozenset({"Mica"})),)),
    ),
    "rmap-status-unknown": lambda d, r: (d, replace(r, rmap_lists=())),
    "smelter-in-covered-country": lambda d, r: (
        add_row(
            d,
            metal="Tin",
            smelter_id=(c := first_cid(r, "Tin", lambda k: k in COVERED_COUNTRIES))[0],
            id_column=c[0],
            lookup="x",
            country=c[1],
        ),
        r,
    ),
    "smelter-in-cahra": lambda d, r: (
        add_row(
            d,
            metal="Gold",
            smelter_id=(
                c := first_cid(r, "Gold", lambda k: k in r.cahra and k not in COVERED_COUNTRIES)
            )[0],
            id_column=c[0],
            lookup="x",
            country=c[1],
        ),
        r,
    ),
    "mine-in-covered-country": lambda d, r: (
        replace(
            d,
            smelters=(replace(d.smelters[0], mine_countries="Australia, Rwanda"), *d.smelters[1:]),
        ),
        r,
    ),
}
FILE_CODES = {
    "unreadable-file",
    "not-a-template",
    "unsupported-template-version",
    "outdated-template",
    "unknown-template-version",
    "internal-error",
}


def test_every_minimum_code_has_a_case() -> None:
    table = minimum_codes()
    assert len(table) >= 40, "docs/findings.md lost its minimum-code table"
    assert set(table) <= set(CASES) | FILE_CODES
    assert set(CASES) <= set(documented_codes())  # extra codes with a case are documented too


@pytest.mark.parametrize("code", sorted(CASES))
def test_code_fires(clean: Declaration, conformant: ReferenceData, code: str) -> None:
    decl, ref = CASES[code](clean, conformant)
    result = Screener(get_plugin_manager(), ref, as_of=AS_OF).screen(decl)
    hits = [f for f in result.findings if f.code == code]
    assert hits, f"{code} did not fire; got {sorted({f.code for f in result.findings})}"
    assert all(f.severity in ("error", "risk", "warning", "info") and f.message for f in hits)
    assert hits[0].severity == documented_codes()[code] or code == "low-supplier-response"


@pytest.mark.parametrize("code", sorted(minimum_codes()))
def test_code_does_not_fire_on_clean_declaration(
    clean: Declaration, conformant: ReferenceData, code: str
) -> None:
    result = Screener(get_plugin_manager(), conformant, as_of=AS_OF).screen(clean)
    assert code not in {f.code for f in result.findings}
    assert result.risk_level == "low"
