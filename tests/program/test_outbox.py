"""The outbox's payload types: every kind survives a JSON round trip, and what a build cannot
read (an unknown kind, version or field) is refused with a message naming it."""

from __future__ import annotations

import json

import pytest

from program.outbox import (
    ALERTS,
    EMAILS,
    CampaignDigest,
    CampaignReminder,
    CampaignRequest,
    Counts,
    DetailsFile,
    DigestFigure,
    GrievanceAck,
    GrievanceAlert,
    GrievanceFollowUpAck,
    GrievanceFollowUpAlert,
    HighRisk,
    Message,
    NeedsAttention,
    NonResponsive,
    NoTemplateReply,
    OutboxError,
    OwnerEscalation,
    OwnerEscalationDM,
    Previous,
    ProgramDigest,
    RateLimited,
    RemediationClosed,
    RemediationOpened,
    ReplyFile,
    RmapChange,
    RmapChanges,
    ScreeningReply,
    SenderMismatch,
    StaleList,
    Submission,
    SubmissionDetails,
    SubmissionFile,
    Undeliverable,
    decode,
    decode_alert,
    decode_email,
)

REQUEST = CampaignRequest(
    "pat@supplier.example.test",
    "Synthetic Ltd.",
    "2026 CMRT",
    "CMRT",
    "6.5",
    "2026-12-01",
    "<campaign.1.1@example.test>",
)
SAMPLES: list[tuple[str, Message]] = [
    (
        "email",
        ScreeningReply(
            to="pat@supplier.example.test",
            subject="Re: CMRT",
            in_reply_to="<m1@supplier.example.test>",
            references="<m0@supplier.example.test> <m1@supplier.example.test>",
            files=(
                ReplyFile("a.xlsx", "a" * 64, "survey.zip", Previous("b" * 64, "2026-05-01")),
                ReplyFile("c.xlsx", "c" * 64),
            ),
            notes=("scan.pdf is not a template",),
        ),
    ),
    ("email", NoTemplateReply(to="pat@supplier.example.test", subject="Re: hi", notes=("x",))),
    ("email", GrievanceAck("r@example.test", "GRV-2026-0001", "tok", "2026-06-30", "2026-07-30")),
    (
        "email",
        GrievanceFollowUpAck("r@example.test", "GRV-2026-0001", "tok", "2026-07-01", "2026-07-30"),
    ),
    ("alert", NeedsAttention("suppliers", "RuntimeError: synthetic bug")),
    ("alert", SenderMismatch("pat@supplier.example.test", "Synthetic Ltd.", "Other Ltd.")),
    ("alert", RateLimited("pat@supplier.example.test", 5)),
    (
        "alert",
        Submission(
            supplier="Synthetic Ltd.",
            files=(
                SubmissionFile("a.xlsx", "CMRT 6.5", "high", Counts(1, 2, 3, 4), "a" * 64, 2),
                SubmissionFile("old.xlsx", "CMRT 6.5", "high", Counts(), high_risk_smelters=("S",)),
            ),
            risk_level="high",
            via="Slack",
        ),
    ),
    (
        "alert",
        SubmissionDetails(
            supplier="Synthetic Ltd.",
            files=(
                DetailsFile(
                    "a.xlsx",
                    (HighRisk("CID000001", "Example Tin", "Tin", ("not RMAP conformant",)),),
                    ("Declaration!D15: required",),
                ),
            ),
            thread_of="alert:k:0",
        ),
    ),
    ("alert", GrievanceAlert("GRV-2026-0001", "2026-06-30", "child-labour", 1, 0)),
    ("alert", GrievanceFollowUpAlert("GRV-2026-0001", "2026-07-01")),
    ("alert", Undeliverable("no-template reply", "SMTPRecipientsRefused: 550", to_hash="ab" * 6)),
    ("alert", Undeliverable("grievance acknowledgement", "cannot build", case_id="GRV-2026-0001")),
    ("alert", StaleList("2026-01-01:rmap", "the RMAP list is 200 days old")),
    (
        "alert",
        RmapChanges(
            "2026-06-01:new",
            (RmapChange("CID000001", "conformant", "not conformant", ("Synthetic Ltd.",)),),
        ),
    ),
    ("email", REQUEST),
    (
        "email",
        CampaignReminder(
            "pat@supplier.example.test",
            "Synthetic Ltd.",
            "2026 CMRT",
            "CMRT",
            "6.5",
            "2026-12-01",
            ("your completed CMRT (version 6.5 or later)",),
            "<campaign.1.1@example.test>",
            "<campaign.1.1.r7@example.test>",
            overdue=True,
        ),
    ),
    (
        "email",
        OwnerEscalation(
            "buyer@example.test",
            "Synthetic Ltd.",
            "2026 CMRT",
            "2026-12-01",
            "escalated",
            ("a corrected CMRT",),
            2,
        ),
    ),
    (
        "alert",
        OwnerEscalationDM(
            "U0123ABCD", "Synthetic Ltd.", "2026 CMRT", "2026-12-01", "resubmit", ("x",), 3
        ),
    ),
    ("alert", RemediationOpened("Synthetic Ltd.", 7, ("CID000001", "CID000002"), "2026-05-02")),
    ("alert", RemediationClosed("Synthetic Ltd.", 7, "waived by Kim: supplier left the chain")),
    (
        "alert",
        CampaignDigest("2026 CMRT", "CMRT", 239, 212, 200, 0.887, "Greater than 75%", 9, 4, 2),
    ),
    ("alert", NonResponsive("2026 CMRT", "Synthetic Ltd.", "2026-12-29")),
    ("alert", ProgramDigest("2026-06-30", 0.9, (DigestFigure("overdue", "Overdue", "3"),), (), "")),
]


