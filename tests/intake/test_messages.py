"""Messages in: attachments by content, archives, forwarded mail, limits, robots (pure code)."""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest

from intake.messages import (
    MailLimits,
    extract_workbooks,
    is_automatic,
    parse,
    sender_address,
    text_body,
)
from plugins.sniff import OLE_MAGIC, sniff
from plugins.workbook import FileProblem, open_workbook
from tests import hostile


def base(**headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Pat Example <pat@supplier.example.test>")
    msg["To"] = "survey@example.test"
    msg["Subject"] = "survey"
    for key, value in headers.items():
        msg[key.replace("_", "-")] = value
    msg.set_content("see attached")
    return msg


@pytest.fixture(scope="module")
def cmrt(filled: dict[str, Path]) -> bytes:
    return filled["CMRT-6.5"].read_bytes()


def test_attachment_recognised_by_content_not_name(cmrt: bytes) -> None:
    msg = base()
    msg.add_attachment(cmrt, maintype="application", subtype="octet-stream", filename="DATA")
    out = extract_workbooks(parse(bytes(msg)))
    assert [(a.filename, a.sniffed.kind) for a in out.workbooks] == [("DATA", "xlsx")]


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "filename", "kind", "worth"),
    [
        (_zip({"xl/workbook.xml": b"<workbook/>"}), "DATA", "xlsx", True),
        (_zip({"xl/workbook.bin": b"\0"}), "", "xlsx", True),
        (_zip({"notes.txt": b"x"}), "templates.zip", "zip", False),
        (b"PK\x03\x04" + b"x" * 200, "broken.zip", "broken-zip", True),
        (OLE_MAGIC + b"\0" * 504, "", "ole", True),
        (b"%PDF-1.4 ...", "brochure.pdf", "other", False),
        (b"%PDF-1.4 ...", "CMRT.XLSX", "other", True),
    ],
)
def test_one_sniff_tells_the_kinds_apart(
    data: bytes, filename: str, kind: str, worth: bool
) -> None:
    sniffed = sniff(data, filename)
    assert (sniffed.kind, sniffed.worth_screening) == (kind, worth)


def test_the_attachment_carries_its_sniff_to_the_opener(cmrt: bytes) -> None:
    msg = base()
    msg.add_attachment(b"%PDF-1.4 ...", maintype="application", subtype="pdf", filename="cmrt.xlsx")
    msg.add_attachment(cmrt, maintype="application", subtype="octet-stream", filename="cmrt2.xlsx")
    pdf, book = extract_workbooks(parse(bytes(msg))).workbooks
    assert pdf.sniffed.kind == "other" and pdf.sniffed.named_like_workbook
    with pytest.raises(FileProblem, match="not an Excel workbook"):
        open_workbook(pdf.data, sniffed=pdf.sniffed)
    assert open_workbook(book.data, sniffed=book.sniffed).container == "xlsx"


def test_pdf_named_xlsx_is_still_screened_so_the_sender_hears_why() -> None:
    msg = base()
    msg.add_attachment(b"%PDF-1.4 ...", maintype="application", subtype="pdf", filename="cmrt.xlsx")
    msg.add_attachment(
        b"%PDF-1.4 ...", maintype="application", subtype="pdf", filename="brochure.pdf"
    )
    out = extract_workbooks(parse(bytes(msg)))
    assert [a.filename for a in out.workbooks] == ["cmrt.xlsx"]


def test_zip_of_templates_and_duplicates_screened_once(
    cmrt: bytes, filled: dict[str, Path]
) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("one/cmrt.xlsx", cmrt)
        zf.writestr("two/copy.xlsx", cmrt)
        zf.writestr("emrt.xlsx", filled["EMRT-2.1"].read_bytes())
        zf.writestr("notes.txt", "x")
    msg = base()
    msg.add_attachment(buf.getvalue(), maintype="application", subtype="zip", filename="all.zip")
    msg.add_attachment(cmrt, maintype="application", subtype="octet-stream", filename="again.xlsx")
    out = extract_workbooks(parse(bytes(msg)))
    assert sorted(a.filename for a in out.workbooks) == ["cmrt.xlsx", "emrt.xlsx"]
    assert all(a.origin == "all.zip" for a in out.workbooks)


def test_forwarded_message_with_the_template_inside(cmrt: bytes) -> None:
    inner = base(From="Original Sender <orig@supplier.example.test>")
    inner.add_attachment(
        cmrt,
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename="cmrt.xlsx",
    )
    outer = base()
    outer.add_attachment(inner)
    out = extract_workbooks(parse(bytes(outer)))
    assert [(a.filename, a.origin) for a in out.workbooks] == [("cmrt.xlsx", "forwarded message")]


def test_limits_become_notes_not_silence(cmrt: bytes) -> None:
    msg = base()
    msg.add_attachment(
        b"PK\x03\x04" + b"x" * 2000, maintype="application", subtype="zip", filename="broken.zip"
    )
    msg.add_attachment(cmrt, maintype="application", subtype="octet-stream", filename="big.xlsx")
    out = extract_workbooks(parse(bytes(msg)), MailLimits(max_attachment_bytes=len(cmrt) - 1))
    assert (
        out.workbooks and out.workbooks[0].filename == "broken.zip"
    )  # screened: the reply says it is damaged
    assert any("over our" in n for n in out.notes)


