"""Screening many files at once in forked worker processes (``assay screen a.xlsx b.xlsx ...``).

Design decisions:

- **Processes, forked.** Screening is CPU-bound Python (threads would share one core), and each
  worker inherits the screener at the fork: plugins loaded, reference data parsed, nothing
  pickled or rebuilt. A worker reads its file and screens it exactly as
  :func:`assay.app.screen_path` does, so the workbook is still parsed in a sandboxed child of
  the worker (:mod:`plugins.sandbox`): a nested fork whose memory, CPU and wall-time limits
  apply to that grandchild only, and which dies with its worker (``PR_SET_PDEATHSIG``).
- **A pool of our own, one pipe per worker, one file at a time.** A worker that dies (the
  kernel's OOM killer, a ``kill -9``) breaks a ``ProcessPoolExecutor`` together with every
  future in flight, without saying which file it held. Here the parent knows: that one file
  becomes an ``unreadable-file`` result (not stored, like a file that cannot be opened, so
  sending it again screens it), a new worker is forked, and the rest go on.
- **The store stays in this process.** Workers send back the result (pickled: the worker is our
  own code; the untrusted bytes are parsed in the grandchild, which answers in JSON), and the
  file's bytes only when they are to be stored. This process stores each result and yields it
  in input order through :func:`assay.app.store_result`, the path of
  :func:`~assay.app.screen_file`; an SQLite connection never crosses a fork.
- **Bounded look-ahead.** At most ``2 × workers`` files are handed out beyond the next one to
  yield, so memory stays flat however many files are given and however slowly the caller
  consumes the results.
- **Ctrl-C.** The terminal sends SIGINT to the whole process group: workers ignore it (it is
  blocked across the fork, so none dies half-started), and this process kills them (their
  sandboxed children die with them) and lets the ``KeyboardInterrupt`` through. A caller that
  stops iterating early kills them the same way.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plugins import isolation
from plugins.models import ScreeningResult
from plugins.pipeline import Screener, file_finding

from .app import FileResult, screen_file, screen_path, store_result

if TYPE_CHECKING:
    from storage.store import Store

log = logging.getLogger(__name__)

#: Most workers, whatever the core count: beyond this the store, written here, is the bottleneck.
MAX_WORKERS = 4

# One message each way: (index, path) in, (index, FileResult | None, bytes | str | None) out;
# None in ends the worker.
_Job = tuple[int, str]
_Answer = tuple[int, FileResult | None, bytes | str | None]


def pool_size(jobs: int | None, files: int) -> int:
    """Workers for ``files`` files: ``jobs`` (default one per CPU), at most :data:`MAX_WORKERS`."""
    return max(1, min(jobs or os.cpu_count() or 1, MAX_WORKERS, files))


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def screen_files(
    screener: Screener,
    paths: Sequence[Path],
    store: Store | None,
    source: str = "cli",
    jobs: int | None = None,
    on_done: Callable[[int], None] | None = None,
) -> Iterator[FileResult]:
    """Screen ``paths`` and yield their results in input order, storing each (here, in input
    order) as :func:`assay.app.screen_file` does. One worker or one file: in this process."""
    paths = list(paths)
    workers = pool_size(jobs, len(paths))
    if workers == 1 or not can_fork():
        for path in paths:
            fr = screen_file(screener, path, store, source)
            if on_done is not None:
                on_done(1)
            yield fr
        return
    pool = _Pool(screener, paths, workers, keep_bytes=store is not None)
    try:
        for fr, data in pool.results():
            if store is not None and data is not None:
                store_result(store, fr, data, source)
            if on_done is not None:
                on_done(1)
            yield fr
    finally:
        pool.close()


def _work(screener: Screener, conn: Connection, keep_bytes: bool) -> None:
    """A worker's loop: screen one file per message until told to stop (or the pipe closes)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    while True:
        try:
            job: _Job | None = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        index, path = job
        try:
            fr, data = screen_path(screener, Path(path))
            conn.send((index, fr, data if keep_bytes else None))
        except Exception as exc:  # our bug, not the file's: one file's answer, not a traceback
            log.exception("screening %s failed in a worker", path)
            conn.send((index, None, f"{type(exc).__name__}: {exc}"[:300]))


