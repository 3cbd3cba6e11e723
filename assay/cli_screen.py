"""``assay screen``: screen templates given as files or directories.

One file is screened here, in this process. Start-up is most of its cost, so the module imports
almost nothing, and the file's slim package (:mod:`plugins.slim`) is made by a sandboxed child
while this process loads the plugins and reference data: the two cores share the work. Several files go to :func:`assay.pool.screen_files`, which screens them in worker
processes and yields the results in input order; each is written as soon as it arrives and
then dropped, keeping only what the closing summary table needs (a 50,000-row list would
otherwise be held as a result, as dicts and as one JSON string at once).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from .cli import allow_fast_exit
from .cli_files import expand_paths
from .cli_params import date_option
from .config import Config

if TYPE_CHECKING:
    from plugins.pipeline import Screener
    from plugins.slim import Prepared
    from storage.store import Store

    from .app import FileResult

EXIT_UNREADABLE = 2


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--as-of", callback=date_option, help="Screen as if today were this date (YYYY-MM-DD)."
)
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
    """Screen RMI templates (CMRT, EMRT, CRT, AMRT) and report every finding. A directory
    stands for the templates inside it; several files end with a summary table.

    Exit status 0 when every file was screened, 2 when a file could not be read at all (or
    on a usage error: a path that does not exist, a directory without templates).
    """
    paths = expand_paths(files)
    if len(paths) == 1:
        prepared = _prepare(config, paths[0])
    else:
        from plugins.slim import cancel_early

        prepared = None
        cancel_early()
    try:
        _screen(config, paths, fmt, as_of, db, no_store, prepared)
    finally:
        if prepared is not None:
            prepared.cancel()  # (a no-op once the read took its package)
    allow_fast_exit()  # its output is the standard streams (and the store, closed at exit)


def _prepare(config: Config, path: Path) -> Prepared | None:
    """The one file's slim package, being made in a sandboxed child while the plugins load:
    the one the console command started before parsing (:mod:`assay.__main__`), else one
    started now. The read checks it was made from the bytes and limits it reads with."""
    from plugins.slim import early_prepared, prepare_file

    early = early_prepared(str(path))
    limits = config.limits.to_limits()
    if early is not None:
        if early.limits == limits:
            return early
        early.cancel()  # made under the default limits; the config sets others
    return prepare_file(path, limits)


def _screen(
    config: Config,
    paths: list[Path],
    fmt: str,
    as_of: dt.date | None,
    db: Path | None,
    no_store: bool,
    prepared: Prepared | None,
) -> None:
    from .app import build_screener, open_store
    from .cli_files import summary_table
    from .progress import clear_line, progress
    from .render import result_json, result_text

    if no_store:
        # Screen with the lists of --db (else of the configured database, if there is one),
        # and store nothing.
        source = db or config.database
        if db is not None and not db.exists():
            raise click.ClickException(f"no database at {db}")
        lists = open_store(config, source) if source.exists() else None
        screener = build_screener(config, lists, as_of, keep_lookups=False)
        store = None
    else:
        store = open_store(config, db)
        screener = build_screener(config, store, as_of)
    out = sys.stdout
    unreadable = False
    kept: list[FileResult] = []
    out.write("[\n" if fmt == "json" else "")
    with progress(len(paths) if len(paths) > 1 else 0, "screening") as advance:
        for i, fr in enumerate(_results(screener, paths, store, advance, prepared)):
            unreadable |= not fr.result.readable
            clear_line()
            if fmt == "json":
                out.write(",\n" if i else "")
                _write_json(out, result_json(fr))
            else:
                out.write(("\n\n" if i else "") + result_text(fr))
                kept.append(_slim(fr))
            out.flush()
            del fr
    out.write("\n]\n" if fmt == "json" else "\n")
    if len(kept) > 1:
        out.write("\n" + summary_table(kept) + "\n")
    out.flush()
    if unreadable:
        sys.exit(EXIT_UNREADABLE)


def _results(
    screener: Screener,
    paths: list[Path],
    store: Store | None,
    advance: Callable[[int], None],
    prepared: Prepared | None,
) -> Iterator[FileResult]:
    if len(paths) == 1:
        from .app import screen_file

        yield screen_file(screener, paths[0], store, prepared=prepared)
        return
    from .pool import screen_files  # type: ignore[import-not-found,unused-ignore]

    yield from screen_files(screener, paths, store, source="cli", on_done=advance)


def _slim(fr: FileResult) -> FileResult:
    """What the summary table reads, without the rows."""
    decl = fr.result.declaration
    if decl is None:
        return fr
    slim = dataclasses.replace(
        decl, answers=(), company_answers=(), smelters=(), products=(), mines=()
    )
    return dataclasses.replace(fr, result=dataclasses.replace(fr.result, declaration=slim))


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
