"""The e-mail notifier: drains the outbox to SMTP, or to .eml files when no SMTP is set.

An SMTP outage leaves entries pending with a growing retry delay; none is lost. Our
replies carry ``Auto-Submitted: auto-replied`` (RFC 3834). Grievance acknowledgements
are decrypted only here, and the reporter's address goes only into the SMTP envelope:
the message itself is addressed to ``undisclosed-recipients``, so no copy of it (in a
sent folder, a relay's queue, the .eml outbox) names the reporter.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

from storage.crypto import Cipher, CipherError
from storage.store import Store

from .email_render import render_grievance_ack, render_no_template, render_screening_reply

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpSettings:
    host: str = ""  # empty: write .eml files to outbox_dir instead
    port: int = 587
    security: str = "starttls"  # "ssl", "starttls" or "none"
    user: str = ""
    password: str = ""
    timeout: float = 30.0
    outbox_dir: str = "var/outbox"
    reply_from: str = "Assay compliance <compliance@example.test>"
    grievance_from: str = "Grievance desk <grievances@example.test>"
    max_attempts: int = 30
    retry_seconds: float = 30.0  # first retry delay; doubles per attempt, at most an hour


def retry_delay(attempts: int, base: float = 30.0) -> dt.timedelta:
    return dt.timedelta(seconds=min(base * 2 ** (attempts - 1), 3600))


class EmailNotifier:
    def __init__(
        self,
        store: Store,
        settings: SmtpSettings,
        cipher: Cipher | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.cipher = cipher
        self.ssl_context = ssl_context

    def drain(self, limit: int = 100) -> int:
        """Send what is due; returns how many were sent."""
        sent = 0
        for row in self.store.due_outbox("email", limit):
            try:
                msg, envelope_to = self.build(row)
            except (CipherError, KeyError, ValueError, json.JSONDecodeError) as exc:
                log.error(
                    "outbox %s cannot be built (%s); giving up on it", row["id"], type(exc).__name__
                )
                self.store.mark_failed(row["id"], f"cannot build: {type(exc).__name__}", None)
                continue
            try:
                self.deliver(msg, envelope_to, row["id"])
            except (OSError, smtplib.SMTPException) as exc:
                attempts = int(row["attempts"]) + 1
                retry = (
                    None
                    if attempts >= self.settings.max_attempts
                    else (
                        dt.datetime.now(dt.UTC) + retry_delay(attempts, self.settings.retry_seconds)
                    )
                    .replace(microsecond=0)
                    .isoformat()
                )
                log.warning(
                    "outbox %s: SMTP failed (%s); %s",
                    row["id"],
                    type(exc).__name__,
                    f"retry at {retry}" if retry else "giving up",
                )
                self.store.mark_failed(row["id"], f"{type(exc).__name__}: {exc}", retry)
                if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused):
                    continue
                break  # the server is down: stop this pass, keep order
            self.store.mark_sent(row["id"])
            sent += 1
        return sent

    def build(self, row: dict[str, Any]) -> tuple[EmailMessage, str]:
        payload: dict[str, Any]
        if row["encrypted"]:
            if self.cipher is None:
                raise CipherError("no grievance key to decrypt this entry")
            payload = json.loads(self.cipher.decrypt(row["payload"]))
        else:
            payload = json.loads(row["payload"])
        kind = payload["kind"]
        msg = EmailMessage()
        if kind == "screening-reply":
            text, html = render_screening_reply(payload, self.store)
            sender, subject = self.settings.reply_from, payload["subject"]
        elif kind == "no-template":
            text, html = render_no_template(payload)
            sender, subject = self.settings.reply_from, payload["subject"]
        elif kind in ("grievance-ack", "grievance-follow-up"):
            text, html = render_grievance_ack(payload)
            sender = self.settings.grievance_from
            base = payload.get("subject") or "Your report"
            subject = (
                f"Re: {base} [{payload['case_id']}] [ref:{payload['token']}]"
                if not base.lower().startswith("re:")
                else f"{base} [{payload['case_id']}] [ref:{payload['token']}]"
            )
        else:
            raise ValueError(f"unknown outbox kind {kind!r}")
        envelope_to = payload["to"]
        msg["From"] = sender
        msg["To"] = "undisclosed-recipients:;" if kind.startswith("grievance") else envelope_to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False)
        domain = sender.rsplit("@", 1)[-1].strip("> ") or "assay.invalid"
        msg["Message-ID"] = (
            f"<assay.{row['id']}.{hashlib.sha256(row['dedupe_key'].encode()).hexdigest()[:16]}@{domain}>"
        )
        if payload.get("in_reply_to"):
            msg["In-Reply-To"] = payload["in_reply_to"]
            msg["References"] = payload.get("references") or payload["in_reply_to"]
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
        return msg, envelope_to

    def deliver(self, msg: EmailMessage, envelope_to: str, outbox_id: int) -> None:
        s = self.settings
        if not s.host:
            self._write_eml(msg, outbox_id)
            return
        if s.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout, context=self.ssl_context
            )
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        with client:
            if s.security == "starttls":
                client.starttls(context=self.ssl_context)
            if s.user:
                client.login(s.user, s.password)
            client.send_message(msg, from_addr=_bare(msg["From"]), to_addrs=[envelope_to])

    def _write_eml(self, msg: EmailMessage, outbox_id: int) -> None:
        folder = Path(self.settings.outbox_dir)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{outbox_id:06d}.eml"
        tmp = folder / f".{outbox_id:06d}.{uuid.uuid4().hex}.tmp"
        tmp.write_bytes(bytes(msg))
        os.replace(tmp, target)  # the same id rewrites the same file: never two copies


def _bare(header: str) -> str:
    from email.utils import parseaddr

    return parseaddr(header)[1]
