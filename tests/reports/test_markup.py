"""The supplier's workbook marked up: a findings sheet first, flagged cells coloured and
commented, and nothing else of the file changed.

Real templates filled from code (openpyxl drops their drawings on save), and the untouched
blank templates (which still have them: images, comments, VML, conditional formats, data
validations), each marked up with what screening them found.
"""

from __future__ import annotations

import io
import pickle
import re
import zipfile

import pytest

from plugins.limits import Limits
from plugins.models import Finding
from plugins.pipeline import Screener
from reports.markup import MARKUP_SHEET, MarkupError, mark_up, marked_up_name
from tests import hostile
from tests.builders import build_family, real_template
from tests.reports.markup_support import (
    check_marked,
    check_one_selected_tab,
    check_reads,
    check_untouched,
    expected_changes,
    features,
    key,
    local_names,
    opened,
    parts,
    sheet_order,
    tiny,
)

pytestmark = pytest.mark.slow

BLANKS = {"CMRT-6.5": "cmrt/RMI_CMRT_6.5_zh-ui.xlsx", "EMRT-2.1": "emrt/RMI_EMRT_2.1.xlsx"}
# Problems a supplier makes, so screening finds errors and warnings on real cells.
EXTRA = {
    "CMRT-6.5": {
        "Declaration": {"D8": None, "D26": "Maybe", "D16": "not-an-email"},
        "Smelter List": {"A30": "CID999999", "B31": "Gold", "C31": "Smelter not listed"},
    },
    "EMRT-2.1": {
        "Declaration": {"D8": None, "D16": "not-an-email"},
        "Smelter List": {"A30": "CID999999"},
    },
}


# -- real templates ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def supplier_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Filled templates with a supplier's usual mistakes, built once for this module."""
    out = tmp_path_factory.mktemp("supplier")
    return {f: build_family(f, out, EXTRA[f])[0].read_bytes() for f in sorted(EXTRA)}


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(EXTRA))
def test_filled_template_marked_up(
    supplier_files: dict[str, bytes], screener: Screener, family: str
) -> None:
    before = supplier_files[family]
    result = screener.screen_bytes(before)
    findings = list(result.findings)
    assert {"error", "warning"} <= {f.severity for f in findings}
    after = mark_up(before, findings, title=f"{family}.xlsx")

    flagged = {f.sheet for f in findings if f.sheet and f.cell and f.severity != "info"}
    check_untouched(before, after, expected_changes(before, after, flagged))
    assert features(after) == {
        MARKUP_SHEET: (0, 0, 0, len([f for f in findings if f.sheet and f.severity != "info"])),
        **features(before),
    }
    assert local_names(after) == local_names(before) and local_names(before)
    assert sheet_order(after) == [MARKUP_SHEET, *sheet_order(before)]
    check_one_selected_tab(after)
    check_reads(after)
    check_marked(opened(after), findings)
    # The marked-up file screens exactly as the original did.
    assert key(screener.screen_bytes(after).findings) == key(findings)


@pytest.mark.slow
@pytest.mark.conformance  # RMI's drawings, comments and VML: no synthetic file carries them
@pytest.mark.parametrize("family", sorted(BLANKS))
def test_blank_template_keeps_its_drawings_and_comments(screener: Screener, family: str) -> None:
    """The untouched template still has what openpyxl would drop: it all survives."""
    before = real_template(BLANKS[family]).read_bytes()
    result = screener.screen_bytes(before)
    findings = list(result.findings)
    # A template comment's cell flagged too: our text joins the template's comment.
    commented = "W3" if family == "CMRT-6.5" else None
    if commented:
        findings.append(
            Finding("test-merge", "warning", "A flagged commented cell.", "Smelter List", commented)
        )
    after = mark_up(before, findings)
    a, b = parts(before), parts(after)

    flagged = {f.sheet for f in findings if f.sheet and f.cell and f.severity != "info"}
    assert flagged, "the blank template gives findings on cells"
    check_untouched(before, after, expected_changes(before, after, flagged))
    media = [n for n in a if n.startswith(("xl/media/", "xl/drawings/drawing"))]
    assert media and all(b[n] == a[n] for n in media)
    fb, fa = features(before), features(after)
    assert sum(v[0] for v in fb.values()) > 0 and sum(v[1] for v in fb.values()) > 0
    assert sum(v[2] for v in fb.values()) > 0
    assert {k: v for k, v in fa.items() if k != MARKUP_SHEET} == fb
    assert local_names(after) == local_names(before) and local_names(before)
    check_one_selected_tab(after)
    check_reads(after)

    # Comments of the template are all still there, ours added beside them.
    def comments(data: bytes) -> list[bytes]:
        return [
            c
            for n, (x, _) in parts(data).items()
            if n.startswith("xl/comments")
            for c in re.findall(rb"<comment ref=\"[A-Z]+[0-9]+\"", x)
        ]

    assert set(comments(before)) < set(comments(after))
    wb = opened(after)
    if commented:
        text = wb["Smelter List"][commented].comment.text
        assert "list for Validation" in text and "A flagged commented cell." in text
    flagged_cells = [
        f for f in findings if f.sheet in wb.sheetnames and f.cell and f.severity != "info"
    ]
    for f in flagged_cells:
        assert wb[f.sheet][f.cell].comment is not None, f
    assert key(screener.screen_bytes(after).findings) == key(result.findings)


