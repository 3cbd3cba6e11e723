"""``assay dashboard`` in a subprocess over the synthetic program's aggregate database."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from datasette_auth_passwords.utils import hash_password

from tests.reports.dashboard_support import dashboard_db
from tests.servers import free_port

ASSAY = shutil.which("assay", path=str(Path(sys.executable).parent)) or "assay"
ENV = "ASSAY_DASHBOARD_PASSWORD_HASH"
USER = "compliance"
PASSWORD = "correct horse battery staple"
HASH = hash_password(PASSWORD, iterations=100_000)  # the least the server accepts: quick


def environ(hash_value: str | None = HASH) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (ENV, "ASSAY_CONFIG")}
    if hash_value is not None:
        env[ENV] = hash_value
    return env


@dataclass
class Dashboard:
    url: str
    port: int
    db: Path
    proc: subprocess.Popen[bytes]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=15)

    def login(self, client: httpx.Client, password: str = PASSWORD) -> httpx.Response:
        """Log in through the form, CSRF token and all; returns the POST's response."""
        form = client.get("/-/login")
        token = re.search(r'name="csrftoken" value="([^"]+)"', form.text)
        assert token, form.text
        return client.post(
            "/-/login",
            data={"username": USER, "password": password, "csrftoken": token.group(1)},
        )


def start(tmp_path: Path, *args: str) -> Iterator[Dashboard]:
    db = dashboard_db(tmp_path)
    port = free_port()
    proc = subprocess.Popen(
        [ASSAY, "dashboard", "--port", str(port), "--db", str(db), *args],
        env=environ(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait(port, proc)
        yield Dashboard(f"http://127.0.0.1:{port}", port, db, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"assay dashboard exited {proc.returncode}: {err}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"assay dashboard does not listen on {port}")
