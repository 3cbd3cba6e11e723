"""``assay refdata``: load the RMAP, CAHRA and smelter reference lists, and show what is in force."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import click

from plugins.rmap_status import LIST_STANDINGS, METALS, canonical_metal

from .app import open_store
from .cli_params import date_option
from .config import Config

SHOW_FIRST = 5  # conflicts, repairs and skipped rows named in the summary (then a count)


def _status_map(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for value in values:
        word, sep, standing = value.rpartition("=")
        standing = standing.strip().casefold()
        if not sep or not word.strip() or standing not in LIST_STANDINGS:
            raise click.BadParameter(
                f"{value!r}: give WORD=STANDING, STANDING one of {', '.join(LIST_STANDINGS)}",
                param_hint="--map",
            )
        out[word.strip()] = standing
    return out


def _named(items: list[str], what: str) -> list[str]:
    if not items:
        return []
    shown = items[:SHOW_FIRST]
    more = f" (and {len(items) - SHOW_FIRST} more)" if len(items) > SHOW_FIRST else ""
    return [f"{len(items)} {what}{more}:"] + [f"  {line}" for line in shown]


def _list_date(file: Path, when: dt.date | None, hint: str, today: dt.date) -> dt.date:
    """The list's date, required and not in the future (a future date would hide every correct
    list loaded later)."""
    if when is None:
        raise click.ClickException(
            f"{file.name}: the list's date is not in the file ({hint}). Give it with "
            "--as-of YYYY-MM-DD. Nothing was loaded."
        )
    if when > today + dt.timedelta(days=1):
        raise click.ClickException(
            f"{file.name}: the list is dated {when.isoformat()}, in the future. Check the date in "
            "the file or give the right one with --as-of YYYY-MM-DD. Nothing was loaded."
        )
    return when


def _warn_if_old(config: Config, store, kind: str, version: str, when: dt.date) -> list[str]:  # type: ignore[no-untyped-def]
    """A warning line (and one alert) when a list just loaded is already older than allowed."""
    age = (config.clock().today() - when).days
    if age <= config.refdata.max_list_age_days:
        return []
    message = (
        f"The {kind} list {version} is dated {when.isoformat()}, {age} days ago (more than "
        f"{config.refdata.max_list_age_days}): findings that rely on it may be out of date."
    )
    store.alert_stale_list(kind, version, message)
    return [f"  WARNING: {message}"]


def _metals(text: str) -> frozenset[str]:
    known = sorted(set(METALS.values()))
    out = set()
    for word in (w.strip() for w in text.split(",")):
        if not word:
            continue
        if word.casefold() not in METALS:
            raise click.BadParameter(
                f"{word!r} is not a metal; give one or more of {', '.join(known)}, comma-separated",
                param_hint="--metals",
            )
        out.add(canonical_metal(word))
    return frozenset(out)


def _displaced(before, after, version: str, covered: frozenset[str]) -> list[str]:  # type: ignore[no-untyped-def]
    """What the new list changes about which lists judge its metals, in words."""
    lines = []
    judged_by_new = sorted(m for m in covered if version in {r.version for r in after.lists_for(m)})
    if not judged_by_new:
        return [
            "  note: lists of a newer date cover every one of these metals, so this one is kept but not used"
        ]
    for metal in judged_by_new:
        old = [r for r in before.lists_for(metal)]
        now = {r.version for r in after.lists_for(metal)}
        replaced = [r.label for r in old if r.version not in now]
        together = [r.label for r in after.lists_for(metal) if r.version != version]
        if replaced:
            lines.append(
                f"  {metal}: now judged by this list instead of the {' and '.join(replaced)}"
            )
        if together:
            lines.append(
                f"  {metal}: read together with the {' and '.join(together)} (lists of one date are one list)"
            )
    return lines


@click.group()
def refdata() -> None:
    """Reference data: RMAP lists, the smelter reference, the CAHRA list."""


@refdata.command("import-rmap")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--as-of",
    callback=date_option,
    help="The list's date (YYYY-MM-DD). Required when the file carries none (a dated title row, a full date in its name).",
)
@click.option(
    "--status",
    "default_status",
    default="",
    help="Status of EVERY row, for a one-status list without a status column (e.g. RMI's Conformant export).",
)
@click.option(
    "--map",
    "status_map",
    multiple=True,
    metavar="WORD=STANDING",
    help="Standing of a status word the built-in table does not know (conformant, active, not-conformant). Repeatable.",
)
@click.option(
    "--metals",
    default="",
    help="Metals the list covers, comma-separated (default: the metals of its rows).",
)
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def import_rmap(
    config: Config,
    file: Path,
    as_of: dt.date | None,
    default_status: str,
    status_map: tuple[str, ...],
    metals: str,
    db: Path | None,
) -> None:
    """Load an RMAP list: RMI's facility exports (CSV, XLSX, SpreadsheetML), a filing's smelter
    table, or a workbook with one sheet per status."""
    from program.outbox import RmapChange, RmapChanges
    from storage.mail import OutboxItem
    from storage.refdata import RefDataError, parse_rmap_file

    store = open_store(config, db)
    try:
        parsed = parse_rmap_file(
            file,
            default_status=default_status,
            status_map=_status_map(status_map),
            smelters=store.reference_data().smelters,
        )
    except RefDataError as exc:
        raise click.ClickException(f"{file.name}: {exc}") from exc
    when = _list_date(
        file,
        as_of or parsed.as_of,
        "no dated title row above the header, no full date such as 2025-05-01 in the file name; "
        "give the date RMI published the list, or the day you downloaded it",
        config.clock().today(),
    )
    covered = _metals(metals) if metals else parsed.metals
    if not covered:
        raise click.ClickException(
            f"{file.name}: cannot tell which metals the list covers (no metal column, and none of its "
            "CIDs is in the smelter reference). Give them with --metals, e.g. --metals Gold,Tin,Tantalum,Tungsten. "
            "Nothing was loaded."
        )
    version = f"{when.isoformat()}:{file.name}"
    summary = {
        "as_of_source": "--as-of" if as_of else parsed.as_of_source,
        "sources": list(parsed.sources),
        "conflicts": [
            {"cid": c.cid, "statuses": list(c.statuses), "kept": c.kept} for c in parsed.conflicts
        ],
        "repairs": len(parsed.repairs),
        "skipped": len(parsed.skipped),
        "dates_unparsed": parsed.dates_unparsed,
    }
    before = store.reference_data()
    store.add_rmap_list(version, when, file.name, parsed.entries, covered, summary)
    after = store.reference_data()

    standings = Counter(e.standing for e in parsed.entries.values())
    words = Counter(e.status for e in parsed.entries.values())
    dated = (
        "given with --as-of"
        if as_of
        else f"from the {parsed.as_of_source}"
        if parsed.as_of_source
        else ""
    )
    lines = [
        f"loaded RMAP list {version}, dated {when.isoformat()} ({dated}), covering {', '.join(sorted(covered))}: "
        f"{len(parsed.entries)} smelters ("
        + ", ".join(f"{standings[s]} {s}" for s in LIST_STANDINGS if standings[s])
        + ")",
        "  status words: " + ", ".join(f"{w!r} {n}" for w, n in words.most_common()),
    ]
    if as_of and parsed.as_of and parsed.as_of != as_of:
        lines.append(
            f"  note: the file says {parsed.as_of.isoformat()} ({parsed.as_of_source}); --as-of {as_of.isoformat()} was used"
        )
    lines += [f"  read {s}" for s in parsed.sources]
    lines += _named(
        [
            f"{c.cid}: {' / '.join(repr(s) for s in c.statuses)} -> kept {c.kept!r}"
            for c in parsed.conflicts
        ],
        "CID(s) with two statuses, the less favourable kept",
    )
    lines += _named(
        [f"{r.where}: {r.raw} -> {r.cid} ({r.what})" for r in parsed.repairs], "id(s) repaired"
    )
    lines += _named(
        [f"{s.where}: {s.text!r} ({s.reason})" for s in parsed.skipped], "row(s) skipped"
    )
    if parsed.unmarked:
        lines.append(
            f"  {parsed.unmarked} row(s) carry no mark in the status column(s): not-conformant"
        )
    if parsed.dates_unparsed:
        lines.append(
            f"  {parsed.dates_unparsed} date cell(s) could not be read and were left empty"
        )
    lines += _warn_if_old(config, store, "RMAP", version, when)
    lines += _displaced(before, after, version, covered)
    changes = store.rmap_changes(before, after)
    if changes:
        store.enqueue(
            OutboxItem(
                "alert",
                f"rmap-change:{version}",
                RmapChanges(
                    version,
                    tuple(RmapChange(c.cid, c.before, c.after, c.suppliers) for c in changes),
                ),
            )
        )
        lines.append(
            f"{len(changes)} listed smelter(s) changed RMAP standing; the compliance channel will be told"
        )
    lines.append("run 'assay rescreen' to apply it to stored submissions")
    click.echo("\n".join(lines))


@refdata.command("import-cahra")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--as-of",
    callback=date_option,
    help="The list's date, when the file carries none.",
)
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def import_cahra(config: Config, file: Path, as_of: dt.date | None, db: Path | None) -> None:
    """Replace the CAHRA list: the EU's indicative list as distributed (XLSX, CSV,
    SpreadsheetML), JSON {version, as_of, countries}, or one country per line."""
    from storage.refdata import RefDataError, parse_cahra_file

    try:
        parsed = parse_cahra_file(file)
    except (RefDataError, ValueError) as exc:
        raise click.ClickException(f"{file.name}: {exc}") from exc
    when = _list_date(
        file,
        as_of or parsed.as_of,
        "give the date of the update it publishes",
        config.clock().today(),
    )
    store = open_store(config, db)
    store.set_cahra(parsed.version, parsed.countries, file.name, when, parsed.areas)
    areas = sum(len(a) for a in parsed.areas.values())
    click.echo(
        f"CAHRA list {parsed.version} of {when.isoformat()}: {len(parsed.countries)} countries"
        + (f", {areas} areas" if areas else "")
    )
    for line in _warn_if_old(config, store, "CAHRA", parsed.version, when):
        click.echo(line)
    click.echo("run 'assay rescreen' to apply it to stored submissions")


@refdata.command("import-smelters")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def import_smelters(config: Config, file: Path, db: Path | None) -> None:
    """Refresh smelter names, aliases and countries: a newer RMI template (its Smelter Look-up
    sheet) or RMI's Smelter Reference List export."""
    from storage.refdata import RefDataError, parse_smelter_file

    try:
        parsed = parse_smelter_file(file)
    except RefDataError as exc:
        raise click.ClickException(f"{file.name}: {exc}") from exc
    store = open_store(config, db)
    before = store.reference_data().smelters
    store.add_smelter_list(parsed.version, file.name, parsed.smelters)
    new = [c for c in parsed.smelters if c not in before]
    renamed = [
        c for c, s in parsed.smelters.items() if c in before and s.name and s.name != before[c].name
    ]
    moved = [
        c
        for c, s in parsed.smelters.items()
        if c in before and s.country and s.country != before[c].country
    ]
    click.echo(
        f"smelter reference {parsed.version} ({parsed.source}): {len(parsed.smelters)} smelters; "
        f"{len(new)} new, {len(renamed)} renamed, {len(moved)} with a new country"
        + (f"; {parsed.skipped} row(s) without a CID skipped" if parsed.skipped else "")
    )
    for line in _named([f"{c} {parsed.smelters[c].name}" for c in new], "new smelter(s)"):
        click.echo(line)
    click.echo("run 'assay rescreen' to apply it to stored submissions")


