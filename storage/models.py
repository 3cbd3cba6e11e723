"""What the Store's read methods return: frozen dataclasses, one per kind of row.

A row leaves the Store typed, so a misspelt column is found by mypy, not by a supplier.
Columns stored as JSON text come back decoded (a case's smelter ids as a tuple); the
outbox payload stays the text that was stored (JSON, or a Fernet token when encrypted),
for the notifier that delivers it to decode. Each ``from_row`` reads a row as sqlite-utils
gives it (a dict by column name).
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Row = Mapping[str, Any]


def _ints(raw: str | None) -> tuple[int, ...]:
    return tuple(int(v) for v in json.loads(raw or "[]"))


def _strs(raw: str | None) -> tuple[str, ...]:
    return tuple(str(v) for v in json.loads(raw or "[]"))


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def pack_declaration(data: dict[str, Any]) -> bytes:
    """A declaration as stored: compact JSON, zlib-compressed (a BLOB; about a sixth of the
    indented text at 50 smelter rows: docs/storage.md)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return zlib.compress(text.encode("utf-8"), 9)


def declaration_text(raw: bytes | str | None) -> str | None:
    """The JSON of a stored declaration: a BLOB is compressed (written since migration
    009), text is JSON as stores before it wrote it; None stays None."""
    if raw is None:
        return None
    if isinstance(raw, bytes | bytearray | memoryview):
        return zlib.decompress(bytes(raw)).decode("utf-8")
    return str(raw)


# -- submissions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    """A file screened once per content (keyed by its sha256), with its latest result."""

    sha256: str
    first_seen: str
    filename: str
    size: int | None
    source: str
    template_type: str | None
    template_version: str | None
    company_name: str | None
    declaration_json: str | None  # the parsed declaration; None when unreadable
    readable: bool
    last_screening: int | None
    risk_level: str | None
    errors: int | None
    risks: int | None
    warnings: int | None
    infos: int | None

    @classmethod
    def from_row(cls, row: Row) -> Submission:
        return cls(
            sha256=row["sha256"],
            first_seen=row["first_seen"] or "",
            filename=row["filename"] or "",
            size=row["size"],
            source=row["source"] or "",
            template_type=row["template_type"],
            template_version=row["template_version"],
            company_name=row["company_name"],
            declaration_json=declaration_text(row["declaration_json"]),
            readable=bool(row["readable"]),
            last_screening=row["last_screening"],
            risk_level=row["risk_level"],
            errors=row["errors"],
            risks=row["risks"],
            warnings=row["warnings"],
            infos=row["infos"],
        )


@dataclass(frozen=True)
class ReceivedSubmission:
    """A submission as one supplier sent it: when (UTC ISO), and from which address."""

    submission: Submission
    received_at: str
    sender: str = ""


@dataclass(frozen=True)
class Screening:
    """One screening run of a submission, with what it was screened against."""

    id: int
    sha256: str
    screened_at: str
    as_of: dt.date | None
    risk_level: str
    summary: dict[str, int]  # findings per severity
    reference_versions: dict[str, str]  # "smelters", "rmap", "cahra" -> version
    check_versions: dict[str, str]  # check id -> version
    #: When a re-screen last found this same result (the versions above are that run's);
    #: ``screened_at`` stays when the result was first found. Equal to it until then.
    checked_at: str = ""

    @classmethod
    def from_row(cls, row: Row) -> Screening:
        return cls(
            id=int(row["id"]),
            sha256=row["sha256"],
            screened_at=row["screened_at"],
            as_of=_date(row["as_of"]),
            risk_level=row["risk_level"] or "",
            summary=json.loads(row["summary"] or "{}"),
            reference_versions=json.loads(row["reference_versions"] or "{}"),
            check_versions=json.loads(row["check_versions"] or "{}"),
            checked_at=row.get("checked_at") or row["screened_at"],
        )


@dataclass(frozen=True)
class SupplierListing:
    """A stored submission that lists a smelter, by its declared company."""

    company_name: str | None
    sha256: str


# -- messages and the outbox ---------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """A processed message (mail or Slack), keyed by the sha256 of its bytes."""

    key: str
    mailbox: str
    message_id: str
    received_at: str
    processed_at: str
    sender: str
    subject: str
    outcome: str
    reason: str
    supplier_id: int | None
    submissions: tuple[str, ...]

    @classmethod
    def from_row(cls, row: Row) -> Message:
        return cls(
            key=row["key"],
            mailbox=row["mailbox"] or "",
            message_id=row["message_id"] or "",
            received_at=row["received_at"] or "",
            processed_at=row["processed_at"] or "",
            sender=row["sender"] or "",
            subject=row["subject"] or "",
            outcome=row["outcome"] or "",
            reason=row["reason"] or "",
            supplier_id=row["supplier_id"],
            submissions=_strs(row["submissions"]),
        )


