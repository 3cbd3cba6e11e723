"""What a campaign does on a day: send requests, remind, escalate, mark the silent, digest;
and the remediations that follow every supplier until each smelter it lists qualifies.

Each step queues its e-mail or alert in the same transaction as the event that records it
(:mod:`storage.campaigns`), so a step done twice, or a run killed and started again, sends
nothing twice; delivery is the notifiers' job (:mod:`bot.mailer`, :mod:`bot.slack_notifier`).
The decisions are :mod:`program.campaign`'s; this module only wires them to the Store.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from plugins.checks import DEFAULT_CURRENT_VERSIONS
from plugins.reference import ReferenceData
from plugins.versions import version_key
from program.campaign import due_actions, remediation_change, still_missing
from program.outbox import (
    CampaignDigest,
    CampaignReminder,
    CampaignRequest,
    NonResponsive,
    OwnerEscalation,
    OwnerEscalationDM,
    RemediationClosed,
    RemediationOpened,
)
from reports.campaign_status import (
    campaign_status,
    member_views,
    schedule_of,
    standing_of,
)
from storage.campaign_models import Campaign, Member
from storage.mail import OutboxItem
from storage.store import Store
from storage.supplier_file import owner_kind

from .config import Config


@dataclass
class Outcome:
    """What one run queued (names, for the command's output)."""

    requests: list[str] = field(default_factory=list)
    no_address: list[str] = field(default_factory=list)
    reminders: list[str] = field(default_factory=list)
    escalations: list[str] = field(default_factory=list)
    non_responsive: list[str] = field(default_factory=list)


#: What an owner is told about a supplier that could not be asked.
NO_ADDRESS = ("an e-mail address in the supplier registry: the request could not be sent",)


def asked_version(campaign: Campaign, current_versions: Mapping[str, str]) -> str:
    """The revision a request asks for: the current one, or the minimum if that is newer."""
    current = current_versions.get(
        campaign.family, DEFAULT_CURRENT_VERSIONS.get(campaign.family, "")
    )
    versions = [v for v in (current, campaign.min_version) if v]
    return max(versions, key=version_key) if versions else ""


def _message_id(kind: str, campaign: Campaign, member: Member, extra: str, domain: str) -> str:
    # The campaign's creation time makes ids unique across databases; the rest gives a
    # message sent again (after a killed run) the same id.
    seed = f"{campaign.created_at}:{campaign.id}:{member.supplier_id}:{kind}:{extra}"
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return f"<assay.{kind}.{campaign.id}.{member.supplier_id}.{digest[:16]}@{domain}>"


def send_requests(
    store: Store,
    campaign: Campaign,
    on: dt.date,
    *,
    domain: str,
    current_versions: Mapping[str, str],
    dry_run: bool = False,
) -> Outcome:
    """Queue a request for every supplier of the campaign not asked yet (once each)."""
    out = Outcome()
    version = asked_version(campaign, current_versions)
    for m in store.members(campaign.id):
        if m.requested_on is not None:
            continue
        if not m.addresses:
            out.no_address.append(m.name)
            continue
        if dry_run:
            out.requests.append(m.name)
            continue
        message_id = _message_id("request", campaign, m, "", domain)
        payload = CampaignRequest(
            to=m.addresses[0],
            supplier=m.name,
            campaign=campaign.name,
            family=campaign.family,
            version=version,
            deadline=campaign.deadline.isoformat(),
            message_id=message_id,
        )
        item = OutboxItem(
            "email", f"campaign:{campaign.id}:request:{m.supplier_id}", payload, m.addresses[0]
        )
        if store.record_request(m, on, message_id, item):
            out.requests.append(m.name)
    return out


def remind(
    store: Store,
    campaign: Campaign,
    on: dt.date,
    *,
    domain: str,
    current_versions: Mapping[str, str],
) -> Outcome:
    """The day's reminders, escalations and non-responsive marks for one campaign."""
    out = Outcome()
    if campaign.state != "open":
        return out  # a closed campaign sends nothing
    schedule = schedule_of(campaign)
    version = asked_version(campaign, current_versions)
    for v in member_views(store, campaign, declarations=False):
        m, state, latest = v.member, v.state, v.latest
        if m.requested_on is None:
            # Never asked for want of an address: its owner hears so on the escalation day.
            if (
                not m.addresses
                and m.escalated_on is None
                and schedule.escalation_date() <= on <= campaign.final_deadline
                and store.record_escalation(m, on, [_escalation(campaign, m, NO_ADDRESS)])
            ):
                out.escalations.append(m.name)
            continue
        due = due_actions(schedule, state, campaign.family, campaign.min_version, on)
        missing = still_missing(campaign.family, latest, campaign.min_version)
        if due.reminder is not None:
            message_id = _message_id("reminder", campaign, m, str(due.reminder), domain)
            payload = CampaignReminder(
                to=m.addresses[0] if m.addresses else "",
                supplier=m.name,
                campaign=campaign.name,
                family=campaign.family,
                version=version,
                deadline=campaign.deadline.isoformat(),
                missing=missing,
                in_reply_to=m.request_message_id,
                message_id=message_id,
                overdue=on > campaign.deadline,
            )
            item = (
                OutboxItem(
                    "email",
                    f"campaign:{campaign.id}:reminder:{m.supplier_id}:{due.reminder}",
                    payload,
                    m.addresses[0],
                )
                if m.addresses
                else None
            )
            if store.record_reminder(m, due.reminder, on, item, skipped=due.skipped):
                out.reminders.append(m.name)
                if item is not None:
                    m = dataclasses.replace(m, reminders_sent=m.reminders_sent + 1)
        if due.escalate and store.record_escalation(m, on, [_escalation(campaign, m, missing)]):
            out.escalations.append(m.name)
        if on > campaign.final_deadline and latest is None and m.nonresponsive_on is None:
            alert = NonResponsive(
                campaign=campaign.name,
                supplier=m.name,
                final_deadline=campaign.final_deadline.isoformat(),
            )
            key = f"campaign:{campaign.id}:non-responsive:{m.supplier_id}"
            if store.record_nonresponsive(m, on, OutboxItem("alert", key, alert)):
                out.non_responsive.append(m.name)
    return out


def _escalation(campaign: Campaign, m: Member, missing: tuple[str, ...]) -> OutboxItem:
    """The owner is told: by e-mail, or by Slack DM; a supplier without an owner is raised in
    the compliance channel (a DM alert with no user)."""
    key = f"campaign:{campaign.id}:escalation:{m.supplier_id}"
    status = "escalated"
    sent = m.reminders_sent
    if owner_kind(m.owner) == "email":
        return OutboxItem(
            "email",
            key,
            OwnerEscalation(
                to=m.owner,
                supplier=m.name,
                campaign=campaign.name,
                deadline=campaign.deadline.isoformat(),
                status=status,
                missing=missing,
                reminders_sent=sent,
            ),
            m.owner,
        )
    return OutboxItem(
        "alert",
        key,
        OwnerEscalationDM(
            slack_user=m.owner if owner_kind(m.owner) == "slack" else "",
            supplier=m.name,
            campaign=campaign.name,
            deadline=campaign.deadline.isoformat(),
            status=status,
            missing=missing,
            reminders_sent=sent,
        ),
    )


def queue_digest(
    store: Store,
    campaign: Campaign,
    on: dt.date,
    *,
    current_versions: Mapping[str, str],
    stale_after_days: int,
) -> bool:
    """The campaign's figures for the compliance channel, once a day (grades kept too)."""
    s = campaign_status(
        store,
        campaign,
        on,
        current_versions=current_versions,
        stale_after_days=stale_after_days,
        record_grades=True,
    )
    f = s.figures
    alert = CampaignDigest(
        campaign=campaign.name,
        family=campaign.family,
        suppliers=f.suppliers,
        responded=f.responded,
        accepted=f.accepted,
        response_rate=f.response_rate,
        response_category=f.response_category,
        overdue=len(s.overdue),
        resubmit=s.count("resubmit"),
        escalated=s.count("escalated"),
    )
    key = f"campaign:{campaign.id}:digest:{on.isoformat()}"
    return store.record_digest(campaign.id, on, OutboxItem("alert", key, alert))


def run_day(store: Store, config: Config, today: dt.date) -> int:
    """A day of every open campaign (``assay serve`` runs it once a day): remediations brought
    up to date for every supplier (a registry import credits old files), then each campaign's
    reminders, escalations and non-responsive marks and its digest, which stops a week after
    the final deadline (the figures no longer move). Returns how many messages were queued."""
    sync_remediations(store)
    queued = 0
    domain = config.mail.reply_from.rsplit("@", 1)[-1].strip("> ") or "assay.invalid"
    versions = config.screening.current_versions
    stale = config.campaigns.stale_after_days
    for campaign in store.campaigns("open"):
        out = remind(store, campaign, today, domain=domain, current_versions=versions)
        queued += len(out.reminders) + len(out.escalations) + len(out.non_responsive)
        quiet = today > campaign.final_deadline + dt.timedelta(days=7)
        if config.campaigns.digest and not quiet:
            queued += queue_digest(
                store, campaign, today, current_versions=versions, stale_after_days=stale
            )
        else:  # the day's grades are kept all the same
            campaign_status(
                store,
                campaign,
                today,
                current_versions=versions,
                stale_after_days=stale,
                record_grades=True,
            )
    return queued


# -- remediations ---------------------------------------------------------------------------


def not_conformant_in(store: Store, sha256: str, reference: ReferenceData) -> set[str]:
    """CIDs a file lists that the reference lists in force do not show as conformant
    (Active, or on no list); smelters of metals no list covers are left out."""
    return {
        cid
        for metal, cid in store.listed_smelters(sha256)
        if standing_of(reference, cid, metal) in ("active", "not-conformant")
    }


def sync_remediations(store: Store, only: Collection[int] | None = None) -> tuple[int, int]:
    """Open, update or close each supplier's remediation (``only``: these suppliers') from its
    latest readable file of each family and the lists in force. Returns (opened, closed)."""
    opened = closed = 0
    if only is not None and not only:
        return 0, 0
    reference = store.reference_data()
    latest = _latest_files(store, only)
    open_now = {r.supplier_id: r for r in store.remediations(open_only=True)}
    for supplier in store.suppliers():
        if only is not None and supplier.id not in only:
            continue
        files = latest.get(supplier.id, [])
        if not files and supplier.id not in open_now:
            continue  # nothing to open, nothing to close
        cids: set[str] = set()
        for sha in files:
            cids |= not_conformant_in(store, sha, reference)
        if cids:
            cids -= store.waived_smelters(supplier.id, files)  # a waiver holds for its file
        current = open_now.get(supplier.id)
        change = remediation_change(frozenset(current.cids) if current else None, frozenset(cids))
        newest = files[0] if files else ""
        if change == "open":
            opened_alert = functools.partial(
                _opened_alert, supplier.name, tuple(sorted(cids)), _file_date(store, newest)
            )
            store.open_remediation(supplier.id, newest, sorted(cids), opened_alert)
            opened += 1
        elif change == "update" and current is not None:
            store.update_remediation(current.id, newest, sorted(cids))
        elif change == "close" and current is not None:
            if newest != current.file_sha256:
                reason = "a newer file"
            else:  # the lists that now show the smelters conformant
                labels = {
                    reference.standing(cid, metal).label
                    for metal, cid in store.listed_smelters(current.file_sha256)
                    if cid in current.cids
                }
                reason = " and ".join(sorted(x for x in labels if x)) or "the RMAP lists"
            alert_c = RemediationClosed(
                supplier=supplier.name, remediation_id=current.id, reason=reason
            )
            if store.close_remediation(current.id, reason, OutboxItem("alert", "", alert_c)):
                closed += 1
    return opened, closed


def _opened_alert(supplier: str, cids: tuple[str, ...], file_date: str, rid: int) -> OutboxItem:
    return OutboxItem(
        "alert",
        "",
        RemediationOpened(supplier=supplier, remediation_id=rid, cids=cids, file_date=file_date),
    )


def waive_remediation(store: Store, remediation_id: int, reason: str, by: str) -> bool:
    found = store.remediation(remediation_id)
    if found is None or not found.open:
        return False
    text = f"waived by {by}: {reason}" if by else f"waived: {reason}"
    alert = RemediationClosed(supplier=found.supplier, remediation_id=remediation_id, reason=text)
    return store.close_remediation(
        remediation_id, text, OutboxItem("alert", "", alert), waived=True
    )


def _latest_files(store: Store, only: Collection[int] | None = None) -> dict[int, list[str]]:
    """Each supplier's latest readable file of each family, newest first."""
    found = store.latest_files(supplier_ids=only)
    return {sid: [a.sha256 for a in rows] for sid, rows in found.items()}


def _file_date(store: Store, sha256: str) -> str:
    sub = store.submission(sha256)
    return sub.first_seen[:10] if sub is not None else ""
