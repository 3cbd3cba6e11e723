"""A supplier's risk grade with its reasons, and when its remediation opens or closes.

The grade answers "how worried should we be about this supplier?" in three levels, each
with the plain sentences that justify it, so a grade is never a bare word: the status
report, ``assay suppliers show`` and the grade history all show the reasons. The caller
gathers the facts (:class:`GradeFacts`) from the latest file's findings, the campaign status,
the reference lists and the grievance cases; the rules below only weigh them.

Re-exported by :mod:`program.campaign`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_LISTED = 5  # CIDs, findings or cases named in one reason, then "and N more"


@dataclass(frozen=True)
class GradeFacts:
    """What the grade of one supplier is decided on."""

    #: Its campaign status (:func:`program.campaign.supplier_status`).
    status: str
    #: "code: short message" of each risk finding in its latest file.
    risk_findings: tuple[str, ...] = ()
    #: CIDs in its latest file whose RMAP standing is "not-conformant".
    not_conformant: tuple[str, ...] = ()
    #: CIDs in its latest file whose RMAP standing is "active" (audit under way).
    active_only: tuple[str, ...] = ()
    #: Errors in its latest readable file.
    open_errors: int = 0
    #: Metals whose "response-rate" answer (its own suppliers) is "50% or less" or "None".
    low_response: tuple[str, ...] = ()
    #: Its template is older than the current (or the campaign's minimum) version.
    outdated: bool = False
    #: Its declaration is older than ``[campaigns] stale_after_days``.
    stale: bool = False
    #: Ids of grievance cases linked to it that are under investigation.
    grievances: tuple[str, ...] = ()


@dataclass(frozen=True)
class Grade:
    """A level ("high", "medium" or "low") and every reason found, high ones first."""

    level: str
    reasons: tuple[str, ...]


def _listed(items: Iterable[str], sep: str = ", ") -> tuple[int, str]:
    # Duplicates are counted once; order is kept (the caller's order is the file's).
    unique = list(dict.fromkeys(items))
    more = len(unique) - MAX_LISTED
    text = sep.join(unique[:MAX_LISTED]) + (f" and {more} more" if more > 0 else "")
    return len(unique), text


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _high_reasons(f: GradeFacts) -> list[str]:
    reasons = []
    if f.risk_findings:
        n, text = _listed(f.risk_findings, sep="; ")
        reasons.append(f"{_count(n, 'risk finding', 'risk findings')} in the latest file: {text}")
    if f.not_conformant:
        n, text = _listed(f.not_conformant)
        reasons.append(f"{_count(n, 'smelter', 'smelters')} not RMAP conformant: {text}")
    if f.status == "non-responsive":
        reasons.append("no file received by the campaign's final deadline")
    if f.grievances:
        n, text = _listed(f.grievances)
        reasons.append(f"{_count(n, 'grievance', 'grievances')} under investigation: {text}")
    return reasons


def _medium_reasons(f: GradeFacts) -> list[str]:
    reasons = []
    if f.open_errors > 0:
        reasons.append(f"{_count(f.open_errors, 'error', 'errors')} open in the latest file")
    if f.low_response:
        _, text = _listed(f.low_response)
        reasons.append(f"its own suppliers' response rate is 50% or less for {text}")
    if f.active_only:
        n, text = _listed(f.active_only)
        reasons.append(
            f"{_count(n, 'smelter', 'smelters')} active in RMAP but not yet conformant: {text}"
        )
    if f.outdated:
        reasons.append("its declaration uses an outdated template version")
    if f.stale:
        reasons.append("its declaration is stale (older than the configured limit)")
    if f.status == "resubmit":
        reasons.append("a corrected file was asked for and has not arrived")
    elif f.status == "escalated":
        reasons.append("escalated to its internal owner: no accepted file after the deadline")
    return reasons


def grade(f: GradeFacts) -> Grade:
    """The supplier's grade: the highest level any fact reaches, with every reason found.

    - **high**: any risk finding in its latest file (covered-country or CAHRA sourcing, ...);
      any smelter in it that is not RMAP conformant; status "non-responsive" (silent past
      the final deadline); a linked grievance under investigation;
    - **medium**: errors open in its latest file; a low response from its own suppliers
      ("50% or less" or "None" for a metal); smelters active in RMAP but not yet conformant;
      an outdated template or a stale declaration; status "resubmit" or "escalated";
    - **low**: none of these (no reasons).

    Reasons are plain sentences naming counts and up to five CIDs, findings or cases
    ("3 smelters not RMAP conformant: CID001, CID002, CID003"); high ones come first, each
    level in the order above. The texts quote outside data (CIDs, finding messages): the
    renderer escapes them.
    """
    high = _high_reasons(f)
    medium = _medium_reasons(f)
    if high:
        return Grade("high", tuple(high + medium))
    if medium:
        return Grade("medium", tuple(medium))
    return Grade("low", ())


def remediation_change(open_cids: frozenset[str] | None, now: frozenset[str]) -> str | None:
    """What happens to a supplier's remediation given the non-conformant CIDs of its latest file.

    ``open_cids`` are those of its open remediation (None when there is none), ``now`` those
    found now (in a newer file, or against a newer RMAP list):

    - none open, some now: "open";
    - one open, none now: "close" (every smelter qualifies);
    - one open, a different non-empty set now: "update" (the remediation lists the new set);
    - otherwise (none and none, or the same set): None, nothing to do.
    """
    if open_cids is None:
        return "open" if now else None
    if not now:
        return "close"
    if now != open_cids:
        return "update"
    return None
