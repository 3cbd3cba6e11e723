"""The synthetic templates agree with RMI's real blanks, wherever those are found.

Every other test screens template-shaped workbooks built from our own cell maps
(:mod:`tests.synthetic_templates`); these tests are what keeps that honest. For every real
blank under ``ASSAY_TEMPLATES`` (default ``../shared/templates``), the synthetic blank of the
same file name must have the same sheets, the same revision as :func:`plugins.identify.identify`
reads it, the same UI language where the file name states one (``_en``, ``_zh-ui``), and the same English label beside each mapped cell (RMI's
label table, the hidden sheet L); and the real and the synthetic blank, filled with the same
builder cells, must screen to the same findings and smelter rows.

Sheets are compared as sets: RMI moved "Instructions" before "Revision" in some revisions,
which no reader looks at. Labels are compared after folding case, dashes and spaces; question
labels by their number ("1)", "A.") and their words, which RMI rephrases slightly between
revisions of one cell map.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import python_calamine

from plugins.identify import identify
from plugins.layouts import Layout
from plugins.pipeline import Screener
from plugins.workbook import open_workbook
from tests import builders
from tests.builders import TEMPLATES, fill, template
from tests.plugins.test_templates import BLANKS
from tests.synthetic_templates import layout_of, revision_of

pytestmark = [pytest.mark.conformance, pytest.mark.slow]


def _real_blanks() -> list[str]:
    """The real blanks found; where there are none, the ones a full copy has (so that the
    count of deselected tests is the count that would run)."""
    if not TEMPLATES.is_dir():
        return [rel for rel, _family, _version in BLANKS] + ["legacy/EICC_CMRT_2.03a_blank.xlsx"]
    return sorted(
        str(p.relative_to(TEMPLATES))
        for p in TEMPLATES.glob("*/*.xlsx")
        if not p.name.startswith(".")
    )


REAL = _real_blanks()
MODERN = [rel for rel in REAL if not revision_of(rel).legacy]
CELLS = {
    "CMRT_6.x": builders.cmrt_cells,
    "EMRT_1.x": builders.emrt1_cells,
    "EMRT_2.x": builders.emrt2_cells,
    "CRT_2.x": builders.crt_cells,
    "AMRT_1.2": builders.amrt12_cells,
    "AMRT_1.3": builders.amrt13_cells,
}


# Values RMI left in a blank, which a supplier's first row overwrites: cleared in the real
# blank before the comparison (and checked to be there, so a fixed blank is noticed).
QUIRKS: dict[str, dict[str, Any]] = {
    # Row 5 of this blank holds B5 "Tin", C5 "Alpha Metals" and F5 242332 as plain values.
    "cmrt/RMI_CMRT_6.4_zh-ui.xlsx": {"B5": "Tin", "C5": "Alpha Metals", "F5": 242332},
}


def _fold(text: object) -> str:
    text = str(text or "").replace("–", "-").replace("—", "-").replace("’", "'")
    return " ".join(text.split()).casefold()


def _labels(path: Path) -> dict[str, str]:
    """RMI's label table: ``DeclarationB8`` -> the English label (hidden sheet L)."""
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    rows = book.get_sheet_by_name("L").to_python(skip_empty_area=False)
    return {r[0]: str(r[3]) for r in rows if r and isinstance(r[0], str) and len(r) > 3}


def _mapped_label_cells(layout: Layout) -> dict[str, str]:
    """Declaration label cell -> what it labels (a company field or a question id)."""
    out = {f"DeclarationB{addr[1:]}": field for field, addr in layout.company_cells.items()}
    for q in layout.questions:
        out[f"DeclarationB{min(r for r in q.rows if r) - 1}"] = q.id
    for cq in layout.company_questions:
        if cq.mineral:
            out["DeclarationB73"] = cq.id
        elif cq.per_mineral_rows:
            out[f"DeclarationB{cq.per_mineral_rows[0] - 1}"] = cq.id
        elif cq.row is not None:
            out[f"DeclarationB{cq.row}"] = cq.id
    return out


_NUMBER = re.compile(r"^\s*([0-9]+\)|[A-Z]\.)")
_WORD = re.compile(r"[a-z0-9]+")


