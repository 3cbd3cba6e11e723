"""The workbook's Smelter Look-up, parsed once per template revision.

A file saved without cached formula values (openpyxl, streaming writers, some ERP exports)
has its rows resolved through its own ``Smelter Look-up`` sheet (:mod:`plugins.list_sheets`).
Reading that sheet costs ~25 ms of a ~210 ms read of a filled CMRT 6.5 on this (busy)
machine, about 12%, and the sheet is byte-identical in every file of one revision written by one tool
(measured: the same sheet part, CRC and size across CMRT 6.4 and EMRT 2.1 files filled with
different company text). So the parsed table is kept, keyed by the sheet part's bytes.

**The key, and why not the zip directory's CRC-32.** What a CID resolves to must depend on
the file being read and never on a file read before it. Two things could break that:

- *A forged checksum.* The CRC-32 and size in the zip directory are what the file claims,
  and CRC-32 is linear: flipping chosen bits gives any CRC at the same size. A hostile file
  could carry the public template's CRC and size over rows of its own (a CID mapped to
  another smelter or country), and every later file of that revision would be read with
  them. The key is therefore a cryptographic digest (BLAKE2b-256: 1.3 ms for the 440 KB part
  here, SHA-256 2.4 ms on this CPU without SHA extensions) of the inflated sheet part, plus
  the row limit and a format tag; inflating and hashing cost ~3 ms against ~25 ms for
  reading the sheet.
- *Parts the values depend on.* A cell of type ``s`` holds an index into the shared-strings
  part, which differs per file (Excel and POI put the supplier's own text in it). Keyed by
  the sheet alone, a file with the template's sheet and an altered string table would
  poison the entry. Hashing the whole string table too would be safe but useless: it is a
  different key for every file (the supplier's text is in it) and costs 8 ms per file.
  So a sheet that may refer to shared strings is **not cached** (:func:`lookup_key` returns
  ``None``): the decision is made from the sheet's bytes alone, conservatively (any ``"s"``
  or ``'s'``, a character reference, or a NUL byte of a UTF-16 file), so two files with the
  same key made the same decision. The files this cache is for write inline strings
  (openpyxl 3.1 writes no shared-strings part at all), where the sheet is self-contained.
  A table is cached only when every cell it used is text: numbers and dates are read
  through the styles part, which is not in the key.

**Where it lives.** :class:`LookupCache` is a bounded LRU in memory, with an optional
backing store (:class:`storage.lookup_store.StoredLookups`) that survives the process. The
workbook is read in a forked child (:mod:`plugins.sandbox`): the child sees the parent's
memory and uses a hit; on a miss it sends the parsed rows back beside the declaration and
the parent puts them in memory and the store. The store is only touched by the process
that built the cache: a forked child must not use its parent's SQLite connection, nor open
one (another thread of a service may hold SQLite's locks at the fork), so
:meth:`LookupCache.warm` copies the store's entries (raw JSON, parsed on first use) into
memory before any fork (the :class:`~plugins.pipeline.Screener` calls it when built), and
only the thread that opened the store writes it. A pool worker forked from the parent sees
those entries too; a table it learns stays in its memory. The child's answer is trusted as
much as the child: one that runs code of the file's choosing could write the store's file
directly anyway; its shape is checked all the same.

On a hit the sheet is not read at all, so its bounds scan is skipped: the same bytes passed
it before, under the same row limit (which is in the key). Results are the same with and
without the cache (tested on every template family).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from itertools import chain
from typing import NamedTuple, Protocol

from .normalize import clean_cid, clean_text, is_cid

log = logging.getLogger(__name__)

#: Bumped whenever the table's form or the parsing changes: old entries then never match.
FORMAT = "lookup-v1"
MAX_ROWS = 100_000  # a look-up of the real templates has under 2,000 rows
MAX_CELL = 2_000
_MAY_SHARE = (b'"s"', b"'s'", b"&#", b"\x00")


class LookupRow(NamedTuple):
    """One row of a Smelter Look-up (a tuple: a table of a thousand is built in a blink)."""

    metal: str
    alias: str
    name: str
    country: str
    cid: str
    source: str


class LookupTable:
    """One workbook's Smelter Look-up: rows in sheet order, indexed by CID and metal + alias.

    The first row of a CID or an alias wins, as in the template's own ``MATCH`` formulas.
    """

    def __init__(self, rows: Iterable[LookupRow]) -> None:
        self.rows = tuple(rows)
        self.by_cid: dict[str, LookupRow] = {}
        self.by_alias: dict[tuple[str, str], LookupRow] = {}
        for entry in self.rows:
            self.by_alias.setdefault((entry.metal.casefold(), entry.alias.casefold()), entry)
            if is_cid(entry.cid):
                self.by_cid.setdefault(entry.cid, entry)

    @classmethod
    def from_cells(cls, rows: Iterable[Sequence[object]]) -> tuple[LookupTable, bool]:
        """The table of the sheet's rows (from row 5), and whether every used cell was text."""
        out: list[LookupRow] = []
        text_only = True
        for v in rows:
            if len(v) < 6:
                continue
            metal, alias, name, country = (clean_text(x) for x in v[:4])
            entry = LookupRow(metal, alias, name, country, clean_cid(v[4]), clean_text(v[5]))
            if not entry.metal or not entry.alias:
                continue
            text_only = text_only and all(isinstance(x, str) for x in v[:6])
            out.append(entry)
        return cls(out), text_only

    def to_json(self) -> str:
        return json.dumps(self.to_plain(), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> LookupTable:
        """The table :meth:`to_json` wrote; ``ValueError`` for anything else."""
        raw = json.loads(text)
        return cls.from_plain(raw)

    @classmethod
    def from_plain(cls, raw: object) -> LookupTable:
        """From a list of six-string lists (a child's answer, a stored entry), checked."""
        if not isinstance(raw, list) or len(raw) > MAX_ROWS:
            raise ValueError("a look-up table is a list of rows")
        # Checked with C-level passes (map, set): a table has a few thousand cells.
        if set(map(type, raw)) - {list} or set(map(len, raw)) - {6}:
            raise ValueError("a look-up row is a list of six strings")
        cells = list(chain.from_iterable(raw))
        if set(map(type, cells)) - {str} or max(map(len, cells), default=0) > MAX_CELL:
            raise ValueError("a look-up row is a list of six strings")
        return cls(LookupRow(*item) for item in raw)

    def to_plain(self) -> list[list[str]]:
        return [[r.metal, r.alias, r.name, r.country, r.cid, r.source] for r in self.rows]


def lookup_key(sheet_xml: bytes, max_rows: int) -> str | None:
    """The cache key of a Look-up sheet part's bytes, or ``None``: not cacheable (it may
    refer to the shared-strings part, see the module docstring)."""
    if any(marker in sheet_xml for marker in _MAY_SHARE):
        return None
    digest = hashlib.blake2b(f"{FORMAT}\0{max_rows}\0".encode(), digest_size=32)
    digest.update(sheet_xml)
    return digest.hexdigest()


class LookupStore(Protocol):
    """What backs a :class:`LookupCache` beyond the process (``StoredLookups``)."""

    def get(self, key: str) -> LookupTable | None: ...

    def put(self, key: str, table: LookupTable) -> None: ...

    def recent(self, n: int) -> list[tuple[str, str]]:
        """The ``n`` most recent entries as ``(key, table JSON)``."""
        ...


class LookupCache:
    """Parsed Look-up tables by key: a bounded LRU in memory, thread-safe, over an optional
    store. Entries warmed from the store stay JSON until first used."""

    def __init__(self, store: LookupStore | None = None, max_entries: int = 32) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.store = store
        self.max_entries = max_entries
        self._memory: OrderedDict[str, LookupTable | str] = OrderedDict()
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._warmed = False
        self.hits = 0
        self.misses = 0

    def _here(self) -> bool:
        """True in the process that built the cache; in a forked one, a fresh lock (the
        parent's may have been held by another thread at the fork) and no store."""
        if os.getpid() != self._pid:
            self._lock = threading.Lock()
            self._pid = os.getpid()
            self.store = None
        return self.store is not None

    def warm(self) -> None:
        """Copy the store's most recent entries into memory (once; before any fork)."""
        if self._warmed or not self._here():
            return
        self._warmed = True
        assert self.store is not None
        try:
            entries = self.store.recent(self.max_entries)
        except Exception:  # the cache is an optimisation: a store that fails is skipped
            log.exception("look-up cache: the store could not be read")
            return
        with self._lock:
            for key, text in reversed(entries):  # oldest first, so the newest end up last
                self._memory.setdefault(key, text)
            self._trim()

    def get(self, key: str) -> LookupTable | None:
        found = self._fetch(key)
        self.note(hit=found is not None)
        return found

    def promote(self, key: str) -> None:
        """Parse an entry still held as JSON, so the children forked from now on inherit the
        table itself (a sandboxed child's parse is lost with it)."""
        self._fetch(key)

    def _fetch(self, key: str) -> LookupTable | None:
        in_owner = self._here()
        with self._lock:
            found = self._memory.get(key)
            if found is not None:
                self._memory.move_to_end(key)
        if isinstance(found, str):
            try:
                found = LookupTable.from_json(found)
            except ValueError:
                log.warning("look-up cache: a stored entry is damaged; ignored")
                found = None
            with self._lock:
                if found is None:
                    self._memory.pop(key, None)
                else:
                    self._memory[key] = found
        if found is None and in_owner:
            assert self.store is not None
            try:
                found = self.store.get(key)
            except Exception:
                log.exception("look-up cache: the store could not be read")
            if found is not None:
                self._remember(key, found)
        return found

    def note(self, hit: bool) -> None:
        """Count a look-up (also for one made in a sandboxed child, which counts its own)."""
        if hit:
            self.hits += 1
        else:
            self.misses += 1

    def put(self, key: str, table: LookupTable) -> None:
        self._remember(key, table)
        if self._here():
            assert self.store is not None
            try:
                self.store.put(key, table)
            except Exception:
                log.exception("look-up cache: the store could not be written")

    def _remember(self, key: str, table: LookupTable) -> None:
        with self._lock:
            self._memory[key] = table
            self._memory.move_to_end(key)
            self._trim()

    def _trim(self) -> None:
        while len(self._memory) > self.max_entries:
            self._memory.popitem(last=False)

    def __len__(self) -> int:
        return len(self._memory)
