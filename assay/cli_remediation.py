"""``assay remediation`` and ``assay suppliers show``: follow-up until every smelter a supplier
lists qualifies, and one supplier's whole history (docs/campaigns.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .app import open_store
from .cli_output import emit, format_option, out_option
from .config import Config

_db = click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help="Database.")


# -- remediation -------------------------------------------------------------------------------


@click.group()
def remediation() -> None:
    """Follow-up until every smelter a supplier lists is RMAP conformant."""


REMEDIATION_HEADER = (
    "ID",
    "Supplier",
    "Opened",
    "Smelters",
    "Smelter IDs",
    "State",
    "Closed",
    "Reason",
    "Waived",
)


@remediation.command("list")
@click.option("--all", "show_all", is_flag=True, help="Closed ones too.")
@format_option
@out_option
@_db
@click.pass_obj
def remediation_list(
    config: Config, show_all: bool, fmt: str, out_path: Path | None, db: Path | None
) -> None:
    """Open remediations (brought up to date with the latest files and lists first)."""
    from dataclasses import asdict

    from reports.tables import write_csv

    from .campaign_run import sync_remediations

    if fmt == "xlsx" and out_path is None:
        raise click.UsageError("--format xlsx needs --out FILE")
    store = open_store(config, db)
    sync_remediations(store)
    rows = store.remediations(open_only=not show_all)
    if fmt == "json":
        emit(json.dumps([asdict(r) for r in rows], indent=2, ensure_ascii=False) + "\n", out_path)
        return
    if fmt in ("csv", "xlsx"):
        table = [
            (
                r.id,
                r.supplier,
                r.opened_at[:10],
                len(r.cids),
                " ".join(r.cids),
                "open" if r.open else "closed",
                r.closed_at[:10],
                r.close_reason,
                r.waived,
            )
            for r in rows
        ]
        if fmt == "csv":
            emit(write_csv(REMEDIATION_HEADER, table), out_path)
        else:
            emit([("Remediations", REMEDIATION_HEADER, table)], out_path)
        return
    for r in rows:
        state = f"closed {r.closed_at[:10]} ({r.close_reason})" if r.closed_at else "open"
        click.echo(
            f"#{r.id:<4} {r.supplier[:40]:<40} opened {r.opened_at[:10]}  {len(r.cids)} smelter(s): "
            f"{', '.join(r.cids[:8])}{' ...' if len(r.cids) > 8 else ''}  {state}"
        )
    click.echo(f"{sum(1 for r in rows if r.open)} open remediation(s)")


@remediation.command("close")
@click.argument("remediation_id", type=int)
@click.option("--reason", required=True, help="Why it is waived (kept, and told to the channel).")
@click.option("--by", default="", help="Who waives it.")
@_db
@click.pass_obj
def remediation_close(
    config: Config, remediation_id: int, reason: str, by: str, db: Path | None
) -> None:
    """Waive an open remediation with a reason."""
    from .campaign_run import waive_remediation

    if not reason.strip():
        raise click.BadParameter("a reason is needed", param_hint="--reason")
    store = open_store(config, db)
    if not waive_remediation(store, remediation_id, reason.strip(), by.strip()):
        raise click.ClickException(f"no open remediation #{remediation_id}")
    click.echo(f"closed remediation #{remediation_id}")


# -- suppliers show ---------------------------------------------------------------------------


@click.command("show")
@click.argument("name")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@_db
@click.pass_obj
def suppliers_show(config: Config, name: str, fmt: str, db: Path | None) -> None:
    """One supplier: every file and its findings, its grade over time, what it was sent."""
    from reports.supplier_history import supplier_history, supplier_history_text

    store = open_store(config, db)
    found = [s for s in store.suppliers() if s.name.casefold() == name.casefold()]
    if not found:
        raise click.ClickException(f"no registered supplier named {name!r}")
    history = supplier_history(store, found[0])
    if fmt == "json":
        click.echo(json.dumps(history, indent=2, ensure_ascii=False))
    else:
        click.echo(supplier_history_text(history))
