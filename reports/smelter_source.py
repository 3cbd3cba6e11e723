"""The consolidated smelter list of the company, read from the Store.

Which files count: each registered supplier's latest readable, verified file of each
template family (:meth:`storage.report_reads.ReportStore.latest_files`); with a campaign,
only its suppliers' latest file of its family received since the campaign was created.
What the rows make is :func:`program.smelter_list.consolidate`'s.
"""

from __future__ import annotations

from collections.abc import Iterator

from plugins.reference import ReferenceData
from program.smelter_list import ListedRow, SmelterList, consolidate
from storage.campaign_models import Campaign
from storage.store import Store


def latest_shas(store: Store, campaign: Campaign | None = None) -> dict[str, list[str]]:
    """sha256 -> the suppliers (names) of every file the consolidated list reads (the same
    bytes sent by two suppliers count for both)."""
    names = {s.id: s.name for s in store.suppliers()}
    if campaign is None:
        found = store.latest_files()
    else:
        members = [m.supplier_id for m in store.members(campaign.id)]
        found = store.latest_files(
            family=campaign.family, since=campaign.created_at, supplier_ids=members
        )
    out: dict[str, list[str]] = {}
    for sid in sorted(found, key=lambda i: names.get(i, "")):
        for a in found[sid]:
            out.setdefault(a.sha256, []).append(names.get(sid, f"supplier {sid}"))
    return out


def listed_rows(store: Store, files: dict[str, list[str]]) -> Iterator[ListedRow]:
    for sha, metal, cid, name, country, lookup, mines in store.smelter_rows_of(list(files)):
        for supplier in files[sha]:
            yield ListedRow(supplier, metal, cid, name, country, lookup, mines)


def consolidated(
    store: Store, campaign: Campaign | None = None, reference: ReferenceData | None = None
) -> SmelterList:
    """The company's consolidated smelter list (of one campaign's answers when given)."""
    files = latest_shas(store, campaign)
    return consolidate(listed_rows(store, files), reference or store.reference_data())
