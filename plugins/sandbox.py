"""Reading an untrusted workbook in a child process with hard limits.

The spreadsheet engine is native code: a crafted file can make it abort (an allocation of
hundreds of GB), panic (a date far outside the calendar), or spin. None of that may take
the caller down, so every untrusted workbook is opened and read in a forked child that
has, before it touches the bytes:

- ``RLIMIT_AS``: at most ``Limits.memory_bytes`` of address space beyond what it inherited
  (a forked child shares its parent's mappings; a fixed cap would fail a large parent);
- ``RLIMIT_CPU``: ``Limits.cpu_seconds`` of CPU (SIGXCPU, then SIGKILL);
- a wall-clock deadline enforced by the parent (SIGKILL), with ``alarm()`` as a backstop
  should the parent itself die; no core dumps; default signal handlers.

The child sends back the parsed :class:`~plugins.models.Declaration` as JSON (its
``to_dict``, the form the store keeps; never a pickle, which a subverted child could turn into
code run by the parent), or the :class:`~plugins.workbook.FileProblem` it raised, through a pipe, then ``_exit``s without
running the parent's cleanup. Whatever else happens to it (a signal, an abort, a panic,
an exit without an answer) becomes a ``FileProblem`` with a sentence for the sender, and
the caller goes on.

Why fork: the child starts in a few milliseconds with the plugins already loaded. The
parent may have threads (``assay serve``); the child only runs pure Python and the engine,
which the parent never calls itself, plus logging and imports, whose locks CPython resets
after a fork. Only the forking thread exists in the child.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import logging
import os
import resource
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .limits import TOO_COMPLEX, TOO_COMPLEX_MESSAGE, FileProblem, Limits

log = logging.getLogger(__name__)

T = TypeVar("T")

CRASH_MESSAGE = (
    "This workbook could not be read: opening it made the spreadsheet engine fail (the file "
    "holds values or structures no spreadsheet program writes). Please save the template "
    "again from Excel, or copy your answers into a fresh copy of the current template, and "
    "send that file."
)
DATE_MESSAGE = (
    "This workbook could not be read: a cell formatted as a date holds a number no calendar "
    "can show (such as -1E+300). Please check the dates you entered (the effective date on "
    "the Declaration sheet especially), save the file again from Excel and send it."
)
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ChildReport:
    """How the last isolated read ended (for logs and benchmarks)."""

    outcome: str  # ok, problem, killed-time, killed-cpu, crashed, no-answer
    seconds: float
    max_rss_kb: int
    detail: str = ""


last_report: ChildReport | None = None


def _address_space() -> int:
    """Bytes of address space this process holds now (Linux: /proc/self/statm)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            pages = int(f.read().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _die_with_parent() -> None:
    try:
        import ctypes  # only in the child, where it costs nothing to the caller

        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _child(fn: Callable[[bytes], object], data: bytes, limits: Limits, out_fd: int) -> None:
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
        try:
            answer: tuple[object, ...] = ("ok", fn(data))
        except FileProblem as problem:
            answer = ("problem", problem.code, problem.message, problem.detail)
        except MemoryError:
            answer = ("problem", TOO_COMPLEX, TOO_COMPLEX_MESSAGE, "memory limit")
        except RecursionError:
            answer = ("problem", TOO_COMPLEX, TOO_COMPLEX_MESSAGE, "nesting too deep")
        except BaseException as exc:  # the engine's PanicException is a BaseException
            text = f"{type(exc).__name__}: {exc}"
            if "Time" in text or "date" in text.lower():
                answer = ("problem", "unreadable-file", DATE_MESSAGE, text[:300])
            else:
                answer = ("problem", "unreadable-file", CRASH_MESSAGE, text[:300])
        try:
            payload = json.dumps(answer, ensure_ascii=False).encode("utf-8", "surrogatepass")
        except MemoryError:
            payload = json.dumps(
                ["problem", TOO_COMPLEX, TOO_COMPLEX_MESSAGE, "memory limit"]
            ).encode()
        except (TypeError, ValueError) as exc:  # fn returned something JSON cannot carry: our bug
            payload = json.dumps(
                ["problem", "unreadable-file", CRASH_MESSAGE, repr(exc)[:300]]
            ).encode()
        view = memoryview(payload)
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


def run_isolated(fn: Callable[[bytes], T], data: bytes, limits: Limits) -> T:
    """``fn(data)`` in a sandboxed child; its result, or a :class:`FileProblem`.

    ``fn`` must return plain JSON values (what crosses back is JSON, never a pickle: a child
    that the file managed to subvert could otherwise run code in the parent) and raise
    ``FileProblem`` for the sender's problems. Any way the child ends without an answer raises ``FileProblem`` too:
    ``file-too-complex`` for the memory, CPU and wall-time limits, ``unreadable-file`` for a
    crash. Never raises anything else for what the file does.
    """
    global last_report
    read_fd, write_fd = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; coverage cannot follow it
        os.close(read_fd)
        _child(fn, data, limits, write_fd)
    os.close(write_fd)
    chunks: list[bytes] = []
    timed_out = False
    deadline = start + limits.wall_seconds
    poller = select.poll()  # not select(): a long-running service may hold fds above 1024
    poller.register(read_fd, select.POLLIN | select.POLLHUP)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            if not poller.poll(max(1, int(left * 1000))):
                continue
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        if timed_out:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status, usage = os.wait4(pid, 0)
    seconds = time.monotonic() - start
    rss = int(usage.ru_maxrss)
    if timed_out:
        last_report = ChildReport("killed-time", seconds, rss)
        log.warning("workbook read killed after %.1f s (wall-time limit)", seconds)
        raise FileProblem(TOO_COMPLEX, TOO_COMPLEX_MESSAGE, "wall-time limit")
    answer: Any = None
    if chunks:
        try:
            answer = json.loads(b"".join(chunks).decode("utf-8", "surrogatepass"))
        except (ValueError, UnicodeDecodeError):  # a child killed mid-write leaves torn JSON
            answer = None
        if not isinstance(answer, list) or not answer:
            answer = None
    if answer and answer[0] == "ok" and len(answer) == 2:
        last_report = ChildReport("ok", seconds, rss)
        result: T = answer[1]
        return result
    if answer and answer[0] == "problem" and len(answer) == 4:
        code, message, detail = (str(x)[:2000] for x in answer[1:])
        last_report = ChildReport("problem", seconds, rss, str(detail))
        raise FileProblem(str(code), str(message), str(detail))
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = _signal_name(sig)
        # SIGXCPU/SIGKILL: the CPU limit (or the kernel's OOM killer); SIGABRT: the engine
        # aborted, in practice on an allocation the memory limit refused.
        if sig in (signal.SIGXCPU, signal.SIGKILL, signal.SIGABRT, signal.SIGALRM):
            last_report = ChildReport(
                "killed-cpu" if sig == signal.SIGXCPU else "crashed", seconds, rss, name
            )
            log.warning("workbook read ended by %s after %.1f s", name, seconds)
            raise FileProblem(TOO_COMPLEX, TOO_COMPLEX_MESSAGE, name)
        last_report = ChildReport("crashed", seconds, rss, name)
        log.warning("workbook read crashed with %s", name)
        raise FileProblem("unreadable-file", CRASH_MESSAGE, name)
    last_report = ChildReport("no-answer", seconds, rss, f"exit {os.WEXITSTATUS(status)}")
    log.warning("workbook reader exited %s without an answer", os.WEXITSTATUS(status))
    raise FileProblem("unreadable-file", CRASH_MESSAGE, f"exit status {os.WEXITSTATUS(status)}")
