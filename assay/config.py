"""Configuration: embedded defaults, overlaid by a TOML file, read once into frozen settings.

The file is found from ``--config``, else ``$ASSAY_CONFIG``; with neither, the embedded
defaults below apply, so every command works on a fresh machine.

Each TOML section is a frozen dataclass here, and its fields *are* the schema: a key that
is not a field is refused with the nearest valid name ("unknown key [smtp] hots — did you
mean host?"), and a value of the wrong type is refused naming its key, at load time rather
than when a supplier's message finally reaches the code that reads it. Only the tables
under ``[plugins.<name>]`` are free-form: each belongs to its plugin.

Secrets are never written in the file: keys ending in ``_env`` name the environment
variable that holds them, read by the composition root (:mod:`assay.settings`). Error
messages name keys and types, never values, so a secret pasted in by mistake is not
echoed to a terminal or a log.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import os
import re
import tomllib
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from plugins.clock import Clock

from .sections import (
    AlertsSection,
    AssaySection,
    CampaignsSection,
    DashboardSection,
    GrievanceSection,
    LimitsSection,
    MailSection,
    RefdataSection,
    ScreeningSection,
    SlackSection,
    SmtpSection,
    StorageSection,
)


class ConfigError(ValueError):
    pass


def _default_plugins() -> dict[str, dict[str, Any]]:
    return {"company": {"max_age_months": 12}, "smelter-reference": {"name_cutoff": 88}}


@dataclass(frozen=True)
class CompanySettings:
    """``[company]``: the company's own declaration (``assay rollup``, docs/company-declaration.md).

    The company block of the template, then the answers to the company-level questions, keyed
    after the questions' kinds (the derivation rules, :mod:`program.rollup`, read them); an
    answer is matched case-insensitively against the template's own choices.
    """

    name: str = ""
    scope: str = "A. Company"
    scope_description: str = ""
    unique_id: str = ""
    unique_id_authority: str = ""
    address: str = ""
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    authorizer: str = ""
    authorizer_title: str = ""
    authorizer_email: str = ""
    authorizer_phone: str = ""
    effective_date: dt.date | None = None  # None: today, from the clock
    out_of_scope: tuple[str, ...] = ()  # minerals the company's products never contain
    policy: str = ""
    policy_public: str = ""
    policy_url: str = ""
    validated_sourcing: str = ""
    validated_sourcing_cobalt: str = ""
    validated_sourcing_copper: str = ""
    validated_sourcing_graphite: str = ""
    validated_sourcing_lithium: str = ""
    validated_sourcing_mica: str = ""
    validated_sourcing_nickel: str = ""
    validated_sourcing_aluminum: str = ""
    due_diligence: str = ""
    survey: str = ""
    survey_description: str = ""
    review: str = ""
    corrective_action: str = ""
    disclosure: str = ""
    policy_scope: str = ""
    supplier_due_diligence: str = ""

    def answers(self) -> dict[str, str]:
        """Every text key with a value (the block and the answers), for the roll-up."""
        out: dict[str, str] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str) and value:
                out[f.name] = value
        return out


@dataclass(frozen=True)
class Config:
    """The whole configuration, one frozen section per TOML table; ``path``: the file read."""

    assay: AssaySection = field(default_factory=AssaySection)
    screening: ScreeningSection = field(default_factory=ScreeningSection)
    limits: LimitsSection = field(default_factory=LimitsSection)
    refdata: RefdataSection = field(default_factory=RefdataSection)
    storage: StorageSection = field(default_factory=StorageSection)
    # [plugins.<name>]: free-form, one table per plugin (or check id), handed to it as is.
    plugins: dict[str, dict[str, Any]] = field(default_factory=_default_plugins)
    mail: MailSection = field(default_factory=MailSection)
    smtp: SmtpSection = field(default_factory=SmtpSection)
    grievance: GrievanceSection = field(default_factory=GrievanceSection)
    alerts: AlertsSection = field(default_factory=AlertsSection)
    slack: SlackSection = field(default_factory=SlackSection)
    campaigns: CampaignsSection = field(default_factory=CampaignsSection)
    dashboard: DashboardSection = field(default_factory=DashboardSection)
    company: CompanySettings = field(default_factory=CompanySettings)
    path: Path | None = field(default=None, compare=False)

    @property
    def database(self) -> Path:
        return Path(self.assay.database).expanduser()

    @property
    def log_level(self) -> str:
        return self.assay.log_level.upper()

    @property
    def zone(self) -> dt.tzinfo | None:
        """The configured time zone; None: the machine's local zone."""
        return ZoneInfo(self.assay.time_zone) if self.assay.time_zone else None

    def clock(self) -> Clock:
        """The system clock in ``[assay] time_zone`` (the machine's zone when empty)."""
        return Clock(self.zone)


SECTIONS = tuple(f.name for f in dataclasses.fields(Config) if f.name != "path")


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return list(value)
    return "" if value is None else value


#: The embedded defaults as nested dicts, the shape of the TOML file (documentation tests
#: walk it: every key must be in the README and in config.example.toml).
DEFAULTS: dict[str, Any] = {name: _plain(getattr(Config(), name)) for name in SECTIONS}


# -- reading ------------------------------------------------------------------------------
T = TypeVar("T")
_KIND = {str: "a string", bool: "true or false", int: "a whole number", float: "a number"}


def _what(value: Any) -> str:
    """The TOML type of a value, for messages (never the value: it might be a secret)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dt.date | dt.time):
        return "a date or time"
    return type(value).__name__


def _suggest(word: str, valid: Iterable[str]) -> str:
    valid = list(valid)
    close = difflib.get_close_matches(word, valid, n=1, cutoff=0.6)
    if close:
        return f" — did you mean {close[0]}?"
    return f" (valid: {', '.join(valid)})" if len(valid) <= 20 else ""


class _Reader:
    """Checks a parsed TOML document against the section dataclasses."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, text: str) -> ConfigError:
        return ConfigError(f"{self.source}: {text}")

    def table(self, default: T, raw: Any, where: str) -> T:
        if not isinstance(raw, dict):
            raise self.error(f"[{where}] must be a table, not {_what(raw)}")
        hints = typing.get_type_hints(type(default))
        fields = {f.name: f for f in dataclasses.fields(default)}  # type: ignore[arg-type]
        changes: dict[str, Any] = {}
        for key, value in raw.items():
            if key not in fields:
                raise self.error(f"unknown key [{where}] {key}{_suggest(key, fields)}")
            changes[key] = self.value(
                hints[key], getattr(default, key), value, where, key, fields[key].metadata
            )
        return dataclasses.replace(default, **changes)  # type: ignore[type-var]

    def value(
        self, hint: Any, default: Any, value: Any, where: str, key: str, meta: Mapping[str, Any]
    ) -> Any:
        label = f"[{where}] {key}"
        if dataclasses.is_dataclass(default):
            return self.table(default, value, f"{where}.{key}")
        if hint in (str, bool, int, float):
            return self.scalar(hint, value, label, meta)
        if hint == (dt.date | None):
            return self.date(value, label)
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin is tuple and args and args[0] is int:
            if not isinstance(value, list) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in value
            ):
                raise self.error(f"{label} must be a list of whole numbers, not {_what(value)}")
            return tuple(value)
        if origin is tuple:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise self.error(f"{label} must be a list of strings, not {_what(value)}")
            return tuple(value)
        if origin is dict and args == (str, str):
            return self.mapping(default, value, f"{where}.{key}")
        if origin is dict:
            return self.plugin_tables(default, value, f"{where}.{key}" if where else key)
        raise TypeError(f"no reader for {label}: {hint!r}")  # a schema bug, not the user's

    def scalar(self, kind: type, value: Any, label: str, meta: Mapping[str, Any]) -> Any:
        ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            ok, value = True, float(value)
        if not ok:
            raise self.error(f"{label} must be {_KIND[kind]}, not {_what(value)}")
        choices = meta.get("choices")
        if choices:
            folded = value.upper() if meta.get("fold") else value
            if folded not in choices:
                raise self.error(
                    f"{label} must be one of {', '.join(choices)}{_suggest(folded, choices)}"
                )
        return value

    def date(self, value: Any, label: str) -> dt.date | None:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):
            if not value:
                return None
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
            raise self.error(f"{label} = {value!r} is not a YYYY-MM-DD date")
        raise self.error(f"{label} must be a YYYY-MM-DD date, not {_what(value)}")

    def mapping(self, default: dict[str, str], raw: Any, where: str) -> dict[str, str]:
        """A table of strings over known keys (``[screening.current_versions]``)."""
        if not isinstance(raw, dict):
            raise self.error(f"[{where}] must be a table, not {_what(raw)}")
        out = dict(default)
        for key, value in raw.items():
            if key not in default:
                raise self.error(f"unknown key [{where}] {key}{_suggest(key, default)}")
            if not isinstance(value, str):
                raise self.error(f'[{where}] {key} must be a string ("6.5"), not {_what(value)}')
            out[key] = value
        return out

    def plugin_tables(
        self, default: dict[str, dict[str, Any]], raw: Any, where: str
    ) -> dict[str, dict[str, Any]]:
        """``[plugins.<name>]`` tables: free-form, overlaid on the embedded ones."""
        if not isinstance(raw, dict):
            raise self.error(f"[{where}] must be a table, not {_what(raw)}")
        out = {name: dict(table) for name, table in default.items()}
        for name, table in raw.items():
            if not isinstance(table, dict):
                raise self.error(f"[{where}] {name} must be a table ([{where}.{name}])")
            out[name] = {**out.get(name, {}), **table}
        return out


