"""The one SQLite connection every part of the Store shares: opened in WAL mode, migrated.

Migrations are applied when the database is opened (as ``sqlite-utils``' own ``Migrations``
do), each in its own transaction; see :mod:`storage.migrations`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlite_utils

from .migrations import MIGRATIONS


def utcnow() -> str:
    """Now, as stored: UTC, ISO 8601, whole seconds."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def open_database(path: str | Path) -> sqlite_utils.Database:
    """The database at ``path`` (``":memory:"`` for a throw-away one), its folder created."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(str(path))
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=5000")
    return db


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply pending migrations, each in its own transaction. Returns the names applied.

    ``BEGIN IMMEDIATE`` takes the write lock before reading what is applied, so processes
    and threads opening a new database at once migrate it exactly once.
    """
    conn = db.conn
    applied = []
    for name, fn in MIGRATIONS:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "create table if not exists _assay_migrations (name text primary key, applied_at text)"
            )
            if conn.execute("select 1 from _assay_migrations where name = ?", [name]).fetchone():
                conn.execute("COMMIT")
                continue
            fn(db)
            conn.execute(
                "insert into _assay_migrations (name, applied_at) values (?, ?)",
                [name, utcnow()],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied
