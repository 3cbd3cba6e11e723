"""A campaign's e-mails: the pure renderers (request, reminder, owner escalation) and the
messages the mailer builds from their outbox rows (Message-ID, threading, Auto-Submitted)."""

from __future__ import annotations

from dataclasses import replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.email_campaign import (
    RMI_TEMPLATES,
    escalation_subject,
    render_campaign_reminder,
    render_campaign_request,
    render_owner_escalation,
    request_subject,
)
from bot.mailer import EmailNotifier, SmtpSettings
from bot.reply_view import ReplyStyle
from program.outbox import (
    CampaignReminder,
    CampaignRequest,
    Email,
    NoTemplateReply,
    OwnerEscalation,
    Undeliverable,
    decode_alert,
)
from storage.mail import OutboxItem
from storage.store import Store

STYLE = ReplyStyle("Compliance desk\nExample Corp", "compliance@example.test")
REQUEST = CampaignRequest(
    to="pat@supplier.example.test",
    supplier="Synthetic Components Ltd.",
    campaign="2026 CMRT",
    family="CMRT",
    version="6.5",
    deadline="2026-12-01",
    message_id="<campaign.1.7.request@example.test>",
)
MISSING = (
    "a corrected CMRT: your file of 2026-11-20 (cmrt.xlsx) still has 3 errors",
    "the smelter list of that file",
)
REMINDER = CampaignReminder(
    to="pat@supplier.example.test",
    supplier="Synthetic Components Ltd.",
    campaign="2026 CMRT",
    family="CMRT",
    version="6.5",
    deadline="2026-12-01",
    missing=MISSING,
    in_reply_to="<campaign.1.7.request@example.test>",
    message_id="<campaign.1.7.reminder-3@example.test>",
)
ESCALATION = OwnerEscalation(
    to="buyer@example.test",
    supplier="Synthetic Components Ltd.",
    campaign="2026 CMRT",
    deadline="2026-12-01",
    status="escalated",
    missing=MISSING[:1],
    reminders_sent=2,
)
HOSTILE = '<script>alert(1)</script> *bold* <!channel> & "quoted"\r\nBcc: victim@example.test'


# -- the renderers ---------------------------------------------------------------------------


def test_a_request_names_the_template_its_version_the_deadline_and_how_to_answer() -> None:
    text, html = render_campaign_request(REQUEST, STYLE)
    for part in (text, html):
        assert "the completed CMRT (Conflict Minerals Reporting Template) of " in part
        assert "in version 6.5 or later" in part
        assert "Synthetic Components Ltd." in part
        assert "2026-12-01" in part
        assert "2026 CMRT" in part
        assert RMI_TEMPLATES in part
        assert "reply to this e-mail with the completed file attached" in part
        assert "Compliance desk" in part and "Example Corp" in part  # the signature
    assert f'<a href="{RMI_TEMPLATES}">' in html
    assert "Reply by: 2026-12-01" in text


@pytest.mark.parametrize(
    ("family", "version", "words"),
    [
        ("EMRT", "2.0", "EMRT (Extended Minerals Reporting Template), version 2.0 or later"),
        ("CMRT", "", "CMRT (Conflict Minerals Reporting Template), its latest version"),
        ("XYZ", "1.0", "XYZ template, version 1.0 or later"),
    ],
)
def test_a_request_for_another_template_or_any_version(
    family: str, version: str, words: str
) -> None:
    text, _html = render_campaign_request(
        CampaignRequest("a@example.test", "S", "C", family, version, "2026-12-01", "<a@b.test>")
    )
    assert f"Template: {words}" in text


def test_a_reminder_lists_only_what_is_still_missing() -> None:
    text, html = render_campaign_reminder(REMINDER, STYLE)
    bullets = [line for line in text.splitlines() if line.startswith(" - ")]
    assert bullets == [f" - {m}" for m in MISSING]
    assert html.count("<li") == len(MISSING)
    assert all(m in html for m in MISSING)
    assert "2026-12-01" in text and "reply to this e-mail with the file attached" in text
    # Nothing else: no download page, no template lecture, no portal.
    assert RMI_TEMPLATES not in text and "Template:" not in text
    assert "has passed" not in text


