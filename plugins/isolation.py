"""Running a parser of untrusted bytes in a forked child with hard limits.

The spreadsheet engine is native code: a crafted file can make it abort (an allocation of
hundreds of GB), panic (a date far outside the calendar), or spin. None of that may take
the caller down, so untrusted bytes are parsed in a forked child that has, before it
touches them:

- ``RLIMIT_AS``: at most ``memory_bytes`` of address space beyond what it inherited (a
  forked child shares its parent's mappings; a fixed cap would fail a large parent);
- ``RLIMIT_CPU``: ``cpu_seconds`` of CPU (SIGXCPU, then SIGKILL);
- a wall-clock deadline enforced by the parent (SIGKILL), with ``alarm()`` as a backstop
  should the parent itself die; no core dumps; default signal handlers.

The child sends its answer back as JSON through a pipe (never a pickle, which a subverted
child could turn into code run by the parent; bytes it returns as :class:`WithBytes` follow
the JSON line as they are), then ``_exit``s without running the parent's
cleanup. Whatever else happens to it becomes a :class:`ChildFailed`, and the caller goes on.

This module knows nothing of whose file it is: :mod:`plugins.sandbox` turns a failure into
the supplier's :class:`~plugins.workbook.FileProblem`, the reference-list reader
(:mod:`storage.listbooks`) into an operator's ``RefDataError``.

Why fork: the child starts in a few milliseconds with the plugins already loaded. The
parent may have threads (``assay serve``); the child only runs pure Python and the engine,
which the parent never calls itself, plus logging and imports, whose locks CPython resets
after a fork; it loads no shared library (``prctl`` is looked up in the parent first), since
the dynamic loader's lock is not reset. Only the forking thread exists in the child.
"""

from __future__ import annotations

import contextlib
import faulthandler
import gc
import json
import logging
import os
import resource
import select
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, cast

log = logging.getLogger(__name__)
_FORK_LOCK = threading.Lock()

T = TypeVar("T")

#: :attr:`ChildFailed.reason`: a limit was reached (memory, CPU, wall time, nesting).
TOO_COMPLEX = "too-complex"
#: :attr:`ChildFailed.reason`: the function raised (``detail``: ``"Type: message"``).
RAISED = "raised"
#: :attr:`ChildFailed.reason`: the child died by a signal or exited without an answer.
CRASHED = "crashed"

_PR_SET_PDEATHSIG = 1


class Bounds(Protocol):
    """The limits of one child (``plugins.workbook.Limits`` is one)."""

    @property
    def memory_bytes(self) -> int: ...

    @property
    def cpu_seconds(self) -> int: ...

    @property
    def wall_seconds(self) -> float: ...


@dataclass(frozen=True)
class ChildLimits:
    """Plain :class:`Bounds` for callers without a limits type of their own."""

    memory_bytes: int = 512 * 1024 * 1024
    cpu_seconds: int = 20
    wall_seconds: float = 30.0


@dataclass(frozen=True)
class ChildReport:
    """How the last isolated read ended (for logs and benchmarks)."""

    outcome: str  # ok, problem, killed-time, killed-cpu, crashed, no-answer
    seconds: float
    max_rss_kb: int
    detail: str = ""


last_report: ChildReport | None = None


@dataclass(frozen=True)
class WithBytes:
    """A child's answer that carries bytes beside its JSON values (a package, a sheet): the
    bytes travel as they are after the JSON, not as a JSON string (3 MB of base64 cost more
    to encode and decode than the work they carry)."""

    value: object
    blob: bytes


