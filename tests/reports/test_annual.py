"""The annual report: its sections' figures, the year's bounds, privacy, en/zh, byte-stability.

One synthetic installation (``book``) for 2025: two campaigns opened in the year and one
the year before, files received in 2025 and one in 2026 (which a 2025 report must not read),
remediations and grievances on both sides of the year. Times are set in the database so
the figures do not depend on the day the test runs.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from assay.cli_annual import annual, company_name
from assay.config import Config
from reports.annual import annual_report
from reports.annual_charts import response_curve
from reports.annual_data import annual_facts
from reports.annual_text import TEXT
from storage.store import Store
from tests.storage.campaign_support import receive, register, rmap, spec, supplier

pytestmark = pytest.mark.slow  # matplotlib charts and whole reports: seconds each

ROOT = Path(__file__).resolve().parents[2]
YEAR = 2025
SECRET = "Secret Supplier Zeta"
MARKER = "confidential-marker"
HOSTILE_CAMPAIGN = "<script>alert(1)</script> CMRT"


def _stamp(day: dt.date, hour: int = 9) -> str:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC).isoformat()


def _received(store: Store, sha: str, day: dt.date) -> None:
    store.db.execute(
        "update submission_sources set received_at = ? where sha256 = ?", [_stamp(day), sha]
    )
    store.db.conn.commit()


def _campaign(store: Store, name: str, family: str, opened: dt.date, ids: list[int]) -> None:
    c = store.create_campaign(
        spec(name, opened + dt.timedelta(days=92), family=family), ids, opened
    )
    store.db.execute("update campaigns set created_at = ? where id = ?", [_stamp(opened, 0), c.id])
    store.db.conn.commit()


def _grievance(store: Store, n: int, category: str, created: dt.date, status: str = "") -> None:
    case = store.create_grievance(
        message_key=f"grv-{n}",
        mailbox="grievances",
        category=category,
        # Stored as they are (no encryption here): were the report to read them, they would show.
        subject_enc=f"{MARKER} subject",
        body_enc=f"{MARKER} body, reported by someone@example.test",
        reporter_enc="someone@example.test",
        reply_token=f"token-{n}",
        cids=["CID004065"],
        supplier_ids=[],
        respond_by="",
        attachments=[],
        year=created.year,
    )
    assert case is not None
    if status:
        store.update_grievance(case, status, f"{MARKER} note")
    store.db.execute(
        "update grievances set created_at = ? where case_id = ?", [_stamp(created), case]
    )
    store.db.conn.commit()


def _remediation(
    store: Store,
    sid: int,
    sha: str,
    opened: dt.date,
    closed: dt.date | None = None,
    waived: bool = False,
) -> None:
    rid = store.open_remediation(sid, sha, ["CID004065"])
    if closed is not None:
        store.close_remediation(rid, "waived: synthetic", None, waived=waived)
    store.db.execute(
        "update remediations set opened_at = ?, closed_at = ? where id = ?",
        [_stamp(opened), _stamp(closed) if closed else None, rid],
    )
    store.db.conn.commit()


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A database with a year of synthetic survey data; returns its path."""
    db = tmp_path / "assay.db"
    store = Store(db)
    ids = register(
        store,
        supplier(SECRET, address="secret@zeta.example.test"),
        supplier("Alpha Synthetic Metals"),
        supplier("Gamma Synthetic Works"),
        supplier("Beta Synthetic Alloys", expected=("EMRT",)),
    )
    zeta, alpha, gamma, beta = (
        ids[n]
        for n in (
            SECRET,
            "Alpha Synthetic Metals",
            "Gamma Synthetic Works",
            "Beta Synthetic Alloys",
        )
    )
    _campaign(store, "CMRT 2025", "CMRT", dt.date(YEAR, 3, 1), [zeta, alpha, gamma])
    _campaign(store, HOSTILE_CAMPAIGN, "EMRT", dt.date(YEAR, 4, 1), [beta])
    _campaign(store, "CMRT 2024", "CMRT", dt.date(YEAR - 1, 3, 1), [zeta])
    files = {
        "zeta": receive(
            store,
            zeta,
            SECRET,
            risks=2,
            smelters=(
                ("Tin", "CID000228"),
                ("Tin", "CID004065"),  # DRC: a covered country
                ("Gold", "CID000015"),
                ("Gold", ""),  # named, no CID, no match
                ("Tin", "CID12"),  # malformed
            ),
        ),
        "alpha": receive(
            store,
            alpha,
            "Alpha Synthetic Metals",
            smelters=(("Tin", "CID000228"), ("Tin", "CID000292")),
        ),
        "alpha-2026": receive(
            store, alpha, "Alpha Synthetic Metals 2026", smelters=(("Tungsten", "CID000004"),)
        ),
        "beta": receive(
            store,
            beta,
            "Beta Synthetic Alloys",
            family="EMRT",
            version="2.1",
            smelters=(("Cobalt", "CID003209"),),
        ),
    }
    _received(store, files["zeta"], dt.date(YEAR, 3, 11))  # day 10 of the CMRT campaign
    _received(store, files["alpha"], dt.date(YEAR, 5, 1))  # day 61
    _received(store, files["alpha-2026"], dt.date(YEAR + 1, 2, 1))
    _received(store, files["beta"], dt.date(YEAR, 4, 15))
    rmap(store, "1.0", dt.date(YEAR, 6, 1), {"CID000228": "Conformant", "CID004065": "Active"})
    _remediation(store, zeta, files["zeta"], dt.date(YEAR, 5, 2))
    _remediation(
        store, alpha, files["alpha"], dt.date(YEAR, 1, 10), dt.date(YEAR, 7, 1), waived=True
    )
    _remediation(store, alpha, files["alpha"], dt.date(YEAR - 1, 6, 1), dt.date(YEAR + 1, 1, 5))
    _grievance(store, 1, "child-labour", dt.date(YEAR, 2, 3), "investigating")
    _grievance(store, 2, "environment", dt.date(YEAR, 8, 9))
    _grievance(store, 3, "environment", dt.date(YEAR, 9, 9), "closed")
    _grievance(store, 4, "corruption", dt.date(YEAR - 1, 8, 9))
    store.close()
    return db


