"""``assay serve``: the mail intakes and the notifiers, wired from the config.

Each mailbox runs in its own thread with its own Store (a sqlite connection belongs to
its thread); the notifiers drain the outbox on another. ``--once`` processes what is
waiting, drains the outbox and exits: the quick start, and cron-style deployments.
With more than one core, supplier mail is screened ahead in worker processes
(:mod:`assay.workers`). Every screener asks the service's clock for the date at each
screening (worker processes use the system clock in ``[assay] time_zone``), so a service
that runs for weeks screens against the current day. The dashboard's aggregate database is
rebuilt after changes and its digest queued daily (:mod:`assay.dashboard_run`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bot.alerts import ConsoleAlerts
from bot.mailer import EmailNotifier
from bot.slack_app import SlackSettings
from bot.slack_notifier import SlackAlerts
from intake.grievance import handle_grievance_message
from intake.loop import Failure, Handled, Handler, Pipeline, process_pending, run_mailbox
from intake.mailbox import Mailbox, open_mailbox
from intake.supplier_mail import (
    Analysis,
    analyse_supplier_message,
    commit_supplier_message,
    handle_supplier_message,
    record_failure,
)
from plugins.clock import Clock
from plugins.pipeline import Screener
from storage.health import EXIT_STORAGE, storage_failure, storage_failure_at
from storage.store import Store

from . import settings
from .app import build_screener
from .config import Config
from .dashboard_run import DashboardKeeper
from .workers import LazyPool

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[1]


def slack_client(slack: SlackSettings) -> Any:
    from slack_sdk import WebClient

    return WebClient(token=slack.bot_token, base_url=slack.api_url or "https://slack.com/api/")


def seed_examples(config: Config) -> None:
    """Quick start: a fresh Maildir gets the example messages shipped in ``examples/mail``."""
    if not config.mail.seed_examples:
        return
    for name in ("suppliers", "grievances"):
        mailbox = settings.mailbox_settings(config, name)
        source = ROOT / "examples" / "mail" / name
        target = Path(mailbox.path)
        if mailbox.kind != "maildir" or target.exists() or not source.is_dir():
            continue
        (target / "new").mkdir(parents=True)
        for sub in ("cur", "tmp"):
            (target / sub).mkdir()
        for eml in sorted(source.glob("*.eml")):
            shutil.copyfile(eml, target / "new" / eml.name)
        log.info("seeded %s with the example messages", target)


class Service:
    """The service's parts, wired from the config; ``clock`` tells every screening the date."""

    def __init__(self, config: Config, db: Path | None = None, clock: Clock | None = None) -> None:
        self.config, self.db = config, db
        self.clock = clock or config.clock()
        self._campaigns_ran: dt.date | None = None  # the last day the campaigns' day was run
        self._remediation_marks: tuple[int, int] | None = None  # (last file row, RMAP list) seen
        self.board = DashboardKeeper(config, self.clock)  # the dashboard's database and digest

    def store(self) -> Store:
        return Store(
            self.db or self.config.database,
            keep_originals_days=self.config.storage.keep_originals_days,
        )

    def screener(self, store: Store) -> Screener:
        """A screener for one thread (its store), following new reference lists."""
        return build_screener(self.config, store, follow=True, clock=self.clock)

    def supplier_handler(
        self, store: Store, screener: Screener | None = None
    ) -> tuple[Handler, Failure]:
        screener = screener or self.screener(store)
        limits = settings.mail_limits(self.config)
        policy = settings.reply_policy(self.config)

        def handle(raw: bytes) -> Handled:
            out = handle_supplier_message(
                raw,
                store=store,
                screener=screener,
                mailbox="suppliers",
                limits=limits,
                policy=policy,
            )
            return Handled(attention=out.attention)

        def fail(raw: bytes, error: str) -> Handled:
            return Handled(attention=record_failure(store, raw, "suppliers", error).attention)

        return handle, fail

    def supplier_pipeline(
        self, store: Store, pool: LazyPool, screener: Screener | None = None
    ) -> Pipeline:
        """Workers analyse ahead; this thread commits in order (``screener``: the fallback)."""
        policy = settings.reply_policy(self.config)
        limits = settings.mail_limits(self.config)
        fallback = screener or self.screener(store)

        def commit(analysis: Analysis) -> Handled:
            out = commit_supplier_message(analysis, store=store, mailbox="suppliers", policy=policy)
            return Handled(attention=out.attention)

        def here(raw: bytes) -> Analysis:
            return analyse_supplier_message(raw, screener=fallback, limits=limits)

        return Pipeline(
            submit=pool.submit,
            commit=commit,
            window=2 * pool.workers,
            fallback=here,
            on_broken=pool.reset,
        )

    def grievance_handler(self, store: Store) -> tuple[Handler, Failure]:
        cipher = settings.grievance_cipher(self.config)
        limits = settings.mail_limits(self.config)
        policy = settings.grievance_policy(self.config)

        def handle(raw: bytes) -> Handled:
            handle_grievance_message(
                raw, store=store, cipher=cipher, mailbox="grievances", limits=limits, policy=policy
            )
            return Handled()

        def fail(raw: bytes, error: str) -> Handled:
            # Never the text or the sender: only that a grievance message needs a look.
            return Handled(
                attention=record_failure(store, raw, "grievances", error.split(":")[0]).attention
            )

        return handle, fail

    def mailboxes(self) -> list[tuple[str, Mailbox]]:
        names = ["suppliers"] + (["grievances"] if self.config.mail.grievances.enabled else [])
        return [
            (name, open_mailbox(name, settings.mailbox_settings(self.config, name)))
            for name in names
        ]

    def notifiers(self, store: Store) -> tuple[EmailNotifier, ConsoleAlerts | SlackAlerts]:
        enabled = self.config.mail.grievances.enabled
        cipher = settings.grievance_cipher(self.config) if enabled else None
        email = EmailNotifier(store, settings.smtp_settings(self.config), cipher)
        slack = settings.slack_settings(self.config)
        log_file = settings.alerts_log(self.config)
        if slack is not None and slack.channel:
            return email, SlackAlerts(
                store,
                slack_client(slack),
                slack.channel,
                delivery=settings.slack_delivery(self.config),
                dead_log=log_file,
            )
        return email, ConsoleAlerts(store, log_file)

    def slack_app(self) -> Any:
        """The Bolt app, or None when no Slack token is configured (the embedded default)."""
        slack = settings.slack_settings(self.config)
        if slack is None:
            return None
        from bot.slack_app import build_app

        cipher = settings.grievance_cipher(self.config) if slack.officers else None
        return build_app(
            slack,
            self.store,
            self.screener,
            cipher,
            slack_client(slack),
            today=lambda: self.config.screening.as_of or self.clock.today(),
        )

    def start_slack(self) -> Callable[[], None]:
        """Start the Slack app in the configured mode; returns how to stop it."""
        app = self.slack_app()
        if app is None:
            return lambda: None
        s = self.config.slack
        if s.mode == "socket":
            from bot.slack_http import serve_socket_mode

            handler = serve_socket_mode(app, settings.secret(s.app_token_env))
            return handler.close
        from bot.slack_http import serve_http

        server, _thread = serve_http(app, s.host, s.port)
        return server.shutdown

    def pool(self) -> LazyPool | None:
        workers = settings.mail_workers(self.config)
        if workers <= 1:
            return None
        return LazyPool(workers, self.config, self.db or self.config.database)

    def _handlers(
        self, name: str, store: Store, pool: LazyPool | None
    ) -> tuple[Handler, Failure, Pipeline | None]:
        if name == "suppliers":
            screener = self.screener(store)  # one per thread, kept as long as the service runs
            handle, fail = self.supplier_handler(store, screener)
            return handle, fail, self.supplier_pipeline(store, pool, screener) if pool else None
        handle, fail = self.grievance_handler(store)
        return handle, fail, None

    def storage_trouble(self, exc: BaseException) -> str | None:
        """One line for the operator when ``exc`` means the database cannot take writes."""
        return storage_failure_at(exc, Path(self.db or self.config.database))

    @contextlib.contextmanager
    def exit_on_storage_trouble(self, what: str) -> Iterator[None]:
        """Storage that cannot take writes ends the service: one line, exit status 75."""
        try:
            yield
        except Exception as exc:
            reason = self.storage_trouble(exc)
            if reason is None:
                raise
            log.error("assay serve %s: %s; no message was marked processed", what, reason)
            raise SystemExit(EXIT_STORAGE) from None

    def run_once(self) -> dict[str, int]:
        """Process what is waiting and drain the outbox; storage trouble exits 75, one line."""
        with self.exit_on_storage_trouble("stopped"):
            return self._run_once()

    def warn_stale_lists(self, store: Store) -> int:
        """One alert per reference list in force that is older than [refdata] max_list_age_days."""
        today = self.config.screening.as_of or self.clock.today()
        stale = store.reference_data().stale_lists(today, self.config.refdata.max_list_age_days)
        for s in stale:
            store.alert_stale_list(s.kind, s.version, s.message)
        return len(stale)

    def campaign_day(self, store: Store, any_time: bool = False) -> int:
        """Once a day, from ``[campaigns] run_at`` on (the clock's zone; ``any_time``: whatever
        the hour, as ``serve --once`` does): every open campaign's reminders, escalations and
        non-responsive marks, then its digest. Each is recorded with what it queues, so a
        restart on the same day sends nothing twice."""
        now = self.clock.now()
        today = self.config.screening.as_of or now.date()
        run_at = dt.time.fromisoformat(self.config.campaigns.run_at)
        if self._campaigns_ran == today or (now.time() < run_at and not any_time):
            return 0
        from .campaign_run import run_day

        queued = run_day(store, self.config, today)
        self._campaigns_ran = today
        return queued

    def follow_remediations(self, store: Store) -> tuple[int, int]:
        """Bring remediations up to date: every supplier's when an RMAP list arrived since
        (or on the first pass), else only those credited with a file since the last pass."""
        rmap = store.rmap_mark()
        credited, last = store.credited_since(
            self._remediation_marks[0] if self._remediation_marks else 0
        )
        if self._remediation_marks is not None and self._remediation_marks == (last, rmap):
            return 0, 0
        from .campaign_run import sync_remediations

        everyone = self._remediation_marks is None or self._remediation_marks[1] != rmap
        changed = sync_remediations(store, None if everyone else credited)
        self._remediation_marks = (last, rmap)
        return changed

    def _run_once(self) -> dict[str, int]:
        seed_examples(self.config)
        store = self.store()
        counts: dict[str, int] = {}
        pool = self.pool()
        try:
            for name, mailbox in self.mailboxes():
                handle, fail, pipeline = self._handlers(name, store, pool)
                mailbox.connect()
                try:
                    counts[name] = process_pending(mailbox, handle, fail, pipeline)
                finally:
                    mailbox.close()
        finally:
            if pool:
                pool.shutdown()
        self.warn_stale_lists(store)
        store.prune_originals_daily(self.clock.now())  # [storage] keep_originals_days
        self.follow_remediations(store)
        counts["campaign_messages"] = self.campaign_day(store, any_time=True)
        email, alerts = self.notifiers(store)
        counts["emails_sent"] = email.drain(limit=100000)
        self.board.finish(store)  # before the alerts: the digest goes out with them
        counts["alerts"] = alerts.drain(limit=100000)
        return counts

    def run_forever(self, stop: threading.Event, drain_every: float = 2.0) -> None:
        """Run until ``stop`` is set; a thread that dies stops the service (exit status 1)."""
        seed_examples(self.config)
        with self.exit_on_storage_trouble("cannot start"):
            self.store().close()  # create and migrate the database before the threads open it
        idle = self.config.mail.idle_timeout
        failed: list[str] = []

        def guarded(name: str, body: Callable[[], None]) -> Callable[[], None]:
            def run() -> None:
                try:
                    body()
                except Exception as exc:
                    reason = self.storage_trouble(exc)
                    if reason:
                        log.error(
                            "assay serve stopped: %s (%s); no message was marked processed",
                            reason,
                            name,
                        )
                        failed.append("storage")
                    else:
                        log.exception("%s stopped on an error; stopping the service", name)
                        failed.append(name)
                    stop.set()

            return run

        threads = []
        pool = self.pool()
        for name, mailbox in self.mailboxes():

            def work(name: str = name, mailbox: Mailbox = mailbox) -> None:
                store = self.store()
                handle, fail, pipeline = self._handlers(name, store, pool)
                run_mailbox(mailbox, handle, fail, stop, idle_timeout=idle, pipeline=pipeline)

            threads.append(
                threading.Thread(
                    target=guarded(f"intake-{name}", work), name=f"intake-{name}", daemon=True
                )
            )

        def notify() -> None:
            store = self.store()
            email, alerts = self.notifiers(store)
            checked = 0.0
            while not stop.is_set():
                try:
                    if time.monotonic() - checked > 3600:
                        self.warn_stale_lists(store)
                        store.prune_originals_daily(self.clock.now())
                        checked = time.monotonic()
                    # What this thread changed (other threads' commits: PRAGMA data_version).
                    changed = any(self.follow_remediations(store))
                    changed = self.campaign_day(store) > 0 or changed
                    changed = email.drain() > 0 or changed
                    self.board.tick(store, changed)  # the digest, else a (debounced) rebuild
                    alerts.drain()
                except sqlite3.OperationalError as exc:  # a locked or busy database: next pass
                    log.warning(
                        "notifier pass skipped: %s", storage_failure(exc) or "database busy"
                    )
                stop.wait(drain_every)

        threads.append(
            threading.Thread(target=guarded("notifier", notify), name="notifier", daemon=True)
        )
        stop_slack = self.start_slack()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop_slack()
        if pool:
            pool.shutdown()
        if failed:
            raise SystemExit(EXIT_STORAGE if "storage" in failed else 1)
