"""A survey campaign of 2,000 suppliers: `campaign send` and `campaign status`, as whole commands.

    python benchmarks/bench_campaign.py [--quick]   (200 suppliers, 3 rounds)
    python benchmarks/bench_campaign.py --prepare DIR [--suppliers 2000]   (for a whole-process A/B)

Setup (not timed): a registry of 2,000 invented suppliers (``example.test`` addresses, an
owner each, one to three metals) is written as CSV and imported with `assay suppliers
import`, and `assay campaign create bench-2026 --template CMRT` takes them all. That database
is kept as ``prepared.db``; every timed send starts from a fresh copy of it (copying is not
timed), since sending twice sends nothing.

Timed, each `assay` started as its own process (start-up included), runs interleaved
(send, send --queue-only, reference, status; then again) and the median of ``--runs`` quoted:
- `assay campaign send bench-2026`: 2,000 requests queued, then delivered as .eml files
  (no SMTP host configured), the same delivery `assay serve` does;
- `assay campaign send bench-2026 --queue-only`: the requests queued, nothing delivered;
- `assay campaign status bench-2026 --format json` on the database after the send;
- the reference, on the same database in the same run: `assay suppliers list --format json`
  (the registry read once and written as JSON: the floor a whole-registry command pays).
Prints each median (and minimum), the ratio to the reference, and checks the outcome (2,000
.eml files, 2,000 requested suppliers in the status).

For whole-process A/B runs (hyperfine), prepare a folder once and paste the
commands it prints, e.g.:

    .venv/bin/python benchmarks/bench_campaign.py --prepare /tmp/assay-bench/campaign
    hyperfine --runs 5 \\
        "sh -c 'rm -f D/ref.db-wal && cp D/prepared.db D/ref.db && exec .venv/bin/assay --config D/assay.toml suppliers list --format json --db D/ref.db'" \\
        "sh -c 'rm -f D/run.db-wal && cp D/prepared.db D/run.db && exec .venv/bin/assay --config D/assay.toml campaign send bench-2026 --db D/run.db'"
    hyperfine --runs 5 \\
        '.venv/bin/assay --config D/assay.toml suppliers list --format json --db D/sent.db' \\
        '.venv/bin/assay --config D/assay.toml campaign status bench-2026 --format json --db D/sent.db'

(D being the prepared folder; both sides of the send pair pay the same copy.)
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import Row, cli, compare, interleaved

ROOT = Path(__file__).resolve().parents[1]
ASSAY = shutil.which("assay", path=str(Path(sys.executable).parent)) or "assay"
NAME = "bench-2026"
AS_OF = "2026-09-01"
DEADLINE = "2026-12-01"
METALS = ("Tin", "Tantalum", "Tungsten", "Gold")


def registry(path: Path, n: int) -> Path:
    """``n`` invented suppliers: name, address, template, owner (e-mail or Slack user), metals."""
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "emails", "templates", "owner", "metals"])
        for i in range(n):
            owner = f"buyer{i % 40:02d}@example.test" if i % 3 else f"U0BUYER{i % 40:03d}"
            metals = ";".join(METALS[j % 4] for j in range(i % 4, i % 4 + 1 + i % 3))
            w.writerow(
                [
                    f"Synthetic Supplier {i:04d} Ltd.",
                    f"cmrt@supplier{i:04d}.example.test",
                    "CMRT",
                    owner,
                    metals,
                ]
            )
    return path


def config(folder: Path) -> Path:
    path = folder / "assay.toml"
    path.write_text(
        "\n".join(
            [
                "[assay]",
                f'database = "{folder / "prepared.db"}"',
                'log_level = "WARNING"',
                "[screening]",
                f'as_of = "{AS_OF}"',
                "[mail]",
                "seed_examples = false",
                "[mail.suppliers]",
                f'path = "{folder / "mail" / "suppliers"}"',
                "[mail.grievances]",
                "enabled = false",
                "[smtp]",
                'host = ""',
                f'outbox_dir = "{folder / "outbox"}"',
                "[alerts]",
                f'log_file = "{folder / "alerts.log"}"',
                "",
            ]
        )
    )
    return path


def assay(cfg: Path, *args: str) -> str:
    proc = subprocess.run(
        [ASSAY, "--config", str(cfg), *args], capture_output=True, text=True, cwd=ROOT
    )
    if proc.returncode != 0:
        raise SystemExit(f"assay {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout


def settle(db: Path) -> None:
    """Fold the write-ahead log into the database file, so a plain copy is the whole database."""
    with sqlite3.connect(db) as conn:
        conn.execute("pragma wal_checkpoint(truncate)")


def prepare(folder: Path, n: int) -> Path:
    """The registry imported and the campaign created in ``folder/prepared.db``; also
    ``folder/sent.db``, the same after `campaign send`. Returns the config file."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in ("prepared.db", "sent.db", "run.db", "ref.db"):
        for suffix in ("", "-wal", "-shm"):
            (folder / (old + suffix)).unlink(missing_ok=True)
    cfg = config(folder)
    print(assay(cfg, "suppliers", "import", str(registry(folder / "suppliers.csv", n))).strip())
    print(
        assay(
            cfg, "campaign", "create", NAME, "--template", "CMRT", "--deadline", DEADLINE,
            "--as-of", AS_OF,
        ).strip()
    )  # fmt: skip
    settle(folder / "prepared.db")
    shutil.copy(folder / "prepared.db", folder / "sent.db")
    assay(cfg, "campaign", "send", NAME, "--as-of", AS_OF, "--db", str(folder / "sent.db"))
    settle(folder / "sent.db")
    return cfg


