"""Output hygiene: text from workbooks and messages can neither forge a Slack mention or link
nor blow up a reply. Pure renderers first, then the whole path: a hostile workbook shared in
Slack (the Bolt app over real HTTP against the local Web API stand-in) and a hostile e-mail."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import zipfile
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import pytest

from bot.email_render import render_no_template, render_screening_reply
from bot.reply_facts import reply_facts
from bot.reply_view import ReplyFacts, collapse_notes
from bot.slack_render import (
    MAX_SECTION,
    result_blocks,
    smelter_blocks,
    supplier_blocks,
)
from intake.messages import MailLimits
from intake.supplier_mail import ReplyPolicy, handle_supplier_message, reply_subject
from plugins.manager import get_plugin_manager
from plugins.models import Finding
from plugins.pipeline import Screener
from program.outbox import ReplyFile, ScreeningReply, decode_email
from storage.store import Store
from tests.builders import AS_OF, build_family
from tests.slack_bot import OFFICER, Bot, file_share
from tests.slack_stub import SlackStub

pytestmark = pytest.mark.slow

HOSTILE = "<!channel> <http://evil.example|click me>"
FORGED = ("<!channel>", "<http://evil.example|", "<!subteam", "<@U")
COMPANY = "Synthetic Components Ltd."


def with_company(workbook: bytes, company: str) -> bytes:
    """The filled CMRT with another company name written into its (inline) Declaration!D8
    string. Written into the XML directly: openpyxl would cut a value to 32,767 characters."""
    src = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    replaced = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if COMPANY.encode() in data:
                data = data.replace(COMPANY.encode(), xml_escape(company).encode())
                replaced += 1
            dst.writestr(info, data)
    assert replaced == 1
    return out.getvalue()


def huge_name(megabytes: int = 10) -> str:
    """Random text (a zip of it is no 'bomb'), starting with a forged mention."""
    return HOSTILE + " " + base64.b64encode(os.urandom(megabytes * 1024 * 1024 * 3 // 4)).decode()


def assert_clean(blob: str) -> None:
    for forged in FORGED:
        assert forged not in blob, forged


def texts(message: dict[str, Any]) -> list[str]:
    """Every mrkdwn/plain text of a posted message or an ack: its text and its blocks'."""
    out = [str(message.get("text") or "")]
    blocks = message.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    for b in blocks:
        if "text" in b:
            out.append(b["text"]["text"])
        out += [e["text"] for e in b.get("elements", [])]
    return out


# -- pure renderers ----------------------------------------------------------------------


def finding(message: str) -> Finding:
    return Finding(code="TEST", severity="error", message=message, sheet="Declaration", cell="D8")


def submission(company: str) -> dict[str, Any]:
    return {
        "readable": True,
        "risk_level": "high",
        "template_type": "CMRT",
        "template_version": "6.5",
        "company_name": company,
        "errors": 1,
        "risks": 0,
        "warnings": 0,
        "infos": 0,
        "received_at": "2026-06-30T10:00:00",
        "filename": HOSTILE + ".xlsx",
    }


def test_result_blocks_escape_and_bound_every_outside_text() -> None:
    findings = [finding(f"Company name “{HOSTILE}” <@U123> <!subteam^S1>" + "x" * 5000)] * 400
    text, blocks = result_blocks(HOSTILE + ".xlsx", submission(HOSTILE * 10_000), findings)
    for t in [text, *texts({"blocks": blocks})]:
        assert_clean(t)
        assert len(t) <= 3000
    assert "&lt;!channel&gt; &lt;http://evil.example|click me&gt;" in blocks[0]["text"]["text"]
    assert "&lt;!channel&gt;" in text and len(blocks) <= 50
    assert "…and" in blocks[1]["text"]["text"]  # the long list says how many more
    text, blocks = result_blocks(HOSTILE, None, [finding(HOSTILE)])  # unreadable
    assert_clean(text + json.dumps(blocks))
    text, blocks = supplier_blocks(HOSTILE, submission(HOSTILE), [finding(HOSTILE)])
    assert_clean(text + json.dumps(blocks))
    assert "&lt;!channel&gt;" in text
    text, blocks = supplier_blocks(HOSTILE, None, [])
    assert_clean(text + json.dumps(blocks))


