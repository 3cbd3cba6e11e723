"""Screening one filled CMRT 6.4 (read + all checks) against python-calamine merely reading it.

    python benchmarks/bench_screen.py [--runs 21] [--rows 300]

Reference, measured in the same run: python-calamine opening the same file and reading its
Declaration and Smelter List sheets. Target: the median screening within 2x of that.
Memory: peak RSS of a fresh process that screens the file once (target under 150 MB), with
the same process importing everything but not screening as the baseline.
Sandbox: the same screening with the workbook read in-process (``Limits.isolate=False``),
interleaved with the sandboxed one, gives what the forked reader costs per file.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
import warnings

from common import ROOT, filled_cmrt, median_seconds

warnings.filterwarnings("ignore")

_PEAK = """
import resource, sys, datetime as dt
sys.path.insert(0, {root!r})
from plugins.manager import get_plugin_manager
from plugins.pipeline import Screener
from storage.refdata import load_embedded_smelters, load_embedded_cahra
from plugins.reference import ReferenceData
import python_calamine, openpyxl
if {screen}:
    v, s = load_embedded_smelters(); cv, c = load_embedded_cahra()
    Screener(get_plugin_manager(), ReferenceData(s, v, (), c, cv), as_of=dt.date(2026, 6, 30)).screen_bytes(open({path!r}, "rb").read())
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def peak_mb(path: str, screen: bool) -> float:
    code = _PEAK.format(root=str(ROOT), path=path, screen=screen)
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--rows", type=int, default=300)
    args = parser.parse_args()

    import openpyxl
    import python_calamine

    from plugins.manager import get_plugin_manager
    from plugins.pipeline import Screener
    from plugins.reference import ReferenceData
    from storage.refdata import load_embedded_cahra, load_embedded_smelters

    path = filled_cmrt(args.rows)
    version, smelters = load_embedded_smelters()
    cahra_version, cahra = load_embedded_cahra()
    screener = Screener(
        get_plugin_manager(),
        ReferenceData(smelters, version, (), cahra, cahra_version),
        as_of=dt.date(2026, 6, 30),
    )

    def calamine_read() -> None:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        book.get_sheet_by_name("Declaration").to_python()
        book.get_sheet_by_name("Smelter List").to_python()

    def assay_screen() -> None:
        result = screener.screen_bytes(path.read_bytes())
        assert result.declaration is not None and len(result.declaration.smelters) == args.rows

    def openpyxl_read_only() -> None:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        for name in ("Declaration", "Smelter List"):
            for _row in wb[name].iter_rows(values_only=True):
                pass
        wb.close()

    in_process = Screener(
        get_plugin_manager(),
        ReferenceData(smelters, version, (), cahra, cahra_version),
        as_of=dt.date(2026, 6, 30),
        limits=dataclasses.replace(screener.limits, isolate=False),
    )
    paired: list[tuple[float, float]] = []
    for _ in range(args.runs):  # interleaved, so drift of the machine hits both alike
        data = path.read_bytes()
        start = time.perf_counter()
        screener.screen_bytes(data)
        mid = time.perf_counter()
        in_process.screen_bytes(data)
        paired.append((mid - start, time.perf_counter() - mid))
    iso_med = statistics.median(a for a, _ in paired)
    inp_med = statistics.median(b for _, b in paired)

    ref_med, ref_min = median_seconds(calamine_read, args.runs)
    our_med, our_min = median_seconds(assay_screen, args.runs)
    opx_med, _ = median_seconds(openpyxl_read_only, 3, warmup=1)
    result = screener.screen_bytes(path.read_bytes())
    print(
        f"file: {path.name} ({path.stat().st_size / 1e6:.1f} MB, {args.rows} smelter rows, {len(result.findings)} findings)"
    )
    print(
        f"calamine read Declaration + Smelter List  median {ref_med * 1000:7.1f} ms   min {ref_min * 1000:7.1f} ms   (reference, {args.runs} runs)"
    )
    print(
        f"assay screen (read + all checks)          median {our_med * 1000:7.1f} ms   min {our_min * 1000:7.1f} ms   ({args.runs} runs)"
    )
    print(
        f"openpyxl read-only pass of the two sheets median {opx_med * 1000:7.1f} ms   (context, 3 runs)"
    )
    print(f"ratio screen / calamine read: {our_med / ref_med:.2f}x (target <= 2.00x)")
    print(
        f"sandbox: {iso_med * 1000:.1f} ms with the forked reader, {inp_med * 1000:.1f} ms reading "
        f"in-process (interleaved medians; ratio {iso_med / inp_med:.2f}x)"
    )
    base, peak = peak_mb(str(path), False), peak_mb(str(path), True)
    print(
        f"peak RSS: {peak:.0f} MB screening once in a fresh process; {base:.0f} MB for the same imports without screening (target < 150 MB)"
    )


if __name__ == "__main__":
    main()
