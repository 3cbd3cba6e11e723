"""Compliance-channel alerts. Without Slack (the embedded default) they go to the console
and a log file, so the quick start shows the whole flow. Alerts are redacted by
construction: intake never puts a grievance reporter or a grievance's text in one.

Every value in an alert may come from outside (a supplier's company name, a file name, a
sender): it is cut to a sane length, kept on one line, and, for Slack, escaped for mrkdwn
(``&``, ``<``, ``>``), so a name like ``<!channel>`` can neither ping the channel nor
disguise a link. Lists are bounded and the whole post stays far below Slack's limits.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO, assert_never

from program.outbox import (
    Alert,
    CampaignDigest,
    GrievanceAlert,
    GrievanceFollowUpAlert,
    NeedsAttention,
    NonResponsive,
    OwnerEscalationDM,
    ProgramDigest,
    RateLimited,
    RemediationClosed,
    RemediationOpened,
    RmapChanges,
    SenderMismatch,
    StaleList,
    Submission,
    SubmissionDetails,
    Undeliverable,
    decode_alert,
)
from storage.leases import lease_owner
from storage.store import Store

log = logging.getLogger(__name__)

FIELD_MAX = 200  # characters of one outside value
POST_MAX = 3000  # characters of one post (Slack allows 40,000; a channel post should be short)
LIST_MAX = 10  # files, smelters, suppliers shown before "…and N more"
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _more(items: list[Any], limit: int = LIST_MAX) -> tuple[list[Any], str]:
    extra = len(items) - limit
    return items[:limit], (f" …and {extra} more" if extra > 0 else "")


def render_alert(alert: Alert, slack: bool = False, threaded: bool = False) -> str:
    """One alert as text; ``slack`` escapes outside text for mrkdwn (console stays plain).

    ``threaded``: the alert is posted in its post's thread (which names the supplier)."""

    def v(value: object, limit: int = FIELD_MAX) -> str:
        text = cut(
            " ".join(
                CONTROL.sub(" ", str(value if value is not None else "")[: limit * 4]).split()
            ),
            limit,
        )
        return slack_escape(text) if slack else text

    match alert:
        case Submission():
            shown, more = _more(list(alert.files))
            parts = []
            for f in shown:
                line = (
                    f"{v(f.filename)} ({v(f.template, 40)}): {v(f.risk_level, 20).upper()} — "
                    f"{v(f.summary.error, 12)} error, {v(f.summary.risk, 12)} risk, "
                    f"{v(f.summary.warning, 12)} warning"
                )
                if f.high_risk_count:
                    where = "details in the thread" if slack else "details below"
                    line += f"; {v(f.high_risk_count, 12)} high-risk smelter(s), {where}"
                elif f.high_risk_smelters:  # posts queued before the thread existed
                    smelters, more_smelters = _more(list(f.high_risk_smelters))
                    line += (
                        f"; high-risk smelters: {', '.join(v(s) for s in smelters)}{more_smelters}"
                    )
                parts.append(line)
            via = f" (via {v(alert.via, 40)})" if alert.via else ""
            text = f"[submission] {v(alert.supplier or 'unknown supplier')}{via}: {'; '.join(parts)}{more}"
        case SubmissionDetails():
            lines = []
            for d in alert.files[:LIST_MAX]:
                if not d.high_risk and not d.to_correct:
                    continue
                lines.append(f"{v(d.filename)}:")
                shown_risky, more_risky = _more(list(d.high_risk), 20)
                for s in shown_risky:
                    reasons = "; ".join(v(r, 300) for r in s.reasons[:6])
                    who = " ".join(x for x in (v(s.cid, 20), v(s.name)) if x)
                    metal = f" ({v(s.metal, 40)})" if s.metal else ""
                    lines.append(f"  high-risk: {who}{metal}: {reasons}")
                if more_risky:
                    lines.append(f"  {more_risky.strip()} high-risk smelter(s)")
                for fix in d.to_correct[:5]:
                    lines.append(f"  to correct: {v(fix, 400)}")
            head = f"[details] {v(alert.supplier or 'unknown supplier')}"
            # In a thread the post above names the supplier; on the console, or as a post of
            # its own (its post was given up), the details say whose they are.
            text = "\n".join([head, *lines] if not slack or not threaded else lines)
        case GrievanceAlert():
            text = f"[grievance] new case {v(alert.case_id, 40)} received {v(alert.received, 40)}, category {v(alert.category, 60)} (details: assay grievance show {v(alert.case_id, 40)})"
        case GrievanceFollowUpAlert():
            text = (
                f"[grievance] follow-up on {v(alert.case_id, 40)} received {v(alert.received, 40)}"
            )
        case SenderMismatch():
            text = f"[warning] {v(alert.sender)} (supplier {v(alert.supplier)}) sent a declaration for “{v(alert.declared_company)}”"
        case RateLimited():
            text = f"[warning] replies to {v(alert.sender)} paused: more than {v(alert.limit, 12)} in an hour (a mail loop?)"
        case RmapChanges():
            changes = list(alert.changes)
            lines = [
                f"[rmap] new RMAP list {v(alert.list_version)}: {len(changes)} smelter(s) in suppliers' lists changed standing"
            ]
            shown_changes, _ = _more(changes, 20)
            for c in shown_changes:
                suppliers, more_suppliers = _more(list(c.suppliers))
                named = ", ".join(v(s) for s in suppliers) + more_suppliers
                lines.append(
                    f"  {v(c.cid, 40)}: {v(c.from_, 60)} -> {v(c.to, 60)}; listed by {named or 'no named supplier'}"
                )
            if len(changes) > 20:
                lines.append(f"  …and {len(changes) - 20} more (assay smelter CID)")
            text = "\n".join(lines)
        case StaleList():
            text = f"[reference] {v(alert.message, 400)}"
        case NeedsAttention():
            text = f"[attention] {v(alert.mailbox, 40)}: a message could not be handled ({v(alert.reason)}); it is in 'Needs attention'"
        case Undeliverable():
            who = (
                f" for case {v(alert.case_id, 40)}"
                if alert.case_id
                else (
                    f" to {v(alert.supplier)}"
                    if alert.supplier
                    else (f" to recipient #{v(alert.to_hash, 12)}" if alert.to_hash else "")
                )
            )
            if alert.supplier and alert.to_hash:
                who += f" (recipient #{v(alert.to_hash, 12)})"
            text = f"[undeliverable] a {v(alert.message or 'message', 60)}{who} could not be delivered and was given up ({v(alert.error, 120)})"
        case OwnerEscalationDM():
            missing, more_missing = _more(list(alert.missing), 5)
            still = "; ".join(v(m, 300) for m in missing) + more_missing
            facts = (
                f"{v(alert.supplier)} has not completed campaign {v(alert.campaign)} "
                f"(deadline {v(alert.deadline, 20)}): status {v(alert.status, 40)}, "
                f"{alert.reminders_sent} reminder(s) sent"
                + (f"; still missing: {still}" if still else "")
            )
            if not alert.slack_user:  # no owner to tell: the compliance channel hears it
                text = f"[escalation] {facts}. No owner is registered for this supplier."
            elif slack:  # a direct message to the owner
                text = f"Escalation: {facts}. Please contact the supplier directly."
            else:
                text = f"[escalation] to Slack user {v(alert.slack_user, 40)}: {facts}"
        case RemediationOpened():
            cids, more_cids = _more(list(alert.cids))
            text = (
                f"[remediation] #{alert.remediation_id} opened for {v(alert.supplier)}: "
                f"{len(alert.cids)} smelter(s) not RMAP conformant in its file of "
                f"{v(alert.file_date, 20)}: {', '.join(v(c, 20) for c in cids)}{more_cids}"
            )
        case RemediationClosed():
            text = (
                f"[remediation] #{alert.remediation_id} closed for {v(alert.supplier)}: "
                f"{v(alert.reason, 300)}"
            )
        case CampaignDigest():
            name = f"*{v(alert.campaign)}*" if slack else v(alert.campaign)
            text = (
                f"Campaign {name} ({v(alert.family, 20)}): {alert.responded} of "
                f"{alert.suppliers} answered ({percent(alert.response_rate)}, "
                f"{v(alert.response_category, 40)}); {alert.overdue} overdue; "
                f"{alert.resubmit} to resubmit; {alert.escalated} escalated."
            )
            text = text if slack else f"[campaign] {text}"
        case NonResponsive():
            text = (
                f"[campaign] {v(alert.supplier)} is non-responsive in campaign "
                f"{v(alert.campaign)}: no answer by the final deadline {v(alert.final_deadline, 20)}"
            )
        case ProgramDigest():
            text = _program_digest(alert, v, slack)
        case _:
            assert_never(alert)
    return _bound(text, slack)