def test_a_section_cut_never_splits_an_entity() -> None:
    _text, blocks = result_blocks("a.xlsx", submission("&" * 10_000), [])
    head = blocks[0]["text"]["text"]
    assert len(head) <= MAX_SECTION and "&amp;…" in head
    for cut_at in range(len(head)):
        if head[cut_at] == "&":
            assert head.startswith("&amp;", cut_at)


def test_smelter_answers_escape_names_and_the_echoed_query() -> None:
    match = {
        "cid": "CID000001",
        "name": HOSTILE,
        "metal": "Tin",
        "country": "<!here>",
        "rmap_status": "<http://x.example|Conformant>",
        "rmap_summary": "<http://x.example|Conformant>",
        "rmap_list_date": "",
        "rmap_list": "",
        "aliases": [HOSTILE] * 10,
        "country_risk": ["<!everyone>"],
        "supplier_names": [HOSTILE * 1000] * 20,
        "suppliers": 20,
    }
    text, blocks = smelter_blocks({"query": HOSTILE, "matches": [match] * 80}, staff=True)
    blob = text + json.dumps(blocks)
    assert_clean(blob)
    assert "<!here>" not in blob and "<!everyone>" not in blob
    assert len(blocks) <= 50 and all(len(t) <= 3000 for t in [text, *texts({"blocks": blocks})])
    near = {"cid": "CID000002", "name": HOSTILE}
    text, blocks = smelter_blocks({"query": HOSTILE * 1000, "matches": [], "nearest": [near]}, True)
    assert_clean(text + json.dumps(blocks))
    assert len(text) < 1000


def test_repeated_notes_collapse_with_a_count_in_text_and_html() -> None:
    note = "Only the first 20 workbooks were screened; please send the others separately."
    notes = [note] * 980 + [f"{i}.pdf is not a template <b>" for i in range(200)]
    lines = collapse_notes(notes)
    assert lines[0] == f"{note} (980 times)" and len(lines) == 50
    assert lines[-1] == "…and 152 other note(s)."
    for text, html in (
        render_no_template(notes),
        render_screening_reply(ReplyFacts(notes=tuple(notes))),
    ):
        assert text.count(note) == 1 and f"{note} (980 times)" in text
        assert html.count(note) == 1 and f"{note} (980 times)" in html
        assert "<b>" not in html and "&lt;b&gt;" in html
        assert len(text) + len(html) < 100_000


def test_reply_subject_has_no_line_breaks_or_controls_and_is_cut() -> None:
    assert (
        reply_subject("Hello\r\nBcc: victim@example.test") == "Re: Hello Bcc: victim@example.test"
    )
    assert reply_subject("Re: x\x00\x1b\x7f\u2028y") == "Re: x y"
    long = reply_subject("A" * 10_000)
    assert len(long) <= 200 and long.startswith("Re: AAA") and long.endswith("…")
    assert reply_subject("") == "Re:"


# -- the whole path ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cmrt(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A clean synthetic CMRT 6.5 (company "Synthetic Components Ltd.")."""
    return build_family("CMRT-6.5", tmp_path_factory.mktemp("cmrt"))[0].read_bytes()


