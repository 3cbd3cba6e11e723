"""Screening many files in forked workers (assay.pool): the same answers as one by one, in
input order, stored the same way; a dead worker costs one file; memory and workers bounded."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from assay.app import FileResult, screen_file
from assay.pool import pool_size, screen_files
from assay.rescreen import rescreen
from plugins.manager import get_plugin_manager
from plugins.pipeline import Screener
from plugins.reference import ReferenceData
from storage.store import Store

from ..builders import AS_OF
from ..hostile import encrypt, entity_expansion, random_bytes, zip_bomb

pytestmark = pytest.mark.slow

KILL = b"PK\x03\x04kill-the-worker"  # a file the test screener answers by killing its process


class Killing(Screener):
    """A screener whose worker dies (SIGKILL, as the OOM killer would) on one file's bytes,
    and which leaves a mark for every file it starts on when ``marks`` is set."""

    marks: Path | None = None

    def screen_bytes(self, data: bytes, sniffed: Any = None) -> Any:
        if self.marks is not None:
            (self.marks / f"{os.getpid()}-{len(list(self.marks.iterdir()))}").touch()
        if data.startswith(KILL):
            os.kill(os.getpid(), signal.SIGKILL)
        return super().screen_bytes(data, sniffed)


@pytest.fixture
def killing(conformant: ReferenceData) -> Killing:
    return Killing(get_plugin_manager(), conformant, as_of=AS_OF)


@pytest.fixture
def mixed(tmp_path: Path, filled: dict[str, Path]) -> list[Path]:
    """Good files of every family between corrupt and hostile ones, and a missing path."""
    cmrt = filled["CMRT-6.5"].read_bytes()
    bad = {
        "bomb.xlsx": zip_bomb(40),
        "not-a-zip.xlsx": random_bytes(50_000),
        "encrypted.xlsx": encrypt(cmrt, "not the default password"),
        "laughs.xlsx": entity_expansion(),
        "truncated.xlsx": cmrt[: len(cmrt) // 2],
    }
    out: list[Path] = []
    good = list(filled.values())
    for i, (name, data) in enumerate(bad.items()):
        (tmp_path / name).write_bytes(data)
        out += [good[i % len(good)], tmp_path / name]
    out += [*good[len(bad) :], tmp_path / "missing.xlsx", good[0]]
    return out


def test_pool_size() -> None:
    assert pool_size(None, 1) == 1
    assert pool_size(8, 3) == 3
    assert pool_size(16, 100) == 4
    assert pool_size(2, 100) == 2


def test_same_results_in_input_order_with_hostile_files(
    screener: Screener, mixed: list[Path]
) -> None:
    serial = [screen_file(screener, p, None) for p in mixed]
    done: list[int] = []
    pooled = list(screen_files(screener, mixed, None, jobs=2, on_done=done.append))
    assert [fr.file for fr in pooled] == [str(p) for p in mixed]
    assert pooled == serial
    assert done == [1] * len(mixed)
    readable = [fr.result.readable for fr in pooled]
    assert readable.count(False) == 6 and readable.count(True) == len(mixed) - 6
    codes = {
        fr.file: {f.code for f in fr.result.findings} for fr in pooled if not fr.result.readable
    }
    assert all(codes.values())  # each unreadable file says why
    assert not multiprocessing.active_children()


def test_one_worker_or_one_file_screens_here(screener: Screener, filled: dict[str, Path]) -> None:
    paths = list(filled.values())[:2]
    for jobs, files in ((1, paths), (4, paths[:1])):
        assert list(screen_files(screener, files, None, jobs=jobs)) == [
            screen_file(screener, p, None) for p in files
        ]
    assert list(screen_files(screener, [], None)) == []


def _rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, without the columns that hold the time of the run."""
    con = sqlite3.connect(path)
    out = {}
    tables = [r[0] for r in con.execute("select name from sqlite_master where type = 'table'")]
    for table in tables:
        if table.startswith(("_", "sqlite_")):
            continue
        cols = [r[1] for r in con.execute(f"pragma table_info('{table}')")]
        keep = [c for c in cols if not c.endswith(("_at", "_seen"))]
        names = ", ".join(f'"{c}"' for c in keep)
        out[table] = sorted(map(tuple, con.execute(f"select {names} from '{table}'")), key=repr)
    con.close()
    return out


def test_storing_from_the_pool_writes_what_serial_screening_writes(
    tmp_path: Path, mixed: list[Path]
) -> None:
    stores = {}
    for name in ("serial", "pooled"):
        store = Store(tmp_path / f"{name}.db")
        store.migrate()
        screener = Screener(get_plugin_manager(), store.reference_data(), as_of=AS_OF)
        if name == "serial":
            results = [screen_file(screener, p, store, "batch") for p in mixed]
        else:
            results = list(screen_files(screener, mixed, store, "batch", jobs=2))
        stores[name] = (results, store)
    (serial, a), (pooled, b) = stores["serial"], stores["pooled"]
    assert pooled == serial
    rows = _rows(a.path)
    assert rows["submissions"] and rows == _rows(b.path)
    # The same order of arrival: the first submission of each is the first file given.
    first = a.db.execute("select sha256 from submissions order by rowid limit 1").fetchone()
    assert first == b.db.execute("select sha256 from submissions order by rowid limit 1").fetchone()
    assert first[0] == serial[0].sha256


