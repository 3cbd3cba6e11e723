"""Reading a supplier's workbook in a child process with hard limits.

Every untrusted workbook is opened and read in a forked child with memory, CPU and
wall-time limits (:mod:`plugins.isolation`). The child sends back the parsed
:class:`~plugins.models.Declaration` as JSON (its ``to_dict``, the form the store keeps),
or the :class:`~plugins.workbook.FileProblem` it raised. Whatever else happens to it (a
signal, an abort, a panic, an exit without an answer) becomes a ``FileProblem`` with a
sentence for the sender, and the caller goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Generic, TypeVar

from . import isolation
from .isolation import ChildFailed, ChildReport
from .limits import TOO_COMPLEX, TOO_COMPLEX_MESSAGE, FileProblem, Limits

__all__ = [
    "CRASH_MESSAGE",
    "DATE_MESSAGE",
    "ChildReport",
    "Isolated",
    "last_report",
    "run_isolated",
    "start_isolated",
]

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

#: How the last isolated read ended (for logs, tests and benchmarks).
last_report: ChildReport | None = None


def _answer(fn: Callable[[bytes], object], data: bytes) -> list[Any]:
    """Runs in the child: the result, or the sender's problem as a value."""
    try:
        return ["ok", fn(data)]
    except FileProblem as problem:
        return ["problem", problem.code, problem.message, problem.detail]


def _problem(failed: ChildFailed) -> FileProblem:
    if failed.reason == isolation.TOO_COMPLEX:
        return FileProblem(TOO_COMPLEX, TOO_COMPLEX_MESSAGE, failed.detail)
    if failed.reason == isolation.RAISED and (
        "Time" in failed.detail or "date" in failed.detail.lower()
    ):
        return FileProblem("unreadable-file", DATE_MESSAGE, failed.detail)
    return FileProblem("unreadable-file", CRASH_MESSAGE, failed.detail)


def run_isolated(fn: Callable[[bytes], T], data: bytes, limits: Limits) -> T:
    """``fn(data)`` in a sandboxed child; its result, or a :class:`FileProblem`.

    ``fn`` must return plain JSON values and raise ``FileProblem`` for the sender's problems.
    Any way the child ends without an answer raises ``FileProblem`` too: ``file-too-complex``
    for the memory, CPU and wall-time limits, ``unreadable-file`` for a crash. Never raises
    anything else for what the file does.
    """
    return start_isolated(fn, data, limits).result()


def start_isolated(fn: Callable[[bytes], T], data: bytes, limits: Limits) -> Isolated[T]:
    """:func:`run_isolated` without waiting: the child reads while this process goes on."""
    return Isolated(isolation.start_in_child(lambda d: _answer(fn, d), data, limits))


class Isolated(Generic[T]):
    """A sandboxed read at work (:func:`start_isolated`)."""

    def __init__(self, pending: isolation.Pending[list[Any]]) -> None:
        self._pending = pending

    def result(self) -> T:
        """The read's result, or a :class:`FileProblem` (see :func:`run_isolated`)."""
        global last_report
        try:
            answer = self._pending.result()
        except ChildFailed as failed:
            raise _problem(failed) from None
        finally:
            last_report = isolation.last_report
        if not isinstance(answer, list) or not answer or answer[0] not in ("ok", "problem"):
            # Only a subverted child answers otherwise (_answer always sends one of these).
            raise FileProblem("unreadable-file", CRASH_MESSAGE, f"answer of shape {type(answer)}")
        if answer[0] == "problem" and len(answer) == 4:
            code, message, detail = (str(x)[:2000] for x in answer[1:])
            if last_report is not None:
                last_report = replace(last_report, outcome="problem", detail=detail)
            raise FileProblem(code, message, detail)
        if answer[0] != "ok" or len(answer) != 2:
            raise FileProblem("unreadable-file", CRASH_MESSAGE, "answer of the wrong length")
        result: T = answer[1]
        return result

    def cancel(self) -> None:
        self._pending.cancel()
