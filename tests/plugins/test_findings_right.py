"""Findings that real supplier files showed to be wrong, made right (issue 9).

Hyperlinked policy cells, RMI's mine-country codes, rows slid by a column, CIDs repeated
once per mine, metal-without-smelters on the Declaration, placeholders, and one finding
per cause. Workbook cases fill the real blank templates; the rest mutate a clean
declaration read from one (checks are pure functions of the declaration).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from plugins.mine_countries import is_country_text, read_mine_countries
from plugins.models import Declaration, Finding
from plugins.pipeline import Screener, ScreeningResult
from plugins.reference import ReferenceData
from plugins.workbook import parse_hyperlinks, safe_url
from storage.store import Store
from tests.builders import cmrt_cells, fill, template
from tests.plugins.findings_right_support import CMRT65, screen, set_row

pytestmark = pytest.mark.slow


# -- helpers ----------------------------------------------------------------------------


def fill_with_links(
    src: Path, dest: Path, cells: dict[str, dict[str, Any]], links: dict[str, str]
) -> Path:
    """``fill``, then make Declaration cells hyperlinks (``{cell: url}``)."""
    fill(src, dest, cells)
    wb = openpyxl.load_workbook(dest)
    for cell, url in links.items():
        wb["Declaration"][cell].hyperlink = url
    wb.save(dest)
    return dest


# -- 1. hyperlinks ----------------------------------------------------------------------

RELS = (
    b'<Relationships><Relationship Id="rId1" Type="x/hyperlink" '
    b'Target="https://example.test/policy?a=1&amp;b=&#50;" TargetMode="External"/>'
    b'<Relationship Id="rId2" Target="javascript:alert(1)" TargetMode="External"/>'
    b'<Relationship Id="rId3" Target="mailto:policy@example.test" TargetMode="External"/>'
    b'<Relationship Id="rId4" Target="file:///etc/passwd" TargetMode="External"/>'
    b"</Relationships>"
)


def sheet_xml(links: bytes, cells: bytes = b"") -> bytes:
    return (
        b"<worksheet><sheetData>"
        + cells
        + b"</sheetData><hyperlinks>"
        + links
        + b"</hyperlinks></worksheet>"
    )


@pytest.mark.parametrize(
    ("links", "cells", "expected"),
    [
        (
            b'<hyperlink ref="G77" r:id="rId1"/>',
            b"",
            {"G77": "https://example.test/policy?a=1&b=2"},
        ),
        (
            b'<x:hyperlink r:id="rId3" ref="g77" display="a > b"/>',
            b"",
            {"G77": "mailto:policy@example.test"},
        ),
        (b'<hyperlink ref="G77" r:id="rId2"/>', b"", {}),  # javascript: is no URL we keep
        (b'<hyperlink ref="G77" r:id="rId4"/>', b"", {}),  # nor file:
        (b'<hyperlink ref="G77" location="Checker!A1"/>', b"", {}),  # inside the workbook
        (b'<hyperlink ref="G77" r:id="rId9"/>', b"", {}),  # no such relationship
        (
            b'<hyperlink ref="G77:H77" r:id="rId1" location="top"/>',
            b"",
            {
                "G77": "https://example.test/policy?a=1&b=2#top",
                "H77": "https://example.test/policy?a=1&b=2#top",
            },
        ),
        (b'<hyperlink ref="A1:Z100" r:id="rId3"/>', b"", {"A1": "mailto:policy@example.test"}),
        (
            b"",
            b'<row r="77"><c r="G77" t="str"><f>HYPERLINK("https://example.test/f?x=1&amp;y=2","Policy")</f><v>Policy</v></c></row>',
            {"G77": "https://example.test/f?x=1&y=2"},
        ),
    ],
)
def test_hyperlinks_are_read_from_the_sheet_and_its_rels(
    links: bytes, cells: bytes, expected: dict[str, str]
) -> None:
    assert parse_hyperlinks(sheet_xml(links, cells), RELS) == expected


def test_hyperlink_reader_expands_no_entities_and_caps_urls() -> None:
    rels = (
        b'<!DOCTYPE r [<!ENTITY e "https://evil.example/">]><Relationships>'
        b'<Relationship Id="rId1" Target="&e;" TargetMode="External"/>'
        b'<Relationship Id="rId2" Target="https://example.test/' + b"a" * 5000 + b'"/>'
        b'<Relationship Id="rId3" Target="https://example.test/a b"/></Relationships>'
    )
    links = b"".join(b'<hyperlink ref="G%d" r:id="rId%d"/>' % (n, n) for n in (1, 2, 3))
    assert parse_hyperlinks(sheet_xml(links), rels) == {}
    assert safe_url(" https://example.test/p ") == "https://example.test/p"
    assert safe_url("HTTPS://EXAMPLE.TEST") and not safe_url("ftp://example.test")


@pytest.mark.parametrize(
    ("comment", "link", "fires"),
    [
        ("Responsible Minerals Policy", "https://example.test/rmp", False),
        ("Responsible Minerals Policy", None, True),
        ("Responsible Minerals Policy", "mailto:policy@example.test", True),  # not a web page
        ("https://example.test/rmp", None, False),
    ],
)
def test_policy_cell_that_links_to_its_url(
    tmp_path: Path, screener: Screener, comment: str, link: str | None, fires: bool
) -> None:
    src = template(CMRT65)
    cells = cmrt_cells(src, n_per_metal=1)
    cells["Declaration"]["G77"] = comment
    path = fill_with_links(src, tmp_path / "policy.xlsx", cells, {"G77": link} if link else {})
    result = screener.screen_bytes(path.read_bytes())  # read in the sandbox: a stored round trip
    assert result.declaration is not None
    b = result.declaration.company_answer("B")
    assert b is not None and (b.comment, b.comment_url) == (comment, link or "")
    hits = [(f.code, f.cell) for f in result.findings if f.code == "policy-url-missing"]
    assert hits == ([("policy-url-missing", "G77")] if fires else [])


def test_declarations_stored_before_comment_url_still_load(clean: Declaration) -> None:
    data = clean.to_dict()
    linked = replace(
        clean,
        company_answers=tuple(
            replace(a, comment_url="https://example.test/p") if a.question == "B" else a
            for a in clean.company_answers
        ),
    )
    assert Declaration.from_dict(json.loads(json.dumps(linked.to_dict()))) == linked
    for a in data["company_answers"]:
        a.pop("comment_url")
    old = Declaration.from_dict(data)
    assert old == clean and all(a.comment_url == "" for a in old.company_answers)


# -- 2. mine-country codes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "countries", "codes", "unclear"),
    [
        ("CC", (), ("CC",), ()),
        ("CC, HR", (), ("CC", "HR"), ()),
        ("HR", (), ("HR",), ()),  # not Croatia in this column
        ("LR", (), ("LR",), ()),  # not Liberia
        ("R/S", (), ("RS",), ()),
        ("Recycled/Scrap", (), ("RS",), ()),
        ("recycled", (), ("RS",), ()),
        ("DRC", ("CD",), (), ()),
        ("DRC, Rwanda", ("CD", "RW"), (), ()),
        ("CONGO, DEMOCRATIC REPUBLIC OF THE", ("CD",), (), ()),
        ("Bosnia and Herzegovina", ("BA",), (), ()),
        ("Brazil/Peru", ("BR", "PE"), (), ()),
        ("China (Yunnan)", ("CN",), (), ()),
        ("Ta scrap", (), (), ("Ta scrap",)),
        ("various", (), (), ("various",)),
        ("Rubavu, Rutsiro", (), (), ("Rubavu", "Rutsiro")),
        ("Rwanda, Rubavu", ("RW",), (), ("Rubavu",)),
        ("", (), (), ()),
    ],
)
def test_mine_country_text_is_read_with_rmi_codes(
    text: str, countries: tuple[str, ...], codes: tuple[str, ...], unclear: tuple[str, ...]
) -> None:
    read = read_mine_countries(text)
    assert (read.countries, read.codes, read.unclear) == (countries, codes, unclear)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("CHINA", True), ("Rwanda, DRC", True), ("CN", False), ("Rubavu", False), ("CC", False)],
)
def test_country_text(text: str, expected: bool) -> None:
    assert is_country_text(text) is expected


@pytest.mark.parametrize(
    ("mine", "codes", "in_message"),
    [
        ("CC", {"mine-in-covered-country"}, "CC (covered countries)"),
        ("DRC", {"mine-in-covered-country"}, "Democratic Republic of the Congo"),
        ("CC, DRC", {"mine-in-covered-country"}, "CC (covered countries)"),
        ("HR", {"mine-in-cahra"}, "HR (high-risk area)"),
        ("CC, HR", {"mine-in-covered-country", "mine-in-cahra"}, "CC (covered countries)"),
        ("LR", set(), ""),
        ("R/S", set(), ""),
        ("Recycled/Scrap", set(), ""),
        ("Australia, Japan", set(), ""),
        ("Ta scrap", {"mine-country-unclear"}, "'Ta scrap'"),
        ("various", {"mine-country-unclear"}, "'various'"),
        ("Rwanda, Rubavu", {"mine-in-covered-country", "mine-country-unclear"}, "'Rubavu'"),
    ],
)
def test_mine_country_findings(
    clean: Declaration,
    conformant: ReferenceData,
    mine: str,
    codes: set[str],
    in_message: str,
) -> None:
    decl = set_row(clean, 9, mine_countries=mine)  # Tin, CID typed in A
    found = [f for f in screen(decl, conformant) if f.cell == "O9"]
    assert {f.code for f in found} == codes
    # one finding per code and cell, however many covered countries the cell names
    assert len(found) == len(codes)
    if in_message:
        assert any(in_message in f.message for f in found)
    assert all("you" in f.message.casefold() for f in found)


def test_cc_and_drc_rows_in_a_workbook_are_both_flagged(tmp_path: Path, screener: Screener) -> None:
    """The real-file case: a row saying "CC" passed while one saying "DRC" was flagged."""
    src = template(CMRT65)
    cells = cmrt_cells(src, n_per_metal=1)
    cells["Smelter List"].update(
        {"N5": "Synthetic mine A", "O5": "CC", "N6": "Synthetic mine B", "O6": "DRC"}
    )
    result = screener.screen_bytes(fill(src, tmp_path / "cc.xlsx", cells).read_bytes())
    hits = [
        (f.code, f.cell, f.severity) for f in result.findings if f.code == "mine-in-covered-country"
    ]
    assert hits == [
        ("mine-in-covered-country", "O5", "risk"),
        ("mine-in-covered-country", "O6", "risk"),
    ]
    assert result.risk_level == "high"


def test_unclear_text_on_many_rows_is_one_finding_naming_them(
    clean: Declaration, conformant: ReferenceData
) -> None:
    decl = clean
    for row in (5, 6, 9):
        decl = set_row(decl, row, mine_countries="Various ")
    decl = set_row(decl, 10, mine_countries="Unknown")
    unclear = [f for f in screen(decl, conformant) if f.code == "mine-country-unclear"]
    assert [(f.cell, f.related) for f in unclear] == [
        ("O5", ("Smelter List!O6", "Smelter List!O9")),
        ("O10", ()),
    ]
    assert "rows 6, 9" in unclear[0].message and "does not name" in unclear[1].message


def test_covered_question_no_with_cc_rows_names_the_rows_and_keeps_their_risks(
    clean: Declaration, conformant: ReferenceData
) -> None:
    decl = set_row(set_row(clean, 8, mine_countries="CC"), 10, mine_countries="Rwanda")
    findings = screen(decl, conformant)  # Q3 Tin = No in the clean declaration
    contra = [f for f in findings if f.code == "contradictory-answers"]
    assert [(f.cell, f.related) for f in contra] == [
        ("D39", ("Smelter List!O8", "Smelter List!O10"))
    ]
    assert "rows 8, 10" in contra[0].message
    risks = [(f.code, f.cell) for f in findings if f.severity == "risk"]
    assert risks == [("mine-in-covered-country", "O8"), ("mine-in-covered-country", "O10")]


# -- storage -------------------------------------------------------------------------------


def test_related_cells_are_stored_and_old_rows_load(tmp_path: Path) -> None:
    from storage.migrations import MIGRATIONS

    assert "006_finding_related" in [name for name, _ in MIGRATIONS]
    store = Store(tmp_path / "a.db")
    findings = (
        Finding(
            "contradictory-answers",
            "warning",
            "m",
            "Declaration",
            "D63",
            "Tin",
            related=("Smelter List!C17", "Smelter List!C18"),
        ),
        Finding("invalid-email", "warning", "m", "Declaration", "D16"),
    )
    store.record_screening("a" * 64, ScreeningResult(declaration=None, findings=findings))
    assert store.findings("a" * 64) == list(findings)
    raw = store.db.execute("select related from findings order by rowid").fetchall()
    assert [r[0] for r in raw] == ['["Smelter List!C17", "Smelter List!C18"]', None]
    # A finding stored before the column existed (NULL), or a damaged value, loads as ().
    store.db.execute("update findings set related = 'not json'")
    assert [f.related for f in store.findings("a" * 64)] == [(), ()]