LINK = re.compile(r"https?://[^\s|<>]+", re.IGNORECASE)  # a URL Slack's <url|label> cannot break


def _program_digest(alert: ProgramDigest, v: Callable[..., str], slack: bool) -> str:
    """The day's headline figures, then one line per open campaign (at most ``LIST_MAX``),
    then the dashboard's link, which survives however long the names before it are."""
    target = f"{alert.target * 100:.1f}".rstrip("0").rstrip(".") + "%"
    head = f"Program digest for {v(alert.as_of, 20)} (response target {target})"
    lines = [f"*{head}*" if slack else head]
    lines += [f"• {v(f.title, 80)}: {v(f.text, 40)}" for f in alert.figures[:20]]
    shown, more = _more(list(alert.campaigns))
    if shown:
        lines.append("Open campaigns:")
    for c in shown:
        lines.append(
            f"• {v(c.campaign)} ({v(c.family, 20)}): {c.responded} of {c.suppliers} answered "
            f"({v(c.rate, 20)}); {c.overdue} overdue"
        )
    if more:
        lines.append(f"•{more} (on the dashboard)")
    url = alert.url.strip()
    if slack and len(url) <= 500 and LINK.fullmatch(url):
        link = f"<{slack_escape(url)}|Open the dashboard>"
    else:
        link = f"Dashboard: {v(url, 500)}" if url else ""
    if not slack:
        lines = [f"[dashboard] {line}" for line in lines]
        link = f"[dashboard] {link}" if link else ""
    body = _bound("\n".join(lines), slack, POST_MAX - len(link) - 1)
    return f"{body}\n{link}" if link else body


