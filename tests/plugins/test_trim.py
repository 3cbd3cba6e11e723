"""The engine reads the list sheets without their unused tails (plugins.bounds.trim_tail and
plugins.workbook.slim_package): fewer bytes parsed, never a different declaration.

Every case is read twice, through the slim package and through the whole one, and the two
declarations must be equal; hostile spellings of a cell in the dropped tail must either keep
their row or leave the sheet whole.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable

import pytest

from plugins import bounds
from plugins import workbook as workbook_module
from plugins.bounds import trim_tail
from plugins.limits import Limits
from plugins.manager import get_plugin_manager
from plugins.pipeline import read_workbook
from plugins.workbook import open_workbook
from tests import hostile

EXAMPLE = hostile.EXAMPLE.read_bytes()
PART = "xl/worksheets/sheet5.xml"  # the example's Smelter List
LIMITS = Limits(isolate=False)


def read(data: bytes) -> dict[str, object]:
    decl = read_workbook(get_plugin_manager(), data, LIMITS, {}, None, None)
    return json.loads(json.dumps(decl.to_dict(), sort_keys=True, default=str))  # type: ignore[no-any-return]


def read_whole(data: bytes, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    with monkeypatch.context() as m:
        m.setattr(workbook_module, "slim_package", lambda *a, **k: None)
        return read(data)


def in_tail(cells: str, row: int = 2400) -> Callable[[bytes], bytes]:
    """Cells appended to the Smelter List far below the supplier's rows."""
    return lambda data: hostile.with_row(data, "Smelter List", row, cells)


def smelter_rows(decl: dict[str, object]) -> list[int]:
    return [r["row"] for r in decl["smelters"]]  # type: ignore[attr-defined,index]


def test_the_example_is_read_through_a_slim_package() -> None:
    opened = open_workbook(EXAMPLE, LIMITS)
    slim = opened.workbook._slim
    assert slim is not None
    assert "Smelter List" in slim.scanned
    whole = zipfile.ZipFile(io.BytesIO(EXAMPLE)).getinfo(PART).file_size
    kept = zipfile.ZipFile(io.BytesIO(slim.data)).getinfo(PART).file_size
    assert kept < whole / 4, (kept, whole)
    # The calculation chain is never read for values, and is left out.
    assert "xl/calcChain.xml" not in zipfile.ZipFile(io.BytesIO(slim.data)).namelist()


