"""Answering "what do we know about this smelter?" (the CLI today, the Slack bot later)."""

from __future__ import annotations

from typing import Any

from plugins.countries import COVERED_COUNTRIES, country_code
from plugins.reference import ReferenceData

from .store import Store

MIN_SCORE = 75.0  # WRatio; unrelated names score 55-68 against this list


def describe(ref: ReferenceData, store: Store | None, cid: str, score: float) -> dict[str, Any]:
    s = ref.smelters[cid]
    code = country_code(s.country)
    entry = ref.rmap.entries.get(cid) if ref.rmap else None
    if ref.rmap is None:
        status = "unknown (no RMAP list loaded)"
    elif entry is None:
        status = "not on the Conformant or Active list"
    else:
        status = entry.status
    count, names = store.smelter_usage(cid) if store is not None else (0, [])
    return {
        "cid": cid,
        "name": s.name,
        "aliases": list(s.aliases),
        "metal": s.metal,
        "country": s.country,
        "rmap_status": status,
        "rmap_list": (ref.rmap.version if ref.rmap else None),
        "rmap_list_date": (ref.rmap.as_of.isoformat() if ref.rmap and ref.rmap.as_of else None),
        "covered_country": code in COVERED_COUNTRIES,
        "cahra_country": code in ref.cahra,
        # The same two flags as words, for every renderer (CLI, Slack).
        "country_risk": [
            label
            for label, on in (
                ("covered country", code in COVERED_COUNTRIES),
                ("CAHRA country", code in ref.cahra),
            )
            if on
        ],
        "suppliers": count,
        "supplier_names": names,
        "score": round(score, 1),
    }


def lookup_smelter(store: Store | None, query: str, limit: int = 5) -> dict[str, Any]:
    ref = store.reference_data() if store is not None else None
    if ref is None:
        from .refdata import load_embedded_cahra, load_embedded_smelters

        version, smelters = load_embedded_smelters()
        cv, cahra = load_embedded_cahra()
        ref = ReferenceData(smelters, version, (), cahra, cv)
    hits = ref.search(query, limit=limit)
    good = [h for h in hits if h.score >= MIN_SCORE]
    return {
        "query": query,
        "matches": [describe(ref, store, h.cid, h.score) for h in good],
        "nearest": [{"cid": h.cid, "name": h.name, "score": round(h.score, 1)} for h in hits[:3]]
        if not good
        else [],
        "reference": ref.smelter_list_version,
    }


def render_lookup(answer: dict[str, Any]) -> str:
    if not answer["matches"]:
        near = "; ".join(f"{n['cid']} {n['name']}" for n in answer["nearest"]) or "none"
        return f"No smelter found for {answer['query']!r}. Nearest: {near}."
    lines = []
    for m in answer["matches"]:
        flags = m["country_risk"]
        lines.append(f"{m['cid']}  {m['name']}  ({m['metal']}, {m['country']})")
        if m["aliases"]:
            lines.append(f"    also known as: {', '.join(m['aliases'][:6])}")
        when = f" (list {m['rmap_list']})" if m["rmap_list"] else ""
        lines.append(f"    RMAP: {m['rmap_status']}{when}")
        if flags:
            lines.append(f"    country risk: {', '.join(flags)}")
        who = f": {', '.join(m['supplier_names'])}" if m["supplier_names"] else ""
        lines.append(f"    listed by {m['suppliers']} supplier(s){who}")
    return "\n".join(lines)
