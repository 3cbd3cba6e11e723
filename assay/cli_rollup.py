"""``assay rollup``: the company's own CMRT/EMRT, filled into a blank RMI template.

The blank is read within ``[limits]`` and refused (one line) if it is no template Assay can
fill or if someone already filled it in. The facts come from the Store
(:mod:`reports.rollup_source`: the campaign named, else the newest of the template's family,
else the registry), the answers from the derivation rules (:func:`program.rollup.derive`)
and the ``[company]`` config, the file from the writer (:mod:`reports.company_template`).
The result is written next to ``--out`` and renamed into place, never over the blank, then
screened with the normal pipeline: its error, risk and warning counts are printed, and each
error, naming the ``[company]`` key where the config could have prevented it.

See docs/company-declaration.md.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import click

from plugins.layouts import Layout
from plugins.manager import get_plugin_manager
from plugins.models import Finding
from program.rollup import Derived, RollupError, derive
from program.rollup_company import config_key
from reports.company_blank import read_blank
from reports.company_template import (
    COMPANY_FIELDS,
    CompanyTemplateError,
    TemplateInfo,
    fill_company_template,
    with_placeholders,
)
from reports.rollup_source import RollupSourceError, pick_campaign, rollup_facts

from .app import build_screener, open_store
from .cli_diff import safe
from .config import Config

#: Supplier names printed per answer by ``--explain``; the rest are counted.
NAMES_SHOWN = 10
RULE_CHARS = 600
DECLARATION = "Declaration"


@click.command("rollup")
@click.option(
    "--campaign",
    "campaign_name",
    help="Campaign the answers come from (default: newest of the template's family).",
)
@click.option(
    "--template",
    "template",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A blank RMI template (.xlsx) downloaded from RMI.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The company declaration to write.",
)
@click.option("--explain", is_flag=True, help="Print each answer with its rule and deciders.")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Database of suppliers and their files (default: [assay] database).",
)
@click.pass_obj
def rollup(
    config: Config,
    campaign_name: str | None,
    template: Path,
    out: Path,
    explain: bool,
    db: Path | None,
) -> None:
    """Fill a blank RMI template with the company's own declaration, derived from the
    suppliers' latest files, then screen it."""
    source = db or config.database
    if not source.exists():
        raise click.ClickException(f"no database at {safe(source)}")
    if _same_file(template, out):
        raise click.ClickException("--out is the blank template itself; write somewhere else")
    limits = config.limits.to_limits()
    pm = get_plugin_manager(disabled=config.screening.disabled_plugins)
    blank = _read_blank_bytes(template, limits.max_file_bytes)
    company = config.company
    try:
        _decl, info = read_blank(pm, blank, limits)
        store = open_store(config, source)
        campaign = pick_campaign(store, info.layout.family, campaign_name)
        facts, smelters = rollup_facts(
            store,
            family=info.layout.family,
            minerals=info.minerals,
            company=company.answers(),
            out_of_scope=company.out_of_scope,
            campaign=campaign,
        )
        answers = derive(info.layout, facts)
        listed = with_placeholders(info, smelters, answers)
        block = {k: v for k, v in company.answers().items() if k in COMPANY_FIELDS}
        data = fill_company_template(
            blank,
            info,
            company=block,
            effective_date=company.effective_date or config.clock().today(),
            answers=answers,
            smelters=listed,
            limits=limits,
        )
    except (RollupError, RollupSourceError, CompanyTemplateError) as exc:
        raise click.ClickException(safe(str(exc), RULE_CHARS)) from exc
    _write_atomically(out, data)
    what = f"campaign {safe(campaign.name)}" if campaign else "the supplier registry"
    click.echo(
        f"wrote {safe(out)}: {info.layout.family} {safe(info.version)} from {what} "
        f"({facts.responded} of {facts.surveyed} suppliers responded, {facts.response_category}); "
        f"{len(smelters.entries)} smelter(s), {sum(facts.unidentified.values())} unidentified "
        f"row(s), {sum(facts.unreported.values())} not reportable"
    )
    for u in listed.unidentified[len(smelters.unidentified) :]:
        click.echo(
            f"{safe(u.metal)} is in scope but no supplier listed a smelter for it: "
            "written as one 'Smelter not yet identified' row"
        )
    if explain:
        for line in explain_lines(answers):
            click.echo(line)
    screener = build_screener(config, store)
    result = screener.screen_bytes(data)
    findings = result.findings
    counts = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "risk", "warning")}
    click.echo(
        f"screened: {counts['error']} error(s), {counts['risk']} risk(s), "
        f"{counts['warning']} warning(s)"
    )
    keys = config_cells(info, answers)
    for f in findings:
        if f.severity == "error":
            click.echo(error_line(f, keys))


