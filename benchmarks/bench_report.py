"""`assay report smelters` and `assay report rmap-counts` over 2,000 suppliers' files of 50 rows.

    python benchmarks/bench_report.py [--quick]   (200 suppliers, 3 rounds)
    python benchmarks/bench_report.py --prepare DIR [--suppliers 2000] [--rows 50]   (whole-process A/B)

Setup (not timed): ``DIR/report.db`` with an RMAP list of the 3TG and 2,000 invented suppliers (``example.test``
addresses), each credited with one CMRT of 50 smelter rows whose CIDs are drawn from the
embedded reference list (3TG, fixed seed, so every run builds the same database). Files are
screening results built in code and recorded as the mail intake records them
(tests/storage/campaign_support.py), which takes seconds instead of screening 2,000 workbooks.

Timed, each `assay` started as its own process (start-up included), runs interleaved (5
rounds) and medians quoted, with the peak MiB of the process:
- `assay report smelters --columns full --format csv --out …`: 100,000 rows read and
  consolidated into one row per (metal, CID), written as CSV;
- the same with `--format xlsx`;
- `assay report rmap-counts` (the same reading, a few lines written);
- `assay rollup --template RMI_CMRT_6.5 --out …` (the company's own CMRT: the same reading,
  every supplier's declaration, the blank patched with 415 smelter rows, then the result
  screened); needs ``../shared/templates``;
- the reference, on the same database in the same run: `assay suppliers list --format json`
  (the registry read once: the floor a whole-registry command pays).

For whole-process A/B runs (hyperfine), prepare a folder once and paste the
commands it prints.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import Row, cli, compare  # noqa: E402

ASSAY = shutil.which("assay", path=str(Path(sys.executable).parent)) or "assay"
METALS = ("Gold", "Tantalum", "Tin", "Tungsten")
#: The blank the roll-up fills (a developer's ../shared; the project ships no RMI file).
BLANK = ROOT.parent / "shared" / "templates" / "cmrt" / "RMI_CMRT_6.5_zh-ui.xlsx"


def config(folder: Path) -> Path:
    path = folder / "assay.toml"
    path.write_text(
        "\n".join(
            [
                "[assay]",
                f'database = "{folder / "report.db"}"',
                'log_level = "WARNING"',
                "[mail]",
                "seed_examples = false",
                "[mail.grievances]",
                "enabled = false",
                "[company]",
                'name = "Example Electronics Ltd"',
                'contact_name = "Compliance Desk"',
                'contact_email = "compliance@example.test"',
                'contact_phone = "+1 555 0100"',
                'authorizer = "Example Officer"',
                'authorizer_email = "officer@example.test"',
                'policy = "Yes"',
                'policy_public = "Yes"',
                'policy_url = "https://example.test/policy"',
                'validated_sourcing = "Yes"',
                'due_diligence = "Yes"',
                'review = "Yes"',
                'corrective_action = "Yes"',
                'disclosure = "No"',
                "",
            ]
        )
    )
    return path


def prepare(folder: Path, n: int, rows: int) -> Path:
    """``folder/report.db``: ``n`` suppliers, one CMRT each of ``rows`` smelter rows. Returns
    the config file."""
    from plugins.reference import RmapEntry
    from storage.store import Store
    from tests.storage.campaign_support import receive, register, supplier

    folder.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        (folder / ("report.db" + suffix)).unlink(missing_ok=True)
    cfg = config(folder)
    store = Store(folder / "report.db")
    cids = sorted(c for c, s in store.reference_data().smelters.items() if s.metal in METALS)
    metal = {c: store.reference_data().smelters[c].metal for c in cids}
    names = [f"Synthetic Supplier {i:04d} Ltd." for i in range(n)]
    ids = register(store, *(supplier(name) for name in names))
    rng = random.Random(2026)
    start = time.perf_counter()
    for name in names:
        picked = rng.sample(cids, rows)
        receive(store, ids[name], name, smelters=tuple((metal[c], c) for c in picked))
    # An RMAP list of the 3TG (7 in 10 conformant, 1 in 10 active, the rest on neither), so
    # every row is judged against a list, as in real use.
    statuses = {
        c: ("Conformant" if i % 10 < 7 else "Active") for i, c in enumerate(cids) if i % 10 < 8
    }
    store.add_rmap_list(
        "bench", dt.date(2026, 10, 1), "bench.csv",
        {c: RmapEntry(c, w, metal=metal[c]) for c, w in statuses.items()},
        metals=frozenset(METALS),
    )  # fmt: skip
    print(f"prepared {n} supplier(s) x {rows} row(s) in {time.perf_counter() - start:.1f} s")
    store.db.conn.close()
    with sqlite3.connect(folder / "report.db") as conn:
        conn.execute("pragma wal_checkpoint(truncate)")  # a plain copy is the whole database
    return cfg


def commands(folder: Path) -> dict[str, list[str]]:
    cfg, db = str(folder / "assay.toml"), str(folder / "report.db")
    base = [ASSAY, "--config", cfg]
    return {
        "smelters csv": [*base, "report", "smelters", "--db", db, "--columns", "full",
                         "--format", "csv", "--out", str(folder / "smelters.csv")],
        "smelters xlsx": [*base, "report", "smelters", "--db", db, "--columns", "full",
                          "--format", "xlsx", "--out", str(folder / "smelters.xlsx")],
        "rmap-counts": [*base, "report", "rmap-counts", "--db", db],
        "rollup": [*base, "rollup", "--template", str(BLANK), "--out",
                   str(folder / "company-cmrt.xlsx"), "--db", db],
        "reference": [*base, "suppliers", "list", "--format", "json", "--db", db],
    }  # fmt: skip


def ab_lines(folder: Path) -> list[str]:
    cmds = commands(folder)
    ref = " ".join(cmds["reference"])
    return [
        f"hyperfine --runs 5 '{ref}' '{' '.join(cmd)}'"
        for name, cmd in cmds.items()
        if name != "reference"
    ]


def run(cmd: list[str], peaks: dict[str, float] | None = None, name: str = "") -> float:
    from common import bench_env, run_process

    p = run_process(cmd, env=bench_env())
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr.decode()}")
    if peaks is not None:
        peaks[name] = max(peaks.get(name, 0.0), p.peak_mib)
    return p.seconds


def interleaved(
    cmds: dict[str, list[str]], runs: int, peaks: dict[str, float] | None = None
) -> dict[str, list[float]]:
    """Each command's wall times, a warm-up round and ``runs`` rounds of every command in
    turn (drift hits every command alike); ``peaks`` gets each command's peak MiB."""
    from common import interleaved as rounds

    return rounds(
        {name: (lambda c=cmd, n=name: run(c, peaks, n)) for name, cmd in cmds.items()}, runs
    )


def table_rows(
    times: dict[str, list[float]], peaks: dict[str, float], prefix: str, note: str
) -> list[Row]:
    """Each command against ``reference``: medians, ratios, peak MiB."""
    return [
        compare(f"{prefix}{name}", took, times["reference"], peak_mib=peaks.get(name),
                note=note if i == 0 else "")
        for i, (name, took) in enumerate(x for x in times.items() if x[0] != "reference")
    ]  # fmt: skip


def rows(quick: bool) -> list[Row]:
    import tempfile

    n = 200 if quick else 2000
    with tempfile.TemporaryDirectory(prefix="assay-bench-report-") as tmp:
        folder = Path(tmp)
        prepare(folder, n, 50)
        cmds = commands(folder)
        if not BLANK.exists():
            cmds.pop("rollup")
        peaks: dict[str, float] = {}
        times = interleaved(cmds, 3 if quick else 5, peaks)
    note = f"{n} suppliers x 50 rows; reference: `assay suppliers list --format json` on the same database"
    return table_rows(times, peaks, "report ", note)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--prepare",
        type=Path,
        help="Build DIR/report.db and print whole-process A/B command lines (hyperfine).",
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
