"""Where a command's table goes: text, JSON or CSV to standard output or ``--out``, XLSX to
``--out`` (shared by every list command: suppliers, grievances, remediations, reports)."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path

import click

#: What a terminal would act on rather than show: C0 and C1 controls (but tab and newline) and
#: bidirectional overrides, which can make a line read differently from what it holds.
_TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def for_terminal(text: str) -> str:
    """``text`` (CSV, JSON or a table of outside text) as a terminal may show it."""
    return _TERMINAL_UNSAFE.sub("", text)


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
    else:  # a file keeps every character; a terminal is not fed escape sequences
        sys.stdout.write(for_terminal(text_or_sheets) if sys.stdout.isatty() else text_or_sheets)
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
