"""Where smelters are, and where their ore comes from: covered countries and CAHRAs.

Smelter location is not ore origin, so both are flagged, separately. The covered
countries are built in; the CAHRA list is the operator's versioned data. The EU's CAHRA
list names *areas* within countries, so a smelter merely located in such a country is at
most an info; listed mine countries and declared sourcing are what make risk.

Mine-country cells are read by :mod:`plugins.mine_countries`: RMI's own codes count ("CC"
is covered-country sourcing, "HR" a high-risk area; "LR" and "R/S" are no risk). Text that
is neither a country nor a code is the smelter-list check's business (``mine-country-unclear``).
The covered-country contradiction names every row behind it in ``related``; each row's own
risk finding stays, for the compliance team.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from plugins.checks import Check, CheckContext
from plugins.countries import COVERED_COUNTRIES, country_code, display_country
from plugins.hookspecs import hookimpl
from plugins.mine_countries import CODE_WORDS, read_mine_countries
from plugins.models import Declaration, Finding, cell_ref, split_cell
from plugins.resolve import DEFAULT_CUTOFF, resolve_rows
from plugins.scope import layout_of, question_of_kind

SHEET = "Smelter List"


def run(decl: Declaration, ctx: CheckContext) -> Iterator[Finding]:
    ref = ctx.reference
    layout = layout_of(decl)
    cols = layout.smelter_columns
    country_col, mine_col = chr(65 + cols["country"]), chr(65 + cols["mine_countries"])
    cahra_label = f"CAHRA list {ref.cahra_version}" + (
        f" of {ref.cahra_as_of.isoformat()}" if ref.cahra_as_of else ""
    )
    covered_q = question_of_kind(layout, "covered-sourcing")
    # mineral (casefolded) -> the cells naming covered-country mines, for the contradiction
    mine_covered: dict[str, list[str]] = {}
    for res in resolve_rows(decl, ref, float(ctx.settings.get("name_cutoff", DEFAULT_CUTOFF))):
        r = res.row
        known = ref.smelters.get(res.cid) if res.cid else None
        code = country_code(r.country) or (country_code(known.country) if known else "")
        where = {"sheet": SHEET, "smelter_id": res.cid, "mineral": r.metal}
        who = f"Your Smelter List row {r.row} ({r.display_name or res.cid or 'smelter'})"
        if code in COVERED_COUNTRIES:
            yield CHECK.finding(
                "smelter-in-covered-country",
                f"{who} is a smelter located in {display_country(code)}, a covered country (the "
                "DRC or a country bordering it).",
                cell=f"{country_col}{r.row}",
                **where,
            )
        if code and code in ref.cahra:
            areas = ref.cahra_areas.get(code, ())
            named = f" ({', '.join(areas[:3])}{', ...' if len(areas) > 3 else ''})" if areas else ""
            yield CHECK.finding(
                "smelter-in-cahra",
                f"{who} is located in {display_country(code)}, a country with areas{named} on the "
                f"{cahra_label}. A smelter's location is not its ore's origin: this alone is no risk.",
                cell=f"{country_col}{r.row}",
                **where,
            )
        mine_cell = f"{mine_col}{r.row}"
        origin = read_mine_countries(r.mine_countries)
        covered = [display_country(c) for c in origin.countries if c in COVERED_COUNTRIES]
        listed = [
            display_country(c)
            for c in origin.countries
            if c not in COVERED_COUNTRIES and c in ref.cahra
        ]
        if covered or origin.covered_code:
            mine_covered.setdefault(r.metal.casefold(), []).append(cell_ref(SHEET, mine_cell))
            said = _said(CODE_WORDS["CC"] if origin.covered_code else "", covered)
            yield CHECK.finding(
                "mine-in-covered-country",
                f"{who}: {said} as {_mine_noun(origin.countries)} ({mine_cell}), so its ore "
                "comes from the DRC or a country bordering it (the covered countries).",
                cell=mine_cell,
                **where,
            )
        if listed or origin.high_risk_code:
            said = _said(CODE_WORDS["HR"] if origin.high_risk_code else "", listed)
            on_list = f" ({_and(listed)} on the {cahra_label})" if listed else ""
            yield CHECK.finding(
                "mine-in-cahra",
                f"{who}: {said} as {_mine_noun(origin.countries)} ({mine_cell}), so its ore "
                f"comes from a conflict-affected or high-risk area{on_list}.",
                cell=mine_cell,
                **where,
            )
    for m in decl.mines:
        code = country_code(m.country)
        where = {
            "sheet": "Mine List",
            "cell": f"F{m.row}",
            "mineral": m.metal,
            "smelter_id": m.mine_id,
        }
        if code in COVERED_COUNTRIES:
            mine_covered.setdefault(m.metal.casefold(), []).append(
                cell_ref("Mine List", f"F{m.row}")
            )
            yield CHECK.finding(
                "mine-in-covered-country",
                f"Your Mine List row {m.row}: {m.name or 'a mine'} is in {display_country(code)}, "
                "a covered country.",
                **where,
            )
        elif code in ref.cahra:
            yield CHECK.finding(
                "mine-in-cahra",
                f"Your Mine List row {m.row}: {m.name or 'a mine'} is in {display_country(code)}, "
                f"on the {cahra_label}.",
                **where,
            )
    if covered_q is not None:
        for mineral in decl.minerals:
            ans = decl.answer(covered_q.id, mineral)
            cells = list(dict.fromkeys(mine_covered.get(mineral.casefold(), ())))
            if ans is not None and ans.value == "No" and cells:
                yield CHECK.finding(
                    "contradictory-answers",
                    f"{mineral}: you answered No to question {covered_q.id[1:]} (sourcing from "
                    f"the covered countries), but your {_rows_named(cells)} name a covered "
                    "country as the mine country. Please correct the answer or those rows.",
                    sheet="Declaration",
                    cell=ans.cell,
                    mineral=mineral,
                    field=covered_q.id,
                    related=cells,
                )


def _mine_noun(countries: tuple[str, ...]) -> str:
    return "mine countries" if len(countries) > 1 else "the mine country"


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _said(code_words: str, countries: list[str]) -> str:
    """ "you marked CC (covered countries) and named RWANDA" and the like."""
    marked = f"you marked {code_words}" if code_words else ""
    named = f"you named {_and(countries)}" if countries else ""
    if marked and named:
        return f"{marked} and named {_and(countries)}"
    return marked or named


def _rows_named(cells: list[str], limit: int = 5) -> str:
    """ "Smelter List rows 12, 14 (O12, O14)": the cells of ``cells`` by sheet, bounded."""
    by_sheet: dict[str, list[str]] = {}
    for ref in cells:
        sheet, _, cell = ref.rpartition("!")
        by_sheet.setdefault(sheet, []).append(cell)
    parts = []
    for sheet, addrs in by_sheet.items():
        rows = [str(split_cell(a)[0]) for a in addrs]
        more = f" and {len(addrs) - limit} more" if len(addrs) > limit else ""
        noun = "row" if len(addrs) == 1 else "rows"
        parts.append(
            f"{sheet} {noun} {', '.join(rows[:limit])}{more} ({', '.join(addrs[:limit])}{more})"
        )
    return " and ".join(parts)


CHECK = Check(
    id="country-risk",
    run=run,
    codes={
        "smelter-in-covered-country": "risk",
        "smelter-in-cahra": "info",
        "mine-in-covered-country": "risk",
        "mine-in-cahra": "risk",
        "contradictory-answers": "warning",
    },
    version="3",
    description="Country risk of smelter locations and mine countries (covered countries, CAHRA list).",
)


@hookimpl
def assay_register_checks(register: Callable[[Check], None]) -> None:
    register(CHECK)
