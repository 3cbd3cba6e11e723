"""The dashboard's aggregate database: what its schema can hold, its figures, its rewrite."""

from __future__ import annotations

import re
import sqlite3
import stat
from pathlib import Path

import pytest

from reports.dashboard_db import TABLES, clean, columns_of, prepare, write_tables
from reports.dashboard_figures import (
    HEADLINES,
    format_figure,
    headline_figures,
    strip_filters,
)
from storage.store import Store

from .dashboard_support import (
    ADDRESS,
    AS_OF,
    HOSTILE_SMELTER,
    KNOWN,
    MARKER,
    build,
)

#: Words a column name would carry if it held something the dashboard must not have.
FORBIDDEN = re.compile(
    r"mail|address|token|secret|password|body|subject|text|reporter|sender|owner|"
    r"attachment|file(?!_date)|blob|note|message|contact|phone"
)


@pytest.fixture
def built(tmp_path: Path) -> Path:
    return build(tmp_path).path


def test_every_table_is_strict_with_plain_typed_columns(built: Path) -> None:
    conn = sqlite3.connect(built)
    ddl = dict(conn.execute("select name, sql from sqlite_master where type = 'table'"))
    assert set(ddl) == {t.name for t in TABLES}
    for name, sql in ddl.items():
        assert sql.rstrip().endswith("STRICT"), name
    for table, cols in columns_of(built).items():
        for col, kind in cols:
            assert kind in ("INTEGER", "REAL", "TEXT"), (table, col, kind)
            assert not FORBIDDEN.search(col), (table, col)


@pytest.mark.parametrize(
    "value",
    [
        "survey@supplier.example.test",
        "x" * 201,
        b"PK\x03\x04 a workbook",
        None,
    ],
    ids=["address", "long-text", "file", "null"],
)
def test_no_column_can_hold_an_address_a_long_text_or_a_file(built: Path, value: object) -> None:
    conn = sqlite3.connect(built)
    checked = 0
    for t in TABLES:
        valid = conn.execute(f"select * from {t.name} limit 1").fetchone()
        assert valid is not None, t.name  # the fixture fills every table
        insert = f"insert into {t.name} values ({', '.join('?' * len(valid))})"
        conn.execute(f"delete from {t.name}")
        conn.execute(insert, valid)  # the control: the row as built goes in
        for i, (col, kind) in enumerate(t.columns):
            if isinstance(value, str) and kind in ("int", "flag", "real"):
                continue  # a STRICT number column refuses any text; covered by "file"
            if value is None and t.key == (col,):
                continue  # an INTEGER PRIMARY KEY given NULL takes the next rowid
            conn.execute(f"delete from {t.name}")
            row = list(valid)
            row[i] = value
            with pytest.raises(sqlite3.IntegrityError):
                conn.execute(insert, row)
            checked += 1
    conn.rollback()
    assert checked > 40


def test_the_program_gives_the_known_figures(built: Path) -> None:
    h = headline_figures(built)
    assert {k: v for k, _t, v in h.figures} == KNOWN
    assert h.as_of == AS_OF.isoformat() and h.target == 0.9
    assert [(c.suppliers, c.responded, c.overdue) for c in h.campaigns] == [(2, 1, 0), (4, 2, 3)]
    assert [f.key for f in HEADLINES] == list(KNOWN)


def test_nothing_private_reaches_the_database(tmp_path: Path, built: Path) -> None:
    data = built.read_bytes()
    for secret in (MARKER, ADDRESS, "survey@", "token-"):
        assert secret.encode() not in data, secret
    conn = sqlite3.connect(built)
    for t in TABLES:
        for row in conn.execute(f"select * from {t.name}"):
            assert not any("@" in v for v in row if isinstance(v, str)), row
    # The source database does hold them (the test would prove nothing otherwise).
    source = (tmp_path / "assay.db").read_bytes()
    assert MARKER.encode() in source and b"survey@" in source


