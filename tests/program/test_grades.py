"""What is said of one supplier: what it still owes (:func:`program.campaign.still_missing`),
its grade with reasons (:func:`program.grades.grade`), and when a remediation opens, changes
or closes (:func:`program.grades.remediation_change`).

Pure tests on values built in code; grades are reached through :mod:`program.campaign`, which
re-exports them, as the callers do.
"""

from __future__ import annotations

import datetime as dt

import pytest

from program.campaign import Attempt, Grade, GradeFacts, grade, remediation_change, still_missing


def attempt(
    *, errors: int = 0, version: str = "6.5", family: str = "CMRT", **kw: object
) -> Attempt:
    fields: dict = {"sha256": "ab" * 32, "received": dt.date(2026, 5, 2), "filename": "name.xlsx"}
    fields.update(kw)
    return Attempt(family=family, version=version, errors=errors, **fields)


# -- what is still missing -------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "latest", "minimum", "expected"),
    [
        ("CMRT", None, "6.5", ("your completed CMRT (version 6.5 or later)",)),
        ("CMRT", None, "", ("your completed CMRT",)),
        (
            "CMRT",
            attempt(errors=3),
            "6.5",
            ("a corrected CMRT: your file of 2026-05-02 (name.xlsx) still has 3 errors",),
        ),
        (
            "CMRT",
            attempt(errors=1, filename=""),
            "",
            ("a corrected CMRT: your file of 2026-05-02 still has 1 error",),
        ),
        (
            "CMRT",
            attempt(version="6.31"),
            "6.5",
            (
                "a CMRT in version 6.5 or later: your file of 2026-05-02 (name.xlsx) is version 6.31",
            ),
        ),
        (
            "EMRT",
            attempt(version="", family="EMRT"),
            "2.0",
            (
                "an EMRT in version 2.0 or later: your file of 2026-05-02 (name.xlsx) has no version",
            ),
        ),
        (
            "CMRT",
            attempt(readable=False),
            "6.5",
            (
                "your completed CMRT (version 6.5 or later): your file of 2026-05-02 "
                "(name.xlsx) could not be read",
            ),
        ),
        (
            "CMRT",
            attempt(family="EMRT"),
            "",
            ("your completed CMRT: your file of 2026-05-02 (name.xlsx) is not a CMRT",),
        ),
        (
            "EMRT",
            attempt(family="CMRT"),
            "",
            ("your completed EMRT: your file of 2026-05-02 (name.xlsx) is not an EMRT",),
        ),
        ("CMRT", attempt(), "6.5", ()),
    ],
)
def test_still_missing(
    family: str, latest: Attempt | None, minimum: str, expected: tuple[str, ...]
) -> None:
    assert still_missing(family, latest, minimum) == expected


def test_still_missing_names_the_errors_and_an_old_version_together() -> None:
    codes = ("a-1", "a-2", "a-1", "a-3", "a-4", "a-5", "a-6", "a-7")
    latest = attempt(errors=8, version="6.31", error_codes=codes)
    assert still_missing("CMRT", latest, "6.5") == (
        "a corrected CMRT: your file of 2026-05-02 (name.xlsx) still has 8 errors",
        "the errors to correct: a-1, a-2, a-3, a-4, a-5 and 2 more",
        "a CMRT in version 6.5 or later: your file of 2026-05-02 (name.xlsx) is version 6.31",
    )


# -- grades ------------------------------------------------------------------------------

CIDS = tuple(f"CID00{i}" for i in range(1, 8))


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (GradeFacts("accepted"), Grade("low", ())),
        (GradeFacts("requested"), Grade("low", ())),
        (GradeFacts("reminded"), Grade("low", ())),
        (GradeFacts("out-of-scope"), Grade("low", ())),
        (
            GradeFacts("accepted", risk_findings=("mine-in-cahra: Tin from a CAHRA",)),
            Grade("high", ("1 risk finding in the latest file: mine-in-cahra: Tin from a CAHRA",)),
        ),
        (
            GradeFacts("accepted", not_conformant=CIDS[:3]),
            Grade("high", ("3 smelters not RMAP conformant: CID001, CID002, CID003",)),
        ),
        (
            GradeFacts("accepted", not_conformant=CIDS),
            Grade(
                "high",
                (
                    "7 smelters not RMAP conformant: CID001, CID002, CID003, CID004, CID005 "
                    "and 2 more",
                ),
            ),
        ),
        (
            GradeFacts("non-responsive"),
            Grade("high", ("no file received by the campaign's final deadline",)),
        ),
        (
            GradeFacts("accepted", grievances=("G-7",)),
            Grade("high", ("1 grievance under investigation: G-7",)),
        ),
        (
            GradeFacts("accepted", open_errors=2),
            Grade("medium", ("2 errors open in the latest file",)),
        ),
        (
            GradeFacts("accepted", low_response=("Tin", "Gold")),
            Grade("medium", ("its own suppliers' response rate is 50% or less for Tin, Gold",)),
        ),
        (
            GradeFacts("accepted", active_only=("CID009",)),
            Grade("medium", ("1 smelter active in RMAP but not yet conformant: CID009",)),
        ),
        (
            GradeFacts("accepted", outdated=True),
            Grade("medium", ("its declaration uses an outdated template version",)),
        ),
        (
            GradeFacts("accepted", stale=True),
            Grade("medium", ("its declaration is stale (older than the configured limit)",)),
        ),
        (
            GradeFacts("resubmit"),
            Grade("medium", ("a corrected file was asked for and has not arrived",)),
        ),
        (
            GradeFacts("escalated"),
            Grade(
                "medium",
                ("escalated to its internal owner: no accepted file after the deadline",),
            ),
        ),
    ],
)
def test_grade_table(facts: GradeFacts, expected: Grade) -> None:
    assert grade(facts) == expected


def test_grade_lists_every_reason_high_ones_first() -> None:
    facts = GradeFacts(
        "resubmit",
        open_errors=1,
        stale=True,
        not_conformant=("CID002", "CID001", "CID002"),  # counted once, order kept
        grievances=("G-1", "G-2"),
    )
    assert grade(facts) == Grade(
        "high",
        (
            "2 smelters not RMAP conformant: CID002, CID001",
            "2 grievances under investigation: G-1, G-2",
            "1 error open in the latest file",
            "its declaration is stale (older than the configured limit)",
            "a corrected file was asked for and has not arrived",
        ),
    )


# -- remediation -------------------------------------------------------------------------

A, B = frozenset({"CID001"}), frozenset({"CID002"})


@pytest.mark.parametrize(
    ("open_cids", "now", "change"),
    [
        (None, A, "open"),
        (A, frozenset(), "close"),
        (A, B, "update"),
        (A, A | B, "update"),
        (A, frozenset({"CID001"}), None),
        (None, frozenset(), None),
    ],
)
def test_remediation_change(
    open_cids: frozenset[str] | None, now: frozenset[str], change: str | None
) -> None:
    assert remediation_change(open_cids, now) == change
