"""Re-screening stored submissions against a new RMAP list, as after every list import.

    python benchmarks/bench_rescreen.py [--quick]

Setup (not timed): 2,000 submissions (300 with ``--quick``) are stored with their first
screening. Each is its own supplier's declaration: a company name of its own and smelter
rows drawn at random (fixed seed) from the embedded reference list, 1-300 rows for 98% of
them and 1,000-3,000 for the other 2%, as real files vary.

Timed, ``runs`` times (3; 2 with ``--quick``), each against a new RMAP list (another seed,
so results really change and are written): `assay.rescreen.rescreen`, interleaved with the
reference, merely loading and deserialising every stored declaration (the floor any
re-screen pays). Target: 2,000 submissions in under 10 s (scaled to the count).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import random
import tempfile
import warnings
from pathlib import Path

from common import Row, cli, compare, filled_cmrt, interleaved

warnings.filterwarnings("ignore")


def row_counts(n: int, rng: random.Random) -> list[int]:
    return [
        rng.randint(1000, 3000) if rng.random() < 0.02 else rng.randint(1, 300) for _ in range(n)
    ]


def rows(quick: bool) -> list[Row]:
    from assay.rescreen import rescreen
    from plugins.manager import get_plugin_manager
    from plugins.models import SmelterRow
    from plugins.pipeline import Screener
    from plugins.reference import RmapEntry
    from storage.store import Store

    n, runs = (300, 2) if quick else (2000, 3)
    as_of = dt.date(2026, 6, 30)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        pm = get_plugin_manager()
        ref = store.reference_data()
        screener = Screener(pm, ref, as_of=as_of)
        base = screener.read(filled_cmrt(1).read_bytes())
        pool = sorted(ref.smelters.items())
        rng = random.Random(2026)
        counts = row_counts(n, rng)
        for i, k in enumerate(counts):
            picked = rng.sample(pool, k) if k <= len(pool) else rng.choices(pool, k=k)
            smelters = tuple(
                SmelterRow(row=5 + j, metal=s.metal, lookup=s.name, standard_name=s.name,
                           country=s.country, smelter_id=cid, id_column=cid, id_source="F")
                for j, (cid, s) in enumerate(picked)
            )  # fmt: skip
            decl = dataclasses.replace(
                base,
                company={**base.company, "company_name": f"Synthetic Supplier {i:04d} Ltd."},
                smelters=smelters,
            )
            sha = hashlib.sha256(f"bench-{i}".encode()).hexdigest()
            store.record_screening(sha, screener.screen(decl), filename=f"s{i}.xlsx", as_of=as_of)
        cids = sorted(ref.smelters)
        lists = iter(range(1, runs + 2))

        def new_list() -> None:
            seed = next(lists)
            r = random.Random(seed)
            entries = {}
            for cid in cids:
                roll = r.random()
                if roll < 0.6:
                    due = dt.date(2027, 1, 1) if roll < 0.55 else dt.date(2026, 1, 1)
                    entries[cid] = RmapEntry(cid, "Conformant", next_assessment=due)
                elif roll < 0.8:
                    entries[cid] = RmapEntry(cid, "Active")
            store.add_rmap_list(
                f"2026-06-{seed:02d}:bench", dt.date(2026, 6, seed), "bench", entries
            )

        def rescreen_all() -> float:
            import time

            new_list()  # not timed
            start = time.perf_counter()
            rescreen(store, Screener(pm, store.reference_data(), as_of=as_of).screen, as_of=as_of)
            return time.perf_counter() - start

        def load_all() -> None:
            assert sum(1 for _ in store.iter_declarations()) == n

        t = interleaved({"rescreen": rescreen_all, "load": load_all}, runs, warmup=0)
        rows_total = sum(counts)
    limit_s = 10 * n / 2000
    row = compare(
        f"rescreen {n} submissions ({rows_total:,} rows)",
        t["rescreen"],
        t["load"],
        note=f"rows per submission 1-300, 2% 1,000-3,000 (median {sorted(counts)[n // 2]}); "
        f"{runs} runs, each after a new RMAP list; reference: loading and deserialising every "
        f"declaration; target: under {limit_s:g} s (10 s per 2,000)",
    )
    row.target = f"< {limit_s:g} s"
    row.ok = row.measured is not None and row.measured < limit_s
    return [row]


if __name__ == "__main__":
    cli(rows, __doc__)
