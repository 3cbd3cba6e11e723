"""Every template revision reads; cell maps agree with the real templates' English labels."""

from __future__ import annotations

from pathlib import Path

import pytest
import python_calamine

from plugins.layouts import LAYOUTS
from plugins.pipeline import Screener
from plugins.versions import select_layout
from plugins.workbook import open_workbook
from tests.builders import COMPANY, real_template, template

pytestmark = pytest.mark.slow

BLANKS = [
    ("cmrt/RMI_CMRT_6.01_zh-ui.xlsx", "CMRT", "6.01"),
    ("cmrt/RMI_CMRT_6.1_zh-ui.xlsx", "CMRT", "6.1"),
    ("cmrt/RMI_CMRT_6.22_zh-ui.xlsx", "CMRT", "6.22"),
    ("cmrt/RMI_CMRT_6.31_zh-ui.xlsx", "CMRT", "6.31"),
    ("cmrt/RMI_CMRT_6.4_en.xlsx", "CMRT", "6.4"),
    ("cmrt/RMI_CMRT_6.4_zh-ui.xlsx", "CMRT", "6.4"),
    ("cmrt/RMI_CMRT_6.5_zh-ui.xlsx", "CMRT", "6.5"),
    ("emrt/RMI_EMRT_1.1.xlsx", "EMRT", "1.1"),
    ("emrt/RMI_EMRT_1.11.xlsx", "EMRT", "1.11"),
    ("emrt/RMI_EMRT_1.2.xlsx", "EMRT", "1.2"),
    ("emrt/RMI_EMRT_1.3.xlsx", "EMRT", "1.3"),
    ("emrt/RMI_EMRT_2.0.xlsx", "EMRT", "2.0"),
    ("emrt/RMI_EMRT_2.1.xlsx", "EMRT", "2.1"),
    ("crt/RMI_CRT_2.2.xlsx", "CRT", "2.2"),
    ("crt/RMI_CRT_2.21.xlsx", "CRT", "2.2"),  # the file name lies; the cells say 2.2
    ("amrt/RMI_AMRT_1.2.xlsx", "AMRT", "1.2"),
    ("amrt/RMI_AMRT_1.3.xlsx", "AMRT", "1.3"),
]


def _blank_reads_with_type_and_version(
    screener: Screener, path: Path, family: str, version: str
) -> None:
    decl = screener.read(path.read_bytes())
    assert (decl.meta.type, decl.meta.version, decl.meta.known_version) == (family, version, True)
    result = screener.screen(decl)
    if not decl.minerals:  # the blank AMRT 1.3 has no mineral selected: that is a finding
        assert "no-minerals-selected" in {f.code for f in result.findings}
    assert result.readable
    assert not [f for f in result.findings if f.code == "internal-error"]


@pytest.mark.parametrize(("rel", "family", "version"), BLANKS)
def test_blank_template_reads_with_type_and_version(
    screener: Screener, rel: str, family: str, version: str
) -> None:
    _blank_reads_with_type_and_version(screener, template(rel), family, version)


@pytest.mark.conformance
@pytest.mark.parametrize(("rel", "family", "version"), BLANKS)
def test_real_blank_template_reads_with_type_and_version(
    screener: Screener, rel: str, family: str, version: str
) -> None:
    _blank_reads_with_type_and_version(screener, real_template(rel), family, version)


@pytest.mark.conformance
def test_chinese_ui_reads_exactly_like_english(screener: Screener) -> None:
    en = screener.read(real_template("cmrt/RMI_CMRT_6.4_en.xlsx").read_bytes())
    zh = screener.read(real_template("cmrt/RMI_CMRT_6.4_zh-ui.xlsx").read_bytes())
    assert en.meta.language == "English" and "Chinese" in zh.meta.language
    assert (
        en.answers == zh.answers
        and en.company_answers == zh.company_answers
        and en.company == zh.company
    )


def _english_labels(path: Path) -> dict[str, str]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    rows = book.get_sheet_by_name("L").to_python(skip_empty_area=False)
    return {r[0]: str(r[3]) for r in rows if r and isinstance(r[0], str) and len(r) > 3}


EXPECTED_FIELD_LABELS = {
    "company_name": "company name",
    "contact_name": "contact name",
    "contact_email": "email",
    "authorizer": "authorizer",
    "effective_date": "effective date",
}
LAYOUT_SAMPLES = {
    "CMRT_6.x": "cmrt/RMI_CMRT_6.5_zh-ui.xlsx",
    "EMRT_1.x": "emrt/RMI_EMRT_1.3.xlsx",
    "EMRT_2.x": "emrt/RMI_EMRT_2.1.xlsx",
    "CRT_2.x": "crt/RMI_CRT_2.2.xlsx",
    "AMRT_1.2": "amrt/RMI_AMRT_1.2.xlsx",
    "AMRT_1.3": "amrt/RMI_AMRT_1.3.xlsx",
}


