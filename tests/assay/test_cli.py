"""The assay command, end to end in a subprocess, as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import shared_file

pytestmark = pytest.mark.e2e

ASSAY = shutil.which("assay", path=str(Path(sys.executable).parent)) or "assay"


def assay(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ASSAY, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=300,
    )


def test_screen_json_has_the_documented_shape(tmp_path: Path, filled: dict[str, Path]) -> None:
    db = tmp_path / "s.db"
    proc = assay(
        "screen",
        "--format",
        "json",
        "--as-of",
        "2026-06-30",
        "--db",
        str(db),
        str(filled["CMRT-6.4"]),
        str(filled["EMRT-2.1"]),
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert [o["template"]["type"] for o in out] == ["CMRT", "EMRT"]
    cmrt = out[0]
    assert set(cmrt) >= {
        "file",
        "sha256",
        "template",
        "declaration",
        "smelters",
        "findings",
        "summary",
        "risk_level",
    }
    assert cmrt["template"]["version"] == "6.4"
    decl = cmrt["declaration"]
    assert (
        decl["company_name"] == "Synthetic Components Ltd."
        and decl["effective_date"] == "2026-05-02"
    )
    assert {
        "declaration_scope",
        "contact_name",
        "contact_email",
        "authorizer",
        "authorizer_email",
    } <= set(decl)
    assert len(cmrt["smelters"]) == 12 and set(cmrt["smelters"][0]) >= {
        "row",
        "metal",
        "smelter_id",
        "name",
        "country",
    }
    assert cmrt["smelters"][0]["row"] == 5
    f = cmrt["findings"][0]
    assert set(f) >= {
        "code",
        "severity",
        "message",
        "sheet",
        "cell",
        "mineral",
        "smelter_id",
        "field",
    }
    assert set(cmrt["summary"]) == {"error", "risk", "warning", "info"}
    assert cmrt["risk_level"] in ("high", "medium", "low")
    assert "outdated-template" in {x["code"] for x in cmrt["findings"]}


def test_screen_text_groups_by_severity_with_cells(tmp_path: Path, filled: dict[str, Path]) -> None:
    proc = assay("screen", "--no-store", "--as-of", "2026-06-30", str(filled["CMRT-6.4"]))
    assert proc.returncode == 0
    assert (
        "WARNING (1)" in proc.stdout
        and "Declaration!J3" in proc.stdout
        and "outdated-template" in proc.stdout
    )
    assert "risk level: MEDIUM" in proc.stdout


@pytest.mark.conformance  # RMI's 2014 CFSI export (../shared/data)
def test_rmap_import_then_rescreen_changes_stored_results(
    tmp_path: Path, filled: dict[str, Path]
) -> None:
    db = str(tmp_path / "r.db")
    assert (
        assay("screen", "--db", db, "--as-of", "2026-06-30", str(filled["CMRT-6.5"])).returncode
        == 0
    )
    csv_path = shared_file("data/cfsi-compliant-smelters-2014.csv")
    # The 2014 CFSI list marks some tungsten smelters "Progressing": a word the status table
    # does not know, so the import stops until the operator says what it means.
    args = ("refdata", "import-rmap", "--db", db, "--as-of", "2014-06-01")
    refused = assay(*args, str(csv_path))
    assert refused.returncode == 1 and "'Progressing' (16 rows)" in refused.stderr
    proc = assay(*args, "--map", "Progressing=active", str(csv_path))
    assert proc.returncode == 0, proc.stderr
    assert "'Compliant'" in proc.stdout and "active" in proc.stdout
    proc = assay("rescreen", "--db", db, "--as-of", "2026-06-30")
    assert proc.returncode == 0 and "re-screened 1 submission" in proc.stdout
    import sqlite3

    codes = {r[0] for r in sqlite3.connect(db).execute("select code from findings")}
    assert "smelter-not-conformant" in codes  # most 2026 smelters are not on the 2014 list
    proc = assay("refdata", "show", "--db", db)
    assert "2014-06-01:cfsi-compliant-smelters-2014.csv" in proc.stdout


def test_rmap_import_unknown_layout_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n", "utf-8")
    proc = assay("refdata", "import-rmap", "--db", str(tmp_path / "d.db"), str(bad))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "Smelter ID" in proc.stderr or "smelter id" in proc.stderr


def test_smelter_lookup_by_cid_and_name(tmp_path: Path) -> None:
    db = str(tmp_path / "l.db")
    by_cid = json.loads(assay("smelter", "--db", db, "--format", "json", "CID002082").stdout)
    [hit] = by_cid["matches"]
    assert hit["cid"] == "CID002082" and hit["rmap_standing"] == "no-list"
    assert hit["rmap_status"] is None and hit["rmap_summary"].startswith("unknown")
    by_name = json.loads(
        assay("smelter", "--db", db, "--format", "json", hit["name"].lower()).stdout
    )
    assert by_name["matches"][0]["cid"] == "CID002082"
    miss = assay("smelter", "--db", db, "Zzyzx Qwerty Nonsense")
    assert miss.returncode == 1 and "No smelter found" in miss.stdout and "Nearest" in miss.stdout


def test_config_file_disables_a_check_and_sets_as_of(
    tmp_path: Path, filled: dict[str, Path]
) -> None:
    cfg = tmp_path / "assay.toml"
    cfg.write_text(
        '[assay]\ndatabase = "x.db"\n[screening]\nas_of = "2026-06-30"\ndisabled_checks = ["template"]\n',
        "utf-8",
    )
    proc = assay("--config", str(cfg), "screen", "--format", "json", str(filled["CMRT-6.4"]))
    assert proc.returncode == 0, proc.stderr
    assert "outdated-template" not in {f["code"] for f in json.loads(proc.stdout)[0]["findings"]}
    assert (tmp_path / "x.db").exists()  # relative to the config file


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[nonsense]\nx = 1\n", "utf-8")
    proc = assay("--config", str(cfg), "checks")
    assert (
        proc.returncode == 1 and "unknown section" in proc.stderr and "Traceback" not in proc.stderr
    )


def test_config_example_is_valid(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    proc = assay("--config", str(root / "config.example.toml"), "checks")
    assert proc.returncode == 0, proc.stderr
    assert "smelter-list" in proc.stdout


def test_new_rmap_list_tells_the_channel_which_suppliers_are_affected(
    tmp_path: Path, filled: dict[str, Path]
) -> None:
    import sqlite3

    db = str(tmp_path / "r.db")
    assert (
        assay("screen", "--db", db, "--as-of", "2026-06-30", str(filled["CMRT-6.5"])).returncode
        == 0
    )
    cids = [
        r[0]
        for r in sqlite3.connect(db).execute("select smelter_id from smelter_rows order by row")
    ]
    first = tmp_path / "rmap-2026-01-01.csv"
    first.write_text("Smelter ID,Status\n" + "".join(f"{c},Conformant\n" for c in cids), "utf-8")
    second = tmp_path / "rmap-2026-06-01.csv"
    second.write_text(
        "Smelter ID,Status\n"
        + "".join(f"{c},Conformant\n" for c in cids[1:])
        + f"{cids[0]},Active\n",
        "utf-8",
    )
    assay("refdata", "import-rmap", "--db", db, str(first))
    proc = assay("refdata", "import-rmap", "--db", db, str(second))
    assert "1 listed smelter(s) changed RMAP standing" in proc.stdout
    payloads = [
        json.loads(p)
        for (p,) in sqlite3.connect(db).execute(
            "select payload from outbox where channel = 'alert' and dedupe_key like 'rmap-change:%'"
        )
    ]
    changes = [c for p in payloads for c in p["changes"]]
    assert {
        "cid": cids[0],
        "from": "Conformant",
        "to": "Active",
        "suppliers": ["Synthetic Components Ltd."],
    } in changes
