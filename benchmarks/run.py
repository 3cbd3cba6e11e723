"""Every benchmark, one table: `python benchmarks/run.py [--quick] [--only NAME ...]`.

Each benchmark module runs in its own process (``bench_X.py --json``), so one's imports,
caches and memory never colour another's figures, and a benchmark that cannot run here (no
Dovecot, no root) or fails becomes a row saying so instead of stopping the rest. The
project is byte-compiled first: the timed `assay` processes run from .pyc, as an install
does. docs/benchmarks.md says what each row measures, against what, and the target.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import ROOT, Row, bench_env, format_table  # noqa: E402

#: In table order; the two headline targets first.
BENCHES = (
    "cli",
    "store",
    "screen",
    "rescreen",
    "mail",
    "reply",
    "refdata",
    "report",
    "dashboard",
    "campaign",
    "slack",
    "hostile",
)

STORE = """
import json, sys
sys.path.insert(0, {here!r})
from bench_store import measure
print(json.dumps(measure(n={n}, rows=50)))
"""


def store_rows(quick: bool, timeout: float) -> list[Row]:
    """Store KB per submission, from helper E's ``bench_store.measure``."""
    if not (HERE / "bench_store.py").exists():
        return [
            Row(
                "store KB per submission (50 rows)",
                target="<= 15 KB",
                note="missing: benchmarks/bench_store.py not here yet",
            )
        ]
    n = 100 if quick else 200
    proc = subprocess.run(
        [sys.executable, "-c", STORE.format(here=str(HERE), n=n)],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=bench_env(),
    )  # fmt: skip
    if proc.returncode != 0:
        return [Row("store KB per submission (50 rows)", note=f"error: {_last(proc.stderr)}")]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    kb = float(got["kb_per_submission"])
    return [
        Row(
            "store KB per submission (50 rows)",
            kb,
            unit="KB",
            target="<= 15 KB",
            ok=kb <= 15,
            note=f"bench_store.measure(n={n}, rows=50): a vacuumed store's file size / n, "
            "originals as configured by default",
        )
    ]


def _last(text: str) -> str:
    lines = [x for x in text.strip().splitlines() if x.strip()]
    return lines[-1][:200] if lines else "(no output)"


def bench_rows(name: str, quick: bool, timeout: float) -> list[Row]:
    cmd = [sys.executable, str(HERE / f"bench_{name}.py"), "--json"] + (
        ["--quick"] if quick else []
    )
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=bench_env()
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()  # SIGTERM: the benchmark stops its servers (Dovecot) on the way out
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        return [Row(name, note=f"error: no result within {timeout:.0f} s")]
    if proc.returncode != 0:
        return [Row(name, note=f"error: {_last(err)}")]
    return [Row(**r) for r in json.loads(out.strip().splitlines()[-1])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer runs (~3 min)")
    parser.add_argument("--only", nargs="+", choices=BENCHES, metavar="NAME",
                        help=f"run only these: {', '.join(BENCHES)}")  # fmt: skip
    args = parser.parse_args()
    import compileall

    for pkg in ("assay", "plugins", "storage", "intake", "bot", "program", "reports"):
        compileall.compile_dir(str(ROOT / pkg), quiet=1)
    timeout = 600 if args.quick else 1800
    rows: list[Row] = []
    took: list[str] = []
    start = time.perf_counter()
    for name in args.only or BENCHES:
        t0 = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows += (
            store_rows(args.quick, timeout)
            if name == "store"
            else bench_rows(name, args.quick, timeout)
        )
        took.append(f"{name} {time.perf_counter() - t0:.0f}s")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"Assay benchmarks ({'quick' if args.quick else 'full'}), commit {commit or '?'}, "
        f"python {platform.python_version()}, {os.cpu_count()} cores, load average {load}"
    )
    print("ratio: median / reference median; pair: median of per-pair ratios (interleaved runs)")
    print(format_table(rows))
    print(f"total {time.perf_counter() - start:.0f} s ({'; '.join(took)})")


if __name__ == "__main__":
    main()
