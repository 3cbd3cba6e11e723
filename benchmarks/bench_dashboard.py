"""`assay dashboard build` over 2,000 suppliers' files of 50 rows, all in one open campaign.

    python benchmarks/bench_dashboard.py [--quick]   (200 suppliers, 3 rounds)
    python benchmarks/bench_dashboard.py --prepare DIR [--suppliers 2000] [--rows 50]   (whole-process A/B)

Setup (not timed): the database of ``benchmarks/bench_report.py`` (2,000 invented suppliers, one
CMRT of 50 rows each, an RMAP list of the 3TG), plus one open campaign of every supplier,
opened before the files arrived, so every file is a response.

Timed, each `assay` started as its own process, runs interleaved, median of ``--runs`` (with
the minimum):
- `assay dashboard build`: the campaign's status and grades (2,000 declarations read), the
  consolidated smelter list twice (all suppliers, then the campaign's answers: 100,000 rows
  each), who lists each smelter to chase, the response curve, written in one transaction;
- the reference, on the same database in the same run: `assay report rmap-counts` (the
  consolidated list read once: what any whole-program figure costs).

``assay serve`` pays the build after a change on its notifier thread, then waits at least four
times as long before the next (assay/dashboard_run.py): the figure says how long that is.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_report import interleaved, table_rows  # noqa: E402
from bench_report import prepare as prepare_report  # noqa: E402
from common import Row, cli  # noqa: E402

ASSAY = shutil.which("assay", path=str(Path(sys.executable).parent)) or "assay"


def prepare(folder: Path, n: int, rows: int) -> Path:
    cfg = prepare_report(folder, n, rows)
    from storage.store import Store
    from tests.storage.campaign_support import spec

    store = Store(folder / "report.db")
    ids = [s.id for s in store.suppliers()]
    c = store.create_campaign(spec("Bench 2026", dt.date(2026, 11, 1)), ids, dt.date(2026, 9, 1))
    store.db.execute(
        "update campaigns set created_at = '2000-01-01T00:00:00+00:00' where id = ?", [c.id]
    )
    store.db.conn.commit()
    store.db.conn.close()
    with sqlite3.connect(folder / "report.db") as conn:
        conn.execute("pragma wal_checkpoint(truncate)")
    return cfg


def commands(folder: Path) -> dict[str, list[str]]:
    cfg, db = str(folder / "assay.toml"), str(folder / "report.db")
    base = [ASSAY, "--config", cfg]
    return {
        "dashboard build": [*base, "dashboard", "build", "--db", db, "--out",
                            str(folder / "dashboard.db")],
        "reference": [*base, "report", "rmap-counts", "--db", db],
    }  # fmt: skip


def ab_lines(folder: Path) -> list[str]:
    cmds = commands(folder)
    ref = " ".join(cmds["reference"])
    return [f"hyperfine --runs 5 '{ref}' '{' '.join(cmds['dashboard build'])}'"]


def rows(quick: bool) -> list[Row]:
    n = 200 if quick else 2000
    with tempfile.TemporaryDirectory(prefix="assay-bench-dashboard-") as tmp:
        folder = Path(tmp)
        prepare(folder, n, 50)
        peaks: dict[str, float] = {}
        times = interleaved(commands(folder), 3 if quick else 5, peaks)
    note = f"{n} suppliers x 50 rows, one open campaign; reference: `assay report rmap-counts`"
    return table_rows(times, peaks, "", note)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--prepare",
        type=Path,
        help="Build DIR/report.db and print the whole-process A/B command line (hyperfine).",
    )
    parser.add_argument("--suppliers", type=int, default=2000)
    args, _rest = parser.parse_known_args()
    if args.prepare is not None:
        prepare(args.prepare, args.suppliers, 50)
        print("\n".join(ab_lines(args.prepare)))
        return
    cli(rows, __doc__)


if __name__ == "__main__":
    main()
