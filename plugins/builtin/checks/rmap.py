"""RMAP status of every identified smelter, against the loaded RMAP list.

Every finding names the list and its date. A smelter on the reference list but on
neither the Conformant nor the Active list is a risk; a CID unknown to both lists is
reported as unknown status, never as fine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from plugins.checks import Check, CheckContext
from plugins.hookspecs import hookimpl
from plugins.models import Declaration, Finding
from plugins.scope import layout_of

from .resolve import DEFAULT_CUTOFF, resolve_rows

SHEET = "Smelter List"


def run(decl: Declaration, ctx: CheckContext) -> Iterator[Finding]:
    ref = ctx.reference
    rmap = ref.rmap
    resolved = [
        r
        for r in resolve_rows(decl, ref, float(ctx.settings.get("name_cutoff", DEFAULT_CUTOFF)))
        if r.cid
    ]
    if not resolved:
        return
    cols = layout_of(decl).smelter_columns
    id_col = "A" if "id_input" in cols else chr(65 + cols["id_column"])
    if rmap is None:
        yield CHECK.finding(
            "rmap-status-unknown",
            f"No RMAP status list is loaded, so the RMAP status of {len(resolved)} smelter(s) is unknown. "
            "Load one with 'assay refdata import-rmap FILE'.",
            sheet=SHEET,
        )
        return
    label = f"RMAP list {rmap.version}" + (f" of {rmap.as_of.isoformat()}" if rmap.as_of else "")
    for res in resolved:
        r = res.row
        where = {
            "sheet": SHEET,
            "cell": f"{id_col}{r.row}",
            "smelter_id": res.cid,
            "mineral": r.metal,
        }
        entry = rmap.entries.get(res.cid)
        name = r.display_name or (ref.smelters[res.cid].name if res.cid in ref.smelters else "")
        if entry is None:
            if res.cid in ref.smelters:
                yield CHECK.finding(
                    "smelter-not-conformant",
                    f"{res.cid} {name} is on neither the Conformant nor the Active list ({label}).",
                    **where,
                )
            else:
                yield CHECK.finding(
                    "rmap-status-unknown",
                    f"{res.cid} {name} is not on the {label}, nor on the smelter reference list: status unknown.",
                    **where,
                )
            continue
        category = entry.category
        if category == "conformant":
            if entry.next_assessment and entry.next_assessment < ctx.as_of:
                yield CHECK.finding(
                    "rmap-conformance-lapsed",
                    f"{res.cid} {name} is Conformant, but its re-assessment was due {entry.next_assessment.isoformat()} ({label}).",
                    **where,
                )
        elif category == "active":
            yield CHECK.finding(
                "smelter-active",
                f"{res.cid} {name} is Active (assessment under way), not yet Conformant ({label}).",
                **where,
            )
        else:
            yield CHECK.finding(
                "smelter-not-conformant",
                f"{res.cid} {name} has RMAP status {entry.status!r}, neither Conformant nor Active ({label}).",
                **where,
            )


CHECK = Check(
    id="rmap-status",
    run=run,
    codes={
        "smelter-not-conformant": "risk",
        "smelter-active": "info",
        "rmap-status-unknown": "info",
        "rmap-conformance-lapsed": "warning",
    },
    description="RMAP status of every identified smelter against the loaded list (Conformant, Active, lapsed).",
)


@hookimpl
def assay_register_checks(register: Callable[[Check], None]) -> None:
    register(CHECK)
