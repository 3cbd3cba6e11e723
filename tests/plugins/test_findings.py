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

import openpyxl
import pytest

from plugins.checks import Check
from plugins.countries import COVERED_COUNTRIES, country_code
from plugins.hookspecs import hookimpl
from plugins.manager import get_plugin_manager
from plugins.models import Declaration, SmelterRow
from plugins.pipeline import Screener
from plugins.reference import ReferenceData, RmapEntry, RmapList
from tests.builders import AS_OF, TEMPLATES, require_shared

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


def company(decl: Declaration, **fields: str) -> Declaration:
    return replace(decl, company={**decl.company, **fields})


def answer(
    decl: Declaration, q: str, mineral: str, value: str, comment: str | None = None
) -> Declaration:
    answers = tuple(
        replace(a, value=value, raw=value, comment=a.comment if comment is None else comment)
        if (a.question, a.mineral) == (q, mineral)
        else a
        for a in decl.answers
    )
    return replace(decl, answers=answers)


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


def with_status(ref: ReferenceData, cid: str, status: str, **kw: dt.date) -> ReferenceData:
    assert ref.rmap is not None
    entries = {**ref.rmap.entries, cid: RmapEntry(cid, status, **kw)}
    return replace(ref, rmap_lists=(replace(ref.rmap, entries=entries),))


@pytest.fixture(scope="module")
def clean(filled: dict[str, Path], conformant: ReferenceData) -> Declaration:
    return Screener(get_plugin_manager(), conformant, as_of=AS_OF).read(
        filled["CMRT-6.5"].read_bytes()
    )


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


def test_findings_carry_sheet_cell_and_context(
    clean: Declaration, conformant: ReferenceData
) -> None:
    decl = answer(company(clean, contact_email="bad@address"), "Q3", "Tin", "Yes")
    result = Screener(get_plugin_manager(), conformant, as_of=AS_OF).screen(decl)
    email = next(f for f in result.findings if f.code == "invalid-email")
    assert (email.sheet, email.cell, email.field) == ("Declaration", "D16", "contact_email")
    covered = next(f for f in result.findings if f.code == "covered-country-sourcing")
    assert (covered.cell, covered.mineral, covered.severity) == ("D39", "Tin", "risk")
    assert result.risk_level == "high"


def test_low_response_severity_rises_when_half_or_fewer(
    clean: Declaration, conformant: ReferenceData
) -> None:
    screener = Screener(get_plugin_manager(), conformant, as_of=AS_OF)
    some = screener.screen(answer(clean, "Q6", "Tin", "Greater than 90%")).findings
    none = screener.screen(answer(clean, "Q6", "Tin", "None")).findings
    assert [f.severity for f in some if f.code == "low-supplier-response"] == ["warning"]
    assert [f.severity for f in none if f.code == "low-supplier-response"] == ["risk"]


def test_question_gates_cmrt(clean: Declaration, conformant: ReferenceData) -> None:
    """Q1 = No for a metal: its Q2-Q8 are not owed, and blank answers are no error."""
    decl = answer(clean, "Q1", "Tungsten", "No")
    for q in ("Q2", "Q3", "Q4", "Q5", "Q6", "Q7", "Q8"):
        decl = answer(decl, q, "Tungsten", "")
    decl = replace(decl, smelters=tuple(s for s in decl.smelters if s.metal != "Tungsten"))
    codes = [
        f.code
        for f in Screener(get_plugin_manager(), conformant, as_of=AS_OF).screen(decl).findings
    ]
    assert "unanswered-question" not in codes and "smelters-for-undeclared-metal" not in codes


def test_contradiction_all_identified_with_low_response(
    clean: Declaration, conformant: ReferenceData
) -> None:
    """One cause, one finding: the contradiction is said in the low-response finding, which
    names the "all identified" cell (Q7, D64) as related; no second finding restates it."""
    decl = answer(clean, "Q6", "Gold", "Greater than 50%")
    findings = Screener(get_plugin_manager(), conformant, as_of=AS_OF).screen(decl).findings
    gold = [f for f in findings if f.mineral == "Gold" and f.severity != "info"]
    assert [(f.code, f.cell, f.related) for f in gold] == [
        ("low-supplier-response", "D58", ("Declaration!D64",))
    ]
    assert "question 7" in gold[0].message


def test_lapsed_conformance_is_a_warning(clean: Declaration, conformant: ReferenceData) -> None:
    cid = clean.smelters[0].smelter_id
    ref = with_status(conformant, cid, "Conformant", next_assessment=dt.date(2026, 1, 1))
    findings = Screener(get_plugin_manager(), ref, as_of=AS_OF).screen(clean).findings
    lapsed = [f for f in findings if f.code == "rmap-conformance-lapsed"]
    assert [f.smelter_id for f in lapsed] == [cid] and lapsed[0].severity == "warning"
    assert "test:all-conformant" in lapsed[0].message  # states which list


# -- file-level codes --------------------------------------------------------------------


def test_file_codes_fire(tmp_path: Path, screener: Screener, filled: dict[str, Path]) -> None:
    assert screener.screen_bytes(b"%PDF-1.4 not a workbook").findings[0].code == "unreadable-file"
    plain = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "just a spreadsheet"
    wb.save(plain)
    assert screener.screen_bytes(plain.read_bytes()).findings[0].code == "not-a-template"
    legacy = require_shared() / "legacy" / "EICC_CMRT_2.03a_blank.xlsx"
    res = screener.screen_bytes(legacy.read_bytes())
    assert (
        res.findings[0].code == "unsupported-template-version" and "6.5" in res.findings[0].message
    )
    old = screener.screen_bytes(filled["CMRT-6.4"].read_bytes())
    assert [f.code for f in old.findings if f.severity != "info"] == ["outdated-template"]
    current = screener.screen_bytes(filled["CMRT-6.5"].read_bytes())
    assert {f.code for f in current.findings} <= {"uncached-formulas"}


