"""Campaign end-to-end support: an SMTP server that can hang, a test's campaign setup, and
the e-mails it received, parsed.

``HangingRelay`` is the relay of ``tests.servers`` with one hook: armed with ``hang_before(n)``,
it holds the n-th message still to come at the end of DATA (the client waits for the reply)
until ``release()``, then refuses it with a 451, never recording it. A message the server did
not accept is not a message the supplier got.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from tests.intake.mail_support import ASSAY, Env
from tests.servers import Dovecot, RelayHandler, Smtp


class HangingRelay(RelayHandler):
    def __init__(self, dovecot: Dovecot | None) -> None:
        super().__init__(dovecot)
        self.hang_at: int | None = None  # hold the message that would be received[hang_at]
        self.hanging = threading.Event()  # set while a message is held
        self._release = threading.Event()

    def hang_before(self, n: int) -> None:
        """Hold the n-th message from now (1 = the next one)."""
        self._release.clear()
        self.hanging.clear()
        self.hang_at = len(self.received) + n - 1

    def release(self) -> None:
        self.hang_at = None
        self._release.set()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def,unused-ignore]
        if self.hang_at is not None and len(self.received) == self.hang_at:
            self.hanging.set()
            while not self._release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 try again later"  # not accepted, not recorded
        return await super().handle_DATA(server, session, envelope)


class HangingSmtp(Smtp):
    def __init__(self, dovecot: Dovecot | None = None, port: int | None = None) -> None:
        from aiosmtpd.controller import Controller

        super().__init__(dovecot, port)
        self.relay = HangingRelay(dovecot)
        self.handler = self.relay
        self.controller = Controller(self.relay, hostname="127.0.0.1", port=self.port)

    def stop(self) -> None:
        self.relay.release()
        super().stop()


@dataclass(frozen=True)
class Sent:
    """One e-mail the SMTP server accepted."""

    rcpts: tuple[str, ...]
    msg: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.msg["Subject"] or "")

    def text(self, kind: str = "plain") -> str:
        part = self.msg.get_body(preferencelist=(kind,))
        assert part is not None, f"no {kind} part in {self.subject!r}"
        return str(part.get_content())


def parse(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


class CampaignEnv(Env):
    """``Env`` (Dovecot supplier mailbox, SMTP, config) with the clock set to ``as_of`` and
    the campaign commands at hand."""

    def __init__(self, tmp: Path, dovecot: Dovecot, smtp: Smtp, as_of: dt.date) -> None:
        super().__init__(tmp, dovecot, smtp.port)
        self.smtp = smtp
        text = self.config.read_text()
        assert 'as_of = "2026-06-30"' in text
        self.config.write_text(text.replace('as_of = "2026-06-30"', f'as_of = "{as_of}"'))

    def assay(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [ASSAY, "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
        )
        with self.log.open("a") as f:
            f.write(f"$ assay {' '.join(args)}\n{proc.stdout}{proc.stderr}")
        return proc

    def ok(self, *args: str) -> str:
        """Run ``assay ARGS``; its standard output, after checking it succeeded."""
        proc = self.assay(*args)
        assert proc.returncode == 0, f"assay {' '.join(args)} -> {proc.returncode}\n{proc.stderr}"
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc.stdout

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [ASSAY, "--config", str(self.config), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
        )

    def sent(self) -> list[Sent]:
        """Every e-mail the SMTP server accepted so far, oldest first."""
        return [
            Sent(tuple(rcpts), parse(raw)) for _f, rcpts, raw in list(self.smtp.handler.received)
        ]
