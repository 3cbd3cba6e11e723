"""Answering "what do we know about this smelter?" (the CLI and the Slack bot).

A question can hold several smelters: ``assay smelter cid2082 "Met-Mex"`` asks two, and so
does "what about CID 002082 and Heraeus?". CIDs are recognised in the forms people type
(``CID002082``, ``cid2082``, ``CID 002082``, a bare ``002082``); what is left of a sentence,
once question words are dropped, is a name searched fuzzily.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from plugins.countries import COVERED_COUNTRIES, country_code
from plugins.reference import ReferenceData

from .store import Store

MIN_SCORE = 75.0  # WRatio; unrelated names score 55-68 against this list
CLOSE = 5.0  # matches within this many points of the best are shown beside it

_ODD_SPACE = re.compile(r"[\u00a0\u2000-\u200b\u2060\u3000\ufeff\uffa0\t\r\n]")
CID_FORMS = re.compile(
    r"(?<![A-Za-z0-9])(?:c\s*i\s*d[\s\-_#:.]*0*(\d{1,6})|(\d{6}))(?!\d)", re.IGNORECASE
)
_NOISE = re.compile(
    r"\b(what|whats|what's|who|which|is|are|was|the|of|for|about|on|tell|me|show|"
    r"please|status|rmap|conformant|active|smelter|smelters|refiner|refiners|look|up|"
    r"lookup|find|info|information|do|we|know|any|there|this|that)\b",
    re.IGNORECASE,
)
#: Several names in one text: "A; B", one per line. Not commas: names hold them.
_SPLIT = re.compile(r"\s*[;?!\n]\s*")
#: "A and B" names two smelters only when the whole text names none well ("Mitsui Mining and
#: Smelting", "JX Nippon Mining & Metals" are one name each).
_AND = re.compile(r"\s(?:and|or|&)\s", re.IGNORECASE)
_ENDS = re.compile(r"^(?:(?:and|or|&)\s+)+|(?:\s+(?:and|or|&))+$", re.IGNORECASE)
#: A whole text matching this well is one name, whatever "and" it holds.
WHOLE_NAME_SCORE = 95.0


def split_queries(parts: Sequence[str]) -> list[str]:
    """Each smelter asked about: CIDs in any typed form, then the names left over."""
    out: list[str] = []
    for part in parts:
        text = _ODD_SPACE.sub(" ", part)
        cids = [f"CID{int(a or b):06d}" for a, b in CID_FORMS.findall(text)]
        out.extend(cids)
        rest = CID_FORMS.sub(" ", text)
        for chunk in _SPLIT.split(rest):
            words = " ".join(_NOISE.sub(" ", chunk).split()).strip(" .,:'\"")
            words = _ENDS.sub("", words).strip(" .,:'\"")
            if sum(c.isalnum() for c in words) >= 3:
                out.append(words)
    return list(dict.fromkeys(out))


def _standing_words(st_standing: str, status: str | None) -> str:
    if st_standing == "no-list":
        return "unknown (no RMAP list loaded)"
    if st_standing == "not-covered":
        return "not judged (no loaded RMAP list covers this metal)"
    if status is None:
        return "not on the Conformant or Active list"
    return status


def describe(ref: ReferenceData, store: Store | None, cid: str, score: float) -> dict[str, Any]:
    s = ref.smelters[cid]
    code = country_code(s.country)
    st = ref.standing(cid, s.metal)
    entry, rmap = st.entry, st.rmap
    count, names = store.smelter_usage(cid) if store is not None else (0, [])
    in_cahra = code in ref.cahra
    return {
        "cid": cid,
        "name": s.name,
        "aliases": list(s.aliases),
        "metal": s.metal,
        "country": s.country,
        "rmap_status": st.status,  # RMI's own words, or null when no list names it
        "rmap_standing": st.standing,
        "rmap_summary": _standing_words(st.standing, st.status),
        "rmap_list": rmap.version if rmap else None,
        "rmap_list_date": rmap.as_of.isoformat() if rmap and rmap.as_of else None,
        "rmap_last_audit_date": entry.last_assessment.isoformat()
        if entry and entry.last_assessment
        else None,
        "rmap_audit_cycle": entry.audit_cycle if entry and entry.audit_cycle else None,
        "rmap_reaudit_due": entry.next_assessment.isoformat()
        if entry and entry.next_assessment
        else None,
        "covered_country": code in COVERED_COUNTRIES,
        "cahra_country": in_cahra,
        "cahra_areas": list(ref.cahra_areas.get(code, ())) if in_cahra else [],
        # The flags as words, for every renderer (CLI, Slack).
        "country_risk": [
            label
            for label, on in (
                ("covered country", code in COVERED_COUNTRIES),
                ("country with CAHRA-listed areas (location only, not ore origin)", in_cahra),
            )
            if on
        ],
        "suppliers": count,
        "supplier_names": names,
        "score": round(score, 1),
    }


def _reference(store: Store | None) -> ReferenceData:
    if store is not None:
        return store.reference_data()
    from .refstore import embedded_reference

    return embedded_reference()


def answer_one(
    ref: ReferenceData, store: Store | None, query: str, limit: int = 5
) -> dict[str, Any]:
    hits = ref.search(query, limit=limit)
    best = hits[0].score if hits else 0.0
    # Close to the best only: a name typed in full (100) does not drag in the names that merely
    # share its "Mining and" (86).
    good = [h for h in hits if h.score >= max(MIN_SCORE, best - CLOSE)]
    return {
        "query": query,
        "matches": [describe(ref, store, h.cid, h.score) for h in good],
        "nearest": [{"cid": h.cid, "name": h.name, "score": round(h.score, 1)} for h in hits[:3]]
        if not good
        else [],
        "reference": ref.smelter_list_version,
    }


def _names(ref: ReferenceData, query: str) -> list[str]:
    """``query`` itself, or its parts around "and"/"&" when the whole names no smelter well and
    every part does."""
    if query.startswith("CID") or not _AND.search(query):
        return [query]
    whole = ref.search(query, limit=1)
    if whole and whole[0].score >= WHOLE_NAME_SCORE:
        return [query]
    parts = [p.strip() for p in _AND.split(query) if sum(c.isalnum() for c in p) >= 3]
    good = [p for p in parts if (hits := ref.search(p, limit=1)) and hits[0].score >= MIN_SCORE]
    return parts if len(parts) > 1 and len(good) == len(parts) else [query]


def lookup_smelters(
    store: Store | None, parts: Sequence[str], limit: int = 5
) -> list[dict[str, Any]]:
    """One answer per smelter asked about (see :func:`split_queries`)."""
    ref = _reference(store)
    queries = split_queries(parts) or [" ".join(parts).strip()]
    names = [n for q in queries if q for n in _names(ref, q)]
    return [answer_one(ref, store, q, limit) for q in dict.fromkeys(names)]


def lookup_smelter(
    store: Store | None, text: str | Sequence[str], limit: int = 5
) -> dict[str, Any]:
    """Every smelter a question asks about, as one answer: ``matches`` over all of them (the
    Slack bot's and the CLI's shape), ``answers`` per smelter asked about."""
    parts = [text] if isinstance(text, str) else list(text)
    answers = lookup_smelters(store, parts, limit)
    if len(answers) == 1:
        return {**answers[0], "query": " ".join(parts), "answers": answers}
    matches: list[dict[str, Any]] = []
    seen: set[str] = set()
    for a in answers:
        for m in a["matches"]:
            if m["cid"] not in seen:
                seen.add(m["cid"])
                matches.append(m)
    nearest = [n for a in answers for n in a["nearest"]] if not matches else []
    return {
        "query": " ".join(parts),
        "matches": matches,
        "nearest": nearest,
        "reference": answers[0]["reference"] if answers else "",
        "answers": answers,
    }


def render_lookup(answer: dict[str, Any]) -> str:
    answers = answer.get("answers") or [answer]
    if len(answers) > 1:
        return "\n\n".join(render_lookup({**a, "answers": None}) for a in answers)
    if not answer["matches"]:
        near = "; ".join(f"{n['cid']} {n['name']}" for n in answer["nearest"]) or "none"
        return f"No smelter found for {answer['query']!r}. Nearest: {near}."
    lines = []
    for m in answer["matches"]:
        flags = m["country_risk"]
        lines.append(f"{m['cid']}  {m['name']}  ({m['metal']}, {m['country']})")
        if m["aliases"]:
            lines.append(f"    also known as: {', '.join(m['aliases'][:6])}")
        when = (
            f" ({m['rmap_list']} of {m['rmap_list_date'] or 'no date'})" if m["rmap_list"] else ""
        )
        lines.append(f"    RMAP: {m['rmap_summary']} [{m['rmap_standing']}]{when}")
        audit = [
            f"{label} {m[key]}"
            for label, key in (
                ("last audit", "rmap_last_audit_date"),
                ("cycle", "rmap_audit_cycle"),
                ("re-audit due", "rmap_reaudit_due"),
            )
            if m.get(key)
        ]
        if audit:
            lines.append(f"    {', '.join(audit)}")
        if flags:
            lines.append(f"    country risk: {', '.join(flags)}")
        who = f": {', '.join(m['supplier_names'])}" if m["supplier_names"] else ""
        lines.append(f"    listed by {m['suppliers']} supplier(s){who}")
    return "\n".join(lines)
