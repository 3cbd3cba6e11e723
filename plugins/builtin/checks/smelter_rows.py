"""The Smelter List as a list: coverage per mineral, incomplete rows, identifiers, duplicates.

Also the shape of each row: values slid into other columns (``smelter-row-shifted``, see
:mod:`plugins.row_shape`) and mine-country text that is neither a country nor one of RMI's codes
(``mine-country-unclear``, one finding per distinct text naming every row; not for a row
already reported as shifted). A CID repeated once per mine is normal practice; only a
repeat with the same mine data, or none, is a ``duplicate-smelter``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from plugins.checks import Check, CheckContext
from plugins.hookspecs import hookimpl
from plugins.mine_countries import read_mine_countries
from plugins.models import Declaration, Finding, SmelterRow, cell_ref
from plugins.normalize import is_cid, is_placeholder
from plugins.row_shape import Signal, quote, shift_signals
from plugins.scope import MineralGate, layout_of, mineral_gates

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
            yield _without_smelters(gate, letter, layout.smelter_first_row)
    for key, rows in rows_by_metal.items():
        found = gates.get(key)
        metal = next(r.metal for r in decl.smelters if r.row == rows[0])
        if found is None or found.out_of_scope:
            why = (
                f"{metal} is not among the minerals of this declaration"
                if found is None
                else f"you declared {metal} out of scope (questions 1-2)"
            )
            yield CHECK.finding(
                "smelters-for-undeclared-metal",
                f"Your Smelter List has {len(rows)} {metal} row(s) (from row {rows[0]}), but "
                f"{why}.",
                sheet=SHEET,
                cell=f"{letter['metal']}{rows[0]}",
                mineral=metal,
            )
    not_identified: dict[str, list[int]] = {}
    shifted: set[int] = set()
    for r in decl.smelters:
        yield from _row(r, letter, layout.has_lookup)
        signals = shift_signals(r, letter)
        if signals:
            shifted.add(r.row)
            yield _shifted(r, signals)
        if r.sentinel == "not yet identified":
            not_identified.setdefault(r.metal or "?", []).append(r.row)
    yield from _duplicates(decl, letter, "id_input" in cols)
    yield from _unclear_mines(decl, letter, shifted)
    lookup_col = letter.get("lookup", "C")
    for metal, rows in not_identified.items():
        cells = [cell_ref(SHEET, f"{lookup_col}{n}") for n in rows]
        yield CHECK.finding(
            "smelters-not-all-identified",
            f"{metal}: your Smelter List {_rows(rows)} {'says' if len(rows) == 1 else 'say'} "
            "'Smelter not yet identified', so not all smelters are identified.",
            sheet=SHEET,
            cell=f"{lookup_col}{rows[0]}",
            mineral=metal,
            related=cells[1:],
        )


def _rows(rows: list[int], limit: int = 5) -> str:
    """ "row 6" or "rows 6, 9 and 3 more"."""
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    noun = "row" if len(rows) == 1 else "rows"
    return f"{noun} {', '.join(map(str, rows[:limit]))}{more}"


def _without_smelters(gate: MineralGate, letter: dict[str, str], first_row: int) -> Finding:
    """The mineral's scope answer (Q2, else Q1) is the cell to look at: it put the mineral in
    scope; the empty Smelter List is where the fix goes."""
    m = gate.mineral
    ans = gate.q2 or gate.q1
    said = "question 1 = Yes" + (", question 2 = Yes" if gate.q2 is not None else "")
    related = [cell_ref("Declaration", gate.q1.cell)] if gate.q1 and ans is not gate.q1 else []
    related.append(cell_ref(SHEET, f"{letter['metal']}{first_row}"))
    return CHECK.finding(
        "metal-without-smelters",
        f"You declared {m} in scope ({said}), but your Smelter List has no {m} row. List its "
        "smelters, or a row 'Smelter not yet identified' if you do not know them yet.",
        sheet="Declaration" if ans is not None else SHEET,
        cell=ans.cell if ans is not None else f"{letter['metal']}{first_row}",
        mineral=m,
        field=ans.question if ans is not None else "",
        related=related if ans is not None else (),
    )


def _shifted(r: SmelterRow, signals: list[Signal]) -> Finding:
    return CHECK.finding(
        "smelter-row-shifted",
        f"Your Smelter List row {r.row} ({_named(r)}) looks shifted by a column: "
        f"{'; '.join(s.says for s in signals)}. Please put each value in its own column.",
        sheet=SHEET,
        cell=signals[0].cell,
        mineral=r.metal,
        smelter_id=r.smelter_id,
        related=[cell_ref(SHEET, s.cell) for s in signals[1:]],
    )


def _named(r: SmelterRow) -> str:
    name = r.display_name
    return f"{quote(name)}, {r.smelter_id}" if name and name != r.smelter_id else r.smelter_id


def _mine_key(r: SmelterRow) -> tuple[str, str]:
    return (
        " ".join(r.mine_names.casefold().split()),
        " ".join(r.mine_countries.casefold().split()),
    )


def _duplicates(decl: Declaration, letter: dict[str, str], has_id_input: bool) -> Iterator[Finding]:
    """The same CID again, with the same mine data or none. A CID repeated once per mine
    (other mine names or countries) is how suppliers list a smelter's mines: no duplicate."""
    first_of_cid: dict[str, int] = {}
    first_of_key: dict[tuple[str, tuple[str, str]], int] = {}
    for r in decl.smelters:
        if not is_cid(r.smelter_id):
            continue
        mine = _mine_key(r)
        first = (
            first_of_cid.get(r.smelter_id)
            if mine == ("", "")
            else first_of_key.get((r.smelter_id, mine))
        )
        first_of_cid.setdefault(r.smelter_id, r.row)
        first_of_key.setdefault((r.smelter_id, mine), r.row)
        if first is None:
            continue
        col = "A" if has_id_input else letter["id_column"]
        same = "with the same mine data as" if mine != ("", "") else "already in"
        yield CHECK.finding(
            "duplicate-smelter",
            f"Your Smelter List row {r.row} lists {r.smelter_id} ({r.display_name}) again, "
            f"{same} row {first}.",
            sheet=SHEET,
            cell=f"{col}{r.row}",
            smelter_id=r.smelter_id,
            mineral=r.metal,
            related=[cell_ref(SHEET, f"{col}{first}")],
        )