def _same_label(what: str, real: str, synthetic: str) -> bool:
    if not what.startswith("Q") and len(what) > 1:  # a company field: the same words
        return _fold(real).rstrip(":") == _fold(synthetic).rstrip(":")
    real_n, synth_n = _NUMBER.match(real), _NUMBER.match(synthetic)
    if not (real_n and synth_n and real_n.group(1) == synth_n.group(1)):
        return False
    words = set(_WORD.findall(_fold(synthetic)))
    return len(words & set(_WORD.findall(_fold(real)))) >= 0.7 * len(words)


@pytest.mark.parametrize("rel", REAL)
def test_synthetic_blank_has_the_real_sheets_and_revision(rel: str) -> None:
    real = open_workbook(builders.real_template(rel).read_bytes()).workbook
    synthetic = open_workbook(template(rel).read_bytes()).workbook
    assert set(synthetic.sheet_names) == set(real.sheet_names)
    real_id, synthetic_id = identify(real), identify(synthetic)
    assert real_id is not None and synthetic_id is not None
    assert (synthetic_id.family, synthetic_id.version, synthetic_id.title) == (
        real_id.family,
        real_id.version,
        real_id.title,
    )
    if re.search(r"_(en|zh-ui)\.xlsx$", rel):  # a UI language the file name states
        assert synthetic.sheet("Declaration")["D3"] == real.sheet("Declaration")["D3"]


@pytest.mark.parametrize("rel", MODERN)
def test_synthetic_blank_labels_each_mapped_cell_as_the_real_one(rel: str) -> None:
    layout = layout_of(revision_of(rel))
    real, synthetic = _labels(builders.real_template(rel)), _labels(template(rel))
    wrong = {
        cell: (what, real.get(cell), synthetic.get(cell))
        for cell, what in _mapped_label_cells(layout).items()
        if not _same_label(what, real.get(cell, ""), synthetic.get(cell, ""))
    }
    assert not wrong


def _outcome(screener: Screener, path: Path) -> tuple[Any, ...]:
    result = screener.screen_bytes(path.read_bytes())
    decl = result.declaration
    assert decl is not None
    findings = sorted((f.code, f.severity, f.sheet, f.cell) for f in result.findings)
    rows = [(r.row, r.smelter_id, r.id_source, r.metal, r.country) for r in decl.smelters]
    answers = sorted(
        (a.question, a.mineral, a.value) for a in (*decl.answers, *decl.company_answers)
    )
    return (decl.meta.type, decl.meta.version, decl.minerals, findings, rows, answers)


@pytest.mark.parametrize("rel", MODERN)
def test_real_and_synthetic_blank_filled_alike_screen_alike(
    screener: Screener, tmp_path: Path, rel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The builder's cells written into both blanks. The builder picks its smelters from the
    look-up rows both blanks share (an older look-up lacks smelters RMI added later)."""
    real, synthetic = builders.real_template(rel), template(rel)
    layout = layout_of(revision_of(rel))
    entries = builders.lookup_entries
    in_real = {(e.metal, e.alias, e.cid) for e in entries(real)}

    def shared_entries(src: Path) -> list[builders.LookupEntry]:
        mine = entries(src)
        if not layout.has_lookup:
            return mine
        return [e for e in mine if (e.metal, e.alias, e.cid) in in_real]

    monkeypatch.setattr(builders, "lookup_entries", shared_entries)
    cells = CELLS[layout.id](synthetic)
    assert cells["Smelter List"], "no smelter both look-ups know"
    quirks = QUIRKS.get(rel, {})
    if quirks:
        sheet = open_workbook(real.read_bytes()).workbook.sheet("Smelter List")
        assert {addr: sheet[addr] for addr in quirks} == quirks
        real_cells = {k: dict(v) for k, v in cells.items()}
        real_cells["Smelter List"] = {**dict.fromkeys(quirks), **cells["Smelter List"]}
    got_real = _outcome(
        screener, fill(real, tmp_path / "real.xlsx", real_cells if quirks else cells)
    )
    got_synthetic = _outcome(screener, fill(synthetic, tmp_path / "synthetic.xlsx", cells))
    assert got_synthetic == got_real
