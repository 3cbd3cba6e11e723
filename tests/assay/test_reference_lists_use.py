"""Reference lists in use, end to end: screening, rescreening, alerts, look-ups, CAHRA, refresh."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from storage.refdata import load_embedded_smelters
from tests.assay.reflist_support import AS_OF, CMRT, EMRT, lookup, write_3tg_list
from tests.assay.test_cli import assay

pytestmark = pytest.mark.e2e


def findings(db: str, path_like: str) -> set[tuple[str, str]]:
    con = sqlite3.connect(db)
    return {
        (code, sid or "")
        for code, sid in con.execute(
            "select f.code, f.smelter_id from findings f join submissions s on s.sha256 = f.sha256 "
            "where s.filename like ?",
            [f"%{path_like}%"],
        )
    }


def test_3tg_list_does_not_judge_an_emrt_and_rescreen_applies_a_cobalt_list(
    tmp_path: Path,
) -> None:
    db = str(tmp_path / "c.db")
    proc = assay(
        "refdata",
        "import-rmap",
        "--db",
        db,
        "--as-of",
        "2026-06-01",
        str(write_3tg_list(tmp_path / "3tg.csv")),
    )
    assert proc.returncode == 0, proc.stderr
    proc = assay("screen", "--db", db, "--as-of", AS_OF, "--format", "json", EMRT, CMRT)
    emrt, cmrt = json.loads(proc.stdout)
    assert emrt["risk_level"] == "low"
    codes = [f["code"] for f in emrt["findings"]]
    assert "smelter-not-conformant" not in codes
    assert codes.count("rmap-metal-not-covered") == 1
    note = next(f for f in emrt["findings"] if f["code"] == "rmap-metal-not-covered")
    assert "Cobalt" in note["message"] and "Mica" in note["message"]
    assert "smelter-not-conformant" not in [f["code"] for f in cmrt["findings"]]
    before_emrt, before_cmrt = findings(db, "emrt"), findings(db, "cmrt")

    cobalt = tmp_path / "cobalt-2026-06-15.csv"
    cobalt.write_text(
        "Metal,Smelter ID,Assessment Status\n"
        "Cobalt,CID003875,Conformant\nCobalt,CID003927,Outreach Required\n",
        "utf-8",
    )
    proc = assay("refdata", "import-rmap", "--db", db, str(cobalt))
    assert proc.returncode == 0, proc.stderr
    assert "covering Cobalt" in proc.stdout
    assert assay("rescreen", "--db", db, "--as-of", AS_OF).returncode == 0
    after_emrt, after_cmrt = findings(db, "emrt"), findings(db, "cmrt")
    assert after_cmrt == before_cmrt  # the cobalt list says nothing about 3TG
    # Exactly what the cobalt list implies: CID003927 has a not-conformant word, CID003481 is
    # absent from a list that covers cobalt; mica stays not covered (said once, as before).
    assert after_emrt - before_emrt == {
        ("smelter-not-conformant", "CID003927"),
        ("smelter-not-conformant", "CID003481"),
    }
    assert before_emrt - after_emrt == set()
    assert ("rmap-metal-not-covered", "") in after_emrt


def test_screen_no_store_uses_the_lists_of_db(tmp_path: Path) -> None:
    db = str(tmp_path / "n.db")
    assay(
        "refdata",
        "import-rmap",
        "--db",
        db,
        "--as-of",
        "2026-06-01",
        str(write_3tg_list(tmp_path / "l.csv", {"CID002763": "Non-Conformant"})),
    )
    proc = assay("screen", "--no-store", "--db", db, "--as-of", AS_OF, "--format", "json", CMRT)
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)
    codes = {(f["code"], f["smelter_id"]) for f in result["findings"]}
    assert ("smelter-not-conformant", "CID002763") in codes
    assert not any(c == "rmap-status-unknown" for c, _ in codes)
    assert sqlite3.connect(db).execute("select count(*) from submissions").fetchone()[0] == 0
    missing = assay("screen", "--no-store", "--db", str(tmp_path / "none.db"), CMRT)
    assert missing.returncode == 1 and "no database" in missing.stderr


def test_an_old_list_warns_in_screening_output_and_alerts_once(tmp_path: Path) -> None:
    db = str(tmp_path / "o.db")
    proc = assay(
        "refdata",
        "import-rmap",
        "--db",
        db,
        "--as-of",
        "2020-01-02",
        str(write_3tg_list(tmp_path / "old.csv")),
    )
    assert proc.returncode == 0 and "WARNING: The RMAP list 2020-01-02:old.csv" in proc.stdout
    proc = assay("screen", "--no-store", "--db", db, "--as-of", "2020-07-01", CMRT)
    assert re.search(
        r"REFERENCE WARNING: The RMAP list 2020-01-02:old.csv is dated 2020-01-02, 181 days ago",
        proc.stdout,
    )
    fresh = assay("screen", "--no-store", "--db", db, "--as-of", "2020-02-01", CMRT)
    assert "REFERENCE WARNING: The RMAP list" not in fresh.stdout
    alerts = [
        json.loads(p)
        for (p,) in sqlite3.connect(db).execute(
            "select payload from outbox where dedupe_key like 'stale-list:RMAP:%'"
        )
    ]
    assert len(alerts) == 1 and alerts[0]["kind"] == "stale-list"


def test_smelter_queries_in_every_form(tmp_path: Path) -> None:
    db = str(tmp_path / "q.db")
    for form in ("cid2082", "CID 002082", "002082", "\uffa0CID002082", "is cid2082 conformant?"):
        got = lookup(db, form)
        assert list(got) == ["CID002082"], form
    proc = assay("smelter", "--db", db, "--format", "json", "CID002082", "Xiamen Tungsten")
    answer = json.loads(proc.stdout)
    assert [a["query"] for a in answer["answers"]] == ["CID002082", "Xiamen Tungsten"]
    match = answer["answers"][0]["matches"][0]
    for key in (
        "cid",
        "name",
        "aliases",
        "metal",
        "country",
        "rmap_status",
        "rmap_standing",
        "rmap_list",
        "rmap_list_date",
        "rmap_last_audit_date",
        "rmap_reaudit_due",
        "country_risk",
        "suppliers",
    ):
        assert key in match, key
    assert match["rmap_standing"] == "no-list" and match["rmap_status"] is None
    penoles = lookup(db, "CID001161")["CID001161"]
    assert not any("?" in a for a in penoles["aliases"])  # type: ignore[union-attr]
    assert any("Peñoles" in a for a in penoles["aliases"])  # type: ignore[union-attr]
    miss = assay("smelter", "--db", db, "CID002082", "Zzyzx Qwerty Nonsense")
    assert miss.returncode == 1 and "Xiamen" in miss.stdout and "No smelter found" in miss.stdout


def test_suppliers_are_credited_whenever_they_register(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    # Screened before the registry exists ...
    assert assay("screen", "--db", db, "--as-of", AS_OF, CMRT).returncode == 0
    registry = tmp_path / "suppliers.csv"
    registry.write_text(
        "name,emails,domains\n"
        "Northwind Synthetic Metals Ltd.,sales@northwind.example,\n"
        "Contoso Synthetic Batteries Inc.,,contoso.example\n"
        "Fabrikam Synthetic Parts,,fabrikam.example\n",
        "utf-8",
    )
    assert assay("suppliers", "import", "--db", db, str(registry)).returncode == 0
    # ... and screened after it.
    assert assay("screen", "--db", db, "--as-of", AS_OF, EMRT).returncode == 0
    proc = assay("suppliers", "list", "--db", db, "--format", "json")
    rows = {r["name"]: r for r in json.loads(proc.stdout)}
    assert rows["Northwind Synthetic Metals Ltd."]["template_type"] == "CMRT"
    assert rows["Contoso Synthetic Batteries Inc."]["template_type"] == "EMRT"
    assert rows["Fabrikam Synthetic Parts"]["last_received"] is None
    text = assay("suppliers", "list", "--db", db).stdout
    assert "2 of 3 supplier(s) answered (67%)" in text


def test_names_holding_and_stay_one_query(tmp_path: Path) -> None:
    db = str(tmp_path / "m.db")
    one = json.loads(
        assay(
            "smelter", "--db", db, "--format", "json", "Mitsui Mining and Smelting Co., Ltd."
        ).stdout
    )
    assert len(one["answers"]) == 1
    assert {m["name"] for m in one["matches"]} == {"Mitsui Mining and Smelting Co., Ltd."}
    two = json.loads(assay("smelter", "--db", db, "--format", "json", "Heraeus and Metalor").stdout)
    assert [a["query"] for a in two["answers"]] == ["Heraeus", "Metalor"]


def test_cahra_areas_make_location_an_info_and_the_list_is_dated(tmp_path: Path) -> None:
    from tests.listwriters import write

    db = str(tmp_path / "h.db")
    sheet = [
        ["Indicative, non-exhaustive list of conflict-affected and high-risk areas"],
        ["Last update: 31 March 2025"],
        [],
        ["Country", "Sub-national area", "Classification"],
        ["Brazil", "Example Area", "High-risk"],
        ["Colombia", "", "High-risk"],
    ]
    path = write(tmp_path / "cahra", sheet, "xlsx")
    proc = assay("refdata", "import-cahra", "--db", db, str(path))
    assert proc.returncode == 0, proc.stderr
    assert "of 2025-03-31: 2 countries" in proc.stdout
    proc = assay(
        "screen", "--no-store", "--db", db, "--as-of", "2025-05-01", "--format", "json", CMRT
    )
    (result,) = json.loads(proc.stdout)
    located = [f for f in result["findings"] if f["code"] == "smelter-in-cahra"]
    # The three Brazilian smelters, and the example's unidentified row located in Brazil.
    assert {f["smelter_id"] for f in located} == {"CID001076", "CID002833", "CID003427", ""}
    assert all(f["severity"] == "info" and "Example Area" in f["message"] for f in located)
    assert all("2025-03-31" in f["message"] for f in located)
    assert result["notices"] == []  # the CAHRA list is 31 days old on 2025-05-01
    undated = write(tmp_path / "cahra-undated", sheet[3:], "csv")
    proc = assay("refdata", "import-cahra", "--db", db, str(undated))
    assert proc.returncode == 1 and "--as-of" in proc.stderr and "Traceback" not in proc.stderr


def test_smelter_reference_refresh(tmp_path: Path) -> None:
    from tests.listwriters import write
    from tests.reflists import smelter_reference_export

    db = str(tmp_path / "r.db")
    _v, smelters = load_embedded_smelters()
    before = smelters["CID000902"].name if "CID000902" in smelters else None
    path = write(tmp_path / "srl", smelter_reference_export(), "xlsx")
    proc = assay("refdata", "import-smelters", "--db", db, str(path))
    assert proc.returncode == 0, proc.stderr
    got = lookup(db, "CID000902")["CID000902"]
    assert got["name"] == "Example Tin Smelter" and "ETS" in got["aliases"]  # type: ignore[operator]
    if before:
        assert before in got["aliases"]  # type: ignore[operator]
    assert lookup(db, "CID000901")["CID000901"]["name"] == "Example Métaux SA"