def _report(db: Path, lang: str = "en", year: int = YEAR, company: str = "") -> str:
    store = Store(db)
    try:
        return annual_report(store, year, lang, company)
    finally:
        store.close()


def _visible(page: str) -> str:
    """The text a reader sees (chart labels included), without CSS or markup."""
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _numbers(page: str) -> Counter[str]:
    return Counter(re.findall(r"\d+(?:\.\d+)?", _visible(page)))


def _rows(page: str, header: str) -> list[list[str]]:
    """The body rows of the first table whose first header cell is ``header``."""
    for m in re.finditer(r"<table>(.*?)</table>", page, re.S):
        heads = re.findall(r"<th(?: [^>]*)?>(.*?)</th>", m.group(1))
        if heads and heads[0] == header:
            body = m.group(1).split("<tbody>", 1)[1]
            return [
                [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", tr)]
                for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body)
            ]
    raise AssertionError(f"no table headed {header!r}")


def test_suppliers_surveyed_per_campaign_of_the_year(book: Path) -> None:
    rows = _rows(_report(book), "Campaign")
    assert rows == [
        [
            "CMRT 2025",
            "CMRT",
            "2025-03-01",
            "2025-06-01",
            "3",
            "2",
            "66.7%",
            "Greater than 50%",
            "2025-05-01",
        ],
        [
            HOSTILE_CAMPAIGN,
            "EMRT",
            "2025-04-01",
            "2025-07-02",
            "1",
            "1",
            "100.0%",
            "100%",
            "2025-04-15",
        ],
    ]  # the 2024 campaign is not in 2025's report


def test_registry_figures_when_no_campaign_was_opened(book: Path) -> None:
    store = Store(book)
    store.db.execute("delete from campaign_suppliers")
    store.db.execute("delete from campaigns")
    store.db.conn.commit()
    register(store, supplier("Delta Synthetic Any", expected=()))  # asked for any template
    store.close()
    rows = _rows(_report(book), "Template")
    # CMRT: four asked, two sent a 2025 file; EMRT: one of two; no row for CRT or AMRT.
    assert rows == [
        ["CMRT", "4", "2", "50.0%", "50% or less", "2025-05-01"],
        ["EMRT", "2", "1", "50.0%", "50% or less", "2025-04-15"],
    ]


