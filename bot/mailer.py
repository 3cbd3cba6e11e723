"""The e-mail notifier: drains the outbox to SMTP, or to .eml files when no SMTP is set.

Each row is claimed with a lease (status ``sending``) before it is sent, so any number of
notifiers on one database send it once. A row left ``sending`` by a notifier that died is
taken over: as an .eml file it was delivered if its file exists; over SMTP it is sent
again with the same Message-ID (the crash window: the server accepted it, we never
recorded that). An SMTP outage or a 4xx leaves entries pending with a growing retry
delay; none is lost. A permanent refusal (5xx to the sender, a recipient or the data),
or a row that cannot be built, ends dead after a few attempts with one alert for the
compliance channel. Every header built from outside text is one clean line of bounded
length. Our
replies carry ``Auto-Submitted: auto-replied`` (RFC 3834). Grievance acknowledgements
are decrypted only here, and the reporter's address goes only into the SMTP envelope:
the message itself is addressed to ``undisclosed-recipients``, so no copy of it (in a
sent folder, a relay's queue, the .eml outbox) names the reporter.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import logging
import os
import re
import smtplib
import ssl
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path
from typing import Any

from plugins.checks import DEFAULT_CURRENT_VERSIONS
from plugins.models import Finding
from plugins.sandbox import run_isolated
from plugins.workbook import FileProblem, Limits
from reports.markup import MarkupError, mark_up, marked_up_name
from storage.crypto import Cipher, CipherError
from storage.mail import OutboxItem, lease_owner
from storage.store import Store

from .email_render import (
    ReplyStyle,
    render_grievance_ack,
    render_no_template,
    render_screening_reply,
)

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
    max_attempts: int = 30  # transient failures (4xx, server down) before giving up
    permanent_attempts: int = 3  # permanent refusals (5xx) before giving up
    retry_seconds: float = 30.0  # first retry delay; doubles per attempt, at most an hour
    lease_seconds: float = (
        300.0  # how long a claimed row is ours before another notifier may take it
    )
    signature: str = "The compliance team"  # [mail] signature: how replies are signed
    return_workbook: bool = True  # [mail] return_workbook: attach the marked-up workbook
    limits: Limits = field(default_factory=Limits)  # sandbox limits for the mark-up ([limits])
    current_versions: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_CURRENT_VERSIONS)
    )


SUBJECT_MAX = 200
MAX_RETURNED = 10  # marked-up workbooks attached to one reply
# Their total size: base64 adds a third, and mail servers commonly refuse 25 MB messages.
MAX_RETURNED_BYTES = 14 * 1024 * 1024
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
XLSM_TYPE = ("application", "vnd.ms-excel.sheet.macroEnabled.12")
ADDRESS_MAX = 254
MSGID_RE = re.compile(r"<[!-;=?-~]{1,250}>")  # printable ASCII without < and >
ADDRESS_RE = re.compile(r"[^\s@<>()\[\],;:\\\"]{1,64}@[A-Za-z0-9.\-\[\]:_]{1,190}")
BIDI = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F])
KIND_LABEL = {
    "screening-reply": "screening reply",
    "no-template": "no-template reply",
    "grievance-ack": "grievance acknowledgement",
    "grievance-follow-up": "grievance follow-up acknowledgement",
}


def header_text(value: object, limit: int = SUBJECT_MAX) -> str:
    """Text safe for one header line: control characters and line breaks become spaces,
    runs of white space one, and at most ``limit`` characters (an ellipsis marks a cut)."""
    text = str(value if value is not None else "")[: limit * 4 + 64].translate(BIDI)
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def clean_address(value: object) -> str:
    """One bare, plausible address from outside text; ValueError when there is none."""
    text = header_text(value, ADDRESS_MAX * 2)
    angle = re.fullmatch(r"[^<>@,;:]*<([^<>]*)>", text)  # "Name <addr>", nothing more
    addr = angle.group(1) if angle else text
    if len(addr) > ADDRESS_MAX or not ADDRESS_RE.fullmatch(addr):
        raise ValueError("no valid recipient address")
    return addr


def message_ids(value: object, keep: int = 10) -> list[str]:
    """The msg-id tokens in outside text (the last ``keep``), nothing else."""
    return MSGID_RE.findall(header_text(value, 4000))[-keep:]


class Permanent(Exception):
    """A delivery the server refused for good (a 5xx): retried a few times, then dead."""


def retry_delay(attempts: int, base: float = 30.0) -> dt.timedelta:
    return dt.timedelta(seconds=min(base * 2 ** (attempts - 1), 3600))


def _iso(moment: dt.datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def smtp_code(exc: BaseException) -> int:
    """The SMTP reply code of a refusal (0 when the failure was not a reply)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _m in exc.recipients.values()]
        return min(codes) if codes else 0
    if isinstance(exc, smtplib.SMTPResponseException):
        return int(exc.smtp_code)
    return 0


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
        """Deliver what is due, one claimed row at a time; returns how many were sent.

        Each row is claimed with a lease first (status ``sending``), so any number of
        notifiers on one database deliver it once; it is marked sent or failed only while
        we still hold the lease.
        """
        owner = lease_owner()
        sent = 0
        tried: set[int] = set()
        while len(tried) < limit:
            claimed = self.store.claim_outbox(
                "email", owner, self.settings.lease_seconds, skip=tried
            )
            if not claimed:
                break
            row = claimed[0]
            tried.add(int(row["id"]))
            outcome = self._one(row, owner)
            if outcome == "sent":
                sent += 1
            elif outcome == "stop":
                break  # the server is down: stop this pass
        return sent

    def _one(self, row: dict[str, Any], owner: str) -> str:
        if row.get("claimed_from") == "sending":
            log.info("outbox %s: taking over from a notifier that died while sending", row["id"])
        if not self.settings.host and row.get("claimed_from") == "sending":
            target = self._eml_path(int(row["id"]))
            if target.exists():  # written before the crash that left the row 'sending'
                self.store.mark_sent(row["id"], owner, ref=target.name)
                return "sent"
        try:
            msg, envelope_to = self.build(row)
        except Exception as exc:  # hostile or broken input: dead, with one alert, never silent
            log.error(
                "outbox %s cannot be built (%s); giving up on it", row["id"], type(exc).__name__
            )
            self._give_up(row, owner, f"cannot build: {type(exc).__name__}")
            return "next"
        try:
            ref = self.deliver(msg, envelope_to, row["id"])
        except (OSError, smtplib.SMTPException) as exc:
            code = smtp_code(exc)
            refused = isinstance(
                exc,
                smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused | smtplib.SMTPDataError,
            )
            permanent = refused and code >= 500
            attempts = int(row["attempts"]) + 1
            limit = self.settings.permanent_attempts if permanent else self.settings.max_attempts
            # Only the exception type and code: a refusal's text names the recipient.
            error = f"{type(exc).__name__}: {code}" if code else type(exc).__name__
            if attempts >= limit:
                log.error(
                    "outbox %s: SMTP failed %d time(s) (%s); giving up", row["id"], attempts, error
                )
                self._give_up(row, owner, error)
            else:
                retry = _iso(
                    dt.datetime.now(dt.UTC) + retry_delay(attempts, self.settings.retry_seconds)
                )
                log.warning("outbox %s: SMTP failed (%s); retry at %s", row["id"], error, retry)
                self.store.mark_failed(row["id"], error, retry, owner=owner)
            return "next" if refused else "stop"
        except Exception as exc:  # not a transport failure: our bug or input we cannot send
            log.exception("outbox %s: cannot be sent (%s)", row["id"], type(exc).__name__)
            error = f"cannot send: {type(exc).__name__}"
            if int(row["attempts"]) + 1 >= self.settings.permanent_attempts:
                self._give_up(row, owner, error)
            else:
                retry = _iso(
                    dt.datetime.now(dt.UTC)
                    + retry_delay(int(row["attempts"]) + 1, self.settings.retry_seconds)
                )
                self.store.mark_failed(row["id"], error, retry, owner=owner)
            return "next"
        if not self.store.mark_sent(row["id"], owner, ref=ref):
            log.warning("outbox %s: sent, but our lease had expired", row["id"])
        return "sent"

    def _give_up(self, row: dict[str, Any], owner: str, error: str) -> None:
        """Mark the row dead and queue one alert saying what could not be delivered, to whom
        (a supplier's name or address hash; never anything about a grievance reporter)."""
        key = str(row["dedupe_key"])
        kind = key.split(":", 1)[0]
        alert: dict[str, Any] = {"kind": "undeliverable", "error": error[:120]}
        if row["encrypted"] or kind.startswith("grievance"):
            alert["message"] = "grievance acknowledgement"
            case = self._case_id(row)
            if case:
                alert["case_id"] = case
        else:
            try:
                payload_kind = json.loads(row["payload"]).get("kind", "")
            except (ValueError, AttributeError):
                payload_kind = ""
            alert["message"] = KIND_LABEL.get(payload_kind, "reply")
            alert["to_hash"] = str(row.get("recipient_hash") or "")[:12]
            if kind == "reply":
                alert["supplier"] = self.store.supplier_for_message(key.split(":", 1)[1])
        self.store.mark_failed(
            row["id"],
            error,
            None,
            owner=owner,
            dead_alert=OutboxItem("alert", f"alert:undeliverable:{key}", alert),
        )

    def _case_id(self, row: dict[str, Any]) -> str:
        if self.cipher is None:
            return ""
        try:
            payload = json.loads(self.cipher.decrypt(row["payload"]))
            return header_text(payload.get("case_id", ""), 40)
        except Exception:
            return ""

    def build(self, row: dict[str, Any]) -> tuple[EmailMessage, str]:
        """The message and its envelope recipient. Every header from outside text is one
        clean line of bounded length, so hostile input cannot break or extend the headers."""
        payload: dict[str, Any]
        if row["encrypted"]:
            if self.cipher is None:
                raise CipherError("no grievance key to decrypt this entry")
            payload = json.loads(self.cipher.decrypt(row["payload"]))
        else:
            payload = json.loads(row["payload"])
        kind = payload["kind"]
        msg = EmailMessage()
        grievance = kind in ("grievance-ack", "grievance-follow-up")
        attachments: list[tuple[str, str, bytes]] = []
        style = ReplyStyle(
            self.settings.signature, _bare(self.settings.reply_from), self.settings.current_versions
        )
        if kind == "screening-reply":
            attachments = self.marked_up(payload)
            names = {sha: name for sha, name, _data in attachments}
            text, html = render_screening_reply(payload, self.store, style, names)
            sender = self.settings.reply_from
        elif kind == "no-template":
            text, html = render_no_template(payload, style)
            sender = self.settings.reply_from
        elif grievance:
            text, html = render_grievance_ack(payload)
            sender = self.settings.grievance_from
        else:
            raise ValueError(f"unknown outbox kind {header_text(kind, 40)!r}")
        if grievance:
            # A fixed subject: never an echo of what the reporter wrote, and no threading
            # headers that would tie the acknowledgement to their message.
            subject = header_text(
                f"Your report {header_text(payload['case_id'], 40)} [ref:{header_text(payload['token'], 60)}]"
            )
        else:
            subject = header_text(payload.get("subject") or "", SUBJECT_MAX) or "Re: your message"
        envelope_to = clean_address(payload["to"])
        msg["From"] = sender
        msg["To"] = "undisclosed-recipients:;" if grievance else envelope_to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False)
        domain = sender.rsplit("@", 1)[-1].strip("> ") or "assay.invalid"
        msg["Message-ID"] = (
            f"<assay.{row['id']}.{hashlib.sha256(row['dedupe_key'].encode()).hexdigest()[:16]}@{domain}>"
        )
        if not grievance:
            parent = message_ids(payload.get("in_reply_to"), keep=1)
            if parent:
                refs = [r for r in message_ids(payload.get("references")) if r != parent[0]]
                msg["In-Reply-To"] = parent[0]
                msg["References"] = " ".join([*refs[-9:], parent[0]])
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
        for _sha, name, data in attachments:
            maintype, subtype = XLSM_TYPE if name.lower().endswith(".xlsm") else XLSX_TYPE
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        return msg, envelope_to

    def marked_up(self, payload: dict[str, Any]) -> list[tuple[str, str, bytes]]:
        """Each readable file of a screening reply, marked up with its findings, in a
        sandboxed child (the file is the sender's); a file that cannot be marked up is
        simply not attached, and the reply says nothing about an attachment for it."""
        if not self.settings.return_workbook:
            return []
        out: list[tuple[str, str, bytes]] = []
        total = 0
        for f in payload.get("files", [])[:MAX_RETURNED]:
            sha = str(f.get("sha256") or "")
            sub = self.store.submission(sha)
            data = self.store.original(sha) if sub and sub.get("readable") else None
            if data is None:
                continue
            findings = self.store.findings(sha)
            title = str(sub.get("company_name") or "") if sub else ""
            try:
                encoded = run_isolated(
                    functools.partial(
                        _mark_up_b64, findings=findings, title=title, limits=self.settings.limits
                    ),
                    data,
                    self.settings.limits,
                )
                marked = base64.b64decode(encoded)
            except FileProblem as exc:
                log.info("not returning a marked-up copy of %s…: %s", sha[:12], exc.code)
                continue
            if total + len(marked) > MAX_RETURNED_BYTES:
                continue
            total += len(marked)
            out.append((sha, marked_up_name(str(f.get("filename") or "workbook.xlsx")), marked))
        return out

    def deliver(self, msg: EmailMessage, envelope_to: str, outbox_id: int) -> str:
        """Hand the message over; returns a reference (the .eml name or the Message-ID)."""
        s = self.settings
        if not s.host:
            return self._write_eml(msg, outbox_id)
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
        return str(msg["Message-ID"])

    def _eml_path(self, outbox_id: int) -> Path:
        return Path(self.settings.outbox_dir) / f"{outbox_id:06d}.eml"

    def _write_eml(self, msg: EmailMessage, outbox_id: int) -> str:
        target = self._eml_path(outbox_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{outbox_id:06d}.{uuid.uuid4().hex}.tmp"
        tmp.write_bytes(bytes(msg))
        os.replace(tmp, target)  # the same id rewrites the same file: never two copies
        return target.name


def _mark_up_b64(data: bytes, *, findings: list[Finding], title: str, limits: Limits) -> str:
    """:func:`reports.markup.mark_up` as the sandbox wants it: JSON out (base64 text), and a
    file that cannot be marked up is the sender's problem, not a crash."""
    try:
        return base64.b64encode(mark_up(data, findings, title=title, limits=limits)).decode()
    except MarkupError as exc:
        raise FileProblem("unreadable-file", str(exc)) from exc


def _bare(header: str) -> str:
    return parseaddr(header)[1]