@pytest.mark.slow
def test_marking_up_twice_replaces_the_first_round(
    supplier_files: dict[str, bytes], screener: Screener
) -> None:
    original = supplier_files["CMRT-6.5"]
    findings = list(screener.screen_bytes(original).findings)
    once = mark_up(original, findings)
    fewer = [f for f in findings if f.cell != "D8"]  # the supplier fixed D8
    twice = mark_up(once, fewer)
    assert sheet_order(twice) == sheet_order(once)  # one findings sheet, still first
    assert local_names(twice) == local_names(original)
    check_one_selected_tab(twice)
    wb = opened(twice)
    assert wb["Declaration"]["D8"].comment is None  # our stale comment is gone
    text = wb["Declaration"]["D26"].comment.text
    assert text.count("not an allowed answer") == 1  # replaced, not appended
    assert len(list(wb[MARKUP_SHEET].iter_rows(min_row=4))) == len(
        [f for f in fewer if f.severity != "info"]
    )
    # the VML has no note left for D8 (row 7, column 3, 0-based)
    vml = [
        x
        for n, (x, _) in parts(twice).items()
        if n.endswith(".vml") and b"<ns2:Row>7</ns2:Row><ns2:Column>3<" in x
    ]
    assert not vml


# -- files that cannot be marked up --------------------------------------------------------


def _not_a_workbook() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    return buf.getvalue()


def _sample() -> bytes:
    return tiny({"Data": '<row r="1"><c r="A1"><v>1</v></c></row>'})


HOSTILE = {
    "empty": lambda: b"",
    "random-bytes": lambda: hostile.random_bytes(),
    "truncated-zip": lambda: _sample()[: len(_sample()) // 2],
    "not-a-workbook-zip": _not_a_workbook,
    "zip-bomb": lambda: hostile.zip_bomb(20),
    "encrypted": lambda: hostile.encrypt(_sample(), "a-secret-password"),
    "legacy-xls": lambda: real_template(
        "legacy/EICC-GeSI_CMRT_3.01_blank_encrypted.xls"
    ).read_bytes(),
    "too-big": lambda: _sample() + b"\0" * 2_000_000,
}


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, marks=pytest.mark.conformance) if c == "legacy-xls" else c
        for c in sorted(HOSTILE)
    ],
)
def test_unusable_files_raise_markup_error(case: str) -> None:
    data = HOSTILE[case]()
    with pytest.raises(MarkupError):
        mark_up(
            data,
            [Finding("x", "error", "m", "Data", "A1")],
            limits=Limits(max_file_bytes=1_000_000),
        )


def test_a_sheet_with_a_dtd_is_left_alone() -> None:
    """Entities are never expanded: a sheet declaring some is not marked, the rest is."""
    before = hostile.entity_expansion()
    after = mark_up(before, [Finding("x", "error", "m", "Declaration", "A1")])
    assert parts(after)["xl/worksheets/sheet1.xml"] == parts(before)["xl/worksheets/sheet1.xml"]
    assert sheet_order(after) == [MARKUP_SHEET, "Declaration"]


def test_mark_up_can_cross_a_process_boundary() -> None:
    assert pickle.loads(pickle.dumps(mark_up)) is mark_up


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("acme-cmrt.xlsx", "acme-cmrt (Assay findings).xlsx"),
        ("Macro Book.XLSM", "Macro Book (Assay findings).xlsm"),
        ("../../etc/passwd", "passwd (Assay findings).xlsx"),
        ("C:\\Users\\x\\cmrt.xlsx", "cmrt (Assay findings).xlsx"),
        ("acme (Assay findings).xlsx", "acme (Assay findings).xlsx"),
        ("", "workbook (Assay findings).xlsx"),
        ("...xlsx", "workbook (Assay findings).xlsx"),
        ('a<b>:"c|d?*\x00\u202e.xlsx', "a b c d (Assay findings).xlsx"),
        ("report.pdf", "report (Assay findings).xlsx"),
    ],
)
def test_marked_up_name(given: str, expected: str) -> None:
    assert marked_up_name(given) == expected


def test_marked_up_name_is_bounded() -> None:
    name = marked_up_name("x" * 500 + ".xlsx")
    assert len(name) <= 120 and name.endswith(" (Assay findings).xlsx")