def answered(folder: Path, share: float = 0.9, smelters: int = 30) -> Path:
    """``answered.db``: ``sent.db`` after ``share`` of the suppliers answered, each with a
    CMRT listing ``smelters`` of 300 tin smelters (one in ten with an error), and an RMAP
    list that shows two thirds of them conformant: the work a status, a reminder run and a
    remediation pass do in a real survey. Files are screening results built in code and
    credited as the mail intake credits them (tests/storage/campaign_support.py)."""
    sys.path.insert(0, str(ROOT))
    from storage.store import Store
    from tests.storage.campaign_support import receive, rmap

    db = folder / "answered.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    shutil.copy(folder / "sent.db", db)
    store = Store(db)
    pool = [f"CID{900000 + i:06d}" for i in range(300)]
    rmap(store, "bench", dt.date(2026, 8, 1), {c: "Conformant" for c in pool[:200]})
    suppliers = store.suppliers()
    with store.transaction():
        for i, s in enumerate(suppliers[: int(len(suppliers) * share)]):
            listed = tuple(("Tin", pool[(i * 7 + k) % len(pool)]) for k in range(smelters))
            receive(store, s.id, f"bench-{i}", errors=int(i % 10 == 0), smelters=listed)
    store.close()
    settle(db)
    return db


def fresh(folder: Path, name: str) -> Path:
    db = folder / name
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    shutil.copy(folder / "prepared.db", db)
    return db


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--suppliers", type=int, default=2000)
    parser.add_argument(
        "--prepare",
        type=Path,
        help="Only build DIR and print whole-process A/B commands (hyperfine).",
    )
    args, _rest = parser.parse_known_args()

    if args.prepare:
        folder = args.prepare.resolve()
        t0 = time.perf_counter()
        cfg = prepare(folder, args.suppliers)
        print(f"prepared {folder} in {time.perf_counter() - t0:.1f} s")
        a = f"{ASSAY} --config {cfg}"
        ref = f"{a} suppliers list --format json --db {folder}/ref.db"
        run = f"{a} campaign send {NAME} --db {folder}/run.db"
        print("\nsend (queue + .eml delivery) against the registry read as JSON:")
        copy = "rm -f {0}/{1}-wal {0}/{1}-shm && cp {0}/prepared.db {0}/{1}".format
        print(
            f"hyperfine --runs 5 \"sh -c '{copy(folder, 'ref.db')} && exec {ref}'\" "
            f"\"sh -c '{copy(folder, 'run.db')} && exec {run}'\""
        )
        answered(folder)
        print("\nstatus and a reminder run with 90% answered (answered.db), against the registry:")
        print(
            f"hyperfine --runs 5 '{a} suppliers list --format json --db "
            f"{folder}/answered.db' '{a} campaign status {NAME} --format json --db "
            f"{folder}/answered.db'"
        )
        print(
            f"hyperfine --runs 5 \"sh -c '{copy(folder, 'ref.db')} && exec {ref}'\" "
            f"\"sh -c 'rm -f {folder}/rem.db-wal {folder}/rem.db-shm && cp {folder}/answered.db "
            f"{folder}/rem.db && exec {a} campaign remind {NAME} --as-of 2026-11-17 --queue-only "
            f"--db {folder}/rem.db'\""
        )
        print("\nstatus against the registry read as JSON (same database):")
        print(
            f"hyperfine --runs 5 '{a} suppliers list --format json --db "
            f"{folder}/sent.db' '{a} campaign status {NAME} --format json --db {folder}/sent.db'"
        )
        return

    cli(rows, __doc__)


