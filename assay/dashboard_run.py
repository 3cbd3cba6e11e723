"""``assay serve`` keeps the dashboard's aggregate database fresh and posts its daily digest.

The aggregate database (:mod:`reports.dashboard_db`) is rebuilt in one transaction, so a
Datasette holding it open sees the old figures or the new ones. A build that fails never
stops the service: one log line, the board keeps the figures it has, and the build is tried
again later (:data:`RETRY_AFTER`), not on every pass.

What changed is seen two ways. Other connections' commits (the intake threads, the Slack app,
a CLI command in another process) move SQLite's ``PRAGMA data_version`` on the notifier's own
connection; the notifier's own writes do not move it, so its caller says when its pass changed
something (remediations, the campaigns' day, e-mails sent). Rebuilds are debounced: the next
starts no sooner than :data:`REFRESH_EVERY` seconds, or :data:`BUSY_FACTOR` times as long as the
last one took (seconds on a few thousand suppliers), after it ended, so the notifier spends
most of its time delivering; a change inside that window is built when it ends.

The digest is the board's headline figures (:func:`reports.dashboard_figures.headline_figures`
on a freshly built database, formatted with ``format_figure``, so the board and the digest print
the same text), queued once a day under the outbox key ``dashboard:digest:YYYY-MM-DD``: the key
is looked up before anything is built, so a restart on the same day sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING

from plugins.clock import Clock
from program.outbox import DigestCampaign, DigestFigure, ProgramDigest
from storage.mail import OutboxItem
from storage.store import Store

from .config import Config

if TYPE_CHECKING:
    from reports.dashboard_figures import Headline

log = logging.getLogger(__name__)

REFRESH_EVERY = 5.0  # seconds: at most one rebuild this often
BUSY_FACTOR = 4.0  # and a pause at least this many times the last rebuild's duration
RETRY_AFTER = 300.0  # seconds before a failed build (or digest) is tried again


def digest_key(day: dt.date) -> str:
    return f"dashboard:digest:{day.isoformat()}"


def _why(exc: BaseException) -> str:
    """The error in one short line (its type and message; no row of the store is in it)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def refresh_dashboard(store: Store, config: Config, today: dt.date) -> bool:
    """Rebuild the aggregate database as of ``today``; False (and one log line) if it failed."""
    from reports.dashboard_db import build_dashboard

    d = config.dashboard
    try:
        build_dashboard(
            store,
            d.path,
            as_of=today,
            target=d.response_target,
            current_versions=config.screening.current_versions,
            stale_after_days=config.campaigns.stale_after_days,
        )
    except Exception as exc:  # the service goes on; the board keeps the figures it has
        log.error("the dashboard's database %s was not refreshed (%s)", d.path, _why(exc))
        return False
    return True


def program_digest(headline: Headline, url: str) -> ProgramDigest:
    """The digest of a database's headline figures, each formatted as the board shows it."""
    from reports.dashboard_figures import HEADLINES, format_figure

    by_key = {f.key: f for f in HEADLINES}
    return ProgramDigest(
        as_of=headline.as_of,
        target=headline.target,
        figures=tuple(
            DigestFigure(key, title, format_figure(by_key[key], value))
            for key, title, value in headline.figures
        ),
        campaigns=tuple(
            DigestCampaign(
                campaign=c.campaign,
                family=c.family,
                responded=c.responded,
                suppliers=c.suppliers,
                rate=f"{c.response_rate:.0%}",  # as the board's campaigns table (percent_text)
                overdue=c.overdue,
            )
            for c in headline.campaigns
        ),
        url=url,
    )


def queue_program_digest(store: Store, config: Config, today: dt.date) -> bool:
    """Rebuild the aggregate database and queue the day's digest; False when it was already
    queued today, or the database could not be built or read (logged)."""
    from reports.dashboard_figures import headline_figures

    key = digest_key(today)
    if store.outbox_by_key(key) is not None:
        return False
    if not refresh_dashboard(store, config, today):
        return False
    try:
        headline = headline_figures(config.dashboard.path)
    except Exception as exc:  # as a failed build: logged, tried again later
        log.error("the dashboard's digest was not queued (%s)", _why(exc))
        return False
    store.enqueue(OutboxItem("alert", key, program_digest(headline, config.dashboard.link)))
    return True


class DashboardKeeper:
    """The service's side of the dashboard: when to rebuild, when to queue the digest."""

    def __init__(self, config: Config, clock: Clock) -> None:
        self.config, self.clock = config, clock
        self._digest_day: dt.date | None = None  # the day whose digest is queued
        self._version: int | None = None  # PRAGMA data_version last seen
        self._pending = True  # a change not built yet (the first pass builds)
        self._next_build = 0.0  # monotonic time before which no build starts
        self._next_digest = 0.0  # after a failed digest: monotonic time of the next try
        self._started = 0.0  # monotonic time the last build started
        self._built_for: dt.date | None = None  # the day the last good build was as of

    def _today(self) -> tuple[dt.datetime, dt.date]:
        now = self.clock.now()
        return now, self.config.screening.as_of or now.date()

    def _built(self, ok: bool) -> None:
        self._pending = self._pending and not ok
        if ok:
            self._built_for = self._today()[1]
        end = time.monotonic()
        pause = max(REFRESH_EVERY, BUSY_FACTOR * (end - self._started)) if ok else RETRY_AFTER
        self._next_build = end + pause

    def digest(self, store: Store, any_time: bool = False) -> bool:
        """Queue the day's digest from ``[dashboard] digest_at`` on (``any_time``: whatever
        the hour, as ``serve --once`` does). True when it was queued now (the database built)."""
        d = self.config.dashboard
        now, today = self._today()
        if not d.digest or self._digest_day == today:
            return False
        if not any_time and (
            now.time() < dt.time.fromisoformat(d.digest_at) or time.monotonic() < self._next_digest
        ):
            return False
        self._started = time.monotonic()
        queued = queue_program_digest(store, self.config, today)
        if queued or store.outbox_by_key(digest_key(today)) is not None:
            self._digest_day, self._next_digest = today, 0.0
        else:  # the build failed (logged): no rebuild either until it is tried again
            self._next_digest = time.monotonic() + RETRY_AFTER
            self._built(False)
        if queued:
            self._built(True)
        return queued

    def refresh(self, store: Store) -> bool:
        """Rebuild if something changed since the last build and the debounce allows it.
        True when it was rebuilt."""
        if not self.config.dashboard.refresh:
            return False
        if not self._pending or time.monotonic() < self._next_build:
            return False
        self._started = time.monotonic()
        ok = refresh_dashboard(store, self.config, self._today()[1])
        self._built(ok)
        return ok

    def tick(self, store: Store, changed: bool) -> None:
        """One notifier pass: ``changed`` says whether this thread's own work changed the
        store; other connections' commits are read from ``PRAGMA data_version``."""
        version = store.data_version()
        if changed or (self._version is not None and version != self._version):
            self._pending = True
        if self._today()[1] != self._built_for:  # a new day moves ages, overdue and curves
            self._pending = True
        self._version = version
        if not self.digest(store):
            self.refresh(store)

    def finish(self, store: Store) -> None:
        """The end of ``serve --once``: the digest at any hour, else a rebuild."""
        if not self.digest(store, any_time=True):
            self.refresh(store)  # the first pass: built unless the digest just failed to
