"""The sandbox: however the child ends, the parent gets an answer and goes on."""

from __future__ import annotations

import ctypes
import os
import signal
import time
from dataclasses import replace
from pathlib import Path

import pytest

from plugins import isolation, sandbox
from plugins.bounds import scan_sheet_xml
from plugins.limits import FileProblem, Limits

SMALL = replace(Limits(), memory_bytes=64 * 1024 * 1024, cpu_seconds=2, wall_seconds=5.0)


class FakePanic(BaseException):
    """What the engine raises on a panic (pyo3's PanicException derives from BaseException)."""


def _problem(fn, limits: Limits = SMALL) -> FileProblem:  # type: ignore[no-untyped-def]
    with pytest.raises(FileProblem) as info:
        sandbox.run_isolated(fn, b"data", limits)
    return info.value


def test_a_result_comes_back() -> None:
    assert sandbox.run_isolated(
        lambda d: {"len": len(d), "head": d[:2].decode()}, b"abcdef", SMALL
    ) == {"len": 6, "head": "ab"}
    assert sandbox.last_report is not None and sandbox.last_report.outcome == "ok"


def test_a_file_problem_crosses_as_it_was() -> None:
    def fn(_d: bytes) -> None:
        raise FileProblem("not-a-template", "Not a template.", "detail")

    p = _problem(fn)
    assert (p.code, p.message, p.detail) == ("not-a-template", "Not a template.", "detail")


def test_an_abort_is_a_finding_not_a_dead_parent() -> None:
    p = _problem(lambda _d: os.abort())
    assert p.code == "file-too-complex" and p.detail == "SIGABRT"


def test_a_segfault_is_unreadable() -> None:
    p = _problem(lambda _d: ctypes.string_at(0))
    assert p.code == "unreadable-file" and p.detail == "SIGSEGV"


def test_a_panic_is_unreadable() -> None:
    def fn(_d: bytes) -> None:
        raise FakePanic("index out of bounds")

    p = _problem(fn)
    assert p.code == "unreadable-file" and "FakePanic" in p.detail


def test_memory_beyond_the_limit_is_too_complex() -> None:
    p = _problem(lambda _d: bytearray(256 * 1024 * 1024))
    assert p.code == "file-too-complex" and p.detail == "memory limit"


@pytest.mark.slow
def test_cpu_beyond_the_limit_is_too_complex() -> None:
    def spin(_d: bytes) -> None:
        while True:
            pass

    start = time.monotonic()
    p = _problem(spin, replace(SMALL, cpu_seconds=1, wall_seconds=30.0))
    assert p.code == "file-too-complex" and p.detail in ("SIGXCPU", "SIGKILL")
    assert time.monotonic() - start < 10


@pytest.mark.slow
def test_wall_time_beyond_the_limit_is_killed() -> None:
    start = time.monotonic()
    p = _problem(lambda _d: time.sleep(60), replace(SMALL, wall_seconds=1.0))
    assert p.code == "file-too-complex" and p.detail == "wall-time limit"
    assert time.monotonic() - start < 5


def test_an_exit_without_an_answer_is_unreadable() -> None:
    p = _problem(lambda _d: os._exit(3))
    assert p.code == "unreadable-file" and p.detail == "exit status 3"


def test_only_json_crosses_back() -> None:
    """Never a pickle: a child subverted by a file must not be able to run code in the parent."""
    p = _problem(lambda _d: object())
    assert p.code == "unreadable-file" and "TypeError" in p.detail


