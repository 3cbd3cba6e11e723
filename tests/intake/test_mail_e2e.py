"""Mail end to end against a real Dovecot (IMAP, LMTP) and a real SMTP server (aiosmtpd).

Suppliers' messages are delivered over LMTP, `assay serve` runs as a separate process (as in
production), and replies are read over IMAP from the supplier's own mailbox.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import uuid
import zipfile
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from pathlib import Path

import pytest

from tests import hostile
from tests.intake.mail_support import Env, supplier_message
from tests.servers import Dovecot, Smtp

pytestmark = pytest.mark.e2e


def modern(msg: Message) -> EmailMessage:
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def body(msg: Message, kind: str = "plain") -> str:
    """The text or HTML part of a reply, wherever the attachments put it."""
    part = modern(msg).get_body(preferencelist=(kind,))
    assert part is not None, f"no {kind} part"
    return str(part.get_content())


def attachments(msg: Message) -> dict[str, bytes]:
    return {
        str(a.get_filename()): bytes(a.get_payload(decode=True) or b"")
        for a in modern(msg).iter_attachments()
    }


def test_supplier_gets_one_threaded_reply_with_every_finding(
    tmp_path: Path, dovecot: Dovecot, smtp: Smtp, filled: dict[str, Path]
) -> None:
    env = Env(tmp_path, dovecot, smtp.port)
    original = supplier_message(env, filled["CMRT-6.4"].read_bytes())
    env.send(original)
    proc = env.serve_once()
    assert proc.returncode == 0, proc.stderr
    [reply] = dovecot.messages(env.supplier)
    assert reply["Subject"] == "Re: 2026 survey"
    assert reply["In-Reply-To"] == original["Message-ID"]
    assert original["Message-ID"] in reply["References"]
    assert reply["Auto-Submitted"] == "auto-replied"
    text, html = body(reply), body(reply, "html")
    assert "Declaration!J3" in text and "CMRT 6.4" in text
    assert "outdated-template" in text.split("\n--\n", 1)[1]  # codes only in the footer
    assert "<table" in html and "Declaration!J3" in html
    # The supplier's own workbook comes back, marked up, and screens the same.
    [(name, marked)] = attachments(reply).items()
    assert name == "declaration (Assay findings).xlsx"
    with zipfile.ZipFile(io.BytesIO(marked)) as zf:
        first = re.search(rb'<(?:\w+:)?sheet [^>]*name="([^"]+)"', zf.read("xl/workbook.xml"))
    assert first is not None and first.group(1) == b"Assay findings"
    from plugins.manager import get_plugin_manager
    from plugins.pipeline import Screener
    from storage.store import Store

    store = Store(env.db)
    [(sha,)] = env.sql("select sha256 from submissions")
    again = Screener(get_plugin_manager(), store.reference_data(), as_of=dt.date(2026, 6, 30))
    key = [(f.code, f.sheet, f.cell) for f in store.findings(str(sha))]
    assert [(f.code, f.sheet, f.cell) for f in again.screen_bytes(marked).findings] == key
    assert dovecot.messages(env.survey) == []  # moved out of the inbox
    assert len(dovecot.messages(env.survey, "Processed")) == 1
    assert env.sql("select count(*) from submissions") == [(1,)]
    assert env.sql("select outcome from messages") == [("screened",)]


def test_a_corrected_file_is_told_what_was_fixed(
    tmp_path: Path, dovecot: Dovecot, smtp: Smtp
) -> None:
    """Through the real mail path: the second file of a supplier is compared with its first."""
    from plugins.layouts import CMRT
    from tests.builders import cmrt_cells, fill, template

    src = template("cmrt/RMI_CMRT_6.5_zh-ui.xlsx")
    good = cmrt_cells(src)
    bad = cmrt_cells(src)
    email_cell = CMRT.company_cells["contact_email"]
    del bad["Declaration"][email_cell]  # missing: an error
    first = fill(src, tmp_path / "first.xlsx", bad).read_bytes()
    second = fill(src, tmp_path / "second.xlsx", good).read_bytes()
    env = Env(tmp_path, dovecot, smtp.port)
    env.send(supplier_message(env, first, name="cmrt.xlsx", subject="first"))
    assert env.serve_once().returncode == 0
    env.send(supplier_message(env, second, name="cmrt-corrected.xlsx", subject="second"))
    assert env.serve_once().returncode == 0
    replies = {m["Subject"]: body(m) for m in dovecot.messages(env.supplier)}
    assert "Compared with your file of" not in replies["Re: first"]
    assert f"Declaration!{email_cell}" in replies["Re: first"]
    second_reply = replies["Re: second"]
    assert "Thank you for sending a corrected file." in second_reply
    assert re.search(
        r"Compared with your file of \d{4}-\d{2}-\d{2}: 1 fixed, \d+ still open, 0 new\.",
        second_reply,
    )
    assert f"fixed: Declaration!{email_cell}" in second_reply


def test_bad_attachments_get_a_clear_reply(
    tmp_path: Path, dovecot: Dovecot, smtp: Smtp, filled: dict[str, Path]
) -> None:
    env = Env(tmp_path, dovecot, smtp.port)
    env.send(supplier_message(env, hostile.zip_bomb(20), name="bomb.xlsx", subject="bomb"))
    env.send(supplier_message(env, os.urandom(31 * 1024 * 1024), name="huge.xlsx", subject="huge"))
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("a/cmrt.xlsx", filled["CMRT-6.5"].read_bytes())
        zf.writestr("b/same-again.xlsx", filled["CMRT-6.5"].read_bytes())
        zf.writestr("readme.txt", "hello")
    env.send(supplier_message(env, zipped.getvalue(), name="templates.zip", subject="zipped"))
    env.dovecot.deliver(
        env.survey,
        b"From: "
        + env.supplier.encode()
        + b'\r\nSubject: broken\r\nContent-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%not base64%%%\r\n--x',
        env.supplier,
    )
    proc = env.serve_once()
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    replies = {m["Subject"]: body(m) for m in dovecot.messages(env.supplier)}
    assert set(replies) == {"Re: bomb", "Re: huge", "Re: zipped", "Re: broken"}
    assert (
        "zip bomb" in replies["Re: bomb"] and "We could not open this file" in replies["Re: bomb"]
    )
    assert "over our 30 MB limit" in replies["Re: huge"]
    assert replies["Re: zipped"].count("== cmrt.xlsx") == 1  # identical bytes screened once
    assert "same-again.xlsx" not in replies["Re: zipped"].split("== ", 2)[1]
    assert (
        "no reporting template" in replies["Re: broken"]
        or "could not read" in replies["Re: broken"].lower()
    )
    assert dovecot.messages(env.survey) == []


def test_no_reply_to_robots_and_no_loops(tmp_path: Path, dovecot: Dovecot, smtp: Smtp) -> None:
    env = Env(tmp_path, dovecot, smtp.port, max_replies="3")
    env.send(supplier_message(env, subject="Out of office", Auto_Submitted="auto-replied"))
    env.send(supplier_message(env, subject="List mail", Precedence="bulk"))
    daemon = supplier_message(env, subject="Undeliverable")
    daemon.replace_header("From", "MAILER-DAEMON@supplier.example.test")
    env.send(daemon)
    # A naive autoresponder that answers every reply without marking itself: rate-limited.
    for i in range(6):
        env.send(supplier_message(env, subject=f"Thanks for your mail {i}"))
    proc = env.serve_once()
    assert proc.returncode == 0, proc.stderr
    assert len(dovecot.messages(env.supplier)) == 3
    outcomes = sorted(o for (o,) in env.sql("select outcome from messages"))
    assert outcomes.count("auto-ignored") == 3 and outcomes.count("rate-limited") == 3
    assert all(m["Auto-Submitted"] == "auto-replied" for m in dovecot.messages(env.supplier))
    assert "paused" in (tmp_path / "alerts.log").read_text()


def test_grievance_reporter_leaves_no_trace(tmp_path: Path, dovecot: Dovecot, smtp: Smtp) -> None:
    env = Env(tmp_path, dovecot, smtp.port)
    report = EmailMessage()
    report["From"] = f"Worried Person <{env.reporter}>"
    report["To"] = env.desk
    report["Subject"] = "Armed men at a mine supplying CID000292"
    report["Message-ID"] = f"<{uuid.uuid4().hex}@reporter.example.test>"
    report.set_content("Soldiers collect a tax at the checkpoint near the mine every week.")
    env.send(report, to=env.desk)
    proc = env.serve_once()
    assert proc.returncode == 0, proc.stderr
    [ack] = dovecot.messages(env.reporter)
    case_id = env.sql("select case_id from grievances")[0][0]
    assert case_id.startswith("GRV-") and case_id in ack["Subject"]
    text = body(ack)
    assert case_id in text and "What happens next" in text and "You will hear from us by" in text
    # A reply to the acknowledgement (its subject carries the [ref:] token) joins the same case.
    follow = EmailMessage()
    follow["From"] = env.reporter
    follow["To"] = env.desk
    follow["Subject"] = "Re: " + " ".join(str(ack["Subject"]).split())
    follow.set_content("It happened again yesterday.")
    env.send(follow, to=env.desk)
    assert env.serve_once().returncode == 0
    assert env.sql("select count(*) from grievances") == [(1,)]
    assert env.sql(
        f"select kind from grievance_events where case_id = '{case_id}' order by id"
    ) == [("received",), ("follow-up",)]
    assert env.sql(f"select cids, category from grievances where case_id = '{case_id}'") == [
        ('["CID000292"]', "armed-groups")
    ]
    # No trace of the reporter anywhere we keep or send.
    needles = [env.reporter.encode(), env.reporter.split("@")[0].encode()]
    places = {
        p.name: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and "home" not in p.parts
    }
    outbound = [data for _from, _to, data in smtp.handler.received]
    assert places and outbound
    for needle in needles:
        for name, content in places.items():
            assert needle not in content, f"reporter found in {name}"
        for data in outbound:
            assert needle not in data, "reporter found in an outbound message"
    alerts = (tmp_path / "alerts.log").read_text()
    assert case_id in alerts and "Soldiers" not in alerts
    assert (
        dovecot.messages(env.desk) == [] and dovecot.messages(env.desk, "Processed") == []
    )  # the original is deleted


def test_supplier_mail_ends_as_one_post_in_the_compliance_channel(
    tmp_path: Path, dovecot: Dovecot, smtp: Smtp, filled: dict[str, Path]
) -> None:
    from tests.slack_stub import SlackStub

    slack = SlackStub().start()
    try:
        env = Env(tmp_path, dovecot, smtp.port, slack_url=slack.url)
        env.send(supplier_message(env, filled["CMRT-6.5"].read_bytes()))
        assert env.serve_once().returncode == 0
        assert env.serve_once().returncode == 0  # a second pass posts nothing again
        posts = [c for c in slack.called("chat.postMessage") if c.get("channel") == "C_COMPLIANCE"]
        # Besides the submission, one alert says the embedded CAHRA list (2020) is out of date.
        reference = [p for p in posts if p["text"].startswith("[reference] The CAHRA list")]
        # And the program's daily digest (serve --once queues it at any hour), once a day.
        digests = [p for p in posts if p["text"].startswith("*Program digest for ")]
        posts = [p for p in posts if p not in reference and p not in digests]
        # A clean file: one post, and nothing for its thread.
        assert len(posts) == 1 and len(reference) == 1 and "thread_ts" not in posts[0]
        assert len(digests) == 1 and "|Open the dashboard>" in digests[0]["text"]
        assert (
            posts[0]["text"].startswith("[submission] Synthetic Components Ltd.")
            and "CMRT 6.5" in posts[0]["text"]
        )
        assert len(dovecot.messages(env.supplier)) == 1
    finally:
        slack.stop()
