"""CSV and XLSX exports of the lists Assay prints (``suppliers list``, ``grievance list``,
``campaign status``, ``report smelters``, ``remediation list``): text that a spreadsheet would run as a formula
comes out escaped in CSV (a leading apostrophe) and as a string cell in XLSX."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import openpyxl
import pytest

from assay.cli_grievance import HEADER as GRIEVANCE_HEADER
from assay.cli_remediation import REMEDIATION_HEADER
from assay.cli_suppliers import HEADER as SUPPLIER_HEADER
from tests.assay.campaign_cli_support import Env
from tests.storage.campaign_support import receive, register, rmap, spec, supplier

FORMULAS = (
    '=HYPERLINK("http://evil.example.test/","x")',
    "+1 Synthetic",
    "-2 Synthetic",
    "@SUM(A1)",
)
PLAIN = "Plain Synthetic Parts Ltd"


@pytest.fixture
def env(tmp_path: Path) -> Env:
    env = Env(tmp_path)
    store = env.store()
    ids = register(store, *(supplier(n) for n in (*FORMULAS, PLAIN)))
    ref = store.reference_data()
    tin = sorted(c for c, s in ref.smelters.items() if s.metal == "Tin")[:2]
    receive(store, ids[FORMULAS[0]], "evil-1", smelters=(("Tin", tin[0]), ("Tin", "@BAD")))
    receive(store, ids[PLAIN], "plain-1", smelters=(("Tin", tin[1]),))
    store.create_campaign(spec(), list(ids.values()), dt.date(2026, 1, 5))
    store.create_grievance(
        message_key="m1", mailbox="grievances", category="@other", subject_enc="SUBJECT-TOKEN",
        body_enc="confidential-marker", reporter_enc="REPORTER-TOKEN", reply_token="t1",
        cids=(tin[0],), supplier_ids=(ids[PLAIN],), respond_by="2026-12-31", attachments=(),
        year=2026,
    )  # fmt: skip
    return env


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _escaped_in_csv(rows: list[list[str]], column: int) -> None:
    names = {r[column] for r in rows[1:] if r}
    for text in FORMULAS:
        assert "'" + text in names, text
        assert text not in names
    assert PLAIN in names


def _strings_in_xlsx(path: Path, sheet: str, column: int) -> None:
    cells = {r[column].value: r[column] for r in openpyxl.load_workbook(path)[sheet].iter_rows()}
    for text in (*FORMULAS, PLAIN):
        assert cells[text].data_type == "s", text  # a string, never a formula


def test_suppliers_list_csv_and_xlsx(env: Env) -> None:
    rows = _csv(env.run("suppliers", "list", "--format", "csv").output)
    assert tuple(rows[0]) == SUPPLIER_HEADER
    _escaped_in_csv(rows, 0)
    evil = next(r for r in rows if r[0] == "'" + FORMULAS[0])
    assert evil[2:5] == ["yes", evil[3], "CMRT"] and evil[3]
    path = env.tmp / "suppliers.xlsx"
    assert "wrote" in env.run("suppliers", "list", "--format", "xlsx", "--out", str(path)).output
    _strings_in_xlsx(path, "Suppliers", 0)
    env.run("suppliers", "list", "--format", "xlsx", code=2)  # needs --out
    out = env.tmp / "suppliers.csv"
    env.run("suppliers", "list", "--format", "csv", "--out", str(out))
    assert _csv(out.read_text("utf-8")) == rows
    text = env.run("suppliers", "list").output  # text stays as it was
    assert text.splitlines()[-1] == "2 of 5 supplier(s) answered (40%)"


def test_grievance_list_exports_no_content_and_escapes(env: Env) -> None:
    out = env.run("grievance", "list", "--format", "csv").output
    rows = _csv(out)
    assert tuple(rows[0]) == GRIEVANCE_HEADER
    assert rows[1][1:4] == ["received", "", "'@other"]
    assert rows[1][-1] == "1"
    as_json = env.run("grievance", "list", "--format", "json").output
    path = env.tmp / "grievances.xlsx"
    env.run("grievance", "list", "--format", "xlsx", "--out", str(path))
    sheet = openpyxl.load_workbook(path)["Grievances"]
    assert (sheet["D2"].value, sheet["D2"].data_type) == ("@other", "s")
    cells = " ".join(str(c.value) for r in sheet.iter_rows() for c in r)
    for secret in ("confidential-marker", "SUBJECT-TOKEN", "REPORTER-TOKEN", "t1"):
        assert secret not in out and secret not in as_json and secret not in cells
    assert json.loads(as_json)[0]["category"] == "@other"


def test_campaign_status_csv_and_xlsx(env: Env) -> None:
    args = ("campaign", "status", "CMRT 2026", "--as-of", "2026-11-01")
    _escaped_in_csv(_csv(env.run(*args, "--format", "csv").output), 0)
    path = env.tmp / "status.xlsx"
    env.run(*args, "--format", "xlsx", "--out", str(path))
    _strings_in_xlsx(path, "Suppliers", 0)


def test_report_smelters_full_csv_and_xlsx(env: Env) -> None:
    rows = _csv(env.run("report", "smelters", "--columns", "full").output)
    names = [r[-1] for r in rows[1:3]]
    assert "'" + FORMULAS[0] in names and PLAIN in names
    unidentified = rows[rows.index(["Unidentified smelters"]) + 2]
    assert unidentified[:4] == ["Tin", "Synthetic smelter @BAD", "", "identifier is not an RMI CID"]
    assert unidentified[-1] == "'" + FORMULAS[0]
    path = env.tmp / "smelters.xlsx"
    env.run("report", "smelters", "--columns", "full", "--format", "xlsx", "--out", str(path))
    cells = [r[10] for r in openpyxl.load_workbook(path)["Smelters"].iter_rows(min_row=2)]
    assert {c.value for c in cells} == {FORMULAS[0], PLAIN}
    assert {c.data_type for c in cells} == {"s"}


def test_remediation_list_csv_and_xlsx(env: Env) -> None:
    """A supplier named like a formula with a smelter not on the RMAP list in force."""
    store = env.store()
    tin = sorted(c for c, s in store.reference_data().smelters.items() if s.metal == "Tin")[:2]
    rmap(store, "tin-2026", dt.date(2026, 10, 1), {tin[1]: "Conformant"})
    rows = _csv(env.run("remediation", "list", "--format", "csv").output)
    assert tuple(rows[0]) == REMEDIATION_HEADER
    # The file also lists "@BAD" (no RMAP list names it): the cell starts with "@", so escaped.
    listed = "'@BAD " + tin[0]
    assert [(r[1], r[4], r[5]) for r in rows[1:]] == [("'" + FORMULAS[0], listed, "open")]
    path = env.tmp / "remediations.xlsx"
    env.run("remediation", "list", "--format", "xlsx", "--out", str(path))
    sheet = openpyxl.load_workbook(path)["Remediations"]
    assert (sheet["B2"].value, sheet["B2"].data_type) == (FORMULAS[0], "s")
    env.run("remediation", "list", "--format", "xlsx", code=2)  # needs --out


def test_a_terminal_gets_no_control_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    """CSV to a terminal: escape sequences and bidi overrides from supplier data are dropped
    (a file, or a pipe, keeps every character)."""
    from assay.cli_output import emit, for_terminal

    text = "Gold,CID000001,Gamma\x07 Synthetic\x1b[2J Trading\u202e,PERU\n"
    assert for_terminal(text) == "Gold,CID000001,Gamma Synthetic[2J Trading,PERU\n"

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream, expected in ((Tty(), for_terminal(text)), (io.StringIO(), text)):
        monkeypatch.setattr("sys.stdout", stream)
        emit(text, None)
        assert stream.getvalue() == expected
