"""A survey campaign end to end: registry, requests, answers, reminders, escalation, status.

Real Dovecot (the supplier mailbox the answers arrive in) and aiosmtpd (every e-mail Assay
sends); each `assay` command runs as its own process. The clock is injected: the config's
``[screening] as_of`` is the day the campaign opens, and ``--as-of`` moves the campaign
commands along its schedule (reminders 14 and 3 days before the deadline and 7 after,
escalation 14 days after). Dates are relative to the real day, so the answers, which the
server receives today, count for the campaign whatever day the test runs.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import signal
import uuid
from collections import Counter
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.intake.campaign_support import CampaignEnv, HangingSmtp, Sent
from tests.servers import Dovecot

pytestmark = pytest.mark.e2e

TODAY = dt.datetime.now(dt.UTC).date()
OPENED = TODAY - dt.timedelta(days=1)
DEADLINE = TODAY + dt.timedelta(days=30)
CAMPAIGN = "CMRT 2026"
REQUEST_SUBJECT = f"CMRT request: {CAMPAIGN} (reply by {DEADLINE.isoformat()})"

# Five invented suppliers: name, address, owner (an e-mail address or a Slack user), metals.
ALDER = ("Alder Metals Ltd.", "orders@alder-metals.example.test", "U0ALDER01", "Tin;Gold")
BIRCH = ("Birch Components GmbH", "cmrt@birch.example.test", "U0BIRCH01", "Tin")
CEDAR = ("Cedar Alloys Inc.", "compliance@cedar-alloys.example.test", "U0CEDAR01", "Tantalum;Tin")
DOGWOOD = ("Dogwood Solder Co.", "sales@dogwood.example.test", "buyer.dogwood@example.test", "Tin")
ELM = ("Elm Capacitors S.A.", "quality@elm-caps.example.test", "W0ELM0001", "Tantalum")
SUPPLIERS = (ALDER, BIRCH, CEDAR, DOGWOOD, ELM)
SILENT = (DOGWOOD, ELM)
DUE = (CEDAR, DOGWOOD, ELM)  # no accepted file: Cedar's had errors


@pytest.fixture
def hsmtp(dovecot: Dovecot) -> Iterator[HangingSmtp]:
    server = HangingSmtp(dovecot)
    server.start()
    yield server
    server.stop()


def registry(path: Path, rows: tuple[tuple[str, str, str, str], ...]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "emails", "templates", "owner", "metals"])
        for name, address, owner, metals in rows:
            w.writerow([name, address, "CMRT", owner, metals])
    return path


def filled_cmrt(tmp: Path, company: str, contact: str, *, missing_email: bool = False) -> bytes:
    """A synthetic CMRT 6.5 declared by ``company`` (one error when ``missing_email``)."""
    from plugins.layouts import CMRT
    from tests.builders import cmrt_cells, fill, template

    src = template("cmrt/RMI_CMRT_6.5_zh-ui.xlsx")
    cells = cmrt_cells(src)
    decl = cells["Declaration"]
    decl[CMRT.company_cells["company_name"]] = company
    decl[CMRT.company_cells["contact_email"]] = contact
    decl[CMRT.company_cells["effective_date"]] = dt.datetime.combine(
        OPENED - dt.timedelta(days=1), dt.time()
    )
    if missing_email:
        del decl[CMRT.company_cells["contact_email"]]
    dest = tmp / f"{company.split()[0].lower()}-cmrt.xlsx"
    return fill(src, dest, cells).read_bytes()


def answer(env: CampaignEnv, request: Sent, data: bytes, filename: str) -> None:
    """The supplier replies to our request, the completed file attached."""
    msg = EmailMessage()
    [sender] = request.rcpts
    msg["From"] = sender
    msg["To"] = env.survey
    msg["Subject"] = "Re: " + request.subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@{sender.rpartition('@')[2]}>"
    msg["In-Reply-To"] = str(request.msg["Message-ID"])
    msg["References"] = str(request.msg["Message-ID"])
    msg.set_content("Our completed template is attached.")
    msg.add_attachment(
        data,
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=filename,
    )
    env.send(msg)


def day(offset: int) -> str:
    return (DEADLINE + dt.timedelta(days=offset)).isoformat()


def counts(stdout: str) -> tuple[int, int]:
    found = re.search(r"(\d+) reminder\(s\), (\d+) escalation\(s\)", stdout)
    assert found, stdout
    return int(found[1]), int(found[2])


def reminders(env: CampaignEnv) -> list[Sent]:
    """Reminders (screening replies to an answer may carry the same subject, but they are
    auto-replied, not auto-generated)."""
    return [s for s in env.sent() if is_reminder(s)]


def is_reminder(s: Sent) -> bool:
    return s.subject == "Re: " + REQUEST_SUBJECT and s.msg["Auto-Submitted"] == "auto-generated"


def test_campaign_from_requests_to_escalation(
    tmp_path: Path, dovecot: Dovecot, hsmtp: HangingSmtp
) -> None:
    env = CampaignEnv(tmp_path, dovecot, hsmtp, as_of=OPENED)
    env.ok("suppliers", "import", str(registry(tmp_path / "suppliers.csv", SUPPLIERS)))
    out = env.ok(
        "campaign", "create", CAMPAIGN, "--template", "CMRT", "--deadline", DEADLINE.isoformat(),
        "--min-version", "6.5",
    )  # fmt: skip
    assert out.startswith(f"created campaign {CAMPAIGN}: 5 supplier(s), CMRT, deadline {DEADLINE}")
    assert f"final deadline {day(28)}" in out
    again = env.assay("campaign", "create", CAMPAIGN, "--template", "CMRT", "--deadline", day(0))
    assert again.returncode == 1 and CAMPAIGN in again.stdout + again.stderr
    assert "Traceback" not in again.stderr

    # -- requests: one per supplier, once -----------------------------------------------------
    dry = env.ok("campaign", "send", CAMPAIGN, "--dry-run", "--as-of", OPENED.isoformat())
    assert "would send 5 request(s)" in dry and all(s[0] in dry for s in SUPPLIERS)
    assert env.sent() == []
    assert "queued 5 request(s)" in env.ok("campaign", "send", CAMPAIGN, "--as-of", str(OPENED))
    requests = env.sent()
    assert sorted(r.rcpts for r in requests) == sorted((s[1],) for s in SUPPLIERS)
    by_address = {r.rcpts[0]: r for r in requests}
    ids = set()
    for name, address, _owner, _metals in SUPPLIERS:
        request = by_address[address]
        assert request.subject == REQUEST_SUBJECT
        assert request.msg["Auto-Submitted"] == "auto-generated"
        assert "In-Reply-To" not in request.msg
        ids.add(str(request.msg["Message-ID"]))
        text = request.text()
        assert "CMRT" in text and "6.5" in text
        assert DEADLINE.isoformat() in text or DEADLINE.strftime("%B") in text
        assert "reply to this e-mail" in " ".join(text.lower().split())
        assert "responsiblemineralsinitiative.org" in text
        others = [s[0] for s in SUPPLIERS if s[0] != name]
        assert not any(o in text for o in others)  # nothing about anyone else
        assert "6.5" in request.text("html")
    assert len(ids) == 5 and all(re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", i) for i in ids)
    assert "queued 0 request(s)" in env.ok("campaign", "send", CAMPAIGN, "--as-of", str(OPENED))
    assert len(env.sent()) == 5  # sending twice sends nothing new

    # -- three answer, one of them with an error ----------------------------------------------
    for (name, address, _o, _m), broken in ((ALDER, False), (BIRCH, False), (CEDAR, True)):
        data = filled_cmrt(tmp_path, name, address, missing_email=broken)
        answer(env, by_address[address], data, f"{name.split()[0]} CMRT.xlsx")
    served = env.serve_once()
    assert served.returncode == 0, served.stderr
    assert "processed 3 supplier message(s)" in served.stdout
    screened = env.sent()[5:]  # the screening replies
    assert all(s.msg["Auto-Submitted"] == "auto-replied" for s in screened)
    [to_cedar] = [s for s in screened if s.rcpts == (CEDAR[1],)]
    assert "corrected file" in " ".join(to_cedar.text().split())  # the reply asks for one
    assert sorted(s.rcpts[0] for s in screened) == sorted(s[1] for s in (ALDER, BIRCH, CEDAR))
    before = len(env.sent())

    # -- D-14: a reminder to each supplier without an accepted file, threaded, saying what is missing
    assert counts(env.ok("campaign", "remind", CAMPAIGN, "--as-of", day(-14))) == (3, 0)
    first = reminders(env)
    assert len(env.sent()) == before + 3
    assert sorted(r.rcpts[0] for r in first) == sorted(s[1] for s in DUE)
    for reminder in first:
        [address] = reminder.rcpts
        request = by_address[address]
        assert reminder.msg["In-Reply-To"] == request.msg["Message-ID"]
        assert str(request.msg["Message-ID"]) in str(reminder.msg["References"])
        assert reminder.msg["Message-ID"] not in ids
        assert reminder.msg["Auto-Submitted"] == "auto-generated"
        text = " ".join(reminder.text().split())
        if address == CEDAR[1]:
            assert "corrected" in text and "Cedar CMRT.xlsx" in text and "error" in text
        else:
            assert "corrected" not in text and "CMRT" in text and "6.5" in text
        assert not any(s[0] in text for s in (ALDER, BIRCH))
    assert counts(env.ok("campaign", "remind", CAMPAIGN, "--as-of", day(-14))) == (0, 0)
    assert counts(env.ok("campaign", "remind", CAMPAIGN, "--as-of", day(-13))) == (0, 0)
    assert len(env.sent()) == before + 3  # never twice

    # -- D-3, killed mid-send: the server hangs before accepting the second reminder ---------
    before = len(env.sent())
    hsmtp.relay.hang_before(2)
    run = env.popen("campaign", "remind", CAMPAIGN, "--as-of", day(-3))
    try:
        held = hsmtp.relay.hanging.wait(timeout=120)
        assert held, f"no second reminder reached the server: {run.poll()} {run.stdout}"
        assert len(env.sent()) == before + 1  # the first one was accepted
        os.kill(run.pid, signal.SIGKILL)
        run.wait(timeout=30)
    finally:
        if run.poll() is None:
            os.kill(run.pid, signal.SIGKILL)
            run.wait(timeout=30)
        hsmtp.relay.release()
    assert run.returncode == -signal.SIGKILL
    rerun = env.ok("campaign", "remind", CAMPAIGN, "--as-of", day(-3))
    assert counts(rerun) == (0, 0) and "sent 2 e-mail(s)" in rerun  # queued before the kill
    assert counts(env.ok("campaign", "remind", CAMPAIGN, "--as-of", day(-3))) == (0, 0)
    per_supplier = Counter(r.rcpts[0] for r in reminders(env))
    assert per_supplier == {s[1]: 2 for s in DUE}  # D-14 and D-3, each exactly once
    assert len(env.sent()) == before + 3

    # -- D+14: the owner hears about each supplier still without an accepted file -----------
    before = len(env.sent())
    sent_reminders, escalations = counts(env.ok("campaign", "remind", CAMPAIGN, "--as-of", day(14)))
    assert escalations == 3 and sent_reminders == 3  # the D+7 reminder was still due
    new = env.sent()[before:]
    to_owner = [s for s in new if DOGWOOD[2] in s.rcpts]
    assert len(to_owner) == 1
    escalation = to_owner[0]
    assert escalation.msg["Auto-Submitted"] == "auto-generated"
    assert DOGWOOD[0] in escalation.subject + escalation.text()
    assert CAMPAIGN in escalation.subject + escalation.text()
    assert not any(s[0] in escalation.text() for s in SUPPLIERS if s is not DOGWOOD)
    assert "Reminders sent: 3" in escalation.text()  # D-14, D-3 and the D+7 sent with it
    overdue = [r for r in new if is_reminder(r)]
    assert sorted(r.rcpts[0] for r in overdue) == sorted(s[1] for s in DUE)
    # Owners who are Slack users get a direct message (logged: no Slack in this config).
    alerts = (tmp_path / "alerts.log").read_text()
    assert ELM[0] in alerts and CEDAR[0] in alerts
    total = len(env.sent())
    assert counts(env.ok("campaign", "remind", CAMPAIGN, "--as-of", day(14))) == (0, 0)
    assert counts(env.ok("campaign", "remind", CAMPAIGN, "--as-of", day(15))) == (0, 0)
    assert len(env.sent()) == total  # no second escalation

    # -- status the day after ----------------------------------------------------------------
    status = json.loads(
        env.ok("campaign", "status", CAMPAIGN, "--as-of", day(15), "--format", "json")
    )
    assert status["name"] == CAMPAIGN and status["template"] == "CMRT"
    assert status["deadline"] == DEADLINE.isoformat() and status["as_of"] == day(15)
    assert status["final_deadline"] == day(28)
    assert (status["suppliers"], status["responded"], status["accepted"]) == (5, 3, 2)
    assert status["response_rate"] == 0.6
    assert status["response_category"] == "Greater than 50%"
    assert set(status["overdue"]) >= {DOGWOOD[0], ELM[0]}
    assert not set(status["overdue"]) & {ALDER[0], BIRCH[0]}
    rows = {r["name"]: r for r in status["supplier_rows"]}
    assert set(rows) == {s[0] for s in SUPPLIERS}
    assert rows[ALDER[0]]["status"] == rows[BIRCH[0]]["status"] == "accepted"
    assert rows[CEDAR[0]]["status"] in ("resubmit", "escalated")
    assert rows[DOGWOOD[0]]["status"] == rows[ELM[0]]["status"] == "escalated"
    assert [rows[s[0]]["attempts"] for s in SUPPLIERS] == [1, 1, 1, 0, 0]
    assert rows[DOGWOOD[0]]["reminders_sent"] == 3 and rows[ALDER[0]]["reminders_sent"] == 0
    assert rows[DOGWOOD[0]]["owner"] == DOGWOOD[2]
    assert rows[ALDER[0]]["last_file_date"] and rows[DOGWOOD[0]]["last_file_date"] in (None, "")
    assert all(rows[n]["grade"] in ("high", "medium", "low") for n in rows)
    assert rows[CEDAR[0]]["grade"] != "low" and rows[CEDAR[0]]["grade_reasons"]
    tin = status["by_metal"]["Tin"]
    assert (tin["suppliers"], tin["responded"], tin["accepted"]) == (4, 3, 2)
    assert tin["response_category"] == "Greater than 50%"
    tantalum = status["by_metal"]["Tantalum"]
    assert (tantalum["suppliers"], tantalum["responded"], tantalum["accepted"]) == (2, 1, 0)
    assert tantalum["response_category"] == "50% or less"


HOSTILE = 'Evil <script>alert(1)</script>\r\nBcc: victim@example.test\r\nX-Injected: "yes"'


def test_hostile_supplier_name_reaches_the_request_escaped(
    tmp_path: Path, dovecot: Dovecot, hsmtp: HangingSmtp
) -> None:
    env = CampaignEnv(tmp_path, dovecot, hsmtp, as_of=OPENED)
    rows = ((HOSTILE, "cmrt@evil.example.test", "buyer@example.test", "Tin"),)
    env.ok("suppliers", "import", str(registry(tmp_path / "suppliers.csv", rows)))
    env.ok("campaign", "create", CAMPAIGN, "--template", "CMRT", "--deadline", day(0))
    assert "queued 1 request(s)" in env.ok("campaign", "send", CAMPAIGN, "--as-of", str(OPENED))
    [request] = env.sent()
    assert request.rcpts == ("cmrt@evil.example.test",)
    raw = bytes(request.msg)
    headers = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    assert b"X-Injected" not in headers and b"victim@" not in headers
    assert request.msg["Bcc"] is None and request.msg["X-Injected"] is None
    assert "\n" not in request.subject and "\r" not in request.subject
    assert [a.addr_spec for a in request.msg["To"].addresses] == ["cmrt@evil.example.test"]
    html = request.text("html")
    assert "<script" not in html.lower()
    assert "alert(1)" in request.text()  # the name is there, as text
    # A campaign name with a line break is refused: it would break every line it is printed on.
    made = env.assay("campaign", "create", "Q4\r\nBcc: victim@example.test", "--template",
                     "CMRT", "--deadline", day(0))  # fmt: skip
    assert "Traceback" not in made.stderr
    assert made.returncode == 2 and "control characters" in made.stderr
