"""``assay campaign``, ``assay remediation`` and ``assay suppliers show``: the annual survey.

A campaign asks every supplier in scope for one template family by a deadline, reminds
those without an accepted file on a schedule, tells the supplier's owner when it is late,
and reports the response rate and each supplier's grade (docs/campaigns.md).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from .app import open_store
from .cli_params import date_option as _date
from .config import Config
from .progress import progress

FAMILIES = ("CMRT", "EMRT", "CRT", "AMRT")
DELIVERY_PASS = 20  # e-mails per delivery pass (one step of the progress bar)
_db = click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help="Database.")
_as_of = click.option("--as-of", callback=_date, help="As if today were this date (YYYY-MM-DD).")


def _today(config: Config, as_of: dt.date | None) -> dt.date:
    return as_of or config.screening.as_of or config.clock().today()


def _domain(config: Config) -> str:
    return config.mail.reply_from.rsplit("@", 1)[-1].strip("> ") or "assay.invalid"


def _campaign(store, name: str):  # type: ignore[no-untyped-def]
    found = store.campaign(name)
    if found is None:
        known = ", ".join(c.name for c in store.campaigns()) or "none yet"
        raise click.ClickException(f"no campaign named {name!r} (campaigns: {known})")
    return found


def _deliver(config: Config, db: Path | None) -> tuple[int, int]:
    """Send what the outbox holds, as ``assay serve --once`` does (SMTP, else .eml files)."""
    from .serve import Service

    service = Service(config, db)
    store = service.store()
    email, alerts = service.notifiers(store)
    sent = 0
    # In small passes, to move the progress bar; a pass that sends nothing (all left are
    # waiting for a retry, or the server is down) ends the loop.
    with progress(store.outbox_count("pending", "email"), "sending") as advance:
        while n := email.drain(limit=DELIVERY_PASS):
            sent += n
            advance(n)
    return sent, alerts.drain(limit=100000)


@click.group()
def campaign() -> None:
    """Survey campaigns: requests, reminders, escalation, response rate, grades."""


@campaign.command("create")
@click.argument("name")
@click.option(
    "--template", "family", required=True, type=click.Choice(FAMILIES, case_sensitive=False)
)
@click.option("--deadline", required=True, callback=_date, help="YYYY-MM-DD")
@click.option("--min-version", default="", help="Oldest revision accepted (e.g. 6.4).")
@click.option("--final-deadline", callback=_date, help="After it, silence is non-responsive.")
@click.option("--escalate-after", type=click.IntRange(0), help="Days past the deadline.")
@click.option(
    "--suppliers",
    "suppliers_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="One registered supplier name per line (default: all expecting this template).",
)
@_as_of
@_db
@click.pass_obj
def campaign_create(
    config: Config,
    name: str,
    family: str,
    deadline: dt.date,
    min_version: str,
    final_deadline: dt.date | None,
    escalate_after: int | None,
    suppliers_file: Path | None,
    as_of: dt.date | None,
    db: Path | None,
) -> None:
    """Create a campaign NAME for one template family."""
    from storage.campaign_models import CampaignSpec
    from storage.campaigns import CampaignExists

    family = family.upper()
    c = config.campaigns
    final = final_deadline or deadline + dt.timedelta(days=c.final_after)
    if final < deadline:
        raise click.BadParameter(
            "the final deadline is before the deadline", param_hint="--final-deadline"
        )
    if not name.strip() or len(name) > 100 or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise click.BadParameter(
            "a name of 1 to 100 characters, without line breaks or control characters",
            param_hint="NAME",
        )
    store = open_store(config, db)
    everyone = store.suppliers()
    if suppliers_file is not None:
        wanted = _names(suppliers_file)
        by_key = {s.name.casefold(): s for s in everyone}
        unknown = [n for n in wanted if n.casefold() not in by_key]
        if unknown:
            raise click.ClickException(
                f"not in the supplier registry: {', '.join(unknown[:10])}"
                + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
            )
        chosen = [by_key[n.casefold()] for n in wanted]
    else:
        chosen = [s for s in everyone if not s.expected or family in s.expected]
    spec = CampaignSpec(
        name=name.strip(),
        family=family,
        deadline=deadline,
        final_deadline=final,
        escalate_after=c.escalate_after if escalate_after is None else escalate_after,
        reminder_days=c.reminder_days,
        min_version=min_version.strip(),
    )
    try:
        made = store.create_campaign(spec, [s.id for s in chosen], _today(config, as_of))
    except CampaignExists:
        raise click.ClickException(f"a campaign named {name!r} exists already") from None
    click.echo(
        f"created campaign {made.name}: {len(chosen)} supplier(s), {family}, deadline "
        f"{deadline.isoformat()}, final deadline {final.isoformat()}"
    )


#: A list of supplier names is small; anything larger is not one.
MAX_NAMES_FILE = 5 * 1024 * 1024


def _names(path: Path) -> list[str]:
    """The supplier names of a ``--suppliers`` file (first column; a header and ``#`` lines
    skipped); a file that is no such list is refused with a message, never a traceback."""
    import csv

    if path.stat().st_size > MAX_NAMES_FILE:
        raise click.ClickException(
            f"{path.name}: larger than {MAX_NAMES_FILE // (1024 * 1024)} MB; expected one "
            "supplier name per line"
        )
    try:
        text = path.read_bytes().decode("utf-8-sig")
        if "\x00" in text:
            raise ValueError("a NUL byte")
        rows = list(csv.reader(text.splitlines()))
    except (UnicodeDecodeError, ValueError, csv.Error):
        raise click.ClickException(
            f"{path.name}: not a text or CSV file (UTF-8) with one supplier name per line"
        ) from None
    names = [r[0].strip() for r in rows if r and r[0].strip() and not r[0].startswith("#")]
    if names and names[0].casefold() in ("name", "supplier", "supplier name"):
        names = names[1:]
    if not names:
        raise click.ClickException(f"{path.name}: no supplier name in it")
    return list(dict.fromkeys(names))


@campaign.command("add")
@click.argument("name")
@click.argument("supplier", nargs=-1, required=True)
@_as_of
@_db
@click.pass_obj
def campaign_add(
    config: Config, name: str, supplier: tuple[str, ...], as_of: dt.date | None, db: Path | None
) -> None:
    """Add registered suppliers to a campaign (the next `send` asks them)."""
    store = open_store(config, db)
    c = _campaign(store, name)
    by_key = {s.name.casefold(): s for s in store.suppliers()}
    unknown = [n for n in supplier if n.casefold() not in by_key]
    if unknown:
        raise click.ClickException(f"not in the supplier registry: {', '.join(unknown)}")
    n = store.add_to_campaign(
        c.id, [by_key[s.casefold()].id for s in supplier], _today(config, as_of)
    )
    click.echo(f"added {n} supplier(s) to {c.name}")


@campaign.command("send")
@click.argument("name")
@click.option("--dry-run", is_flag=True, help="List who would be asked; queue nothing.")
@click.option(
    "--queue-only", is_flag=True, help="Queue the requests; leave sending to `assay serve`."
)
@_as_of
@_db
@click.pass_obj
def campaign_send(
    config: Config,
    name: str,
    dry_run: bool,
    queue_only: bool,
    as_of: dt.date | None,
    db: Path | None,
) -> None:
    """Queue one request per supplier not asked yet, then send them."""
    from .campaign_run import send_requests

    store = open_store(config, db)
    c = _campaign(store, name)
    if c.state != "open":
        raise click.ClickException(f"campaign {c.name} is closed")
    out = send_requests(
        store,
        c,
        _today(config, as_of),
        domain=_domain(config),
        current_versions=config.screening.current_versions,
        dry_run=dry_run,
    )
    if dry_run:
        click.echo(f"would send {len(out.requests)} request(s)")
        for n in out.requests:
            click.echo(f"  {n}")
    else:
        click.echo(f"queued {len(out.requests)} request(s)")
    if out.no_address:
        click.echo(
            f"{len(out.no_address)} supplier(s) have no e-mail address in the registry: "
            + ", ".join(out.no_address[:20])
        )
    if not dry_run and not queue_only:
        sent, _alerts = _deliver(config, db)
        click.echo(f"sent {sent} e-mail(s)")


@campaign.command("remind")
@click.argument("name", required=False)
@click.option("--queue-only", is_flag=True, help="Queue; leave sending to `assay serve`.")
@_as_of
@_db
@click.pass_obj
def campaign_remind(
    config: Config, name: str | None, queue_only: bool, as_of: dt.date | None, db: Path | None
) -> None:
    """Send the day's reminders and escalations (NAME, or every open campaign)."""
    from .campaign_run import remind

    store = open_store(config, db)
    chosen = [_campaign(store, name)] if name else store.campaigns("open")
    if name and chosen[0].state != "open":
        raise click.ClickException(f"campaign {chosen[0].name} is closed: nothing is sent for it")
    day = _today(config, as_of)
    for c in chosen:
        out = remind(
            store,
            c,
            day,
            domain=_domain(config),
            current_versions=config.screening.current_versions,
        )
        click.echo(
            f"{c.name}: {len(out.reminders)} reminder(s), {len(out.escalations)} escalation(s), "
            f"{len(out.non_responsive)} non-responsive"
        )
    if not queue_only:
        sent, alerts = _deliver(config, db)
        click.echo(f"sent {sent} e-mail(s), {alerts} alert(s)")


