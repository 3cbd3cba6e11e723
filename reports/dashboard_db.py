"""The dashboard's aggregate database: only what the board's charts need, nothing personal.

The board (Datasette) never sees Assay's own database. ``assay dashboard build`` and
``assay serve`` write this separate file from it, and the schema itself is the guarantee of
what it cannot hold:

- every table is ``STRICT`` and has only INTEGER, REAL and TEXT columns, so no file (a BLOB)
  can be stored in it;
- every free TEXT column is at most 200 characters and holds no ``@``, so neither an e-mail
  address nor a grievance's text nor a workbook fits; enumerations (statuses, grades, metals,
  dates, CIDs) are checked against their alphabet, so the board's links can be built from
  them without escaping;
- there is no column for an address, a reply token, a grievance's subject, text or reporter,
  a Slack user or an original file: grievances are counts by status and category.

Outside text (supplier, smelter and campaign names) is cleaned on the way in (:func:`clean`):
NFKC, control and bidi characters dropped, an address replaced, cut to 200 characters.

The file is rewritten **in place in one transaction** (every table emptied and refilled), so a
Datasette holding it open reads the old figures or the new ones, never half of each; a schema
change drops and recreates the tables in that same transaction. sqlite3 is used directly
(not sqlite-utils): CHECK constraints and STRICT tables are plain DDL.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.store import Store

from .dashboard_data import dashboard_rows

SCHEMA_VERSION = 1
TEXT_MAX = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]+")
_ADDRESS = re.compile(r"\S*@\S*")

#: Column kinds and their CHECK (``{c}``: the column). All columns are NOT NULL.
KINDS: dict[str, tuple[str, str]] = {
    "int": ("INTEGER", ""),
    "flag": ("INTEGER", "{c} IN (0, 1)"),
    "real": ("REAL", ""),
    # Free text from outside: short, and no address can be written in it.
    "text": ("TEXT", f"length({{c}}) <= {TEXT_MAX} AND instr({{c}}, '@') = 0"),
    # A status, grade or standing: lower-case slug.
    "slug": ("TEXT", "length({c}) <= 40 AND {c} NOT GLOB '*[^a-z0-9-]*'"),
    # A metal, a template family, an age band: letters, digits, spaces, + and -.
    "word": ("TEXT", "length({c}) <= 40 AND {c} NOT GLOB '*[^A-Za-z0-9 +-]*'"),
    "date": ("TEXT", "{c} = '' OR {c} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'"),
    "stamp": ("TEXT", "length({c}) <= 40 AND {c} NOT GLOB '*[^0-9T:.+Z-]*'"),
    "cid": ("TEXT", "{c} GLOB 'CID[0-9][0-9][0-9][0-9][0-9][0-9]'"),
    "cids": ("TEXT", f"length({{c}}) <= {TEXT_MAX} AND {{c}} NOT GLOB '*[^A-Z0-9, +]*'"),
}


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]  # (name, kind)
    key: tuple[str, ...] = ()
    about: str = ""

    def ddl(self) -> str:
        cols = []
        for name, kind in self.columns:
            sql_type, check = KINDS[kind]
            line = f"{name} {sql_type} NOT NULL"
            if check:
                line += f" CHECK ({check.format(c=name)})"
            cols.append(line)
        if self.key:
            cols.append(f"PRIMARY KEY ({', '.join(self.key)})")
        return f"CREATE TABLE {self.name} (\n  " + ",\n  ".join(cols) + "\n) STRICT"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.columns)


TABLES: tuple[Table, ...] = (
    Table(
        "build",
        (
            ("as_of", "date"),
            ("built_at", "stamp"),
            ("response_target", "real"),
            ("rmap_list_date", "date"),
            ("schema_version", "int"),
        ),
        about="one row: the day the figures are for, the target, the newest RMAP list's date",
    ),
    Table(
        "campaigns",
        (
            ("campaign_id", "int"),
            ("campaign", "text"),
            ("family", "word"),
            ("state", "slug"),
            ("opened_on", "date"),
            ("deadline", "date"),
            ("final_deadline", "date"),
            ("suppliers", "int"),
            ("responded", "int"),
            ("accepted", "int"),
            ("response_rate", "real"),
            ("category", "word"),
            ("overdue", "int"),
        ),
        ("campaign_id",),
        "each open campaign's response figures as of the build",
    ),
    Table(
        "response_daily",
        (
            ("campaign_id", "int"),
            ("campaign", "text"),
            ("family", "word"),
            ("metal", "word"),
            ("day", "date"),
            ("day_number", "int"),
            ("suppliers", "int"),
            ("responded", "int"),
            ("response_rate", "real"),
            ("target", "real"),
        ),
        ("campaign_id", "metal", "day"),
        "cumulative response rate per open campaign and day, for all suppliers ('All') and "
        "per metal (the suppliers registered for it)",
    ),
    Table(
        "campaign_suppliers",
        (
            ("campaign_id", "int"),
            ("campaign", "text"),
            ("family", "word"),
            ("supplier_id", "int"),
            ("supplier", "text"),
            ("status", "slug"),
            ("grade", "slug"),
            ("grade_reasons", "text"),
            ("metals", "text"),
            ("responded", "flag"),
            ("overdue", "flag"),
            ("last_file_date", "date"),
            ("reminders_sent", "int"),
        ),
        ("campaign_id", "supplier_id"),
        "each supplier of each open campaign: status, grade, overdue",
    ),
    Table(
        "smelters",
        (
            ("campaign_id", "int"),
            ("campaign", "text"),
            ("family", "word"),
            ("metal", "word"),
            ("cid", "cid"),
            ("smelter", "text"),
            ("country", "text"),
            ("standing", "slug"),
            ("list_date", "date"),
            ("suppliers", "int"),
            ("covered_country", "flag"),
            ("cahra_country", "flag"),
            ("risky_mines", "text"),
            ("high_risk", "flag"),
            ("risk", "text"),
        ),
        ("campaign_id", "metal", "cid"),
        "the consolidated smelter list: campaign 0 (campaign '') reads every registered "
        "supplier's latest files, each open campaign its own answers",
    ),
    Table(
        "smelter_suppliers",
        (
            ("campaign_id", "int"),
            ("campaign", "text"),
            ("metal", "word"),
            ("cid", "cid"),
            ("supplier_id", "int"),
            ("supplier", "text"),
        ),
        ("campaign_id", "metal", "cid", "supplier_id"),
        "which suppliers list each smelter that is high-risk or not yet conformant",
    ),
    Table(
        "remediations",
        (
            ("remediation_id", "int"),
            ("supplier_id", "int"),
            ("supplier", "text"),
            ("state", "slug"),
            ("opened_on", "date"),
            ("closed_on", "date"),
            ("age_days", "int"),
            ("age_band", "word"),
            ("smelters", "int"),
            ("cids", "cids"),
        ),
        ("remediation_id",),
        "every remediation: open, closed or waived, its age and how many smelters",
    ),
    Table(
        "grievance_counts",
        (("status", "slug"), ("category", "slug"), ("grievances", "int")),
        ("status", "category"),
        "grievances counted by status and category: no case, text, date or reporter",
    ),
)
TABLE_BY_NAME = {t.name: t for t in TABLES}


def clean(value: object, limit: int = TEXT_MAX) -> str:
    """Outside text as the aggregate database may hold it (see the module docstring)."""
    text = unicodedata.normalize("NFKC", str(value if value is not None else ""))
    text = " ".join(_CONTROL.sub(" ", text).split())
    text = _ADDRESS.sub(
        lambda m: (
            "[address removed]"
            if "." in m.group().split("@", 1)[1]
            else m.group().replace("@", "(at)")
        ),
        text,
    )
    text = text.replace("@", "(at)")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def slug(value: object) -> str:
    """An enumeration as a slug (anything else becomes ``other``)."""
    text = re.sub(r"[^a-z0-9-]+", "-", str(value).strip().lower()).strip("-")[:40]
    return text or "other"


def cid_list(cids: Sequence[str], limit: int = 12) -> str:
    shown = [c for c in cids if re.fullmatch(r"CID\d{6}", c)][:limit]
    more = len(cids) - len(shown)
    return ",".join(shown) + (f" +{more}" if more > 0 else "")


def _word(value: object) -> str:
    return re.sub(r"[^A-Za-z0-9 +-]+", "", str(value))[:40]


def _date(value: object) -> str:
    text = str(value or "")[:10]
    return text if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else ""


def _stamp(value: object) -> str:
    text = str(value or "")[:40]
    return text if re.fullmatch(r"[0-9T:.+Z-]*", text) else ""


#: How a value from Assay's store is made to fit each kind (a CID that does not is dropped).
_FIT: dict[str, Any] = {
    "int": int,
    "flag": lambda v: int(bool(v)),
    "real": float,
    "text": clean,
    "slug": slug,
    "word": _word,
    "date": _date,
    "stamp": _stamp,
    "cid": str,
    "cids": lambda v: cid_list(list(v)) if not isinstance(v, str) else cid_list(v.split(",")),
}


_CID = re.compile(r"CID\d{6}")
_MEMO = ("text", "slug", "word", "date", "cid")  # kinds whose values repeat (names, metals)


def prepare(table: str, rows: Iterable[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    """Dict rows as tuples in ``table``'s column order, every value fitted to its kind; a row
    whose CID is not an RMI CID is left out (the smelter tables are keyed by CID).

    Fitted texts are remembered for the call: 200,000 supplier-smelter rows hold only a few
    thousand distinct names."""
    t = TABLE_BY_NAME[table]
    memo: dict[tuple[str, Any], Any] = {}

    def fit(kind: str, value: Any) -> Any:
        if kind not in _MEMO:
            return _FIT[kind](value)
        key = (kind, value)
        if key not in memo:
            memo[key] = _FIT[kind](value)
        return memo[key]

    cids = [i for i, (_, kind) in enumerate(t.columns) if kind == "cid"]
    out = []
    for r in rows:
        values = tuple(fit(kind, r[name]) for name, kind in t.columns)
        if all(_CID.fullmatch(values[i]) for i in cids):
            out.append(values)
    return out


@dataclass(frozen=True)
class BuildSummary:
    path: Path
    counts: Mapping[str, int]

    def line(self) -> str:
        parts = ", ".join(f"{n} {self.counts[n]}" for n in self.counts if n != "build")
        return f"dashboard database {self.path}: {parts}"


class NotADashboard(ValueError):
    """The file is not the dashboard's: not SQLite, or another database (Assay's own, say)."""


def check_dashboard_file(path: Path, *, empty_ok: bool = False) -> None:
    """Refuse a file that is not an aggregate database of this module (``empty_ok``: an
    empty file or one with no table yet is accepted, to be built). The refusal is one line
    naming the file; nothing is written."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            names = {
                r[0] for r in conn.execute("select name from sqlite_master where type='table'")
            }
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        raise NotADashboard(f"{path} is not an SQLite database: choose another file") from None
    if "build" in names or (empty_ok and not names):
        return
    what = (
        "has no table" if not names else "holds other tables (" + ", ".join(sorted(names)[:5]) + ")"
    )
    raise NotADashboard(f"{path} is not a dashboard database: it {what}; choose another file")


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():  # owner-only from the first byte
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = OFF")
    return conn


