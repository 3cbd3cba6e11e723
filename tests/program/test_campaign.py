"""Campaign rules: response categories, figures, the reminder schedule, statuses.

Pure tests of :mod:`program.campaign` on values built in code (what a supplier still owes,
grades and remediation are in ``test_grades.py``). The schedule tests replay a campaign day by day, recording what is
due the way the store does, so "never twice" and "skipped" are checked as a run sees them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from program.campaign import (
    CATEGORIES,
    STATUSES,
    Attempt,
    Due,
    Figures,
    Schedule,
    SupplierState,
    counts_as_response,
    due_actions,
    figures,
    is_accepted,
    latest_response,
    meets_min_version,
    response_category,
    supplier_status,
)

D = dt.date
DEADLINE = D(2026, 6, 1)
SCHEDULE = Schedule(deadline=DEADLINE, final_deadline=D(2026, 6, 29))
REQUESTED = SupplierState(requested_on=D(2026, 5, 1))


def attempt(
    *, errors: int = 0, version: str = "6.5", family: str = "CMRT", **kw: object
) -> Attempt:
    fields: dict = {"sha256": "ab" * 32, "received": D(2026, 5, 2), "filename": "name.xlsx"}
    fields.update(kw)
    return Attempt(family=family, version=version, errors=errors, **fields)


def with_files(state: SupplierState, *files: Attempt) -> SupplierState:
    return replace(state, attempts=files)


def status(state: SupplierState, as_of: dt.date, min_version: str = "6.5") -> str:
    return supplier_status(SCHEDULE, state, "CMRT", min_version, as_of)


def due(state: SupplierState, as_of: dt.date, schedule: Schedule = SCHEDULE) -> Due:
    return due_actions(schedule, state, "CMRT", "6.5", as_of)


def replay(
    state: SupplierState, start: dt.date, end: dt.date, schedule: Schedule = SCHEDULE
) -> list[tuple[dt.date, str, int | None]]:
    """Run every day from start to end (twice a day), recording what is sent as the store would."""
    log: list[tuple[dt.date, str, int | None]] = []
    day = start
    while day <= end:
        for _ in range(2):
            action = due(state, day, schedule)
            if action.reminder is not None:
                log.append((day, "reminder", action.reminder))
                log.extend((day, "skipped", k) for k in action.skipped)
                recorded = (*state.reminders, *action.skipped, action.reminder)
                state = replace(state, reminders=recorded)
            if action.escalate:
                log.append((day, "escalation", None))
                state = replace(state, escalated_on=day)
        day += dt.timedelta(days=1)
    return log


# -- response categories ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("responded", "total", "category"),
    [
        (10, 10, "100%"),
        (1, 1, "100%"),
        (239, 239, "100%"),
        (91, 100, "Greater than 90%"),
        (99, 100, "Greater than 90%"),
        (9, 10, "Greater than 75%"),  # exactly 90%
        (18, 20, "Greater than 75%"),  # exactly 90%
        (90, 100, "Greater than 75%"),
        (76, 100, "Greater than 75%"),
        (3, 4, "Greater than 50%"),  # exactly 75%
        (75, 100, "Greater than 50%"),
        (3, 5, "Greater than 50%"),
        (51, 100, "Greater than 50%"),
        (1, 2, "50% or less"),  # exactly 50%
        (50, 100, "50% or less"),
        (1, 100, "50% or less"),
        (0, 10, "None"),
        (0, 0, "None"),
    ],
)
def test_response_category_boundaries(responded: int, total: int, category: str) -> None:
    assert response_category(responded, total) == category
    assert category in CATEGORIES


def test_vocabularies_are_in_the_documented_order() -> None:
    assert STATUSES == (
        "not-sent",
        "requested",
        "reminded",
        "escalated",
        "resubmit",
        "accepted",
        "non-responsive",
        "out-of-scope",
    )
    assert CATEGORIES == (
        "100%",
        "Greater than 90%",
        "Greater than 75%",
        "Greater than 50%",
        "50% or less",
        "None",
    )


def test_figures_count_responses_and_accepted_files() -> None:
    rows = [
        ("accepted", True),
        ("resubmit", True),
        ("out-of-scope", True),
        ("requested", False),
        ("reminded", False),
    ]
    assert figures(rows) == Figures(5, 3, 2, 0.6, "Greater than 50%")
    assert figures([("accepted", True), ("requested", False), ("escalated", False)]) == Figures(
        3, 1, 1, 0.3333, "50% or less"
    )
    assert figures([]) == Figures(0, 0, 0, 0.0, "None")


def test_category_comes_from_exact_counts_not_the_rounded_rate() -> None:
    # 99,999 of 100,000 rounds to 1.0 but is not everyone.
    result = figures([("accepted", True)] * 99_999 + [("requested", False)])
    assert result.response_rate == 1.0
    assert result.response_category == "Greater than 90%"


# -- versions, responses, acceptance -----------------------------------------------------


@pytest.mark.parametrize(
    ("version", "minimum", "ok"),
    [
        ("6.31", "6.4", False),
        ("6.4", "6.5", False),
        ("6.31", "6.5", False),
        ("6.5", "6.4", True),
        ("6.4", "6.31", True),
        ("6.5", "6.5", True),
        ("6.31", "6.31", True),
        ("", "6.5", False),
        ("6.1", "", True),
        ("", "", True),
    ],
)
def test_min_version_compares_as_rmi_numbers(version: str, minimum: str, ok: bool) -> None:
    assert meets_min_version(version, minimum) is ok
    assert is_accepted(attempt(version=version), minimum) is ok


def test_acceptance_needs_a_readable_file_without_errors() -> None:
    assert is_accepted(attempt(risks=4, warnings=9), "6.5")
    assert not is_accepted(attempt(errors=1), "6.5")
    assert not is_accepted(attempt(readable=False), "")


def test_a_response_is_a_readable_file_of_the_campaign_family() -> None:
    assert counts_as_response(attempt(errors=12), "CMRT")
    assert not counts_as_response(attempt(family="EMRT"), "CMRT")
    assert not counts_as_response(attempt(readable=False), "CMRT")
    first, second = attempt(sha256="1" * 64), attempt(sha256="2" * 64, errors=2)
    unreadable = attempt(sha256="3" * 64, readable=False)
    state = with_files(REQUESTED, first, second, unreadable, attempt(family="EMRT"))
    assert latest_response(state, "CMRT") == second
    assert latest_response(REQUESTED, "CMRT") is None


# -- statuses ----------------------------------------------------------------------------

MAY_20, JUNE_20, JULY_1 = D(2026, 5, 20), D(2026, 6, 20), D(2026, 7, 1)
ESCALATED = replace(REQUESTED, reminders=(-14, -3, 7), escalated_on=D(2026, 6, 15))


@pytest.mark.parametrize(
    ("state", "as_of", "expected"),
    [
        (SupplierState(requested_on=None), MAY_20, "not-sent"),
        (SupplierState(requested_on=None), JULY_1, "not-sent"),  # never asked, never silent
        (SupplierState(requested_on=D(2026, 5, 21)), MAY_20, "not-sent"),  # asked later
        (REQUESTED, MAY_20, "requested"),
        (replace(REQUESTED, reminders=(-14,)), MAY_20, "reminded"),
        (ESCALATED, JUNE_20, "escalated"),
        (ESCALATED, D(2026, 6, 29), "escalated"),  # the final deadline itself
        (ESCALATED, D(2026, 6, 30), "non-responsive"),
        (REQUESTED, JULY_1, "non-responsive"),
        (with_files(REQUESTED, attempt(family="EMRT")), JULY_1, "non-responsive"),
        (with_files(REQUESTED, attempt(readable=False)), MAY_20, "requested"),
        (with_files(REQUESTED, attempt()), MAY_20, "accepted"),
        (with_files(ESCALATED, attempt()), JULY_1, "accepted"),
        (with_files(REQUESTED, attempt(no_metal_in_scope=True)), MAY_20, "out-of-scope"),
        (with_files(REQUESTED, attempt(errors=3)), MAY_20, "resubmit"),
        (with_files(REQUESTED, attempt(errors=3)), JULY_1, "resubmit"),  # answered: not silent
        (with_files(REQUESTED, attempt(version="6.31")), MAY_20, "resubmit"),
        (with_files(ESCALATED, attempt(errors=3)), JUNE_20, "escalated"),
        (with_files(REQUESTED, attempt(), attempt(errors=1)), MAY_20, "resubmit"),
        (with_files(REQUESTED, attempt(errors=1), attempt()), MAY_20, "accepted"),
        (with_files(REQUESTED, attempt(), attempt(readable=False)), MAY_20, "accepted"),
        # an unsolicited file before the request still answers it
        (with_files(SupplierState(requested_on=None), attempt()), MAY_20, "accepted"),
    ],
)
def test_status_precedence(state: SupplierState, as_of: dt.date, expected: str) -> None:
    assert status(state, as_of) == expected
    assert expected in STATUSES


def test_status_without_a_minimum_version_accepts_any() -> None:
    state = with_files(REQUESTED, attempt(version="6.01"))
    assert status(state, MAY_20, min_version="") == "accepted"
    assert status(state, MAY_20, min_version="6.5") == "resubmit"


# -- schedule ------------------------------------------------------------------------------


def test_schedule_dates_are_relative_to_the_deadline() -> None:
    assert SCHEDULE.reminder_date(-14) == D(2026, 5, 18)
    assert SCHEDULE.reminder_date(-3) == D(2026, 5, 29)
    assert SCHEDULE.reminder_date(7) == D(2026, 6, 8)
    assert SCHEDULE.escalation_date() == D(2026, 6, 15)
    assert replace(SCHEDULE, escalate_after=3).escalation_date() == D(2026, 6, 4)


def test_a_silent_supplier_gets_each_reminder_on_its_day_once_then_the_escalation() -> None:
    log = replay(REQUESTED, D(2026, 5, 1), D(2026, 8, 1))
    assert log == [
        (D(2026, 5, 18), "reminder", -14),
        (D(2026, 5, 29), "reminder", -3),
        (D(2026, 6, 8), "reminder", 7),
        (D(2026, 6, 15), "escalation", None),
    ]


def test_reminder_days_in_any_order_give_the_same_schedule() -> None:
    shuffled = replace(SCHEDULE, reminder_days=(7, -3, -14, 7))
    assert replay(REQUESTED, D(2026, 5, 1), D(2026, 8, 1), shuffled) == replay(
        REQUESTED, D(2026, 5, 1), D(2026, 8, 1)
    )


def test_nothing_is_due_before_the_request() -> None:
    never_sent = SupplierState(requested_on=None)
    assert replay(never_sent, D(2026, 5, 1), D(2026, 8, 1)) == []
    assert due(SupplierState(requested_on=D(2026, 6, 9)), D(2026, 6, 8)) == Due()


def test_a_reminder_is_due_on_its_day_not_before() -> None:
    assert due(REQUESTED, D(2026, 5, 17)) == Due()
    assert due(REQUESTED, D(2026, 5, 18)) == Due(reminder=-14)
    assert due(replace(REQUESTED, reminders=(-14,)), D(2026, 5, 18)) == Due()


def test_after_missed_runs_only_the_latest_due_reminder_is_sent() -> None:
    assert due(REQUESTED, D(2026, 6, 10)) == Due(reminder=7, skipped=(-14, -3))
    assert due(replace(REQUESTED, reminders=(-14,)), D(2026, 6, 10)) == Due(
        reminder=7, skipped=(-3,)
    )
    log = replay(REQUESTED, D(2026, 6, 10), D(2026, 8, 1))
    assert log == [
        (D(2026, 6, 10), "reminder", 7),
        (D(2026, 6, 10), "skipped", -14),
        (D(2026, 6, 10), "skipped", -3),
        (D(2026, 6, 15), "escalation", None),
    ]


def test_an_earlier_reminder_is_never_sent_after_a_later_one() -> None:
    # -3 was recorded (a run on its day) but -14 never was: -14 is not due any more.
    assert due(replace(REQUESTED, reminders=(-3,)), D(2026, 5, 30)) == Due()


def test_a_supplier_added_late_is_not_reminded_of_dates_before_its_request() -> None:
    late = SupplierState(requested_on=D(2026, 5, 29))  # the day of the -3 reminder
    assert due(late, D(2026, 5, 29)) == Due()
    assert due(late, D(2026, 6, 8)) == Due(reminder=7)
    log = replay(late, D(2026, 5, 29), D(2026, 8, 1))
    assert log == [(D(2026, 6, 8), "reminder", 7), (D(2026, 6, 15), "escalation", None)]


def test_no_reminder_or_escalation_after_the_final_deadline() -> None:
    assert due(REQUESTED, D(2026, 6, 29)) == Due(reminder=7, skipped=(-14, -3), escalate=True)
    assert due(REQUESTED, D(2026, 6, 30)) == Due()
    beyond = replace(SCHEDULE, reminder_days=(-14, 7, 35))  # day 35 is after the final deadline
    log = replay(REQUESTED, D(2026, 5, 1), D(2026, 9, 1), beyond)
    assert [entry[2] for entry in log if entry[1] == "reminder"] == [-14, 7]


def test_escalation_is_due_from_its_day_and_only_once() -> None:
    reminded = replace(REQUESTED, reminders=(-14, -3, 7))
    assert not due(reminded, D(2026, 6, 14)).escalate
    assert due(reminded, D(2026, 6, 15)) == Due(escalate=True)
    assert due(reminded, D(2026, 6, 20)) == Due(escalate=True)  # a missed run catches up
    assert due(replace(reminded, escalated_on=D(2026, 6, 15)), D(2026, 6, 16)) == Due()


def test_an_accepted_supplier_gets_nothing() -> None:
    for done in (attempt(), attempt(no_metal_in_scope=True)):
        state = with_files(REQUESTED, done)
        assert replay(state, D(2026, 5, 1), D(2026, 8, 1)) == []


def test_an_accepted_file_stops_what_was_still_to_come() -> None:
    state = with_files(replace(REQUESTED, reminders=(-14,)), attempt(received=D(2026, 5, 20)))
    assert replay(state, D(2026, 5, 20), D(2026, 8, 1)) == []


@pytest.mark.parametrize(
    "file",
    [
        attempt(errors=2),  # resubmit
        attempt(version="6.31"),  # older than the minimum
        attempt(family="EMRT"),  # not an answer
        attempt(readable=False),  # not an answer
    ],
)
def test_a_supplier_without_an_accepted_file_is_still_reminded_and_escalated(
    file: Attempt,
) -> None:
    log = replay(with_files(REQUESTED, file), D(2026, 5, 1), D(2026, 8, 1))
    assert [(entry[1], entry[2]) for entry in log] == [
        ("reminder", -14),
        ("reminder", -3),
        ("reminder", 7),
        ("escalation", None),
    ]


def test_a_supplier_asked_after_the_escalation_day_gets_the_same_grace() -> None:
    sched = Schedule(D(2026, 6, 1), D(2026, 7, 1), escalate_after=14)  # escalation day 06-15
    late = SupplierState(requested_on=D(2026, 6, 20))
    assert not due_actions(sched, late, "CMRT", "", D(2026, 6, 20)).escalate
    assert not due_actions(sched, late, "CMRT", "", D(2026, 7, 3)).escalate
    assert due_actions(sched, late, "CMRT", "", D(2026, 7, 4)).escalate is False  # past final
    sched_long = Schedule(D(2026, 6, 1), D(2026, 8, 1), escalate_after=14)
    assert not due_actions(sched_long, late, "CMRT", "", D(2026, 7, 3)).escalate
    assert due_actions(sched_long, late, "CMRT", "", D(2026, 7, 4)).escalate