@pytest.mark.parametrize(
    ("channel", "payload"), SAMPLES, ids=[f"{type(p).__name__}" for _c, p in SAMPLES]
)
def test_every_kind_survives_a_json_round_trip(channel: str, payload: Message) -> None:
    text = payload.to_json()
    data = json.loads(text)
    assert data["kind"] == payload.KIND and data["version"] == payload.VERSION
    assert decode(text, channel) == payload
    assert decode(json.dumps(data), channel) == payload  # any key order


def test_every_kind_has_a_sample() -> None:
    assert {type(p) for _c, p in SAMPLES} == {*EMAILS.values(), *ALERTS.values()}


def test_the_follow_up_kind_means_one_thing_per_channel() -> None:
    ack = GrievanceFollowUpAck("r@example.test", "GRV-2026-0001", "tok", "2026-07-01", "2026-07-30")
    note = GrievanceFollowUpAlert("GRV-2026-0001", "2026-07-01")
    assert ack.KIND == note.KIND
    assert decode_email(ack.to_json()) == ack and decode_alert(note.to_json()) == note
    with pytest.raises(OutboxError, match="unknown field 'respond_by'"):
        decode_alert(ack.to_json())


def test_empty_optional_fields_are_left_out_as_before() -> None:
    data = json.loads(ScreeningReply(to="a@example.test", files=(ReplyFile("a", "b"),)).to_json())
    assert "previous" not in data["files"][0]
    assert "via" not in json.loads(Submission("S").to_json())
    assert set(json.loads(Undeliverable("reply", "x").to_json())) == {
        "kind",
        "version",
        "message",
        "error",
    }
    assert set(json.loads(StaleList("v", "m").to_json())) == {"kind", "version", "list", "message"}


