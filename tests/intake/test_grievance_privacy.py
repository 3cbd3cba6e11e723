"""Grievance privacy and case binding, end to end: reports delivered to a real Dovecot over
LMTP, `assay serve --once` reading them over IMAP, acknowledgements received by aiosmtpd.

The acknowledgement carries nothing from the report; a follow-up joins a case only by its
secret token; a case number alone opens a new case; malformed headers never stop a case
from being opened, acknowledged and the original deleted; officers merge cases.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage, Message
from pathlib import Path

import pytest
from click.testing import CliRunner

from assay.cli import cli
from storage.crypto import Cipher
from tests.intake.mail_support import Env
from tests.intake.mail_support import dovecot as dovecot
from tests.intake.mail_support import smtp as smtp
from tests.servers import Dovecot, Smtp

pytestmark = pytest.mark.e2e

SYNTHETIC_NAME = "Amara Quillfeather"  # a made-up reporter name, as people put in subjects
ACK_PAYLOAD_KEYS = {"kind", "version", "to", "case_id", "token", "received", "respond_by"}


@pytest.fixture
def env(tmp_path: Path, dovecot: Dovecot, smtp: Smtp) -> Iterator[Env]:
    yield Env(tmp_path, dovecot, smtp.port)


def report(env: Env, sender: str, subject: str, body: str, **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = env.desk
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@reporter.example.test>"
    for key, value in headers.items():
        msg[key.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def serve(env: Env) -> None:
    proc = env.serve_once()
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr


def payloads(env: Env) -> list[dict[str, object]]:
    """The decrypted e-mail outbox, as the notifier sees it."""
    cipher = Cipher(env.env["TEST_GRIEVANCE_KEY"])
    rows = env.sql("select payload, encrypted from outbox where channel = 'email' order by id")
    assert all(encrypted == 1 for _p, encrypted in rows)
    return [json.loads(cipher.decrypt(str(p))) for p, _e in rows]


def cases(env: Env) -> dict[str, tuple[str, str, str | None]]:
    rows = env.sql("select case_id, reply_token, status, merged_into from grievances")
    return {str(c): (str(t), str(s), m) for c, t, s, m in rows}  # type: ignore[misc]


def events(env: Env, case_id: str) -> list[str]:
    return [
        str(k)
        for (k,) in env.sql(
            f"select kind from grievance_events where case_id = '{case_id}' order by id"
        )
    ]


def text_of(msg: Message) -> str:
    parts = [p for p in msg.walk() if not p.is_multipart()]
    return str(msg) + "".join(
        (p.get_payload(decode=True) or b"").decode("utf-8", "replace") for p in parts
    )


def cli_run(env: Env, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["--config", str(env.config), "grievance", *args], env=env.env, catch_exceptions=False
    )
    return result.exit_code, result.output


def test_acknowledgement_carries_nothing_from_the_report(env: Env, smtp: Smtp) -> None:
    original = report(
        env,
        f"{SYNTHETIC_NAME} <{env.reporter}>",
        f"Report from {SYNTHETIC_NAME}: children at the Kivu pit",
        "Children carry sacks at the pit every morning.",
    )
    env.send(original, to=env.desk)
    serve(env)
    [(case_id, (token, _status, _merged))] = cases(env).items()
    # The stored (encrypted) outbox payload holds only envelope address, case, token, dates.
    [payload] = payloads(env)
    assert set(payload) == ACK_PAYLOAD_KEYS
    assert payload["to"] == env.reporter and payload["case_id"] == case_id
    assert payload["token"] == token
    assert SYNTHETIC_NAME not in json.dumps(payload) and "Kivu" not in json.dumps(payload)
    # The token is unguessable: at least 128 random bits (urlsafe base64 of >= 16 bytes).
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) >= 16
    # What the reporter receives: no threading headers, nothing of their subject.
    [(_from, rcpts, data)] = smtp.handler.received
    assert rcpts == [env.reporter]
    ack = message_from_bytes(data)
    assert ack["In-Reply-To"] is None and ack["References"] is None
    subject = str(ack["Subject"])
    assert case_id in subject and f"[ref:{token}]" in subject
    for needle in (SYNTHETIC_NAME, "Quillfeather", "Kivu", "children"):
        assert needle.encode() not in data, needle
    assert str(original["Message-ID"]).strip("<>").encode() not in data
    assert env.reporter.encode() not in data  # envelope only
    [received] = env.dovecot.messages(env.reporter)
    assert received["In-Reply-To"] is None and SYNTHETIC_NAME not in str(received["Subject"])
    assert env.dovecot.messages(env.desk) == []  # the original is deleted


def test_case_number_alone_opens_a_new_case_and_never_gets_the_token(
    env: Env,
    smtp: Smtp,
) -> None:
    env.send(
        report(env, env.reporter, "Smuggling", "Trucks cross at night without papers."),
        to=env.desk,
    )
    serve(env)
    [(first, (first_token, _s, _m))] = cases(env).items()
    # Someone else, knowing (or guessing: they are sequential) only the case number.
    other = env.dovecot.add_user(f"other-{uuid.uuid4().hex[:8]}@example.test")
    env.send(
        report(
            env,
            other,
            f"Re: {first}",
            f"About {first}: please tell me what was reported. [ref:{'A' * 32}]",
        ),
        to=env.desk,
    )
    serve(env)
    now = cases(env)
    assert len(now) == 2
    [second] = [c for c in now if c != first]
    assert events(env, first) == ["received"]  # nothing joined the first case
    assert f"mentions {first} (not linked)" in events(env, second)
    assert env.sql("select reason from messages order by processed_at, reason") == [
        (first,),
        (second,),
    ]
    other_mail = b"".join(data for _f, rcpts, data in smtp.handler.received if other in rcpts)
    assert other_mail and first_token.encode() not in other_mail
    [other_ack] = env.dovecot.messages(other)
    assert second in str(other_ack["Subject"]) and first_token not in text_of(other_ack)
    # The reporter's follow-up with the token (in the body, any subject) joins the first case.
    env.send(
        report(env, env.reporter, "more", f"It happened again.\n> [ref:{first_token}]"),
        to=env.desk,
    )
    serve(env)
    assert len(cases(env)) == 2
    assert events(env, first) == ["received", "follow-up"]
    follow_ack = [p for p in payloads(env) if p["kind"] == "grievance-follow-up"]
    assert [(p["case_id"], p["token"], p["to"]) for p in follow_ack] == [
        (first, first_token, env.reporter)
    ]


HOSTILE = {
    "undisclosed": b"To: undisclosed-recipients:; x\r\nSubject: group syntax\r\n",
    "encoded-garbage": b"Subject: =?x-unknown?b?////?= =?utf-8?q?=FF=00?= =?utf-8?b?broken\r\n"
    b"To: =?utf-8?q?=00=01?= <desk@example.test>\r\nCc: ,,,<<>>@@\r\n",
    "nul-bytes": b"Subject: nul \x00 in the subject\r\nTo: desk\x00@example.test\r\n",
    "received-flood": b"Subject: many hops\r\n"
    + b"".join(
        b"Received: from relay%d.example.test by mx.example.test; Mon, 1 Jun 2026 00:00:00 +0000\r\n"
        % i
        for i in range(10_000)
    ),
    "bad-reply-to": b'Subject: odd reply-to\r\nReply-To: "unterminated <x@y\r\nTo: :;\r\n',
}


def test_malformed_headers_still_open_acknowledge_and_delete(
    env: Env,
    smtp: Smtp,
) -> None:
    sender = env.reporter
    for name, head in HOSTILE.items():
        raw = b"From: Someone <" + sender.encode() + b">\r\n" + head
        raw += b"Message-ID: <" + name.encode() + b"@reporter.example.test>\r\n"
        raw += b"\r\nArmed men at the mine (" + name.encode() + b").\r\n"
        env.dovecot.deliver(env.desk, raw, sender)
    # No From at all: the case is opened, there is no one to acknowledge.
    env.dovecot.deliver(
        env.desk, b"To: undisclosed-recipients:; x\r\nSubject: anonymous\r\n\r\nNo sender.\r\n", ""
    )
    serve(env)
    assert len(cases(env)) == len(HOSTILE) + 1
    outcomes = sorted({str(o) for (o,) in env.sql("select outcome from messages")})
    assert outcomes == ["grievance"]
    acks = [p for p in payloads(env) if p["kind"] == "grievance-ack"]
    assert len(acks) == len(HOSTILE) and {p["to"] for p in acks} == {sender}
    assert all(set(p) == ACK_PAYLOAD_KEYS for p in acks)
    assert len(env.dovecot.messages(sender)) == len(HOSTILE)
    # What the reporter sent is all there, encrypted: the subjects, the hops.
    cipher = Cipher(env.env["TEST_GRIEVANCE_KEY"])
    stored = env.sql("select subject_enc, reporter_enc from grievances")
    subjects = {cipher.decrypt(str(s)) for s, _r in stored}
    assert {"group syntax", "many hops", "anonymous"} <= subjects
    # Dovecot turns a NUL into U+FFFD on delivery (the in-process test sees the NUL itself).
    assert any(s.startswith("nul ") for s in subjects)
    assert not any("\x00" in s for s in subjects)
    hops = [
        len(json.loads(cipher.decrypt(str(r)))["headers"].get("Received", [])) for _s, r in stored
    ]
    assert max(hops) == 50  # 10,000 Received lines arrived; 50 are kept (encrypted)
    assert env.dovecot.messages(env.desk) == []
    assert env.dovecot.messages(env.desk, "Needs attention") == []
    assert env.dovecot.messages(env.desk, "Processed") == []
    assert sender.encode() not in env.log.read_bytes()


def test_officer_merges_and_the_source_token_then_joins_the_target(
    env: Env,
    smtp: Smtp,
) -> None:
    other = env.dovecot.add_user(f"witness-{uuid.uuid4().hex[:8]}@example.test")
    env.send(report(env, env.reporter, "Mercury", "Mercury in the river near CID000292."), env.desk)
    serve(env)
    env.send(report(env, other, "River", "The river is poisoned with mercury."), env.desk)
    serve(env)
    by_created = sorted(cases(env))
    target, source = by_created  # the witness's later report is merged into the first
    target_token, source_token = cases(env)[target][0], cases(env)[source][0]

    assert cli_run(env, "merge", source, source)[0] != 0
    assert "no case" in cli_run(env, "merge", source, "GRV-1999-0001")[1]
    code, out = cli_run(env, "merge", source.lower(), target, "--note", "same river")
    assert code == 0 and f"{source} merged into {target}" in out, out
    assert cases(env)[source][1:] == ("merged", target)
    # No chains, no cycles, no second merge.
    for args in ((target, source), (source, target)):
        code, out = cli_run(env, "merge", *args)
        assert code != 0 and "merged into" in out, out
    code, out = cli_run(env, "update", source, "--status", "closed")
    assert code != 0 and target in out
    code, out = cli_run(env, "list")
    assert re.search(rf"{source}\s+merged -> {target}", out), out
    code, out = cli_run(env, "show", target)
    assert f"merged from {source}" in out and "The river is poisoned" in out
    assert "same river" in out and env.reporter not in out and other not in out
    code, out = cli_run(env, "show", source)
    assert f"merged into {target}" in out

    # The witness follows up with their own token: it lands in the target case.
    env.send(report(env, other, f"Re: [ref:{source_token}]", "Fish are dying too."), env.desk)
    serve(env)
    assert events(env, target)[-1] == "follow-up"
    assert events(env, source)[-1] == f"merged into {target}"
    [follow] = [p for p in payloads(env) if p["kind"] == "grievance-follow-up"]
    assert (follow["case_id"], follow["token"], follow["to"]) == (target, source_token, other)
    # Neither reporter ever receives the other's token.
    to_other = b"".join(d for _f, r, d in smtp.handler.received if other in r)
    to_reporter = b"".join(d for _f, r, d in smtp.handler.received if env.reporter in r)
    assert target_token.encode() not in to_other and source_token.encode() not in to_reporter
    assert env.sql(f"select cids from grievances where case_id = '{target}'") == [
        ('["CID000292"]',)
    ]
