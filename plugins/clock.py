"""What day it is. A long-running service must not fix the date it started on.

The composition root builds one :class:`Clock` from the config (``[assay] time_zone``) and
hands it down; the screener asks it for today's date at each screening. Tests inject a
clock whose time they move, so midnight can pass in a few milliseconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Clock:
    """The current time in one zone; ``zone=None`` is the machine's local zone."""

    zone: dt.tzinfo | None = None
    source: Callable[[], dt.datetime] = field(default=utc_now)  # an aware datetime

    def now(self) -> dt.datetime:
        return self.source().astimezone(self.zone)

    def today(self) -> dt.date:
        return self.now().date()
