"""Hostile workbooks through `assay screen`, each in a fresh process: time and peak memory.

    python benchmarks/bench_hostile.py [--runs 3]

Each hostile file (built small from the shipped example, as tests/hostile.py builds them) is
screened by the installed `assay screen --no-store` in a new process; the wall time and the
peak RSS of that process tree (the sandboxed reader is a child, reaped by `assay`, so
``wait4`` counts it) are the medians of ``--runs`` runs, interleaved with the reference: the
same command on the clean example, measured in the same run. Target: every hostile file
under 10 s and 400 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT

sys.path.insert(0, str(ROOT))

from tests import hostile

ASSAY = shutil.which("assay", path=str(Path(sys.executable).parent)) or "assay"


def run(path: Path) -> tuple[float, float, str]:
    """Seconds, peak RSS (MB) and the first finding code of one `assay screen` process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [ASSAY, "screen", "--no-store", "--format", "json", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    out = proc.stdout.read() if proc.stdout else b""
    _pid, _status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    import json

    results = json.loads(out or b"[{}]")
    codes = [f["code"] for f in results[0].get("findings", []) if f["severity"] == "error"]
    label = codes[0] if codes else f"risk {results[0].get('risk_level')}"
    return seconds, usage.ru_maxrss / 1024, label


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    base = hostile.EXAMPLE.read_bytes()
    cases = {
        "clean example (reference)": base,
        "cell at XFD1048576": hostile.far_cell(base),
        "reference ZZZZZZZ2506": hostile.overflowing_ref(base),
        "cell at A1048576": hostile.last_row_cell(base),
        "cell at XFD5000": hostile.far_column_cell(base),
        "date cell -1e300": hostile.impossible_date(base),
        "Smelter List of 50,000 rows": hostile.long_smelter_list(base, 50_000),
    }
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for i, (name, data) in enumerate(cases.items()):
            paths[name] = Path(tmp) / f"case{i}.xlsx"
            paths[name].write_bytes(data)
        figures: dict[str, list[tuple[float, float, str]]] = {name: [] for name in cases}
        run(paths["clean example (reference)"])  # warm-up
        for _ in range(args.runs):
            for name, path in paths.items():  # interleaved: each round runs every case once
                figures[name].append(run(path))
    ref_s = statistics.median(f[0] for f in figures["clean example (reference)"])
    print(f"assay screen --no-store, fresh process, median of {args.runs} interleaved runs")
    print(f"{'case':32} {'size':>8} {'seconds':>8} {'x ref':>6} {'peak MB':>8}  outcome")
    for name, runs in figures.items():
        seconds = statistics.median(r[0] for r in runs)
        peak = statistics.median(r[1] for r in runs)
        size = len(cases[name]) / 1024
        print(
            f"{name:32} {size:7.0f}K {seconds:8.2f} {seconds / ref_s:6.2f} {peak:8.0f}  {runs[0][2]}"
        )


if __name__ == "__main__":
    main()
