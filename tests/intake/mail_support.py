"""Dovecot and SMTP fixtures, a test's mail setup (``Env``) and supplier messages."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.servers import PASSWORD, Dovecot, Smtp, start_dovecot

ASSAY = shutil.which("assay", path=str(Path(sys.executable).parent)) or "assay"
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    if not Dovecot.available():
        if os.environ.get("CI") == "true":
            pytest.fail(
                "dovecot is not installed; .ci/run must install dovecot-imapd and dovecot-lmtpd"
            )
        pytest.skip("dovecot not installed (apt-get install dovecot-imapd dovecot-lmtpd)")
    server = start_dovecot()
    yield server
    server.stop()


@pytest.fixture
def smtp(dovecot: Dovecot) -> Iterator[Smtp]:
    server = Smtp(dovecot).start()
    yield server
    server.stop()


class Env:
    """One test's mailboxes, config and database."""

    def __init__(self, tmp: Path, dovecot: Dovecot, smtp_port: int, **extra: str) -> None:
        tag = uuid.uuid4().hex[:8]
        self.tmp = tmp
        self.dovecot = dovecot
        self.survey = dovecot.add_user(f"survey-{tag}@example.test")
        self.desk = dovecot.add_user(f"grievances-{tag}@example.test")
        self.supplier = dovecot.add_user(f"pat-{tag}@supplier.example.test")
        self.reporter = dovecot.add_user(f"reporter-{tag}@example.test")
        self.db = tmp / "assay.db"
        self.log = tmp / "assay.log"
        lines = [
            "[assay]",
            f'database = "{self.db}"',
            'log_level = "INFO"',
            "[screening]",
            'as_of = "2026-06-30"',
            "[mail]",
            f"max_replies_per_hour = {extra.get('max_replies', 5)}",
            f"max_attachment_mb = {extra.get('max_attachment_mb', 30)}",
            "seed_examples = false",
            "idle_timeout = 2",
        ]
        for section, user in (("suppliers", self.survey), ("grievances", self.desk)):
            lines += [
                f"[mail.{section}]",
                'kind = "imap"',
                'host = "127.0.0.1"',
                f"port = {dovecot.imap_port}",
                'security = "none"',
                f'user = "{user}"',
                'password_env = "TEST_IMAP_PASSWORD"',
                "poll_seconds = 1",
            ]
        lines += [
            "[smtp]",
            'host = "127.0.0.1"',
            f"port = {smtp_port}",
            'security = "none"',
            "retry_seconds = 0",
        ]
        lines += ["[grievance]", 'key_env = "TEST_GRIEVANCE_KEY"', 'key_file = ""']
        lines += ["[alerts]", f'log_file = "{tmp / "alerts.log"}"']
        if extra.get("slack_url"):
            lines += [
                "[slack]",
                'channel = "C_COMPLIANCE"',
                f'api_url = "{extra["slack_url"]}/api/"',
                'bot_token_env = "TEST_SLACK_TOKEN"',
            ]
        self.config = tmp / "assay.toml"
        self.config.write_text("\n".join(lines) + "\n")
        from storage.crypto import new_key

        self.env = {
            **os.environ,
            "TEST_IMAP_PASSWORD": PASSWORD,
            "TEST_GRIEVANCE_KEY": new_key(),
            "TEST_SLACK_TOKEN": "xoxb-test-token",
        }

    def serve_once(self, fault: str = "") -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        if fault:
            env["ASSAY_FAULT"] = fault
        proc = subprocess.run(
            [ASSAY, "--config", str(self.config), "serve", "--once"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        with self.log.open("a") as f:
            f.write(proc.stdout + proc.stderr)
        return proc

    def send(self, msg: EmailMessage, to: str | None = None) -> None:
        self.dovecot.deliver(to or self.survey, bytes(msg), str(msg["From"]))

    def sql(self, query: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.db) as conn:
            return conn.execute(query).fetchall()


def supplier_message(
    env: Env,
    attachment: bytes | None = None,
    name: str = "declaration.xlsx",
    subject: str = "2026 survey",
    **headers: str,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Pat Example <{env.supplier}>"
    msg["To"] = env.survey
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@supplier.example.test>"
    for key, value in headers.items():
        msg[key.replace("_", "-")] = value
    msg.set_content("Please find our declaration attached.")
    if attachment is not None:
        msg.add_attachment(attachment, maintype=XLSX[0], subtype=XLSX[1], filename=name)
    return msg
