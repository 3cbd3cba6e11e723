"""From an e-mail to the workbooks it carries (pure: stdlib ``email`` only, no I/O).

Attachments are recognised by their bytes, not their names: suppliers send templates as
``application/octet-stream``, without extension, inside a .zip, or inside a forwarded
message. Identical bytes are kept once. Limits bound what a hostile message can make us
unpack. What cannot be used is reported as a note for the reply, never dropped silently.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import getaddresses

from plugins.sniff import Sniffed, named_like_workbook, sniff


@dataclass(frozen=True)
class MailLimits:
    max_message_bytes: int = 60 * 1024 * 1024
    max_attachment_bytes: int = 30 * 1024 * 1024
    max_attachments: int = 20
    max_zip_members: int = 50
    max_zip_member_bytes: int = 30 * 1024 * 1024
    max_depth: int = 3  # forwarded messages inside forwarded messages


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    sha256: str
    sniffed: Sniffed  # what the bytes are, decided here once; the opener routes on it
    origin: str = ""  # e.g. "templates.zip" or "forwarded message"


@dataclass
class Extracted:
    workbooks: list[Attachment] = field(default_factory=list)
    notes: list[str] = field(
        default_factory=list
    )  # sentences for the reply: what we skipped and why
    skipped: int = 0


def parse(raw: bytes) -> EmailMessage:
    """Parse leniently: malformed MIME still yields a message (the defects are ignored)."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # malformed transfer encodings or headers
        return b""
    return data if isinstance(data, bytes) else b""


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # malformed Content-Disposition / Content-Type parameters
        name = ""
    return re.sub(r"[\x00-\x1f/\\]", "_", str(name))[:200]


def attachments_of(msg: Message) -> list[tuple[str, bytes]]:
    """(filename, bytes) of every attachment; malformed parts are skipped, never raised."""
    out: list[tuple[str, bytes]] = []
    try:
        parts = list(msg.iter_attachments()) if isinstance(msg, EmailMessage) else []
    except Exception:
        return out
    for part in parts:
        data = _payload(part)
        if data:
            out.append((_filename(part) or "attachment", data))
    return out


def extract_workbooks(msg: Message, limits: MailLimits | None = None) -> Extracted:
    limits = limits or MailLimits()
    out = Extracted()
    seen: set[str] = set()
    _walk(msg, limits, out, seen, depth=0, origin="")
    return out


def _add(
    out: Extracted,
    seen: set[str],
    limits: MailLimits,
    name: str,
    data: bytes,
    sniffed: Sniffed,
    origin: str,
) -> None:
    sha = hashlib.sha256(data).hexdigest()
    if sha in seen:
        return  # identical bytes are screened once
    if len(out.workbooks) >= limits.max_attachments:
        out.notes.append(
            f"Only the first {limits.max_attachments} workbooks were screened; please send the others separately."
        )
        out.skipped += 1
        return
    seen.add(sha)
    out.workbooks.append(Attachment(name or "attachment", data, sha, sniffed, origin))


def _leaves(
    part: Message, depth: int, origin: str, limits: MailLimits, out: Extracted
) -> list[tuple[Message, str]]:
    """Non-multipart parts with where they came from; forwarded messages are opened (bounded)."""
    ctype = part.get_content_type()
    if ctype == "message/rfc822":
        if depth >= limits.max_depth:
            out.notes.append("A forwarded message was nested too deeply to open.")
            return []
        inner = part.get_payload()
        subs = inner if isinstance(inner, list) else [inner]
        return [
            leaf
            for m in subs
            if isinstance(m, Message)
            for leaf in _leaves(m, depth + 1, "forwarded message", limits, out)
        ]
    if part.is_multipart():
        payload = part.get_payload()
        subs = payload if isinstance(payload, list) else []
        return [
            leaf
            for m in subs
            if isinstance(m, Message)
            for leaf in _leaves(m, depth, origin, limits, out)
        ]
    return [(part, origin)]


def _walk(
    msg: Message, limits: MailLimits, out: Extracted, seen: set[str], depth: int, origin: str
) -> None:
    for part, where in _leaves(msg, depth, origin, limits, out):
        ctype = part.get_content_type()
        name = _filename(part)
        disposition = (part.get_content_disposition() or "").lower()
        looks_attached = (
            bool(name) or disposition == "attachment" or ctype.startswith("application/")
        )
        if not looks_attached or ctype.startswith("text/"):
            continue
        data = _payload(part)
        if not data:
            continue
        if len(data) > limits.max_attachment_bytes:
            out.notes.append(
                f"The attachment {name or '(unnamed)'} is {len(data) // (1024 * 1024)} MB, over our {limits.max_attachment_bytes // (1024 * 1024)} MB limit; please send the template alone."
            )
            out.skipped += 1
            continue
        sniffed = sniff(data, name)
        if sniffed.kind == "zip":
            _unzip(name, data, limits, out, seen)
        elif sniffed.worth_screening:
            # A damaged zip or a file named like a workbook is screened too, so that the
            # sender hears why it fails.
            _add(out, seen, limits, name, data, sniffed, where)


