"""Submissions: every file screened, its declaration, its smelter rows and its findings.

Submissions are keyed by the sha256 of the file, so screening the same bytes twice (a
resent e-mail, a restarted intake) stores one submission. The parsed declaration is kept
as JSON beside the screening results, so a new RMAP list can be applied to every stored
submission without the original files (the composition root's ``assay.rescreen`` reads them
in batches and writes each batch's results here). Originals are still kept,
content-addressed, in a folder beside the database, so any result can be reproduced.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlite_utils

from plugins.models import Declaration, Finding, ScreeningResult

from .db import utcnow
from .models import Screening, Submission, SupplierListing
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
            "select distinct s.company_name, s.sha256 from smelter_rows r join submissions s on s.sha256 = r.sha256 where r.smelter_id = ? order by s.company_name",
            [cid],
        )
    ]


class SubmissionStore:
    db: sqlite_utils.Database
    files_dir: Path

    # -- originals -----------------------------------------------------------------
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

    def record_results(
        self,
        results: Sequence[tuple[str, ScreeningResult]],
        as_of: dt.date | None = None,
        screened_at: str = "",
    ) -> int:
        """New results of stored submissions (a rescreen's batch), in one transaction; the
        declarations stay as stored. ``screened_at``: the run's time (UTC ISO; default now),
        the same for every batch of one run. Returns how many."""
        now = screened_at or utcnow()
        with write_transaction(self.db):
            for sha, result in results:
                self._write_result(sha, result, now, as_of)
        return len(results)

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
            f"select {cols} from findings where sha256 = ? order by rowid", [sha256]
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
        return Declaration.from_dict(json.loads(row[0])) if row and row[0] else None

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
            yield [(sha, raw) for sha, raw in rows]
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

    def suppliers_listing(self, cid: str) -> list[SupplierListing]:
        return suppliers_listing(self.db, cid)
