"""The two headline targets: `assay screen --no-store`, exactly as a user runs it.

    python benchmarks/bench_cli.py [--quick]

T1: `assay screen --no-store FILE` on one filled CMRT 6.4 (300 smelter rows, cached values
as Excel stores them) against a fresh python process that opens FILE with python-calamine
and reads its Declaration and Smelter List sheets: start-up, reading and every check against
the bare minimum any tool pays. Target: within 2.5x. The same file without cached values
(as openpyxl or an ERP export saves it) is its own row.

T2: `assay screen --no-store` of 20 different filled templates in one command against one
python process reading the same 20 files' two sheets one after another. Target: within 0.8x
on this two-core machine, which needs the cores. Beside it, the per-core figure: the pooled
wall time times the workers it used (``min(cpu, 4, files)`` where assay/pool.py exists, else
one) over the reference, i.e. what one core's work costs against the serial reader.

Every run is a fresh process, started by the installed `assay` script (byte-code compiled
first: a user's install runs from .pyc), runs interleaved with the reference; peak MiB is the
largest process of the tree (the sandboxed reader, the pool's workers) by ``wait4``.
"""

from __future__ import annotations

import compileall
import importlib.util
import os
import sys

from common import AS_OF, ASSAY, ROOT, Row, bench_env, cli, compare, interleaved, run_process
from files import one_file, real_files

READ = """
import sys, python_calamine
for path in sys.argv[1:]:
    book = python_calamine.CalamineWorkbook.from_path(path)
    book.get_sheet_by_name("Declaration").to_python()
    book.get_sheet_by_name("Smelter List").to_python()
"""


def compile_project() -> None:
    """Byte-code for the project's packages, as an installed copy has."""
    for pkg in ("assay", "plugins", "storage", "intake", "bot", "program", "reports"):
        compileall.compile_dir(str(ROOT / pkg), quiet=1)


def workers(n_files: int) -> int:
    """The processes `assay screen` screens ``n_files`` files with (the pool's rule)."""
    if importlib.util.find_spec("assay.pool") is None:
        return 1
    return min(os.cpu_count() or 1, 4, n_files)


def pair(name: str, files: list[str], runs: int) -> tuple[dict[str, list[float]], float]:
    """Interleaved `assay screen` and calamine runs on ``files``; the assay side's peak MiB."""
    env = bench_env()
    peaks: list[float] = []

    def assay() -> float:
        p = run_process([ASSAY, "screen", "--no-store", "--as-of", AS_OF, *files], env=env)
        if p.returncode not in (0, 1):
            raise SystemExit(f"{name}: assay screen exited {p.returncode}: {p.stderr[-500:]!r}")
        peaks.append(p.peak_mib)
        return p.seconds

    def reference() -> float:
        p = run_process([sys.executable, "-c", READ, *files], env=env)
        if p.returncode != 0:
            raise SystemExit(f"{name}: reference failed: {p.stderr[-500:]!r}")
        return p.seconds

    times = interleaved({"assay": assay, "reference": reference}, runs)
    return times, max(peaks)


def rows(quick: bool) -> list[Row]:
    compile_project()
    runs1, runs2 = (7, 3) if quick else (21, 7)
    out = []
    for cached in (True, False):
        path, note = one_file(cached)
        times, peak = pair("T1", [str(path)], runs1)
        label = "cached values" if cached else "no cached values"
        out.append(
            compare(
                f"T1 assay screen 1 file ({label})",
                times["assay"],
                times["reference"],
                limit=2.5 if cached else None,
                peak_mib=peak,
                note=note
                or (
                    "reference: python -c reading Declaration + Smelter List with python-calamine"
                    if cached
                    else ""
                ),
            )
        )
    paths, what = real_files(20)
    times, peak = pair("T2", [str(p) for p in paths], runs2)
    n = workers(len(paths))
    cores = min(n, os.cpu_count() or 1)
    out.append(
        compare(
            "T2 assay screen 20 files (pooled)",
            times["assay"],
            times["reference"],
            limit=0.8,
            peak_mib=peak,
            note=f"{what}; reference: one python process reading them serially with python-calamine",
        )
    )
    out.append(
        compare(
            f"T2 per core (x {cores} worker{'s' if cores > 1 else ''})",
            times["assay"],
            times["reference"],
            scale=cores,
            note="pooled wall x min(workers, cores) / reference: each core's work against the "
            "serial reader"
            + ("" if n > 1 else " (no assay/pool.py: `assay screen` runs on one core)"),
        )
    )
    return out


if __name__ == "__main__":
    cli(rows, __doc__)
