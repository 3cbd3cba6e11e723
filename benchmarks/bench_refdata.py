"""Importing an RMAP list the size of RMI's facility exports, in each format people hold it.

    python benchmarks/bench_refdata.py [--rows 3000] [--runs 5]

Setup (not timed): one synthetic facility export of ``--rows`` rows (title row, Metal, Smelter
ID, name, country, RMAP Audit Status, Last Audit Date, Audit Cycle), written as CSV, XLSX and
SpreadsheetML. Timed: ``parse_rmap_file`` on each (header recognition, status words, repairs,
dates; XLSX opened in the sandboxed child). Reference, measured in the same run: the naive
reader a developer would write, openpyxl in read-only mode iterating every row of the XLSX
(no recognition, no sandbox). Prints medians and the ratio to the reference.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import warnings
from pathlib import Path

from common import ROOT, median_seconds

from tests.reflists import FACILITIES_HEADER

warnings.filterwarnings("ignore")

WORDS = ("Conformant", "Active", "Non-Conformant", "Outreach Required", "In Communication")
METALS = ("Gold", "Tin", "Tantalum", "Tungsten")


def rows(n: int) -> list[list[object]]:
    out: list[list[object]] = [
        ["RMAP facilities as of May 1, 2025"],
        [],
        list(FACILITIES_HEADER),
    ]
    for i in range(n):
        out.append(
            [
                METALS[i % 4],
                f"CID{i + 1:06d}",
                f"Example Refinery {i} Co., Ltd.",
                "Example Country",
                WORDS[i % len(WORDS)],
                f"{1 + i % 12}/{1 + i % 28}/2024" if i % 3 else dt.date(2024, 1 + i % 12, 1),
                "1 Year" if i % 4 else "3 Years",
                "",  # re-audit due: from the last audit and the cycle
            ]
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import openpyxl

    from storage.rmap_import import parse_rmap_file
    from tests.listwriters import write

    table = rows(args.rows)
    tmp = Path(tempfile.mkdtemp(prefix="assay-bench-refdata-"))
    files = {
        fmt: write(tmp / f"facilities.{ext}", table, fmt)
        for fmt, ext in (
            ("csv", "csv"),
            ("xlsx", "xlsx"),
            ("spreadsheetml", "xml"),
        )
    }

    def naive() -> int:
        wb = openpyxl.load_workbook(files["xlsx"], read_only=True, data_only=True)
        n = sum(1 for _ in wb.active.iter_rows(values_only=True))
        wb.close()
        return n

    ref, _ = median_seconds(naive, args.runs)
    print(
        f"{args.rows} rows; reference (openpyxl read-only, every row of the XLSX): {ref * 1000:.0f} ms"
    )
    for fmt, path in files.items():
        parsed = parse_rmap_file(path)
        assert len(parsed.entries) == args.rows, (fmt, len(parsed.entries))
        med, best = median_seconds(lambda p=path: parse_rmap_file(p), args.runs)
        print(
            f"  import-rmap parse, {fmt:<13} {path.stat().st_size / 1024:7.0f} KiB: median "
            f"{med * 1000:6.0f} ms (best {best * 1000:.0f}); ratio to reference {med / ref:.2f}x"
        )
    print(f"(files in {tmp}; repository {ROOT.name})")


if __name__ == "__main__":
    main()
