"""What the supplier's reply costs beside the screening it reports.

    python benchmarks/bench_reply.py [--file examples/northwind-cmrt-6.5.xlsx] [--runs 7]
    python benchmarks/bench_reply.py --only screen|reply   (one pass, for farm-bench A/B)

Setup (not timed): the file is screened once and stored in a temporary database.
Timed, each a median of ``--runs``:
- the reference, screening the file (``Screener.screen_bytes``: sandboxed read and every check),
- marking the workbook up in the sandboxed child, as the mailer does (``reports.markup``),
- gathering what the reply needs from the store (``reply_facts``) and rendering its text and
  HTML (``render_screening_reply``),
- building the whole e-mail (``EmailNotifier.build``: render, mark-up, MIME).
Prints each median and its ratio to screening, measured in the same run.

``--only`` runs one screening (``screen``) or one screening plus one e-mail build (``reply``)
and exits, so whole processes can be compared:
    farm-bench --vs '.venv/bin/python benchmarks/bench_reply.py --only screen' -- \\
        .venv/bin/python benchmarks/bench_reply.py --only reply
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from pathlib import Path

from common import ROOT, median_seconds

from bot.email_render import render_screening_reply
from bot.mailer import EmailNotifier, SmtpSettings
from bot.reply_facts import reply_facts
from plugins.manager import get_plugin_manager
from plugins.pipeline import Screener
from program.outbox import ReplyFile, ScreeningReply
from storage.mail import OutboxItem
from storage.store import Store


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", type=Path, default=ROOT / "examples" / "northwind-cmrt-6.5.xlsx")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--only", choices=("screen", "reply"))
    args = parser.parse_args()
    data = args.file.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        store.migrate()
        screener = Screener(get_plugin_manager(), store.reference_data())
        result = screener.screen_bytes(data)
        if args.only == "screen":
            return
        store.record_screening(sha, result, filename=args.file.name, source="email", data=data)
        payload = ScreeningReply(
            to="supplier@example.test",
            subject="Re: survey",
            files=(ReplyFile(args.file.name, sha),),
        )
        store.enqueue(OutboxItem("email", "reply:bench", payload))
        [row] = [dict(r) for r in store.db.table("outbox").rows]
        mailer = EmailNotifier(store, SmtpSettings(outbox_dir=str(Path(tmp) / "out")))
        if args.only == "reply":
            msg, _to = mailer.build(row)
            assert any(True for _ in msg.iter_attachments()), "no marked-up workbook attached"
            return
        screen, _ = median_seconds(lambda: screener.screen_bytes(data), args.runs)
        markup, _ = median_seconds(lambda: mailer.marked_up(payload), args.runs)
        render, _ = median_seconds(
            lambda: render_screening_reply(reply_facts(payload, store)), args.runs
        )
        build, _ = median_seconds(lambda: mailer.build(row), args.runs)
        findings = len(store.findings(sha))
        size = len(bytes(mailer.build(row)[0]))
    print(
        f"file: {args.file.name}, {len(data) / 1e6:.2f} MB, {findings} findings; e-mail {size / 1e6:.2f} MB"
    )
    for label, seconds in (
        ("screening (reference)", screen),
        ("mark-up, sandboxed", markup),
        ("render text + HTML", render),
        ("whole e-mail build", build),
    ):
        print(f"{label:24s} {seconds * 1000:8.1f} ms   {seconds / screen:5.2f}x screening")
    print(json.dumps({"screen_ms": round(screen * 1000, 1), "build_ms": round(build * 1000, 1)}))


if __name__ == "__main__":
    main()
