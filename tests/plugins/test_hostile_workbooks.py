"""Hostile workbooks: each one, small and compressed, through every path that reads files.

- ``assay screen`` in a fresh process (time and peak memory bounded, no traceback);
- the mail intake (``assay serve --once``) with one worker and with a pool: a clear finding
  in the reply, and every other message in the same mailbox answered;
- a file shared in Slack, against the Bolt app over real HTTP (tests/bot/test_slack_e2e's bot).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests import hostile
from tests.plugins.test_bad_input import run_measured
from tests.slack_bot import Bot, file_share
from tests.slack_stub import SlackStub

pytestmark = pytest.mark.e2e

ASSAY = shutil.which("assay", path=str(Path(sys.executable).parent)) or "assay"
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = hostile.EXAMPLE.read_bytes()
TOO_COMPLEX = "far more memory or time to open than any RMI template"
DATE_PHRASE = "a cell formatted as a date holds a number no calendar can show"

#: name -> (builder, finding code, phrase of the message)
HOSTILE: dict[str, tuple[Callable[[bytes], bytes], str, str]] = {
    "cell-at-XFD1048576": (hostile.far_cell, "file-too-complex", TOO_COMPLEX),
    "ref-ZZZZZZZ2506": (hostile.overflowing_ref, "file-too-complex", TOO_COMPLEX),
    "cell-in-column-XFD": (hostile.far_column_cell, "file-too-complex", TOO_COMPLEX),
    "date-minus-1e300": (hostile.impossible_date, "unreadable-file", DATE_PHRASE),
}
TIME_LIMIT_S, MEMORY_LIMIT_MB = 10.0, 400


def _screen(tmp: Path, path: Path, *extra: str) -> tuple[int, dict, str, float, float]:  # type: ignore[type-arg]
    rc, out, err, seconds, peak_mb = run_measured(
        [*extra, "screen", "--no-store", "--format", "json", str(path)], tmp
    )
    assert "Traceback" not in err and "Traceback" not in out, err[-2000:]
    [result] = json.loads(out)
    return rc, result, err, seconds, peak_mb


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_workbook_through_assay_screen(tmp_path: Path, case: str) -> None:
    make, code, phrase = HOSTILE[case]
    data = make(EXAMPLE)
    assert len(data) < 2 * 1024 * 1024  # small on disk
    path = tmp_path / f"{case}.xlsx"
    path.write_bytes(data)
    rc, result, _err, seconds, peak_mb = _screen(tmp_path, path)
    assert rc == 2 and result["readable"] is False
    [finding] = result["findings"]
    assert (finding["code"], finding["severity"]) == (code, "error")
    assert phrase in finding["message"]
    assert seconds < TIME_LIMIT_S, f"{case} took {seconds:.1f} s"
    assert peak_mb < MEMORY_LIMIT_MB, f"{case} peaked at {peak_mb:.0f} MB"


def test_one_cell_on_the_last_row_is_cut_and_named(tmp_path: Path) -> None:
    """A stray cell on row 1,048,576: the sheet is read up to its real end, the rest named."""
    path = tmp_path / "last-row.xlsx"
    path.write_bytes(hostile.last_row_cell(EXAMPLE))
    rc, result, _err, _s, peak_mb = _screen(tmp_path, path)
    assert rc == 0 and result["readable"] is True  # everything above the stray cell is screened
    [cut] = [f for f in result["findings"] if f["code"] == "too-many-rows"]
    assert cut["severity"] == "error" and cut["sheet"] == "Declaration"
    assert "1,048,576" in cut["message"] and "the last row read" in cut["message"]
    assert result["declaration"]["company_name"]  # the declaration itself was read
    assert peak_mb < MEMORY_LIMIT_MB


def test_a_50000_row_smelter_list_is_read_to_its_last_row(tmp_path: Path) -> None:
    """The high-risk smelter on row 50,000 is seen: the file is HIGH because of that row."""
    path = tmp_path / "long.xlsx"
    path.write_bytes(hostile.long_smelter_list(EXAMPLE, 50_000))
    assert path.stat().st_size < 3 * 1024 * 1024
    rc, result, _err, _s, peak_mb = _screen(tmp_path, path)
    assert rc == 0 and result["risk_level"] == "high"
    assert max(r["row"] for r in result["smelters"]) == 50_000
    last = [f for f in result["findings"] if f["cell"] == "E50000"]
    assert [f["code"] for f in last] == ["smelter-in-covered-country"]
    assert not [f for f in result["findings"] if f["code"] == "too-many-rows"]
    assert peak_mb < MEMORY_LIMIT_MB


def test_a_list_longer_than_the_row_limit_names_the_last_row_read(tmp_path: Path) -> None:
    config = tmp_path / "assay.toml"
    config.write_text("[limits]\nmax_rows = 10000\n")
    path = tmp_path / "longer.xlsx"
    path.write_bytes(hostile.long_smelter_list(EXAMPLE, 12_000))
    rc, result, _err, _s, _m = _screen(tmp_path, path, "--config", str(config))
    assert rc == 0
    [cut] = [f for f in result["findings"] if f["code"] == "too-many-rows"]
    assert cut["sheet"] == "Smelter List" and cut["cell"] == "A10000"
    assert (
        "row 12,000" in cut["message"] and "up to row 10,000 (the last row read)" in cut["message"]
    )
    assert max(r["row"] for r in result["smelters"]) == 10_000


# -- the mail intake ------------------------------------------------------------------------


def _message(key: str, name: str, data: bytes) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"{key}@supplier{key[:2]}.example.test"
    msg["To"] = "compliance@example.test"
    msg["Subject"] = f"Declaration {key}"
    msg["Message-ID"] = f"<{key}@supplier.example.test>"
    msg.set_content("Please find our declaration attached.")
    msg.add_attachment(
        data,
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=name,
    )
    return bytes(msg)


def _config(tmp: Path, workers: int) -> Path:
    path = tmp / "assay.toml"
    path.write_text(
        f"""
