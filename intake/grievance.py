"""The grievance mailbox: every message becomes a case, and the reporter stays anonymous.

What identifies the reporter (addresses, names in headers, Message-ID, Received lines)
is encrypted before it reaches the store, and is decrypted only by the notifier to send
the acknowledgement. Nothing about the reporter is logged. Staff and the compliance
channel see the case number, date, category and the (encrypted-at-rest) text only.

The acknowledgement's outbox payload (encrypted) holds the envelope address, the case, its
token and dates: nothing from the reporter's message (no subject, no Message-ID). A
follow-up joins a case only by the case's secret ``[ref:TOKEN]``; case numbers are
sequential, so a message quoting only one opens a new case (the mention is noted for the
officer, who can merge cases). Malformed headers never stop a case from being opened.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

from plugins.normalize import name_key
from program.outbox import (
    GrievanceAck,
    GrievanceAlert,
    GrievanceFollowUpAck,
    GrievanceFollowUpAlert,
)
from storage.crypto import Cipher
from storage.mail import OutboxItem
from storage.store import Store

from .messages import (
    MailLimits,
    attachments_of,
    header_values,
    is_automatic,
    parse,
    sender_address,
    subject_of,
    text_body,
)

log = logging.getLogger(__name__)

CASE_RE = re.compile(r"\bGRV-(\d{4})-(\d{4})\b", re.IGNORECASE)
TOKEN_RE = re.compile(r"\[ref:\s*([A-Za-z0-9_-]{16,64})\s*\]", re.IGNORECASE)
TOKEN_BYTES = 24  # 192 random bits: a follow-up joins a case only by this token
MAX_IDENTITY_VALUES = 50  # per header (a message may carry 10,000 Received lines)
CID_RE = re.compile(r"\bCID\d{6}\b")
IDENTIFYING_HEADERS = (
    "From",
    "Reply-To",
    "Sender",
    "Return-Path",
    "Message-ID",
    "Received",
    "X-Originating-IP",
    "X-Mailer",
    "User-Agent",
    "To",
    "Cc",
)

CATEGORIES: dict[str, tuple[str, ...]] = {
    "child-labour": ("child", "children", "minor", "underage", "school"),
    "armed-groups": ("armed", "militia", "soldier", "rebel", "army", "checkpoint", "conflict"),
    "forced-labour": ("forced labour", "forced labor", "debt bondage", "trafficking", "slave"),
    "health-safety": ("injury", "injured", "accident", "collapse", "death", "died", "unsafe"),
    "environment": (
        "pollution",
        "polluted",
        "river",
        "toxic",
        "mercury",
        "cyanide",
        "deforestation",
    ),
    "corruption": ("bribe", "bribery", "corruption", "fraud", "smuggling", "smuggled"),
}


@dataclass(frozen=True)
class GrievancePolicy:
    respond_days: int = 30  # the reporter is told when to expect an answer


def categorize(text: str) -> str:
    low = text.casefold()
    for category, words in CATEGORIES.items():
        if any(re.search(rf"\b{re.escape(w)}", low) for w in words):
            return category
    return "other"


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def _identity(msg: Any) -> str:
    """What identifies the reporter, as JSON (to be encrypted); never raises on odd headers."""
    headers = {}
    for name in IDENTIFYING_HEADERS:
        values = header_values(msg, name, limit=MAX_IDENTITY_VALUES)
        if values:
            headers[name] = values
    return json.dumps({"address": sender_address(msg), "headers": headers}, ensure_ascii=False)


def _case_for_token(store: Store, text: str) -> tuple[dict[str, Any], str] | None:
    """The case a follow-up belongs to, by its [ref:] token only, and the token it quoted.

    A case merged into another is followed to the case it lives in now; the reporter keeps
    their own token (the target's token belongs to someone else and is never sent)."""
    for m in TOKEN_RE.finditer(text):
        case = store.grievance_by_token(m.group(1))
        if case is None:
            continue
        for _ in range(10):  # merges are flattened (no chains); bounded all the same
            if not case.get("merged_into"):
                break
            target = store.grievance(case["merged_into"])
            if target is None:
                break
            case = target
        return case, m.group(1)
    return None


def handle_grievance_message(
    raw: bytes,
    *,
    store: Store,
    cipher: Cipher,
    mailbox: str,
    limits: MailLimits,
    policy: GrievancePolicy,
    now: dt.datetime | None = None,
) -> str:
    """Record the message as a new case or a follow-up; returns the case number ('' if already done)."""
    key = hashlib.sha256(raw).hexdigest()
    if store.message_done(key):
        return ""
    now = now or dt.datetime.now(dt.UTC)
    msg = parse(raw[: limits.max_message_bytes])
    automatic = is_automatic(msg)
    address = sender_address(msg)
    subject = subject_of(msg)
    body = text_body(msg)
    text = f"{subject}\n{body}"
    identity = cipher.encrypt(_identity(msg))
    can_reply = bool(address) and not automatic

    def ack(
        kind: type[GrievanceAck | GrievanceFollowUpAck], case_id: str, token: str, respond_by: str
    ) -> list[OutboxItem]:
        # Nothing from the reporter's message: no subject (it may carry their name), no
        # Message-ID or References (a relay's queue or a Sent folder would tie the reply
        # to them). Only the envelope address, the case, its token and dates.
        if not can_reply:
            return []
        payload = kind(address, case_id, token, now.date().isoformat(), respond_by)
        return [OutboxItem("email", f"grievance-ack:{key}", cipher.encrypt(payload.to_json()))]

    found = _case_for_token(store, text)
    if found is not None:
        existing, quoted_token = found
        case_id = existing["case_id"]
        store.add_followup(
            case_id=case_id,
            message_key=key,
            mailbox=mailbox,
            body_enc=cipher.encrypt(body),
            outbox=[
                *ack(GrievanceFollowUpAck, case_id, quoted_token, existing["respond_by"]),
                OutboxItem(
                    "alert", f"alert:{key}", GrievanceFollowUpAlert(case_id, now.date().isoformat())
                ),
            ],
        )
        log.info("%s: follow-up added to %s", mailbox, case_id)
        return str(case_id)
    # A case number alone is no proof of anything (they are sequential): a new case. Cases it
    # mentions are noted for the officer, who may merge them; nothing is linked by itself.
    mentioned = sorted({f"GRV-{m.group(1)}-{m.group(2)}" for m in CASE_RE.finditer(text)})
    mentions = [c for c in mentioned if store.grievance(c) is not None]
    cids = sorted(set(CID_RE.findall(text.upper())))
    supplier_ids = [
        s["id"]
        for s in store.suppliers()
        if name_key(s["name"]) and name_key(s["name"]) in name_key(text)
    ]
    category = categorize(text)
    token = new_token()
    respond_by = (now + dt.timedelta(days=policy.respond_days)).date().isoformat()
    attachments: list[tuple[str, str, int]] = []
    for filename, data in attachments_of(msg):
        sha = hashlib.sha256(data).hexdigest()
        store.keep_grievance_file(sha, cipher.encrypt_bytes(data))
        attachments.append((sha, cipher.encrypt(filename), len(data)))

    def outbox_for(case_id: str) -> list[OutboxItem]:
        alert = GrievanceAlert(
            case_id=case_id,
            received=now.date().isoformat(),
            category=category,
            linked_smelters=len(cids),
            linked_suppliers=len(supplier_ids),
        )
        return [
            *ack(GrievanceAck, case_id, token, respond_by),
            OutboxItem("alert", f"alert:{key}", alert),
        ]

    case_id = store.create_grievance(
        message_key=key,
        mailbox=mailbox,
        category=category,
        subject_enc=cipher.encrypt(subject),
        body_enc=cipher.encrypt(body),
        reporter_enc=identity,
        reply_token=token,
        cids=cids,
        supplier_ids=supplier_ids,
        respond_by=respond_by,
        attachments=attachments,
        outbox_for=outbox_for,
        year=now.year,
        mentions=mentions,
    )
    log.info("%s: new grievance case %s (%s)", mailbox, case_id, category)
    return case_id or ""
