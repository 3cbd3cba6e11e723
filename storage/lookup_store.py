"""Parsed Smelter Look-ups kept across runs (the backing store of
:class:`plugins.lookup_cache.LookupCache`).

One row per key (see :mod:`plugins.lookup_cache` for what the key covers), the table as
JSON. The table is bounded: a put keeps the ``keep`` most recent entries and drops the rest,
since the revisions in circulation are a handful and a key that stopped appearing is dead
weight. Only the process and thread that built it use the connection: a forked process (a
sandboxed child, a pool worker) must not touch its parent's SQLite connection, and sqlite3
refuses a connection from another thread; there ``get`` and ``recent`` find nothing and
``put`` does nothing, and the cache in memory still works.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading

import sqlite_utils

from plugins.lookup_cache import LookupTable

from .transactions import write_transaction

log = logging.getLogger(__name__)

TABLE = "lookup_cache"


class StoredLookups:
    """The ``lookup_cache`` table of a store's database."""

    def __init__(self, db: sqlite_utils.Database, keep: int = 50) -> None:
        if keep < 1:
            raise ValueError("keep must be at least 1")
        self.db = db
        self.keep = keep
        self._owner = (os.getpid(), threading.get_ident())

    def _usable(self) -> bool:
        """Only where the connection was opened: this process, this thread."""
        return (os.getpid(), threading.get_ident()) == self._owner

    def get(self, key: str) -> LookupTable | None:
        if not self._usable():
            return None
        row = self.db.execute(f"select table_json from {TABLE} where key = ?", [key]).fetchone()
        if row is None:
            return None
        try:
            return LookupTable.from_json(row[0])
        except ValueError:
            log.warning("look-up cache entry %s is damaged; ignored", key[:12])
            return None

    def recent(self, n: int) -> list[tuple[str, str]]:
        """The ``n`` most recent entries, newest first, as ``(key, table JSON)``."""
        if not self._usable():
            return []
        rows = self.db.execute(
            f"select key, table_json from {TABLE} order by created_at desc, rowid desc limit ?",
            [n],
        ).fetchall()
        return [(str(k), str(t)) for k, t in rows]

    def put(self, key: str, table: LookupTable) -> None:
        if not self._usable():
            return
        now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
        with write_transaction(self.db):
            self.db.execute(
                f"insert or replace into {TABLE} (key, table_json, created_at) values (?, ?, ?)",
                [key, table.to_json(), now],
            )
            self.db.execute(
                f"delete from {TABLE} where key not in (select key from {TABLE} "
                "order by created_at desc, rowid desc limit ?)",
                [self.keep],
            )

    def __len__(self) -> int:
        return int(self.db.execute(f"select count(*) from {TABLE}").fetchone()[0])