def _resolve_paths(section: Any, base: Path) -> Any:
    """Relative paths in a config file are relative to the file, not the working directory."""
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        if dataclasses.is_dataclass(value):
            changes[f.name] = _resolve_paths(value, base)
        elif f.metadata.get("path") and value and not Path(value).is_absolute():
            changes[f.name] = str((base / value).resolve())
    return dataclasses.replace(section, **changes)


def _check_campaigns(section: CampaignsSection, reader: _Reader) -> None:
    try:
        dt.time.fromisoformat(section.run_at)
    except ValueError:
        raise reader.error(f"[campaigns] run_at {section.run_at!r} is not a time (HH:MM)") from None
    for key in ("escalate_after", "final_after", "stale_after_days"):
        if getattr(section, key) < 0:
            raise reader.error(f"[campaigns] {key} must be 0 or more days")


def _check_dashboard(section: DashboardSection, reader: _Reader) -> None:
    try:
        dt.time.fromisoformat(section.digest_at)
    except ValueError:
        raise reader.error(
            f"[dashboard] digest_at {section.digest_at!r} is not a time (HH:MM)"
        ) from None
    if not 0 < section.response_target <= 1:
        raise reader.error("[dashboard] response_target must be more than 0 and at most 1 (0.9)")
    if not 1 <= section.port <= 65535:
        raise reader.error("[dashboard] port must be from 1 to 65535")
    if not re.fullmatch(r"[A-Za-z0-9.-]{1,64}", section.user):
        raise reader.error("[dashboard] user must be 1-64 letters, digits, dots or hyphens")


def _check_zone(name: str, reader: _Reader) -> None:
    if not name:
        return
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        hint = _suggest(name, sorted(available_timezones()))
        raise reader.error(
            f"[assay] time_zone {name!r} is not an IANA time zone name{hint}"
        ) from None


def parse_config(raw: Mapping[str, Any], path: Path | None = None) -> Config:
    """A :class:`Config` from a parsed TOML document; ``path``: the file it came from."""
    reader = _Reader(f"config file {path}" if path else "config")
    default = Config()
    sections: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in SECTIONS:
            raise reader.error(f"unknown section [{name}]{_suggest(name, SECTIONS)}")
        if name == "plugins":
            sections[name] = reader.plugin_tables(default.plugins, value, "plugins")
        else:
            sections[name] = reader.table(getattr(default, name), value, name)
    config = dataclasses.replace(default, **sections, path=path)
    _check_zone(config.assay.time_zone, reader)
    _check_campaigns(config.campaigns, reader)
    _check_dashboard(config.dashboard, reader)
    if config.storage.keep_originals_days < 0:
        raise reader.error("[storage] keep_originals_days must be 0 or more (0: keep none)")
    if path is not None:
        config = _resolve_paths(config, path.parent)
    return config


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
    return parse_config(raw, p)
