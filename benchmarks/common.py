"""Helpers shared by the benchmark scripts: rows, interleaved timing, fresh-process memory.

Every benchmark module has ``rows(quick: bool) -> list[Row]`` and ends with
``cli(rows, __doc__)``: run alone it prints its rows as a table; ``--json`` prints them as
JSON for ``benchmarks/run.py``, which runs each module in its own process and prints one
table of all of them.

Honesty rules, applied here once:
- compared things run interleaved (A, B, A, B, ...) after a warm-up, so drift of a machine
  shared with other work hits both alike;
- a comparison quotes both medians, the ratio of the medians and the median of the per-pair
  ratios (the second is robust to a slow stretch that hit one pair);
- peak memory is that of a fresh process, started by GNU time (``%M``: the largest of the
  process and the children it reaped, the sandboxed reader and a pool's workers), never the
  benchmark's own, which a child started from it would otherwise report (see run_process).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CACHE = Path(tempfile.gettempdir()) / "assay-bench"
ASSAY = shutil.which("assay", path=str(Path(sys.executable).parent)) or "assay"
AS_OF = "2026-06-30"


@dataclass
class Row:
    """One line of the table. Times in seconds (``unit="s"``), else in ``unit``."""

    name: str
    measured: float | None = None
    reference: float | None = None
    ratio: float | None = None  # ratio of the medians
    pair_ratio: float | None = None  # median of per-pair ratios
    target: str = ""
    ok: bool | None = None  # None: no target (context)
    peak_mib: float | None = None
    unit: str = "s"
    note: str = ""


def interleaved(
    fns: dict[str, Callable[[], object]], runs: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Each function's times over ``runs`` rounds, every function once per round, in turn.
    A function returns its own time as a float (a process it timed), or anything else to be
    timed here."""

    def one(fn: Callable[[], object]) -> float:
        start = time.perf_counter()
        took = fn()
        return took if isinstance(took, float) else time.perf_counter() - start

    for _ in range(warmup):
        for fn in fns.values():
            one(fn)
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            times[name].append(one(fn))
    return times


def compare(
    name: str,
    measured: Sequence[float],
    reference: Sequence[float],
    limit: float | None = None,
    scale: float = 1.0,
    **extra: Any,
) -> Row:
    """A row for ``measured`` against ``reference`` (paired runs); ``limit``: the target as a
    largest ratio; ``scale`` multiplies the measured side's ratios (per-core figures)."""
    med, ref = statistics.median(measured), statistics.median(reference)
    pairs = [a * scale / b for a, b in zip(measured, reference, strict=False) if b > 0]
    ratio = med * scale / ref if ref > 0 else None
    row = Row(
        name,
        med,
        ref,
        ratio,
        statistics.median(pairs) if pairs else None,
        target=f"<= {limit:g}x" if limit is not None else "",
        ok=(ratio <= limit) if limit is not None and ratio is not None else None,
    )
    for k, v in extra.items():
        setattr(row, k, v)
    return row


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


@dataclass
class Proc:
    seconds: float
    peak_mib: float
    returncode: int
    stdout: bytes
    stderr: bytes


TIME = shutil.which("time", path="/usr/bin:/bin")  # GNU time: its %M is the child's wait4 figure


def run_process(cmd: Sequence[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> Proc:
    """Run ``cmd`` to its end: wall time, and the peak RSS of it and its reaped children.

    Linux gives a process that calls exec the high-water RSS of the memory it leaves, which
    for a child of ``fork``/``vfork`` is its parent's: a child of a large benchmark process
    would report the benchmark's size. So the command is started by GNU time (a 2 MiB
    process), whose ``%M`` is then the command's own figure; without it, ``wait4`` here."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        with tempfile.NamedTemporaryFile("r") as peak:
            full = [TIME, "-f", "%M", "-o", peak.name, *cmd] if TIME else list(cmd)
            start = time.perf_counter()
            proc = subprocess.Popen(full, stdout=out, stderr=err, env=env, cwd=cwd)
            _pid, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            text = peak.read().strip().splitlines()
            kib = int(text[-1]) if TIME and text and text[-1].isdigit() else usage.ru_maxrss
        out.seek(0)
        err.seek(0)
        return Proc(seconds, kib / 1024, proc.returncode, out.read(), err.read())


def bench_env(**extra: str) -> dict[str, str]:
    """The environment for timed processes: warnings off, byte-code used (never
    PYTHONDONTWRITEBYTECODE: a user's installed `assay` runs from .pyc)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update({"PYTHONWARNINGS": "ignore", **extra})
    return env


def filled_cmrt(
    rows: int = 300, rel: str = "cmrt/RMI_CMRT_6.4_en.xlsx", cached: bool = True
) -> Path:
    """A CMRT filled with synthetic company data and ``rows`` smelter rows, built once and
    cached; with ``cached`` the formula values Excel would store (benchmarks/cached.py)."""
    from files import filled

    return filled(rel, rows, seed=0, cached=cached)


def supplier_variant(base: Any, i: int) -> Any:
    """Declaration ``base`` as supplier ``i`` would send it: own company name, rotated smelter list."""
    from dataclasses import replace

    k = i % max(len(base.smelters), 1)
    return replace(
        base,
        company={**base.company, "company_name": f"Synthetic Supplier {i:04d}"},
        smelters=base.smelters[k:] + base.smelters[:k],
    )


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    return f"{value:.1f} {unit}"


def format_table(rows: Sequence[Row]) -> str:
    """The rows as one fixed-width table (notes below it)."""
    head = ("benchmark", "measured", "reference", "ratio", "pair", "target", "ok", "peak MiB")
    lines = []
    notes = []
    for r in rows:
        ok = "-" if r.ok is None else ("pass" if r.ok else "FAIL")
        mark = ""
        if r.note:
            notes.append(r.note)
            mark = f" [{len(notes)}]"
        lines.append(
            (
                r.name + mark,
                _fmt(r.measured, r.unit),
                _fmt(r.reference, r.unit),
                "-" if r.ratio is None else f"{r.ratio:.2f}x",
                "-" if r.pair_ratio is None else f"{r.pair_ratio:.2f}x",
                r.target or "-",
                ok,
                "-" if r.peak_mib is None else f"{r.peak_mib:.0f}",
            )
        )
    widths = [max(len(x[i]) for x in [head, *lines]) for i in range(len(head))]
    fmt = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    out = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*x) for x in lines]
    out += [f"[{i}] {n}" for i, n in enumerate(notes, 1)]
    return "\n".join(out)


def cli(rows_fn: Callable[[bool], list[Row]], doc: str | None) -> None:
    """The command line every benchmark module ends with."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer runs")
    parser.add_argument("--json", action="store_true", help="rows as JSON (for run.py)")
    args = parser.parse_args()
    rows = rows_fn(args.quick)
    if args.json:
        print(json.dumps([asdict(r) for r in rows]))
    else:
        print(format_table(rows))
