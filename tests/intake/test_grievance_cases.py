"""Grievance cases without servers: binding by token only, merges and their refusals,
hostile headers handled in-process (the end-to-end versions are in test_grievance_privacy)."""

from __future__ import annotations

import datetime as dt
import json
from email.message import EmailMessage
from pathlib import Path

import pytest

from intake.grievance import GrievancePolicy, handle_grievance_message, new_token
from intake.messages import MailLimits
from storage.crypto import Cipher, new_key
from storage.grievances import MergeError
from storage.store import Store

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "assay.db")


@pytest.fixture
def cipher() -> Cipher:
    return Cipher(new_key())


def receive(store: Store, cipher: Cipher, raw: bytes) -> str:
    return handle_grievance_message(
        raw,
        store=store,
        cipher=cipher,
        mailbox="grievances",
        limits=MailLimits(),
        policy=GrievancePolicy(),
        now=NOW,
    )


def mail(sender: str, subject: str, body: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "desk@example.test"
    msg["Subject"] = subject
    msg["Message-ID"] = "<abc@reporter.example.test>"
    msg.set_content(body)
    return bytes(msg)


def ack_payloads(store: Store, cipher: Cipher) -> list[dict[str, str]]:
    rows = store.db.execute("select payload from outbox where channel = 'email' order by id")
    return [json.loads(cipher.decrypt(p)) for (p,) in rows.fetchall()]


def test_tokens_carry_at_least_128_random_bits() -> None:
    import base64

    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    for t in list(tokens)[:20]:
        assert len(base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))) * 8 >= 128


def test_only_the_token_binds_a_follow_up(store: Store, cipher: Cipher) -> None:
    first = receive(store, cipher, mail("a@example.test", "Bribes", "The agent takes bribes."))
    token = store.grievance(first)["reply_token"]  # type: ignore[index]
    by_number = receive(store, cipher, mail("b@example.test", f"Re: {first}", f"{first} again"))
    assert by_number != first
    assert [e["kind"] for e in store.grievance_events(by_number)] == [
        "received",
        f"mentions {first} (not linked)",
    ]
    unknown = receive(store, cipher, mail("c@example.test", "x", "[ref:" + "Z" * 32 + "]"))
    assert unknown not in (first, by_number)
    joined = receive(store, cipher, mail("a@example.test", "hello", f"see [REF: {token} ]"))
    assert joined == first
    assert [p["token"] for p in ack_payloads(store, cipher) if p["case_id"] == first] == [
        token,
        token,
    ]
    assert token not in json.dumps(
        [p for p in ack_payloads(store, cipher) if p["to"] != "a@example.test"]
    )


def test_ack_payload_holds_no_subject_or_message_id(store: Store, cipher: Cipher) -> None:
    receive(store, cipher, mail("a@example.test", "From Jo Synthetic", "text"))
    [payload] = ack_payloads(store, cipher)
    assert set(payload) == {"kind", "version", "to", "case_id", "token", "received", "respond_by"}
    assert "Jo Synthetic" not in json.dumps(payload) and "abc@reporter" not in json.dumps(payload)


@pytest.mark.parametrize(
    "head",
    [
        b"From: a@example.test\r\nTo: undisclosed-recipients:; x\r\n",
        b"From: a@example.test\r\nSubject: =?utf-8?q?=FF=00?= =?bogus?x?y?=\r\nCc: ,<<>>@@\r\n",
        b'From: a@example.test\r\nSubject: nul\x00byte\r\nReply-To: "open <q@\r\n',
        b"From: a@example.test\r\n"
        + b"Received: from x; Mon, 1 Jun 2026 00:00:00 +0000\r\n" * 10_000,
        b"To: undisclosed-recipients:; x\r\nSubject: no sender\r\n",
    ],
)
def test_hostile_headers_open_a_case(store: Store, cipher: Cipher, head: bytes) -> None:
    case_id = receive(store, cipher, head + b"\r\nArmed men at the mine.\r\n")
    assert case_id.startswith("GRV-2026-")
    expected = 0 if b"From:" not in head else 1
    assert len(ack_payloads(store, cipher)) == expected
    identity = json.loads(cipher.decrypt(store.grievance(case_id)["reporter_enc"]))  # type: ignore[index]
    assert all(len(v) <= 50 for v in identity["headers"].values())
    subject = cipher.decrypt(store.grievance(case_id)["subject_enc"])  # type: ignore[index]
    assert "\x00" not in subject and "\\u0000" not in json.dumps(identity)


def _three(store: Store, cipher: Cipher) -> tuple[str, str, str]:
    ids = [
        receive(store, cipher, mail(f"r{i}@example.test", f"s{i}", f"mercury CID00029{i}"))
        for i in range(3)
    ]
    return ids[0], ids[1], ids[2]


def test_merge_refusals(store: Store, cipher: Cipher) -> None:
    a, b, c = _three(store, cipher)
    with pytest.raises(MergeError, match="itself"):
        store.merge_grievances(a, a.lower())
    with pytest.raises(MergeError, match="no case"):
        store.merge_grievances(a, "GRV-1999-0001")
    with pytest.raises(MergeError, match="no case"):
        store.merge_grievances("GRV-1999-0001", a)
    assert store.merge_grievances(b, a) == [b]
    with pytest.raises(MergeError, match="already merged"):
        store.merge_grievances(b, c)
    with pytest.raises(MergeError, match="merge into that case"):
        store.merge_grievances(c, b)  # would be a chain c -> b -> a
    with pytest.raises(MergeError, match="merge into that case"):
        store.merge_grievances(a, b)  # would be a cycle
    with pytest.raises(MergeError):
        store.update_grievance(b, "closed", "")


def test_merge_flattens_and_moves_links(store: Store, cipher: Cipher) -> None:
    a, b, c = _three(store, cipher)
    store.merge_grievances(a, b)
    assert store.merge_grievances(b, c) == [b, a]  # a moves on: no chain a -> b -> c
    assert {g["case_id"]: g["merged_into"] for g in store.grievances("merged")} == {a: c, b: c}
    assert json.loads(store.grievance(c)["cids"]) == [  # type: ignore[index]
        "CID000290",
        "CID000291",
        "CID000292",
    ]
    assert store.grievance_count_for("CID000290") == 1  # counted once, in the target
    assert [s["case_id"] for s in store.merged_sources(c)] == [a, b]
    token_a = store.grievance(a)["reply_token"]  # type: ignore[index]
    assert receive(store, cipher, mail("r0@example.test", "x", f"[ref:{token_a}]")) == c
    follow = ack_payloads(store, cipher)[-1]
    assert (follow["case_id"], follow["token"]) == (c, token_a)
