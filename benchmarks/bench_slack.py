"""`/smelter` answer time over real HTTP, on 2,000 submissions and 600,000 smelter rows.

    python benchmarks/bench_slack.py [--quick]   (200 submissions, 100 requests)

Setup (not timed): 2,000 submissions of 300 smelter rows each are stored (variants of one
filled CMRT 6.4, each with its own company name). The Bolt app is served over HTTP on
loopback and sent correctly signed `/smelter` slash commands, one at a time, for a mix of
CIDs and names; each time is request to response. Reference, interleaved query by query:
the same look-ups (`smelter_answer`) called directly on the store. Target: p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
import urllib.parse
import urllib.request
import warnings
from dataclasses import replace
from pathlib import Path

from common import Row, cli, compare, filled_cmrt, supplier_variant

warnings.filterwarnings("ignore")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def rows(quick: bool) -> list[Row]:
    args = argparse.Namespace(
        submissions=200 if quick else 2000, rows=300, requests=100 if quick else 400
    )

    import datetime as dt

    from slack_sdk import WebClient

    from bot.listeners.smelter_command import smelter_answer
    from bot.slack_app import SlackSettings, build_app
    from bot.slack_http import serve_http
    from plugins.manager import get_plugin_manager
    from plugins.pipeline import Screener
    from storage.store import Store
    from tests.servers import free_port
    from tests.slack_stub import TOKEN, SlackStub, signed_request

    secret = "bench-secret"
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        store = Store(db)
        screener = Screener(
            get_plugin_manager(), store.reference_data(), as_of=dt.date(2026, 6, 30)
        )
        base = screener.read(filled_cmrt(args.rows).read_bytes())
        result = screener.screen(base)
        for i in range(args.submissions):
            decl = supplier_variant(base, i)
            store.record_screening(
                hashlib.sha256(f"s{i}".encode()).hexdigest(),
                replace(result, declaration=decl),
                filename=f"s{i}.xlsx",
            )
        n_rows = store.count("smelter_rows")

        ref = store.reference_data()
        cids = sorted({r.smelter_id for r in base.smelters})
        names = [ref.smelters[c].name for c in cids if c in ref.smelters]
        queries = [
            (cids[i % len(cids)] if i % 2 == 0 else names[i % len(names)].lower())
            for i in range(args.requests)
        ]

        # Bolt asks auth.test once (who am I?): the local Web API stand-in answers it.
        stub = SlackStub().start()
        settings = SlackSettings(bot_token=TOKEN, signing_secret=secret, workspace_id="T1")
        app = build_app(
            settings,
            lambda: Store(db),
            lambda s: screener,
            None,
            WebClient(token=TOKEN, base_url=stub.url + "/api/"),
        )
        port = free_port()
        server, _ = serve_http(app, "127.0.0.1", port)

        def over_http(query: str) -> float:
            body = urllib.parse.urlencode(
                {
                    "command": "/smelter",
                    "text": query,
                    "user_id": "U1",
                    "team_id": "T1",
                    "channel_id": "C1",
                }
            ).encode()
            req = signed_request(port, body, secret)
            t0 = time.perf_counter()
            with urllib.request.urlopen(req, timeout=30) as resp:
                payload = resp.read()
            elapsed = time.perf_counter() - t0
            assert b"CID" in payload, payload[:200]
            return elapsed

        def direct(query: str) -> float:
            t0 = time.perf_counter()
            text, _blocks = smelter_answer(store, query, staff=True)
            elapsed = time.perf_counter() - t0
            assert "CID" in text
            return elapsed

        for q in queries[:20]:  # warm-up: caches, thread-local stores
            over_http(q)
            direct(q)
        http_times, direct_times = [], []
        for q in queries:  # interleaved, query by query
            http_times.append(over_http(q))
            direct_times.append(direct(q))
        server.shutdown()
        stub.stop()
    note = (
        f"{args.submissions} submissions, {n_rows} smelter rows, {len(queries)} requests; "
        "reference: the same look-up called on the store"
    )
    p50 = compare("slack /smelter over HTTP, p50", http_times, direct_times, note=note)
    p50.measured, p50.reference = percentile(http_times, 50), percentile(direct_times, 50)
    h99, d99 = percentile(http_times, 99), percentile(direct_times, 99)
    return [
        p50,
        Row("slack /smelter over HTTP, p99", h99, d99, h99 / d99, target="< 100 ms", ok=h99 < 0.1),
    ]


if __name__ == "__main__":
    cli(rows, __doc__)
