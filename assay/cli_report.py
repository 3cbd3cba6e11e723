"""``assay report``: what the company publishes, read from the suppliers' latest files.

``smelters`` is the consolidated smelter list (docs/reports.md), ``rmap-counts`` its smelters
per metal by RMAP standing. Both read the same files (:mod:`reports.smelter_source`).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from program.smelter_list import SmelterList

from .app import open_store
from .cli_annual import annual
from .cli_suppliers import emit, out_option
from .config import Config

_db = click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help="Database.")
_campaign_option = click.option(
    "--campaign",
    "campaign_name",
    default=None,
    help="Only this campaign's members' latest file of its template since it was created.",
)


def _consolidated(
    config: Config, db: Path | None, campaign_name: str | None
) -> tuple[SmelterList, str]:
    """(the consolidated list, a line saying which files it was made from)."""
    from reports.smelter_source import consolidated

    store = open_store(config, db)
    campaign = None
    if campaign_name is not None:
        campaign = store.campaign(campaign_name)
        if campaign is None:
            known = ", ".join(c.name for c in store.campaigns()) or "none yet"
            raise click.ClickException(f"no campaign named {campaign_name!r} (campaigns: {known})")
    smelters = consolidated(store, campaign)
    if campaign is None:
        source = "each supplier's latest readable, verified file of each template family"
    else:
        source = (
            f"campaign {campaign.name}: each member's latest readable, verified "
            f"{campaign.family} file since {campaign.created_at[:10]}"
        )
    return smelters, f"{source} ({smelters.suppliers} supplier(s))"


def _xlsx_path(fmt: str, out_path: Path | None) -> Path | None:
    """The XLSX file to write (None for the other formats); refused before any work without
    ``--out``."""
    if fmt != "xlsx":
        return None
    if out_path is None:
        raise click.UsageError("--format xlsx needs --out FILE")
    return out_path


@click.group()
def report() -> None:
    """Reports the company publishes: the smelter list, RMAP counts, the annual report."""


@report.command("smelters")
@_campaign_option
@click.option(
    "--columns",
    type=click.Choice(["published", "full"]),
    default="published",
    show_default=True,
    help="published: Metal, Smelter (CID), Country, no supplier names; full: internal.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx", "json"]),
    default="csv",
    show_default=True,
)
@out_option
@_db
@click.pass_obj
def report_smelters(
    config: Config,
    campaign_name: str | None,
    columns: str,
    fmt: str,
    out_path: Path | None,
    db: Path | None,
) -> None:
    """The consolidated smelter list: one row per metal and smelter ID across the suppliers'
    latest files, then the rows that could not be identified."""
    from reports import smelter_report as sr

    xlsx = _xlsx_path(fmt, out_path)
    smelters, source = _consolidated(config, db, campaign_name)
    if xlsx is not None:
        sr.write_smelters_xlsx(xlsx, smelters, columns)
        click.echo(f"wrote {xlsx}")
    elif fmt == "json":
        data = sr.smelters_json(smelters, columns, source)
        emit(json.dumps(data, indent=2, ensure_ascii=False) + "\n", out_path)
    else:
        emit(sr.smelters_csv(smelters, columns), out_path)


@report.command("rmap-counts")
@_campaign_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "csv", "xlsx", "json"]),
    default="text",
    show_default=True,
)
@out_option
@_db
@click.pass_obj
def report_rmap_counts(
    config: Config,
    campaign_name: str | None,
    fmt: str,
    out_path: Path | None,
    db: Path | None,
) -> None:
    """Smelters per metal by RMAP standing, the share conformant and the list's date."""
    from program.smelter_list import rmap_counts
    from reports import smelter_report as sr

    xlsx = _xlsx_path(fmt, out_path)
    smelters, source = _consolidated(config, db, campaign_name)
    counts = rmap_counts(smelters)
    if xlsx is not None:
        sr.write_counts_xlsx(xlsx, counts)
        click.echo(f"wrote {xlsx}")
    elif fmt == "json":
        data = {"metals": sr.counts_json(counts), "generated_from": source}
        emit(json.dumps(data, indent=2, ensure_ascii=False) + "\n", out_path)
    elif fmt == "csv":
        emit(sr.counts_csv(counts), out_path)
    else:
        emit(sr.counts_text(counts) + f"from {source}\n", out_path)


report.add_command(annual)