def test_an_overdue_reminder_says_the_deadline_has_passed() -> None:
    text, _html = render_campaign_reminder(replace(REMINDER, overdue=True))
    assert "the deadline of our survey “2026 CMRT”, 2026-12-01, has passed" in text


def test_a_reminder_without_a_list_asks_for_the_completed_template() -> None:
    text, _html = render_campaign_reminder(replace(REMINDER, missing=()))
    assert (
        " - your completed CMRT (Conflict Minerals Reporting Template), version 6.5 or later"
        in text
    )


def test_a_long_missing_list_is_bounded() -> None:
    many = tuple(f"item {i}" for i in range(50))
    text, _html = render_campaign_reminder(replace(REMINDER, missing=many))
    bullets = [line for line in text.splitlines() if line.startswith(" - ")]
    assert len(bullets) == 20 and bullets[-1] == " - …and 31 more."


def test_the_owner_is_told_which_supplier_campaign_deadline_status_reminders_and_what_is_missing() -> (
    None
):
    text, html = render_owner_escalation(ESCALATION, STYLE)
    for expected in (
        "Supplier: Synthetic Components Ltd.",
        "Campaign: 2026 CMRT",
        "Deadline: 2026-12-01",
        "Status: escalated",
        "Reminders sent: 2",
        MISSING[0],
    ):
        assert expected in text and expected in html
    assert "Please contact the supplier directly" in text
    assert "assay suppliers show Synthetic Components Ltd." in text


def test_hostile_names_are_escaped_in_html_and_kept_on_one_line_in_text() -> None:
    hostile_request = CampaignRequest(
        "a@example.test", HOSTILE, HOSTILE, "CMRT", "6.5", "2026-12-01", "<a@b.test>"
    )
    hostile_reminder = replace(REMINDER, supplier=HOSTILE, missing=(HOSTILE,))
    hostile_escalation = replace(ESCALATION, supplier=HOSTILE, missing=(HOSTILE,))
    for text, html in (
        render_campaign_request(hostile_request),
        render_campaign_reminder(hostile_reminder),
        render_owner_escalation(hostile_escalation),
    ):
        assert "<script>" not in html and "<!channel>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "&quot;quoted&quot;" in html and "&amp; " in html
        # A name is one line: the CR LF never starts a line of its own.
        assert not any(line.startswith("Bcc:") for line in text.splitlines())
        assert "\r" not in text


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        (request_subject(REQUEST), "CMRT request: 2026 CMRT (reply by 2026-12-01)"),
        (request_subject(REMINDER), "Re: CMRT request: 2026 CMRT (reply by 2026-12-01)"),
        (
            escalation_subject(ESCALATION),
            "Escalation: Synthetic Components Ltd. has not completed 2026 CMRT (deadline 2026-12-01)",
        ),
    ],
)
def test_subjects(subject: str, expected: str) -> None:
    assert subject == expected


def test_a_hostile_name_cannot_break_the_subject() -> None:
    subject = request_subject(
        CampaignRequest("a@example.test", "S", HOSTILE, "CMRT", "6.5", "2026-12-01", "<a@b.test>")
    )
    assert "\r" not in subject and "\n" not in subject
    assert subject.startswith("CMRT request: <script>") and subject.endswith(
        "(reply by 2026-12-01)"
    )
    subject = escalation_subject(replace(ESCALATION, supplier="x" * 500))
    assert len(subject) <= 200 and "…" in subject


# -- the mailer --------------------------------------------------------------------------------