def test_smelters_by_standing_read_the_files_of_the_year_only(book: Path) -> None:
    rows = _rows(_report(book), "Metal")
    assert rows == [
        ["Gold", "1", "0", "0", "0", "1", "0.0%", ""],
        ["Tin", "3", "1", "1", "1", "0", "33.3%", "2025-06-01"],
        ["Cobalt", "1", "0", "0", "0", "1", "0.0%", ""],
        ["Total", "5", "1", "1", "1", "2", "20.0%", ""],
    ]  # no Tungsten: the file listing it arrived in 2026


def test_published_smelter_table_and_unidentified_counts(book: Path) -> None:
    page = _report(book)
    section = page.split("<h2>3.", 1)[1].split("<h2>4.", 1)[0]
    smelters = _rows(section, "Metal")
    assert smelters == [
        ["Gold", "CID000015", "UNITED STATES OF AMERICA"],
        ["Tin", "CID000228", "CHINA"],
        ["Tin", "CID000292", "UNITED STATES OF AMERICA"],
        ["Tin", "CID004065", "CONGO, DEMOCRATIC REPUBLIC OF THE"],
        ["Cobalt", "CID003209", "CHINA"],
    ]
    unidentified = _rows(section.split("<h3>", 1)[1], "Metal")
    assert sorted(unidentified) == [
        ["Gold", "No CID and no reference match", "1"],
        ["Tin", "Identifier is not an RMI CID", "1"],
    ]
    assert "Synthetic smelter" not in page  # names suppliers typed are not published


def test_risks_and_remediations(book: Path) -> None:
    page = _report(book)
    assert _rows(page, "Finding") == [["covered-country", "2"]]
    section = page.split("<h2>4.", 1)[1].split("<h2>5.", 1)[0]
    assert _rows(section, "Metal") == [
        ["Gold", "1", "0", "0"],
        ["Tin", "3", "1", "1"],  # the DRC is on the embedded CAHRA list too
        ["Cobalt", "1", "0", "0"],
    ]
    rem = _rows(section, "")
    assert [r[1] for r in rem] == ["2", "1", "1", "2"]  # opened, closed, waived, open at year end


def test_grievances_counted_by_category_and_status(book: Path) -> None:
    page = _report(book)
    section = page.split("<h2>5.", 1)[1].split("<h2>6.", 1)[0]
    assert "received in the year: 3." in section
    assert _rows(section, "Category") == [["Child labour", "1"], ["Environment", "2"]]
    assert _rows(section, "Status") == [["Closed", "1"], ["Investigating", "1"], ["Received", "1"]]


def test_charts_are_inline_svg_with_the_figures(book: Path) -> None:
    page = _report(book)
    charts = page.split("<h2>6.", 1)[1]
    assert charts.count("<svg") == 2 and "<img" not in charts
    text = _visible(charts)
    assert "Cumulative response rate" in text and "Conformant share per metal" in text
    assert "33.3%" in text  # Tin's bar is labelled with its share
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "two charts share an id"


def test_response_curve_steps() -> None:
    curve = response_curve("CMRT", [10, 61, 10], 4, 90)
    assert curve.points == ((0, 0.0), (10, 50.0), (61, 75.0), (90, 75.0))
    assert response_curve("X", [], 0, 0).points == ((0, 0.0),)


def test_no_supplier_names_no_grievance_content_no_script_no_address(book: Path) -> None:
    for lang in ("en", "zh"):
        page = _report(book, lang)
        for word in (
            SECRET,
            "Alpha Synthetic",
            "Beta Synthetic",
            "Gamma Synthetic",
            MARKER,
            "example.test",
            "zeta",
        ):
            assert word.casefold() not in page.casefold(), (lang, word)
        assert "<script" not in page  # the hostile campaign name is escaped
        assert "&lt;script&gt;" in page
        assert (
            "http" not in page
            and "src=" not in page
            and "url(" not in page.replace("url(#annual-", "")
        )


def test_english_and_chinese_say_the_same_numbers(book: Path) -> None:
    en, zh = _report(book, "en"), _report(book, "zh")
    assert '<html lang="zh-Hans">' in zh
    assert "供应商调查" in zh and "锡" in zh
    assert "累计回复率" in zh  # chart text is translated too
    assert _numbers(en) == _numbers(zh)
    assert _numbers(en)["66.7"] >= 1  # the comparison sees the figures


def test_every_label_exists_in_both_languages() -> None:
    assert TEXT["en"].keys() == TEXT["zh"].keys()
    for key, en in TEXT["en"].items():
        # The same digits and placeholders, so both languages print the same numbers.
        found = sorted(re.findall(r"\d+|\{\w+\}", en))
        assert found == sorted(re.findall(r"\d+|\{\w+\}", TEXT["zh"][key])), key


