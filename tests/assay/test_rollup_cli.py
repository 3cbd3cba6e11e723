"""``assay rollup`` end to end: synthetic suppliers and their files in a Store, a campaign, a
full ``[company]`` config, the (synthetic) blank CMRT 6.5 and EMRT 2.1 (tests.builders.template);
the output re-screened by ``assay screen``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result

from assay.cli import cli
from assay.config import load_config
from plugins.layouts import LAYOUTS, Layout
from plugins.limits import Limits
from plugins.manager import get_plugin_manager
from plugins.models import Answer, Declaration, ScreeningResult, SmelterRow, TemplateMeta
from plugins.pipeline import read_workbook
from program.rollup import Derived, derive
from reports.campaign_status import campaign_status
from reports.company_blank import read_blank
from reports.rollup_source import pick_campaign, rollup_facts
from storage.store import Store
from tests.builders import clean_smelters
from tests.builders import template as synthetic_template
from tests.hostile import random_bytes, zip_bomb
from tests.storage.campaign_support import register, send_again, spec, supplier

pytestmark = pytest.mark.slow

CMRT = "cmrt/RMI_CMRT_6.5_zh-ui.xlsx"
EMRT = "emrt/RMI_EMRT_2.1.xlsx"
HOSTILE = "=cmd|' /C calc'!A0"
SCRIPT = "<script>alert(1)</script>"
CONTROL = "Gamma\x07 Synthetic\x1b Trading"
SUPPLIERS = ("Alpha Synthetic Metals", "Beta Synthetic Alloys", HOSTILE, SCRIPT, CONTROL)
LAYOUT_IDS = {"CMRT": "CMRT_6.x", "EMRT": "EMRT_2.x"}
VERSIONS = {"CMRT": "6.5", "EMRT": "2.1"}

COMPANY = """
[company]
name = "Example Electronics Ltd"
scope = "A. Company"
unique_id = "EX-0001"
unique_id_authority = "Example Registry"
address = "1 Example Way, Testville"
contact_name = "Ann Example"
contact_email = "compliance@example.test"
contact_phone = "+1 555 0100"
authorizer = "Bo Example"
authorizer_title = "Compliance Officer"
authorizer_email = "officer@example.test"
authorizer_phone = "+1 555 0101"
effective_date = 2026-05-02
{policy}policy_public = "Yes"
policy_url = "https://example.test/policy"
validated_sourcing = "Yes"
due_diligence = "Yes"
review = "Yes"
corrective_action = "Yes"
disclosure = "No"
"""


def layout(family: str) -> Layout:
    return next(lay for lay in LAYOUTS if lay.id == LAYOUT_IDS[family])


def declaration(
    family: str,
    company: str,
    minerals: tuple[str, ...],
    answers: dict[str, str],
    smelters: tuple[SmelterRow, ...],
) -> Declaration:
    """A supplier's declaration answering every per-mineral question (``answers``: kind ->
    answer, the same for each mineral)."""
    lay = layout(family)
    rows = []
    for q in lay.questions:
        for slot, mineral in enumerate(minerals):
            if slot < len(q.rows) and q.rows[slot] is not None and q.kind in answers:
                rows.append(Answer(q.id, answers[q.kind], f"D{q.rows[slot]}", mineral))
    return Declaration(
        meta=TemplateMeta(type=family, version=VERSIONS[family], layout=lay.id),
        company={"company_name": company},
        company_cells={"company_name": "D8"},
        minerals=minerals,
        answers=tuple(rows),
        smelters=smelters,
    )


def receive(store: Store, supplier_id: int, decl: Declaration) -> None:
    sha = hashlib.sha256(repr(decl).encode()).hexdigest()
    store.record_screening(sha, ScreeningResult(decl, ()), filename="declaration.xlsx")
    send_again(store, sha, supplier_id)


@dataclass
class World:
    tmp: Path
    db: Path
    config: Path
    blanks: dict[str, Path]

    def run(self, *args: str, config: Path | None = None) -> Result:
        return CliRunner().invoke(cli, ["--config", str(config or self.config), *args])

    def rollup(self, family: str, *extra: str, config: Path | None = None) -> Result:
        out = self.tmp / f"company-{family}.xlsx"
        result = self.run(
            "rollup", "--template", str(self.blanks[family]), "--out", str(out), *extra,
            config=config,
        )  # fmt: skip
        assert "Traceback" not in result.output
        return result

    def derived(self, family: str) -> list[Derived]:
        pm = get_plugin_manager()
        _decl, info = read_blank(pm, self.blanks[family].read_bytes())
        store = Store(self.db)
        cfg = load_config(str(self.config))
        facts, _ = rollup_facts(
            store,
            family=family,
            minerals=info.minerals,
            company=cfg.company.answers(),
            out_of_scope=cfg.company.out_of_scope,
            campaign=pick_campaign(store, family, None),
        )
        return derive(info.layout, facts)


def config_text(db: Path, *, policy: bool = True) -> str:
    return f'[assay]\ndatabase = "{db}"\n' + COMPANY.format(
        policy='policy = "Yes"\n' if policy else ""
    )


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def make_world(tmp_path: Path, *, campaigns: bool = True) -> World:
    blanks = {"CMRT": synthetic_template(CMRT), "EMRT": synthetic_template(EMRT)}
    db = tmp_path / "assay.db"
    config = tmp_path / "config.toml"
    config.write_text(config_text(db), "utf-8")
    store = Store(db)
    ids = register(
        store,
        *(supplier(n, expected=("CMRT", "EMRT"), address=f"s{i}@example.test")
          for i, n in enumerate(SUPPLIERS)),
    )  # fmt: skip
    names = {i: n for n, i in ids.items()}
    order = [i for i in names]
    day = dt.date(2026, 3, 1)
    for family in ("CMRT", "EMRT") if campaigns else ():
        store.create_campaign(spec(f"{family} 2026", family=family), order, day)
    cmrt_minerals = layout("CMRT").minerals
    emrt_minerals = ("Cobalt", "Copper", "Graphite", "Lithium", "Mica", "Nickel")
    cmrt_rows = [
        SmelterRow(0, metal=m, smelter_id=e.cid, name=e.name, country=e.country.upper())
        for m in cmrt_minerals
        for e in clean_smelters(blanks["CMRT"], m, 3)
    ]
    emrt_rows = [
        SmelterRow(0, metal=m, smelter_id=e.cid, name=e.name, country=e.country.upper())
        for m in ("Cobalt", "Mica")
        for e in clean_smelters(blanks["EMRT"], m, 2)
    ]
    # Hostile names on the supplier's own smelter rows: a name no list knows.
    odd = (
        SmelterRow(0, metal="Tin", name=HOSTILE, country="BOLIVIA"),
        SmelterRow(0, metal="Gold", name=SCRIPT + "\x07\x1b", country="PERU"),
    )
    yes_no = {
        "scope": "Yes",
        "remains": "Yes",
        "covered-sourcing": "No",
        "cahra-sourcing": "No",
        "recycled": "No",
        "response-rate": "100%",
        "all-identified": "Yes",
        "all-reported": "Yes",
    }
    for k, sid in enumerate(order):
        name = names[sid]
        mine = tuple(
            dataclasses.replace(r, row=5 + j)
            for j, r in enumerate(cmrt_rows[k::2] + (list(odd) if name == HOSTILE else []))
        )
        receive(store, sid, declaration("CMRT", name, cmrt_minerals, yes_no, mine))
        if k < 3:  # EMRT: three of five respond
            emrt = tuple(dataclasses.replace(r, row=5 + j) for j, r in enumerate(emrt_rows[k::3]))
            answers = {**yes_no, "scope": "Yes" if k < 2 else "No"}
            receive(store, sid, declaration("EMRT", name, emrt_minerals, answers, emrt))
    return World(tmp_path, db, config, blanks)


def read_back(path: Path) -> Declaration:
    return read_workbook(get_plugin_manager(), path.read_bytes(), Limits())


def answers_of(decl: Declaration) -> dict[tuple[str, str], str]:
    out = {(a.question, a.mineral): a.value for a in decl.answers if a.value}
    out.update({(a.question, a.mineral): a.value for a in decl.company_answers if a.value})
    return out


def xml_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as z:
        return {n: z.read(n) for n in z.namelist()}


@pytest.mark.parametrize("family", ["CMRT", "EMRT"])
def test_rollup_rescreens_clean_and_carries_the_derived_answers(world: World, family: str) -> None:
    before = world.blanks[family].read_bytes()
    result = world.rollup(family)
    assert result.exit_code == 0, result.output
    out = world.tmp / f"company-{family}.xlsx"
    assert "screened: 0 error(s)" in result.output, result.output
    assert "error Declaration" not in result.output
    screened = world.run("screen", "--no-store", str(out))
    assert screened.exit_code == 0, screened.output
    assert "(0 error," in screened.output, screened.output
    # What the file says is what the rules derived, answer by answer.
    derived = world.derived(family)
    expected = {(d.question, d.mineral): d.answer for d in derived if d.answer}
    got = answers_of(read_back(out))
    assert len(expected) >= 40
    assert {k: got.get(k) for k in expected} == expected
    assert read_back(out).company["company_name"] == "Example Electronics Ltd"
    assert world.blanks[family].read_bytes() == before
    assert not list(world.tmp.glob(".assay-rollup-*"))  # no temporary file left behind


def test_response_rate_comes_from_the_campaign(world: World) -> None:
    got = answers_of(read_back_after(world, "EMRT"))
    # Every responding supplier answered "100%"; the campaign had 3 of 5 answers.
    assert {v for (q, _m), v in got.items() if q == "Q5"} == {"Greater than 50%"}
    got = answers_of(read_back_after(world, "CMRT"))
    assert {v for (q, _m), v in got.items() if q == "Q6"} == {"100%"}


def test_the_response_figure_is_the_campaign_status_figure(world: World) -> None:
    store = Store(world.db)
    for family in ("CMRT", "EMRT"):
        campaign = pick_campaign(store, family, None)
        assert campaign is not None
        status = campaign_status(store, campaign, dt.date(2026, 6, 1)).figures
        result = world.rollup(family)
        figure = f"{status.responded} of {status.suppliers} suppliers responded, "
        assert figure + status.response_category in result.output


def test_without_a_campaign_the_registry_gives_the_figures(tmp_path: Path) -> None:
    world = make_world(tmp_path, campaigns=False)
    result = world.rollup("EMRT")
    assert result.exit_code == 0, result.output
    assert "from the supplier registry (3 of 5 suppliers responded, Greater than 50%)" in (
        result.output
    )
    assert "screened: 0 error(s)" in result.output


def read_back_after(world: World, family: str) -> Declaration:
    result = world.rollup(family)
    assert result.exit_code == 0, result.output
    return read_back(world.tmp / f"company-{family}.xlsx")


def test_in_scope_mineral_without_smelters_gets_a_not_yet_identified_row(world: World) -> None:
    result = world.rollup("EMRT")
    assert "Copper is in scope but no supplier listed a smelter" in result.output
    decl = read_back(world.tmp / "company-EMRT.xlsx")
    placeholders = {r.metal for r in decl.smelters if r.lookup == "Smelter not yet identified"}
    assert placeholders == {"Copper", "Graphite", "Lithium", "Nickel"}


@pytest.mark.parametrize("family,cell", [("CMRT", "D75"), ("EMRT", "D115")])
def test_a_missing_company_answer_names_its_config_key(
    world: World, family: str, cell: str
) -> None:
    cfg = world.tmp / "no-policy.toml"
    cfg.write_text(config_text(world.db, policy=False), "utf-8")
    result = world.rollup(family, config=cfg)
    assert result.exit_code == 0, result.output
    assert "screened: 1 error(s)" in result.output
    [line] = [ln for ln in result.output.splitlines() if ln.strip().startswith("error")]
    assert f"Declaration!{cell}" in line
    assert line.endswith("(set [company] policy)")


def test_a_company_answer_the_template_does_not_allow_is_one_line(world: World) -> None:
    cfg = world.tmp / "bad-answer.toml"
    cfg.write_text(config_text(world.db).replace('review = "Yes"', 'review = "Perhaps"'), "utf-8")
    result = world.rollup("CMRT", config=cfg)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "[company] review = 'Perhaps'" in result.output
    assert not (world.tmp / "company-CMRT.xlsx").exists()


def test_explain_names_the_rule_and_the_deciding_suppliers(world: World) -> None:
    result = world.rollup("CMRT", "--explain")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    i = lines.index('Q1 Tin: "Yes"')
    assert lines[i + 1].startswith("    rule: 5 of 5 responding suppliers say Yes")
    assert lines[i + 2].startswith("    decided by: ")
    assert "Alpha Synthetic Metals" in lines[i + 2] and HOSTILE in lines[i + 2]
    assert "Gamma Synthetic Trading" in lines[i + 2]  # control characters gone
    assert "\x07" not in result.output and "\x1b" not in result.output
    i = lines.index('Q6 Gold: "100%"')
    assert "the campaign's own figure: 5 of 5" in lines[i + 1]
    i = lines.index('A: "Yes"')
    assert lines[i + 1] == "    rule: [company] policy = 'Yes'"


def test_explain_shows_ten_deciders_then_counts_the_rest() -> None:
    from assay.cli_rollup import explain_lines, names

    many = tuple(f"Supplier {i:02d} Synthetic" for i in range(13))
    assert names(many).endswith("Supplier 09 Synthetic and 3 more")
    assert names(many[:10]).endswith("Supplier 09 Synthetic")
    d = Derived("Q3", "covered-sourcing", "Tin", "Yes", "13 suppliers say Yes", many)
    lines = explain_lines([d])
    assert lines[0] == 'Q3 Tin: "Yes"'
    assert lines[2] == "    decided by: " + ", ".join(many[:10]) + " and 3 more"


def test_hostile_names_are_plain_strings(world: World) -> None:
    assert world.rollup("CMRT").exit_code == 0
    out = world.tmp / "company-CMRT.xlsx"
    book = openpyxl.load_workbook(out)
    sheet = book["Smelter List"]
    cells = {c.value: c for row in sheet.iter_rows(min_row=5) for c in row if c.value}
    assert cells[HOSTILE].data_type == "s"
    assert cells[SCRIPT].data_type == "s"  # the control characters dropped
    parts = xml_parts(out)
    text = b"".join(v for k, v in parts.items() if k.endswith(".xml"))
    assert b"<script>" not in text and b"&lt;script&gt;" in text
    assert b"cmd|" not in b"".join(re.findall(rb"<f[^>]*>[^<]*</f>", text))
    assert b"\x07" not in text and b"\x1b" not in text
    # The company's declaration names no supplier.
    for name in ("Alpha Synthetic Metals", "Beta Synthetic Alloys", "Gamma"):
        assert name.encode() not in text


def test_a_bad_blank_is_one_line(world: World) -> None:
    out = world.tmp / "o.xlsx"
    not_zip = world.tmp / "not-a-workbook.xlsx"
    not_zip.write_text("hello", "utf-8")
    assert world.rollup("CMRT").exit_code == 0
    filled = world.tmp / "company-CMRT.xlsx"
    empty = world.tmp / "empty.xlsx"
    empty.write_bytes(b"")
    bomb = world.tmp / "bomb.xlsx"
    bomb.write_bytes(zip_bomb(200))  # 200 MB of one repeated byte in a small zip
    noise = world.tmp / "noise.xlsx"
    noise.write_bytes(random_bytes())
    huge = world.tmp / "huge.xlsx"
    with huge.open("wb") as fh:
        fh.truncate(31 * 1024 * 1024)  # sparse: past the 30 MB [limits] max_file_mb
    cases = [
        (huge, out, "more than [limits] max_file_mb (30 MB)"),
        (not_zip, out, "not a blank template Assay can read"),
        (empty, out, "not a blank template Assay can read"),
        (bomb, out, "not a blank template Assay can read"),
        (noise, out, "not a blank template Assay can read"),
        (filled, out, "already filled in"),
        (world.tmp / "missing.xlsx", out, "missing.xlsx' does not exist"),  # usage error, exit 2
        (world.blanks["CMRT"], world.blanks["CMRT"], "--out is the blank template itself"),
    ]
    for template, target, message in cases:
        result = world.run("rollup", "--template", str(template), "--out", str(target))
        assert result.exit_code != 0, result.output
        assert result.output.count("\n") == 1, result.output
        assert message in result.output and "Traceback" not in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    "args,message",
    [
        (("--campaign", "No Such Campaign"), "no campaign named 'No Such Campaign'"),
        (("--campaign", "EMRT 2026"), "surveys EMRT, the template is a CMRT"),
    ],
)
def test_a_campaign_that_cannot_be_used_is_one_line(
    world: World, args: tuple[str, ...], message: str
) -> None:
    result = world.rollup("CMRT", *args)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and message in result.output


@pytest.mark.parametrize("family", ["CMRT", "EMRT"])
def test_only_the_workbook_and_two_sheets_change(world: World, family: str) -> None:
    assert world.rollup(family).exit_code == 0
    before = xml_parts(world.blanks[family])
    after = xml_parts(world.tmp / f"company-{family}.xlsx")
    assert list(after) == list(before)
    changed = sorted(n for n in before if before[n] != after[n])
    assert len(changed) == 3 and "xl/workbook.xml" in changed, changed
    assert b'fullCalcOnLoad="1"' in after["xl/workbook.xml"]
    kept = 0
    for name in changed:
        for element in (b"dataValidations", b"conditionalFormatting", b"sheetProtection"):
            e, p = element, rb"(?:\w+:)?"
            pattern = rb"<" + p + e + rb"\b(?:[^>]*/>|.*?</" + p + e + rb">)"
            old = re.findall(pattern, before[name], re.S)
            assert re.findall(pattern, after[name], re.S) == old, (name, element)
            kept += len(old)
    assert kept >= 3  # the Declaration's validations and protection at least
