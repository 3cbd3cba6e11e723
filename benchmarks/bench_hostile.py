"""Hostile workbooks through `assay screen`, each in a fresh process: time and peak memory.

    python benchmarks/bench_hostile.py [--quick]

Each hostile file (built small from the shipped example, as tests/hostile.py builds them) is
screened by the installed `assay screen --no-store` in a new process; the wall time and the
peak RSS of that process tree (the sandboxed reader is a child, reaped by `assay`, so
``wait4`` counts it) are the medians of 3 runs (1 with ``--quick``), interleaved with the reference: the
same command on the clean example, measured in the same run. Target: every hostile file
under 10 s and 400 MB.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from common import ROOT, Row, bench_env, cli, compare, interleaved, run_process

sys.path.insert(0, str(ROOT))

from tests import hostile

ASSAY = shutil.which("assay", path=str(Path(sys.executable).parent)) or "assay"


def run(path: Path) -> tuple[float, float, str]:
    """Seconds, peak RSS (MiB) and the first error code of one `assay screen` process."""
    p = run_process([ASSAY, "screen", "--no-store", "--format", "json", str(path)], env=bench_env())
    results = json.loads(p.stdout or b"[{}]")
    codes = [f["code"] for f in results[0].get("findings", []) if f["severity"] == "error"]
    return p.seconds, p.peak_mib, codes[0] if codes else f"risk {results[0].get('risk_level')}"


def rows(quick: bool) -> list[Row]:
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
    figures: dict[str, list[tuple[float, float, str]]] = {name: [] for name in cases}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for i, (name, data) in enumerate(cases.items()):
            paths[name] = Path(tmp) / f"case{i}.xlsx"
            paths[name].write_bytes(data)

        def one(name: str) -> float:
            figures[name].append(run(paths[name]))
            return figures[name][-1][0]

        times = interleaved({name: (lambda n=name: one(n)) for name in cases}, 1 if quick else 3)
    ref = times.pop("clean example (reference)")
    out = []
    for name, took in times.items():
        peak = max(f[1] for f in figures[name])
        row = compare(
            f"hostile: {name}",
            took,
            ref,
            peak_mib=peak,
            note=""
            if out
            else "each `assay screen --no-store` in a fresh process; reference: the clean example; outcomes: "
            + ", ".join(f"{n}: {figures[n][0][2]}" for n in times),
        )
        row.target = "< 10 s, < 400 MiB"
        row.ok = row.measured is not None and row.measured < 10 and peak < 400
        out.append(row)
    return out


if __name__ == "__main__":
    cli(rows, __doc__)
