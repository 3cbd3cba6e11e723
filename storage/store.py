"""The Store: every screening Assay does, in one SQLite file (sqlite-utils, WAL).

Submissions are keyed by the sha256 of the file, so screening the same bytes twice (a
resent e-mail, a restarted intake) stores one submission. The parsed declaration is kept
as JSON beside the screening results, so a new RMAP list can be applied to every stored
submission without the original files. Originals are still kept, content-addressed, in a
folder beside the database, so any result can be reproduced from its input.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path
from typing import Any

import sqlite_utils

from plugins.models import Declaration, Finding, ScreeningResult
from plugins.reference import ReferenceData

from .grievances import GrievanceStoreMixin
from .mail import utcnow
from .migrations import MIGRATIONS
from .refstore import ReferenceStoreMixin
from .transactions import write_transaction

# The screening function of the running rescreen, inherited by forked workers.
_RESCREEN: Callable[[Declaration], ScreeningResult] | None = None


def _screen_batch(rows: list[tuple[str, str]]) -> list[tuple[str, ScreeningResult]]:
    """Screen stored declarations; the declaration is dropped from the result (not needed to store it)."""
    assert _RESCREEN is not None
    out = []
    for sha, raw in rows:
        result = _RESCREEN(Declaration.from_dict(json.loads(raw)))
        out.append((sha, replace(result, declaration=None)))
    return out


FINDING_COLUMNS = (
    "code",
    "severity",
    "message",
    "sheet",
    "cell",
    "mineral",
    "smelter_id",
    "field",
    "check",
    "related",  # JSON list of "Sheet!Cell"; NULL for findings stored before it existed
)


def _column(f: Finding, name: str) -> Any:
    value = getattr(f, name)
    if name == "related":
        return json.dumps(list(value), ensure_ascii=False) if value else None
    return value


def _finding(row: tuple[Any, ...]) -> Finding:
    values = dict(zip(FINDING_COLUMNS, row, strict=True))
    raw = values.pop("related")
    related: tuple[str, ...] = ()
    if raw:
        try:
            loaded = json.loads(raw)
        except ValueError:
            loaded = []
        if isinstance(loaded, list):
            related = tuple(str(r) for r in loaded)
    return Finding(**values, related=related)


class Store(ReferenceStoreMixin, GrievanceStoreMixin):
    def __init__(self, path: str | Path, files_dir: Path | None = None) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite_utils.Database(str(path))
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self.files_dir = files_dir or self.path.with_name(self.path.name + ".files")
        self._reference: tuple[tuple[Any, Any], ReferenceData] | None = None
        self.migrate()

    def close(self) -> None:
        self.db.close()

    # -- migrations ----------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply pending migrations, each in its own transaction. Returns the names applied.

        ``BEGIN IMMEDIATE`` takes the write lock before reading what is applied, so
        processes and threads opening a new database at once migrate it exactly once.
        """
        conn = self.db.conn
        applied = []
        for name, fn in MIGRATIONS:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "create table if not exists _assay_migrations (name text primary key, applied_at text)"
                )
                if conn.execute(
                    "select 1 from _assay_migrations where name = ?", [name]
                ).fetchone():
                    conn.execute("COMMIT")
                    continue
                fn(self.db)
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

    # -- submissions ---------------------------------------------------------------
    def keep_original(self, sha256: str, data: bytes) -> Path:
        path = self.files_dir / sha256[:2] / sha256
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        return path

    def original(self, sha256: str) -> bytes | None:
        """The file as received (kept content-addressed), or None when it was not kept."""
        path = self.files_dir / sha256[:2] / sha256
        try:
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def has_submission(self, sha256: str) -> bool:
        return bool(
            self.db.execute("select 1 from submissions where sha256 = ?", [sha256]).fetchone()
        )

    def record_screening(
        self,
        sha256: str,
        result: ScreeningResult,
        *,
        filename: str = "",
        source: str = "cli",
        as_of: dt.date | None = None,
        data: bytes | None = None,
    ) -> None:
        """Store one screening: the submission (once per sha256), its declaration, rows and findings."""
        if data is not None:
            self.keep_original(sha256, data)
        now = utcnow()
        decl = result.declaration
        with write_transaction(self.db):
            existing = self.db.execute(
                "select first_seen from submissions where sha256 = ?", [sha256]
            ).fetchone()
            self.db.table("submissions").upsert(
                {
                    "sha256": sha256,
                    "first_seen": existing[0] if existing else now,
                    "filename": filename,
                    "size": len(data) if data is not None else None,
                    "source": source,
                    "template_type": decl.meta.type if decl else None,
                    "template_version": decl.meta.version if decl else None,
                    "company_name": decl.company.get("company_name", "") if decl else None,
                    "declaration_json": json.dumps(decl.to_dict(), ensure_ascii=False)
                    if decl
                    else None,
                    "readable": int(result.readable),
                },
                pk="sha256",
            )
            self._write_result(sha256, result, now, as_of)
            if decl is not None:
                self.db.execute("delete from smelter_rows where sha256 = ?", [sha256])
                self.db.conn.executemany(
                    "insert into smelter_rows (sha256, row, metal, smelter_id, name, country, lookup, mine_countries) values (?,?,?,?,?,?,?,?)",
                    [
                        (
                            sha256,
                            r.row,
                            r.metal,
                            r.smelter_id,
                            r.display_name,
                            r.country,
                            r.lookup,
                            r.mine_countries,
                        )
                        for r in decl.smelters
                    ],
                )

    def _write_result(
        self, sha256: str, result: ScreeningResult, now: str, as_of: dt.date | None
    ) -> None:
        summary = result.summary
        screening_id = (
            self.db.table("screenings")
            .insert(
                {
                    "sha256": sha256,
                    "screened_at": now,
                    "as_of": as_of.isoformat() if as_of else None,
                    "risk_level": result.risk_level,
                    "summary": json.dumps(summary),
                    "reference_versions": json.dumps(result.reference_versions),
                    "check_versions": json.dumps(result.check_versions),
                }
            )
            .last_pk
        )
        self.db.execute(
            "update submissions set last_screening = ?, risk_level = ?, errors = ?, risks = ?, warnings = ?, infos = ? where sha256 = ?",
            [
                screening_id,
                result.risk_level,
                summary["error"],
                summary["risk"],
                summary["warning"],
                summary["info"],
                sha256,
            ],
        )
        self.db.execute("delete from findings where sha256 = ?", [sha256])
        self.db.conn.executemany(
            "insert into findings (sha256, screening_id, code, severity, message, sheet, cell, mineral, smelter_id, field, [check], related) values (?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (sha256, screening_id, *(_column(f, c) for c in FINDING_COLUMNS))
                for f in result.findings
            ],
        )

    def submission(self, sha256: str) -> dict[str, Any] | None:
        rows = list(self.db.table("submissions").rows_where("sha256 = ?", [sha256]))
        return rows[0] if rows else None

    def findings(self, sha256: str) -> list[Finding]:
        cols = ", ".join(f"[{c}]" for c in FINDING_COLUMNS)
        cur = self.db.execute(
            f"select {cols} from findings where sha256 = ? order by rowid", [sha256]
        )
        return [_finding(row) for row in cur.fetchall()]

    def screening(self, screening_id: int) -> dict[str, Any]:
        return dict(self.db.table("screenings").get(screening_id))

    def count(self, table: str) -> int:
        return int(self.db.execute(f"select count(*) from [{table}]").fetchone()[0])

    def iter_declarations(self, batch: int = 200) -> Iterator[tuple[str, Declaration]]:
        for rows in self._raw_batches(batch):
            for sha, raw in rows:
                yield sha, Declaration.from_dict(json.loads(raw))

    def _raw_batches(self, batch: int) -> Iterator[list[tuple[str, str]]]:
        """Stored declarations as (sha256, JSON), in key order, ``batch`` at a time."""
        last = ""
        while True:
            rows = self.db.execute(
                "select sha256, declaration_json from submissions where declaration_json is not null and sha256 > ? order by sha256 limit ?",
                [last, batch],
            ).fetchall()
            if not rows:
                return
            yield [(sha, raw) for sha, raw in rows]
            last = rows[-1][0]

    def rescreen(
        self,
        screen: Callable[[Declaration], ScreeningResult],
        as_of: dt.date | None = None,
        batch: int = 100,
        workers: int | None = None,
    ) -> int:
        """Screen every stored declaration again (new RMAP list, new checks). Returns how many.

        Screening is pure computation, so with ``workers`` > 1 (default: one per CPU, at
        most 4) forked processes screen batches while this process writes results; the
        database is only ever touched here. Each batch is one transaction.
        """
        now = utcnow()
        n = 0
        workers = workers if workers is not None else min(4, os.cpu_count() or 1)
        global _RESCREEN
        _RESCREEN = screen
        try:
            if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
                # Reads stay on this thread (sqlite connections are per thread); a few batches
                # are kept in flight so workers compute while results are written. A worker
                # that dies (the kernel's OOM killer, say) breaks the pool: the batches in
                # flight are screened here instead, and nothing is skipped.
                with ProcessPoolExecutor(
                    workers, mp_context=multiprocessing.get_context("fork")
                ) as pool:
                    in_flight: collections.deque[tuple[list[tuple[str, str]], Future[Any]]] = (
                        collections.deque()
                    )

                    def settle(raw: list[tuple[str, str]], future: Future[Any]) -> int:
                        try:
                            results = future.result()
                        except BrokenProcessPool:
                            results = _screen_batch(raw)
                        return self._flush(results, now, as_of)

                    for raw in self._raw_batches(batch):
                        try:
                            in_flight.append((raw, pool.submit(_screen_batch, raw)))
                        except BrokenProcessPool:
                            n += self._flush(_screen_batch(raw), now, as_of)
                        if len(in_flight) > 2 * workers:
                            n += settle(*in_flight.popleft())
                    while in_flight:
                        n += settle(*in_flight.popleft())
            else:
                for raw in self._raw_batches(batch):
                    n += self._flush(_screen_batch(raw), now, as_of)
        finally:
            _RESCREEN = None
        return n

    def _flush(
        self, results: list[tuple[str, ScreeningResult]], now: str, as_of: dt.date | None
    ) -> int:
        with write_transaction(self.db):
            for sha, result in results:
                self._write_result(sha, result, now, as_of)
        return len(results)

    # -- questions staff ask --------------------------------------------------------
    def smelter_usage(self, cid: str, limit: int = 10) -> tuple[int, list[str]]:
        """How many suppliers (distinct declared companies) list a smelter, and the first names.

        Served from the (smelter_id, sha256) index: milliseconds on 600,000 stored rows.
        """
        names = [
            row[0] or ""
            for row in self.db.execute(
                "select s.company_name from submissions s where s.sha256 in "
                "(select sha256 from smelter_rows where smelter_id = ?) group by s.company_name order by s.company_name",
                [cid],
            )
        ]
        count = len(names)
        names = [n for n in names if n][:limit]
        return int(count), names

    def suppliers_listing(self, cid: str) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.db.query(
                "select distinct s.company_name, s.sha256 from smelter_rows r join submissions s on s.sha256 = r.sha256 where r.smelter_id = ? order by s.company_name",
                [cid],
            )
        ]