def test_outside_names_are_kept_as_text_for_the_board_to_escape(built: Path) -> None:
    conn = sqlite3.connect(built)
    names = {r[0] for r in conn.execute("select smelter from smelters")}
    assert HOSTILE_SMELTER in names


def test_the_file_is_private(built: Path) -> None:
    assert stat.S_IMODE(built.stat().st_mode) == 0o600


def test_rewritten_in_place_readers_see_the_new_figures(tmp_path: Path) -> None:
    summary = build(tmp_path)
    reader = sqlite3.connect(f"file:{summary.path}?mode=ro", uri=True)
    assert reader.execute("select count(*) from grievance_counts").fetchone() == (3,)
    inode = summary.path.stat().st_ino
    store = Store(tmp_path / "assay.db")
    store.db.execute("delete from grievances")
    store.db.conn.commit()
    from reports.dashboard_db import build_dashboard

    build_dashboard(store, summary.path, as_of=AS_OF)
    store.close()
    assert summary.path.stat().st_ino == inode
    assert reader.execute("select count(*) from grievance_counts").fetchone() == (0,)
    assert reader.execute("select count(*) from smelters").fetchone()[0] > 0


def test_an_old_schema_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.db"
    conn = sqlite3.connect(path)
    conn.execute("create table build (as_of text)")  # an older dashboard's
    conn.execute("create table smelters (everything blob)")
    conn.execute("create table leftover (x)")
    conn.commit()
    conn.close()
    write_tables(path, {})
    assert set(columns_of(path)) == {t.name for t in TABLES}


def test_a_failed_write_leaves_the_old_figures(tmp_path: Path) -> None:
    path = build(tmp_path).path
    before = headline_figures(path)
    bad = {"grievance_counts": [{"status": "x", "category": "y", "grievances": "not a number"}]}
    with pytest.raises(ValueError):
        write_tables(path, bad)
    assert headline_figures(path) == before


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("Acme\u202eevil\u202c Metals", "Acme evil Metals"),
        ("Acme\x00\r\nMetals", "Acme Metals"),
        ("sales\uff20acme.example.test Metals", "[address removed] Metals"),
        ("Metals@Work", "Metals(at)Work"),
        ("a" * 300, "a" * 199 + "…"),
    ],
)
def test_clean(raw: str, kept: str) -> None:
    assert clean(raw) == kept


def test_a_row_without_an_rmi_cid_is_left_out() -> None:
    row = {
        "campaign_id": 0,
        "campaign": "",
        "metal": "Tin",
        "cid": "CID12",
        "supplier_id": 1,
        "supplier": "x",
    }
    assert prepare("smelter_suppliers", [row]) == []
    assert len(prepare("smelter_suppliers", [{**row, "cid": "CID000001"}])) == 1


def test_filters_are_dropped_for_the_digest() -> None:
    sql = "SELECT 1 WHERE TRUE [[ AND a = :a ]] [[\n AND b = :b ]]"
    assert strip_filters(sql) == "SELECT 1 WHERE TRUE"
    for f in HEADLINES:
        assert "[[" not in strip_filters(f.sql) and f.rows.startswith("/dashboard/")


@pytest.mark.parametrize(
    ("value", "percent", "text"),
    [
        (87.5, True, "87.5%"),
        (90.0, True, "90%"),
        (0, True, "0%"),
        (3, False, "3"),
        (33.3, True, "33.3%"),
    ],
)
def test_format_figure_reads_as_the_board_prints(value: float, percent: bool, text: str) -> None:
    figure = next(f for f in HEADLINES if f.percent == percent)
    assert format_figure(figure, value) == text


def test_an_empty_store_builds_zeros(tmp_path: Path) -> None:
    store = Store(tmp_path / "empty.db")
    from reports.dashboard_db import build_dashboard

    summary = build_dashboard(store, tmp_path / "d.db", as_of=AS_OF)
    store.close()
    assert all(v == 0 for _k, _t, v in headline_figures(summary.path).figures)
