"""Option values every command parses the same way: dates. A bad value is a usage error
(exit 2, one line), never a traceback or a silent empty answer."""

from __future__ import annotations

import datetime as dt

import click


def parse_date(value: str, hint: str | None = None) -> dt.date:
    """A YYYY-MM-DD date, or a ``click.BadParameter`` naming the value."""
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(
            f"{value[:40]!r} is not a YYYY-MM-DD date", param_hint=hint
        ) from None


def date_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    """``callback=`` for an option taking a date."""
    return parse_date(value) if value else None
