"""Submissions: every file screened, its declaration, its smelter rows and its findings.

Submissions are keyed by the sha256 of the file, so screening the same bytes twice (a
resent e-mail, a restarted intake) stores one submission. The parsed declaration is kept
(compact JSON, zlib-compressed: :func:`storage.models.pack_declaration`) beside the
screening results, so a new RMAP list can be applied to every stored submission without the
original files (the composition root's ``assay.rescreen`` reads them in batches and writes
each batch's results here). Originals are kept for the record-keeping period
(:mod:`storage.originals`).

Sizes (docs/storage.md): smelter rows live in ``smelter_cells`` under the submission's small
integer ``key`` (``smelter_rows`` is a view with the hash, for readers); a re-screen writes a
result only when it differs from the stored one, so re-screening against unchanged lists
adds nothing but a time stamp per submission.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlite_utils

from plugins.models import Declaration, Finding, ScreeningResult

from .db import utcnow
from .models import (
    Screening,
    Submission,
    SupplierListing,
    declaration_text,
    pack_declaration,
)
from .transactions import write_transaction

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


# (key, last screening id, its verdict, its findings as stored columns)
_Current = tuple[int, int, str, list[tuple[Any, ...]]]


def _rows(result: ScreeningResult) -> list[tuple[Any, ...]]:
    """A result's findings as their stored columns (FINDING_COLUMNS), in order."""
    return [tuple(_column(f, c) for c in FINDING_COLUMNS) for f in result.findings]


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


def suppliers_listing(db: sqlite_utils.Database, cid: str) -> list[SupplierListing]:
    """The stored submissions listing a smelter, by declared company."""
    return [
        SupplierListing(r["company_name"], r["sha256"])
        for r in db.query(
            "select distinct s.company_name, s.sha256 from smelter_cells c join submissions s on s.key = c.sub where c.smelter_id = ? order by s.company_name",
            [cid],
        )
    ]


