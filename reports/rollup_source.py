"""The facts the company declaration is derived from, read from the Store.

Who was asked and who answered come from a campaign: the one named, else the newest
campaign of the template's family; without any, from the registry (suppliers expecting the
family, or no family in particular, are the surveyed; those with a latest readable,
verified file of the family responded). Each responding supplier's latest file of the
family gives its answers, keyed by the question's ``kind`` through the cell map of its own
revision, so a CMRT 6.01 and a 6.5 answer alike. The smelter figures come from the
consolidated list (:func:`reports.smelter_source.consolidated`) over the same files,
restricted to the template's minerals. What the facts make is :func:`program.rollup.derive`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping

from plugins.countries import COVERED_COUNTRIES
from plugins.models import Declaration
from plugins.versions import select_layout
from program.campaign import response_category
from program.rollup import RollupFacts, SupplierAnswers
from program.smelter_list import MALFORMED, NO_NAME, SmelterEntry, SmelterList, consolidate
from storage.campaign_models import Campaign
from storage.store import Store

from .smelter_source import listed_rows

UNREPORTED_REASONS = frozenset({MALFORMED, NO_NAME})


class RollupSourceError(ValueError):
    """The Store cannot give the facts asked for (an unknown campaign, another family)."""


def pick_campaign(store: Store, family: str, name: str | None) -> Campaign | None:
    """The campaign named, else the newest of the family (None: use the registry)."""
    if name:
        campaign = store.campaign(name)
        if campaign is None:
            raise RollupSourceError(f"no campaign named {name!r}")
        if campaign.family != family:
            raise RollupSourceError(
                f"campaign {name!r} surveys {campaign.family}, the template is a {family}"
            )
        return campaign
    mine = [c for c in store.campaigns() if c.family == family]
    return max(mine, key=lambda c: (c.created_at, c.id)) if mine else None


def supplier_answers(name: str, decl: Declaration) -> SupplierAnswers:
    """A supplier's declaration as (kind, mineral) -> answer, through its own cell map."""
    layout, _known = select_layout(decl.meta.type, decl.meta.version)
    kinds = {q.id: q.kind for q in layout.questions} if layout else {}
    answers: dict[tuple[str, str], str] = {}
    for a in decl.answers:
        kind = kinds.get(a.question)
        if kind and a.mineral:
            answers.setdefault((kind, a.mineral), a.value)
    listed = frozenset(r.metal for r in decl.smelters if r.metal)
    return SupplierAnswers(supplier=name, answers=answers, listed_metals=listed)


def _files(
    store: Store, family: str, campaign: Campaign | None
) -> tuple[int, dict[int, list[str]]]:
    """(suppliers surveyed, supplier id -> the sha256 of its latest file of the family)."""
    if campaign is not None:
        ids = [m.supplier_id for m in store.members(campaign.id)]
        found = store.latest_files(family=family, since=campaign.created_at, supplier_ids=ids)
        surveyed = len(ids)
    else:
        asked = [
            s.id
            for s in store.suppliers()
            if not s.expected or family in s.expected or "any" in s.expected
        ]
        found = store.latest_files(family=family, supplier_ids=asked)
        surveyed = len(asked)
    return surveyed, {sid: [a.sha256 for a in rows[:1]] for sid, rows in found.items() if rows}


def _counts(smelters: SmelterList, minerals: Iterable[str]) -> tuple[dict[str, int], ...]:
    wanted = {m.casefold(): m for m in minerals}
    identified = {m: 0 for m in wanted.values()}
    unidentified = dict(identified)
    unreported = dict(identified)
    for e in smelters.entries:
        m = wanted.get(e.metal.casefold())
        if m:
            identified[m] += 1
    for u in smelters.unidentified:
        m = wanted.get(u.metal.casefold())
        if m:
            unidentified[m] += u.rows
            if u.reason in UNREPORTED_REASONS:
                unreported[m] += u.rows
    return identified, unidentified, unreported


def rollup_facts(
    store: Store,
    *,
    family: str,
    minerals: tuple[str, ...],
    company: Mapping[str, str],
    out_of_scope: Iterable[str] = (),
    campaign: Campaign | None = None,
) -> tuple[RollupFacts, SmelterList]:
    """The facts for a ``family`` template asking about ``minerals`` (form order), and the
    consolidated list its Smelter List is written from (the template's minerals only)."""
    surveyed, files = _files(store, family, campaign)
    names = {s.id: s.name for s in store.suppliers()}
    answers = []
    for sid in sorted(files, key=lambda i: names.get(i, "")):
        for sha in files[sid]:
            decl = store.declaration(sha)
            if decl is not None:
                answers.append(supplier_answers(names.get(sid, f"supplier {sid}"), decl))
    responded = len(files)
    # The list of exactly these files: the same family, the suppliers asked.
    reference = store.reference_data()
    by_sha: dict[str, list[str]] = {}
    for sid in sorted(files, key=lambda i: names.get(i, "")):
        for sha in files[sid]:
            by_sha.setdefault(sha, []).append(names.get(sid, f"supplier {sid}"))
    full = consolidate(listed_rows(store, by_sha), reference)
    wanted = {m.casefold() for m in minerals}
    smelters = SmelterList(
        tuple(e for e in full.entries if e.metal.casefold() in wanted),
        tuple(u for u in full.unidentified if u.metal.casefold() in wanted),
        full.suppliers,
    )
    identified, unidentified, unreported = _counts(smelters, minerals)
    facts = RollupFacts(
        family=family,
        minerals=minerals,
        suppliers=tuple(answers),
        surveyed=surveyed,
        responded=responded,
        response_category=response_category(responded, surveyed),
        smelters=identified,
        unidentified=unidentified,
        unreported=unreported,
        company=dict(company),
        out_of_scope=frozenset(out_of_scope),
        covered=_flagged(smelters, lambda e: e.covered_country, COVERED_COUNTRIES),
        cahra=_flagged(smelters, lambda e: e.cahra_country, reference.cahra),
    )
    return facts, smelters


def _flagged(
    smelters: SmelterList, located: Callable[[SmelterEntry], bool], countries: Collection[str]
) -> dict[str, tuple[str, ...]]:
    """mineral -> CIDs located in, or with mines named in, one of ``countries``."""
    out: dict[str, list[str]] = {}
    for e in smelters.entries:
        if located(e) or any(c in countries for c in e.risky_mine_countries):
            out.setdefault(e.metal, []).append(e.cid)
    return {m: tuple(c) for m, c in out.items()}
