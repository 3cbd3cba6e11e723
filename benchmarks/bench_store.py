"""How many bytes the store takes per submission, split by table and index.

    python benchmarks/bench_store.py [--submissions 200] [--rows 50] [--no-originals]

``n`` distinct submissions of ``rows`` smelter rows each are screened through the real
screening path (:meth:`plugins.pipeline.Screener.screen`) and recorded the way mail, Slack
and the CLI record them (:meth:`storage.store.Store.record_submission`, original kept). The
base declaration is read from a filled CMRT 6.4 when RMI's templates are beside the clone
(``../shared``), else built in code to the same shape (company block, 32 + 8 answers, rows
from the embedded smelter reference); each submission has its own company and its own
sample of the base's smelter rows, so findings differ between submissions as they do in life.

Reported: bytes per submission by table and index (SQLite's ``dbstat``), the vacuumed file's
growth per submission (``kb_per_submission``: the database less the empty store's first page
of each table, about 180 KB once per store; the figure issue 13 sets at most 15 KB; the
whole file divided by ``n`` is ``file_kb_per_submission``), the originals on disk per submission as kept by default (``[storage]
keep_originals_days`` = five years, so all of them), and what one re-screen against a changed
RMAP list, then one against the same lists, adds per submission.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import random
import sqlite3
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

warnings.filterwarnings("ignore")

AS_OF = dt.date(2026, 6, 30)
POOL = 300  # smelter rows each submission samples from
ORIGINAL_BYTES = 1_400_000  # a supplier's CMRT as Excel saves it (issue 13), synthetic base


def measure(
    n: int = 200, rows: int = 50, *, originals: bool = True, real: bool | None = None
) -> dict[str, Any]:
    """Record ``n`` submissions in a fresh store and measure it (see the module docstring).

    ``originals``: keep each submission's original file (the default configuration does);
    ``real``: read the base from a filled template (None: when the templates are there)."""
    from assay.rescreen import rescreen
    from plugins.manager import get_plugin_manager
    from plugins.pipeline import Screener
    from storage.arrivals import ArrivedFile
    from storage.store import Store

    if real is None:
        real = (common.ROOT.parent / "shared" / "templates").is_dir()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        pm = get_plugin_manager()
        screener = Screener(pm, store.reference_data(), as_of=AS_OF)
        base, original = _real_base(screener) if real else _synthetic_base()
        empty = _sizes(store, n)  # every table's first page: a fixed cost per store
        rng = random.Random(13)
        for i in range(n):
            decl = variant(base, i, rows, rng)
            data = original + b"%08d" % i  # distinct bytes of a real file's size
            sha = hashlib.sha256(data).hexdigest()
            result = screener.screen(decl)
            store.record_submission(
                [ArrivedFile(sha, f"supplier-{i:04d}.xlsx", data if originals else b"", result)],
                source="bench",
            )
        first = _sizes(store, n)

        store.add_rmap_list("2026-06-01:bench", dt.date(2026, 6, 1), "bench", _rmap(base))
        rescreen(store, Screener(pm, store.reference_data(), as_of=AS_OF).screen, AS_OF, workers=1)
        changed = _sizes(store, n)
        rescreen(store, Screener(pm, store.reference_data(), as_of=AS_OF).screen, AS_OF, workers=1)
        same = _sizes(store, n)
        kept = sum(p.stat().st_size for p in store.files_dir.rglob("*") if p.is_file())
        screenings = store.count("screenings")
        store.close()
    db_kb = (first["file"] - empty["file"]) / n / 1024
    originals_kb = kept / n / 1024
    return {
        "n": n,
        "rows": rows,
        "base": "filled CMRT 6.4" if real else "synthetic",
        "kb_per_submission": round(db_kb, 2),
        "file_kb_per_submission": round(first["file"] / n / 1024, 2),
        "empty_store_kb": round(empty["file"] / 1024),
        "originals_kb_per_submission": round(originals_kb, 1),
        "total_kb_per_submission": round(db_kb + originals_kb, 1),
        "by_name_bytes": {
            k: round((v - empty["by_name"].get(k, 0)) / n) for k, v in first["by_name"].items()
        },
        "rescreen_changed_kb_per_submission": round(
            (changed["file"] - first["file"]) / n / 1024, 2
        ),
        "rescreen_same_kb_per_submission": round((same["file"] - changed["file"]) / n / 1024, 2),
        "screenings": screenings,
    }


def variant(base: Any, i: int, rows: int, rng: random.Random) -> Any:
    """Supplier ``i``'s declaration: its own company and ``rows`` rows sampled from the base."""
    picked = rng.sample(base.smelters, min(rows, len(base.smelters)))
    smelters = tuple(dataclasses.replace(r, row=5 + j) for j, r in enumerate(picked))
    company = {**base.company, "company_name": f"Synthetic Supplier {i:04d} Ltd."}
    return dataclasses.replace(base, company=company, smelters=smelters)


def _real_base(screener: Any) -> tuple[Any, bytes]:
    decl = screener.read(common.filled_cmrt(POOL).read_bytes())
    return decl, common.filled_cmrt(50).read_bytes()


