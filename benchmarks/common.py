"""Helpers shared by the benchmark scripts (run from the repository root, beside ../shared)."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CACHE = Path(tempfile.gettempdir()) / "assay-bench"


def median_seconds(fn: Callable[[], object], runs: int, warmup: int = 2) -> tuple[float, float]:
    """Median and minimum wall time of ``fn`` over ``runs`` runs, after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def filled_cmrt(rows: int = 300, rel: str = "cmrt/RMI_CMRT_6.4_en.xlsx") -> Path:
    """A CMRT filled with synthetic company data and ``rows`` smelter rows, built once and cached."""
    from tests.builders import TEMPLATES, cmrt_cells, fill, lookup_entries

    CACHE.mkdir(exist_ok=True)
    dest = CACHE / f"cmrt-{Path(rel).stem}-{rows}.xlsx"
    if dest.exists():
        return dest
    src = TEMPLATES / rel
    cells = cmrt_cells(src, n_per_metal=1)
    seen: dict[str, object] = {}
    for e in lookup_entries(src):
        seen.setdefault(e.cid, e)
    entries = list(seen.values())[:rows]
    smelters: dict[str, object] = {}
    for i, e in enumerate(entries):
        row = 5 + i
        if i % 2 == 0:
            smelters[f"A{row}"] = e.cid  # type: ignore[attr-defined]
        else:
            smelters[f"B{row}"] = e.metal  # type: ignore[attr-defined]
            smelters[f"C{row}"] = e.alias  # type: ignore[attr-defined]
    cells["Smelter List"] = smelters  # type: ignore[assignment]
    return fill(src, dest, cells)  # type: ignore[arg-type]


def supplier_variant(base: Any, i: int) -> Any:
    """Declaration ``base`` as supplier ``i`` would send it: own company name, rotated smelter list."""
    from dataclasses import replace

    k = i % max(len(base.smelters), 1)
    return replace(
        base,
        company={**base.company, "company_name": f"Synthetic Supplier {i:04d}"},
        smelters=base.smelters[k:] + base.smelters[:k],
    )
