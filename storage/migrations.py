"""Schema migrations: append-only, applied in order, each in one transaction.

Never edit a migration that has shipped; add a new one.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import sqlite_utils


def m001_initial(db: sqlite_utils.Database) -> None:
    db.create_table(
        "submissions",
        {
            "sha256": str,
            "first_seen": str,
            "filename": str,
            "size": int,
            "source": str,
            "template_type": str,
            "template_version": str,
            "company_name": str,
            "declaration_json": str,
            "readable": int,
            "last_screening": int,
            "risk_level": str,
            "errors": int,
            "risks": int,
            "warnings": int,
            "infos": int,
        },
        pk="sha256",
    )
    db.create_table(
        "screenings",
        {
            "id": int,
            "sha256": str,
            "screened_at": str,
            "as_of": str,
            "risk_level": str,
            "summary": str,
            "reference_versions": str,
            "check_versions": str,
        },
        pk="id",
    )
    db.table("screenings").create_index(["sha256"])
    db.create_table(
        "findings",
        {
            "sha256": str,
            "screening_id": int,
            "code": str,
            "severity": str,
            "message": str,
            "sheet": str,
            "cell": str,
            "mineral": str,
            "smelter_id": str,
            "field": str,
            "check": str,
        },
    )
    db.table("findings").create_index(["sha256"])
    db.table("findings").create_index(["code"])
    db.create_table(
        "smelter_rows",
        {
            "sha256": str,
            "row": int,
            "metal": str,
            "smelter_id": str,
            "name": str,
            "country": str,
            "lookup": str,
            "mine_countries": str,
        },
    )
    db.table("smelter_rows").create_index(["sha256"])
    db.table("smelter_rows").create_index(["smelter_id"])
    db.create_table(
        "rmap_lists",
        {
            "id": int,
            "version": str,
            "as_of": str,
            "source": str,
            "imported_at": str,
            "entries": int,
        },
        pk="id",
    )
    db.create_table(
        "rmap_entries",
        {
            "list_id": int,
            "cid": str,
            "status": str,
            "name": str,
            "metal": str,
            "country": str,
            "last_assessment": str,
            "next_assessment": str,
        },
    )
    db.table("rmap_entries").create_index(["list_id", "cid"], unique=True)
    db.create_table(
        "cahra_lists",
        {"id": int, "version": str, "countries": str, "source": str, "imported_at": str},
        pk="id",
    )


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("001_initial", m001_initial),
]


def m002_mail(db: sqlite_utils.Database) -> None:
    """Mail intake, the durable outbox, suppliers and grievances."""
    db.create_table(
        "messages",
        {
            "key": str,  # sha256 of the raw message: the same bytes are processed once
            "mailbox": str,
            "message_id": str,
            "received_at": str,
            "processed_at": str,
            "sender": str,  # supplier mailboxes only; never set for grievances
            "subject": str,
            "outcome": str,
            "reason": str,
            "supplier_id": int,
            "submissions": str,
        },
        pk="key",
    )
    db.create_table(
        "outbox",
        {
            "id": int,
            "dedupe_key": str,
            "channel": str,  # email, alert
            "created_at": str,
            "payload": str,  # JSON, or a Fernet token when encrypted = 1
            "encrypted": int,
            "recipient_hash": str,  # for per-recipient rate limits without reading payloads
            "status": str,  # pending, sent, dead
            "attempts": int,
            "next_attempt_at": str,
            "sent_at": str,
            "last_error": str,
        },
        pk="id",
    )
    db.table("outbox").create_index(["dedupe_key"], unique=True)
    db.table("outbox").create_index(["status", "next_attempt_at"])
    db.table("outbox").create_index(["recipient_hash", "created_at"])
    db.create_table(
        "suppliers",
        {
            "id": int,
            "name": str,
            "addresses": str,
            "domains": str,
            "expected": str,
            "imported_at": str,
        },
        pk="id",
    )
    db.table("suppliers").create_index(["name"], unique=True)
    db.create_table(
        "submission_sources",
        {
            "sha256": str,
            "source": str,
            "message_key": str,
            "supplier_id": int,
            "sender": str,
            "received_at": str,
        },
    )
    db.table("submission_sources").create_index(["sha256"])
    db.table("submission_sources").create_index(["supplier_id"])
    db.create_table(
        "grievances",
        {
            "case_id": str,
            "created_at": str,
            "updated_at": str,
            "status": str,
            "category": str,
            "subject_enc": str,
            "body_enc": str,
            "reporter_enc": str,  # address and identifying headers, Fernet-encrypted
            "reply_token": str,
            "cids": str,
            "supplier_ids": str,
            "respond_by": str,
        },
        pk="case_id",
    )
    db.table("grievances").create_index(["reply_token"], unique=True)
    db.create_table(
        "grievance_events",
        {"id": int, "case_id": str, "at": str, "kind": str, "status": str, "note_enc": str},
        pk="id",
    )
    db.table("grievance_events").create_index(["case_id"])
    db.create_table(
        "grievance_attachments", {"case_id": str, "sha256": str, "filename_enc": str, "size": int}
    )


MIGRATIONS.append(("002_mail", m002_mail))


def m003_lookup_index(db: sqlite_utils.Database) -> None:
    """Smelter look-ups count suppliers from the index alone."""
    db.table("smelter_rows").create_index(
        ["smelter_id", "sha256"], index_name="idx_smelter_rows_smelter_sha"
    )


MIGRATIONS.append(("003_lookup_index", m003_lookup_index))


def m004_delivery_and_cases(db: sqlite_utils.Database) -> None:
    """Outbox rows are claimed with a lease (any number of notifiers on one database deliver
    each row once); grievance cases can be merged into another."""
    outbox = db.table("outbox")
    outbox.add_column("lease_owner", str)  # who claimed the row ("host:pid:thread")
    outbox.add_column(
        "lease_until", str
    )  # claim expiry (UTC ISO); a dead owner's row is reclaimed after it
    outbox.add_column(
        "first_attempt_at", str
    )  # when delivery was first tried (Slack look-ups start here)
    outbox.add_column("delivered_ref", str)  # the transport's reference (Slack ts, SMTP reply)
    db.table("grievances").add_column("merged_into", str)  # case id this case was merged into


MIGRATIONS.append(("004_delivery_and_cases", m004_delivery_and_cases))


def m005_reference_lists(db: sqlite_utils.Database) -> None:
    """Several RMAP lists, each covering its metals; RMI's status words with their standing and
    audit cycle; dated CAHRA lists with their areas; smelter reference refreshes."""
    lists = db.table("rmap_lists")
    lists.add_column("metals", str)  # JSON list of canonical metals the list covers
    lists.add_column("summary", str)  # JSON: conflicts, repairs, skipped rows, sources
    entries = db.table("rmap_entries")
    entries.add_column("standing", str)  # conformant | active | not-conformant
    entries.add_column("audit_cycle", str)
    cahra = db.table("cahra_lists")
    cahra.add_column("as_of", str)
    cahra.add_column("areas", str)  # JSON {ISO-2: [area, ...]}
    db.create_table(
        "smelter_lists",
        {"id": int, "version": str, "source": str, "imported_at": str, "smelters": int},
        pk="id",
    )
    db.create_table(
        "smelter_refs",
        {
            "list_id": int,
            "cid": str,
            "metal": str,
            "name": str,
            "country": str,
            "aliases": str,  # JSON list
        },
    )
    db.table("smelter_refs").create_index(["list_id", "cid"], unique=True)


MIGRATIONS.append(("005_reference_lists", m005_reference_lists))


def m006_finding_related(db: sqlite_utils.Database) -> None:
    """A finding names the other cells involved ("Sheet!Cell"), as a JSON list."""
    db.table("findings").add_column("related", str)


MIGRATIONS.append(("006_finding_related", m006_finding_related))


def m007_campaigns(db: sqlite_utils.Database) -> None:
    """Survey campaigns: who was asked, what they were sent and when, remediations, grades.

    Suppliers gain their internal owner (an e-mail address or a Slack user id) and the metals
    in scope (a JSON list)."""
    suppliers = db.table("suppliers")
    suppliers.add_column("owner", str)
    suppliers.add_column("metals", str)
    # How a file's supplier was recognised: address, domain, company (the name it declares
    # only) or empty (not recognised); null on rows written before. A campaign counts a
    # file e-mailed from an address it cannot tie to the supplier as an attempt only.
    db.table("submission_sources").add_column("matched_by", str)
    db.create_table(
        "campaigns",
        {
            "id": int,
            "name": str,
            "family": str,  # CMRT, EMRT, CRT, AMRT
            "min_version": str,
            "deadline": str,  # ISO dates
            "final_deadline": str,
            "escalate_after": int,
            "reminder_days": str,  # JSON list of day offsets from the deadline
            "opened_on": str,  # the (clock's) day it was created
            "created_at": str,  # UTC timestamp: files received from then on are responses
            "state": str,  # open | closed
        },
        pk="id",
    )
    db.table("campaigns").create_index(["name"], unique=True)
    db.create_table(
        "campaign_suppliers",
        {
            "campaign_id": int,
            "supplier_id": int,
            "added_on": str,
            "requested_on": str,  # the day its request was queued (null: not yet)
            "request_message_id": str,
            "escalated_on": str,
        },
        pk=("campaign_id", "supplier_id"),
    )
    db.create_table(
        "campaign_events",
        {
            "id": int,
            "campaign_id": int,
            "supplier_id": int,
            "kind": str,  # request | reminder | skipped | escalation | non-responsive
            "offset": int,  # reminders: days from the deadline; else 0
            "on_date": str,
            "created_at": str,
        },
        pk="id",
    )
    db.table("campaign_events").create_index(
        ["campaign_id", "supplier_id", "kind", "offset"], unique=True
    )
    db.create_table(
        "remediations",
        {
            "id": int,
            "supplier_id": int,
            "opened_at": str,
            "file_sha256": str,
            "cids": str,  # JSON list of the CIDs not conformant
            "updated_at": str,
            "closed_at": str,
            "close_reason": str,
            "waived": int,  # 1: closed by an officer's waiver (its smelters stay waived)
        },
        pk="id",
    )
    db.table("remediations").create_index(["supplier_id"])
    db.create_table(
        "grade_history",
        {"campaign_id": int, "supplier_id": int, "on_date": str, "level": str, "reasons": str},
        pk=("campaign_id", "supplier_id", "on_date"),
    )


MIGRATIONS.append(("007_campaigns", m007_campaigns))


def m008_lookup_cache(db: sqlite_utils.Database) -> None:
    """Parsed Smelter Look-ups by key (storage.lookup_store): a cache, safe to empty."""
    db.create_table("lookup_cache", {"key": str, "table_json": str, "created_at": str}, pk="key")


MIGRATIONS.append(("008_lookup_cache", m008_lookup_cache))


def m009_compact_store(db: sqlite_utils.Database) -> None:
    """A smaller store (issue 13; docs/storage.md).

    - Declarations are stored compressed (:func:`storage.models.pack_declaration`), converted
      here in place; readers accept both forms.
    - Smelter rows move to ``smelter_cells``, keyed by a small integer (``submissions.key``)
      instead of the 64-character hash repeated in the table and two indexes. ``smelter_rows``
      stays, as a view with the old columns (triggers keep it writable), so every query of it
      reads the same; ``lookup`` is NULL there when it equals ``name`` (the view fills it).
      The index on ``smelter_id`` alone, a prefix of ``(smelter_id, sha256)``, is gone.
      Findings the same: ``finding_rows``, with ``findings`` a view (its ``rowid`` the row's id).
    - Screenings gain ``checked_at``: a re-screen that finds the same result moves it
      instead of writing the result again.
    """
    from .models import pack_declaration

    conn = db.conn
    rows = conn.execute(
        "select sha256, declaration_json from submissions where typeof(declaration_json) = 'text'"
    ).fetchall()
    conn.executemany(
        "update submissions set declaration_json = ? where sha256 = ?",
        [(pack_declaration(json.loads(raw)), sha) for sha, raw in rows],
    )
    db.table("submissions").add_column("key", int)
    conn.execute("update submissions set key = rowid")
    db.table("submissions").create_index(["key"], unique=True)
    conn.execute(
        "create table smelter_cells (sub integer not null, row integer, metal text, "
        "smelter_id text, name text, country text, lookup text, mine_countries text)"
    )
    conn.execute(
        "insert into smelter_cells select s.key, r.row, r.metal, r.smelter_id, r.name, "
        "r.country, nullif(r.lookup, r.name), r.mine_countries "
        "from smelter_rows r join submissions s on s.sha256 = r.sha256 order by r.rowid"
    )
    conn.execute("drop table smelter_rows")  # its three indexes go with it
    conn.execute("create index idx_smelter_cells_sub on smelter_cells (sub)")
    conn.execute("create index idx_smelter_cells_smelter_sub on smelter_cells (smelter_id, sub)")
    conn.execute(
        "create view smelter_rows as select s.sha256 as sha256, c.row as row, c.metal as metal, "
        "c.smelter_id as smelter_id, c.name as name, c.country as country, "
        "coalesce(c.lookup, c.name) as lookup, c.mine_countries as mine_countries "
        "from smelter_cells c join submissions s on s.key = c.sub"
    )
    sub = "(select key from submissions where sha256 = {}.sha256)"
    conn.execute(
        "create trigger smelter_rows_insert instead of insert on smelter_rows begin "
        "insert into smelter_cells values "
        f"({sub.format('new')}, new.row, new.metal, new.smelter_id, new.name, new.country, "
        "nullif(new.lookup, new.name), new.mine_countries); end"
    )
    conn.execute(
        "create trigger smelter_rows_update instead of update on smelter_rows begin "
        "update smelter_cells set row = new.row, metal = new.metal, smelter_id = new.smelter_id, "
        "name = new.name, country = new.country, lookup = nullif(new.lookup, new.name), "
        f"mine_countries = new.mine_countries where sub = {sub.format('old')} and row is old.row "
        "and smelter_id is old.smelter_id; end"
    )
    conn.execute(
        "create trigger smelter_rows_delete instead of delete on smelter_rows begin "
        f"delete from smelter_cells where sub = {sub.format('old')} and row is old.row; end"
    )
    db.table("screenings").add_column("checked_at", str)
    # Findings likewise: ``finding_rows`` under the key, ``findings`` a view with the hash
    # and the old row ids (``rowid``, the order they were written in). No query reads
    # findings by code, so that index is not carried over.
    cols = "screening_id, code, severity, message, sheet, cell, mineral, smelter_id, field, [check], related"
    conn.execute(
        "create table finding_rows (id integer primary key, sub integer not null, "
        "screening_id integer, code text, severity text, message text, sheet text, cell text, "
        "mineral text, smelter_id text, field text, [check] text, related text)"
    )
    conn.execute(
        f"insert into finding_rows (id, sub, {cols}) select f.rowid, s.key, "
        + ", ".join(f"f.{c}" for c in cols.split(", "))
        + " from findings f join submissions s on s.sha256 = f.sha256 order by f.rowid"
    )
    conn.execute("drop table findings")
    conn.execute("create index idx_finding_rows_sub on finding_rows (sub)")
    conn.execute(
        "create view findings as select f.id as rowid, s.sha256 as sha256, "
        + ", ".join(f"f.{c} as {c}" for c in cols.split(", "))
        + " from finding_rows f join submissions s on s.key = f.sub"
    )
    conn.execute(
        "create trigger findings_insert instead of insert on findings begin "
        f"insert into finding_rows (sub, {cols}) values ({sub.format('new')}, "
        + ", ".join(f"new.{c}" for c in cols.split(", "))
        + "); end"
    )
    conn.execute(
        "create trigger findings_update instead of update on findings begin "
        "update finding_rows set "
        + ", ".join(f"{c} = new.{c}" for c in cols.split(", "))
        + " where id = old.rowid; end"
    )
    conn.execute(
        "create trigger findings_delete instead of delete on findings begin "
        "delete from finding_rows where id = old.rowid; end"
    )


MIGRATIONS.append(("009_compact_store", m009_compact_store))