[assay]
database = "var/assay.db"
[screening]
as_of = "2026-06-30"
[mail]
workers = {workers}
seed_examples = false
[mail.suppliers]
path = "var/mail/suppliers"
[mail.grievances]
enabled = false
[smtp]
outbox_dir = "var/outbox"
[alerts]
log_file = "var/alerts.log"
"""
    )
    return path


@pytest.mark.parametrize("workers", [1, 2], ids=["one-worker", "pool"])
def test_hostile_mail_is_answered_and_good_mail_behind_it_too(tmp_path: Path, workers: int) -> None:
    inbox = tmp_path / "var" / "mail" / "suppliers" / "new"
    inbox.mkdir(parents=True)
    messages = {"01-good": ("northwind-cmrt-6.5.xlsx", EXAMPLE, "Accepted, with remarks")}
    for i, (case, (make, _code, phrase)) in enumerate(sorted(HOSTILE.items()), start=2):
        messages[f"0{i}-{case}"] = (f"{case}.xlsx", make(EXAMPLE), phrase)
    emrt = (ROOT / "examples" / "contoso-emrt-2.1.xlsx").read_bytes()
    messages["09-good-emrt"] = ("contoso-emrt-2.1.xlsx", emrt, "Accepted")
    for name, (filename, data, _phrase) in messages.items():
        (inbox / name).write_bytes(_message(name, filename, data))
    proc = subprocess.run(
        [ASSAY, "--config", str(_config(tmp_path, workers)), "serve", "--once"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert f"processed {len(messages)} supplier message(s)" in proc.stdout
    assert not list(inbox.iterdir())
    processed = tmp_path / "var" / "mail" / "suppliers" / ".Processed" / "cur"
    assert sorted(p.name for p in processed.iterdir()) == sorted(messages)
    replies = {}
    for eml in (tmp_path / "var" / "outbox").glob("*.eml"):
        reply = message_from_bytes(eml.read_bytes(), policy=policy.default)
        key = str(reply["In-Reply-To"]).strip("<>").split("@")[0]
        body = reply.get_body(preferencelist=("plain",))
        assert body is not None
        replies[key] = body.get_content()
    assert sorted(replies) == sorted(messages), "every message gets exactly one reply"
    for name, (_filename, _data, phrase) in messages.items():
        assert phrase in " ".join(replies[name].split()), name


# -- Slack ----------------------------------------------------------------------------------


def test_hostile_workbooks_shared_in_slack_get_an_answer_and_the_app_goes_on(
    bot: Bot, stub: SlackStub
) -> None:
    files = [(case, make(EXAMPLE)) for case, (make, _c, _p) in sorted(HOSTILE.items())]
    files.append(("good", EXAMPLE))
    for i, (case, data) in enumerate(files):
        stub.add_file(f"FH{i}", f"{case}.xlsx", data)
        bot.event(file_share(f"FH{i}", f"70{i}.1"))
    posts = stub.wait_for("chat.postMessage", count=len(files))
    texts = {p["thread_ts"]: " ".join(json.dumps(p).split()) for p in posts}
    for i, (case, _data) in enumerate(files):
        if case == "good":
            assert "Risk level" in texts[f"70{i}.1"] and "could not read" not in texts[f"70{i}.1"]
        else:
            phrase = HOSTILE[case][2]
            assert f"could not read {case}.xlsx" in texts[f"70{i}.1"], case
            assert phrase.split(" (")[0][:40] in texts[f"70{i}.1"], case