def _zombies() -> set[int]:
    """Children of this process that exited and were never waited for."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] == "Z":
            out.add(int(stat.parent.name))
    return out


def test_children_are_reaped() -> None:
    before = _zombies()
    for _ in range(3):
        sandbox.run_isolated(len, b"x", SMALL)
    with pytest.raises(FileProblem):
        sandbox.run_isolated(lambda _d: os._exit(1), b"x", SMALL)
    assert _zombies() <= before


def test_the_child_has_default_signal_handlers() -> None:
    signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        handler = sandbox.run_isolated(
            lambda _d: signal.getsignal(signal.SIGTERM) == signal.SIG_DFL, b"", SMALL
        )
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    assert handler is True


# -- the bounds check before the engine ---------------------------------------------------

_HEAD = b'<worksheet><dimension ref="A1:C3"/><sheetData>'
_TAIL = b"</sheetData></worksheet>"


def _sheet(*rows: bytes) -> bytes:
    return _HEAD + b"".join(rows) + _TAIL


@pytest.mark.parametrize(
    "ref",
    [b"XFD5", b"AAA1", b"ZZZZZZZ2506", b"A10485770", b"A0"],
)
def test_out_of_bounds_references_are_too_complex(ref: bytes) -> None:
    xml = _sheet(
        b'<row r="1"><c r="A1"><v>1</v></c></row>', b'<row r="2"><c r="' + ref + b'"/></row>'
    )
    if ref == b"A0":  # a row of 0 is only caught once its digits reach the checked width
        xml = xml.replace(b'r="A0"', b'r="A0000000"')
    with pytest.raises(FileProblem) as info:
        scan_sheet_xml(xml, "S", 100_000)
    assert info.value.code == "file-too-complex"


def test_rows_beyond_the_limit_are_cut_at_the_first_such_row() -> None:
    xml = _sheet(
        b'<row r="1"><c r="A1"><v>1</v></c></row>',
        b'<row r="99999"><c r="A99999"><v>2</v></c></row>',
        b'<row r="100001"><c r="A100001"><v>3</v></c></row>',
        b'<row r="1048576"><c r="B1048576"><v>4</v></c></row>',
    )
    kept, cut = scan_sheet_xml(xml, "Smelter List", 100_000)
    assert cut is not None and (cut.sheet, cut.last_row_read, cut.last_row) == (
        "Smelter List",
        99_999,
        1_048_576,
    )
    assert b"A99999" in kept and b"A100001" not in kept and kept.endswith(_TAIL)


def test_a_sheet_within_bounds_is_untouched() -> None:
    xml = _sheet(b'<row r="2504"><c r="AR2504"><v>1</v></c></row>')
    kept, cut = scan_sheet_xml(xml, "S", 100_000)
    assert kept is xml and cut is None


def test_the_child_loads_no_library_for_its_parent_death_signal() -> None:
    """``prctl`` is looked up in the parent before the fork: a child that had to ``dlopen``
    could hang on a loader lock another thread of the parent held at the fork."""
    from plugins import isolation

    def child_view(_data: bytes) -> dict[str, object]:
        return {"resolved": bool(isolation._prctl and isolation._prctl[0])}

    assert sandbox.run_isolated(child_view, b"x", SMALL) == {"resolved": True}


# -- answers a subverted child could send, and a wait that is interrupted -----------------------


@pytest.mark.parametrize(
    "reply",
    [5, [], ["ok"], ["ok", 1, 2], ["what", 1], isolation.WithBytes(["ok", 1], b"bytes")],
    ids=["number", "empty", "short", "long", "unknown", "with-bytes"],
)
def test_an_answer_of_another_shape_is_unreadable(
    reply: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox, "_answer", lambda fn, d: reply)  # what the child then sends
    problem = _problem(lambda d: None)
    assert problem.code == "unreadable-file"


def test_bytes_after_the_answer_are_refused_unless_asked_for() -> None:
    with pytest.raises(isolation.ChildFailed) as failed:
        isolation.run_in_child(lambda d: isolation.WithBytes(1, b"xyz"), b"", SMALL)
    assert failed.value.reason == isolation.CRASHED
    pending = isolation.start_in_child(
        lambda d: isolation.WithBytes([1], b"x\ny"), b"", SMALL, with_bytes=True
    )
    assert pending.result() == isolation.WithBytes([1], b"x\ny")


def test_an_answer_longer_than_its_bound_is_cut_off() -> None:
    """The bound is the child's memory limit (64 MB at least); shown here on a small one."""
    pending = isolation.start_in_child(lambda d: "x" * 100_000, b"", SMALL)
    assert pending._max_answer == SMALL.memory_bytes
    pending._max_answer = 50_000
    with pytest.raises(isolation.ChildFailed) as failed:
        pending.result()
    assert failed.value.reason == isolation.CRASHED and "longer" in failed.value.detail


def test_cancel_after_an_interrupted_wait_touches_nothing_of_ours() -> None:
    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    pending = isolation.start_in_child(lambda d: time.sleep(30), b"", SMALL)
    old = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            pending.result()
        assert time.monotonic() - started < 5, "the child was killed, not waited for"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    ours = os.pipe()  # most likely the descriptor numbers the child's pipe had
    try:
        pending.cancel()  # already reaped: closes and kills nothing
        os.fstat(ours[0])
        os.fstat(ours[1])
    finally:
        os.close(ours[0])
        os.close(ours[1])
    with pytest.raises(isolation.ChildFailed):
        pending.result()
