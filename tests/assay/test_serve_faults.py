"""Operations: a full disk or a locked database stops `assay serve` with one clear line and a
non-zero exit, nothing marked processed; workers die with their parent; a broken pool is
rebuilt and the message that broke it is still answered."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assay.config import parse_config
from assay.serve import Service
from assay.workers import LazyPool
from intake.supplier_mail import Analysis
from storage.store import Store
from tests.plugins.test_hostile_workbooks import EXAMPLE, _message
from tests.servers import _children

pytestmark = pytest.mark.e2e

ASSAY = shutil.which("assay", path=str(Path(sys.executable).parent)) or "assay"


def _config(tmp: Path, database: Path, workers: int = 1) -> Path:
    path = tmp / "assay.toml"
    path.write_text(
        f"""
[assay]
database = "{database}"
[mail]
workers = {workers}
seed_examples = false
[mail.suppliers]
path = "{tmp / "mail"}"
poll_seconds = 1
[mail.grievances]
enabled = false
[smtp]
outbox_dir = "{tmp / "outbox"}"
[alerts]
log_file = "{tmp / "alerts.log"}"
"""
    )
    return path


def _deliver(tmp: Path, key: str) -> Path:
    new = tmp / "mail" / "new"
    new.mkdir(parents=True, exist_ok=True)
    (new / key).write_bytes(_message(key, "northwind-cmrt-6.5.xlsx", EXAMPLE))
    return new / key


def _serve_once(tmp: Path, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ASSAY, "--config", str(config), "serve", "--once"],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs: a real full disk (root only; CI runs as root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot mount a tmpfs in CI: {done.stderr!r}")
        pytest.skip("mounting a small tmpfs needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_stops_serve_with_one_line_and_nothing_processed(
    tmp_path: Path, small_disk: Path
) -> None:
    db = small_disk / "assay.db"
    config = _config(tmp_path, db)
    assert _serve_once(tmp_path, config).returncode == 0  # the database exists, empty
    filler = small_disk / "filler"
    with filler.open("wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
    message = _deliver(tmp_path, "01-full")
    proc = _serve_once(tmp_path, config)
    assert proc.returncode == 75, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and "disk is full" in errors[0], proc.stderr[-2000:]
    assert message.exists(), "the message stays in the inbox"
    filler.unlink()
    again = _serve_once(tmp_path, config)
    assert again.returncode == 0, again.stderr[-2000:]
    assert not message.exists() and len(list((tmp_path / "outbox").glob("*.eml"))) == 1


def test_locked_database_stops_serve_with_one_line(tmp_path: Path) -> None:
    db = tmp_path / "assay.db"
    config = _config(tmp_path, db)
    Store(db).close()
    message = _deliver(tmp_path, "01-locked")
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        proc = _serve_once(tmp_path, config)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert proc.returncode == 75, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and "locked" in errors[0]
    assert message.exists()


def _wait(predicate, timeout: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_workers_die_with_their_parent(tmp_path: Path) -> None:
    config = _config(tmp_path, tmp_path / "assay.db", workers=2)
    _deliver(tmp_path, "01-first")
    proc = subprocess.Popen(
        [ASSAY, "--config", str(config), "serve"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait(lambda: len(list((tmp_path / "outbox").glob("*.eml"))) == 1)
        workers = [p for p in _children(proc.pid) if _alive(p)]
        assert len(workers) >= 2, "the pool's workers run beside the service"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert _wait(lambda: not any(_alive(p) for p in workers), timeout=10), workers
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_broken_pool_is_rebuilt_and_the_message_still_answered(tmp_path: Path) -> None:
    db = tmp_path / "assay.db"
    config = parse_config({"assay": {"database": str(db)}, "screening": {"as_of": "2026-06-30"}})
    store = Store(db)
    pool = LazyPool(2, config, db)
    pipeline = Service(config, db).supplier_pipeline(store, pool)
    raw = _message("01-broken", "northwind-cmrt-6.5.xlsx", EXAMPLE)
    try:
        warm = pool.submit(raw)
        assert isinstance(warm.result(timeout=120), Analysis)
        assert pool._pool is not None
        victim = pool._pool
        future = [pool.submit(raw) for _ in range(6)][-1]  # queued behind five others
        for process in list(victim._processes.values()):  # the kernel's OOM killer, say
            os.kill(process.pid, signal.SIGKILL)
        analysis = pipeline.result(future, raw)  # the fallback analyses it here
        assert isinstance(analysis, Analysis) and analysis.files[0].result.readable
        assert pool._pool is not victim  # dropped; the next submit starts a new pool
        again = pool.submit(raw).result(timeout=120)
        assert isinstance(again, Analysis) and pool._pool is not None and pool._pool is not victim
    finally:
        pool.shutdown()
        store.close()