def _unzip(name: str, data: bytes, limits: MailLimits, out: Extracted, seen: set[str]) -> None:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, ValueError, OSError):
        out.notes.append(f"The archive {name} is damaged and could not be opened.")
        return
    if len(infos) > limits.max_zip_members:
        out.notes.append(
            f"The archive {name} holds {len(infos)} files; please send at most {limits.max_zip_members}."
        )
        return
    found = False
    for info in infos:
        member = info.filename.rsplit("/", 1)[-1]
        if not named_like_workbook(member):
            continue
        if info.file_size > limits.max_zip_member_bytes or info.file_size > 200 * max(
            info.compress_size, 1
        ):
            out.notes.append(f"{member} in {name} is too large once unpacked and was not opened.")
            out.skipped += 1
            continue
        try:
            content = zf.read(info)
        except (zipfile.BadZipFile, ValueError, OSError, RuntimeError, NotImplementedError) as exc:
            out.notes.append(f"{member} in {name} could not be unpacked ({type(exc).__name__}).")
            continue
        found = True
        _add(out, seen, limits, member, content, sniff(content, member), name)
    if not found and not any(name in n for n in out.notes):
        out.notes.append(f"The archive {name} holds no Excel workbook.")


# -- who sent it, and may we answer ------------------------------------------------------

_NO_REPLY = re.compile(
    r"^(mailer-daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply|bounce[s]?|notifications?)([+@]|$)",
    re.I,
)


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]+")
_FOLD = re.compile(r"\r?\n(?=[ \t])")  # a folded header line (RFC 5322 unfolding)
MAX_HEADER_CHARS = 2000


def _clean(value: str) -> str:
    """A header value as plain text: undecodable bytes replaced, NULs and controls gone."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # raw 8-bit bytes kept as surrogates by the parser
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    # Unfold first; any other line break (an encoded CR/LF in a decoded subject) is a space.
    return _CONTROL.sub(" ", _FOLD.sub("", value)).strip()[:MAX_HEADER_CHARS]


def _decode_raw(value: str) -> str:
    """The compat32 reading of a raw header value: encoded words decoded where possible."""
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # unknown charsets, broken encoded words: keep the raw text
        return value


def header_values(msg: Message, name: str, limit: int = 100) -> list[str]:
    """Every value of a header, as text; never raises, whatever the header holds.

    ``email.policy.default`` parses structured headers when they are read and raises on
    some malformed ones (``To: undisclosed-recipients:; x``); such a value is read again
    the compat32 way, from its raw text. At most ``limit`` values (10,000 Received lines).
    """
    out: list[str] = []
    try:
        raw = [v for k, v in msg.raw_items() if k.lower() == name.lower()][:limit]
    except Exception:
        return out
    for value in raw:
        try:
            text = str(msg.policy.header_fetch_parse(name, value))
        except Exception:
            text = _decode_raw(str(value))
        out.append(_clean(text))
    return out


def header(msg: Message, name: str) -> str:
    """The first value of a header as text ('' when absent); never raises."""
    values = header_values(msg, name, limit=1)
    return values[0] if values else ""


_USABLE_ADDRESS = re.compile(
    r"[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+\.[^@\s<>()\[\],;:\"\\.]+"
)


def addresses(msg: Message, name: str) -> list[str]:
    """The usable e-mail addresses (local@domain.tld) in an address header; never raises."""
    found: list[str] = []
    for value in header_values(msg, name, limit=20):
        try:
            pairs = getaddresses([value])
        except Exception:
            continue
        found += [a.strip() for _n, a in pairs if _USABLE_ADDRESS.fullmatch(a.strip())]
    return found


def sender_address(msg: Message) -> str:
    for name in ("Reply-To", "From"):
        found = addresses(msg, name)
        if found:
            return found[0]
    return ""


def is_automatic(msg: Message) -> str:
    """Why this message must not be answered ('' when a person sent it)."""
    auto = header(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = header(msg, "Precedence").lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "List-Id", "List-Unsubscribe"):
        if header(msg, name):
            return f"{name} header"
    if header(msg, "X-Auto-Response-Suppress").lower() in ("all", "oof", "autoreply"):
        return "X-Auto-Response-Suppress"
    found = addresses(msg, "From") or addresses(
        msg, "Reply-To"
    )  # a garbled From, a usable Reply-To
    addr = found[0] if found else ""
    if not addr or _NO_REPLY.match(addr.split("@")[0] + "@"):
        return "sender is an automatic address" if addr else "no sender address"
    return_path = header_values(msg, "Return-Path", limit=1)
    if return_path and return_path[0] in ("<>", ""):
        return "null return path (a bounce)"
    return ""


def subject_of(msg: Message) -> str:
    return header(msg, "Subject")[:300]


def message_id_of(msg: Message) -> str:
    return header(msg, "Message-ID")[:500]


def text_body(msg: Message, limit: int = 100_000) -> str:
    """The plain-text body (or the HTML one, tags stripped), bounded; never raises."""
    if not isinstance(msg, EmailMessage):
        return ""
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
    except Exception:  # malformed MIME headers: no body rather than no case
        part = None
    if part is None:
        return ""
    try:
        content = part.get_content()
    except Exception:
        content = _payload(part).decode("utf-8", "replace")
    try:
        if part.get_content_type() == "text/html":
            content = re.sub(r"<[^>]+>", " ", str(content))
    except Exception:
        pass
    return str(content)[:limit]
