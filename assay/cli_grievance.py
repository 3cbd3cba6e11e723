"""``assay grievance``: grievance cases for the grievance officer.

``list`` (and its CSV/XLSX export) shows status, category, dates and linked smelters only:
never the case text, never the reporter; ``show`` decrypts the text for the officer.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from storage.grievances import MERGED, STATUSES
from storage.models import Grievance

from .app import open_store
from .cli_suppliers import emit, format_option, out_option
from .config import Config

#: Columns of ``grievance list --format csv|xlsx|json``: no content, no reporter.
HEADER: tuple[str, ...] = (
    "Case",
    "Status",
    "Merged into",
    "Category",
    "Received",
    "Answer by",
    "Smelters",
    "Linked suppliers",
)


def table_rows(cases: list[Grievance]) -> list[list[str | int | None]]:
    return [
        [
            g.case_id,
            g.status,
            g.merged_into or "",
            g.category,
            g.created_at[:10],
            g.respond_by,
            ", ".join(g.cids),
            len(g.supplier_ids),
        ]
        for g in cases
    ]


@click.group()
def grievance() -> None:
    """Grievance cases (for the grievance officer)."""


def _cipher(config: Config):  # type: ignore[no-untyped-def]
    from storage.crypto import CipherError

    from .settings import grievance_cipher

    try:
        return grievance_cipher(config)
    except CipherError as exc:
        raise click.ClickException(str(exc)) from exc


@grievance.command("list")
@click.option(
    "--status",
    default=None,
    type=click.Choice([*STATUSES, MERGED], case_sensitive=False),
    help="Only cases with this status.",
)
@format_option
@out_option
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def grievance_list(
    config: Config, status: str | None, fmt: str, out_path: Path | None, db: Path | None
) -> None:
    """Cases with status, category and dates; never the text, never the reporter."""
    from reports.tables import write_csv

    cases = open_store(config, db).grievances(status)
    if fmt == "xlsx":
        emit([("Grievances", HEADER, table_rows(cases))], out_path)
    elif fmt == "csv":
        emit(write_csv(HEADER, table_rows(cases)), out_path)
    elif fmt == "json":
        keys = (
            "case_id",
            "status",
            "merged_into",
            "category",
            "received",
            "respond_by",
            "cids",
            "linked_suppliers",
        )
        items = [
            dict(zip(keys, [*r[:6], list(g.cids), r[7]], strict=True))
            for g, r in zip(cases, table_rows(cases), strict=True)
        ]
        emit(json.dumps(items, indent=2, ensure_ascii=False) + "\n", out_path)
    else:
        lines = []
        for g in cases:
            merged = f" -> {g.merged_into}" if g.merged_into else ""
            lines.append(
                f"{g.case_id}  {g.status + merged:<13} {g.category:<15} received {g.created_at[:10]}  answer by {g.respond_by}  smelters: {', '.join(g.cids) or '-'}"
            )
        emit("".join(line + "\n" for line in lines), out_path)


@grievance.command("show")
@click.argument("case_id")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def grievance_show(config: Config, case_id: str, db: Path | None) -> None:
    """One case: its text and history (decrypted with the grievance key); never the reporter.

    A case that others were merged into shows their text, history and attachments too."""
    store = open_store(config, db)
    g = store.grievance(case_id)
    if g is None:
        raise click.ClickException(f"no case {case_id}")
    cipher = _cipher(config)
    click.echo(
        f"{g.case_id}  status {g.status}  category {g.category}  received {g.created_at}  answer by {g.respond_by}"
    )
    if g.merged_into:
        click.echo(f"merged into {g.merged_into}: follow-ups to this case join {g.merged_into}")
    click.echo(
        f"linked smelters: {', '.join(g.cids) or '-'}; linked suppliers: {len(g.supplier_ids)}"
    )
    _show_case_text(store, cipher, g)
    for source in store.merged_sources(g.case_id):
        click.echo("")
        click.echo(
            f"== merged from {source.case_id} (received {source.created_at}, category {source.category})"
        )
        _show_case_text(store, cipher, source)


def _show_case_text(store, cipher, g) -> None:  # type: ignore[no-untyped-def]
    click.echo(f"subject: {cipher.decrypt(g.subject_enc)}")
    click.echo(cipher.decrypt(g.body_enc))
    for a in store.grievance_attachments(g.case_id):
        click.echo(f"attachment: {cipher.decrypt(a.filename_enc)} ({a.size} bytes)")
    for e in store.grievance_events(g.case_id):
        note = cipher.decrypt(e.note_enc) if e.note_enc else ""
        click.echo(f"- {e.at} {e.kind} {e.status} {note}".rstrip())


@grievance.command("update")
@click.argument("case_id")
@click.option(
    "--status",
    required=True,
    type=click.Choice(STATUSES, case_sensitive=False),
)
@click.option("--note", default="", help="A note for the case history (stored encrypted).")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def grievance_update(config: Config, case_id: str, status: str, note: str, db: Path | None) -> None:
    """Move a case to a new status, with a note."""
    from storage.grievances import MergeError

    store = open_store(config, db)
    cipher = _cipher(config)
    try:
        store.update_grievance(case_id.upper(), status, cipher.encrypt(note) if note else "")
    except KeyError:
        raise click.ClickException(f"no case {case_id}") from None
    except MergeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{case_id.upper()} is now {status}")


@grievance.command("merge")
@click.argument("source")
@click.argument("target")
@click.option("--note", default="", help="Why, for both cases' history (stored encrypted).")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def grievance_merge(config: Config, source: str, target: str, note: str, db: Path | None) -> None:
    """Merge case SOURCE into case TARGET (the same matter reported twice).

    SOURCE keeps its text and history, gets status `merged` and points at TARGET; its smelter
    and supplier links are added to TARGET's; a follow-up quoting SOURCE's [ref:] token joins
    TARGET (its reporter never receives TARGET's token). Refused: a case into itself, unknown
    cases, a case already merged, or a TARGET that was itself merged (no chains)."""
    from storage.grievances import MergeError

    store = open_store(config, db)
    cipher = _cipher(config)
    enc = cipher.encrypt(note) if note else ""
    try:
        moved = store.merge_grievances(source, target, note_enc=enc, note_source_enc=enc)
    except MergeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{', '.join(moved)} merged into {target.strip().upper()}")


@grievance.command("keygen")
def grievance_keygen() -> None:
    """Print a new grievance encryption key (for $ASSAY_GRIEVANCE_KEY)."""
    from storage.crypto import new_key

    click.echo(new_key())