def _synthetic_base() -> tuple[Any, bytes]:
    """A declaration shaped as the CMRT 6.4 reader returns one, built without a workbook."""
    from plugins.models import Answer, Declaration, SmelterRow, TemplateMeta
    from storage.refdata import load_embedded_smelters

    metals = ("Tantalum", "Tin", "Gold", "Tungsten")
    refs = [r for r in load_embedded_smelters()[1].values() if r.metal in metals][:POOL]
    smelters = tuple(
        SmelterRow(
            row=5 + j,
            metal=r.metal,
            lookup=r.name,
            country=r.country,
            smelter_id=r.cid,
            id_input=r.cid if j % 2 == 0 else "",
            id_source="A" if j % 2 == 0 else "lookup",
            source="RMI",
            standard_name=r.name,
        )
        for j, r in enumerate(refs)
    )
    answers = tuple(
        Answer(
            f"Q{q}", "Yes", f"D{20 + 6 * q + k}", m, comment_cell=f"G{20 + 6 * q + k}", raw="Yes"
        )
        for q in range(1, 9)
        for k, m in enumerate(metals)
    )
    company_answers = tuple(
        Answer(q, "Yes", f"D{75 + 2 * k}", comment_cell=f"G{75 + 2 * k}", raw="Yes")
        for k, q in enumerate("ABCDEFGH")
    )
    company = {
        "company_name": "Synthetic Components Ltd.",
        "declaration_scope": "A. Company",
        "scope_description": "",
        "company_unique_id": "SYN-0001",
        "company_unique_id_authority": "Synthetic Registry",
        "address": "1 Example Way, Testville",
        "contact_name": "Alex Example",
        "contact_email": "alex.example@example.test",
        "contact_phone": "+1 555 0100",
        "authorizer": "Sam Sample",
        "authorizer_title": "Compliance Officer",
        "authorizer_email": "sam.sample@example.test",
        "authorizer_phone": "+1 555 0101",
        "effective_date": "2026-05-02",
    }
    decl = Declaration(
        meta=TemplateMeta("CMRT", "6.4", "CMRT_6.x", language="English"),
        company=company,
        company_cells={k: f"D{8 + i}" for i, k in enumerate(company)},
        effective_date=dt.date(2026, 5, 2),
        effective_date_raw="2026-05-02",
        minerals=metals,
        answers=answers,
        company_answers=company_answers,
        smelters=smelters,
    )
    return decl, random.Random(7).randbytes(ORIGINAL_BYTES)  # a zip does not compress


def _rmap(base: Any) -> dict[str, Any]:
    """An RMAP list over the base's smelters (as bench_rescreen): 60% conformant, 20% active."""
    from plugins.reference import RmapEntry

    rng = random.Random(3)
    entries = {}
    for cid in sorted({r.smelter_id for r in base.smelters if r.smelter_id}):
        roll = rng.random()
        if roll < 0.6:
            entries[cid] = RmapEntry(cid, "Conformant", next_assessment=dt.date(2027, 1, 1))
        elif roll < 0.8:
            entries[cid] = RmapEntry(cid, "Active")
    return entries


def _sizes(store: Any, n: int) -> dict[str, Any]:
    """The vacuumed file size and the bytes of each table and index (``dbstat``)."""
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.db.execute("VACUUM")
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    by_name: dict[str, int] = {}
    try:
        for name, size in store.db.execute(
            "select name, sum(pgsize) from dbstat group by name order by 2 desc"
        ):
            by_name[name] = int(size)
    except sqlite3.OperationalError:  # SQLite built without dbstat: whole file only
        pass
    return {"file": Path(store.path).stat().st_size, "by_name": by_name}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--no-originals", action="store_true")
    args = parser.parse_args()
    m = measure(args.submissions, args.rows, originals=not args.no_originals)
    print(f"{m['n']} submissions of {m['rows']} smelter rows ({m['base']})")
    print("bytes per submission by table / index (vacuumed):")
    for name, size in m["by_name_bytes"].items():
        if size >= 100:
            print(f"  {name:40s} {size:8d}")
    print(f"database:   {m['kb_per_submission']:8.2f} KB per submission (target <= 15)")
    print(
        f"  whole file / n: {m['file_kb_per_submission']:.2f} KB (empty store {m['empty_store_kb']} KB)"
    )
    print(
        f"originals:  {m['originals_kb_per_submission']:8.1f} KB per submission (kept five years)"
    )
    print(f"total:      {m['total_kb_per_submission']:8.1f} KB per submission")
    print(
        f"re-screen, changed RMAP list: +{m['rescreen_changed_kb_per_submission']:.2f} KB per submission"
    )
    print(
        f"re-screen, same lists:        +{m['rescreen_same_kb_per_submission']:.2f} KB per submission"
    )
    print(f"screenings stored: {m['screenings']}")
    verdict = "met" if m["kb_per_submission"] <= 15 else "MISSED"
    print(f"target <= 15 KB per submission: {verdict}")


if __name__ == "__main__":
    main()
