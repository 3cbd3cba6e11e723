"""Smelter reference lists and CAHRA lists as people hold them, built from code."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from storage.cahra_import import parse_cahra_file
from storage.refdata import RefDataError, load_embedded_smelters
from storage.smelter_import import SmelterTable, fix_mojibake, parse_smelter_file, repair_garbled
from tests import listwriters, reflists
from tests.builders import real_template, template
from tests.listwriters import FORMATS

pytestmark = pytest.mark.slow


# -- smelter reference lists -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_smelter_reference_list_export(tmp_path: Path, fmt: str) -> None:
    path = listwriters.write(
        tmp_path / "reference", reflists.smelter_reference_export(), fmt, "Export"
    )
    got = parse_smelter_file(path)
    assert got.version == "smelters:2025-06-02"
    assert sorted(got.smelters) == ["CID000901", "CID000902", "CID000903"]
    gold = got.smelters["CID000901"]
    assert (gold.metal, gold.country, gold.name) == ("Gold", "SWITZERLAND", "Example Métaux SA")
    # "Exemple M?taux" has no word to restore "M?taux" from ("Métaux" is in the names: restored)
    assert gold.aliases == ("Example Métaux", "Exemple Métaux")
    assert got.smelters["CID000902"].aliases == ("ETS", "Example Tin")
    assert got.smelters["CID000903"].metal == "Tungsten"
    assert got.skipped == 1  # the "Smelter not listed" row


def test_smelter_lookup_of_a_blank_template() -> None:
    got = parse_smelter_file(template("cmrt/RMI_CMRT_6.5_zh-ui.xlsx"))
    assert got.version == "smelters:RMI_CMRT_6.5_zh-ui.xlsx"
    assert {s.metal for s in got.smelters.values()} == {"Gold", "Tantalum", "Tin", "Tungsten"}
    assert "Smelter Look-up" in got.source
    _version, embedded = load_embedded_smelters()
    three_tg = {
        cid for cid, s in embedded.items() if s.metal in ("Gold", "Tantalum", "Tin", "Tungsten")
    }
    assert set(got.smelters) == three_tg  # the synthetic look-up: the embedded 3TG smelters
    for cid, ref in got.smelters.items():
        assert embedded[cid].metal == ref.metal and ref.name == embedded[cid].name


@pytest.mark.conformance
def test_smelter_lookup_of_a_real_blank_template() -> None:
    got = parse_smelter_file(real_template("cmrt/RMI_CMRT_6.5_zh-ui.xlsx"))
    assert got.version == "smelters:RMI_CMRT_6.5_zh-ui.xlsx"
    assert 340 <= len(got.smelters) <= 360  # 349 distinct CIDs in 6.5's look-up
    assert {s.metal for s in got.smelters.values()} == {"Gold", "Tantalum", "Tin", "Tungsten"}
    assert "Smelter Look-up" in got.source
    _version, embedded = load_embedded_smelters()
    for cid, ref in got.smelters.items():
        assert cid in embedded and embedded[cid].metal == ref.metal


def test_garbled_names_repaired_from_the_other_names() -> None:
    assert repair_garbled("Met-Mex Pe?oles, S.A.", ["Metalúrgica Met-Mex Peñoles S.A."]) == (
        "Met-Mex Peñoles, S.A."
    )
    assert repair_garbled("Cendres + M?taux SA", ["Cendres + Metaux", "Cendres + Métaux"]) == (
        "Cendres + Métaux SA"
    )
    assert repair_garbled("Minera\ufffd\ufffdo Example", ["Mineração Example"]) == (
        "Mineração Example"
    )
    assert repair_garbled("Example Pe?oles", ["Example Penoles"]) is None  # nothing to restore from
    assert repair_garbled("Who? Example Co.", []) == "Who? Example Co."  # not inside a word
    assert fix_mojibake("Cendres + MÃ©taux") == "Cendres + Métaux"
    assert fix_mojibake("Métaux") == "Métaux"
    table = SmelterTable()
    table.add("CID000001", "Gold", "Example Pe?oles", "MEXICO", ["Example Peñoles", "Ex M?x"])
    [ref] = table.finish().values()
    assert ref.name == "Example Peñoles" and ref.aliases == ()  # repaired = name; "M?x" dropped


def test_embedded_list_has_no_garbled_names() -> None:
    import re

    _version, smelters = load_embedded_smelters()
    for ref in smelters.values():
        for name in (ref.name, *ref.aliases):
            assert not re.search(r"\w\?\w", name) and "\ufffd" not in name, (ref.cid, name)
            assert fix_mojibake(name) == name, (ref.cid, name)
    assert "Met-Mex Peñoles, S.A." in smelters["CID001161"].aliases
    assert "Cendres + Métaux SA" in smelters["CID000189"].aliases


# -- CAHRA -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_eu_cahra_list_as_distributed(tmp_path: Path, fmt: str) -> None:
    got = parse_cahra_file(
        listwriters.write(tmp_path / "cahra", reflists.cahra_sheet(), fmt, "CAHRA")
    )
    assert got.countries == frozenset({"CD", "MM", "CO", "CI"})
    assert got.areas["CD"] == ("North Kivu", "South Kivu", "Ituri")
    assert got.areas["MM"] == ("Shan State",) and "CO" not in got.areas
    assert got.areas["CI"] == ("Example Region", "Another Example Region")
    assert got.as_of == dt.date(2025, 3, 31) and got.version == "cahra:2025-03-31"


def test_cahra_quarter_is_not_a_date_and_unknown_countries_are_named(tmp_path: Path) -> None:
    rows = reflists.cahra_sheet()[3:]
    got = parse_cahra_file(listwriters.write_csv(tmp_path / "cahra-2025-Q1.csv", rows))
    assert got.as_of is None and got.version == "cahra:cahra-2025-Q1.csv"
    rows.append(["Atlantis", "Lost City", "High-risk"])
    with pytest.raises(RefDataError, match="'Atlantis' \\(row 8\\)"):
        parse_cahra_file(listwriters.write_csv(tmp_path / "bad.csv", rows))


def test_cahra_json_and_plain_lines(tmp_path: Path) -> None:
    path = tmp_path / "cahra.json"
    path.write_text(
        json.dumps(
            {"version": "eu-cahra:2025-03", "as_of": "2025-03-31", "countries": ["MM", "Ukraine"]}
        ),
        "utf-8",
    )
    got = parse_cahra_file(path)
    assert (got.version, got.as_of, got.countries) == (
        "eu-cahra:2025-03",
        dt.date(2025, 3, 31),
        frozenset({"MM", "UA"}),
    )
    lines = tmp_path / "cahra.txt"
    lines.write_text("CAHRA countries as of 31 March 2025\nMyanmar\nDRC\n", "utf-8")
    plain = parse_cahra_file(lines)
    assert plain.countries == frozenset({"MM", "CD"}) and plain.as_of == dt.date(2025, 3, 31)
