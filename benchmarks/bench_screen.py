"""Screening one filled CMRT 6.4 in-process (read + all checks) against python-calamine reading it.

    python benchmarks/bench_screen.py [--quick]

Rows, each a median of interleaved runs in one process (start-up is bench_cli.py's T1):
- ``Screener.screen_bytes`` on the file with cached values (as Excel saves it) against
  python-calamine opening it and reading its Declaration and Smelter List; target 2x;
- the same on the file without cached values (as openpyxl saves it: the reader resolves
  every row through the workbook's Smelter Look-up);
- the sandbox's cost: the forked reader against reading in-process (``isolate=False``);
- peak memory: a fresh process that screens the file once, measured from outside with
  ``wait4`` (the process and its sandboxed reader), against the same process importing
  everything but not screening; target under 150 MiB.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
import warnings

from common import ROOT, Row, bench_env, cli, compare, interleaved, run_process
from files import one_file

warnings.filterwarnings("ignore")

_PEAK = """
import sys, datetime as dt
sys.path.insert(0, {root!r})
from plugins.manager import get_plugin_manager
from plugins.pipeline import Screener
from storage.refdata import load_embedded_smelters, load_embedded_cahra
from plugins.reference import ReferenceData
import python_calamine
if {screen}:
    v, s = load_embedded_smelters(); cv, c = load_embedded_cahra()
    Screener(get_plugin_manager(), ReferenceData(s, v, (), c, cv), as_of=dt.date(2026, 6, 30)).screen_bytes(open({path!r}, "rb").read())
"""


def peak_mib(path: str, screen: bool) -> float:
    p = run_process(
        [sys.executable, "-c", _PEAK.format(root=str(ROOT), path=path, screen=screen)],
        env=bench_env(),
    )
    if p.returncode != 0:
        raise SystemExit(p.stderr.decode()[-800:])
    return p.peak_mib


def rows(quick: bool) -> list[Row]:
    import python_calamine

    from plugins.manager import get_plugin_manager
    from plugins.pipeline import Screener
    from plugins.reference import ReferenceData
    from storage.refdata import load_embedded_cahra, load_embedded_smelters

    runs = 5 if quick else 21
    version, smelters = load_embedded_smelters()
    cahra_version, cahra = load_embedded_cahra()
    screener = Screener(
        get_plugin_manager(),
        ReferenceData(smelters, version, (), cahra, cahra_version),
        as_of=dt.date(2026, 6, 30),
    )
    in_process = Screener(
        get_plugin_manager(),
        ReferenceData(smelters, version, (), cahra, cahra_version),
        as_of=dt.date(2026, 6, 30),
        limits=dataclasses.replace(screener.limits, isolate=False),
    )
    out: list[Row] = []
    for cached in (True, False):
        path, note = one_file(cached)
        data = path.read_bytes()
        decl = screener.screen_bytes(data).declaration
        assert decl is not None
        n = len(decl.smelters)
        if decl.meta.uncached_formulas is cached and not note:  # the path each row claims
            raise SystemExit(f"{path.name}: the reader took the wrong path (cached={cached})")

        def calamine_read(path: str = str(path)) -> None:
            book = python_calamine.CalamineWorkbook.from_path(path)
            book.get_sheet_by_name("Declaration").to_python()
            book.get_sheet_by_name("Smelter List").to_python()

        fns = {"screen": lambda d=data: screener.screen_bytes(d), "ref": calamine_read}
        if cached:
            fns["inproc"] = lambda d=data: in_process.screen_bytes(d)
        t = interleaved(fns, runs)  # type: ignore[arg-type]
        label = "cached values" if cached else "no cached values"
        out.append(
            compare(
                f"screen in-process, {n} rows, {label}",
                t["screen"],
                t["ref"],
                limit=2.0 if cached else None,
                note=note
                or (
                    "reference: python-calamine reading Declaration + Smelter List"
                    if cached
                    else ""
                ),
            )
        )
        if cached:
            out.append(
                compare(
                    "sandboxed reader vs in-process reader",
                    t["screen"],
                    t["inproc"],
                    note="the same screening with the workbook read in-process (isolate=False)",
                )
            )
    path, _ = one_file(True)
    base, peak = peak_mib(str(path), False), peak_mib(str(path), True)
    out.append(
        Row(
            "peak RSS, screen once in a fresh process",
            peak,
            base,
            peak / base,
            target="< 150 MiB",
            ok=peak < 150,
            peak_mib=peak,
            unit="MiB",
            note="reference: the same fresh process importing everything without screening",
        )
    )
    return out


if __name__ == "__main__":
    cli(rows, __doc__)