@dataclass
class _Worker:
    proc: BaseProcess
    conn: Connection
    index: int | None = None  # the file it is screening


@dataclass
class _Pool:
    screener: Screener
    paths: list[Path]
    size: int
    keep_bytes: bool
    workers: list[_Worker] = field(default_factory=list)

    def _fork(self) -> _Worker:
        ctx = multiprocessing.get_context("fork")
        ours, theirs = ctx.Pipe()
        proc = ctx.Process(
            target=_work, args=(self.screener, theirs, self.keep_bytes), name="assay-screen"
        )
        # Blocked across the fork: a Ctrl-C then reaches this process once the worker ignores it.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            proc.start()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        theirs.close()
        return _Worker(proc, ours)

    def results(self) -> Iterator[tuple[FileResult, bytes | None]]:
        """(result, bytes to store) per path, in input order."""
        isolation._resolve_prctl()  # before any fork: a worker must not dlopen (see isolation)
        n = len(self.paths)
        window = 2 * self.size
        done: dict[int, tuple[FileResult, bytes | None]] = {}
        sent = 0
        self.workers = [self._fork() for _ in range(self.size)]
        for i in range(n):
            while i not in done:
                for w in list(self.workers):
                    if w.index is None and sent < min(n, i + window):
                        try:
                            w.conn.send((sent, str(self.paths[sent])))
                        except OSError:  # it died idle: the file goes to its successor
                            self._replace(w)
                            continue
                        w.index, sent = sent, sent + 1
                busy = [w for w in self.workers if w.index is not None]
                if not busy:  # every send failed: hand the files to the new workers
                    continue
                ready = set(wait([w.conn for w in busy] + [w.proc.sentinel for w in busy]))
                for w in busy:
                    if w.conn in ready or w.proc.sentinel in ready:
                        self._collect(w, done, more=sent < n)
            yield done.pop(i)

    def _collect(
        self, w: _Worker, done: dict[int, tuple[FileResult, bytes | None]], more: bool
    ) -> None:
        """Take a worker's answer, or make its file a crash result and replace the worker."""
        index = w.index
        assert index is not None
        answer: Any = None
        try:
            if w.conn.poll():
                answer = w.conn.recv()
        except Exception:  # EOF, or a torn message from a worker killed mid-send
            answer = None
        if answer is not None:
            _, fr, extra = answer
            w.index = None
            if fr is not None:
                done[index] = (fr, extra if isinstance(extra, bytes) else None)
            else:
                done[index] = (self._failed(index, f"it failed ({extra})"), None)
            if not w.proc.is_alive():  # it answered, then died
                self._replace(w)
            return
        if w.proc.is_alive():
            return  # woken by a partial message: the rest follows
        w.proc.join()
        code = w.proc.exitcode or 0
        how = f"it was ended by {_signal_name(-code)}" if code < 0 else f"it exited {code}"
        log.warning("screening worker died on %s (%s)", self.paths[index], how)
        done[index] = (self._failed(index, how), None)
        if more:
            self._replace(w)
        else:
            w.conn.close()
            self.workers.remove(w)

    def _replace(self, w: _Worker) -> None:
        w.proc.join(1)
        w.conn.close()
        self.workers[self.workers.index(w)] = self._fork()

    def _failed(self, index: int, how: str) -> FileResult:
        message = (
            "This file could not be screened: the process screening it stopped "
            f"({how}). Please screen it again."
        )
        return FileResult(
            str(self.paths[index]),
            "",
            ScreeningResult(
                None,
                (file_finding("unreadable-file", message),),
                readable=False,
                reference_versions=self.screener.reference_versions(),
                as_of=self.screener.screening_date(),
            ),
        )

    def close(self) -> None:
        """Stop the workers: idle ones are told to, busy ones (an interrupted run) are killed."""
        for w in self.workers:
            if w.index is None:
                try:
                    w.conn.send(None)
                except OSError:
                    w.proc.kill()
            else:
                w.proc.kill()
        for w in self.workers:
            w.proc.join(5)
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join()
            w.conn.close()
        self.workers = []


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
