"""A slim package made ahead by another sandboxed child (plugins.slim.start_prepare): used only
for the bytes and limits it was made for, checked again by the read, and never a different
answer from a read that makes its own."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile

import pytest

from plugins import isolation, slim
from plugins.limits import TOO_COMPLEX, FileProblem, Limits
from plugins.manager import get_plugin_manager
from plugins.pipeline import Screener
from plugins.slim import Slim, checked_slim, slim_package, start_prepare
from plugins.workbook import check_zip
from storage.refdata import embedded_reference
from tests import hostile

EXAMPLE = hostile.EXAMPLE.read_bytes()
PART = "xl/worksheets/sheet5.xml"  # the example's Smelter List


def screener(**limits: object) -> Screener:
    return Screener(get_plugin_manager(), embedded_reference(), limits=Limits(**limits))  # type: ignore[arg-type]


def answer(s: Screener, data: bytes, prepared: slim.Prepared | None = None) -> str:
    result = s.screen_bytes(data, prepared=prepared)
    out = [f.to_dict() for f in result.findings]
    decl = result.declaration.to_dict() if result.declaration else None
    return json.dumps([out, decl], sort_keys=True, default=str)


def example_slim() -> Slim:
    made = slim_package(EXAMPLE, check_zip(EXAMPLE, Limits()), Limits())
    assert made is not None
    return made


def test_a_prepared_package_gives_the_answer_of_a_read_that_makes_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = screener()
    expected = answer(s, EXAMPLE)
    prepared = start_prepare(EXAMPLE, s.limits)
    assert prepared is not None

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("the read made its own package")

    # The reading child inherits this: had the prepared package been refused, the read would
    # have failed (an assertion in the child is an unreadable file) and the answers differ.
    monkeypatch.setattr("plugins.workbook.slim_package", must_not_run)
    assert answer(s, EXAMPLE, prepared) == expected
    assert isolation.last_report is not None and isolation.last_report.outcome == "ok"


def test_the_read_after_a_prepared_package_has_what_is_left_of_one_reads_limits() -> None:
    limits = Limits(cpu_seconds=20, wall_seconds=30.0)
    prepared = start_prepare(EXAMPLE, limits)
    assert prepared is not None and prepared.take(EXAMPLE, limits) is not None
    left = prepared.left(limits)
    cpu, wall = prepared._pending.spent
    assert cpu > 0 and 0 < wall < 30
    assert left.cpu_seconds == max(1, int(20 - cpu)) and left.wall_seconds == pytest.approx(
        30 - wall
    )
    assert dataclasses.replace(left, cpu_seconds=20, wall_seconds=30.0) == limits


def test_a_package_for_other_bytes_or_limits_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    prepared = start_prepare(EXAMPLE, Limits())
    assert prepared is not None
    assert prepared.take(EXAMPLE + b"\0") is None  # other bytes: the child is stopped
    again = start_prepare(EXAMPLE, Limits())
    assert again is not None
    assert again.take(EXAMPLE, Limits(max_rows=3000)) is None  # the config set other limits
    # The read then makes its own package: same answer as without any.
    s = screener(max_rows=3000)
    third = start_prepare(EXAMPLE, Limits())
    assert answer(s, EXAMPLE, third) == answer(s, EXAMPLE)


def test_reads_that_are_not_isolated_prepare_nothing() -> None:
    assert start_prepare(EXAMPLE, Limits(isolate=False)) is None


def test_preparing_past_a_limit_is_the_files_problem() -> None:
    limits = Limits(wall_seconds=0.001)
    prepared = start_prepare(hostile.huge_sheet(40), limits)
    assert prepared is not None
    with pytest.raises(FileProblem) as raised:
        prepared.take(prepared.data, limits)
    assert raised.value.code == TOO_COMPLEX
    # Through the screener: one finding, no traceback.
    s = screener(wall_seconds=0.001)
    result = s.screen_bytes(prepared.data, prepared=start_prepare(prepared.data, s.limits))
    assert [f.code for f in result.findings] == [TOO_COMPLEX] and not result.readable


@pytest.mark.parametrize(
    "bad",
    [
        hostile.random_bytes(50_000),
        hostile.zip_bomb(20),
        hostile.entity_expansion(),
        hostile.far_cell(EXAMPLE),
        hostile.impossible_date(EXAMPLE),
        EXAMPLE[: len(EXAMPLE) // 2],
        b"",
    ],
    ids=["random", "zip-bomb", "entities", "far-cell", "bad-date", "truncated", "empty"],
)
def test_hostile_files_answer_the_same_with_a_prepared_package(bad: bytes) -> None:
    s = screener()
    assert answer(s, bad, start_prepare(bad, s.limits)) == answer(s, bad)


# -- what the read checks of a package made elsewhere -----------------------------------------


def test_a_package_made_elsewhere_is_checked_again() -> None:
    whole = check_zip(EXAMPLE, Limits())
    made = example_slim()
    assert checked_slim(made, whole, Limits()) is not None
    # Other sheet names than the file's, a list sheet that is not one, a wrong truncation:
    assert (
        checked_slim(dataclasses.replace(made, sheet_names=["Declaration"]), whole, Limits())
        is None
    )
    odd = dataclasses.replace(made, scanned={**made.scanned, "Declaration": None})
    assert checked_slim(odd, whole, Limits()) is None
    # A list sheet holding a reference past the row limit (bounds are checked again):
    with zipfile.ZipFile(io.BytesIO(made.data)) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    parts[PART] = parts[PART].replace(
        b"</sheetData>", b'<row r="150000"><c r="A150000"><v>1</v></c></row></sheetData>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    forged = dataclasses.replace(made, data=buf.getvalue())
    assert checked_slim(forged, whole, Limits()) is None


def _repacked(made: Slim, edit: dict[str, bytes]) -> Slim:
    with zipfile.ZipFile(io.BytesIO(made.data)) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    parts.update(edit)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    return dataclasses.replace(made, data=buf.getvalue())


def test_a_package_must_have_cut_every_list_sheet_and_kept_the_rest_as_it_was() -> None:
    whole = check_zip(EXAMPLE, Limits())
    made = example_slim()
    # The Smelter List not among those it cut (its bounds would go unchecked): refused.
    unclaimed = dict(made.scanned)
    del unclaimed["Smelter List"]
    assert checked_slim(dataclasses.replace(made, scanned=unclaimed), whole, Limits()) is None
    # Another worksheet that is not the file's own: refused.
    declaration = "xl/worksheets/sheet4.xml"
    with zipfile.ZipFile(io.BytesIO(made.data)) as zf:
        own = zf.read(declaration)
    forged = _repacked(
        made,
        {
            declaration: own.replace(
                b"</sheetData>", b'<row r="9"><c r="B9"><v>1</v></c></row></sheetData>'
            )
        },
    )
    assert checked_slim(forged, whole, Limits()) is None
    assert checked_slim(_repacked(made, {}), whole, Limits()) is not None  # repacking alone is fine


def test_what_is_left_out_is_read_from_the_package_not_taken_on_trust() -> None:
    made = example_slim()
    claimed = dataclasses.replace(made, left_out=frozenset())
    checked = checked_slim(claimed, check_zip(EXAMPLE, Limits()), Limits())
    assert checked is not None and checked.left_out == made.left_out != frozenset()


def test_a_package_travels_as_json_values_and_bytes() -> None:
    made = example_slim()
    assert Slim.from_plain(made.to_plain()) == made
    with pytest.raises((TypeError, ValueError)):
        Slim.from_plain(
            isolation.WithBytes([["Declaration"], {"Smelter List": ["x", "1", 2]}, []], b"")
        )
    with pytest.raises(TypeError):
        Slim.from_plain([made.sheet_names])
