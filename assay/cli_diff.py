"""``assay diff A B``: what changed between two declarations of one supplier.

A and B are each a file (screened on the fly, stored nowhere, with the reference lists of
the database as ``assay screen --no-store`` does) or a stored submission, named by its
sha256 or a unique prefix of at least 8 hex characters. The comparison itself is
:func:`program.diff.compare`; this module only finds both sides and renders the result.

An existing file wins over a submission prefix of the same spelling. A file that cannot
be read is not an error: it is compared as "no declaration" with its unreadable-file
finding. Every text that came from a file is printed on one line without control
characters or bidi overrides; the JSON escapes them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from plugins.models import Declaration, Finding
from plugins.pipeline import Screener
from plugins.reference import ReferenceData
from program.diff import Comparison, FieldChange, SmelterChange, compare
from program.digest import one_line
from storage.listfiles import clean_cell
from storage.store import Store

from .app import FileResult, build_screener, open_store, screen_file
from .cli_params import date_option
from .config import Config

MIN_PREFIX = 8
_HEX = re.compile(r"[0-9a-fA-F]{8,64}")
#: What JSON leaves raw but a terminal acts on: C1 controls, bidi overrides, line separators.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
NAME_CHARS = 200
MESSAGE_CHARS = 600


@dataclass(frozen=True)
class Side:
    """One of the two declarations compared, wherever it came from."""

    label: str  # as given on the command line (a path, or a prefix)
    sha256: str
    filename: str
    received: str  # a stored submission's first_seen; "" for a file
    declaration: Declaration | None
    findings: tuple[Finding, ...]

    def to_dict(self) -> dict[str, Any]:
        decl = self.declaration
        return {
            "argument": self.label,
            "sha256": self.sha256,
            "filename": self.filename,
            "received": self.received or None,
            "readable": decl is not None,
            "template": f"{decl.meta.type} {decl.meta.version}" if decl else None,
            "company_name": decl.company.get("company_name", "") if decl else None,
        }


def safe(text: object, limit: int = NAME_CHARS) -> str:
    """Outside text for the terminal: one line, no controls or bidi overrides, bounded."""
    cut = str(text)[: limit * 4 + 16]
    return one_line(clean_cell(cut), limit)


@click.command("diff")
@click.argument("old", metavar="A")
@click.argument("new", metavar="B")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Database of stored submissions and reference lists (default: [assay] database).",
)
@click.option("--as-of", callback=date_option, help="Screen files as if today were this date.")
@click.pass_obj
def diff(
    config: Config, old: str, new: str, fmt: str, db: Path | None, as_of: dt.date | None
) -> None:
    """Compare two declarations: fields and answers changed, smelters added and removed (with
    their RMAP standing), findings fixed, new and still open.

    A and B are each a file or a stored submission (its sha256, or a unique prefix of at
    least 8 hex characters). Files are screened on the fly and stored nowhere."""
    if db is not None and not db.exists():
        raise click.BadParameter(f"no database at {db}", param_hint="--db")
    source = db or config.database
    store = open_store(config, source) if source.exists() else None
    screeners: list[Screener] = []

    def screen(path: Path) -> FileResult:
        if not screeners:  # built once, and only when a side is a file
            screeners.append(build_screener(config, store, as_of))
        return screen_file(screeners[0], path, None)

    sides = [_side(arg, name, store, screen) for arg, name in ((old, "A"), (new, "B"))]
    reference = screeners[0].reference if screeners else _reference(store)
    result = compare(
        sides[0].declaration,
        sides[0].findings,
        sides[1].declaration,
        sides[1].findings,
        reference,
    )
    if fmt == "json":
        out = {"old": sides[0].to_dict(), "new": sides[1].to_dict(), **result.to_dict()}
        text = json.dumps(out, indent=2, ensure_ascii=False)
        click.echo(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))
    else:
        click.echo(render_text(sides[0], sides[1], result))


def _reference(store: Store | None) -> ReferenceData:
    if store is not None:
        return store.reference_data()
    from storage.refdata import embedded_reference

    return embedded_reference()


def _side(arg: str, name: str, store: Store | None, screen: Callable[[Path], FileResult]) -> Side:
    path = Path(arg)
    if path.is_file():
        fr = screen(path)
        return Side(arg, fr.sha256, path.name, "", fr.result.declaration, fr.result.findings)
    if path.exists():
        raise click.BadParameter(f"{safe(arg)} is not a file", param_hint=name)
    if not _HEX.fullmatch(arg):
        raise click.BadParameter(
            f"{safe(arg)}: no such file (nor a sha256 prefix of {MIN_PREFIX}+ hex characters)",
            param_hint=name,
        )
    if store is None:
        raise click.BadParameter(
            f"{arg}: no such file, and no database to look the submission up in (--db)",
            param_hint=name,
        )
    found = store.submissions_with_prefix(arg)
    if not found:
        raise click.BadParameter(f"{arg}: no such file or stored submission", param_hint=name)
    if len(found) > 1:
        raise click.BadParameter(
            f"{arg} is the start of several stored submissions; give more of the sha256",
            param_hint=name,
        )
    sha = found[0]
    row = store.submission(sha)
    return Side(
        arg,
        sha,
        row.filename if row else "",
        row.first_seen if row else "",
        store.declaration(sha),
        tuple(store.findings(sha)),
    )


# -- text ------------------------------------------------------------------------------------


def _describe(side: Side) -> str:
    what = f"submission {side.sha256[:12]}" if side.received else safe(side.label)
    if side.received:
        what += f" ({safe(side.filename) or 'no file name'}, received {side.received[:10]})"
    decl = side.declaration
    if decl is None:
        return f"{what}: not readable, compared as no declaration"
    company = safe(decl.company.get("company_name", "")) or "(no company name)"
    return (
        f"{what}: {safe(decl.meta.type)} {safe(decl.meta.version)}, {company}, "
        f"{len(decl.smelters)} smelter row(s)"
    )


def _value(text: str) -> str:
    return f'"{safe(text)}"' if text else "(blank)"


def _change(c: FieldChange) -> str:
    return f"  {safe(c.where):<22} {safe(c.label)}: {_value(c.old)} -> {_value(c.new)}"


def _smelter(s: SmelterChange) -> str:
    who = " ".join(p for p in (safe(s.metal), s.cid, safe(s.name)) if p)
    country = f" ({safe(s.country)})" if s.country else ""
    return f"  {who}{country}: {s.standing or 'standing unknown'}"


def _finding(f: Finding) -> str:
    where = f"{f.sheet}!{f.cell}" if f.cell else (f.sheet or "file")
    return (
        f"  {safe(where):<22} {f.severity.upper():<7} {safe(f.code):<30} "
        f"{safe(f.message, MESSAGE_CHARS)}"
    )


def render_text(old: Side, new: Side, c: Comparison) -> str:
    fixed, still_open, added = c.counts()
    lines = [
        f"A: {_describe(old)}",
        f"B: {_describe(new)}",
        f"{fixed} fixed, {still_open} still open, {added} new "
        "(errors, risks and warnings; info findings are listed, not counted).",
    ]
    sections: list[tuple[str, list[str]]] = [
        ("Declaration fields changed", [_change(x) for x in c.fields]),
        ("Answers changed", [_change(x) for x in c.answers]),
        ("Smelters added", [_smelter(s) for s in c.smelters_added]),
        ("Smelters removed", [_smelter(s) for s in c.smelters_removed]),
        ("Findings fixed", [_finding(f) for f in c.fixed]),
        ("New findings", [_finding(f) for f in c.new]),
        ("Still open", [_finding(f) for f in c.still_open]),
    ]
    if c.list_replaced:
        lines.append("The smelter list was replaced wholesale: few of its smelters were kept.")
    for title, body in sections:
        if body:
            lines.append("")
            lines.append(f"{title} ({len(body)})")
            lines.extend(body)
    return "\n".join(lines)
