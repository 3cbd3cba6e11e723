"""When the database cannot take a write at all (its disk is full, it is locked by another
process beyond the busy timeout, it is read-only), nothing can be recorded, so nothing may
be marked processed either: the intake stops with one clear line and a non-zero exit, and
the messages wait in the mailbox for the next run. Every other error stays per message."""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

#: The exit status of ``assay serve`` when storage is unavailable (EX_TEMPFAIL: try later).
EXIT_STORAGE = 75

_SQLITE_REASONS = (
    ("database or disk is full", "the database's disk is full"),
    ("disk i/o error", "the database's disk failed (I/O error)"),
    ("database is locked", "the database is locked by another process"),
    ("readonly database", "the database is read-only"),
    ("unable to open database", "the database cannot be opened"),
)
_OS_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EROFS: "the file system is read-only",
    errno.EIO: "the disk failed (I/O error)",
}


class StoreUnavailable(Exception):
    """Storage cannot take writes; ``reason`` is one sentence for the operator."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def storage_failure(exc: BaseException) -> str | None:
    """A one-line reason when ``exc`` (or what caused it) means storage is unavailable."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, StoreUnavailable):
            return current.reason
        if isinstance(current, sqlite3.OperationalError | sqlite3.DatabaseError):
            text = str(current).lower()
            for needle, reason in _SQLITE_REASONS:
                if needle in text:
                    return reason
        if isinstance(current, OSError) and current.errno in _OS_REASONS:
            return _OS_REASONS[current.errno]
        current = current.__cause__ or current.__context__
    return None


def storage_failure_at(exc: BaseException, database: Path) -> str | None:
    """:func:`storage_failure`, told apart by the database's disk: SQLite reports a full disk
    under the WAL as a plain I/O error."""
    reason = storage_failure(exc)
    if reason and "locked" not in reason:
        try:
            if shutil.disk_usage(database.parent).free < 1024 * 1024:
                return "the database's disk is full"
        except OSError:
            pass
    return reason