@pytest.fixture(scope="module")
def hostile_cmrt(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The same, filled with a company name that is a forged mention and a disguised link."""
    extra = {"Declaration": {"D8": HOSTILE}}
    return build_family("CMRT-6.5", tmp_path_factory.mktemp("hostile"), extra)[0].read_bytes()


def add_file(stub: SlackStub, file_id: str, name: str, data: bytes) -> None:
    """A file whose name is hostile (its URL stays plain, as Slack's are)."""
    stub.add_file(file_id, f"{file_id}.xlsx", data)["name"] = name


def share(bot: Bot, file_id: str, ts: str) -> None:
    assert bot.event(file_share(file_id, ts)) == 200


def test_a_forged_mention_in_a_shared_workbook_is_escaped_everywhere(
    bot: Bot, stub: SlackStub, hostile_cmrt: bytes
) -> None:
    data = hostile_cmrt
    add_file(stub, "FH1", f"{HOSTILE}.xlsx", data)
    share(bot, "FH1", "700.1")
    [reply] = stub.wait_for("chat.postMessage")
    assert reply["thread_ts"] == "700.1"
    for t in texts(reply):
        assert_clean(t)
    assert (
        "&lt;!channel&gt; &lt;http://evil.example|click me&gt;"
        in reply["blocks"][0]["text"]["text"]
        and "&lt;!channel&gt;" in reply["text"]
    )
    # The same workbook again: the stored result, escaped just the same.
    stub.add_file("FH2", "again.xlsx", data)
    share(bot, "FH2", "701.1")
    again = stub.wait_for("chat.postMessage", count=2)[-1]
    assert "Already screened" in json.dumps(again)
    for t in texts(again):
        assert_clean(t)
    # Answers to staff: /supplier (by the declared name), /smelter and a mention echo the query.
    answers = [
        bot.command("/supplier", HOSTILE)[1],
        bot.command("/smelter", HOSTILE)[1],
    ]
    bot.event(
        {
            "type": "app_mention",
            "user": "U1",
            "text": f"<@UBOT> {HOSTILE} <!subteam^S1|@team>",
            "ts": "702.1",
            "channel": "C1",
        }
    )
    answers.append(stub.wait_for("chat.postMessage", count=3)[-1])
    for answer in answers:
        assert isinstance(answer, dict)
        for t in texts(answer):
            assert_clean(t)
    assert "&lt;!channel&gt;" in json.dumps(answers[0]) and "CMRT 6.5" in json.dumps(answers[0])
    assert "&lt;!channel&gt;" in json.dumps(answers[1])
    # The compliance channel's alert payload carries the name cut, not the whole cell.
    [alert] = [
        json.loads(r["payload"])
        for r in Store(bot.db).db.table("outbox").rows_where("channel = 'alert'", order_by="id")
    ]  # a clean file: no details for a thread
    assert alert["supplier"] == HOSTILE and len(alert["files"][0]["filename"]) <= 200


def test_a_10_mb_company_name_gives_bounded_answers_and_replies(
    bot: Bot, stub: SlackStub, cmrt: bytes
) -> None:
    name = huge_name(10)
    data = with_company(cmrt, name)
    assert len(data) < 30 * 1024 * 1024
    stub.add_file("FBIG", "big-name.xlsx", data)
    share(bot, "FBIG", "800.1")
    [reply] = stub.wait_for("chat.postMessage", timeout=120)
    assert len(json.dumps(reply)) < 20_000
    assert all(len(t) <= 3000 for t in texts(reply)) and len(reply["blocks"]) <= 50
    for t in texts(reply):
        assert_clean(t)
    assert (
        "&lt;!channel&gt;" in reply["blocks"][0]["text"]["text"]
        and "…" in reply["blocks"][0]["text"]["text"]
    )
    store = Store(bot.db)
    alerts = [
        json.loads(r["payload"]) for r in store.db.table("outbox").rows_where("channel = 'alert'")
    ]
    assert [a["kind"] for a in alerts][:1] == ["submission"]
    assert all(len(json.dumps(a)) < 5_000 for a in alerts)
    status, answer = bot.command("/supplier", name[:3000])
    assert status == 200 and len(json.dumps(answer)) < 20_000
    # The e-mail reply for the same workbook: a normal size, the name cut, escaped in HTML.
    [sha] = [r[0] for r in store.db.execute("select sha256 from submissions").fetchall()]
    notes = ["Only the first 20 workbooks were screened; please send the others separately."] * 980
    reply = ScreeningReply(to="", files=(ReplyFile(name, sha, name),), notes=tuple(notes))
    text, html = render_screening_reply(reply_facts(reply, store))
    assert len(text.encode()) + len(html.encode()) < 200_000
    assert "(980 times)" in text and "(980 times)" in html
    assert HOSTILE not in html and "&lt;!channel&gt;" in html


def tiny_workbook(n: int) -> bytes:
    """A distinct (unreadable) workbook: enough for intake to count it as one."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/workbook.xml", f"<workbook n='{n}'/>")
    return buf.getvalue()


def test_a_message_with_1000_workbooks_and_a_broken_subject_gets_one_sane_reply(
    tmp_path: Path,
) -> None:
    msg = EmailMessage()
    msg["From"] = "supplier@example.test"
    msg["To"] = "cmrt@example.test"
    msg["Subject"] = "SUBJECT-PLACEHOLDER"  # set below: EmailMessage would decode it
    msg["Message-ID"] = "<m1@example.test>"
    msg.set_content("Attached.")
    for i in range(1000):
        msg.add_attachment(
            tiny_workbook(i),
            maintype="application",
            subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            filename=f"{HOSTILE}-{i}.xlsx",
        )
    store = Store(tmp_path / "a.db")
    screener = Screener(get_plugin_manager(), store.reference_data(), as_of=AS_OF)
    raw = bytes(msg).replace(
        b"SUBJECT-PLACEHOLDER", b"=?utf-8?q?Our_CMRT=0D=0ABcc:_victim@example.test?="
    )
    outcome = handle_supplier_message(
        raw,
        store=store,
        screener=screener,
        mailbox="suppliers",
        limits=MailLimits(),
        policy=ReplyPolicy(),
        now=dt.datetime(2026, 6, 30, tzinfo=dt.UTC),
    )
    assert outcome.outcome == "screened"
    [row] = list(store.db.table("outbox").rows_where("channel = 'email'"))
    payload = decode_email(row["payload"])
    assert isinstance(payload, ScreeningReply)
    assert "\r" not in payload.subject and "\n" not in payload.subject
    assert payload.subject == "Re: Our CMRT Bcc: victim@example.test"
    note = "Only the first 20 workbooks were screened; please send the others separately."
    assert payload.notes == (f"{note} (980 times)",)
    text, html = render_screening_reply(reply_facts(payload, store))
    assert text.count(note) == 1 and f"{note} (980 times)" in text
    assert html.count(note) == 1 and f"{note} (980 times)" in html
    assert HOSTILE not in html and len(text) + len(html) < 200_000


def test_a_grievance_shown_to_an_officer_cannot_forge_a_mention_or_a_link(bot: Bot) -> None:
    store = Store(bot.db)
    case = store.create_grievance(
        message_key="k1",
        mailbox="grievances",
        category="other",
        subject_enc=bot.cipher.encrypt("subject"),
        body_enc=bot.cipher.encrypt(f"First line {HOSTILE}\n<@U999> second line\n" + "z" * 9000),
        reporter_enc=bot.cipher.encrypt("{}"),
        reply_token="tok" * 6,
        cids=["CID000292"],
        supplier_ids=[],
        respond_by="2026-12-31",
        attachments=[],
        outbox_for=lambda case_id: [],
        year=2026,
    )
    status, answer = bot.command("/grievance", case or "", user=OFFICER)
    assert status == 200 and isinstance(answer, dict)
    for t in texts(answer):
        assert_clean(t)
        assert len(t) <= 3000
    assert ">First line &lt;!channel&gt;" in answer["text"]
    assert ">&lt;@U999&gt; second line" in answer["text"]  # every line quoted
