"""``assay campaign`` and the ``[campaigns]`` config section, run in process.

The commands run through click's test runner on a database in a temporary folder; files are
credited to suppliers through the Store as the mail intake would. No mail server is started:
without an SMTP host, ``campaign send`` writes each e-mail as a .eml file. ``assay
remediation`` and ``assay suppliers show`` are in ``test_remediation_cli.py``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from assay.cli import cli
from assay.config import ConfigError, load_config
from tests.assay.campaign_cli_support import HOSTILE, NAMES, Env, create_campaign, two_answers
from tests.assay.campaign_cli_support import env as env
from tests.storage.campaign_support import outbox, receive


def test_create_then_send_twice_asks_each_supplier_once(env: Env) -> None:
    out = create_campaign(env, "--as-of", "2026-10-01").output
    assert "created campaign CMRT 2026: 4 supplier(s)" in out  # not the EMRT-only one
    assert "deadline 2026-12-01" in out and "final deadline 2026-12-29" in out
    again = create_campaign(env, code=1)
    assert "a campaign named 'CMRT 2026' exists already" in again.output

    dry = env.run("campaign", "send", "CMRT 2026", "--dry-run", "--as-of", "2026-10-01").output
    assert "would send 4 request(s)" in dry
    assert all(f"  {n}" in dry for n in NAMES)
    assert env.store().count("outbox") == 0 and env.emails() == []

    first = env.run("campaign", "send", "CMRT 2026", "--as-of", "2026-10-01").output
    assert "queued 4 request(s)" in first
    requests = outbox(env.store(), "campaign-request")
    assert sorted(r["supplier"] for r in requests) == sorted(NAMES)
    assert {r["deadline"] for r in requests} == {"2026-12-01"}
    assert {r["template_version"] for r in requests} == {"6.5"}  # "version": the schema
    assert len(env.emails()) == 4  # delivered as .eml files

    second = env.run("campaign", "send", "CMRT 2026", "--as-of", "2026-10-02").output
    assert "queued 0 request(s)" in second
    assert len(outbox(env.store(), "campaign-request")) == 4
    assert len(env.emails()) == 4

    # A supplier added later gets its request on the next send, and only it.
    env.run("campaign", "add", "CMRT 2026", "Emrt Only Synthetic", "--as-of", "2026-10-05")
    third = env.run("campaign", "send", "CMRT 2026", "--as-of", "2026-10-05").output
    assert "queued 1 request(s)" in third
    assert len(env.emails()) == 5
    listed = env.run("campaign", "list").output
    assert "CMRT 2026" in listed and "open" in listed


def test_status_json_counts_responses_and_grades(env: Env) -> None:
    two_answers(env)
    out = env.run("campaign", "status", "CMRT 2026", "--format", "json", "--as-of", "2026-11-01")
    s = json.loads(out.output)
    assert set(s) >= {
        "name",
        "template",
        "deadline",
        "final_deadline",
        "as_of",
        "suppliers",
        "responded",
        "accepted",
        "response_rate",
        "response_category",
        "by_metal",
        "overdue",
        "supplier_rows",
    }
    assert (s["name"], s["template"], s["deadline"], s["as_of"]) == (
        "CMRT 2026",
        "CMRT",
        "2026-12-01",
        "2026-11-01",
    )
    assert (s["suppliers"], s["responded"], s["accepted"]) == (4, 2, 1)
    assert s["response_rate"] == 0.5
    assert s["response_category"] == "50% or less"  # exactly half
    assert s["overdue"] == []  # before the deadline nobody is overdue
    rows = {r["name"]: r for r in s["supplier_rows"]}
    assert set(rows) == set(NAMES)
    for r in rows.values():
        assert set(r) >= {
            "name",
            "status",
            "grade",
            "grade_reasons",
            "attempts",
            "last_file_date",
            "reminders_sent",
            "owner",
            "metals",
        }
    alpha, beta = rows["Alpha Synthetic Metals"], rows["Beta Synthetic Alloys"]
    assert (alpha["status"], alpha["grade"], alpha["grade_reasons"], alpha["attempts"]) == (
        "accepted",
        "low",
        [],
        1,
    )
    assert alpha["owner"] == "buyer@corp.example.test" and alpha["metals"] == ["Tin"]
    assert alpha["last_file_date"] == dt.datetime.now(dt.UTC).date().isoformat()
    assert (beta["status"], beta["grade"], beta["attempts"]) == ("resubmit", "medium", 2)
    assert any("error" in reason for reason in beta["grade_reasons"])
    delta = rows["Delta Synthetic Works"]
    assert (delta["status"], delta["attempts"], delta["last_file_date"]) == ("requested", 0, None)
    assert delta["reminders_sent"] == 0
    # Per metal: Alpha is in scope for tin only.
    assert s["by_metal"]["Tin"]["suppliers"] == 4 and s["by_metal"]["Tin"]["responded"] == 2
    assert s["by_metal"]["Gold"]["suppliers"] == 3 and s["by_metal"]["Gold"]["responded"] == 1
    assert s["by_metal"]["Gold"]["response_category"] == "50% or less"

    late = json.loads(
        env.run(
            "campaign", "status", "CMRT 2026", "--format", "json", "--as-of", "2026-12-02"
        ).output
    )
    assert sorted(late["overdue"]) == sorted(n for n in NAMES if n != "Alpha Synthetic Metals")
    text = env.run("campaign", "status", "CMRT 2026", "--as-of", "2026-11-01").output
    assert "2 of 4 answered (50.0%, 50% or less)" in text

    # A file of another family, or an unreadable one, is an attempt but not a response.
    store = env.store()
    ids = {x.name: x.id for x in store.suppliers()}
    receive(store, ids["Delta Synthetic Works"], "delta-emrt", family="EMRT", version="2.1")
    receive(store, ids[HOSTILE], "hostile-broken", readable=False)
    after = json.loads(
        env.run(
            "campaign", "status", "CMRT 2026", "--format", "json", "--as-of", "2026-11-01"
        ).output
    )
    assert (after["suppliers"], after["responded"], after["accepted"]) == (4, 2, 1)
    rows = {r["name"]: r for r in after["supplier_rows"]}
    assert (rows["Delta Synthetic Works"]["status"], rows["Delta Synthetic Works"]["attempts"]) == (
        "requested",
        1,
    )
    assert rows[HOSTILE]["status"] == "requested" and rows[HOSTILE]["attempts"] == 1
    unknown = env.run("campaign", "status", "No Such Campaign", code=1).output
    assert "no campaign named 'No Such Campaign' (campaigns: CMRT 2026)" in unknown


def test_csv_and_xlsx_keep_a_formula_like_name_as_text(env: Env) -> None:
    two_answers(env)
    out = env.run("campaign", "status", "CMRT 2026", "--format", "csv", "--as-of", "2026-11-01")
    table = list(csv.reader(io.StringIO(out.output)))
    assert table[0][:3] == ["Supplier", "Status", "Grade"]
    names = [row[0] for row in table[1:]]
    assert "'" + HOSTILE in names
    assert not any(n.startswith(("=", "+", "-", "@")) for n in names)
    by_name = {row[0]: row for row in table[1:]}
    assert by_name["Beta Synthetic Alloys"][1] == "resubmit"

    path = env.tmp / "status.xlsx"
    env.run(
        "campaign",
        "status",
        "CMRT 2026",
        "--format",
        "xlsx",
        "--out",
        str(path),
        "--as-of",
        "2026-11-01",
    )
    book = openpyxl.load_workbook(path)
    sheet = book["Suppliers"]
    cells = {row[0].value: row[0] for row in sheet.iter_rows(min_row=2)}
    hostile = cells[HOSTILE]  # the text itself, no apostrophe added
    assert hostile.data_type == "s"
    assert {c.data_type for c in cells.values()} == {"s"}
    summary = [[c.value for c in row] for row in book["Response rate"].iter_rows()]
    assert summary[1][:6] == ["(all)", 4, 2, 1, 0.5, "50% or less"]
    # --format xlsx without --out is a usage error, not a file written somewhere.
    env.run("campaign", "status", "CMRT 2026", "--format", "xlsx", code=2)


def test_suppliers_file_with_an_unknown_name_is_refused(env: Env) -> None:
    listed = env.tmp / "chosen.csv"
    listed.write_text(
        "name\nAlpha Synthetic Metals\nNobody Synthetic Ltd\nbeta synthetic alloys\n", "utf-8"
    )
    out = create_campaign(env, "--suppliers", str(listed), code=1).output
    assert "not in the supplier registry: Nobody Synthetic Ltd" in out
    assert "Alpha" not in out.split("registry:")[1]
    assert env.store().campaign("CMRT 2026") is None

    listed.write_text("Alpha Synthetic Metals,ignored column\nbeta synthetic alloys\n", "utf-8")
    assert "2 supplier(s)" in create_campaign(env, "--suppliers", str(listed)).output
    store = env.store()
    c = store.campaign("CMRT 2026")
    assert c is not None
    assert [m.name for m in store.members(c.id)] == [
        "Alpha Synthetic Metals",
        "Beta Synthetic Alloys",
    ]


# -- [campaigns] in the config file -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('run_at = "8am"', "[campaigns] run_at '8am' is not a time (HH:MM)"),
        ('run_at = "25:00"', "[campaigns] run_at '25:00' is not a time (HH:MM)"),
        ("run_at = 8", "[campaigns] run_at must be a string"),
        ("escalate_after = -1", "[campaigns] escalate_after must be 0 or more days"),
        ("final_after = -28", "[campaigns] final_after must be 0 or more days"),
        ("stale_after_days = -5", "[campaigns] stale_after_days must be 0 or more days"),
        ('reminder_days = [-14, "3"]', "[campaigns] reminder_days must be a list of whole numbers"),
        ("reminder_days = [-14, 3.5]", "[campaigns] reminder_days must be a list of whole numbers"),
        ("reminder_days = [true]", "[campaigns] reminder_days must be a list of whole numbers"),
        ("reminder_days = 7", "[campaigns] reminder_days must be a list of whole numbers"),
        ("remind_days = [7]", "unknown key [campaigns] remind_days — did you mean reminder_days?"),
    ],
)
def test_campaigns_config_refused_with_a_clear_message(
    tmp_path: Path, body: str, message: str
) -> None:
    path = tmp_path / "assay.toml"
    path.write_text(f"[campaigns]\n{body}\n", "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"config file {path}: {message}")
    result = CliRunner().invoke(cli, ["--config", str(path), "campaign", "list"])
    assert result.exit_code == 1 and message in result.output


def test_campaigns_config_is_read(tmp_path: Path) -> None:
    path = tmp_path / "assay.toml"
    path.write_text(
        "[campaigns]\nreminder_days = [-7, 0, 3]\nescalate_after = 0\nfinal_after = 10\n"
        'run_at = "06:30"\ndigest = false\n',
        "utf-8",
    )
    c = load_config(path).campaigns
    assert (c.reminder_days, c.escalate_after, c.final_after, c.run_at, c.digest) == (
        (-7, 0, 3),
        0,
        10,
        "06:30",
        False,
    )


def test_create_uses_the_configured_schedule(env: Env) -> None:
    text = (
        env.config.read_text("utf-8") + "[campaigns]\nreminder_days = [-7, 2]\nfinal_after = 10\n"
    )
    env.config.write_text(text, "utf-8")
    out = create_campaign(env, "--escalate-after", "3", "--as-of", "2026-10-01").output
    assert "final deadline 2026-12-11" in out
    c = env.store().campaign("CMRT 2026")
    assert c is not None and (c.reminder_days, c.escalate_after) == ((-7, 2), 3)
    env.run(
        "campaign",
        "create",
        "Other",
        "--template",
        "CMRT",
        "--deadline",
        "2026-12-01",
        "--final-deadline",
        "2026-11-01",
        code=2,
    )
    env.run(
        "campaign",
        "create",
        "Other",
        "--template",
        "CMRT",
        "--deadline",
        "2026-12-01",
        "--escalate-after",
        "-1",
        code=2,
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "no supplier name in it"),  # empty
        (b"# only a comment\nname\n", "no supplier name in it"),
        (b"PK\x03\x04\x00\xff\xfe binary", "not a text or CSV file"),  # corrupt: a zip's bytes
        (b"Alpha\x00Synthetic\n", "not a text or CSV file"),  # hostile: a NUL byte
        (b"x" * (5 * 1024 * 1024 + 1), "larger than 5 MB"),  # oversized
    ],
)
def test_a_suppliers_file_that_is_no_list_is_refused_clearly(
    env: Env, content: bytes, message: str
) -> None:
    listed = env.tmp / "chosen.csv"
    listed.write_bytes(content)
    result = create_campaign(env, "--suppliers", str(listed), code=1)
    assert message in result.output and "Traceback" not in result.output
    assert env.store().campaign("CMRT 2026") is None  # nothing half-made
