"""A survey campaign's rules: statuses, the reminder schedule, response rates and categories.

A campaign asks every supplier in it for one template family (CMRT, EMRT, CRT or AMRT) by a
deadline. Everything here is a pure decision on plain values: the store keeps what happened
(when the request went out, which reminder offsets were recorded, the files received), the
caller hands that in as a :class:`SupplierState`, and the functions answer "what is this
supplier's status?" and "what is due today?". The clock is a parameter (``as_of``, a
``datetime.date`` in the configured time zone); nothing here reads it.

**Dates, not times.** Reminders are due on a day, relative to the deadline
(:attr:`Schedule.reminder_days`, negative = before). Whatever hour the daily run happens at,
running it twice on one day, or on the next day after a missed run, gives the same answer.

**At most once.** A reminder offset, once recorded in :attr:`SupplierState.reminders`, is
never due again, and neither is any smaller offset: when a run was missed and two reminders
are due at once, only the latest is sent and the earlier ones are returned as *skipped* so
the caller records them too (a supplier never gets "14 days left" after "3 days left").
Recording is the store's job (one row per supplier and offset, unique), so a run killed
mid-send resumes without sending anything twice.

**Responses.** A supplier has responded when a readable file of the campaign's family arrived
(any number of errors); it is *accepted* when its latest such file has no error and is at
least the campaign's minimum template version. Grades and remediation rules live in
:mod:`program.grades` and are re-exported here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from plugins.versions import version_key
from program.grades import Grade, GradeFacts, grade, remediation_change

__all__ = [
    "CATEGORIES",
    "STATUSES",
    "Attempt",
    "Due",
    "Figures",
    "Grade",
    "GradeFacts",
    "Schedule",
    "SupplierState",
    "counts_as_response",
    "due_actions",
    "figures",
    "grade",
    "is_accepted",
    "latest_response",
    "meets_min_version",
    "remediation_change",
    "response_category",
    "still_missing",
    "supplier_status",
]

#: A supplier's status in a campaign, in life-cycle order (see :func:`supplier_status`).
STATUSES: tuple[str, ...] = (
    "not-sent",
    "requested",
    "reminded",
    "escalated",
    "resubmit",
    "accepted",
    "non-responsive",
    "out-of-scope",
)
#: The templates' own words for a response rate, best first (see :func:`response_category`).
CATEGORIES: tuple[str, ...] = (
    "100%",
    "Greater than 90%",
    "Greater than 75%",
    "Greater than 50%",
    "50% or less",
    "None",
)
#: Statuses of a supplier whose latest file is accepted: nothing more is asked of it.
DONE = frozenset({"accepted", "out-of-scope"})


def response_category(responded: int, total: int) -> str:
    """The category for ``responded`` of ``total``, compared exactly in integers.

    No response (or nobody asked) is "None"; all is "100%"; then strictly more than 90%,
    75% and 50% give "Greater than 90%", "Greater than 75%" and "Greater than 50%". So exactly
    90% is "Greater than 75%", exactly 75% is "Greater than 50%" and exactly 50% is
    "50% or less", as the category names say. No floats: 9 of 10 and 18 of 20 land alike.
    """
    if total <= 0 or responded <= 0:
        return "None"
    if responded >= total:
        return "100%"
    if responded * 10 > total * 9:
        return "Greater than 90%"
    if responded * 4 > total * 3:
        return "Greater than 75%"
    if responded * 2 > total:
        return "Greater than 50%"
    return "50% or less"


@dataclass(frozen=True)
class Schedule:
    """When a campaign's reminders and escalation fall, relative to its deadline."""

    deadline: dt.date
    final_deadline: dt.date
    escalate_after: int = 14
    reminder_days: tuple[int, ...] = (-14, -3, 7)

    def reminder_date(self, offset: int) -> dt.date:
        """The day of the reminder ``offset`` days from the deadline (negative = before)."""
        return self.deadline + dt.timedelta(days=offset)

    def escalation_date(self) -> dt.date:
        """The first day the supplier's internal owner is told: deadline + escalate_after."""
        return self.deadline + dt.timedelta(days=self.escalate_after)


@dataclass(frozen=True)
class Attempt:
    """One file a supplier sent during the campaign (any family, readable or not)."""

    sha256: str
    received: dt.date
    filename: str = ""
    readable: bool = True
    family: str = ""
    version: str = ""
    errors: int = 0
    risks: int = 0
    warnings: int = 0
    #: Codes of its error findings, for what a reminder says is missing.
    error_codes: tuple[str, ...] = ()
    #: Readable, and its declaration says none of the campaign's metals is used.
    no_metal_in_scope: bool = False
    #: Tied to the supplier by who sent it; an unverified file is an attempt, not a response.
    verified: bool = True


