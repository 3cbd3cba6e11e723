"""``assay report annual``: the year's due-diligence figures as one HTML page.

A click command of its own; the ``report`` group (assay/cli_report.py) carries it. The page
names no supplier and holds no grievance content (docs/annual-report.md). The report module
(and matplotlib with it) is imported when the command runs, not when ``assay`` starts.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from .app import open_store
from .config import Config


def company_name(config: Config) -> str:
    """The ``[company] name`` when the config has that section, else "" (a neutral title)."""
    company = getattr(config, "company", None)
    return str(getattr(company, "name", "") or "").strip()


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it: a reader never sees
    half a report, and a failed run leaves the previous one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.command("annual")
@click.option("--year", required=True, type=click.IntRange(1900, 9999), help="YYYY")
@click.option(
    "--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True, help="Language."
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The HTML file to write.",
)
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help="Database.")
@click.pass_obj
def annual(config: Config, year: int, lang: str, out: Path, db: Path | None) -> None:
    """The annual report of YEAR as one self-contained HTML page (no supplier names).

    Suppliers surveyed per template, smelters by RMAP standing, the published smelter list,
    risks and remediations, grievances (counts only) and charts."""
    from reports.annual import annual_report

    source = db or config.database
    if not Path(source).exists():
        raise click.ClickException(f"no database at {source}")
    if not out.parent.is_dir():
        raise click.ClickException(f"no folder {out.parent} to write {out.name} in")
    store = open_store(config, source)
    try:
        page = annual_report(store, year, lang, company_name(config))
    finally:
        store.close()
    data = page.encode("utf-8")
    write_atomically(out, data)
    click.echo(f"wrote {out} ({len(data):,} bytes): annual report {year} ({lang})")
