"""Re-screening 2,000 stored submissions of 300 smelter rows each against a new RMAP list.

    python benchmarks/bench_rescreen.py [--submissions 2000] [--rows 300]

Setup (not timed): one filled CMRT 6.4 with 300 smelter rows is read, and 2,000 variants of
its declaration (different companies, rotated smelter lists) are stored with their first
screening. Then a new RMAP list is imported and every submission re-screened from the
database (``assay.rescreen``: batches screened in worker processes, each batch's results
written in one transaction). Reference, measured in the same run: merely loading and
deserialising the 2,000 stored declarations (the floor any re-screen pays). Target: under
10 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import tempfile
import time
import warnings
from pathlib import Path

from common import filled_cmrt, supplier_variant

warnings.filterwarnings("ignore")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="screening processes (default: one per CPU, at most 4)",
    )
    args = parser.parse_args()

    from assay.rescreen import rescreen
    from plugins.manager import get_plugin_manager
    from plugins.pipeline import Screener
    from plugins.reference import RmapEntry
    from storage.store import Store

    as_of = dt.date(2026, 6, 30)
    path = filled_cmrt(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        pm = get_plugin_manager()
        screener = Screener(pm, store.reference_data(), as_of=as_of)
        base = screener.read(path.read_bytes())
        t0 = time.perf_counter()
        for i in range(args.submissions):
            decl = supplier_variant(base, i)
            sha = hashlib.sha256(f"bench-{i}".encode()).hexdigest()
            store.record_screening(sha, screener.screen(decl), filename=f"s{i}.xlsx", as_of=as_of)
        setup = time.perf_counter() - t0
        findings_before = store.count("findings")

        rng = random.Random(3)
        cids = sorted({r.smelter_id for r in base.smelters})
        entries = {}
        for cid in cids:
            roll = rng.random()
            if roll < 0.6:
                entries[cid] = RmapEntry(
                    cid,
                    "Conformant",
                    next_assessment=dt.date(2027, 1, 1) if roll < 0.55 else dt.date(2026, 1, 1),
                )
            elif roll < 0.8:
                entries[cid] = RmapEntry(cid, "Active")
        store.add_rmap_list("2026-06-01:bench", dt.date(2026, 6, 1), "bench", entries)

        t0 = time.perf_counter()
        n_loaded = sum(1 for _ in store.iter_declarations())
        floor = time.perf_counter() - t0

        t0 = time.perf_counter()
        new_screener = Screener(pm, store.reference_data(), as_of=as_of)
        n = rescreen(store, new_screener.screen, as_of=as_of, workers=args.workers)
        elapsed = time.perf_counter() - t0
        rows = store.count("smelter_rows")
        print(
            f"stored {n_loaded} submissions, {rows} smelter rows, {findings_before} findings (setup {setup:.1f} s, not timed)"
        )
        print(f"load + deserialise all declarations: {floor:6.2f} s (reference)")
        print(
            f"re-screen all against new RMAP list: {elapsed:6.2f} s  ({n / elapsed:.0f} submissions/s, {store.count('findings')} findings written)"
        )
        print(
            f"ratio re-screen / load: {elapsed / floor:.2f}x; target: under 10 s -> {'met' if elapsed < 10 else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
