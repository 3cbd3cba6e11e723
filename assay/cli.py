"""The ``assay`` command."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from pathlib import Path

import click

from plugins.countries import COVERED_COUNTRIES
from plugins.manager import collect_checks, get_plugin_manager

from .app import build_screener, open_store, screen_file
from .config import Config, ConfigError, load_config
from .render import result_json, result_text

EXIT_UNREADABLE = 2


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a YYYY-MM-DD date") from None


@click.group()
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file (TOML). Default: $ASSAY_CONFIG, else embedded defaults.",
)
@click.version_option(package_name="assay")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """Assay: conflict-minerals due diligence for RMI reporting templates."""
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    logging.basicConfig(
        level=config.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    ctx.obj = config


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--as-of", callback=_date, help="Screen as if today were this date (YYYY-MM-DD).")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Database to store results in (default: [assay] database).",
)
@click.option("--no-store", is_flag=True, help="Screen only; store nothing.")
@click.pass_obj
def screen(
    config: Config,
    files: tuple[Path, ...],
    fmt: str,
    as_of: dt.date | None,
    db: Path | None,
    no_store: bool,
) -> None:
    """Screen RMI templates (CMRT, EMRT, CRT, AMRT) and report every finding.

    Exit status 0 when every file was screened, 2 when a file could not be read at all.
    """
    store = None if no_store else open_store(config, db)
    screener = build_screener(config, store, as_of)
    results = [screen_file(screener, f, store) for f in files]
    if fmt == "json":
        click.echo(json.dumps([result_json(r) for r in results], indent=2, ensure_ascii=False))
    else:
        click.echo("\n\n".join(result_text(r) for r in results))
    if any(not r.result.readable for r in results):
        sys.exit(EXIT_UNREADABLE)


@cli.command()
@click.option("--as-of", callback=_date, help="Screen as if today were this date.")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def rescreen(config: Config, as_of: dt.date | None, db: Path | None) -> None:
    """Screen every stored submission again with the current reference data (no files needed)."""
    store = open_store(config, db)
    screener = build_screener(config, store, as_of)
    n = store.rescreen(screener.screen, as_of=screener.as_of)
    click.echo(
        f"re-screened {n} submission(s) with RMAP list {screener.reference_versions()['rmap'] or '(none)'}"
    )


@cli.group()
def refdata() -> None:
    """Reference data: RMAP status lists, the CAHRA list."""


@refdata.command("import-rmap")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--as-of",
    callback=_date,
    help="Date of the list (default: a date in the file name, else today).",
)
@click.option(
    "--status",
    "default_status",
    default="",
    help="Status for every row when the file has no status column (e.g. Conformant).",
)
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def import_rmap(
    config: Config, file: Path, as_of: dt.date | None, default_status: str, db: Path | None
) -> None:
    """Load an RMAP status list (CSV or XLSX export of RMI's facilities lists)."""
    from storage.refdata import RefDataError, date_from_name, parse_rmap_file

    try:
        parsed = parse_rmap_file(file, default_status=default_status)
    except RefDataError as exc:
        raise click.ClickException(f"{file.name}: {exc}") from exc
    when = as_of or date_from_name(file.name) or dt.date.today()
    version = f"{when.isoformat()}:{file.name}"
    store = open_store(config, db)
    store.add_rmap_list(version, when, str(file.name), parsed.entries)
    by_status: dict[str, int] = {}
    for e in parsed.entries.values():
        by_status[e.status] = by_status.get(e.status, 0) + 1
    counts = ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()))
    click.echo(
        f"loaded RMAP list {version}: {len(parsed.entries)} smelters ({counts}); {parsed.skipped} row(s) without a CID skipped"
    )
    click.echo("run 'assay rescreen' to apply it to stored submissions")


@refdata.command("import-cahra")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def import_cahra(config: Config, file: Path, db: Path | None) -> None:
    """Replace the CAHRA list (JSON {version, countries} or one country per line)."""
    from storage.refdata import RefDataError, parse_cahra_file

    try:
        version, codes = parse_cahra_file(file)
    except (RefDataError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    open_store(config, db).set_cahra(version, codes, file.name)
    click.echo(f"CAHRA list {version}: {len(codes)} countries")


@refdata.command("show")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def show_refdata(config: Config, db: Path | None) -> None:
    """Which reference data screening uses now."""
    store = open_store(config, db)
    ref = store.reference_data()
    click.echo(f"smelter reference: {ref.smelter_list_version} ({len(ref.smelters)} smelters)")
    if ref.rmap:
        click.echo(f"RMAP list: {ref.rmap.version} ({len(ref.rmap.entries)} smelters)")
    else:
        click.echo("RMAP list: none loaded (assay refdata import-rmap FILE)")
    click.echo(
        f"CAHRA list: {ref.cahra_version} ({len(ref.cahra)} countries); covered countries built in: {', '.join(sorted(COVERED_COUNTRIES))}"
    )


@cli.command()
@click.argument("query", nargs=-1, required=True)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def smelter(config: Config, query: tuple[str, ...], fmt: str, db: Path | None) -> None:
    """Look a smelter up by CID or (fuzzy) name."""
    from storage.lookup import lookup_smelter, render_lookup

    store = open_store(config, db)
    answer = lookup_smelter(store, " ".join(query))
    click.echo(
        json.dumps(answer, indent=2, ensure_ascii=False) if fmt == "json" else render_lookup(answer)
    )
    if not answer["matches"]:
        sys.exit(1)


@cli.command("checks")
@click.pass_obj
def list_checks(config: Config) -> None:
    """List the registered checks, their plugins and finding codes."""
    pm = get_plugin_manager(disabled=config.disabled_plugins)
    disabled = set(config.disabled_checks)
    for check in collect_checks(pm).values():
        state = " (disabled)" if check.id in disabled else ""
        click.echo(f"{check.id} v{check.version} [{check.plugin}]{state}: {check.description}")
        for code, sev in check.codes.items():
            click.echo(f"    {code} ({sev})")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
