"""``assay suppliers``: the supplier registry (import, list, export; ``show`` lives with
remediation in :mod:`assay.cli_remediation`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import click

from storage.models import SupplierStatus

from .app import open_store
from .cli_output import emit, format_option, out_option
from .cli_remediation import suppliers_show
from .config import Config

_db = click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help="Database.")

#: Columns of ``suppliers list --format csv|xlsx``.
HEADER: tuple[str, ...] = (
    "Supplier",
    "Expected templates",
    "Answered",
    "Received",
    "Template",
    "Version",
    "Risk level",
    "Errors",
    "Risks",
    "Warnings",
)


def percent(part: int, whole: int) -> int:
    """A rate in whole percent, halves rounded up (2 of 3 is 67, 1 of 8 is 13)."""
    return (200 * part + whole) // (2 * whole) if whole else 0


def table_rows(rows: Sequence[SupplierStatus]) -> list[list[str | int | None]]:
    """One row per supplier, in :data:`HEADER`'s order (the names stay text: the writers
    escape them)."""
    return [
        [
            r.name,
            ", ".join(r.expected),
            "yes" if r.last_received else "no",
            r.last_received or "",
            r.template_type or "",
            r.template_version or "",
            (r.risk_level or "").upper(),
            r.errors,
            r.risks,
            r.warnings,
        ]
        for r in rows
    ]


def status_text(rows: Sequence[SupplierStatus]) -> str:
    lines = []
    for r in rows:
        if r.last_received:
            lines.append(
                f"{r.name:<40} {r.template_type} {r.template_version}  {str(r.risk_level).upper():<6} "
                f"{r.errors} error, {r.risks} risk, {r.warnings} warning  (received {r.last_received})"
            )
        else:
            lines.append(
                f"{r.name:<40} no answer yet (expected: {', '.join(r.expected) or 'any template'})"
            )
    answered = sum(1 for r in rows if r.last_received)
    lines.append(
        f"{answered} of {len(rows)} supplier(s) answered ({percent(answered, len(rows))}%)"
    )
    return "\n".join(lines) + "\n"


@click.group()
def suppliers() -> None:
    """The supplier registry: who is expected to answer, and who has."""


@suppliers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_db
@click.pass_obj
def suppliers_import(config: Config, file: Path, db: Path | None) -> None:
    """Import suppliers from CSV/XLSX (name, emails, domains, templates)."""
    from storage.refdata import RefDataError
    from storage.supplier_file import parse_supplier_file

    try:
        rows = parse_supplier_file(file)
    except RefDataError as exc:
        raise click.ClickException(f"{file.name}: {exc}") from exc
    n = open_store(config, db).import_suppliers(rows)
    click.echo(f"imported {n} supplier(s)")


@suppliers.command("list")
@format_option
@out_option
@_db
@click.pass_obj
def suppliers_list(config: Config, fmt: str, out_path: Path | None, db: Path | None) -> None:
    """Every supplier, whether it has answered, and its latest result."""
    from reports.tables import write_csv

    rows = open_store(config, db).supplier_status()
    if fmt == "xlsx":
        emit([("Suppliers", HEADER, table_rows(rows))], out_path)
    elif fmt == "csv":
        emit(write_csv(HEADER, table_rows(rows)), out_path)
    elif fmt == "json":
        emit(json.dumps([asdict(r) for r in rows], indent=2, ensure_ascii=False) + "\n", out_path)
    else:
        emit(status_text(rows), out_path)


suppliers.add_command(suppliers_show)
