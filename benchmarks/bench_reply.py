"""What the supplier's reply costs beside the screening it reports.

    python benchmarks/bench_reply.py [--quick]
    python benchmarks/bench_reply.py --only screen|reply   (one pass, for a whole-process A/B)

Setup (not timed): the file is screened once and stored in a temporary database.
Timed, interleaved (7 rounds; 3 with ``--quick``), on examples/northwind-cmrt-6.5.xlsx:
- the reference, screening the file (``Screener.screen_bytes``: sandboxed read and every check),
- marking the workbook up in the sandboxed child, as the mailer does (``reports.markup``),
- gathering what the reply needs from the store (``reply_facts``) and rendering its text and
  HTML (``render_screening_reply``),
- building the whole e-mail (``EmailNotifier.build``: render, mark-up, MIME).
Each is a row against screening, measured in the same rounds.

``--only`` runs one screening (``screen``) or one screening plus one e-mail build (``reply``)
and exits, so whole processes can be compared:
    hyperfine '.venv/bin/python benchmarks/bench_reply.py --only screen' \\
        '.venv/bin/python benchmarks/bench_reply.py --only reply'
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from pathlib import Path

from common import ROOT, Row, cli, compare, interleaved

from bot.email_render import render_screening_reply
from bot.mailer import EmailNotifier, SmtpSettings
from bot.reply_facts import reply_facts
from plugins.manager import get_plugin_manager
from plugins.pipeline import Screener
from program.outbox import ReplyFile, ScreeningReply
from storage.mail import OutboxItem
from storage.store import Store


def _setup(tmp: str, only: str | None = None):  # type: ignore[no-untyped-def]
    path = ROOT / "examples" / "northwind-cmrt-6.5.xlsx"
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    store = Store(Path(tmp) / "bench.db")
    store.migrate()
    screener = Screener(get_plugin_manager(), store.reference_data())
    result = screener.screen_bytes(data)
    if only == "screen":
        return None
    store.record_screening(sha, result, filename=path.name, source="email", data=data)
    payload = ScreeningReply(
        to="supplier@example.test", subject="Re: survey", files=(ReplyFile(path.name, sha),)
    )
    store.enqueue(OutboxItem("email", "reply:bench", payload))
    row = store.outbox_by_key("reply:bench")
    assert row is not None
    mailer = EmailNotifier(store, SmtpSettings(outbox_dir=str(Path(tmp) / "out")))
    return data, screener, store, payload, row, mailer


def rows(quick: bool) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        data, screener, store, payload, row, mailer = _setup(tmp)
        t = interleaved(
            {
                "screen": lambda: screener.screen_bytes(data),
                "markup": lambda: mailer.marked_up(payload),
                "render": lambda: render_screening_reply(reply_facts(payload, store)),
                "build": lambda: mailer.build(row),
            },
            3 if quick else 7,
        )
    note = "examples/northwind-cmrt-6.5.xlsx; reference: screening the same file (sandboxed)"
    return [
        compare("reply: mark-up, sandboxed", t["markup"], t["screen"], note=note),
        compare("reply: render text + HTML", t["render"], t["screen"]),
        compare("reply: whole e-mail build", t["build"], t["screen"]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=("screen", "reply"))
    args, _rest = parser.parse_known_args()
    if args.only is None:
        cli(rows, __doc__)
        return
    with tempfile.TemporaryDirectory() as tmp:
        setup = _setup(tmp, args.only)
        if setup is not None:
            msg, _to = setup[5].build(setup[4])
            assert any(True for _ in msg.iter_attachments()), "no marked-up workbook attached"


if __name__ == "__main__":
    main()
