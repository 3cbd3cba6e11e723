"""Reference data the checks consult: smelters, an RMAP status list, a CAHRA list.

Pure values: the store builds them (from embedded data, imported RMAP exports and the
CAHRA data file) and hands them to the pipeline. Every finding that rests on a list
names the list's version, so a result can always be explained later.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from rapidfuzz import fuzz, process

from .normalize import name_key


@dataclass(frozen=True)
class SmelterRef:
    cid: str
    metal: str
    name: str  # standard smelter name
    country: str  # upper-case, as in the templates
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class RmapEntry:
    cid: str
    status: str  # "Conformant", "Active", or a status kept verbatim
    name: str = ""
    metal: str = ""
    country: str = ""
    last_assessment: dt.date | None = None
    next_assessment: dt.date | None = None  # re-assessment due; passed = lapsed

    @property
    def category(self) -> str:
        """conformant, active or other: how a raw status string is classified."""
        low = self.status.casefold()
        if "non" in low or "not" in low or "suspend" in low:
            return "other"
        if "conformant" in low or "compliant" in low:
            return "conformant"
        if "active" in low or "in progress" in low or "re-assessment" in low:
            return "active"
        return "other"


@dataclass(frozen=True)
class RmapList:
    version: str  # e.g. "rmap:2024-05-01:facilities.xlsx"
    as_of: dt.date | None
    entries: dict[str, RmapEntry] = field(default_factory=dict)


@dataclass(frozen=True)
class NameMatch:
    cid: str
    name: str
    score: float


@dataclass(frozen=True)
class ReferenceData:
    smelters: dict[str, SmelterRef]
    smelter_list_version: str
    rmap: RmapList | None = None
    cahra: frozenset[str] = frozenset()  # ISO-2 codes
    cahra_version: str = ""

    @cached_property
    def _names_by_metal(self) -> dict[str, dict[str, str]]:
        """metal (casefolded) -> {name key: cid} over standard names and aliases."""
        index: dict[str, dict[str, str]] = {}
        for ref in self.smelters.values():
            names = index.setdefault(ref.metal.casefold(), {})
            for name in (ref.name, *ref.aliases):
                key = name_key(name)
                if key:
                    names.setdefault(key, ref.cid)
        return index

    @cached_property
    def name_keys(self) -> dict[str, frozenset[str]]:
        """cid -> normalised keys of its standard name and aliases."""
        return {
            cid: frozenset(name_key(n) for n in (s.name, *s.aliases))
            for cid, s in self.smelters.items()
        }

    def match_name(
        self, metal: str, name: str, cutoff: float = 88.0
    ) -> tuple[NameMatch | None, NameMatch | None]:
        """Exact normalised match, else the best fuzzy match within the metal.

        Returns ``(match, best_rejected)``: a match at or above ``cutoff``, or the best
        candidate below it so a person can be shown what came closest.
        """
        names = self._names_by_metal.get(metal.casefold(), {})
        key = name_key(name)
        if not key or not names:
            return None, None
        if key in names:
            cid = names[key]
            return NameMatch(cid, self.smelters[cid].name, 100.0), None
        best = process.extractOne(key, names.keys(), scorer=fuzz.token_sort_ratio)
        if best is None:
            return None, None
        cid = names[best[0]]
        found = NameMatch(cid, self.smelters[cid].name, float(best[1]))
        return (found, None) if best[1] >= cutoff else (None, found)

    @cached_property
    def _search_choices(self) -> dict[str, str]:
        choices: dict[str, str] = {}
        for ref in self.smelters.values():
            for name in (ref.name, *ref.aliases):
                choices[f"{ref.cid}\0{name}"] = name_key(name) or name.casefold()
        return choices

    def search(self, query: str, limit: int = 5) -> list[NameMatch]:
        """Smelters by CID or fuzzy name across all metals, best first."""
        q = query.strip()
        if q.upper() in self.smelters:
            ref = self.smelters[q.upper()]
            return [NameMatch(ref.cid, ref.name, 100.0)]
        choices = self._search_choices
        hits = process.extract(
            name_key(q) or q.casefold(), choices, scorer=fuzz.WRatio, limit=limit * 4
        )
        out: dict[str, NameMatch] = {}
        for _choice, score, key in hits:
            cid = key.split("\0")[0]
            if cid not in out:
                out[cid] = NameMatch(cid, self.smelters[cid].name, float(score))
        return sorted(out.values(), key=lambda m: -m.score)[:limit]
