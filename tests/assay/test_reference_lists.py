"""Reference lists as people hold them, end to end through the ``assay`` command.

Lists are written here from code (synthetic rows over real CIDs of the embedded reference);
the screened files are the shipped synthetic examples, so these tests need no ../shared.
Lists in use (screening, look-ups, CAHRA, refreshes) are in test_reference_lists_use.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storage.refdata import load_embedded_smelters
from tests.assay.reflist_support import AS_OF, CMRT, CMRT_CIDS, lookup, write_3tg_list
from tests.assay.test_cli import assay

pytestmark = pytest.mark.e2e

SEVEN = [
    "Conformant",
    "Active",
    "Non-Conformant",
    "Outreach Required",
    "RMI Due Diligence Review – Unable to Proceed",  # an en dash, as filings print it
    "Communication Suspended - Not Interested",
    "In Communication",
]


def tin_cids(n: int) -> list[str]:
    _v, smelters = load_embedded_smelters()
    return sorted(c for c, s in smelters.items() if s.metal == "Tin")[:n]


def test_a_filing_with_all_seven_status_words(tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    cids = tin_cids(7)
    filing = tmp_path / "filing.csv"
    filing.write_text(
        '"Smelters and refiners in our supply chain as of December 31, 2024"\n\n'
        "Metal,Smelter Name,Smelter Identification,Country,RMAP Audit Status\n"
        + "".join(
            f'Tin,Example Smelter {i},{cid},Example Country,"{word}"\n'
            for i, (cid, word) in enumerate(zip(cids, SEVEN, strict=True))
        ),
        "utf-8",
    )
    proc = assay("refdata", "import-rmap", "--db", db, str(filing))
    assert proc.returncode == 0, proc.stderr
    assert "dated 2024-12-31" in proc.stdout and "covering Tin" in proc.stdout
    got = lookup(db, *cids)
    assert [got[c]["rmap_standing"] for c in cids] == ["conformant", "active"] + [
        "not-conformant"
    ] * 5
    assert [got[c]["rmap_status"] for c in cids][:4] == SEVEN[:4]
    assert {got[c]["rmap_list_date"] for c in cids} == {"2024-12-31"}
    # A gold smelter: the tin list does not cover gold.
    _v, smelters = load_embedded_smelters()
    gold = next(c for c, s in sorted(smelters.items()) if s.metal == "Gold")
    assert lookup(db, gold)[gold]["rmap_standing"] == "not-covered"


def test_unknown_status_words_stop_the_import_until_mapped(tmp_path: Path) -> None:
    db = str(tmp_path / "u.db")
    cids = tin_cids(3)
    path = tmp_path / "odd-2025-05-01.csv"
    path.write_text(
        "Smelter ID,Status\n"
        f"{cids[0]},Conformant\n{cids[1]},Pending Review\n{cids[2]},Pending Review\n",
        "utf-8",
    )
    proc = assay("refdata", "import-rmap", "--db", db, str(path))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "Pending Review" in proc.stderr and "--map" in proc.stderr
    assert "none loaded" in assay("refdata", "show", "--db", db).stdout
    proc = assay("refdata", "import-rmap", "--db", db, "--map", "Pending Review=active", str(path))
    assert proc.returncode == 0, proc.stderr
    got = lookup(db, cids[1])
    assert got[cids[1]]["rmap_standing"] == "active"
    assert got[cids[1]]["rmap_status"] == "Pending Review"


def test_a_list_without_a_date_is_refused(tmp_path: Path) -> None:
    db = str(tmp_path / "d.db")
    path = write_3tg_list(tmp_path / "rmap.csv")
    proc = assay("refdata", "import-rmap", "--db", db, str(path))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "--as-of" in proc.stderr and "Nothing was loaded" in proc.stderr
    assert "none loaded" in assay("refdata", "show", "--db", db).stdout


def test_conflicting_statuses_keep_the_less_favourable_and_are_named(tmp_path: Path) -> None:
    db = str(tmp_path / "k.db")
    cids = tin_cids(2)
    path = tmp_path / "two-2026-05-01.csv"
    path.write_text(
        f"Smelter ID,Status\n{cids[0]},Conformant\n{cids[1]},Active\n{cids[0]},Active\n", "utf-8"
    )
    proc = assay("refdata", "import-rmap", "--db", db, str(path))
    assert proc.returncode == 0, proc.stderr
    assert cids[0] in proc.stdout and "less favourable" in proc.stdout
    assert lookup(db, cids[0])[cids[0]]["rmap_standing"] == "active"


def test_one_column_csvs_get_a_sentence(tmp_path: Path) -> None:
    one = tmp_path / "ids.csv"
    one.write_text("Smelter ID\nCID002082\nCID000292\n", "utf-8")
    for args in (
        ("refdata", "import-rmap", "--as-of", "2026-01-01"),
        ("suppliers", "import"),
    ):
        proc = assay(*args, "--db", str(tmp_path / "x.db"), str(one))
        assert proc.returncode == 1, args
        assert "Traceback" not in proc.stderr and "Error: ids.csv:" in proc.stderr, proc.stderr


def test_one_status_exports_of_one_date_are_read_together(tmp_path: Path) -> None:
    """RMI's Conformant and Active exports downloaded the same day: neither makes the other's
    smelters absent; a later list replaces both, and the import says so."""
    db = str(tmp_path / "t.db")
    conformant, active = CMRT_CIDS[:8], CMRT_CIDS[8:]
    for name, status, cids in (
        ("conformant-2026-06-01.csv", "Conformant", conformant),
        ("active-2026-06-01.csv", "Active", active),
    ):
        path = tmp_path / name
        path.write_text(
            "Smelter ID,Smelter Name\n" + "".join(f"{c},Example {c}\n" for c in cids), "utf-8"
        )
        proc = assay("refdata", "import-rmap", "--db", db, "--status", status, str(path))
        assert proc.returncode == 0, proc.stderr
    assert "read together with the RMAP list 2026-06-01:conformant-2026-06-01.csv" in proc.stdout
    got = lookup(db, *CMRT_CIDS)
    assert {got[c]["rmap_standing"] for c in conformant} == {"conformant"}
    assert {got[c]["rmap_standing"] for c in active} == {"active"}
    proc = assay("screen", "--no-store", "--db", db, "--as-of", AS_OF, "--format", "json", CMRT)
    codes = {f["code"] for f in json.loads(proc.stdout)[0]["findings"]}
    assert "smelter-not-conformant" not in codes and "smelter-active" in codes
    newer = write_3tg_list(tmp_path / "all-2026-06-20.csv")
    proc = assay("refdata", "import-rmap", "--db", db, str(newer))
    assert "now judged by this list instead of the RMAP list 2026-06-01:" in proc.stdout
    shown = assay("refdata", "show", "--db", db).stdout
    assert "all-2026-06-20.csv" in shown and "conformant-2026-06-01.csv" not in shown


def test_future_dates_and_unknown_metals_are_refused(tmp_path: Path) -> None:
    db = str(tmp_path / "f.db")
    path = write_3tg_list(tmp_path / "l.csv")
    proc = assay("refdata", "import-rmap", "--db", db, "--as-of", "2062-01-01", str(path))
    assert proc.returncode == 1 and "in the future" in proc.stderr
    proc = assay(
        "refdata", "import-rmap", "--db", db, "--as-of", "2026-06-01", "--metals", "3TG", str(path)
    )
    assert proc.returncode == 2 and "'3TG' is not a metal" in proc.stderr
    assert "none loaded" in assay("refdata", "show", "--db", db).stdout
