"""Screening every stored submission again (a new RMAP list, new checks), in worker processes.

The Store offers the batches (:meth:`~storage.submissions.SubmissionStore.declaration_batches`,
stored declarations as JSON) and takes each batch's results in one transaction
(:meth:`~storage.submissions.SubmissionStore.record_results`); the process pool lives here,
at the composition root, where the screener is built.

Screening is pure computation, so with ``workers`` > 1 (default: one per CPU, at most 4)
forked processes screen batches while this process writes results; the database is only
ever touched here.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace

from plugins.models import Declaration, ScreeningResult
from storage.db import utcnow
from storage.store import Store

Batch = list[tuple[str, str]]  # (sha256, declaration JSON)
Results = list[tuple[str, ScreeningResult]]

# The screening function of the running rescreen, inherited by forked workers.
_SCREEN: Callable[[Declaration], ScreeningResult] | None = None


def _screen_batch(rows: Batch) -> Results:
    """Screen stored declarations; the declaration is dropped from the result (not needed to
    store it). Runs in a worker, with the screening function it inherited at the fork."""
    screen = _SCREEN
    if screen is None:
        raise RuntimeError("no rescreen is running: _screen_batch has no screening function")
    out = []
    for sha, raw in rows:
        result = screen(Declaration.from_dict(json.loads(raw)))
        out.append((sha, replace(result, declaration=None)))
    return out


def rescreen(
    store: Store,
    screen: Callable[[Declaration], ScreeningResult],
    as_of: dt.date | None = None,
    batch: int = 100,
    workers: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Screen every stored declaration again and store the results. Returns how many.

    Each batch is one transaction, stored in the order the store offers them; every result of
    one run carries the same screening time. ``on_progress(n)`` is called after each batch is
    stored, with its size.
    """
    global _SCREEN
    now = utcnow()
    workers = workers if workers is not None else min(4, os.cpu_count() or 1)

    def flush(results: Results) -> int:
        stored = store.record_results(results, as_of, screened_at=now)
        if on_progress is not None:
            on_progress(len(results))
        return stored

    _SCREEN = screen
    try:
        if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
            return _in_pool(store, workers, batch, flush)
        return sum(flush(_screen_batch(raw)) for raw in store.declaration_batches(batch))
    finally:
        _SCREEN = None


def _in_pool(store: Store, workers: int, batch: int, flush: Callable[[Results], int]) -> int:
    """Reads stay on this thread (sqlite connections are per thread); a few batches are kept
    in flight so workers compute while results are written. A worker that dies (the kernel's
    OOM killer, say) breaks the pool: the batches in flight are screened here instead, and
    nothing is skipped."""
    n = 0
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        in_flight: collections.deque[tuple[Batch, Future[Results]]] = collections.deque()

        def settle(raw: Batch, future: Future[Results]) -> int:
            try:
                results = future.result()
            except BrokenProcessPool:
                results = _screen_batch(raw)
            return flush(results)

        for raw in store.declaration_batches(batch):
            try:
                in_flight.append((raw, pool.submit(_screen_batch, raw)))
            except BrokenProcessPool:
                n += flush(_screen_batch(raw))
            if len(in_flight) > 2 * workers:
                n += settle(*in_flight.popleft())
        while in_flight:
            n += settle(*in_flight.popleft())
    return n
