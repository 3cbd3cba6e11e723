"""RMAP standing of every identified smelter, against the lists that cover its metal.

Several lists can be loaded (a 3TG list, a cobalt list); for each smelter the newest list
covering its metal decides. Absence from a list that covers the metal is not-conformant;
a metal no list covers is said once ("not covered"), never judged. Every finding names the
list and its date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

from plugins.checks import Check, CheckContext
from plugins.hookspecs import hookimpl
from plugins.models import Declaration, Finding
from plugins.resolve import DEFAULT_CUTOFF, resolve_rows
from plugins.rmap_status import canonical_metal
from plugins.scope import layout_of

SHEET = "Smelter List"
#: A re-audit due within this many days of the as-of date is reported ahead of time.
REAUDIT_NOTICE_DAYS = 30


def run(decl: Declaration, ctx: CheckContext) -> Iterator[Finding]:
    ref = ctx.reference
    resolved = [
        r
        for r in resolve_rows(decl, ref, float(ctx.settings.get("name_cutoff", DEFAULT_CUTOFF)))
        if r.cid
    ]
    if not resolved:
        return
    cols = layout_of(decl).smelter_columns
    id_col = "A" if "id_input" in cols else chr(65 + cols["id_column"])
    if not ref.rmap_lists:
        yield CHECK.finding(
            "rmap-status-unknown",
            f"No RMAP status list is loaded, so the RMAP status of {len(resolved)} smelter(s) is unknown. "
            "Load one with 'assay refdata import-rmap FILE'.",
            sheet=SHEET,
        )
        return
    soon = ctx.as_of + dt.timedelta(days=REAUDIT_NOTICE_DAYS)
    not_covered: dict[str, int] = {}
    for res in resolved:
        r = res.row
        known = ref.smelters.get(res.cid)
        metal = canonical_metal(known.metal if known else r.metal)
        where = {
            "sheet": SHEET,
            "cell": f"{id_col}{r.row}",
            "smelter_id": res.cid,
            "mineral": r.metal,
        }
        name = r.display_name or (known.name if known else "")
        who = f"{res.cid} {name}".strip()
        st = ref.standing(res.cid, metal)
        if st.standing == "not-covered":
            not_covered[metal or "(no metal)"] = not_covered.get(metal or "(no metal)", 0) + 1
            continue
        label = st.label
        entry = st.entry
        if entry is None:
            if known is not None:
                covers = "which cover" if len(st.lists) > 1 else "which covers"
                yield CHECK.finding(
                    "smelter-not-conformant",
                    f"{who} is on neither the Conformant nor the Active list: the {label}, "
                    f"{covers} {metal}, {'do' if len(st.lists) > 1 else 'does'} not name it.",
                    **where,
                )
            else:
                yield CHECK.finding(
                    "rmap-status-unknown",
                    f"{who} is not on the {label}, nor on the smelter reference list: status unknown.",
                    **where,
                )
            continue
        if st.standing == "conformant":
            due = entry.next_assessment
            if due and due < ctx.as_of:
                yield CHECK.finding(
                    "rmap-conformance-lapsed",
                    f"{who} is Conformant, but its re-audit was due {due.isoformat()} and is overdue ({label}).",
                    **where,
                )
            elif due and due <= soon:
                yield CHECK.finding(
                    "rmap-reaudit-due",
                    f"{who} is Conformant; its re-audit is due {due.isoformat()}, within {REAUDIT_NOTICE_DAYS} days ({label}).",
                    **where,
                )
        elif st.standing == "active":
            yield CHECK.finding(
                "smelter-active",
                f"{who} is Active (assessment under way), not yet Conformant ({label}).",
                **where,
            )
        else:
            yield CHECK.finding(
                "smelter-not-conformant",
                f"{who} has RMAP status {entry.status!r}, neither Conformant nor Active ({label}).",
                **where,
            )
    if not_covered:
        loaded = "; ".join(
            f"{r.label} covers {', '.join(sorted(r.covered)) or 'no metal'}" for r in ref.rmap_lists
        )
        counted = ", ".join(f"{n} {m}" for m, n in sorted(not_covered.items()))
        yield CHECK.finding(
            "rmap-metal-not-covered",
            f"No loaded RMAP list covers {', '.join(sorted(not_covered))}, so the RMAP standing of "
            f"{sum(not_covered.values())} smelter(s) ({counted}) is not judged ({loaded}). "
            "Load a list for that metal with 'assay refdata import-rmap FILE'.",
            sheet=SHEET,
        )


CHECK = Check(
    id="rmap-status",
    run=run,
    codes={
        "smelter-not-conformant": "risk",
        "smelter-active": "info",
        "rmap-status-unknown": "info",
        "rmap-conformance-lapsed": "warning",
        "rmap-reaudit-due": "info",
        "rmap-metal-not-covered": "info",
    },
    version="2",
    description="RMAP standing of every identified smelter against the newest list covering its metal (Conformant, Active, re-audit due or overdue).",
)


@hookimpl
def assay_register_checks(register: Callable[[Check], None]) -> None:
    register(CHECK)
