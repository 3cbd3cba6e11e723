"""``assay db``: upkeep of the store (docs/storage.md).

``assay db vacuum`` prunes the originals kept past ``[storage] keep_originals_days`` (the
declarations and screening results stay), checkpoints the write-ahead log and runs SQLite's
``VACUUM``, which rewrites the file without its free pages: space freed by deletes (pruned
findings of re-screens, old outbox rows) goes back to the disk only then. ``VACUUM`` needs
the write lock and about the database's size again in free disk space for a while; run it
when ``assay serve`` is quiet (it waits up to the busy timeout, then fails with one line).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click

from .config import Config


def _size(path: Path) -> int:
    """The database with its write-ahead log (what it takes on disk)."""
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


@click.group()
def db() -> None:
    """Upkeep of the store: pruning and compaction."""


@db.command("vacuum")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), help="Database.")
@click.pass_obj
def vacuum(config: Config, db_path: Path | None) -> None:
    """Prune originals past [storage] keep_originals_days, then compact the database."""
    from storage.store import Store

    path = db_path or config.database
    if not path.exists():
        raise click.UsageError(f"no database at {path}")
    store = Store(path, keep_originals_days=config.storage.keep_originals_days)
    try:
        before, (files_before, originals_before) = _size(path), store.originals_size()
        pruned = store.prune_originals()
        try:
            store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            store.db.execute("VACUUM")
            store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.OperationalError as exc:
            raise click.ClickException(f"could not compact {path}: {exc}") from None
        after, (files_after, originals_after) = _size(path), store.originals_size()
    finally:
        store.close()
    days = config.storage.keep_originals_days
    click.echo(f"database:  {_mb(before)} -> {_mb(after)}")
    click.echo(
        f"originals: {files_before} files, {_mb(originals_before)} -> "
        f"{files_after} files, {_mb(originals_after)}"
    )
    click.echo(
        f"pruned {pruned.files} original(s) ({_mb(pruned.bytes)}) last received more than "
        f"{days} days ago"
    )
