"""The shipped example files, their smelters, and ``assay`` helpers for the reference-list tests."""

from __future__ import annotations

import json
from pathlib import Path

from tests.assay.test_cli import assay

ROOT = Path(__file__).resolve().parents[2]
CMRT = str(ROOT / "examples" / "northwind-cmrt-6.5.xlsx")
EMRT = str(ROOT / "examples" / "contoso-emrt-2.1.xlsx")
AS_OF = "2026-06-30"
#: The example CMRT's identified smelters (3TG) and the example EMRT's cobalt refiners.
CMRT_CIDS = [
    "CID003926",
    "CID001076",
    "CID002504",
    "CID000292",
    "CID002703",
    "CID002773",
    "CID002763",
    "CID002920",
    "CID002708",
    "CID000004",
    "CID002833",
    "CID003427",
    "CID003387",
]


def write_3tg_list(path: Path, status_of: dict[str, str] | None = None) -> Path:
    rows = "".join(f"{cid},{(status_of or {}).get(cid, 'Conformant')}\n" for cid in CMRT_CIDS)
    path.write_text("Smelter ID,RMAP Status\n" + rows, "utf-8")
    return path


def lookup(db: str, *queries: str) -> dict[str, dict[str, object]]:
    proc = assay("smelter", "--db", db, "--format", "json", *queries)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {m["cid"]: m for m in json.loads(proc.stdout)["matches"]}
