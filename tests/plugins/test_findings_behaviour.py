"""Findings beyond one case per code: severities, question gates, file-level codes, crashing
and disabled checks, family rules, and a deterministic order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from plugins.checks import Check
from plugins.hookspecs import hookimpl
from plugins.manager import get_plugin_manager
from plugins.models import Declaration
from plugins.pipeline import Screener
from plugins.reference import ReferenceData
from tests.builders import AS_OF, template
from tests.plugins.findings_support import answer, company, with_status


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
    legacy = template("legacy/EICC_CMRT_2.03a_blank.xlsx")
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

    src = template("cmrt/RMI_CMRT_6.5_zh-ui.xlsx")
    cells = cmrt_cells(src)
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