def _check_labels(layout, labels: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    for field, expected in EXPECTED_FIELD_LABELS.items():
        row = layout.company_cells[field][1:]
        assert expected in labels[f"DeclarationB{row}"].casefold(), (
            field,
            labels[f"DeclarationB{row}"],
        )
    for q in layout.questions:
        header = min(r for r in q.rows if r) - 1
        if layout.id == "AMRT_1.2":
            header = min(r for r in q.rows if r) - 1
        text = labels.get(f"DeclarationB{header}", "")
        assert text.startswith(f"{q.id[1:]})"), (q.id, text)
    for cq in layout.company_questions:
        row = cq.row if cq.row else cq.per_mineral_rows[0] - 1
        if cq.mineral:  # EMRT 1.x splits C into a cobalt and a mica row under one header
            row = 73
        assert labels[f"DeclarationB{row}"].startswith(f"{cq.id}."), (
            cq.id,
            labels[f"DeclarationB{row}"],
        )


@pytest.mark.conformance
@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda lay: lay.id)
def test_cell_maps_match_the_templates_english_labels(layout) -> None:  # type: ignore[no-untyped-def]
    """Independent of our reader: the label left of each mapped cell (hidden sheet L, English)."""
    _check_labels(layout, _english_labels(real_template(LAYOUT_SAMPLES[layout.id])))


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda lay: lay.id)
def test_synthetic_labels_follow_the_same_rule(layout) -> None:  # type: ignore[no-untyped-def]
    """The synthetic templates label their mapped cells as the real ones do (sheet L)."""
    _check_labels(layout, _english_labels(template(LAYOUT_SAMPLES[layout.id])))


def test_unknown_newer_version_is_read_best_effort() -> None:
    layout, known = select_layout("CMRT", "6.6")
    assert layout is not None and layout.id == "CMRT_6.x" and not known
    layout, known = select_layout("EMRT", "2.11")
    assert layout is not None and layout.id == "EMRT_2.x" and not known


@pytest.mark.parametrize(
    "name",
    [
        "CMRT-6.4",
        "CMRT-6.5",
        "CMRT-6.01",
        "EMRT-1.3",
        "EMRT-2.1",
        "CRT-2.2",
        "AMRT-1.2",
        "AMRT-1.3",
    ],
)
def test_filled_fixture_yields_company_answers_and_smelters(
    screener: Screener, filled: dict[str, Path], name: str
) -> None:
    from tests.builders import FAMILIES, lookup_entries

    decl = screener.read(filled[name].read_bytes())
    assert decl.company["company_name"] == COMPANY["company_name"]
    assert decl.company["contact_email"] == COMPANY["contact_email"]
    assert decl.effective_date is not None and decl.effective_date.isoformat() == "2026-05-02"
    q1 = [a for a in decl.answers if a.question == "Q1"]
    assert q1 and all(a.value == "Yes" for a in q1)
    assert decl.smelters and all(r.smelter_id.startswith("CID") for r in decl.smelters)
    # Every row resolves to the CID the builder wrote, whether typed in A or picked in B/C.
    src = template(FAMILIES[name][0])
    wanted = {e.cid for e in lookup_entries(src)} if name != "AMRT-1.2" else None
    if wanted is not None:
        assert {r.smelter_id for r in decl.smelters} <= wanted
    assert all(r.metal and r.country for r in decl.smelters)


def test_emrt2_minerals_follow_the_selection(screener: Screener, filled: dict[str, Path]) -> None:
    decl = screener.read(filled["EMRT-2.1"].read_bytes())
    assert decl.minerals == ("Cobalt", "Mica")
    assert {a.mineral for a in decl.answers} == {"Cobalt", "Mica"}


def test_crt_numeric_one_reads_as_100_percent(screener: Screener, filled: dict[str, Path]) -> None:
    decl = screener.read(filled["CRT-2.2"].read_bytes())
    answer = decl.answer("Q4", "Cobalt")
    assert answer is not None and answer.value == "100%"


def test_blank_workbook_data_is_opened_lazily() -> None:
    """Only the sheets a reader needs are parsed (speed): the Look-up is not read for blanks."""
    data = template("cmrt/RMI_CMRT_6.4_en.xlsx").read_bytes()
    wb = open_workbook(data).workbook
    from plugins.builtin.readers.rmi import assay_read_template

    assay_read_template(wb, "xlsx")
    assert "Smelter Look-up" not in wb._rows
