"""Every smelter row against the smelter reference list.

Settings (``[plugins.smelter-reference]``): ``name_cutoff`` (0-100, default 88), the
fuzzy-match score below which a name-only row is left to a person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from plugins.checks import Check, CheckContext
from plugins.countries import country_code
from plugins.hookspecs import hookimpl
from plugins.models import Declaration, Finding
from plugins.normalize import name_key
from plugins.resolve import DEFAULT_CUTOFF, resolve_rows
from plugins.scope import layout_of

SHEET = "Smelter List"


def run(decl: Declaration, ctx: CheckContext) -> Iterator[Finding]:
    ref = ctx.reference
    cutoff = float(ctx.settings.get("name_cutoff", DEFAULT_CUTOFF))
    cols = layout_of(decl).smelter_columns
    id_col = "A" if "id_input" in cols else chr(65 + cols["id_column"])
    name_col = chr(65 + cols["name"])
    version = ref.smelter_list_version
    for res in resolve_rows(decl, ref, cutoff):
        r = res.row
        where = {"sheet": SHEET, "mineral": r.metal}
        if res.how == "id":
            known = ref.smelters.get(res.cid)
            cell = (
                f"{id_col}{r.row}"
                if r.id_source in ("A", "")
                else f"{chr(65 + cols['id_column'])}{r.row}"
            )
            if known is None:
                yield CHECK.finding(
                    "unknown-smelter-id",
                    f"Row {r.row}: {res.cid} is not on the smelter reference list ({version}); it may be a trader, a closed facility or a typo.",
                    cell=cell,
                    smelter_id=res.cid,
                    **where,
                )
                continue
            problems = []
            if r.metal and r.metal.casefold() != known.metal.casefold():
                problems.append(f"metal {r.metal} (reference: {known.metal})")
            if (
                r.country
                and known.country
                and country_code(r.country)
                and country_code(r.country) != country_code(known.country)
            ):
                problems.append(f"country {r.country} (reference: {known.country})")
            listed = r.standard_name or r.name
            if listed and name_key(listed) not in ref.name_keys[res.cid]:
                from rapidfuzz import fuzz  # only for a name the reference does not know

                score = max(
                    fuzz.token_set_ratio(name_key(listed), name_key(n))
                    for n in (known.name, *known.aliases)
                )
                if score < 70:
                    problems.append(f"name {listed!r} (reference: {known.name!r})")
            if problems:
                yield CHECK.finding(
                    "smelter-reference-mismatch",
                    f"Row {r.row}: {res.cid} disagrees with the reference list on "
                    + "; ".join(problems)
                    + ".",
                    cell=cell,
                    smelter_id=res.cid,
                    **where,
                )
        elif res.how == "name" and res.match:
            yield CHECK.finding(
                "smelter-name-matched",
                f"Row {r.row}: {r.name or r.lookup!r} was matched to {res.match.cid} {res.match.name} (score {res.match.score:.0f}).",
                cell=f"{name_col}{r.row}",
                smelter_id=res.cid,
                **where,
            )
        elif res.how == "" and (r.name or r.lookup):
            hint = (
                f" Closest: {res.rejected.cid} {res.rejected.name} (score {res.rejected.score:.0f})."
                if res.rejected
                else ""
            )
            yield CHECK.finding(
                "smelter-name-unmatched",
                f"Row {r.row}: {r.name or r.lookup!r} ({r.metal or 'no metal'}) matches no reference smelter well enough; a person must identify it.{hint}",
                cell=f"{name_col}{r.row}",
                **where,
            )


CHECK = Check(
    id="smelter-reference",
    run=run,
    codes={
        "unknown-smelter-id": "warning",
        "smelter-reference-mismatch": "warning",
        "smelter-name-matched": "info",
        "smelter-name-unmatched": "warning",
    },
    description="Smelter rows against the reference list: unknown CIDs, disagreeing details, name matching.",
)


@hookimpl
def assay_register_checks(register: Callable[[Check], None]) -> None:
    register(CHECK)