def _unclear_mines(
    decl: Declaration, letter: dict[str, str], shifted: set[int]
) -> Iterator[Finding]:
    """Mine-country text that is neither a country nor an RMI code: one finding per distinct
    text, naming every row that says it (a file often repeats "various" on every row)."""
    col = letter.get("mine_countries")
    if col is None:
        return
    groups: dict[str, list[SmelterRow]] = {}
    for r in decl.smelters:
        if not r.mine_countries or r.row in shifted or r.sentinel == "not yet identified":
            continue
        if read_mine_countries(r.mine_countries).unclear:
            groups.setdefault(" ".join(r.mine_countries.casefold().split()), []).append(r)
    for rows in groups.values():
        first = rows[0]
        read = read_mine_countries(first.mine_countries)
        text = first.mine_countries
        codes = "one of RMI's codes (CC, HR, LR, R/S)"
        if is_placeholder(text):
            what = "that does not name the countries of the mines"
        elif read.countries or read.codes:
            parts = ", ".join(quote(u) for u in read.unclear[:3])
            verb = "is" if len(read.unclear) == 1 else "are"
            what = f"{parts} {verb} neither a country nor {codes}"
        else:
            what = f"that is neither a country nor {codes}"
        others = [r.row for r in rows[1:]]
        also = (
            f" ({_rows(others)} {'says' if len(others) == 1 else 'say'} the same)" if others else ""
        )
        yield CHECK.finding(
            "mine-country-unclear",
            f"Your Smelter List row {first.row} says {quote(text)} as the mine country "
            f"({col}{first.row}){also}: {what}. Please name the "
            "countries of the mines, or write 'recycled' or 'scrap'.",
            sheet=SHEET,
            cell=f"{col}{first.row}",
            mineral=first.metal,
            smelter_id=first.smelter_id if is_cid(first.smelter_id) else "",
            related=[cell_ref(SHEET, f"{col}{r.row}") for r in rows[1:]],
        )


def _row(r: SmelterRow, letter: dict[str, str], has_lookup: bool) -> Iterator[Finding]:
    where = {"sheet": SHEET, "mineral": r.metal}
    who = f"Your Smelter List row {r.row}"
    if not r.metal:
        yield CHECK.finding(
            "smelter-row-incomplete",
            f"{who} has no metal ({letter['metal']}{r.row}).",
            cell=f"{letter['metal']}{r.row}",
            field="metal",
            **where,
        )
    if has_lookup and not r.lookup and not is_cid(r.smelter_id):
        yield CHECK.finding(
            "smelter-row-incomplete",
            f"{who} has no Smelter Look-up value ({letter['lookup']}{r.row}); choose the "
            "smelter, 'Smelter not listed' or 'Smelter not yet identified'.",
            cell=f"{letter['lookup']}{r.row}",
            field="lookup",
            **where,
        )
    if r.sentinel == "not listed" or (not has_lookup and not r.smelter_id):
        # One row, one finding: the missing name and country are named together.
        missing = [
            (field, label, f"{letter[field]}{r.row}")
            for field, label, value in (
                ("name", "smelter name", r.name),
                ("country", "country", r.country),
            )
            if not value
        ]
        if missing:
            named = " and no ".join(f"{label} ({cell})" for _, label, cell in missing)
            kind = "is 'Smelter not listed'" if has_lookup else "has no smelter ID"
            yield CHECK.finding(
                "smelter-row-incomplete",
                f"{who} {kind} but has no {named}.",
                cell=missing[0][2],
                field=missing[0][0],
                related=[cell_ref(SHEET, cell) for _, _, cell in missing[1:]],
                **where,
            )
    for field, value, cell in (
        ("id_input", r.id_input, f"A{r.row}"),
        ("id_column", r.id_column, f"{letter['id_column']}{r.row}"),
    ):
        if value and not is_cid(value):
            yield CHECK.finding(
                "invalid-smelter-id",
                f"{who}: {quote(value)} ({cell}) is not a smelter identification number "
                "(CID followed by 6 digits).",
                cell=cell,
                field=field,
                **where,
            )
    if is_cid(r.id_input) and is_cid(r.id_column) and r.id_input != r.id_column:
        yield CHECK.finding(
            "smelter-id-mismatch",
            f"{who}: the ID you typed in column A ({r.id_input}) differs from the "
            f"identification in column {letter['id_column']} ({r.id_column}).",
            cell=f"A{r.row}",
            smelter_id=r.id_column,
            field="id_input",
            related=[cell_ref(SHEET, f"{letter['id_column']}{r.row}")],
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
        "smelter-row-shifted": "warning",
        "mine-country-unclear": "warning",
    },
    version="2",
    description="Smelter List structure: rows per in-scope mineral, incomplete rows, identifiers, duplicates.",
)


@hookimpl
def assay_register_checks(register: Callable[[Check], None]) -> None:
    register(CHECK)
