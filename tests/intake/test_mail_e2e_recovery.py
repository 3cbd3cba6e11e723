"""Mail end to end when things fail: a killed run, SMTP down, Dovecot restarted, IDLE."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.intake.mail_support import ASSAY, Env, supplier_message
from tests.servers import Dovecot, Smtp, free_port

pytestmark = pytest.mark.e2e


def wait_for(predicate, timeout: float = 30.0, step: float = 0.2):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out waiting")


def test_killed_between_store_and_move_then_restarted(
    tmp_path: Path, dovecot: Dovecot, smtp: Smtp, filled: dict[str, Path]
) -> None:
    env = Env(tmp_path, dovecot, smtp.port)
    env.send(supplier_message(env, filled["CMRT-6.5"].read_bytes()))
    crashed = env.serve_once(fault="after-store")
    assert crashed.returncode == 70  # killed after the result was stored, before the move
    assert len(dovecot.messages(env.survey)) == 1  # still in the inbox
    assert env.sql("select count(*) from messages") == [(1,)]
    again = env.serve_once()
    assert again.returncode == 0, again.stderr
    assert len(dovecot.messages(env.supplier)) == 1  # one reply
    assert env.sql("select count(*) from submissions") == [(1,)]  # one submission
    assert env.sql("select count(*) from outbox where channel = 'email'") == [(1,)]
    assert (
        dovecot.messages(env.survey) == [] and len(dovecot.messages(env.survey, "Processed")) == 1
    )


def test_smtp_down_then_back_delivers_late_and_once(
    tmp_path: Path, dovecot: Dovecot, filled: dict[str, Path]
) -> None:
    port = free_port()
    env = Env(tmp_path, dovecot, port)
    env.send(supplier_message(env, filled["EMRT-2.1"].read_bytes(), name="emrt.xlsx"))
    down = env.serve_once()
    assert down.returncode == 0, down.stderr
    assert env.sql("select status, attempts from outbox where channel = 'email'") == [
        ("pending", 1)
    ]
    assert dovecot.messages(env.supplier) == []
    smtp = Smtp(dovecot, port=port).start()
    try:
        back = env.serve_once()
        assert back.returncode == 0, back.stderr
        assert len(dovecot.messages(env.supplier)) == 1
        env.serve_once()
        assert len(dovecot.messages(env.supplier)) == 1  # and never twice
        assert len(smtp.handler.received) == 1
    finally:
        smtp.stop()
    assert env.sql("select status from outbox where channel = 'email'") == [("sent",)]


def test_reconnects_after_dovecot_restart_during_idle(
    tmp_path: Path, dovecot: Dovecot, smtp: Smtp, filled: dict[str, Path]
) -> None:
    env = Env(tmp_path, dovecot, smtp.port)
    proc = subprocess.Popen(
        [ASSAY, "--config", str(env.config), "serve"],
        env=env.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        env.send(supplier_message(env, filled["CRT-2.2"].read_bytes(), subject="first"))
        wait_for(lambda: len(dovecot.messages(env.supplier)) == 1, timeout=60)
        dovecot.restart()
        env.send(supplier_message(env, filled["AMRT-1.3"].read_bytes(), subject="second"))
        wait_for(lambda: len(dovecot.messages(env.supplier)) == 2, timeout=90)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "reconnecting" in out
    assert sorted(m["Subject"] for m in dovecot.messages(env.supplier)) == [
        "Re: first",
        "Re: second",
    ]


def test_serve_with_idle_picks_up_new_mail_quickly(
    tmp_path: Path, dovecot: Dovecot, smtp: Smtp
) -> None:
    env = Env(tmp_path, dovecot, smtp.port)
    stop = threading.Event()
    proc = subprocess.Popen(
        [ASSAY, "--config", str(env.config), "serve"],
        env=env.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        time.sleep(1.5)
        start = time.monotonic()
        env.send(supplier_message(env, subject="no attachment"))
        wait_for(lambda: len(dovecot.messages(env.supplier)) == 1, timeout=60)
        assert time.monotonic() - start < 30
    finally:
        stop.set()
        proc.terminate()
        proc.communicate(timeout=30)