#: Rows as the previous build wrote them (no version), one per shape that differs from today's.
V1_ROWS = [
    (
        "email",
        '{"kind": "screening-reply", "to": "pat@supplier.example.test", "subject": "Re: CMRT", '
        '"in_reply_to": "<m1@x.test>", "references": "<m1@x.test>", "files": [{"filename": '
        '"a.xlsx", "sha256": "aa", "origin": "", "previous": {"sha256": "bb", "date": '
        '"2026-05-01"}}], "notes": []}',
        ScreeningReply(
            "pat@supplier.example.test",
            "Re: CMRT",
            "<m1@x.test>",
            "<m1@x.test>",
            (ReplyFile("a.xlsx", "aa", "", Previous("bb", "2026-05-01")),),
        ),
    ),
    (
        "email",
        '{"kind": "no-template", "to": "p@x.test", "subject": "Re: hi", "in_reply_to": "", '
        '"references": "", "files": [], "notes": ["n"]}',
        NoTemplateReply("p@x.test", "Re: hi", notes=("n",)),
    ),
    (
        "alert",
        '{"kind": "submission", "supplier": "S", "files": [{"filename": "a.xlsx", "template": '
        '"CMRT 6.5", "risk_level": "high", "summary": {"error": 1, "risk": 2, "warning": 0}, '
        '"high_risk_smelters": ["Example Tin (CID000001)"]}], "risk_level": "high"}',
        Submission(
            "S",
            (
                SubmissionFile(
                    "a.xlsx",
                    "CMRT 6.5",
                    "high",
                    Counts(error=1, risk=2),
                    high_risk_smelters=("Example Tin (CID000001)",),
                ),
            ),
            "high",
        ),
    ),
    (
        "alert",
        '{"kind": "undeliverable", "error": "SMTPRecipientsRefused: 550", "message": '
        '"screening reply", "to_hash": "abcdefabcdef", "supplier": ""}',
        Undeliverable("screening reply", "SMTPRecipientsRefused: 550", to_hash="abcdefabcdef"),
    ),
    (
        "alert",
        '{"kind": "rmap-change", "list": "v2", "changes": [{"cid": "CID000001", "from": '
        '"conformant", "to": "active", "suppliers": []}]}',
        RmapChanges("v2", (RmapChange("CID000001", "conformant", "active"),)),
    ),
]


@pytest.mark.parametrize(("channel", "text", "expected"), V1_ROWS)
def test_a_row_written_before_versions_reads_as_version_1(
    channel: str, text: str, expected: Message
) -> None:
    assert "version" not in json.loads(text)
    assert decode(text, channel) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"kind": "sms", "to": "x"}', "unknown alert kind 'sms'"),
        ('{"to": "x"}', "unknown alert kind 'None'"),
        ('{"kind": "stale-list", "version": 2, "list": "v", "message": "m"}', "version 2 unknown"),
        ('{"kind": "stale-list", "version": "1", "list": "v", "message": "m"}', "version '1'"),
        ('{"kind": "stale-list", "version": true, "list": "v", "message": "m"}', "version True"),
        ('{"kind": "stale-list", "list": "v"}', "stale-list: field 'message' missing"),
        ('{"kind": "stale-list", "list": "v", "message": "m", "mesage": "m"}', "'mesage'"),
        ('{"kind": "rate-limited", "sender": "s", "limit": "5"}', "rate-limited.limit"),
        ('{"kind": "rate-limited", "sender": "s", "limit": true}', "rate-limited.limit"),
        ('{"kind": "submission", "supplier": "S", "files": {}}', "submission.files: a list"),
        ('{"kind": "submission", "supplier": "S", "files": ["a"]}', r"files\[0\]: an object"),
        ('{"kind": "submission", "supplier": 7}', "submission.supplier: text expected"),
        ("[1, 2]", "not a JSON object"),
        ("{not json", "not JSON"),
    ],
)
def test_what_cannot_be_read_is_refused_by_name(text: str, message: str) -> None:
    with pytest.raises(OutboxError, match=message):
        decode_alert(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"kind": "campaign-digest", "campaign": "C", "family": "CMRT", "suppliers": 2, '
            '"responded": 1, "accepted": 1, "response_rate": "0.5", "response_category": "x", '
            '"overdue": 0, "resubmit": 0, "escalated": 0}',
            "campaign-digest.response_rate: a number expected",
        ),
        (
            '{"kind": "campaign-digest", "campaign": "C", "family": "CMRT", "suppliers": 2, '
            '"responded": 1.5, "accepted": 1, "response_rate": 0.5, "response_category": "x", '
            '"overdue": 0, "resubmit": 0, "escalated": 0}',
            "campaign-digest.responded: a whole number expected",
        ),
        (
            '{"kind": "remediation-opened", "supplier": "S", "remediation_id": 1, '
            '"cids": "CID000001", "file_date": "2026-05-02"}',
            "remediation-opened.cids: a list expected",
        ),
        (
            '{"kind": "owner-escalation-dm", "slack_user": "U1", "supplier": "S", '
            '"campaign": "C", "deadline": "d", "status": "escalated", "missing": [], '
            '"reminders_sent": "2"}',
            "owner-escalation-dm.reminders_sent: a whole number expected",
        ),
        (
            '{"kind": "owner-escalation-dm", "slack_user": "U1", "supplier": "S", '
            '"campaign": "C", "deadline": "d", "status": "escalated", "missing": [], '
            '"reminders_sent": 2, "channel": "C0COMPLIANCE"}',
            "unknown field 'channel'",
        ),
        (
            '{"kind": "campaign-non-responsive", "campaign": "C", "supplier": "S"}',
            "field 'final_deadline' missing",
        ),
    ],
)
def test_a_campaign_alert_with_a_bad_field_is_refused(text: str, message: str) -> None:
    with pytest.raises(OutboxError, match=message):
        decode_alert(text)


