"""The sections of the config file, one frozen dataclass per TOML table.

The fields are the schema :mod:`assay.config` checks a file against: their names are the
valid keys, their annotations the accepted types, their defaults the embedded defaults.
``metadata`` marks path keys (relative to the config file) and keys with a fixed set of
values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from plugins.limits import Limits
from plugins.revisions import DEFAULT_CURRENT_VERSIONS

_LIMITS, _MB = Limits(), 1024 * 1024
PATH = {"path": True}  # a path key: relative values are relative to the config file
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SECURITY = ("ssl", "starttls", "none")


def _choices(*values: str) -> dict[str, tuple[str, ...]]:
    return {"choices": values}


@dataclass(frozen=True)
class AssaySection:
    database: str = field(default="var/assay.db", metadata=PATH)
    log_level: str = field(default="WARNING", metadata={"choices": LOG_LEVELS, "fold": True})
    time_zone: str = ""  # IANA name ("Europe/Berlin"); empty: the machine's local zone


@dataclass(frozen=True)
class ScreeningSection:
    as_of: dt.date | None = None  # a fixed screening date; None: today
    disabled_checks: tuple[str, ...] = ()
    disabled_plugins: tuple[str, ...] = ()
    # Family -> current revision; the families are those of DEFAULT_CURRENT_VERSIONS.
    current_versions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CURRENT_VERSIONS))


@dataclass(frozen=True)
class LimitsSection:
    max_file_mb: float = _LIMITS.max_file_bytes // _MB
    max_entry_mb: float = _LIMITS.max_entry_bytes // _MB
    max_total_mb: float = _LIMITS.max_total_bytes // _MB
    max_ratio: int = _LIMITS.max_ratio
    max_rows: int = _LIMITS.max_rows
    memory_mb: float = _LIMITS.memory_bytes // _MB
    cpu_seconds: int = _LIMITS.cpu_seconds
    wall_seconds: float = _LIMITS.wall_seconds

    def to_limits(self) -> Limits:
        return Limits(
            max_file_bytes=int(self.max_file_mb * _MB),
            max_entry_bytes=int(self.max_entry_mb * _MB),
            max_total_bytes=int(self.max_total_mb * _MB),
            max_ratio=self.max_ratio,
            max_rows=self.max_rows,
            memory_bytes=int(self.memory_mb * _MB),
            cpu_seconds=self.cpu_seconds,
            wall_seconds=self.wall_seconds,
        )


@dataclass(frozen=True)
class StorageSection:
    """What the store keeps (docs/storage.md)."""

    # Days an original file is kept after it was last received: five years, the EU Conflict
    # Minerals Regulation's record-keeping period. 0: originals are not kept at all (the
    # declaration and every screening result are kept regardless).
    keep_originals_days: int = 1826


@dataclass(frozen=True)
class RefdataSection:
    max_list_age_days: int = 90


@dataclass(frozen=True)
class MailboxSection:
    kind: str = field(default="maildir", metadata=_choices("maildir", "imap"))
    path: str = field(default="", metadata=PATH)
    host: str = ""
    port: int = 993
    security: str = field(default="ssl", metadata=_choices(*SECURITY))
    user: str = ""
    password_env: str = ""
    folder: str = "INBOX"
    processed_folder: str = "Processed"
    attention_folder: str = "Needs attention"
    poll_seconds: float = 60
    delete_processed: bool = False


@dataclass(frozen=True)
class GrievanceMailboxSection(MailboxSection):
    enabled: bool = True


@dataclass(frozen=True)
class MailSection:
    reply_from: str = "Assay compliance <compliance@example.test>"
    signature: str = "The compliance team"
    return_workbook: bool = True
    max_replies_per_hour: int = 5
    max_message_mb: float = 60
    max_attachment_mb: float = 30
    seed_examples: bool = True
    idle_timeout: float = 300
    workers: int = 0
    suppliers: MailboxSection = field(
        default_factory=lambda: MailboxSection(
            path="var/mail/suppliers", password_env="ASSAY_MAIL_PASSWORD"
        )
    )
    grievances: GrievanceMailboxSection = field(
        default_factory=lambda: GrievanceMailboxSection(
            path="var/mail/grievances",
            password_env="ASSAY_GRIEVANCE_MAIL_PASSWORD",
            delete_processed=True,
        )
    )


@dataclass(frozen=True)
class SmtpSection:
    host: str = ""
    port: int = 587
    security: str = field(default="starttls", metadata=_choices(*SECURITY))
    user: str = ""
    password_env: str = "ASSAY_SMTP_PASSWORD"
    outbox_dir: str = field(default="var/outbox", metadata=PATH)
    retry_seconds: float = 30
    max_attempts: int = 30
    permanent_attempts: int = 3
    lease_seconds: float = 300


@dataclass(frozen=True)
class GrievanceSection:
    key_env: str = "ASSAY_GRIEVANCE_KEY"
    key_file: str = field(default="var/grievance.key", metadata=PATH)
    respond_days: int = 30
    reply_from: str = "Grievance desk <grievances@example.test>"


@dataclass(frozen=True)
class AlertsSection:
    log_file: str = field(default="var/alerts.log", metadata=PATH)


@dataclass(frozen=True)
class SlackSection:
    mode: str = field(default="http", metadata=_choices("http", "socket"))
    host: str = "127.0.0.1"
    port: int = 3000
    bot_token_env: str = "SLACK_BOT_TOKEN"
    signing_secret_env: str = "SLACK_SIGNING_SECRET"
    app_token_env: str = "SLACK_APP_TOKEN"
    channel: str = ""
    officers: tuple[str, ...] = ()
    workspace_id: str = ""
    api_url: str = ""
    retry_seconds: float = 30
    permanent_attempts: int = 3
    lease_seconds: float = 120


@dataclass(frozen=True)
class CampaignsSection:
    """Survey campaigns: the reminder schedule and the daily run (docs/campaigns.md)."""

    reminder_days: tuple[int, ...] = (-14, -3, 7)  # days from the deadline; negative: before
    escalate_after: int = 14  # days past the deadline before the supplier's owner is told
    final_after: int = 28  # a campaign's final deadline when not given: deadline + this
    run_at: str = "08:00"  # when `assay serve` runs the day's reminders and digest (HH:MM)
    digest: bool = True  # post each open campaign's figures to the compliance channel daily
    stale_after_days: int = 400  # a declaration older than this is stale (grade: medium)


@dataclass(frozen=True)
class DashboardSection:
    """The dashboard over the aggregate-only database, and its daily digest (issue 12).

    The login's password hash is read from the environment variable ``password_hash_env``
    names, never from this file."""

    database: str = field(default="var/dashboard.db", metadata=PATH)  # the aggregate database
    host: str = "127.0.0.1"  # where `assay dashboard` listens
    port: int = 8001
    user: str = "compliance"  # the login name
    password_hash_env: str = "ASSAY_DASHBOARD_PASSWORD_HASH"  # holds a pbkdf2_sha256$... hash
    url: str = ""  # the digest's link; empty: the board at http://host:port
    response_target: float = 0.9  # the response-rate target the board draws (0-1)
    refresh: bool = True  # `assay serve` rebuilds the aggregate database after changes
    digest: bool = True  # post the headline figures to the compliance channel daily
    digest_at: str = "08:00"  # when (HH:MM, in [assay] time_zone)

    @property
    def path(self) -> Path:
        """The aggregate database's path (``~`` expanded, as ``[assay] database``)."""
        return Path(self.database).expanduser()

    @property
    def link(self) -> str:
        """The link the digest carries: ``url``, else the board on ``host``:``port``."""
        if self.url:
            return self.url
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address
        return f"http://{host}:{self.port}/-/dashboards/assay"
