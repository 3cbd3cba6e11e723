"""The intake loop: fetch, handle, store, and only then move the message.

Server trouble (a dropped connection, a restarted Dovecot) is retried with exponential
backoff; a message we fail to handle through our own fault is recorded, the team told,
and the message moved to "Needs attention" so it is neither lost nor retried forever.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from storage.health import StoreUnavailable, storage_failure

from .mailbox import Mailbox, MailboxError, MessageRef

log = logging.getLogger(__name__)

FAULT_ENV = "ASSAY_FAULT"  # test hook: "after-store" kills the process between storing and moving


@dataclass(frozen=True)
class Handled:
    attention: bool = False


Handler = Callable[[bytes], Handled]
Failure = Callable[[bytes, str], Handled]


def _fault(point: str) -> None:
    if os.environ.get(FAULT_ENV) == point:
        log.error("fault injection: exiting at %s", point)
        os._exit(70)


def _settle(
    mailbox: Mailbox,
    ref: MessageRef,
    raw: bytes,
    compute: Callable[[], Handled],
    on_failure: Failure,
) -> bool:
    """Store a message's result (or our failure), then move it. False: left in place.

    Storage that cannot take writes at all (a full disk, a locked database) raises
    :class:`StoreUnavailable`: nothing is recorded, so the message must not move, and no
    later message can fare better; the caller stops.
    """
    try:
        result = compute()
    except MailboxError:
        raise
    except Exception as exc:  # our fault, not the sender's: keep the message, tell the team
        reason = storage_failure(exc)
        if reason:
            raise StoreUnavailable(reason) from exc
        log.exception("%s: handling a message failed", mailbox.name)
        try:
            result = on_failure(raw, f"{type(exc).__name__}: {exc}")
        except Exception as again:  # the store itself is failing: leave the message in place
            reason = storage_failure(again)
            if reason:
                raise StoreUnavailable(reason) from again
            log.exception("%s: could not record the failure; message left in place", mailbox.name)
            return False
    _fault("after-store")
    if result.attention:
        mailbox.mark_attention(ref)
    else:
        mailbox.mark_processed(ref)
    return True


def process_pending(
    mailbox: Mailbox, handle: Handler, on_failure: Failure, pipeline: Pipeline | None = None
) -> int:
    """Handle every message waiting in the mailbox, in order; returns how many were handled.

    With a ``pipeline``, parsing and screening (pure CPU) run in worker processes a few
    messages ahead, while fetching, storing and moving stay here, in mailbox order: the
    store and the mailbox see exactly the sequence the serial path produces.
    """
    if pipeline is not None:
        return _process_pipelined(mailbox, pipeline, on_failure)
    done = 0
    for ref in mailbox.pending():
        raw = mailbox.fetch(ref)
        done += _settle(mailbox, ref, raw, lambda raw=raw: handle(raw), on_failure)  # type: ignore[misc]
    return done


@dataclass(frozen=True)
class Pipeline:
    submit: Callable[[bytes], Future[Any]]  # analyse in a worker
    commit: Callable[[Any], Handled]  # store the analysis, here
    window: int = 4  # messages in flight
    # Analyse here instead, when the worker pool broke under a message (a worker killed by
    # the kernel, say): the pool is rebuilt for the next ones and no message is lost.
    fallback: Callable[[bytes], Any] | None = None
    on_broken: Callable[[], None] | None = None

    def result(self, future: Future[Any], raw: bytes) -> Any:
        try:
            return future.result()
        except BrokenProcessPool:
            if self.on_broken is not None:
                self.on_broken()
            if self.fallback is None:
                raise
            log.warning("screening worker pool broke; analysing this message in the intake")
            return self.fallback(raw)


def _process_pipelined(mailbox: Mailbox, pipeline: Pipeline, on_failure: Failure) -> int:
    in_flight: collections.deque[tuple[MessageRef, bytes, Future[Any]]] = collections.deque()
    done = 0

    def finish() -> None:
        nonlocal done
        ref, raw, future = in_flight.popleft()
        done += _settle(
            mailbox, ref, raw, lambda: pipeline.commit(pipeline.result(future, raw)), on_failure
        )

    try:
        for ref in mailbox.pending():
            raw = mailbox.fetch(ref)
            in_flight.append((ref, raw, pipeline.submit(raw)))
            if len(in_flight) >= pipeline.window:
                finish()
        while in_flight:
            finish()
    finally:
        for _ref, _raw, future in in_flight:
            future.cancel()
    return done


def run_mailbox(
    mailbox: Mailbox,
    handle: Handler,
    on_failure: Failure,
    stop: threading.Event,
    idle_timeout: float = 300.0,
    max_backoff: float = 60.0,
    pipeline: Pipeline | None = None,
) -> None:
    """Process the mailbox until ``stop`` is set, reconnecting with backoff."""
    delay = 1.0
    while not stop.is_set():
        try:
            mailbox.connect()
            delay = 1.0
            while not stop.is_set():
                process_pending(mailbox, handle, on_failure, pipeline)
                mailbox.wait(idle_timeout, stop)
        except MailboxError as exc:
            log.warning("%s: %s; reconnecting in %.0f s", mailbox.name, exc, delay)
            mailbox.close()
            stop.wait(delay)
            delay = min(delay * 2, max_backoff)
    mailbox.close()
