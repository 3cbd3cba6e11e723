"""``assay dashboard``: serve the board, build its aggregate database, hash the password.

``assay dashboard`` alone serves (:mod:`assay.dashboard_server`); ``build`` writes the
aggregate database from the store (:func:`reports.dashboard_db.build_dashboard`), which
``assay serve`` also does after each change; ``hash-password`` prints the value for the
environment variable that holds the login's password hash.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .app import open_store
from .config import Config


def dashboard_path(config: Config, db: Path | None = None) -> Path:
    """``--db``, else ``[dashboard] database``."""
    return db if db is not None else Path(config.dashboard.database).expanduser()


_path = click.Path(dir_okay=False, path_type=Path)


@click.group(invoke_without_command=True)
@click.option("--host", default=None, help="Address to bind (default: [dashboard] host).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="[dashboard] port.")
@click.option("--db", type=_path, help="Aggregate database (default: [dashboard] database).")
@click.pass_context
def dashboard(ctx: click.Context, host: str | None, port: int | None, db: Path | None) -> None:
    """Serve the program's dashboard (Datasette, login required) over the aggregate database."""
    if ctx.invoked_subcommand is not None:
        return
    from .dashboard_server import DashboardError, DashboardOptions, build_datasette, serve

    config: Config = ctx.obj
    options = DashboardOptions(
        database=dashboard_path(config, db),
        host=host or config.dashboard.host,
        port=port or config.dashboard.port,
        user=config.dashboard.user,
        password_hash_env=config.dashboard.password_hash_env,
    )
    try:
        ds = build_datasette(options)  # refuses before anything binds
    except DashboardError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    click.echo(
        f"dashboard on http://{options.host}:{options.port}/-/dashboards/assay "
        f"(user {options.user}; Ctrl-C stops it)",
        err=True,
    )
    serve(ds, options)


@dashboard.command("build")
@click.option("--db", type=_path, help="Assay's database (default: [assay] database).")
@click.option("--out", "out_path", type=_path, help="Default: [dashboard] database.")
@click.pass_obj
def dashboard_build(config: Config, db: Path | None, out_path: Path | None) -> None:
    """Build (or refresh in place) the aggregate database the dashboard serves."""
    from reports.dashboard_db import NotADashboard, build_dashboard

    out = dashboard_path(config, out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    store = open_store(config, db)
    try:
        summary = build_dashboard(
            store,
            out,
            as_of=config.screening.as_of or config.clock().today(),  # as assay serve
            target=float(config.dashboard.response_target),
            current_versions=config.screening.current_versions,
            stale_after_days=config.campaigns.stale_after_days,
        )
    except NotADashboard as exc:  # e.g. --out pointing at Assay's own database
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    click.echo(summary.line())


@dashboard.command("hash-password")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the password from stdin.")
@click.pass_obj
def hash_password(config: Config, from_stdin: bool) -> None:
    """Print a password hash for the dashboard login's environment variable."""
    from datasette_auth_passwords.utils import hash_password as pbkdf2

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = (
            click.prompt(  # on stderr: `$(assay dashboard hash-password)` keeps the hash only
                "Password", hide_input=True, confirmation_prompt=True, err=True
            )
        )
    if not password:
        raise click.ClickException("the password is empty")
    env = config.dashboard.password_hash_env
    click.echo(pbkdf2(password))
    click.echo(f"export it as {env} (in the environment of `assay dashboard`)", err=True)
