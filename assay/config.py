"""Configuration: embedded defaults, overlaid by a TOML file.

The file is found from ``--config``, else ``$ASSAY_CONFIG``; with neither, the embedded
defaults below apply, so every command works on a fresh machine. Secrets are never
written in the file: keys ending in ``_env`` name the environment variable that holds
them.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plugins.checks import DEFAULT_CURRENT_VERSIONS
from plugins.workbook import Limits

_LIMITS, _MB = Limits(), 1024 * 1024
_MAILBOX: dict[str, Any] = {
    "kind": "maildir",
    "path": "",
    "host": "",
    "port": 993,
    "security": "ssl",
    "user": "",
    "password_env": "",
    "folder": "INBOX",
    "processed_folder": "Processed",
    "attention_folder": "Needs attention",
    "poll_seconds": 60,
    "delete_processed": False,
}
DEFAULTS: dict[str, Any] = {
    "assay": {"database": "var/assay.db", "log_level": "WARNING"},
    "screening": {
        "as_of": "",
        "disabled_checks": [],
        "disabled_plugins": [],
        "current_versions": dict(DEFAULT_CURRENT_VERSIONS),
    },
    "limits": {
        "max_file_mb": _LIMITS.max_file_bytes // _MB,
        "max_entry_mb": _LIMITS.max_entry_bytes // _MB,
        "max_total_mb": _LIMITS.max_total_bytes // _MB,
        "max_ratio": _LIMITS.max_ratio,
        "max_rows": _LIMITS.max_rows,
        "memory_mb": _LIMITS.memory_bytes // _MB,
        "cpu_seconds": _LIMITS.cpu_seconds,
        "wall_seconds": _LIMITS.wall_seconds,
    },
    "refdata": {"max_list_age_days": 90},
    "plugins": {"company": {"max_age_months": 12}, "smelter-reference": {"name_cutoff": 88}},
    "mail": {
        "reply_from": "Assay compliance <compliance@example.test>",
        "signature": "The compliance team",
        "return_workbook": True,
        "max_replies_per_hour": 5,
        "max_message_mb": 60,
        "max_attachment_mb": 30,
        "seed_examples": True,
        "idle_timeout": 300,
        "workers": 0,
        "suppliers": {
            **_MAILBOX,
            "path": "var/mail/suppliers",
            "password_env": "ASSAY_MAIL_PASSWORD",
        },
        "grievances": {
            **_MAILBOX,
            "enabled": True,
            "delete_processed": True,
            "path": "var/mail/grievances",
            "password_env": "ASSAY_GRIEVANCE_MAIL_PASSWORD",
        },
    },
    "smtp": {
        "host": "",
        "port": 587,
        "security": "starttls",
        "user": "",
        "password_env": "ASSAY_SMTP_PASSWORD",
        "outbox_dir": "var/outbox",
        "retry_seconds": 30,
        "max_attempts": 30,
        "permanent_attempts": 3,
        "lease_seconds": 300,
    },
    "grievance": {
        "key_env": "ASSAY_GRIEVANCE_KEY",
        "key_file": "var/grievance.key",
        "respond_days": 30,
        "reply_from": "Grievance desk <grievances@example.test>",
    },
    "alerts": {"log_file": "var/alerts.log"},
    "slack": {
        "mode": "http",
        "host": "127.0.0.1",
        "port": 3000,
        "bot_token_env": "SLACK_BOT_TOKEN",
        "signing_secret_env": "SLACK_SIGNING_SECRET",
        "app_token_env": "SLACK_APP_TOKEN",
        "channel": "",
        "officers": [],
        "workspace_id": "",
        "api_url": "",
        "retry_seconds": 30,
        "permanent_attempts": 3,
        "lease_seconds": 120,
    },
}
# Keys holding paths: relative values are resolved against the config file's folder.
PATH_KEYS = (
    ("assay", "database"),
    ("mail", "suppliers", "path"),
    ("mail", "grievances", "path"),
    ("smtp", "outbox_dir"),
    ("grievance", "key_file"),
    ("alerts", "log_file"),
)


class ConfigError(ValueError):
    pass


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class Config:
    data: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(DEFAULTS))
    path: Path | None = None

    @property
    def database(self) -> Path:
        return Path(self.data["assay"]["database"]).expanduser()

    @property
    def log_level(self) -> str:
        return str(self.data["assay"].get("log_level", "WARNING")).upper()

    @property
    def as_of(self) -> dt.date | None:
        raw = self.data["screening"].get("as_of") or ""
        if isinstance(raw, dt.date):
            return raw
        try:
            return dt.date.fromisoformat(raw) if raw else None
        except ValueError as exc:
            raise ConfigError(f"[screening] as_of = {raw!r} is not a YYYY-MM-DD date") from exc

    @property
    def disabled_checks(self) -> list[str]:
        return list(self.data["screening"].get("disabled_checks", []))

    @property
    def disabled_plugins(self) -> list[str]:
        return list(self.data["screening"].get("disabled_plugins", []))

    @property
    def current_versions(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.data["screening"].get("current_versions", {}).items()}

    @property
    def plugin_settings(self) -> dict[str, dict[str, Any]]:
        return {k: dict(v) for k, v in self.data.get("plugins", {}).items() if isinstance(v, dict)}

    @property
    def max_list_age_days(self) -> int:
        return int(self.data["refdata"]["max_list_age_days"])

    @property
    def limits(self) -> Limits:
        lim = self.data["limits"]
        mb = 1024 * 1024
        return Limits(
            max_file_bytes=int(lim["max_file_mb"] * mb),
            max_entry_bytes=int(lim["max_entry_mb"] * mb),
            max_total_bytes=int(lim["max_total_mb"] * mb),
            max_ratio=int(lim["max_ratio"]),
            max_rows=int(lim["max_rows"]),
            memory_bytes=int(lim["memory_mb"] * mb),
            cpu_seconds=int(lim["cpu_seconds"]),
            wall_seconds=float(lim["wall_seconds"]),
        )


def section(config: Config, *keys: str) -> dict[str, Any]:
    out: Any = config.data
    for k in keys:
        out = out[k]
    return dict(out)


def load_config(path: str | Path | None = None) -> Config:
    path = path or os.environ.get("ASSAY_CONFIG") or None
    if not path:
        return Config()
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {p} not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {p}: {exc}") from exc
    unknown = set(raw) - set(DEFAULTS)
    if unknown:
        raise ConfigError(f"config file {p}: unknown section(s) {', '.join(sorted(unknown))}")
    data = _merge(DEFAULTS, raw)
    for keys in PATH_KEYS:
        # Relative paths in a config file are relative to the file, not the working directory.
        *parents, leaf = keys
        section = data
        for k in parents:
            section = section[k]
        if section[leaf] and not Path(section[leaf]).is_absolute():
            section[leaf] = str((p.parent / section[leaf]).resolve())
    return Config(data, p)
