"""Screening workers for ``assay serve``: a process pool started on first use.

Parsing and screening are pure CPU; with more than one core they run in worker processes
(spawned, not forked: the service has threads) while the intake thread fetches, stores and
moves messages in order. Each worker builds its own screener from the config once; the
screener asks the clock for the date at each screening, so a worker may live for weeks.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from intake.supplier_mail import Analysis, analyse_supplier_message
from storage.store import Store

from . import settings
from .app import build_screener
from .config import Config

log = logging.getLogger(__name__)

_WORKER: dict[str, Any] = {}


def _exit_with_parent(parent: int) -> None:
    """A worker whose service died (killed, crashed) exits too, instead of lingering."""
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.5)


def _init_worker(parent: int, config: Config, db: str) -> None:
    # The parent's pid comes from the parent: a worker started just before its parent was
    # killed would otherwise read the pid of its new parent (init) and never notice.
    if os.getppid() != parent:
        os._exit(0)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    logging.basicConfig(level=config.log_level)
    store = Store(db)
    _WORKER["screener"] = build_screener(config, store, follow=True)  # the store stays open
    _WORKER["limits"] = settings.mail_limits(config)


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
            initargs=(os.getpid(), self.config, str(self.db)),
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
