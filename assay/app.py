"""The composition root: config -> plugin manager, store, screener. Nothing below builds these.

The store (sqlite-utils and every table module) is imported only when one is opened: ``assay
screen --no-store`` never needs it, and start-up is most of that command's time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from plugins.clock import Clock
from plugins.lookup_cache import LookupCache
from plugins.manager import get_plugin_manager
from plugins.pipeline import Screener, ScreeningResult

from .config import Config

if TYPE_CHECKING:
    from plugins.slim import Prepared
    from storage.store import Store


@dataclass(frozen=True)
class FileResult:
    file: str
    sha256: str
    result: ScreeningResult


def open_store(config: Config, db: str | Path | None = None) -> Store:
    from storage.store import Store

    return Store(
        Path(db) if db else config.database, keep_originals_days=config.storage.keep_originals_days
    )


def build_screener(
    config: Config,
    store: Store | None,
    as_of: dt.date | None = None,
    follow: bool = False,
    clock: Clock | None = None,
    keep_lookups: bool = True,
) -> Screener:
    """The screener for this config. ``follow``: pick up new reference lists from the store as
    they are loaded (long-running services; the store must stay in this thread).

    ``as_of`` (else ``[screening] as_of``) fixes the screening date; without one, each
    screening asks ``clock`` (else the system clock in ``[assay] time_zone``) for today.
    ``keep_lookups=False``: parsed Smelter Look-ups stay in memory, the store is not written
    (``assay screen --no-store`` reads the store's lists and writes nothing)."""
    lookups = LookupCache()  # parsed Smelter Look-ups; kept in the store when there is one
    if store is not None:
        from storage.lookup_store import StoredLookups

        lookups = LookupCache(store=StoredLookups(store.db)) if keep_lookups else lookups
        reference = store.reference_data()
    else:
        from storage.refdata import embedded_reference

        reference = embedded_reference()
    return Screener(
        get_plugin_manager(disabled=config.screening.disabled_plugins),
        reference,
        as_of=as_of or config.screening.as_of,
        clock=(clock or config.clock()).today,
        settings=config.plugins,
        disabled_checks=config.screening.disabled_checks,
        current_versions=config.screening.current_versions,
        limits=config.limits.to_limits(),
        reference_provider=store.reference_data if (follow and store is not None) else None,
        max_list_age_days=config.refdata.max_list_age_days,
        lookup_cache=lookups,
    )


def screen_file(
    screener: Screener,
    path: Path,
    store: Store | None,
    source: str = "cli",
    prepared: Prepared | None = None,
) -> FileResult:
    """``prepared``: the file's slim package being made (:func:`plugins.slim.start_prepare`)."""
    fr, data = screen_path(screener, path, prepared)
    if store is not None and data is not None:
        store_result(store, fr, data, source)
    return fr


def screen_path(
    screener: Screener, path: Path, prepared: Prepared | None = None
) -> tuple[FileResult, bytes | None]:
    """Read and screen one file, storing nothing: the result, and the bytes (None when the file
    could not be opened: there is nothing to store)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        from plugins.pipeline import file_finding

        finding = file_finding(
            "unreadable-file", f"The file could not be opened: {exc.strerror or exc}."
        )
        return FileResult(
            str(path),
            "",
            ScreeningResult(
                None,
                (finding,),
                readable=False,
                reference_versions=screener.reference_versions(),
                as_of=screener.screening_date(),
            ),
        ), None
    sha = hashlib.sha256(data).hexdigest()
    if prepared is None:
        return FileResult(str(path), sha, screener.screen_bytes(data)), data
    return FileResult(str(path), sha, screener.screen_bytes(data, prepared=prepared)), data


def store_result(store: Store, fr: FileResult, data: bytes, source: str = "cli") -> None:
    """Record a screened file (and credit its declared supplier) as :func:`screen_file` does."""
    from storage.arrivals import ArrivedFile

    arrival = store.record_submission(
        [ArrivedFile(fr.sha256, Path(fr.file).name, data, fr.result)], source=source
    )
    if arrival.declared:
        store.credit_submission(fr.sha256, arrival.declared, source)
