"""Render the e-mail reply to a shipped example workbook, and take its picture in Chromium.

    .venv/bin/python scripts/reply_preview.py [--file examples/northwind-cmrt-6.5.xlsx]
        [--html var/reply.html] [--png docs/images/reply.png] [--width 760] [--height 1800]

Screens the file on the embedded reference data (as ``assay serve --once`` does), renders
the reply a supplier would get (HTML part), writes it, and, when Debian's ``chromium`` is
installed, saves a screenshot taken headless. This is how the picture in docs/replies.md is
made; look at it after changing the renderer.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.email_render import render_screening_reply  # noqa: E402
from bot.reply_facts import reply_facts  # noqa: E402
from bot.reply_view import ReplyStyle  # noqa: E402
from plugins.manager import get_plugin_manager  # noqa: E402
from plugins.pipeline import Screener  # noqa: E402
from program.outbox import ReplyFile, ScreeningReply  # noqa: E402
from storage.store import Store  # noqa: E402

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--file", type=Path, default=ROOT / "examples" / "northwind-cmrt-6.5.xlsx")
    ap.add_argument("--html", type=Path, default=ROOT / "var" / "reply.html")
    ap.add_argument("--png", type=Path, default=ROOT / "docs" / "images" / "reply.png")
    ap.add_argument("--width", type=int, default=760)
    ap.add_argument("--height", type=int, default=1800)
    args = ap.parse_args()
    data = args.file.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "preview.db")
        store.migrate()
        result = Screener(get_plugin_manager(), store.reference_data()).screen_bytes(data)
        store.record_screening(sha, result, filename=args.file.name, source="email", data=data)
        reply = ScreeningReply(to="", files=(ReplyFile(args.file.name, sha),))
        attached = {sha: args.file.stem + " (Assay findings)" + args.file.suffix}
        _text, html = render_screening_reply(
            reply_facts(reply, store, attached),
            ReplyStyle("The compliance team", "compliance@example.test"),
        )
        store.close()
    args.html.parent.mkdir(parents=True, exist_ok=True)
    args.html.write_text(html, encoding="utf-8")
    print(f"wrote {args.html}")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("chromium is not installed (apt-get install chromium): no picture taken")
        return 0
    args.png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={args.width},{args.height}",
                f"--screenshot={args.png.resolve()}",
                args.html.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    print(f"wrote {args.png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
