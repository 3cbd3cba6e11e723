"""Reference data: embedded smelter list, RMAP list import by header recognition, CAHRA."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from storage.refdata import (
    RefDataError,
    date_from_name,
    load_embedded_smelters,
    parse_cahra_file,
    parse_rmap_file,
)
from tests.builders import real_template, shared_file

pytestmark = pytest.mark.slow


def test_embedded_list_covers_every_template_lookup() -> None:
    version, smelters = load_embedded_smelters()
    assert version.startswith("embedded:rmi-look-ups:")
    assert len(smelters) >= 780  # 786 distinct CIDs across all bundled look-ups
    assert smelters["CID002082"].metal == "Tungsten" or smelters["CID002082"].name
    metals = {s.metal for s in smelters.values()}
    assert {"Gold", "Tin", "Tantalum", "Tungsten", "Cobalt", "Mica"} <= metals
    assert all(s.cid.startswith("CID") and len(s.cid) == 9 for s in smelters.values())


@pytest.mark.conformance
def test_embedded_list_matches_the_templates_it_came_from(tmp_path: Path) -> None:
    """Regenerating from ../shared gives the committed file (the generator is deterministic)."""
    import json
    import subprocess
    import sys

    real_template()
    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, str(root / "scripts/build_refdata.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for rel in ("storage/data/smelters.json", "plugins/data/countries.json"):
        assert json.loads((tmp_path / rel).read_text("utf-8")) == json.loads(
            (root / rel).read_text("utf-8")
        ), rel


@pytest.mark.conformance
def test_import_2014_cfsi_csv() -> None:
    """The 2014 word "Compliant" is kept and means conformant; "Progressing" needs --map."""
    path = shared_file("data/cfsi-compliant-smelters-2014.csv")
    with pytest.raises(RefDataError, match="'Progressing' \\(16 rows\\)"):
        parse_rmap_file(path)
    parsed = parse_rmap_file(path, status_map={"Progressing": "active"})
    assert len(parsed.entries) >= 120
    entry = parsed.entries["CID000035"]
    assert entry.status == "Compliant" and entry.metal == "Gold" and entry.country == "Germany"
    assert entry.standing == "conformant" and entry.category == "conformant"
    assert parsed.entries["CID002082"].standing == "active"


def test_import_current_facilities_export_xlsx(tmp_path: Path) -> None:
    """An RMI-style export: a title block above the header, status and dates per smelter."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Responsible Minerals Initiative - Facilities List"])
    ws.append(["Exported 2026-10-01"])
    ws.append([])
    ws.append(
        [
            "Smelter ID",
            "Standard Smelter Name",
            "Metal",
            "Country",
            "Assessment Status",
            "Last Assessment Date",
            "Next Assessment Date",
        ]
    )
    ws.append(
        [
            "CID000001",
            "Synthetic Gold Refinery",
            "Gold",
            "JAPAN",
            "Conformant",
            dt.datetime(2025, 3, 1),
            dt.datetime(2026, 3, 1),
        ]
    )
    ws.append(["CID000002", "Synthetic Tin Smelter", "Tin", "BRAZIL", "Active", None, None])
    ws.append(
        ["CID000003", "Synthetic Tungsten Works", "Tungsten", "CHINA", "Non-Conformant", None, None]
    )
    ws.append(["", "", "", "", "", None, None])
    path = tmp_path / "facilities-2026-09-30.xlsx"
    wb.save(path)
    parsed = parse_rmap_file(path)
    assert sorted(parsed.entries) == ["CID000001", "CID000002", "CID000003"]
    assert parsed.entries["CID000001"].next_assessment == dt.date(2026, 3, 1)
    assert [parsed.entries[c].standing for c in ("CID000001", "CID000002", "CID000003")] == [
        "conformant",
        "active",
        "not-conformant",
    ]
    assert parsed.entries["CID000003"].status == "Non-Conformant"  # kept verbatim
    assert parsed.as_of == dt.date(2026, 10, 1)  # the title row wins over the file name
    assert date_from_name(path.name) == dt.date(2026, 9, 30)


def test_unknown_layout_names_expected_columns(tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("Facility,Where,What\nSomething,Somewhere,Gold\n", "utf-8")
    with pytest.raises(RefDataError) as err:
        parse_rmap_file(path)
    assert "smelter id" in str(err.value).casefold() and "status" in str(err.value).casefold()


def test_list_without_status_needs_an_explicit_status(tmp_path: Path) -> None:
    path = tmp_path / "conformant.csv"
    path.write_text("Smelter ID,Smelter Name,Metal\nCID000001,Synthetic,Gold\n", "utf-8")
    with pytest.raises(RefDataError, match="--status"):
        parse_rmap_file(path)
    assert (
        parse_rmap_file(path, default_status="Conformant").entries["CID000001"].status
        == "Conformant"
    )


def test_cahra_file_by_names_and_codes(tmp_path: Path) -> None:
    path = tmp_path / "cahra-2026.csv"
    path.write_text("country\nMyanmar\nDRC\nUA\n", "utf-8")
    got = parse_cahra_file(path)
    assert got.version == "cahra:cahra-2026.csv" and got.countries == frozenset({"MM", "CD", "UA"})
    assert got.as_of is None
    version, codes = got  # the older two-value form still unpacks
    assert (version, codes) == (got.version, got.countries)
    bad = tmp_path / "bad.csv"
    bad.write_text("Atlantis\n", "utf-8")
    with pytest.raises(RefDataError, match="Atlantis"):
        parse_cahra_file(bad)
