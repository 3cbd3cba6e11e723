"""The files a command was given, and the table that ends a run over several of them.

``expand_paths`` turns the command line into the list of files to screen: a file is taken as
given (whatever its name: the reader says whether it is a template), a directory stands for the
``.xlsx``/``.xlsm``/``.xls`` files anywhere inside it, sorted so a run is repeatable. Hidden
files and directories (a leading dot) and Excel's lock files (``~$Book.xlsx``) are skipped:
they are never a supplier's template. Symbolic links to directories are not followed (a link
loop would never end). A path that does not exist, or a directory without a template, is a
usage error: the person mistyped, and a MEDIUM "unreadable file" finding would hide that.

``summary_table`` prints file, template, company, verdict and counts by severity, one row per
file. The company name and the template version are the supplier's text and even a file name
may come from outside: each cell loses control characters and bidirectional overrides (which
would make a row read differently from what it holds), is kept on one line and cut to a width.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from .app import FileResult

VERDICTS = ("HIGH", "MEDIUM", "LOW", "NOT READ")
TEMPLATE_SUFFIXES = (".xlsx", ".xlsm", ".xls")
FILE_CHARS = 48
COMPANY_CHARS = 32
TEMPLATE_CHARS = 16


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """The files to screen: files as given, directories expanded to the templates inside."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = _templates_in(path)
            if not found:
                raise click.UsageError(f"no .xlsx, .xlsm or .xls file in directory {_shown(path)}")
            out.extend(found)
        elif path.exists() or path.is_symlink():
            out.append(path)  # a file that cannot be read is the reader's finding (exit 2)
        else:
            raise click.UsageError(f"no such file or directory: {_shown(path)}")
    return out


def _shown(path: Path) -> str:
    from .render import one_line  # only for an error: start-up is most of one screening

    return one_line(str(path), FILE_CHARS)


def _templates_in(top: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if (
                not name.startswith((".", "~$"))
                and name.lower().endswith(TEMPLATE_SUFFIXES)
                and os.path.isfile(os.path.join(root, name))
            ):
                found.append(Path(root, name))
    return sorted(found)


def summary_table(results: Sequence[FileResult]) -> str:
    """One row per file: file, template, company, verdict, counts by severity; then totals."""
    from plugins.models import SEVERITIES

    from .render import one_line

    header = ["file", "template", "company", "verdict", *SEVERITIES]
    rows = [header]
    verdicts: dict[str, int] = {}
    for fr in results:
        res = fr.result
        decl = res.declaration
        verdict = res.risk_level.upper() if res.readable else "NOT READ"
        verdicts[verdict] = verdicts.get(verdict, 0) + 1
        counts = res.summary
        rows.append(
            [
                one_line(fr.file, FILE_CHARS, keep_end=True),
                one_line(f"{decl.meta.type} {decl.meta.version}", TEMPLATE_CHARS) if decl else "-",
                one_line(decl.company.get("company_name", ""), COMPANY_CHARS) or "-"
                if decl
                else "-",
                verdict,
                *(str(counts[s]) for s in SEVERITIES),
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    numeric = range(4, len(header))
    lines = [
        "  ".join(
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]
    total = ", ".join(f"{verdicts[v]} {v}" for v in VERDICTS if v in verdicts)
    lines.append(f"{len(results)} file(s): {total}")
    return "\n".join(lines)
