"""Reference data the checks consult: smelters, an RMAP status list, a CAHRA list.

Pure values: the store builds them (from embedded data, imported RMAP exports and the
CAHRA data file) and hands them to the pipeline. Every finding that rests on a list
names the list's version, so a result can always be explained later.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from .normalize import name_key
from .rmap_status import canonical_metal, less_favourable, standing_of


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
    status: str  # RMI's own words, as the list gives them ("Conformant", "Outreach Required", ...)
    name: str = ""
    metal: str = ""  # canonical ("Tin"), see plugins.rmap_status.canonical_metal
    country: str = ""
    last_assessment: dt.date | None = None  # last audit
    next_assessment: dt.date | None = None  # re-audit due; passed = lapsed
    audit_cycle: str = ""  # as the list gives it ("1 Year", "3 Years")
    standing: str = ""  # conformant | active | not-conformant; "" = from the status word

    def __post_init__(self) -> None:
        if not self.standing:
            object.__setattr__(self, "standing", standing_of(self.status) or "not-conformant")

    @property
    def category(self) -> str:
        """Older name of :attr:`standing` (conformant, active, not-conformant)."""
        return self.standing


@dataclass(frozen=True)
class RmapList:
    version: str  # e.g. "2025-05-01:facilities.xlsx"
    as_of: dt.date | None
    entries: dict[str, RmapEntry] = field(default_factory=dict)
    metals: frozenset[str] = frozenset()  # canonical metals covered; empty = those of its entries

    @cached_property
    def covered(self) -> frozenset[str]:
        if self.metals:
            return frozenset(canonical_metal(m) for m in self.metals)
        return frozenset(e.metal for e in self.entries.values() if e.metal)

    def covers(self, metal: str) -> bool:
        return canonical_metal(metal) in self.covered

    @property
    def label(self) -> str:
        """How findings name the list: its version and its date."""
        when = self.as_of.isoformat() if self.as_of else "undated"
        return f"RMAP list {self.version} of {when}"


@dataclass(frozen=True)
class Standing:
    """A smelter's RMAP standing for one metal, and the list(s) it comes from."""

    standing: str  # one of plugins.rmap_status.STANDINGS
    entry: RmapEntry | None = None
    rmap: RmapList | None = None  # the list that names it (else the first list covering the metal)
    lists: tuple[RmapList, ...] = ()  # every list of the newest date covering the metal

    @property
    def status(self) -> str | None:
        """RMI's words for it, when a list names the smelter."""
        return self.entry.status if self.entry else None

    @property
    def label(self) -> str:
        """The list(s) that decided, for a finding: "RMAP list V of D" (several: joined)."""
        lists = self.lists or ((self.rmap,) if self.rmap else ())
        return " and ".join(r.label for r in lists)


@dataclass(frozen=True)
class StaleList:
    kind: str  # "RMAP" or "CAHRA"
    version: str
    as_of: dt.date | None
    age_days: int | None
    max_age_days: int

    @property
    def message(self) -> str:
        if self.as_of is None or self.age_days is None:
            return (
                f"The {self.kind} list {self.version} has no date, so its age is unknown: "
                "findings that rely on it may be out of date."
            )
        return (
            f"The {self.kind} list {self.version} is dated {self.as_of.isoformat()}, "
            f"{self.age_days} days ago (more than {self.max_age_days}): findings that rely on it "
            f"may be out of date. Load a current one with 'assay refdata import-{self.kind.lower()} FILE'."
        )


@dataclass(frozen=True)
class NameMatch:
    cid: str
    name: str
    score: float


@dataclass(frozen=True)
class ReferenceData:
    smelters: dict[str, SmelterRef]
    smelter_list_version: str
    rmap_lists: tuple[RmapList, ...] = ()  # newest first
    cahra: frozenset[str] = frozenset()  # ISO-2 codes
    cahra_version: str = ""
    cahra_as_of: dt.date | None = None
    cahra_areas: dict[str, tuple[str, ...]] = field(default_factory=dict)  # ISO-2 -> areas

    def stale_lists(self, today: dt.date, max_age_days: int) -> list[StaleList]:
        """Lists in force older than ``max_age_days`` on ``today`` (undated lists count as stale)."""
        out = []
        named = [("RMAP", r.version, r.as_of) for r in self.rmap_lists]
        named.append(("CAHRA", self.cahra_version, self.cahra_as_of))
        for kind, version, as_of in named:
            age = (today - as_of).days if as_of else None
            if age is None or age > max_age_days:
                out.append(StaleList(kind, version, as_of, age, max_age_days))
        return out

    @property
    def rmap(self) -> RmapList | None:
        """The newest list loaded (any metal), or None."""
        return self.rmap_lists[0] if self.rmap_lists else None

    def lists_for(self, metal: str) -> tuple[RmapList, ...]:
        """The lists that judge a metal: every list of the newest date among those covering it.

        Lists of one date are read as one list (RMI's Conformant and Active exports downloaded
        the same day, say), so a one-status list never makes the other's smelters absent.
        """
        covering = [r for r in self.rmap_lists if r.covers(metal)]
        if not covering:
            return ()
        newest = max((r.as_of or dt.date.min) for r in covering)
        return tuple(r for r in covering if (r.as_of or dt.date.min) == newest)

    def rmap_for(self, metal: str) -> RmapList | None:
        """The newest list covering a metal (the latest imported of that date)."""
        lists = self.lists_for(metal)
        return lists[0] if lists else None

    def standing(self, cid: str, metal: str = "") -> Standing:
        """RMAP standing of a smelter for a metal (default: the reference list's metal).

        Where several lists of the newest date name it with different standings, the less
        favourable wins, as within one import."""
        if not self.rmap_lists:
            return Standing("no-list")
        ref = self.smelters.get(cid)
        metal = metal or (ref.metal if ref else "")
        lists = self.lists_for(metal) if metal else ()
        if not lists and not metal:
            # A CID unknown to the reference: any list that names it decides.
            lists = tuple(r for r in self.rmap_lists if cid in r.entries)[:1]
        if not lists:
            return Standing("not-covered")
        named = [(r, r.entries[cid]) for r in lists if cid in r.entries]
        if not named:
            return Standing("not-conformant", None, lists[0], lists)
        rmap, entry = named[0]
        for r, e in named[1:]:
            if less_favourable(e.standing, entry.standing) != entry.standing:
                rmap, entry = r, e
        return Standing(entry.standing, entry, rmap, lists)

    def warm(self) -> None:
        """Build the name indexes now rather than at the first look-up (a screener does this
        while a sandboxed child reads the file)."""
        _ = self.name_keys, self._names_by_metal

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
        from rapidfuzz import fuzz, process  # only for a name without an exact match

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
        from rapidfuzz import fuzz, process

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
