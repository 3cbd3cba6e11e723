"""Build the example program, serve its dashboard and save docs/images/dashboard.png.

    .venv/bin/python scripts/dashboard_screenshot.py [--out docs/images/dashboard.png]

Run by hand (it needs /usr/bin/chromium and the playwright package from the test extras).
Everything happens in a temporary folder with the embedded defaults: the synthetic supplier
registry examples/dashboard-suppliers.csv, a CMRT campaign opened 30 days ago and an EMRT one
opened 10 days ago, both asked, then `assay serve --once` on the quick start's example mail
(Northwind's CMRT, Contoso's zipped EMRT, a grievance), then `assay dashboard build`, then
`assay dashboard` on a free port, logged in with Playwright, full page at 1400 px wide.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSAY = shutil.which("assay", path=str(Path(sys.executable).parent)) or "assay"
PASSWORD = "example password"
CHROMIUM = "/usr/bin/chromium"


def assay(cwd: Path, *args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run([ASSAY, *args], cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_example(work: Path) -> None:
    today = dt.date.today()
    day = lambda n: (today + dt.timedelta(days=n)).isoformat()  # noqa: E731
    assay(work, "suppliers", "import", str(ROOT / "examples" / "dashboard-suppliers.csv"))
    for name, family, opened, deadline in (
        ("CMRT 2026", "CMRT", -30, 14),
        ("EMRT 2026", "EMRT", -10, 30),
    ):
        assay(
            work,
            "campaign",
            "create",
            name,
            "--template",
            family,
            "--deadline",
            day(deadline),
            "--as-of",
            day(opened),
        )
        assay(work, "campaign", "send", name, "--as-of", day(opened))
    assay(work, "serve", "--once")
    assay(work, "dashboard", "build")


def screenshot(work: Path, out: Path) -> None:
    from datasette_auth_passwords.utils import hash_password
    from playwright.sync_api import sync_playwright

    port = free_port()
    env = dict(os.environ, ASSAY_DASHBOARD_PASSWORD_HASH=hash_password(PASSWORD))
    env.pop("ASSAY_CONFIG", None)
    proc = subprocess.Popen([ASSAY, "dashboard", "--port", str(port)], cwd=work, env=env)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/-/dashboards/assay")
            page.fill("input[name=username]", "compliance")
            page.fill("input[name=password]", PASSWORD)
            page.click("form input[type=submit]")
            page.wait_for_url("**/-/dashboards/assay")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(1500)  # vega's last layout pass
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out), full_page=True)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "dashboard.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="assay-dashboard-") as tmp:
        work = Path(tmp)
        build_example(work)
        screenshot(work, args.out.resolve())
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
