"""The Smelter List as a list: coverage per mineral, incomplete rows, identifiers, duplicates."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from plugins.checks import Check, CheckContext
from plugins.hookspecs import hookimpl
from plugins.models import Declaration, Finding
from plugins.normalize import is_cid
from plugins.scope import layout_of, mineral_gates

SHEET = "Smelter List"


def run(decl: Declaration, ctx: CheckContext) -> Iterator[Finding]:
    layout = layout_of(decl)
    cols = layout.smelter_columns
    letter = {f: chr(65 + i) for f, i in cols.items() if i < 26}
    gates = {g.mineral.casefold(): g for g in mineral_gates(decl)}
    rows_by_metal: dict[str, list[int]] = {}
    for r in decl.smelters:
        if r.metal and (r.lookup or r.name or r.smelter_id):
            rows_by_metal.setdefault(r.metal.casefold(), []).append(r.row)
    for key, gate in gates.items():
        if gate.in_scope and not rows_by_metal.get(key):
            yield CHECK.finding(
                "metal-without-smelters",
                f"{gate.mineral} is declared in scope, but the Smelter List has no {gate.mineral} row. "
                "List its smelters, or 'Smelter not yet identified' if they are unknown.",
                sheet=SHEET,
                cell=f"{letter['metal']}{layout.smelter_first_row}",
                mineral=gate.mineral,
            )
    for key, rows in rows_by_metal.items():
        found = gates.get(key)
        metal = next(r.metal for r in decl.smelters if r.row == rows[0])
        if found is None or found.out_of_scope:
            why = (
                "is not among the minerals of this declaration"
                if found is None
                else "is declared out of scope (questions 1-2)"
            )
            yield CHECK.finding(
                "smelters-for-undeclared-metal",
                f"{len(rows)} Smelter List row(s) name {metal}, which {why}.",
                sheet=SHEET,
                cell=f"{letter['metal']}{rows[0]}",
                mineral=metal,
            )
    seen: dict[str, int] = {}
    not_identified: dict[str, list[int]] = {}
    for r in decl.smelters:
        yield from _row(r, letter, layout.has_lookup)
        if r.sentinel == "not yet identified":
            not_identified.setdefault(r.metal or "?", []).append(r.row)
        if is_cid(r.smelter_id):
            if r.smelter_id in seen:
                yield CHECK.finding(
                    "duplicate-smelter",
                    f"{r.smelter_id} ({r.display_name}) is listed again; first in row {seen[r.smelter_id]}.",
                    sheet=SHEET,
                    cell=f"A{r.row}" if "id_input" in cols else f"{letter['id_column']}{r.row}",
                    smelter_id=r.smelter_id,
                    mineral=r.metal,
                )
            else:
                seen[r.smelter_id] = r.row
    for metal, rows in not_identified.items():
        yield CHECK.finding(
            "smelters-not-all-identified",
            f"{metal}: {len(rows)} row(s) say 'Smelter not yet identified' (rows {_span(rows)}).",
            sheet=SHEET,
            cell=f"{letter.get('lookup', 'C')}{rows[0]}",
            mineral=metal,
        )


def _span(rows: list[int]) -> str:
    return ", ".join(map(str, rows[:5])) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")


def _row(r, letter: dict[str, str], has_lookup: bool) -> Iterator[Finding]:  # type: ignore[no-untyped-def]
    where = {"sheet": SHEET, "mineral": r.metal}
    if not r.metal:
        yield CHECK.finding(
            "smelter-row-incomplete",
            f"Row {r.row} has no metal.",
            cell=f"{letter['metal']}{r.row}",
            field="metal",
            **where,
        )
    if has_lookup and not r.lookup and not is_cid(r.smelter_id):
        yield CHECK.finding(
            "smelter-row-incomplete",
            f"Row {r.row} has no Smelter Look-up value; choose the smelter, 'Smelter not listed' or 'Smelter not yet identified'.",
            cell=f"{letter['lookup']}{r.row}",
            field="lookup",
            **where,
        )
    if r.sentinel == "not listed" or (not has_lookup and not r.smelter_id):
        if not r.name:
            yield CHECK.finding(
                "smelter-row-incomplete",
                f"Row {r.row} is 'Smelter not listed' but has no smelter name.",
                cell=f"{letter['name']}{r.row}",
                field="name",
                **where,
            )
        if not r.country:
            yield CHECK.finding(
                "smelter-row-incomplete",
                f"Row {r.row} is 'Smelter not listed' but has no country.",
                cell=f"{letter['country']}{r.row}",
                field="country",
                **where,
            )
    for field, value, cell in (
        ("id_input", r.id_input, f"A{r.row}"),
        ("id_column", r.id_column, f"{letter['id_column']}{r.row}"),
    ):
        if value and not is_cid(value):
            yield CHECK.finding(
                "invalid-smelter-id",
                f"Row {r.row}: {value!r} is not a smelter identification number (CID followed by 6 digits).",
                cell=cell,
                field=field,
                **where,
            )
    if is_cid(r.id_input) and is_cid(r.id_column) and r.id_input != r.id_column:
        yield CHECK.finding(
            "smelter-id-mismatch",
            f"Row {r.row}: the ID typed in column A ({r.id_input}) differs from the identification in column F ({r.id_column}).",
            cell=f"A{r.row}",
            smelter_id=r.id_column,
            field="id_input",
            **where,
        )


CHECK = Check(
    id="smelter-list",
    run=run,
    codes={
        "metal-without-smelters": "error",
        "smelters-for-undeclared-metal": "warning",
        "smelter-row-incomplete": "error",
        "invalid-smelter-id": "error",
        "smelter-id-mismatch": "warning",
        "duplicate-smelter": "info",
        "smelters-not-all-identified": "warning",
    },
    description="Smelter List structure: rows per in-scope mineral, incomplete rows, identifiers, duplicates.",
)


@hookimpl
def assay_register_checks(register: Callable[[Check], None]) -> None:
    register(CHECK)