@campaign.command("status")
@click.argument("name")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "csv", "xlsx"]),
    default="text",
    show_default=True,
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (xlsx: required).",
)
@_as_of
@_db
@click.pass_obj
def campaign_status_cmd(
    config: Config,
    name: str,
    fmt: str,
    out_path: Path | None,
    as_of: dt.date | None,
    db: Path | None,
) -> None:
    """The response rate, overdue suppliers, and every supplier's status and grade."""
    from reports.campaign_status import campaign_status
    from reports.campaign_tables import (
        HEADER,
        SUMMARY_HEADER,
        status_text,
        summary_rows,
        table_rows,
    )
    from reports.tables import write_csv, write_xlsx

    store = open_store(config, db)
    s = campaign_status(
        store,
        _campaign(store, name),
        _today(config, as_of),
        current_versions=config.screening.current_versions,
        stale_after_days=config.campaigns.stale_after_days,
    )
    if fmt == "xlsx":
        if out_path is None:
            raise click.UsageError("--format xlsx needs --out FILE")
        write_xlsx(
            out_path,
            [
                ("Suppliers", HEADER, table_rows(s)),
                ("Response rate", SUMMARY_HEADER, summary_rows(s)),
            ],
        )
        click.echo(f"wrote {out_path}")
        return
    if fmt == "json":
        text = json.dumps(s.to_dict(), indent=2, ensure_ascii=False)
    elif fmt == "csv":
        text = write_csv(HEADER, table_rows(s))
    else:
        text = status_text(s)
    if out_path is not None:
        out_path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        click.echo(f"wrote {out_path}")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


@campaign.command("list")
@_db
@click.pass_obj
def campaign_list(config: Config, db: Path | None) -> None:
    """Every campaign, open ones first."""
    store = open_store(config, db)
    for c in sorted(store.campaigns(), key=lambda c: (c.state != "open", c.deadline)):
        click.echo(f"{c.name:<30} {c.family:<5} deadline {c.deadline.isoformat()}  {c.state}")


@campaign.command("close")
@click.argument("name")
@_db
@click.pass_obj
def campaign_close(config: Config, name: str, db: Path | None) -> None:
    """Close a campaign: no more requests, reminders or escalations."""
    store = open_store(config, db)
    c = _campaign(store, name)
    store.set_campaign_state(c.id, "closed")
    click.echo(f"closed campaign {c.name}")
