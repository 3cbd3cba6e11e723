"""The ``assay`` command."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from pathlib import Path
from typing import TextIO

import click

from plugins.manager import collect_checks, get_plugin_manager

from .app import build_screener, open_store, screen_file
from .cli_campaign import campaign
from .cli_dashboard import dashboard
from .cli_db import db
from .cli_diff import diff
from .cli_grievance import grievance
from .cli_refdata import date_option as _date
from .cli_refdata import refdata
from .cli_remediation import remediation
from .cli_report import report
from .cli_rollup import rollup
from .cli_suppliers import suppliers
from .config import Config, ConfigError, load_config
from .render import result_json, result_text

EXIT_UNREADABLE = 2


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
    if no_store:
        # Screen with the lists of --db (else of the configured database, if there is one),
        # and store nothing.
        source = db or config.database
        if db is not None and not db.exists():
            raise click.ClickException(f"no database at {db}")
        lists = open_store(config, source) if source.exists() else None
        screener = build_screener(config, lists, as_of)
        store = None
    else:
        store = open_store(config, db)
        screener = build_screener(config, store, as_of)
    # Each result is written as soon as it is screened and then dropped: a 50,000-row list
    # would otherwise be held as results, as dicts and as one JSON string at the same time.
    out = sys.stdout
    unreadable = False
    out.write("[\n" if fmt == "json" else "")
    for i, f in enumerate(files):
        fr = screen_file(screener, f, store)
        unreadable |= not fr.result.readable
        if fmt == "json":
            out.write(",\n" if i else "")
            _write_json(out, result_json(fr))
        else:
            out.write(("\n\n" if i else "") + result_text(fr))
        del fr
    out.write("\n]\n" if fmt == "json" else "\n")
    out.flush()
    if unreadable:
        sys.exit(EXIT_UNREADABLE)


def _write_json(out: TextIO, value: object) -> None:
    """``json.dump`` in 64 KB writes (it would otherwise write every token separately)."""
    chunk: list[str] = []
    size = 0
    for part in json.JSONEncoder(indent=2, ensure_ascii=False).iterencode(value):
        chunk.append(part)
        size += len(part)
        if size > 65536:
            out.write("".join(chunk))
            chunk, size = [], 0
    out.write("".join(chunk))


@cli.command()
@click.option("--as-of", callback=_date, help="Screen as if today were this date.")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def rescreen(config: Config, as_of: dt.date | None, db: Path | None) -> None:
    """Screen every stored submission again with the current reference data (no files needed)."""
    from .rescreen import rescreen as rescreen_all

    store = open_store(config, db)
    day = as_of or config.screening.as_of or config.clock().today()  # one date for all
    screener = build_screener(config, store, day)
    n = rescreen_all(store, screener.screen, as_of=day)
    click.echo(
        f"re-screened {n} submission(s) with RMAP list {screener.reference_versions()['rmap'] or '(none)'}"
    )


@cli.command()
@click.argument("query", nargs=-1, required=True)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def smelter(config: Config, query: tuple[str, ...], fmt: str, db: Path | None) -> None:
    """Look smelters up by CID (CID002082, cid2082, "CID 002082", 002082) or (fuzzy) name.

    Each argument is a query; a quoted sentence ("is cid2082 conformant?") works too. Exit
    status 1 when a query matches nothing."""
    from bot.lookup_render import lookup_json, render_lookup
    from storage.lookup import lookup_smelter

    store = open_store(config, db)
    answer = lookup_smelter(store, list(query))
    click.echo(
        json.dumps(lookup_json(answer), indent=2, ensure_ascii=False)
        if fmt == "json"
        else render_lookup(answer)
    )
    if any(not a.matches for a in answer.answers):
        sys.exit(1)


@cli.command()
@click.option("--once", is_flag=True, help="Process what is waiting, send the replies, and exit.")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def serve(config: Config, once: bool, db: Path | None) -> None:
    """Run the mail intakes (suppliers, grievances) and the notifiers."""
    import threading

    from .serve import Service

    service = Service(config, db)
    if once:
        counts = service.run_once()
        outbox = config.smtp.outbox_dir if not config.smtp.host else f"SMTP {config.smtp.host}"
        click.echo(
            f"processed {counts.get('suppliers', 0)} supplier message(s) and {counts.get('grievances', 0)} grievance message(s); "
            f"{counts['emails_sent']} e-mail(s) sent to {outbox}; {counts['alerts']} alert(s)"
        )
        return
    import signal

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # finish the current message, then exit
    try:
        service.run_forever(stop)
    except KeyboardInterrupt:
        stop.set()


@cli.command("checks")
@click.pass_obj
def list_checks(config: Config) -> None:
    """List the registered checks, their plugins and finding codes."""
    pm = get_plugin_manager(disabled=config.screening.disabled_plugins)
    disabled = set(config.screening.disabled_checks)
    for check in collect_checks(pm).values():
        state = " (disabled)" if check.id in disabled else ""
        click.echo(f"{check.id} v{check.version} [{check.plugin}]{state}: {check.description}")
        for code, sev in check.codes.items():
            click.echo(f"    {code} ({sev})")


cli.add_command(refdata)
cli.add_command(diff)
cli.add_command(campaign)
cli.add_command(remediation)
cli.add_command(suppliers)
cli.add_command(grievance)
cli.add_command(report)
cli.add_command(rollup)
cli.add_command(dashboard)
cli.add_command(db)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
