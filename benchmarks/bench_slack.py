"""`/smelter` answer time over real HTTP, on 2,000 submissions and 600,000 smelter rows.

    python benchmarks/bench_slack.py [--submissions 2000] [--rows 300] [--requests 400]

Setup (not timed): 2,000 submissions of 300 smelter rows each are stored (variants of one
filled CMRT 6.4, each with its own company name). The Bolt app is served over HTTP on
loopback and sent correctly signed `/smelter` slash commands, one at a time, for a mix of
CIDs and names; each time is request to response. Reference, in the same run: the same
look-ups (`smelter_answer`) called directly on the store. Target: p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import time
import urllib.parse
import urllib.request
import warnings
from dataclasses import replace
from pathlib import Path

from common import filled_cmrt, supplier_variant

warnings.filterwarnings("ignore")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()

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
        start = time.perf_counter()
        for i in range(args.submissions):
            decl = supplier_variant(base, i)
            store.record_screening(
                hashlib.sha256(f"s{i}".encode()).hexdigest(),
                replace(result, declaration=decl),
                filename=f"s{i}.xlsx",
            )
        rows = store.count("smelter_rows")
        print(
            f"stored {store.count('submissions')} submissions, {rows} smelter rows (setup {time.perf_counter() - start:.0f} s, not timed)"
        )

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
        http_times = [over_http(q) * 1000 for q in queries]
        direct_times = [direct(q) * 1000 for q in queries]
        server.shutdown()
        stub.stop()
        h50, h99 = percentile(http_times, 50), percentile(http_times, 99)
        d50, d99 = percentile(direct_times, 50), percentile(direct_times, 99)
        print(
            f"/smelter over HTTP ({len(queries)} requests): p50 {h50:6.1f} ms  p99 {h99:6.1f} ms  mean {statistics.mean(http_times):6.1f} ms"
        )
        print(f"same look-up on the store (reference):   p50 {d50:6.1f} ms  p99 {d99:6.1f} ms")
        print(
            f"ratio HTTP / direct: p50 {h50 / d50:.2f}x, p99 {h99 / d99:.2f}x; target p99 < 100 ms -> {'met' if h99 < 100 else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