@pytest.mark.slow
def test_unknown_template_version_fires_and_reads(tmp_path: Path, screener: Screener) -> None:
    from tests.builders import cmrt_cells, fill

    src = TEMPLATES / "cmrt" / "RMI_CMRT_6.5_zh-ui.xlsx"
    cells = cmrt_cells(require_shared(src))
    cells["Declaration"]["J3"] = "Revision 6.6\nMay 1, 2026"
    path = fill(src, tmp_path / "cmrt66.xlsx", cells)
    result = screener.screen_bytes(path.read_bytes())
    assert result.declaration is not None and result.declaration.meta.version == "6.6"
    assert [f.code for f in result.findings if f.severity != "info"] == ["unknown-template-version"]
    assert result.declaration.company["company_name"] == "Synthetic Components Ltd."


class Crashing:
    @hookimpl
    def assay_register_checks(self, register: Callable[[Check], None]) -> None:
        def boom(decl: Declaration, ctx: object) -> list[object]:
            raise RuntimeError("synthetic failure")

        register(Check(id="aaa-crashes", run=boom, codes={}))  # type: ignore[arg-type]


def test_crashing_check_becomes_internal_error_and_others_run(
    clean: Declaration, conformant: ReferenceData
) -> None:
    pm = get_plugin_manager(extra_plugins=[Crashing()])
    result = Screener(pm, conformant, as_of=AS_OF).screen(company(clean, company_name=""))
    codes = [f.code for f in result.findings]
    assert "internal-error" in codes and "missing-required-field" in codes
    err = next(f for f in result.findings if f.code == "internal-error")
    assert err.check == "aaa-crashes" and "aaa-crashes" in err.message


def test_disabled_check_by_id(clean: Declaration, conformant: ReferenceData) -> None:
    decl = company(clean, company_name="")
    result = Screener(
        get_plugin_manager(), conformant, as_of=AS_OF, disabled_checks=["company"]
    ).screen(decl)
    assert "missing-required-field" not in {f.code for f in result.findings}
    assert "company" not in result.check_versions


def test_family_specific_required_cells(filled: dict[str, Path], conformant: ReferenceData) -> None:
    """Each family has its own company block: the finding points at that family's cell."""
    screener = Screener(get_plugin_manager(), conformant, as_of=AS_OF)
    expected = {
        "CMRT-6.5": "D15",
        "EMRT-1.3": "D15",
        "EMRT-2.1": "D19",
        "CRT-2.2": "D15",
        "AMRT-1.2": "D17",
        "AMRT-1.3": "D20",
    }
    for name, cell in expected.items():
        decl = company(screener.read(filled[name].read_bytes()), contact_name="")
        hits = [f for f in screener.screen(decl).findings if f.code == "missing-required-field"]
        assert [(f.cell, f.field) for f in hits] == [(cell, "contact_name")], name


@pytest.mark.parametrize(
    ("name", "mineral", "question", "cell"),
    [
        ("EMRT-2.1", "Mica", "Q2", "D43"),
        ("EMRT-1.3", "Mica", "Q3", "D39"),
        ("CRT-2.2", "Cobalt", "Q5", "D50"),
        ("AMRT-1.3", "Silver", "Q1", "D32"),
    ],
)
def test_family_question_gates(
    filled: dict[str, Path],
    conformant: ReferenceData,
    name: str,
    mineral: str,
    question: str,
    cell: str,
) -> None:
    screener = Screener(get_plugin_manager(), conformant, as_of=AS_OF)
    decl = answer(screener.read(filled[name].read_bytes()), question, mineral, "")
    hits = [f for f in screener.screen(decl).findings if f.code == "unanswered-question"]
    assert [(f.cell, f.mineral) for f in hits] == [(cell, mineral)]


def test_emrt_not_declaring_stops_the_gate(
    filled: dict[str, Path], conformant: ReferenceData
) -> None:
    screener = Screener(get_plugin_manager(), conformant, as_of=AS_OF)
    decl = screener.read(filled["EMRT-2.1"].read_bytes())
    decl = answer(decl, "Q1", "Mica", "Not declaring")
    for q in ("Q2", "Q3", "Q4", "Q5", "Q6", "Q7"):
        decl = answer(decl, q, "Mica", "")
    codes = [(f.code, f.mineral) for f in screener.screen(decl).findings]
    assert ("unanswered-question", "Mica") not in codes
    assert ("smelters-for-undeclared-metal", "Mica") in codes  # its rows are still listed


def test_emrt_drc_only_is_covered_country_sourcing(
    filled: dict[str, Path], conformant: ReferenceData
) -> None:
    screener = Screener(get_plugin_manager(), conformant, as_of=AS_OF)
    decl = answer(screener.read(filled["EMRT-1.3"].read_bytes()), "Q3", "Cobalt", "DRC only")
    assert ("covered-country-sourcing", "Cobalt") in [
        (f.code, f.mineral) for f in screener.screen(decl).findings
    ]


def test_findings_order_is_deterministic(clean: Declaration, conformant: ReferenceData) -> None:
    decl = answer(company(clean, company_name="", contact_email="x@y"), "Q3", "Tin", "Yes")
    a = Screener(get_plugin_manager(), conformant, as_of=AS_OF).screen(decl).findings
    b = Screener(get_plugin_manager(), conformant, as_of=AS_OF).screen(decl).findings
    assert a == b
    assert [f.severity for f in a] == sorted(
        (f.severity for f in a), key=["error", "risk", "warning", "info"].index
    )