def test_a_killed_worker_costs_its_file_only(
    tmp_path: Path, killing: Killing, filled: dict[str, Path]
) -> None:
    doomed = tmp_path / "doomed.xlsx"
    doomed.write_bytes(KILL)
    good = list(filled.values())
    paths = [good[0], doomed, good[1], good[2], doomed, good[3], good[4]]
    done: list[int] = []
    results = list(screen_files(killing, paths, None, jobs=2, on_done=done.append))
    assert [fr.file for fr in results] == [str(p) for p in paths]
    assert done == [1] * len(paths)
    for fr in (results[1], results[4]):
        assert not fr.result.readable
        (finding,) = fr.result.findings
        assert finding.code == "unreadable-file" and "SIGKILL" in finding.message
    ok = [fr for fr in results if fr.file != str(doomed)]
    assert ok == [screen_file(killing, Path(fr.file), None) for fr in ok]
    assert all(fr.result.readable for fr in ok)
    assert not multiprocessing.active_children()


def test_workers_killed_busy_or_idle_are_replaced(
    screener: Screener, filled: dict[str, Path]
) -> None:
    """Every worker killed while the caller holds the first result: the files they held are
    unreadable-file, the others screened by new workers."""
    paths = list(filled.values())
    results = screen_files(screener, paths, None, jobs=2)
    out = [next(results)]
    time.sleep(1.0)  # some workers idle (the look-ahead is full), some perhaps still busy
    victims = multiprocessing.active_children()
    assert len(victims) == 2
    for proc in victims:
        os.kill(proc.pid or 0, signal.SIGKILL)
    out += list(results)
    assert [fr.file for fr in out] == [str(p) for p in paths]
    for fr in out:
        assert fr.result.readable or "SIGKILL" in fr.result.findings[0].message
    # The first result taken, at most 2 x workers files are handed out ahead of the next one
    # (files 1-4): the killed workers held two of those; every later file is screened.
    assert all(fr.result.readable for fr in out[5:])
    assert sum(fr.result.readable for fr in out) >= len(paths) - 2
    assert not multiprocessing.active_children()


def test_a_killed_worker_stores_nothing_for_its_file(
    tmp_path: Path, filled: dict[str, Path]
) -> None:
    doomed = tmp_path / "doomed.xlsx"
    doomed.write_bytes(KILL)
    store = Store(tmp_path / "k.db")
    store.migrate()
    screener = Killing(get_plugin_manager(), store.reference_data(), as_of=AS_OF)
    good = list(filled.values())[:3]
    results = list(screen_files(screener, [good[0], doomed, *good[1:]], store, jobs=2))
    assert [fr.result.readable for fr in results] == [True, False, True, True]
    assert store.count("submissions") == 3


def test_look_ahead_is_bounded(tmp_path: Path, killing: Killing, filled: dict[str, Path]) -> None:
    """A caller that stops consuming stops the workers after 2 × workers files."""
    killing.marks = tmp_path / "marks"
    killing.marks.mkdir()
    paths = list(filled.values()) * 2
    results = screen_files(killing, paths, None, jobs=2)
    first = next(results)
    assert first.file == str(paths[0])
    time.sleep(1.5)  # time for every file to be screened, were they all handed out
    started = len(list(killing.marks.iterdir()))
    assert 1 <= started <= 4 < len(paths)
    results.close()  # stopping early ends the workers
    assert not multiprocessing.active_children()


def test_an_interrupt_in_the_caller_ends_the_workers(
    killing: Killing, filled: dict[str, Path]
) -> None:
    def interrupt(n: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        list(screen_files(killing, list(filled.values()), None, jobs=2, on_done=interrupt))
    assert not multiprocessing.active_children()


def test_ctrl_c_reaches_the_parent_and_no_worker_is_left(tmp_path: Path) -> None:
    """SIGINT to the whole group (a terminal's Ctrl-C): the parent stops with
    KeyboardInterrupt; the workers neither print tracebacks nor outlive it."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import os, sys, time
        from pathlib import Path
        from assay.pool import screen_files
        from plugins.manager import get_plugin_manager
        from plugins.pipeline import Screener
        from storage.refdata import embedded_reference

        class Slow(Screener):
            def screen_bytes(self, data, sniffed=None):
                Path(sys.argv[1], str(os.getpid())).touch()  # this worker is busy now
                time.sleep(60)

        s = Slow(get_plugin_manager(), embedded_reference())
        paths = [Path(p) for p in sys.argv[2:]]
        try:
            for fr in screen_files(s, paths, None, jobs=2, on_done=lambda n: None):
                pass
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            raise SystemExit(130)
        """
    )
    files = [tmp_path / f"f{i}.xlsx" for i in range(4)]
    for f in files:
        f.write_bytes(b"x")
    busy = tmp_path / "busy"
    busy.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(busy), *map(str, files)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    deadline = time.monotonic() + 60
    while len(list(busy.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # until both workers hold a file (however busy the machine is)
    assert len(list(busy.iterdir())) == 2
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and out == b"interrupted\n", err
    assert b"Traceback" not in err
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)  # nothing of the group is left


@pytest.mark.parametrize("workers", [1, 2])
def test_rescreen_reports_progress_per_batch(
    tmp_path: Path, filled: dict[str, Path], workers: int
) -> None:
    store = Store(tmp_path / "r.db")
    store.migrate()
    screener = Screener(get_plugin_manager(), store.reference_data(), as_of=AS_OF)
    stored: list[FileResult] = list(screen_files(screener, list(filled.values())[:3], store))
    assert len(stored) == 3
    progress: list[int] = []
    n = rescreen(
        store, screener.screen, as_of=AS_OF, batch=2, workers=workers, on_progress=progress.append
    )
    assert n == 3 and progress == [2, 1]
