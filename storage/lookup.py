"""Answering "what do we know about this smelter?" (the CLI and the Slack bot).

A question can hold several smelters: ``assay smelter cid2082 "Met-Mex"`` asks two, and so
does "what about CID 002082 and Heraeus?". CIDs are recognised in the forms people type
(``CID002082``, ``cid2082``, ``CID 002082``, a bare ``002082``); what is left of a sentence,
once question words are dropped, is a name searched fuzzily.

The answer is facts (:class:`Lookup`); putting them in words is the renderers' job
(``bot.lookup_render``: text for the CLI, JSON, and Slack's blocks).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from plugins.countries import COVERED_COUNTRIES, country_code
from plugins.reference import ReferenceData

from .refdata import embedded_reference
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


@dataclass(frozen=True)
class SmelterFacts:
    """What we know about one smelter: the reference, its RMAP standing, where it is, and
    how many suppliers list it."""

    cid: str
    name: str
    aliases: tuple[str, ...]
    metal: str
    country: str
    rmap_status: str | None  # RMI's own words, or None when no list names it
    rmap_standing: str  # conformant, active, not-conformant, not-listed, not-covered, no-list
    rmap_list: str | None  # the list that judged it
    rmap_list_date: dt.date | None
    rmap_last_audit_date: dt.date | None
    rmap_audit_cycle: str | None
    rmap_reaudit_due: dt.date | None
    covered_country: bool  # the DRC or an adjoining country
    cahra_country: bool  # a country with CAHRA-listed areas
    cahra_areas: tuple[str, ...]
    suppliers: int  # distinct declared companies that list it
    supplier_names: tuple[str, ...]  # the first of them
    score: float  # how well the name matched (100 for a CID)


@dataclass(frozen=True)
class NearMatch:
    """A smelter whose name came closest when none matched well."""

    cid: str
    name: str
    score: float


@dataclass(frozen=True)
class LookupAnswer:
    """The answer to one smelter asked about."""

    query: str
    matches: tuple[SmelterFacts, ...]
    nearest: tuple[NearMatch, ...]  # only when nothing matched
    reference: str  # the smelter reference's version


@dataclass(frozen=True)
class Lookup:
    """Every smelter a question asks about: ``matches`` over all of them, ``answers`` per
    smelter asked about."""

    query: str
    matches: tuple[SmelterFacts, ...]
    nearest: tuple[NearMatch, ...]
    reference: str
    answers: tuple[LookupAnswer, ...]


def describe(ref: ReferenceData, store: Store | None, cid: str, score: float) -> SmelterFacts:
    s = ref.smelters[cid]
    code = country_code(s.country)
    st = ref.standing(cid, s.metal)
    entry, rmap = st.entry, st.rmap
    count, names = store.smelter_usage(cid) if store is not None else (0, [])
    in_cahra = code in ref.cahra
    return SmelterFacts(
        cid=cid,
        name=s.name,
        aliases=tuple(s.aliases),
        metal=s.metal,
        country=s.country,
        rmap_status=st.status,
        rmap_standing=st.standing,
        rmap_list=rmap.version if rmap else None,
        rmap_list_date=rmap.as_of if rmap else None,
        rmap_last_audit_date=entry.last_assessment if entry else None,
        rmap_audit_cycle=entry.audit_cycle if entry and entry.audit_cycle else None,
        rmap_reaudit_due=entry.next_assessment if entry else None,
        covered_country=code in COVERED_COUNTRIES,
        cahra_country=in_cahra,
        cahra_areas=tuple(ref.cahra_areas.get(code, ())) if in_cahra else (),
        suppliers=count,
        supplier_names=tuple(names),
        score=round(score, 1),
    )


def _reference(store: Store | None) -> ReferenceData:
    return store.reference_data() if store is not None else embedded_reference()


def answer_one(ref: ReferenceData, store: Store | None, query: str, limit: int = 5) -> LookupAnswer:
    hits = ref.search(query, limit=limit)
    best = hits[0].score if hits else 0.0
    # Close to the best only: a name typed in full (100) does not drag in the names that merely
    # share its "Mining and" (86).
    good = [h for h in hits if h.score >= max(MIN_SCORE, best - CLOSE)]
    return LookupAnswer(
        query=query,
        matches=tuple(describe(ref, store, h.cid, h.score) for h in good),
        nearest=tuple(NearMatch(h.cid, h.name, round(h.score, 1)) for h in hits[:3])
        if not good
        else (),
        reference=ref.smelter_list_version,
    )


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
) -> list[LookupAnswer]:
    """One answer per smelter asked about (see :func:`split_queries`)."""
    ref = _reference(store)
    queries = split_queries(parts) or [" ".join(parts).strip()]
    names = [n for q in queries if q for n in _names(ref, q)]
    return [answer_one(ref, store, q, limit) for q in dict.fromkeys(names)]


def lookup_smelter(store: Store | None, text: str | Sequence[str], limit: int = 5) -> Lookup:
    """Every smelter a question asks about, as one answer (the Slack bot's and the CLI's)."""
    parts = [text] if isinstance(text, str) else list(text)
    answers = tuple(lookup_smelters(store, parts, limit))
    query = " ".join(parts)
    if len(answers) == 1:
        one = answers[0]
        return Lookup(query, one.matches, one.nearest, one.reference, answers)
    matches: list[SmelterFacts] = []
    seen: set[str] = set()
    for a in answers:
        for m in a.matches:
            if m.cid not in seen:
                seen.add(m.cid)
                matches.append(m)
    nearest = tuple(n for a in answers for n in a.nearest) if not matches else ()
    return Lookup(query, tuple(matches), nearest, answers[0].reference if answers else "", answers)
