"""The consolidated smelter list: one entry per (metal, CID) across the suppliers' files.

What companies publish as their smelter list ("Metal | Smelter | Country") and what the
company-level declaration's Smelter List holds. Every row of every file read is either
part of one entry (it names a well-formed CID) or of one unidentified group (it does not:
"Smelter not yet identified", a smelter named without a CID that the screening could not
match to the reference list, a malformed identifier), with the suppliers that sent it.

Pure: rows, the reference data and the CAHRA list come in; values go out.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from plugins.countries import COVERED_COUNTRIES, countries_in_text, country_code
from plugins.normalize import name_key
from plugins.reference import ReferenceData
from plugins.rmap_status import canonical_metal

#: Metals in the order companies publish them: the CMRT's 3TG, then the EMRT's minerals,
#: then anything else alphabetically.
METAL_ORDER: tuple[str, ...] = (
    "Gold",
    "Tantalum",
    "Tin",
    "Tungsten",
    "Cobalt",
    "Copper",
    "Graphite",
    "Lithium",
    "Mica",
    "Nickel",
)
CID = re.compile(r"^CID[0-9]{6}$")  # ASCII digits only: "CID００００１５" is normalised first

NOT_YET_IDENTIFIED = "smelter not yet identified"
NO_MATCH = "no CID and no reference match"
MALFORMED = "identifier is not an RMI CID"
NO_NAME = "no CID and no name"
#: Why a row could not be identified, in the order the unidentified section lists them.
REASONS: tuple[str, ...] = (NOT_YET_IDENTIFIED, NO_MATCH, MALFORMED, NO_NAME)


def metal_rank(metal: str) -> tuple[int, str]:
    """Sort key of a metal: :data:`METAL_ORDER` first, then alphabetical."""
    try:
        return (METAL_ORDER.index(metal), "")
    except ValueError:
        return (len(METAL_ORDER), metal)


@dataclass(frozen=True)
class ListedRow:
    """One smelter row of one supplier's file, as stored."""

    supplier: str
    metal: str
    cid: str  # resolved CID; "" when the file gave none and no reference name matched
    name: str = ""
    country: str = ""
    lookup: str = ""  # column C: a Look-up name or a sentinel
    mine_countries: str = ""


@dataclass(frozen=True)
class SmelterEntry:
    """One (metal, CID) of the consolidated list."""

    metal: str
    cid: str
    name: str  # the reference list's standard name, else the name suppliers gave most
    country: str  # the reference list's country (upper case), else the one given most
    standing: str  # plugins.rmap_status.STANDINGS
    list_date: str  # ISO date of the RMAP list(s) that decided ("" without a dated list)
    list_label: str  # "RMAP list V of D" ("" when no list covers the metal)
    suppliers: tuple[str, ...]  # sorted
    covered_country: bool  # located in the DRC or an adjoining country
    cahra_country: bool  # located in a country of the CAHRA list in force
    risky_mine_countries: tuple[str, ...] = ()  # ISO-2 codes, covered or CAHRA, named as mines'

    @property
    def flags(self) -> tuple[str, ...]:
        out = []
        if self.covered_country:
            out.append("covered country")
        if self.cahra_country:
            out.append("CAHRA country")
        if self.risky_mine_countries:
            out.append("mines in " + ", ".join(self.risky_mine_countries))
        return tuple(out)


@dataclass(frozen=True)
class UnidentifiedEntry:
    """Rows that name no smelter Assay can identify, grouped by metal, name and reason."""

    metal: str
    name: str
    country: str
    reason: str  # one of REASONS
    suppliers: tuple[str, ...]
    rows: int  # how many rows of all files


@dataclass(frozen=True)
class SmelterList:
    entries: tuple[SmelterEntry, ...]  # sorted by metal (METAL_ORDER), then CID
    unidentified: tuple[UnidentifiedEntry, ...]
    suppliers: int  # suppliers whose files were read

    def metals(self) -> tuple[str, ...]:
        seen = {e.metal for e in self.entries} | {u.metal for u in self.unidentified if u.metal}
        return tuple(sorted(seen, key=metal_rank))

    def for_metal(self, metal: str) -> tuple[SmelterEntry, ...]:
        return tuple(e for e in self.entries if e.metal == metal)

    def unidentified_for(self, metal: str) -> tuple[UnidentifiedEntry, ...]:
        return tuple(u for u in self.unidentified if u.metal == metal)


def _reason(row: ListedRow) -> str:
    if row.cid:
        return MALFORMED
    if row.lookup.strip().casefold() == "smelter not yet identified":
        return NOT_YET_IDENTIFIED
    if name_key(row.name) in ("", "unknown") or row.name.strip().casefold() in (
        "smelter not listed",
        "smelter not yet identified",
    ):
        return NO_NAME
    return NO_MATCH


