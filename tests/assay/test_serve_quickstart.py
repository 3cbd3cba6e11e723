"""The quick start: `assay serve --once` on the embedded defaults, in an empty folder."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from email import message_from_bytes
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ASSAY = shutil.which("assay", path=str(Path(sys.executable).parent)) or "assay"


def test_serve_once_on_embedded_defaults(tmp_path: Path) -> None:
    proc = subprocess.run(
        [ASSAY, "serve", "--once"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert "processed 4 supplier message(s) and 1 grievance message(s)" in proc.stdout
    replies = sorted((tmp_path / "var" / "outbox").glob("*.eml"))
    assert (
        len(replies) == 4
    )  # two screenings, one "no template", one grievance acknowledgement; no reply to the out-of-office
    subjects = sorted(
        str(message_from_bytes(p.read_bytes())["Subject"]).split(" [")[0] for p in replies
    )
    assert subjects[:3] == [
        "Re: 2026 conflict minerals survey",
        "Re: 2026 conflict minerals survey",
        "Re: EMRT 2026",
    ]
    # the grievance acknowledgement: a fixed subject, nothing echoed from the report
    assert subjects[3].startswith("Your report GRV-") and "Children" not in subjects[3]
    with sqlite3.connect(tmp_path / "var" / "assay.db") as db:
        assert db.execute("select count(*) from submissions").fetchone() == (2,)
        assert db.execute("select count(*) from grievances").fetchone() == (1,)
    alerts = (tmp_path / "var" / "alerts.log").read_text()
    assert "[grievance] new case GRV-" in alerts
    assert "HIGH" in alerts and "1 high-risk smelter(s), details below" in alerts
    # The details name the smelter with the reason found on its own row.
    assert "high-risk: CID003387 Luna Smelter, Ltd. (Tin): located in the DRC" in alerts
    # Run again: nothing new, nothing sent twice.
    again = subprocess.run(
        [ASSAY, "serve", "--once"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert "processed 0 supplier message(s) and 0 grievance message(s); 0 e-mail(s)" in again.stdout
    assert len(list((tmp_path / "var" / "outbox").glob("*.eml"))) == 4


def test_grievance_officer_commands(tmp_path: Path) -> None:
    subprocess.run(
        [ASSAY, "serve", "--once"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    listing = subprocess.run(
        [ASSAY, "grievance", "list"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    case_id = listing.split()[0]
    assert case_id.startswith("GRV-") and "child-labour" in listing and "CID000292" in listing
    assert "worker.1234" not in listing
    upd = subprocess.run(
        [
            ASSAY,
            "grievance",
            "update",
            case_id,
            "--status",
            "investigating",
            "--note",
            "Asked the smelter for its audit report.",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert upd.returncode == 0, upd.stderr
    shown = subprocess.run(
        [ASSAY, "grievance", "show", case_id],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert (
        "status investigating" in shown
        and "children carrying ore" in shown
        and "Asked the smelter" in shown
    )
    assert "worker.1234" not in shown
    bad = subprocess.run(
        [ASSAY, "grievance", "update", "GRV-1999-0001", "--status", "closed"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1 and "no case" in bad.stderr
    db = (tmp_path / "var" / "assay.db").read_bytes()
    assert (
        b"worker.1234" not in db and b"children carrying ore" not in db
    )  # case text is encrypted at rest
