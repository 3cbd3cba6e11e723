"""500 supplier messages through a real Dovecot and SMTP server, against `assay screen` from disk.

    python benchmarks/bench_mail.py [--messages 500]

Setup (not timed): a private Dovecot and an aiosmtpd server start; 500 distinct filled CMRTs
are made (one synthetic CMRT 6.4, re-zipped with a different document title each, so every
file has its own bytes) and 500 messages, one attachment each, are delivered over LMTP.
Timed: `assay serve --once` until every message is screened, stored and answered over SMTP.
Reference, in the same run: `assay screen` of the same 500 files from disk into a fresh
database. Target: the mailbox path under 1.5x the reference. Needs root (Dovecot runs as the
dovecot user) and dovecot-imapd/dovecot-lmtpd installed.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
import zipfile
from email.message import EmailMessage
from pathlib import Path

from common import filled_cmrt

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ASSAY = shutil.which("assay", path=str(Path(sys.executable).parent)) or "assay"


def variant(data: bytes, i: int) -> bytes:
    """The same workbook with a different document title: distinct bytes, same content."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info)
            if info.filename == "docProps/core.xml":
                content = content.replace(
                    b"</cp:coreProperties>",
                    f"<dc:title>Synthetic declaration {i}</dc:title></cp:coreProperties>".encode(),
                )
            dst.writestr(info, content)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="[mail] workers: 0 = one per CPU, 1 = screen in-process",
    )
    args = parser.parse_args()

    from storage.crypto import new_key
    from tests.servers import PASSWORD, Smtp, start_dovecot

    base = filled_cmrt(300).read_bytes()
    dovecot = start_dovecot()
    smtp = Smtp(None).start()
    work = Path(tempfile.mkdtemp(prefix="assay-bench-mail-"))
    try:
        survey = dovecot.add_user("survey@example.test")
        files = work / "files"
        files.mkdir()
        time.sleep(1.1)  # passwd-file is re-read on a new mtime
        for i in range(args.messages):
            data = variant(base, i)
            (files / f"cmrt-{i:04d}.xlsx").write_bytes(data)
            msg = EmailMessage()
            msg["From"] = f"Supplier {i} <supplier{i}@supplier{i}.example.test>"
            msg["To"] = survey
            msg["Subject"] = f"CMRT {i}"
            msg["Message-ID"] = f"<{uuid.uuid4().hex}@example.test>"
            msg.set_content("Our CMRT is attached.")
            msg.add_attachment(
                data,
                maintype="application",
                subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                filename=f"cmrt-{i}.xlsx",
            )
            dovecot.deliver(survey, bytes(msg))
        config = work / "assay.toml"
        config.write_text(
            "\n".join(
                [
                    "[assay]",
                    'database = "mail.db"',
                    "[screening]",
                    'as_of = "2026-06-30"',
                    "[mail]",
                    "max_replies_per_hour = 1000",
                    f"workers = {args.workers}",
                    "seed_examples = false",
                    "[mail.suppliers]",
                    'kind = "imap"',
                    'host = "127.0.0.1"',
                    f"port = {dovecot.imap_port}",
                    'security = "none"',
                    f'user = "{survey}"',
                    'password_env = "BENCH_IMAP_PASSWORD"',
                    "[mail.grievances]",
                    "enabled = false",
                    "[smtp]",
                    'host = "127.0.0.1"',
                    f"port = {smtp.port}",
                    'security = "none"',
                ]
            )
            + "\n"
        )
        env = {
            **os.environ,
            "BENCH_IMAP_PASSWORD": PASSWORD,
            "ASSAY_GRIEVANCE_KEY": new_key(),
            "PYTHONWARNINGS": "ignore",
        }

        start = time.perf_counter()
        subprocess.run(
            [
                ASSAY,
                "screen",
                "--db",
                str(work / "disk.db"),
                "--as-of",
                "2026-06-30",
                *map(str, sorted(files.glob("*.xlsx"))),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            env=env,
        )
        disk = time.perf_counter() - start

        start = time.perf_counter()
        proc = subprocess.run(
            [ASSAY, "--config", str(config), "serve", "--once"],
            capture_output=True,
            text=True,
            env=env,
        )
        mail = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
        with sqlite3.connect(work / "mail.db") as db:
            screened = db.execute("select count(*) from submissions").fetchone()[0]
            sent = db.execute(
                "select count(*) from outbox where channel = 'email' and status = 'sent'"
            ).fetchone()[0]
        print(
            f"{args.messages} messages, one filled CMRT 6.4 (300 smelter rows, {len(base) / 1e6:.1f} MB) each"
        )
        print(
            f"assay screen of the same files from disk: {disk:6.1f} s  ({args.messages / disk:5.1f} files/s)  (reference)"
        )
        print(
            f"assay serve --once (IMAP -> screen -> store -> SMTP reply, workers={args.workers or os.cpu_count()}): {mail:6.1f} s  ({args.messages / mail:5.1f} messages/s)"
        )
        print(
            f"screened {screened}, replies sent {sent}, SMTP server received {len(smtp.handler.received)}"
        )
        print(f"ratio mailbox / disk: {mail / disk:.2f}x (target < 1.50x)")
    finally:
        smtp.stop()
        dovecot.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
