"""Where smelters are, and where their ore comes from: covered countries and CAHRAs.

Smelter location is not ore origin, so both are flagged, separately. The covered
countries are built in; the CAHRA list is the operator's versioned data. The EU's CAHRA
list names *areas* within countries, so a smelter merely located in such a country is at
most an info; listed mine countries and declared sourcing are what make risk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from plugins.checks import Check, CheckContext
from plugins.countries import COVERED_COUNTRIES, countries_in_text, country_code, country_name
from plugins.hookspecs import hookimpl
from plugins.models import Declaration, Finding
from plugins.scope import layout_of, question_of_kind

from .resolve import DEFAULT_CUTOFF, resolve_rows

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
    mine_covered: set[str] = set()
    for res in resolve_rows(decl, ref, float(ctx.settings.get("name_cutoff", DEFAULT_CUTOFF))):
        r = res.row
        known = ref.smelters.get(res.cid) if res.cid else None
        code = country_code(r.country) or (country_code(known.country) if known else "")
        where = {"sheet": SHEET, "smelter_id": res.cid, "mineral": r.metal}
        who = f"Row {r.row}: {r.display_name or res.cid or 'smelter'}"
        if code in COVERED_COUNTRIES:
            yield CHECK.finding(
                "smelter-in-covered-country",
                f"{who} is located in {country_name(code)}, a covered country.",
                cell=f"{country_col}{r.row}",
                **where,
            )
        if code and code in ref.cahra:
            areas = ref.cahra_areas.get(code, ())
            named = f" ({', '.join(areas[:3])}{', ...' if len(areas) > 3 else ''})" if areas else ""
            yield CHECK.finding(
                "smelter-in-cahra",
                f"{who} is located in {country_name(code)}, a country with areas{named} on the "
                f"{cahra_label}. A smelter's location is not its ore's origin: this alone is no risk.",
                cell=f"{country_col}{r.row}",
                **where,
            )
        for mine in countries_in_text(r.mine_countries):
            if mine in COVERED_COUNTRIES:
                mine_covered.add(r.metal.casefold())
                yield CHECK.finding(
                    "mine-in-covered-country",
                    f"{who} names mine country {country_name(mine)}, a covered country.",
                    cell=f"{mine_col}{r.row}",
                    **where,
                )
            elif mine in ref.cahra:
                yield CHECK.finding(
                    "mine-in-cahra",
                    f"{who} names mine country {country_name(mine)}, on the {cahra_label}.",
                    cell=f"{mine_col}{r.row}",
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
            mine_covered.add(m.metal.casefold())
            yield CHECK.finding(
                "mine-in-covered-country",
                f"Mine List row {m.row}: {m.name or 'a mine'} is in {country_name(code)}, a covered country.",
                **where,
            )
        elif code in ref.cahra:
            yield CHECK.finding(
                "mine-in-cahra",
                f"Mine List row {m.row}: {m.name or 'a mine'} is in {country_name(code)}, on the {cahra_label}.",
                **where,
            )
    if covered_q is not None:
        for mineral in decl.minerals:
            ans = decl.answer(covered_q.id, mineral)
            if ans is not None and ans.value == "No" and mineral.casefold() in mine_covered:
                yield CHECK.finding(
                    "contradictory-answers",
                    f"{mineral}: question {covered_q.id[1:]} says no covered-country sourcing, but mine countries in the lists name a covered country.",
                    sheet="Declaration",
                    cell=ans.cell,
                    mineral=mineral,
                    field=covered_q.id,
                )


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
    version="2",
    description="Country risk of smelter locations and mine countries (covered countries, CAHRA list).",
)


@hookimpl
def assay_register_checks(register: Callable[[Check], None]) -> None:
    register(CHECK)
