"""The smelter list and RMAP counts as tables (:mod:`reports.smelter_report`): columns,
the unidentified section in each format, no supplier names in published output, escaping."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest

from program.smelter_list import (
    NO_MATCH,
    NOT_YET_IDENTIFIED,
    MetalCounts,
    SmelterEntry,
    SmelterList,
    UnidentifiedEntry,
)
from reports import smelter_report as sr

SECRET = "Hidden Supplier Omega"
HOSTILE = '=HYPERLINK("http://example.test")'


def entry(metal: str, cid: str, country: str, **kw: object) -> SmelterEntry:
    fields: dict = {
        "name": f"Standard {cid}",
        "standing": "conformant",
        "list_date": "2026-03-01",
        "list_label": "RMAP list 2026-03-01",
        "suppliers": (SECRET, "Visible Parts Ltd"),
        "covered_country": False,
        "cahra_country": False,
    }
    fields.update(kw)
    return SmelterEntry(metal=metal, cid=cid, country=country, **fields)


LIST = SmelterList(
    entries=(
        entry("Gold", "CID000003", "JAPAN"),
        entry("Tin", "CID000001", "RWANDA", covered_country=True, risky_mine_countries=("RW",)),
    ),
    unidentified=(
        UnidentifiedEntry("Tin", "", "", NOT_YET_IDENTIFIED, (SECRET,), 2),
        UnidentifiedEntry("Tin", HOSTILE, "PERU", NO_MATCH, ("Visible Parts Ltd",), 1),
    ),
    suppliers=2,
)
IDENTIFIED = SmelterList(LIST.entries, (), 2)


def test_published_csv_is_metal_smelter_country_then_the_unidentified_table() -> None:
    text = sr.smelters_csv(LIST, "published")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[:3] == [
        ["Metal", "Smelter", "Country"],
        ["Gold", "CID000003", "JAPAN"],
        ["Tin", "CID000001", "RWANDA"],
    ]
    assert rows[3] == []
    assert rows[4] == ["Unidentified smelters"]
    assert rows[5] == ["Metal", "Name", "Country", "Reason", "Rows"]
    assert rows[6] == ["Tin", "", "", NOT_YET_IDENTIFIED, "2"]
    assert rows[7] == ["Tin", "'" + HOSTILE, "PERU", NO_MATCH, "1"]  # escaped
    assert SECRET not in text and "Visible Parts" not in text


def test_a_fully_identified_list_is_exactly_the_published_table() -> None:
    assert (
        sr.smelters_csv(IDENTIFIED)
        == "Metal,Smelter,Country\nGold,CID000003,JAPAN\nTin,CID000001,RWANDA\n"
    )


def test_full_csv_has_the_internal_columns() -> None:
    rows = list(csv.reader(io.StringIO(sr.smelters_csv(LIST, "full"))))
    assert tuple(rows[0]) == sr.FULL_HEADER
    assert rows[2] == [
        "Tin",
        "CID000001",
        "Standard CID000001",
        "RWANDA",
        "conformant",
        "2026-03-01",
        "2",
        "yes",
        "no",
        "RW",
        f"{SECRET}; Visible Parts Ltd",
    ]
    assert tuple(rows[5]) == sr.UNIDENTIFIED_FULL_HEADER
    assert rows[6][-2:] == ["1", SECRET]


def test_xlsx_has_a_second_sheet_and_string_cells(tmp_path: Path) -> None:
    for columns in sr.COLUMNS:
        path = tmp_path / f"{columns}.xlsx"
        sr.write_smelters_xlsx(path, LIST, columns)
        book = openpyxl.load_workbook(path)
        assert book.sheetnames == ["Smelters", "Unidentified"]
        smelters = [[c.value for c in r] for r in book["Smelters"].iter_rows()]
        assert smelters[1][:2] == ["Gold", "CID000003"]
        name = book["Unidentified"]["B3"]
        assert (name.value, name.data_type) == (HOSTILE, "s")
        found = " ".join(str(c.value) for s in book for r in s.iter_rows() for c in r)
        assert (SECRET in found) is (columns == "full")


def test_json_shape() -> None:
    published = sr.smelters_json(LIST, "published", "files")
    assert set(published) == {"smelters", "unidentified", "suppliers", "generated_from"}
    assert published["smelters"][0] == {"metal": "Gold", "smelter": "CID000003", "country": "JAPAN"}
    assert published["unidentified"][0] == {
        "metal": "Tin",
        "name": "",
        "country": "",
        "reason": NOT_YET_IDENTIFIED,
        "rows": 2,
    }
    assert (published["suppliers"], published["generated_from"]) == (2, "files")
    assert SECRET not in str(published)
    full = sr.smelters_json(LIST, "full")
    assert full["smelters"][1]["covered_country"] is True
    assert full["smelters"][1]["supplier_names"] == [SECRET, "Visible Parts Ltd"]


def test_unknown_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="columns"):
        sr.smelters_csv(LIST, "everything")


COUNTS = [
    MetalCounts("Gold", 4, 3, 1, 0, 0, 0.75, "2026-03-01"),
    MetalCounts("Tin", 3, 1, 0, 1, 1, 0.3333, "2026-04-01"),
]


def test_counts_rows_have_a_total_and_the_share_in_percent() -> None:
    assert sr.counts_rows(COUNTS) == [
        ["Gold", 4, 3, 1, 0, 0, 75.0, "2026-03-01"],
        ["Tin", 3, 1, 0, 1, 1, 33.3, "2026-04-01"],
        ["Total", 7, 4, 1, 1, 1, 57.1, "2026-04-01"],
    ]
    rows = list(csv.reader(io.StringIO(sr.counts_csv(COUNTS))))
    assert tuple(rows[0]) == sr.COUNTS_HEADER and rows[3][0] == "Total"
    text = sr.counts_text(COUNTS)
    assert "33.3%" in text and "57.1%" in text and text.splitlines()[-1].startswith("Total")
    assert sr.counts_json(COUNTS)[1]["share_conformant"] == 0.3333
    assert sr.counts_rows([]) == [["Total", 0, 0, 0, 0, 0, 0.0, ""]]
