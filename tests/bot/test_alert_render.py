"""The compliance channel's alert renderer as a pure function: one alert in, one text out."""

from __future__ import annotations

import pytest

from bot.alerts import POST_MAX, render_alert
from program.outbox import (
    Alert,
    Counts,
    DetailsFile,
    GrievanceAlert,
    GrievanceFollowUpAlert,
    HighRisk,
    NeedsAttention,
    RateLimited,
    RmapChange,
    RmapChanges,
    SenderMismatch,
    StaleList,
    Submission,
    SubmissionDetails,
    SubmissionFile,
    Undeliverable,
)

FORGED = "<!channel> <http://evil.example|click me>"
POST = Submission(
    supplier="Synthetic Components Ltd.",
    files=(SubmissionFile("cmrt.xlsx", "CMRT 6.5", "high", Counts(1, 2, 3), "a" * 64, 2),),
    risk_level="high",
)
DETAILS = SubmissionDetails(
    supplier="Synthetic Components Ltd.",
    files=(
        DetailsFile(
            "cmrt.xlsx",
            (HighRisk("CID000001", "Example Tin Works", "Tin", ("not RMAP conformant",)),),
            ("Declaration!D15: required",),
        ),
        DetailsFile("clean.xlsx"),
    ),
    thread_of="alert:k:0",
)


@pytest.mark.parametrize(
    ("alert", "expected"),
    [
        (
            POST,
            "[submission] Synthetic Components Ltd.: cmrt.xlsx (CMRT 6.5): HIGH — 1 error, "
            "2 risk, 3 warning; 2 high-risk smelter(s), details below",
        ),
        (
            DETAILS,
            "[details] Synthetic Components Ltd.\ncmrt.xlsx:\n"
            "  high-risk: CID000001 Example Tin Works (Tin): not RMAP conformant\n"
            "  to correct: Declaration!D15: required",
        ),
        (
            GrievanceAlert("GRV-2026-0001", "2026-06-30", "child-labour", 1, 0),
            "[grievance] new case GRV-2026-0001 received 2026-06-30, category child-labour "
            "(details: assay grievance show GRV-2026-0001)",
        ),
        (
            GrievanceFollowUpAlert("GRV-2026-0001", "2026-07-01"),
            "[grievance] follow-up on GRV-2026-0001 received 2026-07-01",
        ),
        (
            SenderMismatch("pat@supplier.example.test", "Synthetic Ltd.", "Other Ltd."),
            "[warning] pat@supplier.example.test (supplier Synthetic Ltd.) sent a declaration "
            "for “Other Ltd.”",
        ),
        (
            RateLimited("pat@supplier.example.test", 5),
            "[warning] replies to pat@supplier.example.test paused: more than 5 in an hour "
            "(a mail loop?)",
        ),
        (
            RmapChanges("v2", (RmapChange("CID000001", "conformant", "active", ("S1", "S2")),)),
            "[rmap] new RMAP list v2: 1 smelter(s) in suppliers' lists changed standing\n"
            "  CID000001: conformant -> active; listed by S1, S2",
        ),
        (StaleList("v1", "the RMAP list is old"), "[reference] the RMAP list is old"),
        (
            NeedsAttention("suppliers", "a message of 60 MB, over the limit"),
            "[attention] suppliers: a message could not be handled (a message of 60 MB, over "
            "the limit); it is in 'Needs attention'",
        ),
        (
            Undeliverable("grievance acknowledgement", "cannot build", case_id="GRV-2026-0001"),
            "[undeliverable] a grievance acknowledgement for case GRV-2026-0001 could not be "
            "delivered and was given up (cannot build)",
        ),
        (
            Undeliverable("screening reply", "550", supplier="Synthetic Ltd.", to_hash="abc"),
            "[undeliverable] a screening reply to Synthetic Ltd. (recipient #abc) could not be "
            "delivered and was given up (550)",
        ),
        (
            Undeliverable("no-template reply", "550", to_hash="abc"),
            "[undeliverable] a no-template reply to recipient #abc could not be delivered and "
            "was given up (550)",
        ),
    ],
    ids=lambda x: type(x).__name__ if not isinstance(x, str) else "",
)
def test_each_kind_on_the_console(alert: Alert, expected: str) -> None:
    assert render_alert(alert) == expected


def test_a_post_in_slack_points_to_its_thread_and_the_thread_skips_the_supplier() -> None:
    assert render_alert(POST, slack=True).endswith("details in the thread")
    threaded = render_alert(DETAILS, slack=True, threaded=True)
    assert threaded.startswith("cmrt.xlsx:") and "[details]" not in threaded
    alone = render_alert(DETAILS, slack=True)  # its post was given up: it names the supplier
    assert alone.startswith("[details] Synthetic Components Ltd.")


def test_via_and_an_unknown_supplier() -> None:
    text = render_alert(Submission("", POST.files, via="Slack"))
    assert text.startswith("[submission] unknown supplier (via Slack): cmrt.xlsx")


def test_outside_text_cannot_ping_or_link_in_slack_and_stays_plain_on_the_console() -> None:
    alert = SenderMismatch(FORGED, FORGED, f"{FORGED}\r\n[grievance] fake line")
    slack = render_alert(alert, slack=True)
    assert "<!channel>" not in slack and "<http" not in slack and "\n" not in slack
    assert "&lt;!channel&gt; &lt;http://evil.example|click me&gt;" in slack
    assert FORGED in render_alert(alert)


def test_posts_and_lists_are_bounded() -> None:
    files = tuple(
        SubmissionFile(f"f{i}.xlsx", "CMRT 6.5", "low", Counts(warning=1)) for i in range(30)
    )
    text = render_alert(Submission("S", files))
    assert text.endswith("…and 20 more") and "f10.xlsx" not in text
    huge = render_alert(StaleList("v", "x" * 10_000), slack=True)
    assert len(huge) <= POST_MAX
    changes = tuple(RmapChange(f"CID{i:06d}", "a", "b") for i in range(25))
    rmap = render_alert(RmapChanges("v", changes))
    assert "listed by no named supplier" in rmap and "…and 5 more (assay smelter CID)" in rmap


def test_a_slack_post_cut_at_its_bound_never_ends_in_half_an_escape() -> None:
    files = tuple(SubmissionFile("&" * 300, "CMRT 6.5", "low", Counts()) for _ in range(10))
    text = render_alert(Submission("S", files), slack=True)
    assert len(text) <= POST_MAX and text.endswith("&amp;…")
