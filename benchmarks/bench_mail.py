"""500 supplier messages through a real Dovecot and SMTP server, against `assay screen` from disk.

    python benchmarks/bench_mail.py [--quick]   (20 messages, 2 rounds)

Setup (not timed): a private Dovecot and an aiosmtpd server start; 500 distinct filled CMRTs
are made (one synthetic CMRT 6.4, re-zipped with a different document title each, so every
file has its own bytes) and 500 messages, one attachment each, are delivered over LMTP.
Timed: `assay serve --once` until every message is screened, stored and answered over SMTP.
Reference, in the same run: `assay screen` of the same 500 files from disk into a fresh
database. Rounds (3; 2 with ``--quick``) alternate the two, each on a fresh mailbox and
database. Target: the mailbox path under 1.5x the reference, quoted twice: pooled (wall
against wall) and per core (each wall times the processes that screened: ``[mail] workers``,
one per CPU; `assay screen`'s pool where assay/pool.py exists, else one), since a pooled
ratio can hide that one side used two cores and the other one. Needs root (Dovecot runs as
the dovecot user) and dovecot-imapd/dovecot-lmtpd installed; otherwise the row says so.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
import uuid
import warnings
from email.message import EmailMessage
from pathlib import Path

from bench_cli import workers as screen_workers
from common import Row, bench_env, cli, compare, filled_cmrt, interleaved, run_process
from files import variant

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ASSAY = shutil.which("assay", path=str(Path(sys.executable).parent)) or "assay"


def rows(quick: bool) -> list[Row]:
    if os.geteuid() != 0 or not shutil.which("dovecot"):
        return [Row("mail: serve --once vs screen", note="skipped: needs root and Dovecot")]
    from storage.crypto import new_key
    from tests.servers import PASSWORD, Smtp, start_dovecot

    n, runs = (20, 2) if quick else (500, 3)
    # SIGTERM (run.py's timeout) ends through ``finally``: Dovecot and SMTP are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    base = filled_cmrt(300).read_bytes()
    dovecot = start_dovecot()
    smtp = Smtp(None).start()
    work = Path(tempfile.mkdtemp(prefix="assay-bench-mail-"))
    env = bench_env(BENCH_IMAP_PASSWORD=PASSWORD, ASSAY_GRIEVANCE_KEY=new_key())
    rounds = iter(range(runs + 1))
    files = work / "files"
    files.mkdir()
    datas = [variant(base, i) for i in range(n)]
    for i, data in enumerate(datas):
        (files / f"cmrt-{i:04d}.xlsx").write_bytes(data)
    try:

        def mail() -> float:
            k = next(rounds)
            user = dovecot.add_user(f"survey{k}@example.test")
            time.sleep(1.1)  # passwd-file is re-read on a new mtime
            for i, data in enumerate(datas):
                msg = EmailMessage()
                msg["From"] = f"Supplier {i} <supplier{i}@supplier{i}.example.test>"
                msg["To"] = user
                msg["Subject"] = f"CMRT {i}"
                msg["Message-ID"] = f"<{uuid.uuid4().hex}@example.test>"
                msg.set_content("Our CMRT is attached.")
                msg.add_attachment(
                    data, maintype="application",
                    subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    filename=f"cmrt-{i}.xlsx",
                )  # fmt: skip
                dovecot.deliver(user, bytes(msg))
            config = work / f"assay{k}.toml"
            config.write_text(
                "\n".join([
                    "[assay]", f'database = "mail{k}.db"', "[screening]", 'as_of = "2026-06-30"',
                    "[mail]", "max_replies_per_hour = 100000", "workers = 0",
                    "seed_examples = false", "[mail.suppliers]", 'kind = "imap"',
                    'host = "127.0.0.1"', f"port = {dovecot.imap_port}", 'security = "none"',
                    f'user = "{user}"', 'password_env = "BENCH_IMAP_PASSWORD"',
                    "[mail.grievances]", "enabled = false", "[smtp]", 'host = "127.0.0.1"',
                    f"port = {smtp.port}", 'security = "none"',
                ]) + "\n"
            )  # fmt: skip
            p = run_process([ASSAY, "--config", str(config), "serve", "--once"], env=env, cwd=work)
            if p.returncode != 0:
                raise SystemExit(p.stderr.decode()[-800:])
            with sqlite3.connect(work / f"mail{k}.db") as db:
                screened = db.execute("select count(*) from submissions").fetchone()[0]
            if screened != n:
                raise SystemExit(f"mail: {screened} of {n} screened")
            return p.seconds

        def disk() -> float:
            db = work / f"disk-{uuid.uuid4().hex}.db"
            p = run_process(
                [ASSAY, "screen", "--db", str(db), "--as-of", "2026-06-30",
                 *map(str, sorted(files.glob("*.xlsx")))],
                env=env,
            )  # fmt: skip
            if p.returncode not in (0, 1):
                raise SystemExit(p.stderr.decode()[-800:])
            return p.seconds

        t = interleaved({"mail": mail, "disk": disk}, runs, warmup=0)
    finally:
        smtp.stop()
        dovecot.stop()
        shutil.rmtree(work, ignore_errors=True)
    mail_w, disk_w = os.cpu_count() or 1, screen_workers(n)
    note = f"{n} messages, one filled CMRT 6.4 (300 rows, cached values) each; reference: `assay screen` of the same files into a fresh database"
    return [
        compare(f"mail {n} messages (pooled)", t["mail"], t["disk"], limit=1.5, note=note),
        compare(
            f"mail per core ({mail_w} vs {disk_w} process{'es' if disk_w > 1 else ''})",
            t["mail"],
            [x * disk_w for x in t["disk"]],
            limit=1.5,
            scale=mail_w,
            note="each wall x the processes that screened: serve --once's [mail] workers "
            "(one per CPU) against assay screen's",
        ),
    ]


if __name__ == "__main__":
    cli(rows, __doc__)