@dataclass(frozen=True)
class SupplierState:
    """What the store knows of one supplier in one campaign."""

    #: The day the request was sent; None while it has not been.
    requested_on: dt.date | None
    #: Reminder offsets already sent or skipped, e.g. (-14,).
    reminders: tuple[int, ...] = ()
    escalated_on: dt.date | None = None
    #: Oldest first; only files received on or after the campaign opened.
    attempts: tuple[Attempt, ...] = ()


def counts_as_response(a: Attempt, family: str) -> bool:
    """A readable, verified file of the campaign's family is a response, whatever its errors
    (a file e-mailed from an address the registry does not tie to the supplier, which only
    declares its name, is an attempt to look at, never its answer)."""
    return a.readable and a.verified and a.family == family


def latest_response(state: SupplierState, family: str) -> Attempt | None:
    """The newest attempt that counts as a response (attempts are oldest first)."""
    for attempt in reversed(state.attempts):
        if counts_as_response(attempt, family):
            return attempt
    return None


def meets_min_version(version: str, min_version: str) -> bool:
    """Whether a template ``version`` is at least ``min_version`` ("" = any version).

    Compared as RMI numbers versions (:func:`plugins.versions.version_key`): 6.31 < 6.4 < 6.5.
    A missing or unparseable version is older than any minimum.
    """
    if not min_version:
        return True
    return version_key(version) >= version_key(min_version)


def is_accepted(a: Attempt, min_version: str) -> bool:
    """Accepted: readable, no error, and at least the campaign's minimum template version.

    Risks and warnings do not stop acceptance: they are the supplier's answer, graded
    separately (:func:`program.grades.grade`).
    """
    return a.readable and a.errors == 0 and meets_min_version(a.version, min_version)


def _sent(state: SupplierState, as_of: dt.date) -> bool:
    # A request dated after ``as_of`` had not been sent on that day (a status as of an
    # earlier date must not depend on what happened later).
    return state.requested_on is not None and state.requested_on <= as_of


def supplier_status(
    schedule: Schedule,
    state: SupplierState,
    family: str,
    min_version: str,
    as_of: dt.date,
) -> str:
    """A supplier's status on ``as_of``, the first rule that applies:

    1. its latest response is accepted: "out-of-scope" when that file says none of the
       campaign's metals is used, else "accepted";
    2. its latest response is not accepted: "escalated" if its owner was told, else "resubmit"
       (a supplier who answered is never "non-responsive", even past the final deadline);
    3. no response, after the final deadline: "non-responsive" (only once the request was
       sent: a supplier never asked stays "not-sent");
    4. no response: "escalated" if its owner was told, "reminded" if a reminder was recorded,
       "requested" if the request was sent, else "not-sent".

    ``state.attempts`` are taken as given: a status as of an earlier day needs the caller
    to leave out files received after it.
    """
    latest = latest_response(state, family)
    if latest is not None:
        if is_accepted(latest, min_version):
            return "out-of-scope" if latest.no_metal_in_scope else "accepted"
        return "escalated" if state.escalated_on is not None else "resubmit"
    if not _sent(state, as_of):
        return "not-sent"
    if as_of > schedule.final_deadline:
        return "non-responsive"
    if state.escalated_on is not None:
        return "escalated"
    if state.reminders:
        return "reminded"
    return "requested"


@dataclass(frozen=True)
class Due:
    """What to do for one supplier today: at most one reminder, maybe the escalation."""

    #: The one reminder offset to send now (the latest due), or None.
    reminder: int | None = None
    #: Earlier due offsets not sent; record them so they are never sent later.
    skipped: tuple[int, ...] = ()
    escalate: bool = False