# name -> edit of the example; ``row``: a smelter row that must be read (None: none added)
CASES: dict[str, tuple[Callable[[bytes], bytes], int | None]] = {
    "as shipped": (lambda d: d, None),
    "helper columns only in the tail": (
        in_tail('<c r="V2400" t="e"><v>#N/A</v></c><c r="X2400"><v>0</v></c>'),
        None,
    ),
    "a CID typed far down": (in_tail(hostile.text_cell("A2400", "CID002550")), 2400),
    "a CID as a shared-string-free number cell": (
        in_tail('<c r="F2400" t="str"><f>A2400</f><v>CID002550</v></c>'),
        2400,
    ),
    "attributes before r": (
        in_tail('<c s="1" t="inlineStr" r="C2400"><is><t>Some Smelter</t></is></c>'),
        2400,
    ),
    "a lower-case reference": (
        in_tail('<c r="c2400" t="inlineStr"><is><t>Some Smelter</t></is></c>'),
        None,
    ),
    "a cell without a reference": (
        in_tail('<c t="inlineStr"><is><t>CID002550</t></is></c>'),
        None,
    ),
    "a value with attributes": (
        in_tail('<c r="D2400" t="str"><v xml:space="preserve">Some Smelter</v></c>'),
        2400,
    ),
    "CDATA": (in_tail('<c r="D2400" t="str"><v><![CDATA[Some Smelter]]></v></c>'), None),
    "a comment in a value": (
        in_tail('<c r="D2400" t="str"><v><!-- x -->Some Smelter</v></c>'),
        None,
    ),
    # Found by review: each of these once made the slim read drop a row or a field.
    "a '<' inside an attribute": (
        in_tail('<c r="A2400" x=\'<c r="Z1"\' t="inlineStr"><is><t>CID002550</t></is></c>'),
        2400,
    ),
    "a reference given twice": (
        in_tail('<c r="Z2400" r="A2400" t="inlineStr"><is><t>CID002550</t></is></c>'),
        None,
    ),
    "a cell of a kept row written in the tail": (
        in_tail(hostile.text_cell("R6", "Another Standard Name")),
        None,
    ),
    "a second sheetData after the first": (
        lambda d: hostile.patch_sheet(
            d,
            "Smelter List",
            lambda x: x.replace(
                b"</worksheet>",
                b'<extLst><ext uri="x"><sheetData></sheetData></ext></extLst></worksheet>',
            ),
        ),
        None,
    ),
    "a helper value after an input one in the same row": (
        in_tail(hostile.text_cell("B2400", "Tin") + '<c r="X2400"><v>1</v></c>'),
        2400,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_slim_and_whole_reads_agree(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    edit, row = CASES[name]
    data = edit(EXAMPLE)
    slim, whole = read(data), read_whole(data, monkeypatch)
    assert slim == whole
    if row is not None:
        assert row in smelter_rows(slim)


def patch_part(data: bytes, part: str, edit: Callable[[bytes], bytes]) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            dst.writestr(info.filename, edit(body) if info.filename == part else body)
    return out.getvalue()


def renamed_part(data: bytes, old: str, new: str) -> bytes:
    """The part ``old`` moved to ``new``, the workbook's relationship following it."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    rel_old, rel_new = old.removeprefix("xl/").encode(), new.removeprefix("xl/").encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/_rels/workbook.xml.rels":
                body = body.replace(rel_old, rel_new)
            dst.writestr(new if info.filename == old else info.filename, body)
    return out.getvalue()


MAPPINGS: dict[str, Callable[[bytes], bytes]] = {
    # A "Mine List" that is the Smelter List's part, trimmed to 6 columns: rows were lost.
    "two sheets, one part": lambda d: patch_part(
        in_tail(hostile.text_cell("Q2400", "only a comment"))(d),
        "xl/workbook.xml",
        lambda x: x.replace(
            b"</sheets>", b'<sheet name="Mine List" sheetId="99" r:id="rId5"/></sheets>'
        ),
    ),
    # A worksheet stored where pictures go: it was left out of the slim package.
    "a sheet part among the pictures": lambda d: renamed_part(
        d, "xl/worksheets/sheet4.xml", "xl/media/sheet4.xml"
    ),
}


@pytest.mark.parametrize("name", sorted(MAPPINGS))
def test_odd_part_mappings_read_as_the_whole_package(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = MAPPINGS[name](EXAMPLE)
    assert read(data) == read_whole(data, monkeypatch)


def test_helper_cells_past_the_limit_are_reported_as_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bounds check sees the whole sheet before the tail is cut (found by review)."""
    limits = Limits(isolate=False, max_rows=2600)
    data = in_tail('<c r="V3000" t="e"><v>#N/A</v></c>', row=3000)(EXAMPLE)

    def meta() -> object:
        decl = read_workbook(get_plugin_manager(), data, limits, {}, None, None)
        return decl.to_dict()["meta"]

    slim = meta()
    with monkeypatch.context() as m:
        m.setattr(workbook_module, "slim_package", lambda *a, **k: None)
        whole = meta()
    assert slim == whole
    assert "3000" in json.dumps(slim)


def test_rows_past_the_limit_are_still_reported() -> None:
    """A CID typed beyond the row limit: the tail up to it is kept, then cut at the limit as
    before, and the truncation is reported once."""
    data = in_tail(hostile.text_cell("A3000", "CID002550"), row=3000)(EXAMPLE)
    opened = open_workbook(data, Limits(isolate=False, max_rows=2600))
    wb = opened.workbook
    wb.sheet("Smelter List")
    wb.sheet("Smelter List")
    cuts = [t for t in wb.truncations if t.sheet == "Smelter List"]
    assert len(cuts) == 1 and cuts[0].last_row == 3000


# -- trim_tail on its own ---------------------------------------------------------------------

HEAD = b'<worksheet><dimension ref="A1:X9"/><sheetData>'
END = b'</sheetData><mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells></worksheet>'


def sheet(*rows: bytes) -> bytes:
    return HEAD + b"".join(rows) + END


def row(n: int, cells: bytes) -> bytes:
    return b'<row r="%d">' % n + cells + b"</row>"


def empty_row(n: int) -> bytes:
    return row(
        n,
        b'<c r="A%d" s="1"/><c r="B%d" t="str"><f>IF(A%d="","",1)</f><v></v></c>'
        b'<c r="C%d" t="str"><f>X</f><v/></c><c r="V%d" t="e"><v>#N/A</v></c>'
        b'<c r="AB%d" t="str"><v>TinX</v></c>' % ((n,) * 6),
    )


def test_trim_tail_cuts_after_the_last_row_with_input() -> None:
    filled = row(5, b'<c r="A5" t="inlineStr"><is><t>CID002550</t></is></c>')
    xml = sheet(row(4, b'<c r="A4" t="s"><v>0</v></c>'), filled, *map(empty_row, range(6, 50)))
    cut = trim_tail(xml, 17)
    assert cut == HEAD + row(4, b'<c r="A4" t="s"><v>0</v></c>') + filled + END


def test_trim_tail_keeps_rows_with_input_beyond_the_helper_columns() -> None:
    xml = sheet(empty_row(5), row(6, b'<c r="Q6"><v>7</v></c>'), empty_row(7))
    assert trim_tail(xml, 17) == sheet(empty_row(5), row(6, b'<c r="Q6"><v>7</v></c>'))
    # Column Q is not an input column of a 6-column list: the row is dropped there.
    assert trim_tail(xml, 6) is None  # nothing in A-F at all: left whole


@pytest.mark.parametrize(
    "odd",
    [
        b'<x:c r="A9"><x:v>1</x:v></x:c>',
        b'<c r="A9"><v><![CDATA[1]]></v></c>',
        b"<!-- a comment -->",
        b"<?pi something?>",
    ],
)
def test_trim_tail_leaves_markup_it_does_not_follow_whole(odd: bytes) -> None:
    xml = sheet(row(5, b'<c r="A5"><v>1</v></c>'), empty_row(6), row(9, odd), empty_row(10))
    assert trim_tail(xml, 17) is None


def test_trim_tail_with_nothing_to_cut() -> None:
    xml = sheet(row(5, b'<c r="A5"><v>1</v></c>'))
    assert trim_tail(xml, 17) is None
    assert trim_tail(b"<worksheet><sheetData/></worksheet>", 17) is None


# -- the shortcut for alike rows ----------------------------------------------------------------


def value_by_value(xml: bytes, columns: int) -> bytes | None:
    """trim_tail without its shortcut: every row looked at value by value (the oracle)."""
    start, end = xml.find(b"<sheetData"), xml.find(b"</sheetData>")
    if bounds._PREFIXED_RE.search(xml, start, end) or b"<!" in xml or b"<?" in xml:
        return None
    last = bounds._last_input(xml, start, end, columns)
    if last < 0:
        return None
    cut = xml.find(b"</row>", last, end)
    if cut < 0:
        return None
    cut += len(b"</row>")
    return None if xml.find(b"<row", cut, end) < 0 else xml[:cut] + xml[end:]


def helper_row(n: int, extra: bytes = b"") -> bytes:
    """A tail row as the template writes it: formulas naming the row, helpers V and X."""
    return row(
        n,
        b'<c r="A%d" s="181"/><c r="B%d" s="182" t="str"><f>IF(LEN(A%d)=0,"",1)</f><v/></c>'
        b'<c r="V%d" s="226" t="e"><f>IF(C%d="",NA(),1)</f><v>#N/A</v></c>'
        b'<c r="X%d" s="227"><f t="shared" ca="1" si="%d"/><v>0</v></c>'
        % (n, n, n, n, n, n, n)
        + extra,
    )


@pytest.mark.parametrize(
    "odd_row",
    [
        # One row differs from its neighbours only where a reader looks: it must be kept.
        helper_row(990).replace(b'<c r="A990" s="181"/>', b'<c r="A990" t="s"><v>3</v></c>'),
        helper_row(990).replace(b'<v/></c><c r="V', b'<v>x</v></c><c r="V'),
        helper_row(990).replace(b'<c r="A990" s="181"/>', b'<c r="A990"><is><t>7</t></is></c>'),
        # Spelled so the column cannot be told; numbers in the way of the renumbering.
        helper_row(990).replace(b'<c r="X990" s="227">', b'<c r="X990" r="A990">'),
        helper_row(990, b'<c r="C990"><v>990</v></c>'),
        helper_row(990, b'<c r="Z990"><v>9900</v></c>'),
        helper_row(990).replace(b"<v>0</v>", b'<v t="x">0</v>'),
        # A value in B with the row's length unchanged: only a byte comparison tells it.
        helper_row(990).replace(b'<c r="B990" s="182" t="str">', b'<c r="B990" t="str"><v>T</v>'),
    ],
)
def test_alike_rows_are_cut_exactly_where_a_value_by_value_scan_cuts(odd_row: bytes) -> None:
    filled = row(5, b'<c r="A5" t="s"><v>0</v></c>')
    # Rows 980-1020 cross from three digits to four: the renumbering changes length there.
    rows = [helper_row(n) if n != 990 else odd_row for n in range(980, 1021)]
    xml = sheet(filled, *rows)
    assert trim_tail(xml, 19) == value_by_value(xml, 19)
    assert trim_tail(xml, 19) is not None


def test_alike_rows_after_the_input_are_all_cut() -> None:
    filled = row(5, b'<c r="A5" t="s"><v>0</v></c>')
    xml = sheet(filled, *map(helper_row, range(6, 1200)))
    assert trim_tail(xml, 19) == HEAD + filled + END == value_by_value(xml, 19)
    # Column X is read by a 24-column list: every helper row is then input.
    assert trim_tail(xml, 24) is None
