"""Campaign test helpers: suppliers, files received and outbox rows, all built in code.

A "file" here is a screening result with a synthetic declaration (no workbook is built), stored
through the same Store calls the mail intake uses: ``record_screening`` then ``record_message``
with the file credited to its supplier.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from typing import Any

from plugins.models import Answer, Declaration, Finding, ScreeningResult, SmelterRow, TemplateMeta
from plugins.reference import RmapEntry
from storage.campaign_models import CampaignSpec, Member
from storage.mail import MessageRecord, OutboxItem
from storage.models import SupplierEntry
from storage.store import Store

LAYOUTS = {"CMRT": "CMRT_6.x", "EMRT": "EMRT_2.x", "CRT": "CRT_2.x", "AMRT": "AMRT_1.x"}
METALS = ("Tantalum", "Tin", "Gold", "Tungsten")


def supplier(
    name: str,
    *,
    owner: str = "",
    metals: tuple[str, ...] = (),
    expected: tuple[str, ...] = ("CMRT",),
    address: str | None = None,
) -> SupplierEntry:
    slug = "".join(ch for ch in name.lower() if ch.isalnum())[:20] or "x"
    return SupplierEntry(
        name,
        addresses=(address if address is not None else f"survey@{slug}.example.test",)
        if address != ""
        else (),
        expected=expected,
        owner=owner,
        metals=metals,
    )


def register(store: Store, *entries: SupplierEntry) -> dict[str, int]:
    store.import_suppliers(list(entries))
    return {s.name: s.id for s in store.suppliers()}


def spec(
    name: str = "CMRT 2026",
    deadline: dt.date = dt.date(2026, 12, 1),
    *,
    family: str = "CMRT",
    final_after: int = 28,
    escalate_after: int = 14,
    reminder_days: tuple[int, ...] = (-14, -3, 7),
    min_version: str = "",
) -> CampaignSpec:
    return CampaignSpec(
        name=name,
        family=family,
        deadline=deadline,
        final_deadline=deadline + dt.timedelta(days=final_after),
        escalate_after=escalate_after,
        reminder_days=reminder_days,
        min_version=min_version,
    )


def declaration(
    company: str,
    *,
    family: str = "CMRT",
    version: str = "6.5",
    smelters: tuple[tuple[str, str], ...] = (),
    q1: dict[str, str] | None = None,
) -> Declaration:
    """A declaration listing ``smelters`` ((metal, CID) pairs)."""
    answers = tuple(
        Answer(question="Q1", value=v, cell=f"D{12 + i}", mineral=m)
        for i, (m, v) in enumerate((q1 or dict.fromkeys(METALS, "Yes")).items())
    )
    return Declaration(
        meta=TemplateMeta(type=family, version=version, layout=LAYOUTS.get(family, "")),
        company={"company_name": company},
        company_cells={"company_name": "D8"},
        minerals=METALS if family == "CMRT" else (),
        answers=answers,
        smelters=tuple(
            SmelterRow(row=5 + i, metal=metal, smelter_id=cid, name=f"Synthetic smelter {cid}")
            for i, (metal, cid) in enumerate(smelters)
        ),
    )


def result(
    company: str,
    *,
    family: str = "CMRT",
    version: str = "6.5",
    errors: int = 0,
    risks: int = 0,
    readable: bool = True,
    smelters: tuple[tuple[str, str], ...] = (),
    q1: dict[str, str] | None = None,
) -> ScreeningResult:
    findings = tuple(
        Finding(code=f"missing-answer-{i}", severity="error", message=f"Question {i} is blank")
        for i in range(errors)
    ) + tuple(
        Finding(code="covered-country", severity="risk", message="A smelter in a covered country")
        for _ in range(risks)
    )
    if not readable:
        return ScreeningResult(
            None,
            (Finding(code="unreadable-file", severity="error", message="Not a workbook"),),
            readable=False,
        )
    decl = declaration(company, family=family, version=version, smelters=smelters, q1=q1)
    return ScreeningResult(decl, findings)


def receive(
    store: Store,
    supplier_id: int | None,
    label: str,
    *,
    filename: str = "",
    sender: str = "",
    matched_by: str = "address",
    **kwargs: Any,
) -> str:
    """A file arriving by mail from a supplier; ``label`` makes its content (and sha256)."""
    sha = hashlib.sha256(label.encode()).hexdigest()
    store.record_screening(sha, result(label, **kwargs), filename=filename or f"{label}.xlsx")
    send_again(store, sha, supplier_id, sender, matched_by)
    return sha


def send_again(
    store: Store, sha: str, supplier_id: int | None, sender: str = "", matched_by: str = "address"
) -> None:
    """The same file (already screened) received in another message (``matched_by``: how the
    intake recognised the supplier: address, domain, or company for an unknown sender)."""
    store.record_message(
        MessageRecord(
            key=f"msg-{uuid.uuid4().hex}",
            mailbox="suppliers",
            sender=sender,
            sources=((sha, supplier_id),),
            matched_by=matched_by if supplier_id is not None else "",
        )
    )


def member(store: Store, campaign_id: int, name: str) -> Member:
    [found] = [m for m in store.members(campaign_id) if m.name == name]
    return found


def alert_item(key: str, text: str = "") -> OutboxItem:
    """A queued item for storage tests (the payload is opaque to the store)."""
    return OutboxItem("alert", key, json.dumps({"kind": "test", "text": text}))


def outbox(store: Store, kind: str | None = None) -> list[dict[str, Any]]:
    """Payloads queued (decoded JSON, with their dedupe key), oldest first; ``kind``: only those."""
    out = []
    for key, payload in store.db.execute("select dedupe_key, payload from outbox order by id"):
        data = json.loads(payload)
        data["_key"] = key
        if kind is None or data.get("kind") == kind:
            out.append(data)
    return out


def rmap(store: Store, version: str, as_of: dt.date, statuses: dict[str, str]) -> None:
    """An RMAP list of Tin smelters (CID -> RMI status word) loaded into the store."""
    store.add_rmap_list(
        version,
        as_of,
        f"{version}.csv",
        {cid: RmapEntry(cid, status, metal="Tin") for cid, status in statuses.items()},
        metals=frozenset({"Tin"}),
    )
