"""The Slack app over real HTTP, driven by signed requests, against a local Web API stand-in."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from bot.slack_app import COMMANDS, EVENTS
from storage.store import Store
from tests.servers import free_port
from tests.slack_bot import OFFICER, SECRET, Bot, file_share
from tests.slack_stub import TOKEN, SlackStub, signed_request

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def test_url_verification(bot: Bot) -> None:
    status, raw = bot.post(
        json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"}).encode(),
        "application/json",
    )
    assert status == 200 and b"abc123" in raw


def test_forged_signature_and_replayed_timestamp_are_refused(bot: Bot) -> None:
    body = urllib.parse.urlencode(
        {"command": "/smelter", "text": "CID002082", "user_id": "U1", "team_id": "T1"}
    ).encode()
    assert bot.post(body, "application/x-www-form-urlencoded", secret="wrong-secret")[0] == 401
    assert (
        bot.post(body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 600)[0]
        == 401
    )
    assert bot.post(body, "application/x-www-form-urlencoded")[0] == 200


def test_an_oversized_request_is_refused_before_it_is_read(bot: Bot) -> None:
    from bot.slack_http import MAX_BODY

    body = urllib.parse.urlencode({"command": "/smelter", "text": "x" * MAX_BODY}).encode()
    # The server may close with the body unread before the client reads the 413: also a refusal.
    with contextlib.suppress(ConnectionError, urllib.error.URLError):
        assert bot.post(body, "application/x-www-form-urlencoded")[0] == 413
    assert bot.command("/smelter", "CID002082")[0] == 200  # and the app goes on


def test_smelter_command_by_cid_and_name(bot: Bot) -> None:
    status, answer = bot.command("/smelter", "CID002082")
    assert status == 200
    text = json.dumps(answer)
    assert "CID002082" in text and "Xiamen Tungsten" in text and "no RMAP list loaded" in text
    status, answer = bot.command("/smelter", "xiamen tungsten")
    assert "CID002082" in json.dumps(answer)
    status, answer = bot.command("/smelter", "Zzyzx Qwerty Nonsense")
    assert "No smelter found" in json.dumps(answer) and "Nearest" in json.dumps(answer)


def test_mention_answers_in_thread(bot: Bot, stub: SlackStub) -> None:
    assert (
        bot.event(
            {
                "type": "app_mention",
                "user": "U1",
                "text": "<@UBOT> is CID002082 conformant?",
                "ts": "111.222",
                "channel": "C1",
            }
        )
        == 200
    )
    [post] = stub.wait_for("chat.postMessage")
    assert post["thread_ts"] == "111.222" and post["channel"] == "C1"
    assert "CID002082" in json.dumps(post)


def test_shared_template_screened_answered_and_posted_once(
    bot: Bot, stub: SlackStub, filled: dict[str, Path]
) -> None:
    stub.add_file("F1", "acme-cmrt.xlsx", filled["CMRT-6.4"].read_bytes())
    event = {**file_share("F1", "200.1"), "files": [{"id": "F1", "name": "acme-cmrt.xlsx"}]}
    assert bot.event(event) == 200
    [reply] = stub.wait_for("chat.postMessage")
    assert reply["thread_ts"] == "200.1"
    blob = json.dumps(reply)
    assert "CMRT 6.4" in blob and "Risk level" in blob and "Declaration!J3" in blob
    store = Store(bot.db)
    assert store.db.execute("select source from submission_sources").fetchall() == [("slack",)]
    # The compliance channel hears it once, however often the notifier runs.
    assert bot.alerts.drain() == 1 and bot.alerts.drain() == 0
    posts = [c for c in stub.called("chat.postMessage") if c["channel"] == "C_COMPLIANCE"]
    assert (
        len(posts) == 1
        and posts[0]["text"].startswith("[submission]")
        and "CMRT 6.4" in posts[0]["text"]
    )
    # Slack retries the same event: its listener runs to the end, and answers nothing more.
    bot.wait_idle()
    calls = len(stub.calls)
    assert bot.event(event) == 200
    bot.wait_idle()
    assert len(stub.calls) == calls
    assert len([c for c in stub.called("chat.postMessage") if c.get("thread_ts") == "200.1"]) == 1
    # The same bytes shared again answer with the stored result.
    stub.add_file("F2", "copy.xlsx", filled["CMRT-6.4"].read_bytes())
    bot.event({**event, "ts": "300.1", "files": [{"id": "F2", "name": "copy.xlsx"}]})
    again = stub.wait_for("chat.postMessage", count=3)[-1]
    assert again["thread_ts"] == "300.1" and "Already screened" in json.dumps(again)
    assert store.count("submissions") == 1


def test_non_template_files_are_ignored_politely(bot: Bot, stub: SlackStub) -> None:
    stub.add_file("F9", "photo.png", b"\x89PNG....", filetype="png")
    bot.event(file_share("F9", "400.1", channel="D1", channel_type="im"))
    [post] = stub.wait_for("chat.postMessage")
    assert "is not one" in post["text"]
    bot.event(file_share("F9", "401.1"))
    bot.wait_idle()  # its listener has run to the end: it looked at the file, said nothing
    assert [c["file"] for c in stub.called("files.info")] == ["F9", "F9"]
    assert len(stub.called("chat.postMessage")) == 1  # silent in channels
    assert len(Store(bot.db).messages("ignored")) == 2


def test_grievance_details_only_for_officers(bot: Bot) -> None:
    store = Store(bot.db)
    case = store.create_grievance(
        message_key="k1",
        mailbox="grievances",
        category="armed-groups",
        subject_enc=bot.cipher.encrypt("subject"),
        body_enc=bot.cipher.encrypt("Soldiers at the checkpoint."),
        reporter_enc=bot.cipher.encrypt("{}"),
        reply_token="tok" * 6,
        cids=["CID000292"],
        supplier_ids=[],
        respond_by="2026-12-31",
        attachments=[],
        outbox_for=lambda case_id: [],
        year=2026,
    )
    status, answer = bot.command("/grievance", case or "", user="USTAFF")
    assert "only to the grievance officers" in json.dumps(answer) and "Soldiers" not in json.dumps(
        answer
    )
    status, answer = bot.command("/grievance", case or "", user=OFFICER)
    assert (
        status == 200
        and "Soldiers at the checkpoint" in json.dumps(answer)
        and "armed-groups" in json.dumps(answer)
    )
    assert answer.get("response_type", "ephemeral") == "ephemeral"


def test_supplier_command_and_workspace_restriction(
    bot: Bot, stub: SlackStub, filled: dict[str, Path]
) -> None:
    stub.add_file("F5", "cmrt.xlsx", filled["CMRT-6.5"].read_bytes())
    bot.event(file_share("F5", "500.1"))
    stub.wait_for("chat.postMessage")
    status, answer = bot.command("/supplier", "Synthetic Components Ltd.")
    blob = json.dumps(answer)
    assert (
        status == 200
        and "Synthetic Components Ltd." in blob
        and "CMRT 6.5" in blob
        and "Risk level" in blob
    )
    status, answer = bot.command("/supplier", "Synthetic Components Ltd.", team="TOTHER")
    assert "only available in the compliance workspace" in json.dumps(
        answer
    ) and "CMRT 6.5" not in json.dumps(answer)
    status, answer = bot.command("/smelter", "CID002082", team="TOTHER")
    assert "Listed by" not in json.dumps(answer)  # supplier counts and names are staff-only


def test_rate_limited_post_is_delayed_not_lost(bot: Bot, stub: SlackStub) -> None:
    from program.outbox import GrievanceAlert
    from storage.mail import OutboxItem

    store = Store(bot.db)
    store.enqueue(
        OutboxItem(
            "alert", "alert:test", GrievanceAlert("GRV-2026-0009", "2026-06-30", "other", 0, 0)
        )
    )
    stub.rate_limit_next["chat.postMessage"] = 1
    assert bot.alerts.drain() == 0
    assert store.outbox_count("pending", "alert") == 1
    time.sleep(1.2)  # Retry-After: 1
    assert bot.alerts.drain() == 1
    posts = stub.called("chat.postMessage")
    assert len(posts) == 1 and "GRV-2026-0009" in posts[0]["text"]


def test_manifest_matches_what_the_app_listens_to() -> None:
    manifest = json.loads((ROOT / "bot" / "manifest.json").read_text())
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == set(COMMANDS)
    events = {e.split(".")[0] for e in manifest["settings"]["event_subscriptions"]["bot_events"]}
    assert events == set(EVENTS)
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {
        "commands",
        "chat:write",
        "files:read",
        "app_mentions:read",
        "channels:history",
        "im:history",
    } <= scopes


def test_assay_serve_runs_the_slack_app_beside_the_intake(tmp_path: Path, stub: SlackStub) -> None:
    """`assay serve` with a bot token: the Slack app answers over HTTP while the mail intake runs."""
    import os
    import shutil
    import subprocess
    import sys

    assay = shutil.which("assay", path=str(Path(sys.executable).parent)) or "assay"
    port = free_port()
    config = tmp_path / "assay.toml"
    config.write_text(
        f'[mail]\nseed_examples = false\n[mail.grievances]\nenabled = false\n[slack]\nport = {port}\nchannel = "C_COMPLIANCE"\napi_url = "{stub.url}/api/"\n'
    )
    env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET}
    proc = subprocess.Popen(
        [assay, "--config", str(config), "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        body = urllib.parse.urlencode(
            {"command": "/smelter", "text": "CID002082", "user_id": "U1", "team_id": "T1"}
        ).encode()
        while True:
            req = signed_request(port, body, SECRET)
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    answer = resp.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        assert "CID002082" in answer
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out


def test_bad_files_shared_in_slack_get_a_clear_answer(
    bot: Bot, stub: SlackStub, filled: dict[str, Path]
) -> None:
    from tests import hostile

    stub.add_file("FB1", "broken.xlsx", filled["CMRT-6.5"].read_bytes()[:5000])
    stub.add_file("FB2", "bomb.xlsx", hostile.zip_bomb(20))
    stub.add_file("FB3", "empty.xlsx", b"\0")
    big = stub.add_file("FB4", "huge.xlsx", b"x")
    big["size"] = 200 * 1024 * 1024  # Slack reports the size before we download anything
    for i, fid in enumerate(("FB1", "FB2", "FB3", "FB4")):
        bot.event(file_share(fid, f"60{i}.1"))
    posts = stub.wait_for("chat.postMessage", count=4)
    texts = {p["thread_ts"]: json.dumps(p) for p in posts}
    assert "could not read broken.xlsx" in texts["600.1"] and "damaged" in texts["600.1"]
    assert "zip bomb" in texts["601.1"]
    assert "could not read empty.xlsx" in texts["602.1"]
    assert "too large" in texts["603.1"]
    assert (
        Store(bot.db).count("submissions") == 3
    )  # unreadable files are stored with their finding; the huge one was never downloaded
