"""Template-level findings: an old revision, an unknown newer one, formulas without values,\nsheets longer than the row limit."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from plugins.checks import Check, CheckContext
from plugins.hookspecs import hookimpl
from plugins.models import Declaration, Finding
from plugins.versions import version_key


def run(decl: Declaration, ctx: CheckContext) -> Iterator[Finding]:
    meta = decl.meta
    sheet, _, cell = meta.version_cell.partition("!")
    current = ctx.current_versions.get(meta.type, "")
    if not meta.known_version:
        yield CHECK.finding(
            "unknown-template-version",
            f"{meta.type} revision {meta.version} is newer than any layout Assay knows; it was read "
            f"with the {meta.layout} cell map, so check the findings against your file. If this "
            f"revision is not an official RMI release, please use {meta.type} {current}.",
            sheet=sheet,
            cell=cell,
        )
    elif current and version_key(meta.version) < version_key(current):
        yield CHECK.finding(
            "outdated-template",
            f"This is {meta.type} revision {meta.version}; the current revision is {current}. It was "
            f"screened, but please use {meta.type} {current} next time: its smelter look-up list is newer.",
            sheet=sheet,
            cell=cell,
        )
    if meta.uncached_formulas:
        yield CHECK.finding(
            "uncached-formulas",
            "The file was saved by a program that does not calculate Excel formulas, so look-up "
            "columns were empty; Assay resolved them from the workbook's own Smelter Look-up.",
            sheet="Smelter List",
        )
    for sheet_name, last_read, last_row in meta.truncated:
        yield CHECK.finding(
            "too-many-rows",
            f"The sheet {sheet_name!r} goes down to row {last_row:,}, far beyond any template; "
            f"Assay read it up to row {last_read:,} (the last row read) and screened nothing "
            "below. Please delete whatever is below your list, or split a very long list "
            "across two files, and send it again.",
            sheet=sheet_name,
            cell=f"A{last_read}" if last_read else "",
        )


CHECK = Check(
    id="template",
    run=run,
    codes={
        "outdated-template": "warning",
        "unknown-template-version": "warning",
        "uncached-formulas": "info",
        "too-many-rows": "error",
    },
    version="2",
    description="Template revision: outdated, unknown, or saved without formula values; sheets cut at the row limit.",
)


@hookimpl
def assay_register_checks(register: Callable[[Check], None]) -> None:
    register(CHECK)
