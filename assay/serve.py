"""``assay serve``: the mail intakes and the notifiers, wired from the config.

Each mailbox runs in its own thread with its own Store (a sqlite connection belongs to
its thread); the notifiers drain the outbox on another. ``--once`` processes what is
waiting, drains the outbox and exits: the quick start, and cron-style deployments.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import multiprocessing
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.alerts import ConsoleAlerts
from bot.mailer import EmailNotifier, SmtpSettings
from bot.slack_app import SlackSettings
from bot.slack_notifier import SlackAlerts, SlackDelivery
from intake.grievance import GrievancePolicy, handle_grievance_message
from intake.loop import Handled, Pipeline, process_pending, run_mailbox
from intake.mailbox import Mailbox, MailboxSettings, open_mailbox
from intake.messages import MailLimits
from intake.supplier_mail import (
    Analysis,
    ReplyPolicy,
    analyse_supplier_message,
    commit_supplier_message,
    handle_supplier_message,
    record_failure,
)
from storage.crypto import Cipher, load_cipher
from storage.health import EXIT_STORAGE, storage_failure, storage_failure_at
from storage.store import Store

from .app import build_screener
from .config import Config, section

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024


def mailbox_settings(config: Config, name: str) -> MailboxSettings:
    s = section(config, "mail", name)
    return MailboxSettings(
        kind=s["kind"],
        path=s["path"],
        host=s["host"],
        port=int(s["port"]),
        security=s["security"],
        user=s["user"],
        password=os.environ.get(s["password_env"], "") if s.get("password_env") else "",
        folder=s["folder"],
        processed_folder=s["processed_folder"],
        attention_folder=s["attention_folder"],
        poll_seconds=float(s["poll_seconds"]),
        delete_processed=bool(s.get("delete_processed", False)),
    )


def smtp_settings(config: Config) -> SmtpSettings:
    s = section(config, "smtp")
    return SmtpSettings(
        host=s["host"],
        port=int(s["port"]),
        security=s["security"],
        user=s["user"],
        password=os.environ.get(s["password_env"], "") if s.get("password_env") else "",
        outbox_dir=s["outbox_dir"],
        retry_seconds=float(s["retry_seconds"]),
        max_attempts=int(s["max_attempts"]),
        permanent_attempts=int(s["permanent_attempts"]),
        lease_seconds=float(s["lease_seconds"]),
        reply_from=section(config, "mail")["reply_from"],
        grievance_from=section(config, "grievance")["reply_from"],
        signature=str(section(config, "mail")["signature"]),
        return_workbook=bool(section(config, "mail")["return_workbook"]),
        limits=config.limits,
    )


def slack_settings(config: Config) -> SlackSettings | None:
    s = section(config, "slack")
    token = os.environ.get(s["bot_token_env"], "")
    if not token:
        return None
    return SlackSettings(
        bot_token=token,
        signing_secret=os.environ.get(s["signing_secret_env"], ""),
        channel=s["channel"],
        officers=tuple(s["officers"]),
        workspace_id=s["workspace_id"],
        api_url=s["api_url"],
        max_file_bytes=int(section(config, "mail")["max_attachment_mb"] * MB),
    )


def slack_client(slack: SlackSettings) -> Any:
    from slack_sdk import WebClient

    return WebClient(token=slack.bot_token, base_url=slack.api_url or "https://slack.com/api/")


def mail_limits(config: Config) -> MailLimits:
    m = section(config, "mail")
    return MailLimits(
        max_message_bytes=int(m["max_message_mb"] * MB),
        max_attachment_bytes=int(m["max_attachment_mb"] * MB),
    )


def grievance_cipher(config: Config) -> Cipher:
    g = section(config, "grievance")
    return load_cipher(g["key_env"], Path(g["key_file"]) if g.get("key_file") else None)


def grievances_enabled(config: Config) -> bool:
    return bool(section(config, "mail", "grievances").get("enabled", True))


def seed_examples(config: Config) -> None:
    """Quick start: a fresh Maildir gets the example messages shipped in ``examples/mail``."""
    if not section(config, "mail").get("seed_examples"):
        return
    for name, folder in (("suppliers", "suppliers"), ("grievances", "grievances")):
        settings = mailbox_settings(config, name)
        source = ROOT / "examples" / "mail" / folder
        target = Path(settings.path)
        if settings.kind != "maildir" or target.exists() or not source.is_dir():
            continue
        (target / "new").mkdir(parents=True)
        for sub in ("cur", "tmp"):
            (target / sub).mkdir()
        for eml in sorted(source.glob("*.eml")):
            shutil.copyfile(eml, target / "new" / eml.name)
        log.info("seeded %s with the example messages", target)


# -- screening workers ------------------------------------------------------------------
# Parsing and screening are pure CPU; with more than one core they run in worker processes
# (spawned, not forked: the service has threads) while the intake thread fetches, stores and
# moves messages in order. Each worker builds its own screener from the config once.
_WORKER: dict[str, Any] = {}


def _exit_with_parent(parent: int) -> None:
    """A worker whose service died (killed, crashed) exits too, instead of lingering."""
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.5)


def _init_worker(parent: int, data: dict[str, Any], path: str | None, db: str) -> None:
    # The parent's pid comes from the parent: a worker started just before its parent was
    # killed would otherwise read the pid of its new parent (init) and never notice.
    if os.getppid() != parent:
        os._exit(0)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    logging.basicConfig(level=Config(data).log_level)
    config = Config(data, Path(path) if path else None)
    store = Store(db)
    _WORKER["screener"] = build_screener(config, store, follow=True)  # the store stays open
    _WORKER["limits"] = mail_limits(config)


def _analyse(raw: bytes) -> Analysis:
    return analyse_supplier_message(raw, screener=_WORKER["screener"], limits=_WORKER["limits"])


class LazyPool:
    """A process pool started on first use (a quiet mailbox costs no processes)."""

    def __init__(self, workers: int, config: Config, db: Path) -> None:
        self.workers, self.config, self.db = workers, config, db
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(
                os.getpid(),
                self.config.data,
                str(self.config.path) if self.config.path else None,
                str(self.db),
            ),
        )

    def submit(self, raw: bytes) -> Future[Analysis]:
        with self._lock:
            if self._pool is None:
                self._pool = self._start()
            pool = self._pool
        try:
            return pool.submit(_analyse, raw)
        except BrokenProcessPool:
            self.reset(pool)
            with self._lock:
                if self._pool is None:
                    self._pool = self._start()
                return self._pool.submit(_analyse, raw)

    def reset(self, broken: ProcessPoolExecutor | None = None) -> None:
        """Drop a broken pool; the next submit starts a new one."""
        with self._lock:
            pool = self._pool
            if pool is None or (broken is not None and pool is not broken):
                return
            self._pool = None
        log.warning("screening worker pool broke; starting a new one")
        pool.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


def mail_workers(config: Config) -> int:
    n = int(section(config, "mail").get("workers", 0))
    return n if n > 0 else (os.cpu_count() or 1)


@dataclass
class Service:
    config: Config
    db: Path | None = None

    def store(self) -> Store:
        return Store(self.db or self.config.database)

    def supplier_handler(self, store: Store) -> tuple[object, object]:
        screener = build_screener(self.config, store, follow=True)
        limits = mail_limits(self.config)
        policy = ReplyPolicy(
            max_replies_per_hour=int(section(self.config, "mail")["max_replies_per_hour"])
        )

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

    def supplier_pipeline(self, store: Store, pool: LazyPool) -> Pipeline:
        policy = ReplyPolicy(
            max_replies_per_hour=int(section(self.config, "mail")["max_replies_per_hour"])
        )
        screener = build_screener(self.config, store, follow=True)
        limits = mail_limits(self.config)

        def commit(analysis: Analysis) -> Handled:
            out = commit_supplier_message(
                analysis, store=store, as_of=screener.as_of, mailbox="suppliers", policy=policy
            )
            return Handled(attention=out.attention)

        def here(raw: bytes) -> Analysis:
            return analyse_supplier_message(raw, screener=screener, limits=limits)

        return Pipeline(
            submit=pool.submit,
            commit=commit,
            window=2 * pool.workers,
            fallback=here,
            on_broken=pool.reset,
        )

    def grievance_handler(self, store: Store) -> tuple[object, object]:
        cipher = grievance_cipher(self.config)
        limits = mail_limits(self.config)
        policy = GrievancePolicy(
            respond_days=int(section(self.config, "grievance")["respond_days"])
        )

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
        out: list[tuple[str, Mailbox]] = [
            ("suppliers", open_mailbox("suppliers", mailbox_settings(self.config, "suppliers")))
        ]
        if grievances_enabled(self.config):
            out.append(
                (
                    "grievances",
                    open_mailbox("grievances", mailbox_settings(self.config, "grievances")),
                )
            )
        return out

    def notifiers(self, store: Store) -> tuple[EmailNotifier, ConsoleAlerts | SlackAlerts]:
        cipher = grievance_cipher(self.config) if grievances_enabled(self.config) else None
        email = EmailNotifier(store, smtp_settings(self.config), cipher)
        slack = slack_settings(self.config)
        if slack is not None and slack.channel:
            s = section(self.config, "slack")
            log_file = section(self.config, "alerts").get("log_file")
            delivery = SlackDelivery(
                backoff_seconds=float(s["retry_seconds"]),
                permanent_attempts=int(s["permanent_attempts"]),
                lease_seconds=float(s["lease_seconds"]),
            )
            return email, SlackAlerts(
                store,
                slack_client(slack),
                slack.channel,
                delivery=delivery,
                dead_log=Path(log_file) if log_file else None,
            )
        log_file = section(self.config, "alerts").get("log_file")
        return email, ConsoleAlerts(store, Path(log_file) if log_file else None)

    def slack_app(self) -> Any:
        """The Bolt app, or None when no Slack token is configured (the embedded default)."""
        slack = slack_settings(self.config)
        if slack is None:
            return None
        from bot.slack_app import build_app

        cipher = grievance_cipher(self.config) if slack.officers else None
        return build_app(
            slack,
            self.store,
            lambda store: build_screener(self.config, store, follow=True),
            cipher,
            slack_client(slack),
        )

    def start_slack(self) -> Callable[[], None]:
        """Start the Slack app in the configured mode; returns how to stop it."""
        app = self.slack_app()
        if app is None:
            return lambda: None
        s = section(self.config, "slack")
        if s["mode"] == "socket":
            from bot.slack_http import serve_socket_mode

            handler = serve_socket_mode(app, os.environ.get(s["app_token_env"], ""))
            return handler.close
        from bot.slack_http import serve_http

        server, _thread = serve_http(app, s["host"], int(s["port"]))
        return server.shutdown

    def pool(self) -> LazyPool | None:
        workers = mail_workers(self.config)
        if workers <= 1:
            return None
        return LazyPool(workers, self.config, self.db or self.config.database)

    def _handlers(
        self, name: str, store: Store, pool: LazyPool | None
    ) -> tuple[Any, Any, Pipeline | None]:
        if name == "suppliers":
            handle, fail = self.supplier_handler(store)
            return handle, fail, self.supplier_pipeline(store, pool) if pool else None
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
        today = self.config.as_of or dt.date.today()
        stale = store.reference_data().stale_lists(today, self.config.max_list_age_days)
        for s in stale:
            store.alert_stale_list(s.kind, s.version, s.message)
        return len(stale)

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
        email, alerts = self.notifiers(store)
        counts["emails_sent"] = email.drain(limit=100000)
        counts["alerts"] = alerts.drain(limit=100000)
        return counts

    def run_forever(self, stop: threading.Event, drain_every: float = 2.0) -> None:
        """Run until ``stop`` is set; a thread that dies stops the service (exit status 1)."""
        seed_examples(self.config)
        with self.exit_on_storage_trouble("cannot start"):
            self.store().close()  # create and migrate the database before the threads open it
        idle = float(section(self.config, "mail")["idle_timeout"])
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
                        checked = time.monotonic()
                    email.drain()
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
