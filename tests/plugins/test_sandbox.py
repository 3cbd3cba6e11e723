"""The sandbox: however the child ends, the parent gets an answer and goes on."""

from __future__ import annotations

import ctypes
import os
import signal
import time
from dataclasses import replace
from pathlib import Path

import pytest

from plugins import sandbox
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
