"""The ``assay`` command.

Start-up is part of every command's cost, so this module imports almost nothing: each command
group lives in its own ``cli_*`` module, loaded only when that command runs (or when ``--help``
lists them all), and commands import the store, the pool, fuzzy matching or Slack inside their
bodies. ``tests/assay/test_startup.py`` checks that ``assay screen --no-store`` stays light.

Usage errors (a missing file, an unknown status, a bad date) exit 2 with one line on stderr,
``Error: ... (see 'assay screen --help')``, rather than click's usage block: that line is what
a person or a script needs.
"""

from __future__ import annotations

import atexit
import datetime as dt
import importlib
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import click

from .cli_params import date_option as _date
from .config import Config, ConfigError, load_config

#: Subcommands by name -> "module:attribute", imported on first use.
LAZY_COMMANDS = {
    "campaign": "assay.cli_campaign:campaign",
    "dashboard": "assay.cli_dashboard:dashboard",
    "db": "assay.cli_db:db",
    "diff": "assay.cli_diff:diff",
    "grievance": "assay.cli_grievance:grievance",
    "refdata": "assay.cli_refdata:refdata",
    "remediation": "assay.cli_remediation:remediation",
    "report": "assay.cli_report:report",
    "rollup": "assay.cli_rollup:rollup",
    "screen": "assay.cli_screen:screen",
    "suppliers": "assay.cli_suppliers:suppliers",
}


class _LazyCommands(MutableMapping[str, click.Command]):
    """A group's commands, each imported the first time it is looked up (click's own
    ``Group.get_command`` and ``list_commands`` go through this mapping; iterating the names
    imports nothing)."""

    def __init__(self, lazy: Mapping[str, str]) -> None:
        self._lazy = dict(lazy)
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded and name in self._lazy:
            module, _, attr = self._lazy.pop(name).partition(":")
            self._loaded[name] = getattr(importlib.import_module(module), attr)
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._lazy.pop(name, None)
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if self._lazy.pop(name, None) is None:
            del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted({*self._loaded, *self._lazy}))

    def __len__(self) -> int:
        return len({*self._loaded, *self._lazy})


def _one_line(exc: click.UsageError) -> click.UsageError:
    """The usage error as one line naming the command, without click's usage block."""
    if isinstance(exc, click.exceptions.NoArgsIsHelpError) or exc.ctx is None:
        return exc
    message = re.sub(r"\s+", " ", exc.format_message()).strip().rstrip(".")
    return click.UsageError(f"{message} (see '{exc.ctx.command_path} --help')")


class AssayGroup(click.Group):
    """The root group: lazy subcommands, and usage errors on one line."""

    def __init__(self, *args: Any, lazy_commands: Mapping[str, str] = {}, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lazy = _LazyCommands(lazy_commands)
        for name, command in self.commands.items():
            lazy[name] = command
        self.commands = lazy

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            raise _one_line(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # raised by a subcommand's parsing or body
            raise _one_line(exc) from None


@click.group(cls=AssayGroup, lazy_commands=LAZY_COMMANDS)
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
@click.option("--as-of", callback=_date, help="Screen as if today were this date.")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def rescreen(config: Config, as_of: dt.date | None, db: Path | None) -> None:
    """Screen every stored submission again with the current reference data (no files needed)."""
    from .app import build_screener, open_store
    from .progress import progress
    from .rescreen import rescreen as rescreen_all

    store = open_store(config, db)
    day = as_of or config.screening.as_of or config.clock().today()  # one date for all
    screener = build_screener(config, store, day)
    with progress(store.count("submissions"), "re-screening") as advance:
        n = rescreen_all(store, screener.screen, as_of=day, on_progress=advance)  # type: ignore[call-arg,unused-ignore]
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

    from .app import open_store

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
    from plugins.manager import collect_checks, get_plugin_manager

    pm = get_plugin_manager(disabled=config.screening.disabled_plugins)
    disabled = set(config.screening.disabled_checks)
    for check in collect_checks(pm).values():
        state = " (disabled)" if check.id in disabled else ""
        click.echo(f"{check.id} v{check.version} [{check.plugin}]{state}: {check.description}")
        for code, sev in check.codes.items():
            click.echo(f"    {code} ({sev})")


_fast_exit = {"allowed": False}


def allow_fast_exit() -> None:
    """Said by a command whose only output is the standard streams (``screen``): when it has
    run to its end, :func:`main` may leave without the interpreter's teardown."""
    _fast_exit["allowed"] = True


def main() -> None:
    """The console command. A command that allowed it (:func:`allow_fast_exit`) and ran to its
    end leaves at once: the interpreter's teardown (freeing every module's objects, ~35 ms)
    would only delay the shell's prompt. The exit handlers still run and the standard streams
    are flushed; a process that opened a database (sqlite3 imported: its connections close at
    teardown), has other threads running, or cannot flush its output leaves the ordinary way."""
    try:
        cli()
    except SystemExit as done:
        code = done.code
    else:  # (click always exits; this is for a cli() that returns)
        code = 0
    if code is None:
        code = 0
    if (
        not _fast_exit["allowed"]
        or not isinstance(code, int)
        or "sqlite3" in sys.modules
        or threading.active_count() > 1
    ):
        sys.exit(code)
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # (None: started with that stream closed)
                stream.flush()
    except (OSError, ValueError):
        sys.exit(code)  # (a closed pipe: the ordinary exit reports it as Python does)
    atexit._run_exitfuncs()
    os._exit(code)


if __name__ == "__main__":
    main()
