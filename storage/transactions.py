"""One write, one transaction: ``with write_transaction(db):``.

``with conn:`` is not enough around sqlite-utils writes. Python's sqlite3 opens a transaction
only at the first INSERT/UPDATE it sees, and sqlite-utils' own ``insert``/``upsert`` run in
``db.atomic()``, which commits at once when no transaction is open yet. So a block that reads
first and then writes through sqlite-utils was several transactions: a process killed in
between kept a message recorded without the reply it owed (seen once in the kill test).

Here the transaction is opened explicitly, ``BEGIN IMMEDIATE`` (the write lock up front, so a
block that reads before it writes never fails to upgrade under another writer); sqlite-utils
then nests its writes as savepoints, and everything commits or rolls back together.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlite_utils


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[None]:
    conn = db.conn
    depth = _depth.get(id(conn), 0)
    if depth:  # inside one of ours already: part of it
        _depth[id(conn)] = depth + 1
        try:
            yield
        finally:
            _depth[id(conn)] = depth
        return
    if conn.in_transaction:
        conn.commit()  # a write left open outside any block: ``with conn:`` committed it too
    conn.execute("BEGIN IMMEDIATE")
    _depth[id(conn)] = 1
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # the block failed, or COMMIT itself did (a full disk)
            conn.execute("ROLLBACK")
        raise
    finally:
        _depth.pop(id(conn), None)


_depth: dict[int, int] = {}  # connection -> how deep in write_transaction blocks we are
