"""The e-mail notifier: drains the outbox to SMTP, or to .eml files when no SMTP is set.

Each row is claimed with a lease (status ``sending``) before it is sent, so any number of
notifiers on one database send it once. A row left ``sending`` by a notifier that died is
taken over: as an .eml file it was delivered if its file exists; over SMTP it is sent
again with the same Message-ID (the crash window: the server accepted it, we never
recorded that). An SMTP outage or a 4xx leaves entries pending with a growing retry
delay; none is lost. A permanent refusal (5xx to the sender, a recipient or the data),
or a row that cannot be built, ends dead after a few attempts with one alert for the
compliance channel. Every header built from outside text is one clean line of bounded
length (:mod:`bot.mail_transport`). Our replies carry ``Auto-Submitted: auto-replied``
(RFC 3834); a campaign's request, reminder and escalation ``auto-generated``. A request and
its reminders carry the Message-ID their payload gives (stored with the campaign), and a
reminder's In-Reply-To and References name its request, so the supplier sees one thread. Grievance acknowledgements are decrypted only here, and the reporter's address
goes only into the SMTP envelope: the message itself is addressed to
``undisclosed-recipients``, so no copy of it (in a sent folder, a relay's queue, the .eml
outbox) names the reporter.

A row's payload is decoded into its :mod:`program.outbox` type and the message is built by
dispatching on that type. For a screening reply the notifier first gathers what the store
holds about each file (:mod:`bot.reply_facts`); the renderers are pure.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import assert_never

from plugins.checks import DEFAULT_CURRENT_VERSIONS
from plugins.workbook import Limits
from program.outbox import (
    CampaignReminder,
    CampaignRequest,
    Email,
    GrievanceAck,
    GrievanceFollowUpAck,
    NoTemplateReply,
    OutboxError,
    OwnerEscalation,
    ScreeningReply,
    Undeliverable,
    decode_email,
)
from storage.crypto import Cipher, CipherError
from storage.leases import lease_owner
from storage.mail import OutboxItem
from storage.models import OutboxRow
from storage.store import Store

from . import reply_facts
from .email_campaign import (
    escalation_subject,
    render_campaign_reminder,
    render_campaign_request,
    render_owner_escalation,
    request_subject,
)
from .email_render import render_grievance_ack, render_no_template, render_screening_reply
from .mail_transport import (
    SUBJECT_MAX,
    bare,
    clean_address,
    eml_path,
    header_text,
    message_ids,
    send_smtp,
    smtp_code,
    write_eml,
)
from .reply_view import ReplyStyle

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


XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
XLSM_TYPE = ("application", "vnd.ms-excel.sheet.macroEnabled.12")
#: What a given-up e-mail was, for the compliance channel.
LABELS: dict[type[Email], str] = {
    ScreeningReply: "screening reply",
    NoTemplateReply: "no-template reply",
    GrievanceAck: "grievance acknowledgement",
    GrievanceFollowUpAck: "grievance follow-up acknowledgement",
    CampaignRequest: "campaign request",
    CampaignReminder: "campaign reminder",
    OwnerEscalation: "owner escalation",
}
#: What we send on our own initiative (RFC 3834 "auto-generated"), not in reply to a message.
GENERATED = (CampaignRequest, CampaignReminder, OwnerEscalation)


def own_message_id(value: str) -> str:
    """A campaign e-mail's Message-ID, given by its payload (stored, so reminders thread
    on the request). Exactly one msg-id, or ValueError: never a header we did not mean."""
    found = message_ids(value, keep=2)
    if len(found) != 1 or found[0] != value.strip():
        raise ValueError("not a single Message-ID")
    return found[0]


def retry_delay(attempts: int, base: float = 30.0) -> dt.timedelta:
    return dt.timedelta(seconds=min(base * 2 ** (attempts - 1), 3600))


def _iso(moment: dt.datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


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
            tried.add(row.id)
            outcome = self._one(row, owner)
            if outcome == "sent":
                sent += 1
            elif outcome == "stop":
                break  # the server is down: stop this pass
        return sent

    def _one(self, row: OutboxRow, owner: str) -> str:
        if row.claimed_from == "sending":
            log.info("outbox %s: taking over from a notifier that died while sending", row.id)
        if not self.settings.host and row.claimed_from == "sending":
            target = self._eml_path(row.id)
            if target.exists():  # written before the crash that left the row 'sending'
                self.store.mark_sent(row.id, owner, ref=target.name)
                return "sent"
        try:
            msg, envelope_to = self.build(row)
        except Exception as exc:  # hostile or broken input: dead, with one alert, never silent
            log.error("outbox %s cannot be built (%s); giving up on it", row.id, type(exc).__name__)
            self._give_up(row, owner, f"cannot build: {type(exc).__name__}")
            return "next"
        try:
            ref = self.deliver(msg, envelope_to, row.id)
        except (OSError, smtplib.SMTPException) as exc:
            code = smtp_code(exc)
            refused = isinstance(
                exc,
                smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused | smtplib.SMTPDataError,
            )
            permanent = refused and code >= 500
            attempts = row.attempts + 1
            limit = self.settings.permanent_attempts if permanent else self.settings.max_attempts
            # Only the exception type and code: a refusal's text names the recipient.
            error = f"{type(exc).__name__}: {code}" if code else type(exc).__name__
            if attempts >= limit:
                log.error(
                    "outbox %s: SMTP failed %d time(s) (%s); giving up", row.id, attempts, error
                )
                self._give_up(row, owner, error)
            else:
                retry = _iso(
                    dt.datetime.now(dt.UTC) + retry_delay(attempts, self.settings.retry_seconds)
                )
                log.warning("outbox %s: SMTP failed (%s); retry at %s", row.id, error, retry)
                self.store.mark_failed(row.id, error, retry, owner=owner)
            return "next" if refused else "stop"
        except Exception as exc:  # not a transport failure: our bug or input we cannot send
            log.exception("outbox %s: cannot be sent (%s)", row.id, type(exc).__name__)
            error = f"cannot send: {type(exc).__name__}"
            if row.attempts + 1 >= self.settings.permanent_attempts:
                self._give_up(row, owner, error)
            else:
                retry = _iso(
                    dt.datetime.now(dt.UTC)
                    + retry_delay(row.attempts + 1, self.settings.retry_seconds)
                )
                self.store.mark_failed(row.id, error, retry, owner=owner)
            return "next"
        if not self.store.mark_sent(row.id, owner, ref=ref):
            log.warning("outbox %s: sent, but our lease had expired", row.id)
        return "sent"

    def _give_up(self, row: OutboxRow, owner: str, error: str) -> None:
        """Mark the row dead and queue one alert saying what could not be delivered, to whom
        (a supplier's name or address hash; never anything about a grievance reporter)."""
        key = row.dedupe_key
        kind = key.split(":", 1)[0]
        if row.encrypted or kind.startswith("grievance"):
            alert = Undeliverable(
                "grievance acknowledgement", error[:120], case_id=self._case_id(row)
            )
        else:
            supplier = ""
            try:
                payload = decode_email(row.payload)
                label = LABELS[type(payload)]
                if isinstance(payload, GENERATED):  # a campaign's e-mail names its supplier
                    supplier = header_text(payload.supplier, 200)
            except OutboxError:
                label = "reply"
            if kind == "reply":
                supplier = self.store.supplier_for_message(key.split(":", 1)[1])
            alert = Undeliverable(
                label, error[:120], supplier=supplier, to_hash=row.recipient_hash[:12]
            )
        self.store.mark_failed(
            row.id,
            error,
            None,
            owner=owner,
            dead_alert=OutboxItem("alert", f"alert:undeliverable:{key}", alert),
        )

    def _case_id(self, row: OutboxRow) -> str:
        """The case of an encrypted acknowledgement ("" when it cannot be read)."""
        if self.cipher is None:
            return ""
        try:
            ack = decode_email(self.cipher.decrypt(row.payload))
        except (ValueError, TypeError):  # CipherError and OutboxError are ValueErrors
            return ""
        if isinstance(ack, GrievanceAck | GrievanceFollowUpAck):
            return header_text(ack.case_id, 40)
        return ""

    def _email(self, row: OutboxRow) -> Email:
        """The row's e-mail, decrypted first when it is a grievance acknowledgement."""
        if row.encrypted:
            if self.cipher is None:
                raise CipherError("no grievance key to decrypt this entry")
            return decode_email(self.cipher.decrypt(row.payload))
        return decode_email(row.payload)

    def build(self, row: OutboxRow) -> tuple[EmailMessage, str]:
        """The message and its envelope recipient. Every header from outside text is one
        clean line of bounded length, so hostile input cannot break or extend the headers."""
        payload = self._email(row)
        msg = EmailMessage()
        attachments: list[tuple[str, str, bytes]] = []
        style = ReplyStyle(
            self.settings.signature, bare(self.settings.reply_from), self.settings.current_versions
        )
        match payload:
            case ScreeningReply():
                attachments = self.marked_up(payload)
                names = {sha: name for sha, name, _data in attachments}
                facts = reply_facts.reply_facts(payload, self.store, names)
                text, html = render_screening_reply(facts, style)
                sender = self.settings.reply_from
            case NoTemplateReply():
                text, html = render_no_template(payload.notes, style)
                sender = self.settings.reply_from
            case GrievanceAck() | GrievanceFollowUpAck():
                text, html = render_grievance_ack(payload)
                sender = self.settings.grievance_from
            case CampaignRequest():
                text, html = render_campaign_request(payload, style)
                sender = self.settings.reply_from
            case CampaignReminder():
                text, html = render_campaign_reminder(payload, style)
                sender = self.settings.reply_from
            case OwnerEscalation():
                text, html = render_owner_escalation(payload, style)
                sender = self.settings.reply_from
            case _:
                assert_never(payload)
        if isinstance(payload, GrievanceAck | GrievanceFollowUpAck):
            # A fixed subject: never an echo of what the reporter wrote, and no threading
            # headers that would tie the acknowledgement to their message.
            subject = header_text(
                f"Your report {header_text(payload.case_id, 40)} [ref:{header_text(payload.token, 60)}]"
            )
        elif isinstance(payload, CampaignRequest | CampaignReminder):
            subject = request_subject(payload)
        elif isinstance(payload, OwnerEscalation):
            subject = escalation_subject(payload)
        else:
            subject = header_text(payload.subject, SUBJECT_MAX) or "Re: your message"
        envelope_to = clean_address(payload.to)
        grievance = isinstance(payload, GrievanceAck | GrievanceFollowUpAck)
        msg["From"] = sender
        msg["To"] = "undisclosed-recipients:;" if grievance else envelope_to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False)
        domain = sender.rsplit("@", 1)[-1].strip("> ") or "assay.invalid"
        if isinstance(payload, CampaignRequest | CampaignReminder):
            msg["Message-ID"] = own_message_id(payload.message_id)
        else:
            msg["Message-ID"] = (
                f"<assay.{row.id}.{hashlib.sha256(row.dedupe_key.encode()).hexdigest()[:16]}@{domain}>"
            )
        if isinstance(payload, ScreeningReply | NoTemplateReply):
            parent = message_ids(payload.in_reply_to, keep=1)
            if parent:
                refs = [r for r in message_ids(payload.references) if r != parent[0]]
                msg["In-Reply-To"] = parent[0]
                msg["References"] = " ".join([*refs[-9:], parent[0]])
        elif isinstance(payload, CampaignReminder):
            parent = message_ids(payload.in_reply_to, keep=1)
            if parent:  # a request without a Message-ID: the reminder stands alone
                msg["In-Reply-To"] = parent[0]
                msg["References"] = parent[0]
        msg["Auto-Submitted"] = (
            "auto-generated" if isinstance(payload, GENERATED) else "auto-replied"
        )
        msg["X-Auto-Response-Suppress"] = "All"
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
        for _sha, name, data in attachments:
            maintype, subtype = XLSM_TYPE if name.lower().endswith(".xlsm") else XLSX_TYPE
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        return msg, envelope_to

    def marked_up(self, reply: ScreeningReply) -> list[tuple[str, str, bytes]]:
        """The marked-up copies to attach to ``reply`` (none with ``return_workbook`` off)."""
        if not self.settings.return_workbook:
            return []
        return reply_facts.marked_up(reply, self.store, self.settings.limits)

    def deliver(self, msg: EmailMessage, envelope_to: str, outbox_id: int) -> str:
        """Hand the message over; returns a reference (the .eml name or the Message-ID)."""
        if not self.settings.host:
            return write_eml(msg, self._eml_path(outbox_id))
        return send_smtp(msg, envelope_to, self.settings, self.ssl_context)

    def _eml_path(self, outbox_id: int) -> Path:
        return eml_path(self.settings.outbox_dir, outbox_id)
