"""A smelter look-up in words: plain text (``assay smelter``), JSON (``--format json``), and
the phrases Slack's blocks use (:func:`bot.slack_render.smelter_blocks`).

Pure functions of a :class:`storage.lookup.Lookup`: the look-up gathers the facts, these
say them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from storage.lookup import Lookup, LookupAnswer, SmelterFacts

CAHRA_WORDS = "country with CAHRA-listed areas (location only, not ore origin)"


def standing_words(m: SmelterFacts) -> str:
    """The RMAP standing in words: RMI's status, or why there is none."""
    if m.rmap_standing == "no-list":
        return "unknown (no RMAP list loaded)"
    if m.rmap_standing == "not-covered":
        return "not judged (no loaded RMAP list covers this metal)"
    if m.rmap_status is None:
        return "not on the Conformant or Active list"
    return m.rmap_status


def country_risk(m: SmelterFacts) -> list[str]:
    """The location's flags as words."""
    return [
        label
        for label, on in (("covered country", m.covered_country), (CAHRA_WORDS, m.cahra_country))
        if on
    ]


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def facts_json(m: SmelterFacts) -> dict[str, Any]:
    """One smelter as the JSON output names it (the words beside the facts)."""
    return {
        "cid": m.cid,
        "name": m.name,
        "aliases": list(m.aliases),
        "metal": m.metal,
        "country": m.country,
        "rmap_status": m.rmap_status,  # RMI's own words, or null when no list names it
        "rmap_standing": m.rmap_standing,
        "rmap_summary": standing_words(m),
        "rmap_list": m.rmap_list,
        "rmap_list_date": _iso(m.rmap_list_date),
        "rmap_last_audit_date": _iso(m.rmap_last_audit_date),
        "rmap_audit_cycle": m.rmap_audit_cycle,
        "rmap_reaudit_due": _iso(m.rmap_reaudit_due),
        "covered_country": m.covered_country,
        "cahra_country": m.cahra_country,
        "cahra_areas": list(m.cahra_areas),
        "country_risk": country_risk(m),
        "suppliers": m.suppliers,
        "supplier_names": list(m.supplier_names),
        "score": m.score,
    }


def _answer_json(a: LookupAnswer | Lookup) -> dict[str, Any]:
    return {
        "query": a.query,
        "matches": [facts_json(m) for m in a.matches],
        "nearest": [{"cid": n.cid, "name": n.name, "score": n.score} for n in a.nearest],
        "reference": a.reference,
    }


def lookup_json(lookup: Lookup) -> dict[str, Any]:
    """The whole look-up: ``matches`` over every smelter asked about, ``answers`` per query."""
    return {**_answer_json(lookup), "answers": [_answer_json(a) for a in lookup.answers]}


def _render_one(answer: LookupAnswer | Lookup) -> str:
    if not answer.matches:
        near = "; ".join(f"{n.cid} {n.name}" for n in answer.nearest) or "none"
        return f"No smelter found for {answer.query!r}. Nearest: {near}."
    lines = []
    for m in answer.matches:
        flags = country_risk(m)
        lines.append(f"{m.cid}  {m.name}  ({m.metal}, {m.country})")
        if m.aliases:
            lines.append(f"    also known as: {', '.join(m.aliases[:6])}")
        when = f" ({m.rmap_list} of {_iso(m.rmap_list_date) or 'no date'})" if m.rmap_list else ""
        lines.append(f"    RMAP: {standing_words(m)} [{m.rmap_standing}]{when}")
        audit = [
            f"{label} {value}"
            for label, value in (
                ("last audit", _iso(m.rmap_last_audit_date)),
                ("cycle", m.rmap_audit_cycle),
                ("re-audit due", _iso(m.rmap_reaudit_due)),
            )
            if value
        ]
        if audit:
            lines.append(f"    {', '.join(audit)}")
        if flags:
            lines.append(f"    country risk: {', '.join(flags)}")
        who = f": {', '.join(m.supplier_names)}" if m.supplier_names else ""
        lines.append(f"    listed by {m.suppliers} supplier(s){who}")
    return "\n".join(lines)


def render_lookup(lookup: Lookup) -> str:
    """The look-up as text: one block per smelter asked about."""
    if len(lookup.answers) > 1:
        return "\n\n".join(_render_one(a) for a in lookup.answers)
    return _render_one(lookup)