def built(tmp_path: Path, payload: Email, key: str = "campaign:1:7") -> EmailMessage:
    """The message the notifier builds from one queued row, read back as it would be sent."""
    store = Store(tmp_path / "assay.db")
    store.enqueue(OutboxItem("email", key, payload, recipient=getattr(payload, "to", "")))
    [row] = store.claim_outbox("email", "test.example:1.1:1", lease_seconds=300)
    notifier = EmailNotifier(
        store, SmtpSettings(outbox_dir=str(tmp_path / "out"), signature="Desk")
    )
    msg, envelope_to = notifier.build(row)
    assert envelope_to == payload.to
    parsed = message_from_bytes(bytes(msg), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_the_request_carries_its_own_message_id_and_is_auto_generated(tmp_path: Path) -> None:
    msg = built(tmp_path, REQUEST)
    assert msg["Message-ID"] == "<campaign.1.7.request@example.test>"
    assert msg["Subject"] == "CMRT request: 2026 CMRT (reply by 2026-12-01)"
    assert msg["To"] == "pat@supplier.example.test"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["In-Reply-To"] is None and msg["References"] is None
    body = msg.get_body(("plain",))
    assert body is not None and "reply to this e-mail" in body.get_content()
    html = msg.get_body(("html",))
    assert html is not None and "Desk" in html.get_content()


def test_the_reminder_is_threaded_on_the_request(tmp_path: Path) -> None:
    msg = built(tmp_path, REMINDER)
    assert msg["Message-ID"] == "<campaign.1.7.reminder-3@example.test>"
    assert msg["In-Reply-To"] == "<campaign.1.7.request@example.test>"
    assert msg["References"] == "<campaign.1.7.request@example.test>"
    assert msg["Subject"] == "Re: CMRT request: 2026 CMRT (reply by 2026-12-01)"
    assert msg["Auto-Submitted"] == "auto-generated"


def test_the_escalation_goes_to_the_owner_with_a_derived_message_id(tmp_path: Path) -> None:
    msg = built(tmp_path, ESCALATION, key="escalation:1:7")
    assert msg["To"] == "buyer@example.test"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Message-ID"].startswith("<assay.1.") and msg["In-Reply-To"] is None
    assert msg["Subject"].startswith("Escalation: Synthetic Components Ltd. has not completed")
    body = msg.get_body(("plain",))
    assert body is not None and "Reminders sent: 2" in body.get_content()


def test_a_reply_stays_auto_replied(tmp_path: Path) -> None:
    msg = built(tmp_path, NoTemplateReply(to="pat@supplier.example.test", subject="Re: hi"))
    assert msg["Auto-Submitted"] == "auto-replied"


def test_a_hostile_campaign_name_cannot_add_a_header(tmp_path: Path) -> None:
    msg = built(tmp_path, replace(REQUEST, campaign=HOSTILE, supplier=HOSTILE))
    assert msg["Bcc"] is None
    assert "\n" not in str(msg["Subject"]) and "Bcc: victim@example.test" in msg["Subject"]


@pytest.mark.parametrize(
    "message_id",
    ["", "not-an-id", "<a@b.test> <c@d.test>", "<a@b.test>\r\nBcc: victim@example.test"],
)
def test_a_request_without_a_single_clean_message_id_is_not_built(
    tmp_path: Path, message_id: str
) -> None:
    store = Store(tmp_path / "assay.db")
    store.enqueue(
        OutboxItem(
            "email",
            "campaign:1:7",
            replace(REQUEST, message_id=message_id),
        )
    )
    [row] = store.claim_outbox("email", "test.example:1.1:1", lease_seconds=300)
    notifier = EmailNotifier(store, SmtpSettings(outbox_dir=str(tmp_path / "out")))
    with pytest.raises(ValueError, match="Message-ID"):
        notifier.build(row)


def test_a_campaign_e_mail_given_up_names_its_supplier(tmp_path: Path) -> None:
    store = Store(tmp_path / "assay.db")
    store.enqueue(OutboxItem("email", "campaign:1:7", replace(REQUEST, message_id="bad")))
    notifier = EmailNotifier(
        store, SmtpSettings(outbox_dir=str(tmp_path / "out"), permanent_attempts=1)
    )
    assert notifier.drain() == 0
    assert store.outbox_count("dead", "email") == 1
    [row] = store.claim_outbox("alert", "test.example:1.1:1", lease_seconds=300)
    alert = decode_alert(row.payload)
    assert isinstance(alert, Undeliverable)
    assert alert.message == "campaign request" and alert.supplier == "Synthetic Components Ltd."
