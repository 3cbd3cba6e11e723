"""The quirks of real filled files, reproduced in real workbooks and read back."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from plugins.pipeline import Screener
from tests.builders import clean_smelters, cmrt_cells, emrt2_cells, fill, template

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quirky(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CMRT 6.01 as suppliers really fill it in."""
    src = template("cmrt/RMI_CMRT_6.01_zh-ui.xlsx")
    cells = cmrt_cells(src, n_per_metal=1)
    decl = cells["Declaration"]
    decl["D8"] = "Quirky\u3000Synthetic Corp\t\t\t\t\t\t"
    decl["D22"] = "02-May-2026"  # a date typed as text
    for row in (56, 57, 58, 59):
        decl[f"D{row}"] = 1  # "100%" stored as the number 1 (CMRT <= 6.22)
    decl["D9"] = "B. Product (or List of Products)"
    tin, gold = clean_smelters(src, "Tin", 1)[0], clean_smelters(src, "Gold", 1)[0]
    rows = {
        "A5": f" {tin.cid[:3].lower()} {tin.cid[3:]} ",  # typed CID, lower case, spaces
        "H5": 0,  # OFFSET() artefact
        "K5": "0",
        "B6": "Gold",
        "C6": "SMELTER NOT YET IDENTIFIED",
        "B7": "Tin",
        "C7": "smelter not listed",
        "D7": "Synthetic Backyard Smelter\t",
        "E7": "BRAZIL",
        # Excel-style cached values: F holds the CID, R the standard name.
        "B8": "Gold",
        "C8": gold.alias,
        "F8": gold.cid,
        "R8": gold.name,
        "E8": gold.country,
        "A8": "CID000001",  # and the ID typed in A disagrees with F
    }
    cells["Smelter List"] = rows
    cells["Product List"] = {"C6": "Widget without a number"}
    path = fill(src, tmp_path_factory.mktemp("quirks") / "quirky.xlsx", cells)
    # Suppliers delete rows: the sheet ends long before row 2504.
    wb = openpyxl.load_workbook(path)
    wb["Smelter List"].delete_rows(100, 2000)
    wb.save(path)
    return path


def test_quirks_are_normalised(quirky: Path, screener: Screener) -> None:
    decl = screener.read(quirky.read_bytes())
    assert decl.company["company_name"] == "Quirky Synthetic Corp"
    assert decl.effective_date is not None and decl.effective_date.isoformat() == "2026-05-02"
    assert {a.value for a in decl.answers if a.question == "Q6"} == {"100%"}
    by_row = {r.row: r for r in decl.smelters}
    assert sorted(by_row) == [5, 6, 7, 8]
    assert (
        by_row[5].smelter_id.startswith("CID")
        and by_row[5].id_source == "A"
        and by_row[5].metal == "Tin"
    )
    assert by_row[5].street == "" and by_row[5].contact_name == ""  # 0 artefacts are blank
    assert by_row[6].sentinel == "not yet identified"
    assert by_row[7].sentinel == "not listed" and by_row[7].name == "Synthetic Backyard Smelter"
    assert by_row[8].id_source == "F" and by_row[8].standard_name


def test_quirks_findings(quirky: Path, screener: Screener) -> None:
    result = screener.screen_bytes(quirky.read_bytes())
    found = {(f.code, f.cell) for f in result.findings}
    assert ("smelter-id-mismatch", "A8") in found
    # Q7 Gold = Yes, but row 6 is not yet identified: one finding, naming the row (the
    # Smelter List's own "not yet identified" finding is folded into it).
    contra = [f for f in result.findings if f.code == "contradictory-answers"]
    assert [(f.cell, f.related) for f in contra] == [("D64", ("Smelter List!C6",))]
    assert ("smelters-not-all-identified", "C6") not in found
    assert ("smelter-name-unmatched", "D7") in found
    assert ("product-list-missing", "B6") in found  # a product name without its number
    assert ("outdated-template", "J3") in found
    codes = {c for c, _ in found}
    assert (
        "invalid-effective-date" not in codes
        and "invalid-answer" not in codes
        and "missing-required-field" not in codes
    )


def test_emrt2_mine_list_is_read_and_screened(tmp_path: Path, screener: Screener) -> None:
    src = template("emrt/RMI_EMRT_2.1.xlsx")
    cells = emrt2_cells(src)
    cells["Mine List"] = {
        "A5": "Cobalt",
        "C5": "Synthetic Mine",
        "D5": "MINE-001",
        "F5": "CONGO, DEMOCRATIC REPUBLIC OF THE",
    }
    result = screener.screen_bytes(fill(src, tmp_path / "emrt-mines.xlsx", cells).read_bytes())
    assert result.declaration is not None
    [mine] = result.declaration.mines
    assert (mine.row, mine.metal, mine.name, mine.country) == (
        5,
        "Cobalt",
        "Synthetic Mine",
        "CONGO, DEMOCRATIC REPUBLIC OF THE",
    )
    hit = [f for f in result.findings if f.code == "mine-in-covered-country"]
    assert [(f.sheet, f.cell, f.severity) for f in hit] == [("Mine List", "F5", "risk")]


def test_product_list_rows(tmp_path: Path, screener: Screener) -> None:
    src = template("cmrt/RMI_CMRT_6.5_zh-ui.xlsx")
    cells = cmrt_cells(src, n_per_metal=1)
    cells["Declaration"]["D9"] = "B. Product (or List of Products)"
    cells["Product List"] = {"B6": "P-100", "C6": "Synthetic widget", "B7": "P-101"}
    result = screener.screen_bytes(fill(src, tmp_path / "products.xlsx", cells).read_bytes())
    assert result.declaration is not None
    assert [(p.row, p.number, p.name) for p in result.declaration.products] == [
        (6, "P-100", "Synthetic widget"),
        (7, "P-101", ""),
    ]
    assert "product-list-missing" not in {f.code for f in result.findings}