def due_actions(
    schedule: Schedule,
    state: SupplierState,
    family: str,
    min_version: str,
    as_of: dt.date,
) -> Due:
    """What is due for a supplier on ``as_of``.

    Nothing while the request has not been sent, and nothing once the supplier's latest
    response is accepted (or out of scope). Otherwise (no response yet, or a file to
    resubmit):

    - reminder offset ``k`` is due when its day has come (``reminder_date(k) <= as_of``),
      falls after the request (a supplier added late is not reminded of dates before it
      was asked), is not recorded yet and no larger offset is recorded either; the largest
      due ``k`` is sent and the smaller due ones are ``skipped``; no reminder at all after
      the final deadline;
    - escalation is due from ``escalation_date()`` up to the final deadline (inclusive),
      once: not when ``escalated_on`` is already set. A supplier asked late gets the same
      grace as the others: not before ``escalate_after`` days after its own request.
    """
    if not _sent(state, as_of) or state.requested_on is None:
        return Due()
    latest = latest_response(state, family)
    if latest is not None and is_accepted(latest, min_version):
        return Due()
    if as_of > schedule.final_deadline:
        return Due()
    requested_on = state.requested_on
    highest_recorded = max(state.reminders, default=None)
    due = [
        k
        for k in sorted(set(schedule.reminder_days))
        if requested_on < schedule.reminder_date(k) <= as_of
        and k not in state.reminders
        and (highest_recorded is None or k > highest_recorded)
    ]
    grace = requested_on + dt.timedelta(days=schedule.escalate_after)
    escalate = state.escalated_on is None and as_of >= max(schedule.escalation_date(), grace)
    if not due:
        return Due(escalate=escalate)
    return Due(reminder=due[-1], skipped=tuple(due[:-1]), escalate=escalate)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _article(family: str) -> str:
    # "an EMRT", "an AMRT", "a CMRT", "a CRT": read as letters, so a vowel sound first.
    return "an" if family[:1] in "AEFHILMNORSX" and family else "a"


def _file(a: Attempt) -> str:
    named = f" ({a.filename})" if a.filename else ""
    return f"your file of {a.received.isoformat()}{named}"


MAX_CODES = 5  # error codes named in one line of a reminder


def still_missing(family: str, latest: Attempt | None, min_version: str) -> tuple[str, ...]:
    """What a reminder says is still missing, as short plain sentences; () when nothing is.

    - nothing readable arrived: "your completed CMRT (version 6.5 or later)" (without the
      version when the campaign takes any), plus why the latest file did not count when one
      arrived (unreadable, or another template);
    - the latest response has errors: "a corrected CMRT: your file of 2026-05-02 (name.xlsx)
      still has 3 errors", then the errors' codes (up to five) when known;
    - its version is older than the minimum: "a CMRT in version 6.5 or later: your file of
      ... is version 6.31".

    File names are outside text: the renderer escapes them for where they go.
    """
    wanted = f"version {min_version} or later" if min_version else ""
    if latest is None or not counts_as_response(latest, family):
        completed = f"your completed {family}" + (f" ({wanted})" if wanted else "")
        if latest is None:
            return (completed,)
        why = "could not be read" if not latest.readable else f"is not {_article(family)} {family}"
        return (f"{completed}: {_file(latest)} {why}",)
    missing: list[str] = []
    if latest.errors:
        missing.append(
            f"a corrected {family}: {_file(latest)} still has {_plural(latest.errors, 'error')}"
        )
        codes = list(dict.fromkeys(latest.error_codes))
        if codes:
            more = len(codes) - MAX_CODES
            listed = ", ".join(codes[:MAX_CODES]) + (f" and {more} more" if more > 0 else "")
            missing.append(f"the errors to correct: {listed}")
    if not meets_min_version(latest.version, min_version):
        version = f"is version {latest.version}" if latest.version else "has no version"
        missing.append(f"{_article(family)} {family} in {wanted}: {_file(latest)} {version}")
    return tuple(missing)


@dataclass(frozen=True)
class Figures:
    """A campaign's (or one metal's) response figures."""

    suppliers: int
    responded: int
    accepted: int
    response_rate: float
    response_category: str


def figures(statuses: Sequence[tuple[str, bool]]) -> Figures:
    """Figures from one ``(status, responded)`` pair per supplier.

    ``response_rate`` is responded / suppliers rounded to 4 places (0.0 with no supplier);
    ``accepted`` counts "accepted" and "out-of-scope"; the category comes from the exact
    counts (:func:`response_category`), never from the rounded rate.
    """
    suppliers = len(statuses)
    responded = sum(1 for _, answered in statuses if answered)
    accepted = sum(1 for status, _ in statuses if status in DONE)
    rate = round(responded / suppliers, 4) if suppliers else 0.0
    return Figures(
        suppliers=suppliers,
        responded=responded,
        accepted=accepted,
        response_rate=rate,
        response_category=response_category(responded, suppliers),
    )
