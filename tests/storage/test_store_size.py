"""The store stays small: bytes per submission, no duplicate index, re-screens that write only
what changed, originals deduplicated and pruned by age, and old stores migrated in place."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import random
import sys
from pathlib import Path

from click.testing import CliRunner

from assay.cli import cli
from assay.rescreen import rescreen
from plugins.manager import get_plugin_manager
from plugins.pipeline import Screener
from plugins.reference import RmapEntry
from storage.db import open_database
from storage.migrations import MIGRATIONS
from storage.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_store

AS_OF = bench_store.AS_OF
NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)


def _screener(store: Store) -> Screener:
    return Screener(get_plugin_manager(), store.reference_data(), as_of=AS_OF)


def _fill(store: Store, n: int, rows: int = 50) -> list[str]:
    base, _ = bench_store._synthetic_base()
    screener, rng, shas = _screener(store), random.Random(5), []
    for i in range(n):
        sha = hashlib.sha256(b"submission %d" % i).hexdigest()
        result = screener.screen(bench_store.variant(base, i, rows, rng))
        store.record_screening(sha, result, filename=f"s{i}.xlsx", as_of=AS_OF)
        shas.append(sha)
    return shas


def test_a_submission_of_50_rows_takes_at_most_15_kb() -> None:
    m = bench_store.measure(n=40, rows=50, originals=False, real=False)
    assert m["kb_per_submission"] <= 15, m
    assert m["rescreen_same_kb_per_submission"] < 0.1, m  # same lists: nothing written


def test_no_index_is_a_prefix_of_another(tmp_path: Path) -> None:
    store = Store(tmp_path / "a.db")
    tables = [r[0] for r in store.db.execute("select name from sqlite_master where type='table'")]
    for table in tables:
        indexes = []
        for _, name, unique, *_ in store.db.execute(f"pragma index_list([{table}])"):
            cols = tuple(r[2] for r in store.db.execute(f"pragma index_info([{name}])"))
            indexes.append((name, cols, bool(unique)))
        for name, cols, unique in indexes:
            for other, wider, _ in indexes:
                if other != name and not unique:
                    assert wider[: len(cols)] != cols, f"{table}: {name} {cols} is within {other}"
    assert "smelter_rows" in store.db.view_names()  # readers keep their columns


def test_a_rescreen_writes_only_the_results_that_changed(tmp_path: Path) -> None:
    store = Store(tmp_path / "r.db")
    shas = _fill(store, 12)
    first = {s: store.submission(s).last_screening for s in shas}  # type: ignore[union-attr]
    findings = {s: store.findings(s) for s in shas}
    assert store.count("screenings") == 12

    assert rescreen(store, _screener(store).screen, AS_OF, workers=1) == 12
    assert rescreen(store, _screener(store).screen, AS_OF, workers=1) == 12
    assert store.count("screenings") == 12  # the same lists twice: nothing new
    assert {s: store.findings(s) for s in shas} == findings
    later = "2030-01-01T00:00:00+00:00"
    again = _screener(store).screen(store.declaration(shas[0]))  # type: ignore[arg-type]
    assert store.record_results([(shas[0], again)], AS_OF, screened_at=later) == 1
    screening = store.screening(first[shas[0]])  # type: ignore[arg-type]
    assert screening.checked_at == later and screening.screened_at < later  # the date moved

    # A list covering the smelters of some submissions only: those get a new result.
    listed = {r.smelter_id for r in store.declaration(shas[0]).smelters}  # type: ignore[union-attr]
    cid = sorted(listed)[0]
    store.add_rmap_list(
        "2026-06-01:t", dt.date(2026, 6, 1), "test", {cid: RmapEntry(cid, "Conformant")}
    )
    rescreen(store, _screener(store).screen, AS_OF, workers=1)
    moved = {s for s in shas if store.submission(s).last_screening != first[s]}  # type: ignore[union-attr]
    assert shas[0] in moved and store.count("screenings") == 12 + len(moved)
    for s in set(shas) - moved:
        assert store.findings(s) == findings[s]


def test_originals_are_kept_once_and_pruned_by_age(tmp_path: Path) -> None:
    store = Store(tmp_path / "o.db", keep_originals_days=30)
    old, new = b"PK old synthetic file", b"PK new synthetic file"
    sha_old, sha_new = (hashlib.sha256(d).hexdigest() for d in (old, new))
    store.keep_original(sha_old, old, now=NOW - dt.timedelta(days=40))
    store.keep_original(sha_old, old, now=NOW - dt.timedelta(days=40))  # same bytes: one file
    store.keep_original(sha_new, new, now=NOW - dt.timedelta(days=40))
    store.keep_original(sha_new, new, now=NOW - dt.timedelta(days=1))  # received again lately
    grievance = store.files_dir / "grievances" / ("a" * 64)
    grievance.parent.mkdir(parents=True)
    grievance.write_bytes(b"encrypted")
    os.utime(grievance, (0, 0))
    assert store.originals_size() == (2, len(old) + len(new))

    pruned = store.prune_originals(NOW)
    assert (pruned.files, pruned.bytes) == (1, len(old))
    assert store.original(sha_old) is None and store.original(sha_new) == new
    assert grievance.exists()  # not an original: never pruned
    assert store.prune_originals_daily(NOW + dt.timedelta(days=40)) is not None
    assert store.prune_originals_daily(NOW + dt.timedelta(days=40)) is None  # once a day
    assert store.original("../../etc/passwd") is None  # hostile key: no path outside


def test_zero_days_keeps_no_original(tmp_path: Path) -> None:
    store = Store(tmp_path / "z.db", keep_originals_days=0)
    assert store.keep_original("b" * 64, b"data") is None
    assert store.originals_size() == (0, 0)


def test_db_vacuum_prunes_and_prints_sizes(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    store = Store(path, keep_originals_days=1826)
    store.keep_original("c" * 64, b"x" * 1000, now=dt.datetime(2015, 1, 1, tzinfo=dt.UTC))
    store.keep_original("d" * 64, b"y" * 10)
    store.close()
    out = CliRunner().invoke(cli, ["db", "vacuum", "--db", str(path)])
    assert out.exit_code == 0, out.output
    assert "database:" in out.output and "pruned 1 original(s)" in out.output
    assert not (tmp_path / "v.db.files" / "cc" / ("c" * 64)).exists()
    missing = CliRunner().invoke(cli, ["db", "vacuum", "--db", str(tmp_path / "none.db")])
    assert missing.exit_code == 2


def test_an_old_store_is_migrated_and_reads_the_same(tmp_path: Path) -> None:
    """Built on the schema before 009 with the writes of that time, then opened."""
    path = tmp_path / "old.db"
    base, _ = bench_store._synthetic_base()
    ref_store = Store(tmp_path / "ref.db")
    screener = _screener(ref_store)
    decls = [bench_store.variant(base, i, 20, random.Random(i)) for i in range(3)]
    results = [screener.screen(d) for d in decls]
    db = open_database(path)
    db.execute("create table _assay_migrations (name text primary key, applied_at text)")
    for name, fn in MIGRATIONS:
        if name >= "008":
            break
        fn(db)
        db.execute("insert into _assay_migrations values (?, '2026-01-01')", [name])
    shas = []
    for i, (decl, result) in enumerate(zip(decls, results, strict=True)):
        sha = hashlib.sha256(b"old %d" % i).hexdigest()
        shas.append(sha)
        db.table("submissions").insert(
            {
                "sha256": sha,
                "first_seen": "2026-01-01T00:00:00+00:00",
                "filename": f"old{i}.xlsx",
                "template_type": "CMRT",
                "company_name": decl.company["company_name"],
                "declaration_json": json.dumps(decl.to_dict(), ensure_ascii=False),
                "readable": 1,
                "last_screening": i + 1,
                "risk_level": result.risk_level,
            }
        )
        db.table("screenings").insert({"id": i + 1, "sha256": sha, "screened_at": "2026-01-01"})
        for f in result.findings:
            db.table("findings").insert(
                {"sha256": sha, "screening_id": i + 1, "code": f.code, "severity": f.severity}
                | {k: getattr(f, k) for k in ("message", "sheet", "cell", "mineral", "smelter_id")}
                | {"field": f.field, "check": f.check, "related": json.dumps(list(f.related))}
            )
        for r in decl.smelters:
            db.table("smelter_rows").insert(
                {"sha256": sha, "row": r.row, "metal": r.metal, "smelter_id": r.smelter_id}
                | {"name": r.display_name, "country": r.country, "lookup": r.lookup}
            )
    db.conn.commit()
    db.close()

    store = Store(path)
    assert "009_compact_store" in [
        n for (n,) in store.db.execute("select name from _assay_migrations")
    ]
    for sha, decl, result in zip(shas, decls, results, strict=True):
        assert store.declaration(sha) == decl
        assert store.submission(sha).declaration_json == json.dumps(
            decl.to_dict(), separators=(",", ":"), ensure_ascii=False
        )  # type: ignore[union-attr]
        assert [dataclasses.replace(f) for f in store.findings(sha)] == list(result.findings)
        rows = list(store.db["smelter_rows"].rows_where("sha256 = ?", [sha], order_by="row"))
        assert [(r["smelter_id"], r["lookup"], r["name"]) for r in rows] == [
            (r.smelter_id, r.lookup, r.display_name) for r in decl.smelters
        ]
    assert {s for s, _ in store.iter_declarations()} == set(shas)
    assert store.smelter_usage(decls[0].smelters[0].smelter_id)[0] >= 1
