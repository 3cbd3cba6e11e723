"""The company template writer on template-shaped blanks (and RMI's real ones, conformance).

The synthetic blanks carry what the writer depends on (the Declaration's cells, the Smelter
List's look-up formulas and metal drop-down, the Smelter Look-up and the country sheet C);
the byte-level promises that matter most on RMI's own files (only three parts change, data
validations, protection and conditional formats kept) run on the real blanks as well.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from plugins.limits import Limits
from plugins.manager import get_plugin_manager
from plugins.pipeline import read_workbook
from program.smelter_list import (
    MALFORMED,
    NO_MATCH,
    NOT_YET_IDENTIFIED,
    SmelterEntry,
    SmelterList,
    UnidentifiedEntry,
)
from reports.company_blank import read_blank
from reports.company_template import (
    CompanyTemplateError,
    TemplateInfo,
    excel_serial,
    fill_company_template,
)
from tests.builders import real_template, template

pytestmark = pytest.mark.slow  # patches template blanks: seconds each

BLANKS = [
    "cmrt/RMI_CMRT_6.5_zh-ui.xlsx",
    "cmrt/RMI_CMRT_6.01_zh-ui.xlsx",
    "emrt/RMI_EMRT_2.1.xlsx",
    "emrt/RMI_EMRT_1.3.xlsx",
]
HOSTILE = "=cmd|' /C calc'!A0"
SCRIPT = "<script>alert(1)</script>\x07\x1b"
COMPANY = {
    "name": "Example Electronics Ltd",
    "scope": "A. Company",
    "contact_name": "Ann Example",
    "contact_email": "compliance@example.test",
    "contact_phone": "+1 555 0100",
    "authorizer": "Bo Example",
    "authorizer_email": "officer@example.test",
}
EFFECTIVE = dt.date(2026, 5, 2)


@dataclass(frozen=True)
class Answer:
    question: str
    kind: str
    mineral: str
    answer: str
    comment: str = ""


def _blank(rel: str, real: bool = False) -> bytes:
    return (real_template(rel) if real else template(rel)).read_bytes()


def _answers(info: TemplateInfo) -> list[Answer]:
    """An answer for every question: the last allowed one ("None", "Unknown"...) for the
    per-mineral questions (response rate "100%"), the first for the company ones."""
    out = []
    for q in info.layout.questions:
        for slot, mineral in enumerate(info.minerals):
            if slot < len(q.rows) and q.rows[slot] is not None:
                answer = "100%" if q.kind == "response-rate" else q.allowed[-1]
                out.append(Answer(q.id, q.kind, mineral, answer))
    for c in info.layout.company_questions:
        minerals = info.minerals if c.per_mineral_rows else (c.mineral,)
        for m in minerals:
            comment = "https://example.test/policy" if c.kind == "policy-public" else ""
            out.append(Answer(c.id, c.kind, m, c.allowed[0], comment))
    return out


def _smelters(info: TemplateInfo) -> SmelterList:
    first = info.minerals[0]
    known = next(r for r in info.lookup.values() if r.metal == first)
    entries = (
        SmelterEntry(first, known.cid, known.name, known.country, "", "", "", ("S",), False, False),
        SmelterEntry(first, "CID999990", HOSTILE, "GERMANY", "", "", "", ("S",), False, False),
        SmelterEntry("Zinc", "CID999991", "Off-form", "GERMANY", "", "", "", ("S",), False, False),
    )
    unidentified = (
        UnidentifiedEntry(first, SCRIPT, "CHINA", NOT_YET_IDENTIFIED, ("S",), 2),
        UnidentifiedEntry(first, "+Unmatched Works", "PERU", NO_MATCH, ("S",), 1),
        UnidentifiedEntry(first, "Bad id works", "PERU", MALFORMED, ("S",), 1),
    )
    return SmelterList(entries, unidentified, 1)


@pytest.fixture(scope="module")
def pm():  # type: ignore[no-untyped-def]
    return get_plugin_manager()


def _fill(pm, rel: str, real: bool = False) -> tuple[bytes, bytes, TemplateInfo, list[Answer]]:  # type: ignore[no-untyped-def]
    blank = _blank(rel, real)
    _decl, info = read_blank(pm, blank)
    answers = _answers(info)
    out = fill_company_template(
        blank,
        info,
        company=COMPANY,
        effective_date=EFFECTIVE,
        answers=answers,
        smelters=_smelters(info),
    )
    return blank, out, info, answers


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def _sheet_part(parts: dict[str, bytes], sheet: str) -> str:
    wb = parts["xl/workbook.xml"].decode()
    rid = re.search(rf'<sheet name="{re.escape(sheet)}"[^>]*r:id="(rId\d+)"', wb)
    assert rid
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    target = re.search(rf'Id="{rid.group(1)}"[^>]*Target="([^"]+)"', rels) or re.search(
        rf'Target="([^"]+)"[^>]*Id="{rid.group(1)}"', rels
    )
    assert target
    return "xl/" + target.group(1)


REAL = [
    pytest.param(True, marks=pytest.mark.conformance, id="real"),
    pytest.param(False, id="synthetic"),
]


@pytest.mark.parametrize("real", REAL)
@pytest.mark.parametrize("rel", BLANKS)
def test_only_three_parts_change(pm, rel: str, real: bool) -> None:  # type: ignore[no-untyped-def]
    blank, out, _info, _answers = _fill(pm, rel, real)
    before, after = _parts(blank), _parts(out)
    assert list(before) == list(after)
    patched = {_sheet_part(before, "Declaration"), _sheet_part(before, "Smelter List")}
    changed = {n for n in before if before[n] != after[n]}
    assert changed == patched | {"xl/workbook.xml"}
    for part in patched:
        for element in ("dataValidations", "sheetProtection", "conditionalFormatting"):
            pattern = rf"<{element}[\s>].*?</{element}>|<{element}[^>]*/>".encode()
            assert re.findall(pattern, before[part], re.S) == re.findall(pattern, after[part], re.S)
    wb = after["xl/workbook.xml"]
    assert re.search(rb'<calcPr[^>]*fullCalcOnLoad="1"', wb)
    strip = re.sub(rb'\s*fullCalcOnLoad="1"', b"", wb)
    assert strip == before["xl/workbook.xml"]


@pytest.mark.parametrize("real", REAL)
@pytest.mark.parametrize("rel", BLANKS)
def test_reads_back_as_written(pm, rel: str, real: bool) -> None:  # type: ignore[no-untyped-def]
    _blank_bytes, out, info, answers = _fill(pm, rel, real)
    decl = read_workbook(pm, out, Limits())
    assert decl.company["company_name"] == "Example Electronics Ltd"
    assert decl.company["contact_email"] == "compliance@example.test"
    assert decl.effective_date == EFFECTIVE
    assert decl.minerals == info.minerals  # EMRT 2.x: the blank's own selection kept
    for a in answers:
        q = next((q for q in info.layout.questions if q.id == a.question), None)
        got = (
            decl.answer(a.question, a.mineral) if q else decl.company_answer(a.question, a.mineral)
        )
        if got is None and not q:
            got = decl.company_answer(a.question)
        assert got is not None, a
        assert got.value == a.answer, a
        if a.comment:
            assert got.comment == a.comment
    rows = decl.smelters
    first = info.minerals[0]
    known = next(r for r in info.lookup.values() if r.metal == first)
    assert [r.metal for r in rows] == [first] * 4  # Zinc is not on this form; MALFORMED dropped
    assert (rows[0].smelter_id, rows[0].id_input, rows[0].lookup) == (
        known.cid,
        known.cid,
        known.name,
    )
    assert rows[0].country == known.country and rows[0].source == known.source
    assert (rows[1].lookup, rows[1].name, rows[1].smelter_id) == (
        "Smelter not listed",
        HOSTILE,
        "CID999990",
    )
    assert (rows[2].lookup, rows[2].name) == (
        "Smelter not yet identified",
        "<script>alert(1)</script>",
    )
    assert (rows[3].lookup, rows[3].name, rows[3].country) == (
        "Smelter not listed",
        "+Unmatched Works",
        "PERU",
    )


def test_known_cid_keeps_the_lookup_formulas_with_cached_values(pm) -> None:  # type: ignore[no-untyped-def]
    _blank_bytes, out, info, _answers = _fill(pm, BLANKS[0])
    part = _parts(out)[_sheet_part(_parts(out), "Smelter List")]
    row5 = re.search(rb'<row r="5"[^>]*>.*?</row>', part, re.S)
    assert row5
    cells = dict(re.findall(rb'<c r="([A-Z]+)5"[^>]*>(.*?)</c>', row5.group(0), re.S))
    known = next(r for r in info.lookup.values() if r.metal == info.minerals[0])
    for col, value in ((b"B", known.metal), (b"C", known.name), (b"F", known.cid), (b"S", b"")):
        assert b"<f" in cells[col], col
        if value:
            assert f"<v>{value}</v>".encode() in cells[col].replace(b"&amp;", b"&")
    assert re.search(rb"<v>[A-Z]{2}</v>", cells[b"S"])  # the country code
    row6 = re.search(rb'<row r="6"[^>]*>.*?</row>', part, re.S)
    assert row6
    for col in (b"B", b"C", b"D", b"E", b"F", b"G"):
        cell = re.search(rb'<c r="' + col + rb'6"[^>]*>.*?</c>', row6.group(0), re.S)
        assert cell and b"<f" not in cell.group(0) and b't="inlineStr"' in cell.group(0)


@pytest.mark.parametrize(
    ("rel", "numeric"), [(BLANKS[0], False), (BLANKS[1], True), (BLANKS[3], True)]
)
def test_full_response_rate_is_the_number_one_where_the_dropdown_is(
    pm, rel: str, numeric: bool
) -> None:  # type: ignore[no-untyped-def]
    _blank_bytes, out, info, _answers = _fill(pm, rel)
    parts = _parts(out)
    xml = parts[_sheet_part(parts, "Declaration")]
    row = next(q.rows[0] for q in info.layout.questions if q.kind == "response-rate")
    cell = re.search(rf'<c r="D{row}"[^>]*>.*?</c>'.encode(), xml, re.S)
    assert cell
    if numeric:
        assert b"<v>1</v>" in cell.group(0) and b"t=" not in cell.group(0)
    else:
        assert b"100%" in cell.group(0) and b't="inlineStr"' in cell.group(0)


def test_effective_date_is_a_serial_in_the_cells_own_format(pm) -> None:  # type: ignore[no-untyped-def]
    blank, out, _info, _answers = _fill(pm, BLANKS[0])
    before = _parts(blank)[_sheet_part(_parts(blank), "Declaration")]
    after = _parts(out)[_sheet_part(_parts(out), "Declaration")]
    old = re.search(rb'<c r="D22" s="(\d+)"', before)
    new = re.search(rb'<c r="D22" s="(\d+)"[^>]*><v>(\d+)</v></c>', after)
    assert old and new and old.group(1) == new.group(1)
    assert int(new.group(2)) == excel_serial(EFFECTIVE) == 46144


def test_hostile_text_is_a_plain_string_cell(pm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _blank_bytes, out, _info, _answers = _fill(pm, BLANKS[0])
    path = tmp_path / "company.xlsx"
    path.write_bytes(out)
    ws = openpyxl.load_workbook(path)["Smelter List"]
    assert ws["D6"].value == HOSTILE and ws["D6"].data_type == "s"
    assert ws["D7"].value == "<script>alert(1)</script>" and ws["D7"].data_type == "s"
    assert ws["D8"].value == "+Unmatched Works" and ws["D8"].data_type == "s"


def test_a_filled_template_is_refused(pm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _blank_bytes, out, _info, _answers = _fill(pm, BLANKS[0])
    with pytest.raises(CompanyTemplateError, match="already filled"):
        read_blank(pm, out)


def test_not_a_workbook_is_refused(pm) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CompanyTemplateError):
        read_blank(pm, b"PK\x03\x04 not really a zip")


def test_a_macro_enabled_blank_is_refused(pm) -> None:  # type: ignore[no-untyped-def]
    """An .xlsm (a VBA project inside) is refused: nothing is passed on to customers."""
    import io
    import zipfile

    blank = _blank(BLANKS[0])
    assert read_blank(pm, blank)  # the blank itself is fine
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blank)) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 synthetic")
    with pytest.raises(CompanyTemplateError, match="macros"):
        read_blank(pm, buf.getvalue())


def test_a_list_longer_than_the_smelter_list_is_refused(pm) -> None:  # type: ignore[no-untyped-def]
    """Rows past the template's last (2504 in a CMRT) would have no validation or look-up."""
    blank = _blank(BLANKS[0])
    _decl, info = read_blank(pm, blank)
    many = tuple(
        UnidentifiedEntry("Tin", f"Synthetic unlisted {i}", "BOLIVIA", NO_MATCH, ("S",), 1)
        for i in range(2_600)
    )
    with pytest.raises(
        CompanyTemplateError, match=r"needs 2600 rows .* holds 2500 \(rows 5 to 2504\)"
    ):
        fill_company_template(
            blank,
            info,
            company=COMPANY,
            effective_date=EFFECTIVE,
            answers=_answers(info),
            smelters=SmelterList((), many, 1),
        )
