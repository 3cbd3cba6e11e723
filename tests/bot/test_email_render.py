"""The e-mail renderers as pure functions: values in, (text, HTML) out; no store, no server."""

from __future__ import annotations

import pytest

from bot.email_render import render_grievance_ack, render_no_template, render_screening_reply
from bot.reply_view import EarlierFile, FileFacts, ReplyFacts, ReplyStyle, Screening
from plugins.models import Declaration, Finding, SmelterRow, TemplateMeta
from program.outbox import GrievanceAck, GrievanceFollowUpAck

HOSTILE = '<script>alert(1)</script> & "quoted"'
STYLE = ReplyStyle("Compliance desk\nExample Corp", "compliance@example.test")
DECL = Declaration(
    TemplateMeta("CMRT", "6.5", "CMRT_6.x"),
    smelters=(SmelterRow(12, "Tin", smelter_id="CID000001", standard_name="Example Tin Works"),),
)
MISSING_EMAIL = Finding(
    "missing-required-field",
    "error",
    "Email – Contact is required but empty.",
    sheet="Declaration",
    cell="D15",
)
NOT_CONFORMANT = Finding(
    "smelter-not-conformant",
    "risk",
    "not conformant",
    sheet="Smelter List",
    cell="A12",
    smelter_id="CID000001",
)


def screening(*findings: Finding, company: str = "Synthetic Components Ltd.") -> Screening:
    return Screening(True, findings, DECL, "CMRT", "6.5", company)


def reply(*files: FileFacts, notes: tuple[str, ...] = ()) -> tuple[str, str]:
    return render_screening_reply(ReplyFacts(files, notes), STYLE)


def test_a_clean_file_is_accepted_with_nothing_more_to_do() -> None:
    text, html = reply(FileFacts("cmrt.xlsx", screening=screening()))
    assert "== cmrt.xlsx (CMRT 6.5, Synthetic Components Ltd.) ==" in text
    assert "Accepted. Thank you: we found nothing to correct." in text
    assert "Your declaration is accepted. There is nothing more you need to do." in text
    assert "Reference codes" not in text
    assert (
        "Compliance desk" in text and "Example Corp" in text and "compliance@example.test" in text
    )
    assert "Accepted. Thank you" in html and html.startswith("<!DOCTYPE html>")


def test_an_error_asks_for_a_corrected_file_and_names_the_cell() -> None:
    text, _html = reply(FileFacts("cmrt.xlsx", "survey.zip", screening(MISSING_EMAIL)))
    assert ", from survey.zip ==" in text
    assert "Incomplete: please correct 1 point and send the file again." in text
    assert "PLEASE CORRECT (1)" in text and "Declaration!D15" in text
    assert "reply to this e-mail with the corrected file attached" in text
    assert text.rstrip().endswith("Reference codes: missing-required-field")


def test_a_risk_is_summarised_for_the_compliance_team() -> None:
    text, _html = reply(FileFacts("cmrt.xlsx", screening=screening(NOT_CONFORMANT)))
    assert "Accepted, with remarks." in text and "FOR OUR COMPLIANCE TEAM" in text
    assert "1 smelter(s) not RMAP conformant: Example Tin Works (CID000001)" in text


@pytest.mark.parametrize(
    "facts",
    [
        FileFacts("scan.pdf"),  # nothing stored
        FileFacts(
            "scan.pdf",
            screening=Screening(False, (Finding("unreadable-file", "error", "Not a workbook."),)),
        ),
    ],
)
def test_an_unreadable_file_asks_for_an_xlsx(facts: FileFacts) -> None:
    text, _html = reply(facts)
    assert "We could not open this file, so nothing in it was checked yet." in text
    assert "save it again as an .xlsx workbook" in text
    assert "Please correct the points above" not in text
    if facts.screening is not None:
        assert "Why: Not a workbook." in text


def test_a_resubmission_says_what_changed_since_the_previous_file() -> None:
    earlier = EarlierFile(screening(MISSING_EMAIL), "2026-05-01T10:00:00+00:00")
    text, html = reply(FileFacts("cmrt.xlsx", screening=screening(), earlier=earlier))
    assert "Compared with your file of 2026-05-01: 1 fixed, 0 still open, 0 new." in text
    assert "SINCE YOUR LAST FILE:" in text and "fixed: Declaration!D15" in text
    assert text.index("Thank you for sending a corrected file.") < text.index("Kind regards")
    assert "Since your last file" in html


def test_a_previous_file_with_an_unreadable_date_is_not_compared() -> None:
    earlier = EarlierFile(screening(MISSING_EMAIL), "not a date")
    text, _html = reply(FileFacts("cmrt.xlsx", screening=screening(), earlier=earlier))
    assert "Compared with" not in text and "corrected file" not in text


def test_the_attached_marked_up_copy_is_named() -> None:
    many = [
        Finding(
            "missing-required-field", "error", f"Field {i} is required.", "Declaration", f"D{i}"
        )
        for i in range(10, 30)
    ]
    facts = FileFacts("cmrt.xlsx", screening=screening(*many), attachment="cmrt (findings).xlsx")
    text, html = reply(facts)
    assert 'Attached: "cmrt (findings).xlsx"' in text and "<b>cmrt (findings).xlsx</b>" in html
    assert "Fix these first:" in text
    assert "…and 5 more, all listed on the first sheet of the attached workbook." in text


def test_two_files_are_introduced_as_two() -> None:
    text, _html = reply(FileFacts("a.xlsx", screening=screening()), FileFacts("b.xlsx"))
    assert "We checked 2 files" in text


def test_outside_text_is_escaped_in_html_and_kept_in_text() -> None:
    text, html = reply(
        FileFacts(HOSTILE, HOSTILE, screening(company=HOSTILE)), notes=(HOSTILE,) * 3
    )
    assert "<script>" in text and f"{HOSTILE} (3 times)" in text
    assert "<script>" not in html and "&lt;script&gt;" in html and "&quot;quoted&quot;" in html


def test_the_no_template_reply_lists_the_notes_and_is_signed() -> None:
    text, html = render_no_template(["scan.pdf is not a template"] * 2, STYLE)
    assert "We found no reporting template attached to it" in text
    assert " - scan.pdf is not a template (2 times)" in text
    assert "CMRT (Revision 6.5)" in text and "Example Corp" in html


@pytest.mark.parametrize(
    ("ack", "expected", "absent"),
    [
        (
            GrievanceAck("r@example.test", "GRV-2026-0001", "TOK", "2026-06-30", "2026-07-30"),
            "keep GRV-2026-0001 and [ref:TOK] in the subject",
            "has been added to case",
        ),
        (
            GrievanceFollowUpAck(
                "r@example.test", "GRV-2026-0001", "TOK", "2026-07-01", "2026-07-30"
            ),
            "your message has been added to case GRV-2026-0001",
            "[ref:TOK]",
        ),
    ],
)
def test_a_grievance_acknowledgement_names_the_case_and_the_date(
    ack: GrievanceAck | GrievanceFollowUpAck, expected: str, absent: str
) -> None:
    text, html = render_grievance_ack(ack)
    assert expected in text and "2026-07-30" in text and absent not in text
    assert "r@example.test" not in text + html  # the address goes only into the envelope