def _most_common(values: Iterable[str]) -> str:
    counts = Counter(v for v in values if v)
    if not counts:
        return ""
    best = max(counts.values())
    return min(v for v, n in counts.items() if n == best)  # ties: stable, alphabetical


def consolidate(rows: Iterable[ListedRow], reference: ReferenceData) -> SmelterList:
    """The consolidated list of these rows, judged by ``reference`` (smelters, RMAP, CAHRA)."""
    named: dict[tuple[str, str], list[ListedRow]] = defaultdict(list)
    unknown: dict[tuple[str, str, str], list[ListedRow]] = defaultdict(list)
    suppliers: set[str] = set()
    for row in rows:
        suppliers.add(row.supplier)
        # Full-width or other compatibility forms fold to ASCII (NFKC); other scripts' digits
        # stay, and fail the CID pattern.
        cid = unicodedata.normalize("NFKC", row.cid).strip().upper()
        ref = reference.smelters.get(cid)
        metal = ref.metal if ref is not None else canonical_metal(row.metal)
        if CID.match(cid):
            named[(metal, cid)].append(row)
        else:
            reason = _reason(row)
            key = name_key(row.name) if reason in (NO_MATCH, MALFORMED) else ""
            unknown[(metal, reason, key or row.cid.strip())].append(row)
    entries = []
    for (metal, cid), group in named.items():
        ref = reference.smelters.get(cid)
        country = ref.country if ref is not None and ref.country else ""
        country = country or _most_common(r.country.strip().upper() for r in group)
        code = country_code(country)
        standing = reference.standing(cid, metal)
        lists = standing.lists or ((standing.rmap,) if standing.rmap else ())
        dates = sorted({r.as_of.isoformat() for r in lists if r.as_of})
        mines: set[str] = set()
        for r in group:
            mines.update(
                c
                for c in countries_in_text(r.mine_countries)
                if c in COVERED_COUNTRIES or c in reference.cahra
            )
        entries.append(
            SmelterEntry(
                metal=metal,
                cid=cid,
                name=(ref.name if ref is not None else "") or _most_common(r.name for r in group),
                country=country,
                standing=standing.standing,
                list_date=dates[-1] if dates else "",
                list_label=standing.label,
                suppliers=tuple(sorted({r.supplier for r in group})),
                covered_country=code in COVERED_COUNTRIES,
                cahra_country=bool(code) and code in reference.cahra,
                risky_mine_countries=tuple(sorted(mines)),
            )
        )
    entries.sort(key=lambda e: (metal_rank(e.metal), e.cid))
    groups = []
    for (metal, reason, _key), group in unknown.items():
        groups.append(
            UnidentifiedEntry(
                metal=metal,
                # A placeholder ("Unknown", "Smelter not listed") is no name; such rows are
                # one group whatever placeholder each gave.
                name=_most_common(r.name.strip() for r in group)
                if reason in (NO_MATCH, MALFORMED)
                else "",
                country=_most_common(r.country.strip().upper() for r in group),
                reason=reason,
                suppliers=tuple(sorted({r.supplier for r in group})),
                rows=len(group),
            )
        )
    groups.sort(key=lambda u: (metal_rank(u.metal), REASONS.index(u.reason), u.name.casefold()))
    return SmelterList(tuple(entries), tuple(groups), len(suppliers))


@dataclass(frozen=True)
class MetalCounts:
    """``report rmap-counts``: one metal's smelters by RMAP standing."""

    metal: str
    smelters: int
    conformant: int
    active: int
    not_conformant: int
    not_covered: int  # no list covers the metal (or no list at all)
    share_conformant: float  # conformant / smelters, 4 places (0.0 with no smelter)
    list_date: str


def rmap_counts(smelters: SmelterList) -> list[MetalCounts]:
    out = []
    for metal in smelters.metals():
        entries = smelters.for_metal(metal)
        n = len(entries)
        by = Counter(e.standing for e in entries)
        covered = by["conformant"] + by["active"] + by["not-conformant"]
        dates = sorted({e.list_date for e in entries if e.list_date})
        out.append(
            MetalCounts(
                metal=metal,
                smelters=n,
                conformant=by["conformant"],
                active=by["active"],
                not_conformant=by["not-conformant"],
                not_covered=n - covered,
                share_conformant=round(by["conformant"] / n, 4) if n else 0.0,
                list_date=dates[-1] if dates else "",
            )
        )
    return out