def test_zip_bomb_member_is_not_unpacked() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.xlsx", b"\0" * (20 * 1024 * 1024))
    msg = base()
    msg.add_attachment(buf.getvalue(), maintype="application", subtype="zip", filename="bomb.zip")
    out = extract_workbooks(parse(bytes(msg)))
    assert out.workbooks == [] and any("too large" in n for n in out.notes)


def test_malformed_mime_does_not_raise() -> None:
    raw = b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=x.xlsx\r\n\r\n@@@###\r\n"
    out = extract_workbooks(parse(raw))
    assert isinstance(out.workbooks, list)
    assert parse(hostile.random_bytes(5000)) is not None


@pytest.mark.parametrize(
    ("headers", "automatic"),
    [
        ({"Auto_Submitted": "auto-replied"}, True),
        ({"Auto_Submitted": "no"}, False),
        ({"Precedence": "bulk"}, True),
        ({"Precedence": "list"}, True),
        ({"List_Id": "<survey.example.test>"}, True),
        ({"From": "MAILER-DAEMON@example.test"}, True),
        ({"From": "no-reply@example.test"}, True),
        ({"From": "noreply@example.test"}, True),
        ({"Return_Path": "<>"}, True),
        ({}, False),
    ],
)
def test_automatic_mail(headers: dict[str, str], automatic: bool) -> None:
    assert bool(is_automatic(parse(bytes(base(**headers))))) is automatic


def test_sender_prefers_reply_to() -> None:
    msg = base(Reply_To="Compliance <compliance@supplier.example.test>")
    assert sender_address(parse(bytes(msg))) == "compliance@supplier.example.test"


def test_text_body_of_html_only_mail() -> None:
    msg = EmailMessage()
    msg["From"] = "x@example.test"
    msg.set_content("<p>Hello <b>there</b></p>", subtype="html")
    assert "Hello" in text_body(parse(bytes(msg))) and "<b>" not in text_body(parse(bytes(msg)))


def test_forwarded_too_deep_is_a_note(cmrt: bytes) -> None:
    msg = base()
    msg.add_attachment(cmrt, maintype="application", subtype="octet-stream", filename="deep.xlsx")
    for _ in range(4):
        outer = base()
        outer.add_attachment(msg)
        msg = outer
    out = extract_workbooks(parse(bytes(msg)), MailLimits(max_depth=3))
    assert out.workbooks == [] and any("nested too deeply" in n for n in out.notes)
    assert [
        a.filename for a in extract_workbooks(parse(bytes(msg)), MailLimits(max_depth=5)).workbooks
    ] == ["deep.xlsx"]


HOSTILE_HEADERS = [
    b"From: Pat <pat@supplier.example.test>\r\nTo: undisclosed-recipients:; x\r\nSubject: survey\r\n",
    b"From: =?utf-8?q?=FF=00?= <pat@supplier.example.test>\r\nSubject: =?x-unknown?b?////?= =?utf-8?b?broken\r\n",
    b"From: J\xf6rg <pat@supplier.example.test>\r\nSubject: caf\xe9 \x00 NUL\r\nCc: ,,,<<>>@@\r\n",
    b'From: pat@supplier.example.test\r\nReply-To: "unterminated <x@y>\r\nTo: :;\r\n',
    b"From: pat@supplier.example.test\r\n"
    + b"".join(
        b"Received: from relay%d.example.test; Mon, 1 Jun 2026 00:00:00 +0000\r\n" % i
        for i in range(10_000)
    ),
]


@pytest.mark.parametrize("head", HOSTILE_HEADERS)
def test_malformed_headers_are_read_never_raised(head: bytes) -> None:
    from intake.messages import header, header_values, message_id_of, subject_of

    msg = parse(head + b"\r\nsee attached\r\n")
    assert sender_address(msg) == "pat@supplier.example.test"
    assert is_automatic(msg) == ""
    for name in ("To", "Cc", "From", "Reply-To", "Subject", "Received", "Message-ID"):
        values = header_values(msg, name)
        assert all("\x00" not in v and "\n" not in v for v in values)
        assert len(values) <= 100
        header(msg, name)
    assert "\x00" not in subject_of(msg) and message_id_of(msg) == ""
    assert text_body(msg).strip() == "see attached"


def test_undisclosed_recipients_group_falls_back_to_the_raw_value() -> None:
    from intake.messages import header

    msg = parse(b"From: a@example.test\r\nTo: undisclosed-recipients:; x\r\n\r\nbody")
    with pytest.raises(AttributeError):
        msg["To"]
    assert header(msg, "To") == "undisclosed-recipients:; x"


def test_missing_from_means_no_reply() -> None:
    msg = parse(b"Subject: anonymous\r\n\r\nbody")
    assert sender_address(msg) == "" and is_automatic(msg) == "no sender address"


def test_garbled_from_with_a_usable_reply_to_is_answered() -> None:
    msg = parse(
        b"From: undisclosed-recipients:; x\r\nReply-To: Pat <pat@supplier.example.test>\r\n\r\nhi"
    )
    assert sender_address(msg) == "pat@supplier.example.test" and is_automatic(msg) == ""
    msg = parse(b"From: <@>\r\nReply-To: a@b@c\r\n\r\nhi")
    assert sender_address(msg) == "" and is_automatic(msg) == "no sender address"
