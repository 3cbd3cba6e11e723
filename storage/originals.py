"""Originals: the files as received, kept for the record-keeping period, then pruned.

A supplier's CMRT is 1-2 MB as Excel saves it, a hundred times what its screening takes
in the database, and it is already a zip: compressing it again gains nothing, so it is kept
as received, outside the database, in a folder beside it (``<db>.files/ab/abcd...``),
content-addressed by SHA-256: the same bytes received twice are one file. The declaration
parsed from it and every screening result stay in the database for good; the original is
what reproduces them, and the EU Conflict Minerals Regulation (2017/821, art. 4(f)) asks
importers to keep such records for five years.

Retention (``[storage] keep_originals_days``, default 1826): a file's age is counted from
the last time those bytes were received (its modification time, moved on each receipt), and
:meth:`OriginalsStore.prune_originals` deletes those older than the period; ``assay serve``
runs it once a day (:meth:`OriginalsStore.prune_originals_daily`, a marker file remembers the
day across passes and processes) and ``assay db vacuum`` runs it every time. 0 keeps no
original at all (nothing is written; replies then cannot attach an annotated copy).
Only names the store itself writes are pruned (two hex digits / 64 hex digits): the
encrypted grievance attachments under ``grievances/`` are never touched.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

#: Five years and a leap day: the EU regulation's record-keeping period.
DEFAULT_KEEP_DAYS = 1826
_SHA = re.compile(r"[0-9a-f]{64}")
_MARKER = ".last-prune"


@dataclass(frozen=True)
class Pruned:
    """What a prune removed."""

    files: int = 0
    bytes: int = 0


class OriginalsStore:
    files_dir: Path
    keep_originals_days: int

    def _original_path(self, sha256: str) -> Path:
        return self.files_dir / sha256[:2] / sha256

    def keep_original(
        self, sha256: str, data: bytes, now: dt.datetime | None = None
    ) -> Path | None:
        """Keep the file as received (once per content); a second receipt restarts its
        retention period. None when originals are not kept (``keep_originals_days`` = 0)."""
        if self.keep_originals_days <= 0 or not _SHA.fullmatch(sha256):
            return None
        path = self._original_path(sha256)
        stamp = (now or dt.datetime.now(dt.UTC)).timestamp()
        if path.exists():
            os.utime(path, (stamp, stamp))
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.utime(tmp, (stamp, stamp))
        os.replace(tmp, path)
        return path

    def original(self, sha256: str) -> bytes | None:
        """The file as received, or None when it was not kept (or was pruned)."""
        if not _SHA.fullmatch(sha256):
            return None
        try:
            return self._original_path(sha256).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def prune_originals(self, now: dt.datetime | None = None) -> Pruned:
        """Delete the originals last received more than ``keep_originals_days`` before ``now``."""
        if not self.files_dir.is_dir():
            return Pruned()
        cutoff = (now or dt.datetime.now(dt.UTC)).timestamp() - self.keep_originals_days * 86400
        files = size = 0
        for folder in self.files_dir.iterdir():
            if not (folder.is_dir() and re.fullmatch(r"[0-9a-f]{2}", folder.name)):
                continue
            for path in folder.iterdir():
                if not _SHA.fullmatch(path.name) or not path.name.startswith(folder.name):
                    continue
                stat = path.stat()
                if stat.st_mtime < cutoff:
                    path.unlink(missing_ok=True)
                    files, size = files + 1, size + stat.st_size
        return Pruned(files, size)

    def prune_originals_daily(self, now: dt.datetime | None = None) -> Pruned | None:
        """:meth:`prune_originals` at most once per (UTC) day; None when already done today."""
        now = now or dt.datetime.now(dt.UTC)
        marker = self.files_dir / _MARKER
        today = now.astimezone(dt.UTC).date().isoformat()
        try:
            if marker.read_text("ascii").strip() == today:
                return None
        except (OSError, UnicodeDecodeError):
            pass
        pruned = self.prune_originals(now)
        if self.files_dir.is_dir():
            marker.write_text(today, "ascii")
        return pruned

    def originals_size(self) -> tuple[int, int]:
        """(files, bytes) of the originals kept."""
        files = size = 0
        if self.files_dir.is_dir():
            for path in self.files_dir.glob("[0-9a-f][0-9a-f]/*"):
                if _SHA.fullmatch(path.name):
                    files, size = files + 1, size + path.stat().st_size
        return files, size