class SubmissionStore:
    db: sqlite_utils.Database
    files_dir: Path

    # storage.originals.OriginalsStore, beside this part in the Store
    keep_original: Callable[..., Path | None]

    # -- writes ----------------------------------------------------------------------
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
        if data:
            self.keep_original(sha256, data)
        now = utcnow()
        decl = result.declaration
        with write_transaction(self.db):
            existing = self.db.execute(
                "select first_seen, key from submissions where sha256 = ?", [sha256]
            ).fetchone()
            key = existing[1] if existing and existing[1] is not None else self._next_key()
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
                    "declaration_json": pack_declaration(decl.to_dict()) if decl else None,
                    "readable": int(result.readable),
                    "key": key,
                },
                pk="sha256",
            )
            self._write_result(sha256, key, result, now, as_of)
            if decl is not None:
                self.db.execute("delete from smelter_cells where sub = ?", [key])
                self.db.conn.executemany(
                    "insert into smelter_cells (sub, row, metal, smelter_id, name, country, lookup, mine_countries) values (?,?,?,?,?,?,?,?)",
                    [
                        (
                            key,
                            r.row,
                            r.metal,
                            r.smelter_id,
                            r.display_name,
                            r.country,
                            None if r.lookup == r.display_name else r.lookup,
                            r.mine_countries,
                        )
                        for r in decl.smelters
                    ],
                )

    def _next_key(self) -> int:
        row = self.db.execute("select coalesce(max(key), 0) + 1 from submissions").fetchone()
        return int(row[0])

    def record_results(
        self,
        results: Sequence[tuple[str, ScreeningResult]],
        as_of: dt.date | None = None,
        screened_at: str = "",
    ) -> int:
        """New results of stored submissions (a rescreen's batch), in one transaction; the
        declarations stay as stored. ``screened_at``: the run's time (UTC ISO; default now),
        the same for every batch of one run. Returns how many were screened.

        A result equal to the stored one (same verdict, same findings, every stored column,
        in order) is not written again: its screening row only records that this run found
        it too (``checked_at``, ``as_of`` and the versions screened against)."""
        now = screened_at or utcnow()
        with write_transaction(self.db):
            current = self._current_results([sha for sha, _ in results])
            for sha, result in results:
                if sha not in current:
                    continue  # not a stored submission
                key, screening_id, level, rows = current[sha]
                if screening_id and level == result.risk_level and rows == _rows(result):
                    self._confirm_result(screening_id, result, now, as_of)
                else:
                    self._write_result(sha, key, result, now, as_of)
        return len(results)

    def _current_results(self, shas: Sequence[str]) -> dict[str, _Current]:
        """sha256 -> (key, last screening id, its verdict, its findings as stored), for a batch."""
        out: dict[str, _Current] = {}
        by_key: dict[int, str] = {}
        cols = ", ".join(f"f.[{c}]" for c in FINDING_COLUMNS)
        for i in range(0, len(shas), 400):
            part = list(shas[i : i + 400])
            marks = ", ".join("?" * len(part))
            for sha, key, sid, level in self.db.execute(
                f"select sha256, key, last_screening, risk_level from submissions where sha256 in ({marks})",
                part,
            ):
                if key is None:  # a row written without the Store: give it its key now
                    key = self._next_key()
                    self.db.execute("update submissions set key = ? where sha256 = ?", [key, sha])
                out[sha] = (int(key), int(sid or 0), level or "", [])
                by_key[int(key)] = sha
            keys = list(by_key)
            for row in self.db.execute(
                f"select f.sub, {cols} from finding_rows f join submissions s on s.key = f.sub "
                f"and f.screening_id = s.last_screening where f.sub in ({', '.join('?' * len(keys))}) order by f.id",
                keys,
            ):
                out[by_key[row[0]]][3].append(tuple(row[1:]))
            by_key.clear()
        return out

    def _confirm_result(
        self, screening_id: int, result: ScreeningResult, now: str, as_of: dt.date | None
    ) -> None:
        self.db.execute(
            "update screenings set checked_at = ?, as_of = ?, reference_versions = ?, check_versions = ? where id = ?",
            [
                now,
                as_of.isoformat() if as_of else None,
                json.dumps(result.reference_versions),
                json.dumps(result.check_versions),
                screening_id,
            ],
        )

    def _write_result(
        self, sha256: str, key: int, result: ScreeningResult, now: str, as_of: dt.date | None
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
                    "checked_at": now,
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
        self.db.execute("delete from finding_rows where sub = ?", [key])
        self.db.conn.executemany(
            "insert into finding_rows (sub, screening_id, code, severity, message, sheet, cell, mineral, smelter_id, field, [check], related) values (?,?,?,?,?,?,?,?,?,?,?,?)",
            [(key, screening_id, *row) for row in _rows(result)],
        )

    # -- reads -----------------------------------------------------------------------
    def has_submission(self, sha256: str) -> bool:
        return bool(
            self.db.execute("select 1 from submissions where sha256 = ?", [sha256]).fetchone()
        )

    def submission(self, sha256: str) -> Submission | None:
        rows = list(self.db.table("submissions").rows_where("sha256 = ?", [sha256]))
        return Submission.from_row(rows[0]) if rows else None

    def findings(self, sha256: str) -> list[Finding]:
        cols = ", ".join(f"[{c}]" for c in FINDING_COLUMNS)
        cur = self.db.execute(
            f"select {cols} from finding_rows where sub = (select key from submissions where sha256 = ?) order by id",
            [sha256],
        )
        return [_finding(row) for row in cur.fetchall()]

    def screening(self, screening_id: int) -> Screening:
        return Screening.from_row(self.db.table("screenings").get(screening_id))

    def count(self, table: str) -> int:
        return int(self.db.execute(f"select count(*) from [{table}]").fetchone()[0])

    def declaration(self, sha256: str) -> Declaration | None:
        """A stored submission's declaration (None: unknown, or the file was unreadable)."""
        row = self.db.execute(
            "select declaration_json from submissions where sha256 = ?", [sha256]
        ).fetchone()
        text = declaration_text(row[0]) if row else None
        return Declaration.from_dict(json.loads(text)) if text else None

    def iter_declarations(self, batch: int = 200) -> Iterator[tuple[str, Declaration]]:
        for rows in self.declaration_batches(batch):
            for sha, raw in rows:
                yield sha, Declaration.from_dict(json.loads(raw))

    def declaration_batches(self, batch: int = 100) -> Iterator[list[tuple[str, str]]]:
        """Stored declarations as (sha256, JSON), in key order, ``batch`` at a time (JSON, so
        a worker process can be handed a batch as it is)."""
        last = ""
        while True:
            rows = self.db.execute(
                "select sha256, declaration_json from submissions where declaration_json is not null and sha256 > ? order by sha256 limit ?",
                [last, batch],
            ).fetchall()
            if not rows:
                return
            yield [(sha, declaration_text(raw) or "null") for sha, raw in rows]
            last = rows[-1][0]

    def submissions_with_prefix(self, prefix: str, limit: int = 2) -> list[str]:
        """The sha256 of stored submissions starting with ``prefix`` (lower-case hex), at most
        ``limit`` (two tell a unique prefix from an ambiguous one)."""
        prefix = prefix.lower()
        if not prefix or any(c not in "0123456789abcdef" for c in prefix):
            return []
        return [
            row[0]
            for row in self.db.execute(
                "select sha256 from submissions where sha256 >= ? and sha256 < ? order by sha256 limit ?",
                [prefix, prefix + "g", limit],
            )
        ]

    # -- questions staff ask ---------------------------------------------------------
    def smelter_usage(self, cid: str, limit: int = 10) -> tuple[int, list[str]]:
        """How many suppliers (distinct declared companies) list a smelter, and the first names.

        Served from the (smelter_id, sub) index: milliseconds on 600,000 stored rows.
        """
        names = [
            row[0] or ""
            for row in self.db.execute(
                "select s.company_name from submissions s where s.sha256 in "
                "(select s2.sha256 from smelter_cells c join submissions s2 on s2.key = c.sub where c.smelter_id = ?) group by s.company_name order by s.company_name",
                [cid],
            )
        ]
        count = len(names)
        names = [n for n in names if n][:limit]
        return int(count), names

    def suppliers_listing(self, cid: str) -> list[SupplierListing]:
        return suppliers_listing(self.db, cid)