def _same_file(template: Path, out: Path) -> bool:
    try:
        return out.exists() and template.exists() and os.path.samefile(template, out)
    except OSError:
        return False


def _read_blank_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise click.ClickException(
                f"{safe(path)} is {size:,} bytes, more than [limits] max_file_mb "
                f"({max_bytes / (1024 * 1024):g} MB); a blank template is well under 5 MB"
            )
        with path.open("rb") as fh:
            return fh.read(max_bytes + 1)
    except OSError as exc:
        raise click.ClickException(
            f"cannot read the template {safe(path)}: {exc.strerror or exc}"
        ) from exc


def _write_atomically(out: Path, data: bytes) -> None:
    """``data`` to a temporary file in ``out``'s directory, then renamed over ``out``."""
    folder = out.parent if str(out.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".assay-rollup-", suffix=".xlsx", dir=folder)
    except OSError as exc:
        raise click.ClickException(f"cannot write {safe(out)}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise click.ClickException(f"cannot write {safe(out)}: {exc.strerror or exc}") from exc


def names(deciders: Sequence[str], shown: int = NAMES_SHOWN) -> str:
    """Supplier names for the terminal: at most ``shown``, then "and N more"."""
    head = ", ".join(safe(n) for n in deciders[:shown])
    more = len(deciders) - shown
    return f"{head} and {more} more" if more > 0 else head


def explain_lines(answers: Iterable[Derived]) -> list[str]:
    """One block per answer: question (and mineral), answer, rule, deciders."""
    lines = []
    for d in answers:
        where = f"{d.question} {safe(d.mineral)}".strip()
        answer = f'"{safe(d.answer)}"' if d.answer else "(blank)"
        lines.append(f"{where}: {answer}")
        lines.append(f"    rule: {safe(d.rule, RULE_CHARS)}")
        if d.deciders:
            lines.append(f"    decided by: {names(d.deciders)}")
        if d.comment:
            lines.append(f"    comment: {safe(d.comment, RULE_CHARS)}")
    return lines


def config_cells(info: TemplateInfo, answers: Iterable[Derived]) -> dict[str, str]:
    """Declaration cell (``D8``) -> the ``[company]`` key that fills it: the company block
    and the company-level questions' answer and comment cells."""
    lay: Layout = info.layout
    out: dict[str, str] = {}
    by_field = {f: k for k, f in COMPANY_FIELDS.items()}
    for field, addr in lay.company_cells.items():
        if field in by_field:
            out[addr.upper()] = by_field[field]
        elif field == "effective_date":
            out[addr.upper()] = "effective_date"
    company_ids = {cq.id: cq for cq in lay.company_questions}
    for d in answers:
        cq = company_ids.get(d.question)
        if cq is None:
            continue
        row = _company_row(info, cq.id, d.mineral)
        if row is None:
            continue
        key = config_key(d.kind, d.mineral if cq.per_mineral_rows else "")
        out.setdefault(f"D{row}", key)
        if d.kind == "policy-public":
            out.setdefault(f"G{row}", "policy_url")
        elif d.kind == "survey":
            out.setdefault(f"G{row}", "survey_description")
    return out


def _company_row(info: TemplateInfo, question: str, mineral: str) -> int | None:
    for cq in info.layout.company_questions:
        if cq.id != question:
            continue
        if cq.per_mineral_rows:
            if mineral in info.minerals:
                slot = info.minerals.index(mineral)
                if slot < len(cq.per_mineral_rows):
                    return cq.per_mineral_rows[slot]
            continue
        if cq.mineral and cq.mineral != mineral:
            continue
        return cq.row
    return None


def error_line(f: Finding, keys: Mapping[str, str]) -> str:
    """One error of the screened output; ``[company] key`` where the config fills its cell."""
    where = f"{f.sheet}!{f.cell}" if f.sheet and f.cell else (f.cell or f.sheet)
    key = keys.get(f.cell.upper()) if f.sheet in ("", DECLARATION) and f.cell else None
    hint = f" (set [company] {key})" if key else ""
    place = f" {safe(where)}" if where else ""
    return f"  error{place}: {safe(f.message, RULE_CHARS)}{hint}"