class ChildFailed(Exception):
    """The child gave no answer of its own: ``reason`` is :data:`TOO_COMPLEX`,
    :data:`RAISED` or :data:`CRASHED`; ``detail`` says how (``"SIGABRT"``, ``"memory limit"``)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def _address_space() -> int:
    """Bytes of address space this process holds now (Linux: /proc/self/statm)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            pages = int(f.read().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


_prctl: list[Callable[..., int] | None] = []


def _resolve_prctl() -> None:
    """Look ``prctl`` up in the parent, once, before the first fork: a ``dlopen`` in the child
    (``import ctypes``, ``CDLL``) would wait forever on the loader's lock if another thread of
    the parent held it at the fork (a listener thread importing a module)."""
    if _prctl:
        return
    try:
        import ctypes

        _prctl.append(ctypes.CDLL(None).prctl)
    except (OSError, AttributeError):
        _prctl.append(None)


def _die_with_parent() -> None:
    prctl = _prctl[0] if _prctl else None
    if prctl is not None:
        with contextlib.suppress(OSError):
            prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _child(fn: Callable[[bytes], object], data: bytes, limits: Bounds, out_fd: int) -> None:
    """Runs in the forked child; never returns."""
    code = 0
    try:
        _die_with_parent()
        os.environ["RUST_BACKTRACE"] = "0"  # a panic is one line on stderr, not 80
        faulthandler.disable()  # a crash here is expected and reported; no stack dump
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM):
            signal.signal(sig, signal.SIG_DFL)
        signal.alarm(int(limits.wall_seconds) + 5)  # the parent kills us first; this if it died
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        cpu = max(1, int(limits.cpu_seconds))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        if limits.memory_bytes > 0:
            cap = _address_space() + limits.memory_bytes
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        blob = b""
        try:
            result = fn(data)
            answer: tuple[object, ...] = ("ok", result)
            if isinstance(result, WithBytes):
                answer, blob = ("ok-bytes", result.value, len(result.blob)), result.blob
        except MemoryError:
            answer = ("failed", TOO_COMPLEX, "memory limit")
        except RecursionError:
            answer = ("failed", TOO_COMPLEX, "nesting too deep")
        except BaseException as exc:  # the engine's PanicException is a BaseException
            answer = ("failed", RAISED, f"{type(exc).__name__}: {exc}"[:300])
        try:
            payload = json.dumps(answer, ensure_ascii=False).encode("utf-8", "surrogatepass")
        except MemoryError:
            payload = json.dumps(["failed", TOO_COMPLEX, "memory limit"]).encode()
        except (TypeError, ValueError) as exc:  # fn returned something JSON cannot carry: our bug
            payload = json.dumps(["failed", CRASHED, repr(exc)[:300]]).encode()
        # One line of JSON (json.dumps writes no raw newline), then the bytes, if any.
        for part in (payload, b"\n", blob) if blob else (payload,):
            view = memoryview(part)
            while view:
                view = view[os.write(out_fd, view) :]
    except BaseException:
        code = 70
    finally:
        os._exit(code)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def run_in_child(fn: Callable[[bytes], T], data: bytes, limits: Bounds) -> T:
    """``fn(data)`` in a sandboxed child; its result, or :class:`ChildFailed`.

    ``fn`` must return plain JSON values; a caller with errors of its own returns them as
    values and tells them apart itself. Never raises anything else for what the bytes do:
    :data:`TOO_COMPLEX` for the memory, CPU and wall-time limits, :data:`RAISED` when ``fn``
    raised, :data:`CRASHED` for a crash or an exit without an answer.
    """
    return start_in_child(fn, data, limits).result()


def start_in_child(
    fn: Callable[[bytes], T], data: bytes, limits: Bounds, *, with_bytes: bool = False
) -> Pending[T]:
    """:func:`run_in_child` without waiting: the child starts now and works while this
    process goes on; :meth:`Pending.result` waits for its answer (its wall-time limit counts
    from now). Every child started is reaped: by ``result()``, else by ``cancel()``."""
    _resolve_prctl()
    read_fd, write_fd = os.pipe()
    start = time.monotonic()
    # The child inherits this process's objects: frozen, its garbage collector never walks
    # (and so never copies) their pages; it only collects what the read itself creates.
    # (One thread at a time: another thread's unfreeze must not land between freeze and fork.)
    with _FORK_LOCK:
        gc.freeze()
        pid = -1
        try:
            pid = os.fork()
        finally:
            if pid != 0:
                gc.unfreeze()
    if pid == 0:  # pragma: no cover - the child; coverage cannot follow it
        os.close(read_fd)
        _child(fn, data, limits, write_fd)
    os.close(write_fd)
    return Pending(
        pid,
        read_fd,
        start,
        start + limits.wall_seconds,
        max(limits.memory_bytes, 1 << 26),
        with_bytes,
    )


