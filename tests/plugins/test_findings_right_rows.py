"""Findings made right on rows and answers: slid rows, repeated CIDs, placeholders, one cause."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from plugins.fold import fold_findings
from plugins.models import Declaration, Finding, SmelterRow
from plugins.normalize import is_placeholder, is_placeholder_phone
from plugins.pipeline import Screener
from plugins.reference import ReferenceData
from tests.builders import cmrt_cells, fill, template
from tests.plugins.findings_right_support import CMRT65, screen, set_row

pytestmark = pytest.mark.slow

NEW_CODES = {"smelter-row-shifted", "mine-country-unclear"}


# -- helpers ----------------------------------------------------------------------------


def add_rows(decl: Declaration, *rows: dict[str, str]) -> Declaration:
    last = max(r.row for r in decl.smelters)
    new = [SmelterRow(row=last + 1 + i, **fields) for i, fields in enumerate(rows)]  # type: ignore[arg-type]
    return replace(decl, smelters=(*decl.smelters, *new))


def answer(decl: Declaration, q: str, mineral: str, value: str) -> Declaration:
    return replace(
        decl,
        answers=tuple(
            replace(a, value=value, raw=value) if (a.question, a.mineral) == (q, mineral) else a
            for a in decl.answers
        ),
    )


def row_of(decl: Declaration, row: int) -> SmelterRow:
    return next(r for r in decl.smelters if r.row == row)


# -- 3. slid rows -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "cells"),
    [
        # the real case: pasted values, the country blank and "Ta scrap" as mine country
        ({"id_source": "F", "country": "", "mine_countries": "Ta scrap"}, ["E9", "O9"]),
        ({"name": "CHINA"}, ["D9"]),  # a country as the smelter name is enough alone
        ({"mine_countries": "Yes"}, ["O9"]),  # the recycled column's answer
        ({"recycled": "Rwanda"}, ["P9"]),
        (
            {"id_source": "F", "country": "", "mine_names": "Rwanda", "mine_countries": ""},
            ["E9", "N9"],
        ),
        ({"mine_names": "Rubavu, Rutsiro", "mine_countries": "Rwanda"}, []),  # as it should be
        ({"mine_names": "Rwanda", "mine_countries": "Rwanda"}, []),
        ({"id_source": "F", "country": ""}, []),  # one weak sign is not enough
        ({"mine_countries": "Ta scrap"}, []),  # nor this one: it is only unclear
        (
            {"id_source": "A", "country": "", "mine_countries": "Ta scrap"},
            [],
        ),  # CID unknown to the look-up
    ],
)
def test_shifted_rows(
    clean: Declaration, conformant: ReferenceData, fields: dict[str, str], cells: list[str]
) -> None:
    decl = set_row(clean, 9, **fields)
    findings = screen(decl, conformant)
    shifted = [f for f in findings if f.code == "smelter-row-shifted"]
    if not cells:
        assert shifted == []
        return
    [f] = shifted
    assert (f.cell, f.related, f.severity) == (
        cells[0],
        tuple(f"Smelter List!{c}" for c in cells[1:]),
        "warning",
    )
    assert all(c in f.message for c in cells) and f.message.startswith("Your Smelter List row 9")
    # one cause, one finding: the slid mine-country cell is not also "unclear"
    assert not [g for g in findings if g.code == "mine-country-unclear" and g.cell == "O9"]


def test_shifted_row_in_a_workbook(tmp_path: Path, screener: Screener) -> None:
    src = template(CMRT65)
    cells = cmrt_cells(src, n_per_metal=1)
    cid = cells["Smelter List"]["A5"]
    # Values pasted one column off: no formulas left, F holds the CID, E is blank.
    cells["Smelter List"].update(
        {
            "A5": None,
            "B5": "Tantalum",
            "C5": None,
            "D5": None,
            "E5": None,
            "F5": cid,
            "O5": "Ta scrap",
        }
    )
    result = screener.screen_bytes(fill(src, tmp_path / "shifted.xlsx", cells).read_bytes())
    found = [(f.code, f.cell, f.related) for f in result.findings if f.code in NEW_CODES]
    assert found == [("smelter-row-shifted", "E5", ("Smelter List!O5",))]


def test_no_new_findings_on_the_clean_fixtures(filled: dict[str, Path], screener: Screener) -> None:
    for name, path in filled.items():
        codes = {f.code for f in screener.screen_bytes(path.read_bytes()).findings}
        assert not codes & (NEW_CODES | {"duplicate-smelter", "placeholder-value"}), name


# -- 4. CIDs repeated once per mine ------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "duplicate"),
    [
        (("Mine A", "Australia"), ("Mine B", "Brazil"), False),
        (("Mine A", "Australia"), ("Mine B", "Australia"), False),
        (("", "Australia"), ("", "Peru"), False),
        (("Mine A", "Australia"), ("mine a ", "AUSTRALIA"), True),
        (("", ""), ("", ""), True),
        (("Mine A", "Australia"), ("", ""), True),  # a repeat without mine data adds nothing
        (("", ""), ("Mine A", "Australia"), False),  # the first mine of a listed smelter
    ],
)
def test_cid_repeated_per_mine(
    clean: Declaration,
    conformant: ReferenceData,
    first: tuple[str, str],
    second: tuple[str, str],
    duplicate: bool,
) -> None:
    base = set_row(clean, 9, mine_names=first[0], mine_countries=first[1])
    again = replace(row_of(base, 9), row=17, mine_names=second[0], mine_countries=second[1])
    decl = replace(base, smelters=(*base.smelters, again))
    dups = [f for f in screen(decl, conformant) if f.code == "duplicate-smelter"]
    assert [(f.cell, f.related) for f in dups] == (
        [("A17", ("Smelter List!A9",))] if duplicate else []
    )


# -- 5. metal-without-smelters on the Declaration -----------------------------------------


def test_metal_without_smelters_points_at_the_minerals_answer(
    clean: Declaration, conformant: ReferenceData
) -> None:
    decl = replace(clean, smelters=tuple(s for s in clean.smelters if s.metal != "Gold"))
    [f] = [f for f in screen(decl, conformant) if f.code == "metal-without-smelters"]
    assert (f.sheet, f.cell, f.mineral, f.field) == ("Declaration", "D34", "Gold", "Q2")
    assert f.related == ("Declaration!D28", "Smelter List!B5")
    assert f.message.startswith("You declared Gold in scope")


# -- 6. placeholders ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "placeholder", "phone_placeholder"),
    [
        ("same", True, True),
        ("N/A", True, True),
        ("NA", True, True),
        ("TBD", True, True),
        ("xxx", True, True),
        ("XXXX", True, True),
        ("-", True, True),
        ("—", True, True),
        ("none", True, True),
        ("unknown", True, True),
        ("Same.", True, True),
        ("+0000000000", True, True),
        ("000-000-0000", True, True),
        ("(000) 000 0000", True, True),
        ("123", False, True),
        ("see e-mail", False, True),
        ("+1 555 0100", False, False),
        ("+86 21 5555 0123", False, False),
        ("555-0100", False, False),
        ("Alex Example", False, True),
        ("Synthetic Components Ltd.", False, True),
    ],
)
def test_placeholder_values(text: str, placeholder: bool, phone_placeholder: bool) -> None:
    assert is_placeholder(text) is placeholder
    assert is_placeholder_phone(text) is phone_placeholder


@pytest.mark.parametrize(
    ("field", "value", "cell"),
    [
        ("contact_phone", "+0000000000", "D17"),
        ("contact_phone", "000-000-0000", "D17"),
        ("contact_phone", "0000", "D17"),
        ("contact_phone", "N/A", "D17"),
        ("contact_name", "xxx", "D15"),
        ("authorizer", "TBD", "D18"),
        ("company_name", "-", "D8"),
        ("contact_phone", "+1 555 0100", None),
        ("contact_phone", "+44 20 5550 0199", None),
    ],
)
def test_placeholder_findings(
    clean: Declaration, conformant: ReferenceData, field: str, value: str, cell: str | None
) -> None:
    decl = replace(clean, company={**clean.company, field: value})
    hits = [(f.cell, f.field) for f in screen(decl, conformant) if f.code == "placeholder-value"]
    assert hits == ([(cell, field)] if cell else [])


# -- 7. one cause, one finding ----------------------------------------------------------------

NOT_YET = {"metal": "Tin", "lookup": "Smelter not yet identified", "name": "Unknown"}


@pytest.mark.parametrize(
    ("q7", "expected"),
    [
        ("Yes", [("contradictory-answers", "D63")]),
        ("No", [("smelters-not-all-identified", "D63")]),
    ],
)
def test_not_yet_identified_rows_are_said_once(
    clean: Declaration, conformant: ReferenceData, q7: str, expected: list[tuple[str, str]]
) -> None:
    decl = answer(add_rows(clean, NOT_YET, NOT_YET), "Q7", "Tin", q7)
    findings = screen(decl, conformant)
    tin = [
        (f.code, f.cell)
        for f in findings
        if f.mineral == "Tin" and f.code in ("contradictory-answers", "smelters-not-all-identified")
    ]
    assert tin == expected
    f = next(f for f in findings if (f.code, f.cell) == expected[0])
    assert f.related == ("Smelter List!C17", "Smelter List!C18")
    assert "rows 17, 18" in f.message and "the supplier" not in f.message


def test_rows_finding_stays_when_the_question_check_is_off(
    clean: Declaration, conformant: ReferenceData
) -> None:
    decl = add_rows(clean, NOT_YET, NOT_YET)
    findings = screen(decl, conformant, disabled_checks=["mineral-questions"])
    rows = [
        (f.code, f.cell, f.related) for f in findings if f.code == "smelters-not-all-identified"
    ]
    assert rows == [("smelters-not-all-identified", "C17", ("Smelter List!C18",))]


def _f(
    code: str,
    severity: str,
    sheet: str,
    cell: str,
    mineral: str = "Tin",
    related: tuple[str, ...] = (),
) -> Finding:
    return Finding(code, severity, f"{code} {cell}", sheet, cell, mineral, related=related)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("absorbed", "kept"),
    [
        (
            _f(
                "smelters-not-all-identified",
                "warning",
                "Smelter List",
                "C17",
                related=("Smelter List!C20",),
            ),
            False,
        ),
        (_f("smelters-not-all-identified", "warning", "Smelter List", "C17", mineral="Gold"), True),
        (_f("smelters-not-all-identified", "warning", "Smelter List", "C99"), True),
        (_f("mine-in-covered-country", "risk", "Smelter List", "C17"), True),  # risks stay
        (_f("invalid-answer", "error", "Smelter List", "C17"), True),  # not a restatement
    ],
)
def test_fold_rule(absorbed: Finding, kept: bool) -> None:
    g = _f(
        "contradictory-answers",
        "warning",
        "Declaration",
        "D63",
        related=("Smelter List!C17", "Smelter List!C18"),
    )
    out = fold_findings([absorbed, g])
    assert (absorbed in out) is kept
    assert out == fold_findings([g, absorbed])  # independent of the order checks ran in
    if not kept:
        [merged] = out
        assert merged.related == ("Smelter List!C17", "Smelter List!C18", "Smelter List!C20")


def test_messages_speak_to_the_supplier(clean: Declaration, conformant: ReferenceData) -> None:
    decl = answer(
        answer(answer(clean, "Q3", "Tin", "Yes"), "Q4", "Gold", "Yes"), "Q6", "Tin", "None"
    )
    decl = answer(decl, "Q3", "Tantalum", "Unknown")
    findings = screen(decl, conformant)
    codes = {
        "covered-country-sourcing",
        "cahra-sourcing",
        "low-supplier-response",
        "sourcing-unknown",
    }
    touched = [f for f in findings if f.code in codes]
    assert {f.code for f in touched} == codes
    for f in touched:
        assert "the supplier" not in f.message and "you" in f.message.casefold(), f.message