def percent(rate: float) -> str:
    """0.887 as "88.7%" (one decimal, as ``/campaign`` answers)."""
    return f"{rate:.1%}"


def _bound(text: str, slack: bool, limit: int = POST_MAX) -> str:
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if slack:
        head = re.sub(r"&[a-z]{0,3}$", "", head)  # never half an escape
    return head + "…"


class ConsoleAlerts:
    """Drains ``alert`` outbox entries to a stream and a log file, claiming each first (any
    number of notifiers on one database print each alert once)."""

    def __init__(
        self,
        store: Store,
        log_file: Path | None,
        stream: TextIO | None = None,
        lease_seconds: float = 120.0,
    ) -> None:
        self.store = store
        self.log_file = log_file
        self.stream = stream if stream is not None else sys.stdout
        self.lease_seconds = lease_seconds

    def drain(self, limit: int = 200) -> int:
        owner = lease_owner()
        n = 0
        while n < limit:
            claimed = self.store.claim_outbox("alert", owner, self.lease_seconds, in_order=True)
            if not claimed:
                break
            row = claimed[0]
            try:
                line = render_alert(decode_alert(row.payload))
            except Exception as exc:  # a broken row must not stop the channel
                log.error("alert %s cannot be rendered (%s); dropped", row.id, type(exc).__name__)
                self.store.mark_failed(
                    row.id, f"cannot render: {type(exc).__name__}", None, owner=owner
                )
                continue
            print(line, file=self.stream, flush=True)
            if self.log_file is not None:
                self.log_file.parent.mkdir(parents=True, exist_ok=True)
                with self.log_file.open("a", encoding="utf-8") as f:
                    f.write(line + "\n")
            self.store.mark_sent(row.id, owner)
            n += 1
        return n