class Pending(Generic[T]):
    """A child at work (:func:`start_in_child`): :meth:`result` waits for its answer."""

    def __init__(
        self,
        pid: int,
        read_fd: int,
        start: float,
        deadline: float,
        max_answer: int,
        with_bytes: bool = False,
    ) -> None:
        self._with_bytes = with_bytes  # whether a WithBytes answer is expected
        self._pid = pid
        self._fd = read_fd
        self._start = start
        self._deadline = deadline
        self._max_answer = max_answer  # bytes: a longer answer is cut off, the child killed
        self._outcome: tuple[bool, Any] | None = None  # (ok, result or ChildFailed)
        self._reaped = False
        #: (CPU seconds, wall seconds) the child took, once reaped: what a read after it has left.
        self.spent = (0.0, 0.0)

    def result(self) -> T:
        """The child's result, or :class:`ChildFailed` (the same answer on every call)."""
        if self._outcome is None:
            try:
                self._outcome = (True, self._collect())
            except ChildFailed as failed:
                self._outcome = (False, failed)
            except BaseException:  # a Ctrl-C while waiting: the child is killed and reaped
                self._outcome = (False, ChildFailed(CRASHED, "interrupted"))
                raise
        ok, value = self._outcome
        if not ok:
            raise value
        return cast(T, value)

    def cancel(self) -> None:
        """Stop the child if it is still at work, and reap it (no answer is then kept)."""
        if self._outcome is None and not self._reaped:
            self._outcome = (False, ChildFailed(CRASHED, "cancelled"))
            self._reaped = True
            os.close(self._fd)
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)

    def _collect(self) -> Any:
        global last_report
        pid, read_fd, start = self._pid, self._fd, self._start
        chunks: list[bytes] = []
        timed_out = finished = too_long = False
        size = 0
        poller = select.poll()  # not select(): a long-running service may hold fds above 1024
        poller.register(read_fd, select.POLLIN | select.POLLHUP)
        try:
            while True:
                left = self._deadline - time.monotonic()
                if left <= 0:
                    timed_out = True
                    break
                if not poller.poll(max(1, int(left * 1000))):
                    continue
                chunk = os.read(read_fd, 1 << 20)
                if not chunk:
                    break
                size += len(chunk)
                if size > self._max_answer:  # only a subverted child says this much
                    too_long = True
                    break
                chunks.append(chunk)
            finished = True
        finally:
            os.close(read_fd)
            if timed_out or too_long or not finished:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            self._reaped = True
        seconds = time.monotonic() - start
        rss = int(usage.ru_maxrss)
        self.spent = (usage.ru_utime + usage.ru_stime, seconds)
        if too_long:
            last_report = ChildReport("crashed", seconds, rss, "answer too long")
            raise ChildFailed(CRASHED, "an answer longer than the child's memory limit")
        if timed_out:
            last_report = ChildReport("killed-time", seconds, rss)
            log.warning("isolated read killed after %.1f s (wall-time limit)", seconds)
            raise ChildFailed(TOO_COMPLEX, "wall-time limit")
        answer: Any = None
        blob = b""
        if chunks:
            head, _, blob = b"".join(chunks).partition(b"\n")
            try:
                answer = json.loads(head.decode("utf-8", "surrogatepass"))
            except (ValueError, UnicodeDecodeError):  # a child killed mid-write leaves torn JSON
                answer = None
            if not isinstance(answer, list) or not answer:
                answer = None
        if answer and answer[0] == "ok" and len(answer) == 2 and not blob:
            last_report = ChildReport("ok", seconds, rss)
            return answer[1]
        if (
            self._with_bytes
            and answer
            and answer[0] == "ok-bytes"
            and len(answer) == 3
            and type(answer[2]) is int
            and answer[2] == len(blob)
        ):
            last_report = ChildReport("ok", seconds, rss)
            return WithBytes(answer[1], blob)
        if answer and answer[0] == "failed" and len(answer) == 3:
            reason, detail = (str(x)[:2000] for x in answer[1:])
            last_report = ChildReport("problem", seconds, rss, detail)
            raise ChildFailed(reason, detail)
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            name = _signal_name(sig)
            # SIGXCPU/SIGKILL: the CPU limit (or the kernel's OOM killer); SIGABRT: the engine
            # aborted, in practice on an allocation the memory limit refused.
            if sig in (signal.SIGXCPU, signal.SIGKILL, signal.SIGABRT, signal.SIGALRM):
                last_report = ChildReport(
                    "killed-cpu" if sig == signal.SIGXCPU else "crashed", seconds, rss, name
                )
                log.warning("isolated read ended by %s after %.1f s", name, seconds)
                raise ChildFailed(TOO_COMPLEX, name)
            last_report = ChildReport("crashed", seconds, rss, name)
            log.warning("isolated read crashed with %s", name)
            raise ChildFailed(CRASHED, name)
        exit_status = os.WEXITSTATUS(status)
        last_report = ChildReport("no-answer", seconds, rss, f"exit {exit_status}")
        log.warning("isolated reader exited %s without an answer", exit_status)
        raise ChildFailed(CRASHED, f"exit status {exit_status}")