def _reminder(**changes: object) -> str:
    data = json.loads(
        CampaignReminder(
            "p@x.test", "S", "C", "CMRT", "6.5", "2026-12-01", ("m",), "<a@x.test>", "<b@x.test>"
        ).to_json()
    )
    return json.dumps({**data, **changes})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"overdue": "yes"}, "campaign-reminder.overdue: true or false expected"),
        ({"overdue": 1}, "campaign-reminder.overdue: true or false expected"),
        ({"missing": "your CMRT"}, "campaign-reminder.missing: a list expected"),
        ({"missing": [3]}, r"campaign-reminder.missing\[0\]: text expected"),
        ({"in_reply_to": None}, "campaign-reminder.in_reply_to: text expected"),
        ({"message_id": None, "in_reply_to": "<a@x.test>"}, "message_id: text expected"),
        ({"references": "<a@x.test>"}, "unknown field 'references'"),
    ],
)
def test_a_campaign_e_mail_with_a_bad_field_is_refused(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(OutboxError, match=message):
        decode_email(_reminder(**changes))


def test_a_request_needs_its_message_id_and_a_reminder_defaults_to_not_overdue() -> None:
    data = json.loads(REQUEST.to_json())
    del data["message_id"]
    with pytest.raises(OutboxError, match="campaign-request: field 'message_id' missing"):
        decode_email(json.dumps(data))
    data = json.loads(_reminder())
    del data["overdue"]
    assert decode_email(json.dumps(data)) == decode_email(_reminder())
    assert decode_email(_reminder(overdue=True)) != decode_email(_reminder())


def test_a_whole_rate_reads_as_a_number() -> None:
    digest = CampaignDigest("C", "CMRT", 2, 2, 2, 1.0, "100%", 0, 0, 0)
    text = digest.to_json().replace('"response_rate": 1.0', '"response_rate": 1')
    decoded = decode_alert(text)
    assert isinstance(decoded, CampaignDigest) and decoded == digest
    assert isinstance(decoded.response_rate, float)


def test_an_acknowledgement_carrying_more_than_its_fields_is_refused() -> None:
    """Nothing of the reporter's message (a subject, a Message-ID) can ride along."""
    data = json.loads(
        GrievanceAck("r@example.test", "GRV-2026-0001", "tok", "2026-06-30", "2026-07-30").to_json()
    )
    with pytest.raises(OutboxError, match="unknown field 'subject'"):
        decode_email(json.dumps({**data, "subject": "Armed men at my village"}))


def test_an_unknown_channel_is_refused() -> None:
    with pytest.raises(OutboxError, match="channel"):
        decode(NeedsAttention("m", "r").to_json(), "pager")


def test_the_template_version_does_not_clash_with_the_schema_version() -> None:
    data = json.loads(REQUEST.to_json())
    assert data["version"] == 1 and data["template_version"] == "6.5"
    decoded = decode_email(REQUEST.to_json())
    assert isinstance(decoded, CampaignRequest) and decoded.version == "6.5"
