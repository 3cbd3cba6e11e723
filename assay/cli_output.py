"""Where a command's table goes: text, JSON or CSV to standard output or ``--out``, XLSX to
``--out`` (shared by every list command: suppliers, grievances, remediations, reports)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click


def emit(
    text_or_sheets: str | list[tuple[str, Sequence[str], Sequence[Sequence[object]]]],
    out_path: Path | None,
) -> None:
    """Write a rendered table to ``--out`` (saying so) or stdout; a list of sheets is XLSX."""
    from reports.tables import write_xlsx

    if isinstance(text_or_sheets, list):
        if out_path is None:
            raise click.UsageError("--format xlsx needs --out FILE")
        write_xlsx(out_path, text_or_sheets)  # type: ignore[arg-type]
        click.echo(f"wrote {out_path}")
        return
    if out_path is not None:
        out_path.write_text(text_or_sheets, encoding="utf-8", newline="")
        click.echo(f"wrote {out_path}")
    else:
        sys.stdout.write(text_or_sheets)
        sys.stdout.flush()


format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "csv", "xlsx"]),
    default="text",
    show_default=True,
)
out_option = click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (xlsx: required; default: standard output).",
)
