"""How a built e-mail leaves: one clean header line per outside value, then SMTP or a file.

Every header built from outside text (a subject, an address, Message-IDs) goes through
:func:`header_text`, :func:`clean_address` or :func:`message_ids` first: one line of bounded
length, so hostile input can neither break nor extend the headers. Without an SMTP host the
message is written as an ``.eml`` file named by its outbox id (written to a temporary name
and renamed, so a crash never leaves half a file, and the same id never gives two copies).
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import unicodedata
import uuid
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .mailer import SmtpSettings

SUBJECT_MAX = 200
ADDRESS_MAX = 254
MSGID_RE = re.compile(r"<[!-;=?-~]{1,250}>")  # printable ASCII without < and >
ADDRESS_RE = re.compile(r"[^\s@<>()\[\],;:\\\"]{1,64}@[A-Za-z0-9.\-\[\]:_]{1,190}")
BIDI = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F])


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


def bare(header: str) -> str:
    """The address alone of a ``Name <address>`` header."""
    return parseaddr(header)[1]


def smtp_code(exc: BaseException) -> int:
    """The SMTP reply code of a refusal (0 when the failure was not a reply)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _m in exc.recipients.values()]
        return min(codes) if codes else 0
    if isinstance(exc, smtplib.SMTPResponseException):
        return int(exc.smtp_code)
    return 0


def send_smtp(
    msg: EmailMessage,
    envelope_to: str,
    settings: SmtpSettings,
    ssl_context: ssl.SSLContext | None = None,
) -> str:
    """Hand the message to the SMTP server; returns its Message-ID."""
    s = settings
    if s.security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            s.host, s.port, timeout=s.timeout, context=ssl_context
        )
    else:
        client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
    with client:
        if s.security == "starttls":
            client.starttls(context=ssl_context)
        if s.user:
            client.login(s.user, s.password)
        client.send_message(msg, from_addr=bare(msg["From"]), to_addrs=[envelope_to])
    return str(msg["Message-ID"])


def eml_path(outbox_dir: str, outbox_id: int) -> Path:
    return Path(outbox_dir) / f"{outbox_id:06d}.eml"


def write_eml(msg: EmailMessage, target: Path) -> str:
    """Write the message as ``target`` (atomically); returns the file's name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.stem}.{uuid.uuid4().hex}.tmp"
    tmp.write_bytes(bytes(msg))
    os.replace(tmp, target)  # the same id rewrites the same file: never two copies
    return target.name