def test_the_same_database_gives_the_same_bytes(book: Path) -> None:
    first, second = _report(book, "zh"), _report(book, "zh")
    assert first == second
    assert _report(book, "en") == _report(book, "en")


@pytest.mark.e2e
def test_the_same_bytes_from_another_process(book: Path, tmp_path: Path) -> None:
    """Another interpreter (another hash seed) writes the same page."""
    out = tmp_path / "other.html"
    code = (
        "import sys; from pathlib import Path; from storage.store import Store; "
        "from reports.annual import annual_report; "
        f"Path(sys.argv[2]).write_text(annual_report(Store(sys.argv[1]), {YEAR}, 'en'), 'utf-8')"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(book), str(out)],
        cwd=ROOT,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert out.read_text("utf-8") == _report(book, "en")


def test_another_year_reads_nothing_of_this_one(book: Path) -> None:
    facts = Store(book)
    try:
        f = annual_facts(facts, YEAR + 1)
    finally:
        facts.close()
    assert f.campaigns == ()
    assert [c.metal for c in f.counts] == ["Gold", "Tin", "Tungsten", "Cobalt"]  # latest by 2026
    assert (f.remediations_opened, f.remediations_closed, f.grievances) == (0, 1, 0)


def test_command_writes_the_page(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "annual-2025.html"
    result = CliRunner().invoke(
        annual,
        ["--year", str(YEAR), "--lang", "zh", "--out", str(out), "--db", str(book)],
        obj=Config(),
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == _report(book, "zh").encode("utf-8")
    assert f"wrote {out}" in result.output
    assert "<title>2025 年度冲突矿产报告</title>" in out.read_text("utf-8")


def test_command_titles_the_company_when_configured(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.html"
    config = SimpleNamespace(
        company=SimpleNamespace(name="Example Electronics <Ltd>"),
        database=book,
        storage=SimpleNamespace(keep_originals_days=1826),
    )
    result = CliRunner().invoke(annual, ["--year", str(YEAR), "--out", str(out)], obj=config)
    assert result.exit_code == 0, result.output
    assert (
        "<h1>Example Electronics &lt;Ltd&gt;: conflict minerals report 2025</h1>"
        in out.read_text("utf-8")
    )
    assert company_name(Config()) == ""


def test_command_refuses_a_missing_database_and_folder(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(
        annual,
        ["--year", "2025", "--out", str(tmp_path / "a.html"), "--db", str(tmp_path / "none.db")],
        obj=Config(),
    )
    assert missing.exit_code == 1 and "no database at" in missing.output
    assert not (tmp_path / "none.db").exists()
    store = Store(tmp_path / "empty.db")
    store.close()
    nofolder = runner.invoke(
        annual,
        [
            "--year",
            "2025",
            "--out",
            str(tmp_path / "no" / "a.html"),
            "--db",
            str(tmp_path / "empty.db"),
        ],
        obj=Config(),
    )
    assert nofolder.exit_code == 1 and "no folder" in nofolder.output
    bad = runner.invoke(annual, ["--year", "2025", "--lang", "fr", "--out", "x.html"], obj=Config())
    assert bad.exit_code == 2


def test_an_empty_database_gives_a_report(tmp_path: Path) -> None:
    store = Store(tmp_path / "empty.db")
    try:
        page = annual_report(store, YEAR, "en")
    finally:
        store.close()
    assert "No supplier file was received in the year." in page
    assert "No smelter was listed." in page and "No data for this chart." in page


@pytest.mark.e2e
def test_importing_the_command_does_not_import_matplotlib() -> None:
    code = (
        "import sys, assay.cli, assay.cli_annual, reports.annual; "
        "sys.exit('matplotlib' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=120)
    assert done.returncode == 0


def test_a_campaign_name_with_dollar_signs_is_text_not_math() -> None:
    """A campaign name is data: "$\\frac{1}{$" used to crash matplotlib's math parser."""
    from reports.annual_charts import response_chart, response_curve

    for name in (r"Bonus $\frac{1}{$ follow-up", "Budget $5 and $10"):
        svg = response_chart([response_curve(name, [0, 3], 2, 10)], "t", "x", "y")
        assert html.escape(name, quote=False) in svg, name
