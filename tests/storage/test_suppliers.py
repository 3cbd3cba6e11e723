"""The supplier registry: import, matching, answers, and the mismatch warning."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest

from intake.messages import MailLimits
from intake.supplier_mail import ReplyPolicy, handle_supplier_message
from plugins.manager import get_plugin_manager
from plugins.pipeline import Screener
from storage.models import SupplierEntry
from storage.store import Store
from tests.builders import AS_OF

ASSAY = shutil.which("assay", path=str(Path(sys.executable).parent)) or "assay"


def registry(tmp_path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Supplier registry 2026"])
    ws.append(["Name", "Emails", "Domains", "Templates"])
    ws.append(["Synthetic Components Ltd.", "alex.example@example.test", "", "CMRT"])
    ws.append(["Contoso Synthetic Batteries Inc.", "", "contoso.example.test", "EMRT; CMRT"])
    ws.append(
        ["Fabrikam Synthetic", "kim@fabrikam.example.test, ops@fabrikam.example.test", "", "CMRT"]
    )
    path = tmp_path / "suppliers.xlsx"
    wb.save(path)
    return path


def mail(sender: str, attachment: bytes | None) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "survey@example.test", "survey"
    msg["Message-ID"] = f"<{os.urandom(6).hex()}@example.test>"
    msg.set_content("attached")
    if attachment:
        msg.add_attachment(
            attachment, maintype="application", subtype="octet-stream", filename="cmrt.xlsx"
        )
    return bytes(msg)


def test_import_match_and_list(tmp_path: Path, filled: dict[str, Path]) -> None:
    db = tmp_path / "s.db"
    proc = subprocess.run(
        [ASSAY, "suppliers", "import", "--db", str(db), str(registry(tmp_path))],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and "imported 3" in proc.stdout, proc.stderr
    store = Store(db)
    assert store.match_supplier("ALEX.EXAMPLE@example.test")[1] == "address"
    found, _how = store.match_supplier("lee@contoso.example.test")
    assert found is not None and found.name == "Contoso Synthetic Batteries Inc."
    assert (
        store.match_supplier("someone@elsewhere.example.test", "SYNTHETIC COMPONENTS LTD")[1]
        == "company"
    )
    assert store.match_supplier("someone@elsewhere.example.test")[0] is None
    screener = Screener(get_plugin_manager(), store.reference_data(), as_of=AS_OF)
    args = {
        "store": store,
        "screener": screener,
        "mailbox": "suppliers",
        "limits": MailLimits(),
        "policy": ReplyPolicy(),
        "now": dt.datetime(2026, 6, 30, tzinfo=dt.UTC),
    }
    # The declared company (Synthetic Components) is not the sender's supplier (Fabrikam): a warning.
    handle_supplier_message(
        mail("kim@fabrikam.example.test", filled["CMRT-6.5"].read_bytes()), **args
    )
    alerts = [
        json.loads(r["payload"]) for r in store.db.table("outbox").rows_where("channel = 'alert'")
    ]
    assert any(
        a["kind"] == "sender-mismatch" and a["supplier"] == "Fabrikam Synthetic" for a in alerts
    )
    handle_supplier_message(
        mail("alex.example@example.test", filled["CMRT-6.4"].read_bytes()), **args
    )
    listing = subprocess.run(
        [ASSAY, "suppliers", "list", "--db", str(db), "--format", "json"],
        capture_output=True,
        text=True,
    )
    rows = {r["name"]: r for r in json.loads(listing.stdout)}
    assert rows["Synthetic Components Ltd."]["template_version"] == "6.4"
    assert rows["Fabrikam Synthetic"]["template_type"] == "CMRT"
    assert rows["Contoso Synthetic Batteries Inc."]["last_received"] is None
    text = subprocess.run(
        [ASSAY, "suppliers", "list", "--db", str(db)], capture_output=True, text=True
    ).stdout
    assert "2 of 3 supplier(s) answered (67%)" in text and "no answer yet" in text


@pytest.mark.slow
def test_registry_without_known_columns_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("who,what\nx,y\n", "utf-8")
    proc = subprocess.run(
        [ASSAY, "suppliers", "import", "--db", str(tmp_path / "d.db"), str(bad)],
        capture_output=True,
        text=True,
    )
    assert (
        proc.returncode == 1
        and "supplier name column" in proc.stderr
        and "Traceback" not in proc.stderr
    )


def test_a_resubmission_is_compared_only_with_what_the_same_supplier_sent(
    tmp_path: Path, filled: dict[str, Path]
) -> None:
    """Someone who declares a registered supplier's company name is not shown that
    supplier's previous results; the supplier itself is, and a file is never compared with
    another file of the same message."""
    store = Store(tmp_path / "s.db")
    store.import_suppliers(
        [SupplierEntry("Synthetic Components Ltd.", ("alex.example@example.test",))]
    )
    screener = Screener(get_plugin_manager(), store.reference_data(), as_of=AS_OF)
    args = {
        "store": store,
        "screener": screener,
        "mailbox": "suppliers",
        "limits": MailLimits(),
        "policy": ReplyPolicy(),
        "now": dt.datetime(2026, 6, 30, tzinfo=dt.UTC),
    }
    cmrt, older = filled["CMRT-6.5"].read_bytes(), filled["CMRT-6.4"].read_bytes()

    def reply_files(sender: str, *attachments: bytes) -> list[dict[str, object]]:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, "survey@example.test", "survey"
        msg["Message-ID"] = f"<{os.urandom(6).hex()}@example.test>"
        msg.set_content("attached")
        for i, data in enumerate(attachments):
            msg.add_attachment(
                data, maintype="application", subtype="octet-stream", filename=f"f{i}.xlsx"
            )
        handle_supplier_message(bytes(msg), **args)
        row = store.db.execute(
            "select payload from outbox where channel = 'email' order by id desc limit 1"
        ).fetchone()
        return list(json.loads(row[0])["files"])

    # Two files of one message, declaring the same company: neither is the other's "previous".
    assert all("previous" not in f for f in reply_files("alex.example@example.test", older, cmrt))
    # Anyone else declaring that company's name: no comparison, no earlier results.
    stranger = reply_files("mallory@elsewhere.example.test", older)
    assert stranger and "previous" not in stranger[0]
    # The supplier itself, sending a file again: compared with its last file.
    [mine] = reply_files("alex.example@example.test", cmrt)
    assert isinstance(mine.get("previous"), dict)