@dataclass(frozen=True)
class OutboxRow:
    """An outbox entry. ``payload`` is the stored text: JSON, or a Fernet token when
    ``encrypted``. A claimed row carries ``claimed_from``: the status it had when claimed
    (``pending``, or ``sending`` when its last owner died mid-delivery)."""

    id: int
    dedupe_key: str
    channel: str
    created_at: str
    payload: str
    encrypted: bool
    recipient_hash: str
    status: str  # pending, sending, sent, dead
    attempts: int
    next_attempt_at: str
    sent_at: str | None
    last_error: str
    lease_owner: str | None
    lease_until: str | None
    first_attempt_at: str | None
    delivered_ref: str
    claimed_from: str = ""

    @classmethod
    def from_row(cls, row: Row, claimed_from: str = "") -> OutboxRow:
        return cls(
            id=int(row["id"]),
            dedupe_key=row["dedupe_key"],
            channel=row["channel"],
            created_at=row["created_at"] or "",
            payload=row["payload"] or "",
            encrypted=bool(row["encrypted"]),
            recipient_hash=row["recipient_hash"] or "",
            status=row["status"],
            attempts=int(row["attempts"] or 0),
            next_attempt_at=row["next_attempt_at"] or "",
            sent_at=row["sent_at"],
            last_error=row["last_error"] or "",
            lease_owner=row["lease_owner"],
            lease_until=row["lease_until"],
            first_attempt_at=row["first_attempt_at"],
            delivered_ref=row["delivered_ref"] or "",
            claimed_from=claimed_from,
        )


# -- suppliers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SupplierEntry:
    """A supplier as the registry file names it (input to ``import_suppliers``)."""

    name: str
    addresses: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    expected: tuple[str, ...] = ()  # template families: CMRT, EMRT, CRT, AMRT
    owner: str = ""  # internal owner: an e-mail address or a Slack user id (U..., W...)
    metals: tuple[str, ...] = ()  # metals in scope (canonical names), () = every metal


@dataclass(frozen=True)
class Supplier:
    """A registered supplier: who it is, how its mail is recognised, what it should send."""

    id: int
    name: str
    addresses: tuple[str, ...]  # lower case
    domains: tuple[str, ...]  # lower case, no "@"
    expected: tuple[str, ...]
    imported_at: str
    owner: str = ""
    metals: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, row: Row) -> Supplier:
        return cls(
            id=int(row["id"]),
            name=row["name"],
            addresses=_strs(row["addresses"]),
            domains=_strs(row["domains"]),
            expected=_strs(row["expected"]),
            imported_at=row["imported_at"] or "",
            owner=row.get("owner") or "",
            metals=_strs(row.get("metals")),
        )


@dataclass(frozen=True)
class SupplierStatus:
    """A supplier with its latest submission's result (all None when it has not answered)."""

    id: int
    name: str
    expected: tuple[str, ...]
    last_received: str | None
    last_sha: str | None
    template_type: str | None = None
    template_version: str | None = None
    risk_level: str | None = None
    errors: int | None = None
    risks: int | None = None
    warnings: int | None = None
    infos: int | None = None


# -- grievances ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Grievance:
    """A grievance case. The texts and the reporter are Fernet tokens (``*_enc``)."""

    case_id: str
    created_at: str
    updated_at: str
    status: str
    category: str
    subject_enc: str
    body_enc: str
    reporter_enc: str
    reply_token: str
    cids: tuple[str, ...]
    supplier_ids: tuple[int, ...]
    respond_by: str
    merged_into: str | None  # the case this one was merged into

    @classmethod
    def from_row(cls, row: Row) -> Grievance:
        return cls(
            case_id=row["case_id"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            status=row["status"],
            category=row["category"] or "",
            subject_enc=row["subject_enc"] or "",
            body_enc=row["body_enc"] or "",
            reporter_enc=row["reporter_enc"] or "",
            reply_token=row["reply_token"],
            cids=_strs(row["cids"]),
            supplier_ids=_ints(row["supplier_ids"]),
            respond_by=row["respond_by"] or "",
            merged_into=row.get("merged_into"),
        )


@dataclass(frozen=True)
class GrievanceEvent:
    """One step in a case's history; ``note_enc`` is a Fernet token or ""."""

    id: int
    case_id: str
    at: str
    kind: str
    status: str
    note_enc: str

    @classmethod
    def from_row(cls, row: Row) -> GrievanceEvent:
        return cls(
            id=int(row["id"]),
            case_id=row["case_id"],
            at=row["at"],
            kind=row["kind"],
            status=row["status"] or "",
            note_enc=row["note_enc"] or "",
        )


@dataclass(frozen=True)
class GrievanceAttachment:
    """A file sent with a case, kept encrypted beside the database; its name encrypted too."""

    case_id: str
    sha256: str
    filename_enc: str
    size: int

    @classmethod
    def from_row(cls, row: Row) -> GrievanceAttachment:
        return cls(row["case_id"], row["sha256"], row["filename_enc"] or "", int(row["size"] or 0))


# -- reference data ------------------------------------------------------------------------


@dataclass(frozen=True)
class RmapListInfo:
    """An imported RMAP list (its entries are read separately)."""

    id: int
    version: str
    as_of: dt.date | None
    source: str
    imported_at: str
    entries: int
    metals: tuple[str, ...]  # canonical metals it covers; () for lists imported before
    summary: str  # JSON: conflicts, repairs, skipped rows, sources

    @classmethod
    def from_row(cls, row: Row) -> RmapListInfo:
        return cls(
            id=int(row["id"]),
            version=row["version"],
            as_of=_date(row["as_of"]),
            source=row["source"] or "",
            imported_at=row["imported_at"] or "",
            entries=int(row["entries"] or 0),
            metals=_strs(row.get("metals")),
            summary=row.get("summary") or "{}",
        )


@dataclass(frozen=True)
class CahraList:
    """The CAHRA list in force: ISO-2 countries, and the areas named per country."""

    version: str
    countries: frozenset[str]
    as_of: dt.date | None
    areas: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class RmapChange:
    """A listed smelter whose RMAP standing differs between two reference states."""

    cid: str
    before: str  # RMI's word, or the standing when no list names it
    after: str
    suppliers: tuple[str, ...]  # declared companies that list it