@refdata.command("show")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def show_refdata(config: Config, db: Path | None) -> None:
    """Which reference data screening uses now, with each list's date and age."""
    from plugins.countries import COVERED_COUNTRIES

    store = open_store(config, db)
    ref = store.reference_data()
    today = config.clock().today()
    click.echo(f"smelter reference: {ref.smelter_list_version} ({len(ref.smelters)} smelters)")
    if not ref.rmap_lists:
        click.echo("RMAP lists: none loaded (assay refdata import-rmap FILE)")
    for r in ref.rmap_lists:
        when = f"{r.as_of.isoformat()}, {(today - r.as_of).days} days old" if r.as_of else "undated"
        judges = sorted(m for m in r.covered if r.version in {x.version for x in ref.lists_for(m)})
        click.echo(
            f"RMAP list {r.version} ({when}): {len(r.entries)} smelters; judges {', '.join(judges)}"
        )
    cahra_when = (
        f"{ref.cahra_as_of.isoformat()}, {(today - ref.cahra_as_of).days} days old"
        if ref.cahra_as_of
        else "undated"
    )
    click.echo(
        f"CAHRA list: {ref.cahra_version} ({cahra_when}; {len(ref.cahra)} countries); covered countries built in: {', '.join(sorted(COVERED_COUNTRIES))}"
    )
    for stale in ref.stale_lists(today, config.refdata.max_list_age_days):
        click.echo(f"WARNING: {stale.message}")