def rows(quick: bool) -> list[Row]:
    from common import bench_env, run_process

    n, runs = (200, 3) if quick else (2000, 5)
    with tempfile.TemporaryDirectory(prefix="assay-bench-campaign-") as tmp:
        folder = Path(tmp)
        cfg = prepare(folder, n)
        shutil.rmtree(folder / "outbox", ignore_errors=True)
        sent_db = folder / "sent.db"
        peaks: dict[str, float] = {}
        outputs: dict[str, str] = {}

        def run(key: str, *command: str) -> float:
            p = run_process([ASSAY, "--config", str(cfg), *command], env=bench_env())
            if p.returncode != 0:
                raise SystemExit(f"assay {' '.join(command)} failed:\n{p.stderr.decode()}")
            outputs[key] = p.stdout.decode()
            peaks[key] = max(peaks.get(key, 0.0), p.peak_mib)
            return p.seconds

        def send(queue_only: bool) -> float:
            db = str(fresh(folder, "run.db"))  # copying is not timed
            extra = ("--queue-only",) if queue_only else ()
            key = "queue" if queue_only else "send"
            return run(key, "campaign", "send", NAME, "--as-of", AS_OF, *extra, "--db", db)

        times = interleaved(
            {
                "send": lambda: send(False),
                "queue": lambda: send(True),
                "reference": lambda: run(
                    "reference", "suppliers", "list", "--format", "json", "--db", str(sent_db)
                ),
                "status": lambda: run(
                    "status", "campaign", "status", NAME, "--as-of", AS_OF, "--format", "json",
                    "--db", str(sent_db),
                ),
            },
            runs,
        )  # fmt: skip
        emls = len(list((folder / "outbox").glob("*.eml")))
        s = json.loads(outputs["status"])
        requested = sum(1 for r in s["supplier_rows"] if r["status"] == "requested")
    if requested != n or emls < n:
        raise SystemExit(f"campaign: {requested} requested, {emls} .eml files, of {n}")
    ref = times["reference"]
    note = f"{n} suppliers; reference: `assay suppliers list --format json` on the same database"
    return [
        compare("campaign send (queue + .eml delivery)", times["send"], ref,
                peak_mib=peaks["send"], note=note),
        compare("campaign send --queue-only", times["queue"], ref, peak_mib=peaks["queue"]),
        compare("campaign status --format json", times["status"], ref, peak_mib=peaks["status"]),
    ]  # fmt: skip


if __name__ == "__main__":
    main()