def _schema_current(conn: sqlite3.Connection) -> bool:
    have = {r[0]: r[1] for r in conn.execute("select name, sql from sqlite_master")}
    return all(have.get(t.name) == t.ddl() for t in TABLES) and set(have) == {
        t.name for t in TABLES
    } | {n for n in have if n.startswith("sqlite_autoindex_")}


def write_tables(path: Path, rows: Mapping[str, Iterable[Mapping[str, Any]]]) -> BuildSummary:
    """Replace every table's rows (and the schema when it changed) in one transaction;
    ``rows``: dict rows per table name (``build`` included), fitted by :func:`prepare`."""
    fitted = {t.name: prepare(t.name, rows.get(t.name, ())) for t in TABLES}
    if path.exists():  # never drop the tables of a file that is not ours (Assay's own, say)
        check_dashboard_file(path, empty_ok=True)
    conn = _connect(path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if not _schema_current(conn):
                for (name,) in conn.execute(
                    "select name from sqlite_master where type = 'table'"
                ).fetchall():
                    conn.execute(f'DROP TABLE "{name}"')
                for t in TABLES:
                    conn.execute(t.ddl())
            counts: dict[str, int] = {}
            for t in TABLES:
                conn.execute(f"DELETE FROM {t.name}")
                marks = ", ".join("?" for _ in t.columns)
                conn.executemany(f"INSERT INTO {t.name} VALUES ({marks})", fitted[t.name])
                counts[t.name] = len(fitted[t.name])
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLite ends it itself on a full disk
                conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()
    return BuildSummary(path, counts)


def columns_of(path: Path) -> dict[str, list[tuple[str, str]]]:
    """``{table: [(column, declared type)]}`` of a built file (for tests and docs)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
        return {n: [(r[1], r[2]) for r in conn.execute(f'PRAGMA table_info("{n}")')] for n in names}
    finally:
        conn.close()


def build_dashboard(
    store: Store,
    path: Path,
    *,
    as_of: dt.date,
    target: float = 0.9,
    current_versions: Mapping[str, str] | None = None,
    stale_after_days: int = 400,
) -> BuildSummary:
    """(Re)write the aggregate database at ``path`` from ``store``, as of a day."""
    rows = dashboard_rows(
        store,
        as_of,
        target=target,
        current_versions=current_versions,
        stale_after_days=stale_after_days,
    )
    rows["build"] = [{**rows["build"][0], "schema_version": SCHEMA_VERSION}]
    return write_tables(path, rows)
