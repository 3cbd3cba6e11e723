"""What every listener receives besides Bolt's own arguments: built once by ``build_app``.

A sqlite connection belongs to the thread that opened it, and Bolt runs listeners on a
thread pool, so the store and the screener are handed out per thread by providers rather
than shared.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from plugins.pipeline import Screener
from storage.crypto import Cipher
from storage.store import Store

if TYPE_CHECKING:
    from bot.slack_app import SlackSettings


class StorePerThread:
    """This thread's Store, opened on first use."""

    def __init__(self, factory: Callable[[], Store]) -> None:
        self.factory = factory
        self.local = threading.local()

    def get(self) -> Store:
        store = getattr(self.local, "store", None)
        if store is None:
            store = self.local.store = self.factory()
        return store


class ScreenerPerThread:
    """This thread's Screener, built on first use over that thread's Store."""

    def __init__(self, factory: Callable[[Store], Screener]) -> None:
        self.factory = factory
        self.screeners: dict[int, Screener] = {}

    def get(self, store: Store) -> Screener:
        key = threading.get_ident()
        if key not in self.screeners:
            self.screeners[key] = self.factory(store)
        return self.screeners[key]


@dataclass(frozen=True)
class Services:
    """The settings and providers a listener may use; tests build one with plain callables."""

    settings: SlackSettings
    store: Callable[[], Store]  # this thread's Store
    screener: Callable[[Store], Screener]  # this thread's Screener for that Store
    cipher: Cipher | None = None  # reads grievance cases; None: no case is shown
    today: Callable[[], dt.date] = dt.date.today  # the service's day ([assay] time_zone)


def staff_view(settings: SlackSettings, team_id: str | None) -> bool:
    """Supplier names only inside the configured workspace."""
    return not settings.workspace_id or team_id == settings.workspace_id
