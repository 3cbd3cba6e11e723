"""The grievance mailbox: every message becomes a case, and the reporter stays anonymous.

What identifies the reporter (addresses, names in headers, Message-ID, Received lines)
is encrypted before it reaches the store, and is decrypted only by the notifier to send
the acknowledgement. Nothing about the reporter is logged. Staff and the compliance
channel see the case number, date, category and the (encrypted-at-rest) text only.
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
from storage.crypto import Cipher
from storage.mail import OutboxItem
from storage.store import Store

from .messages import MailLimits, is_automatic, parse, sender_address, subject_of, text_body

log = logging.getLogger(__name__)

CASE_RE = re.compile(r"\bGRV-(\d{4})-(\d{4})\b", re.IGNORECASE)
TOKEN_RE = re.compile(r"\[ref:([A-Za-z0-9_-]{16,64})\]")
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


def _identity(msg: Any) -> str:
    headers = {
        h: [str(v) for v in msg.get_all(h, [])] for h in IDENTIFYING_HEADERS if msg.get_all(h)
    }
    return json.dumps({"address": sender_address(msg), "headers": headers}, ensure_ascii=False)


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
    existing = None
    token_match = TOKEN_RE.search(text)
    if token_match:
        existing = store.grievance_by_token(token_match.group(1))
    if existing is None:
        for m in CASE_RE.finditer(text):
            existing = store.grievance(f"GRV-{m.group(1)}-{m.group(2)}")
            if existing:
                break
    can_reply = bool(address) and not automatic

    def ack(kind: str, case_id: str, token: str, respond_by: str) -> list[OutboxItem]:
        items: list[OutboxItem] = []
        if can_reply:
            payload = {
                "kind": kind,
                "to": address,
                "case_id": case_id,
                "token": token,
                "subject": subject,
                "in_reply_to": str(msg.get("Message-ID", "")),
                "respond_by": respond_by,
            }
            items.append(
                OutboxItem("email", f"grievance-ack:{key}", cipher.encrypt(json.dumps(payload)))
            )
        return items

    if existing is not None:
        case_id = existing["case_id"]
        store.add_followup(
            case_id=case_id,
            message_key=key,
            mailbox=mailbox,
            body_enc=cipher.encrypt(body),
            outbox=[
                *ack(
                    "grievance-follow-up", case_id, existing["reply_token"], existing["respond_by"]
                ),
                OutboxItem(
                    "alert",
                    f"alert:{key}",
                    {
                        "kind": "grievance-follow-up",
                        "case_id": case_id,
                        "received": now.date().isoformat(),
                    },
                ),
            ],
        )
        log.info("%s: follow-up added to %s", mailbox, case_id)
        return str(case_id)
    cids = sorted(set(CID_RE.findall(text.upper())))
    supplier_ids = [
        s["id"]
        for s in store.suppliers()
        if name_key(s["name"]) and name_key(s["name"]) in name_key(text)
    ]
    category = categorize(text)
    token = secrets.token_urlsafe(18)
    respond_by = (now + dt.timedelta(days=policy.respond_days)).date().isoformat()
    attachments: list[tuple[str, str, int]] = []
    for part in msg.iter_attachments() if hasattr(msg, "iter_attachments") else []:
        data = part.get_payload(decode=True) or b""
        if isinstance(data, bytes) and data:
            sha = hashlib.sha256(data).hexdigest()
            store.keep_grievance_file(sha, cipher.encrypt_bytes(data))
            attachments.append(
                (sha, cipher.encrypt(part.get_filename() or "attachment"), len(data))
            )

    def outbox_for(case_id: str) -> list[OutboxItem]:
        alert = {
            "kind": "grievance",
            "case_id": case_id,
            "received": now.date().isoformat(),
            "category": category,
            "linked_smelters": len(cids),
            "linked_suppliers": len(supplier_ids),
        }
        return [
            *ack("grievance-ack", case_id, token, respond_by),
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
    )
    log.info("%s: new grievance case %s (%s)", mailbox, case_id, category)
    return case_id or ""
