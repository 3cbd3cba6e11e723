"""Importing an RMAP list the size of RMI's facility exports, in each format people hold it.

    python benchmarks/bench_refdata.py [--quick]

Setup (not timed): one synthetic facility export of ``--rows`` rows (title row, Metal, Smelter
ID, name, country, RMAP Audit Status, Last Audit Date, Audit Cycle), written as CSV, XLSX and
SpreadsheetML. Timed: ``parse_rmap_file`` on each (header recognition, status words, repairs,
dates; XLSX opened in the sandboxed child). Reference, measured in the same run: the naive
reader a developer would write, openpyxl in read-only mode iterating every row of the XLSX
(no recognition, no sandbox). Interleaved, 5 rounds (3 with ``--quick``).
"""

from __future__ import annotations

import datetime as dt
import tempfile
import warnings
from pathlib import Path

from common import Row, cli, compare, interleaved

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


def rows_(quick: bool) -> list[Row]:
    import openpyxl

    from storage.rmap_import import parse_rmap_file
    from tests.listwriters import write

    n = 3000
    table = rows(n)
    tmp = Path(tempfile.mkdtemp(prefix="assay-bench-refdata-"))
    files = {
        fmt: write(tmp / f"facilities.{ext}", table, fmt)
        for fmt, ext in (("csv", "csv"), ("xlsx", "xlsx"), ("spreadsheetml", "xml"))
    }

    def naive() -> int:
        wb = openpyxl.load_workbook(files["xlsx"], read_only=True, data_only=True)
        k = sum(1 for _ in wb.active.iter_rows(values_only=True))
        wb.close()
        return k

    for fmt, path in files.items():
        parsed = parse_rmap_file(path)
        assert len(parsed.entries) == n, (fmt, len(parsed.entries))
    fns: dict[str, object] = {"ref": naive}
    fns.update({fmt: (lambda p=path: parse_rmap_file(p)) for fmt, path in files.items()})
    t = interleaved(fns, 3 if quick else 5)  # type: ignore[arg-type]
    note = f"{n}-row RMAP facility export; reference: openpyxl read-only iterating the XLSX"
    return [
        compare(f"import-rmap parse, {fmt}", t[fmt], t["ref"], note=note if fmt == "csv" else "")
        for fmt in files
    ]


if __name__ == "__main__":
    cli(rows_, __doc__)
