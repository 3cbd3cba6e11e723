"""``assay report smelters`` and ``assay report rmap-counts`` over a Store of synthetic files
(screening results built in code, credited as the mail intake credits them)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import openpyxl
import pytest

from tests.assay.campaign_cli_support import HOSTILE, Env
from tests.storage.campaign_support import receive, register, rmap, spec, supplier

ALPHA, BETA, GAMMA = "Alpha Synthetic Metals", "Beta Synthetic Alloys", "Gamma Synthetic Cells"


@pytest.fixture
def env(tmp_path):  # type: ignore[no-untyped-def]
    return Env(tmp_path)


def _cids(env: Env, metal: str, n: int) -> list[str]:
    ref = env.store().reference_data()
    return sorted(c for c, s in ref.smelters.items() if s.metal == metal)[:n]


@pytest.fixture
def filled(env: Env) -> dict[str, list[str]]:
    """Three suppliers' CMRTs (one named like a formula) and one EMRT; Tin overlaps."""
    store = env.store()
    ids = register(
        store,
        supplier(ALPHA),
        supplier(BETA),
        supplier(HOSTILE),
        supplier(GAMMA, expected=("EMRT",)),
    )
    tin, gold, cobalt = _cids(env, "Tin", 3), _cids(env, "Gold", 2), _cids(env, "Cobalt", 2)
    receive(store, ids[ALPHA], "alpha-1", smelters=tuple(("Tin", c) for c in tin[:2]))
    receive(store, ids[BETA], "beta-1", smelters=(("Tin", tin[1]), ("Tin", tin[2])))
    receive(
        store,
        ids[HOSTILE],
        "hostile-1",
        smelters=(("Gold", gold[0]), ("Gold", gold[1]), ("Gold", "NOT-A-CID")),
    )
    receive(
        store,
        ids[GAMMA],
        "gamma-1",
        family="EMRT",
        version="2.1",
        smelters=tuple(("Cobalt", c) for c in cobalt),
    )
    return {"Tin": tin, "Gold": gold, "Cobalt": cobalt, "ids": [str(i) for i in ids.values()]}


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_published_csv_on_stdout(env: Env, filled: dict[str, list[str]]) -> None:
    out = env.run("report", "smelters").output
    rows = _csv(out)
    assert rows[0] == ["Metal", "Smelter", "Country"]
    table = rows[1 : rows.index([])]
    assert [r[:2] for r in table] == (
        [["Gold", c] for c in filled["Gold"]]
        + [["Tin", c] for c in filled["Tin"]]
        + [["Cobalt", c] for c in filled["Cobalt"]]
    )
    assert all(r[2] and r[2] == r[2].upper() for r in table)
    assert rows[rows.index([]) + 1] == ["Unidentified smelters"]
    # campaign_support names each row "Synthetic smelter <id>".
    assert ["Gold", "Synthetic smelter NOT-A-CID", "", "identifier is not an RMI CID", "1"] in rows
    for name in (ALPHA, BETA, GAMMA, "HYPERLINK"):
        assert name not in out


def test_full_json_and_xlsx(env: Env, filled: dict[str, list[str]]) -> None:
    data = json.loads(env.run("report", "smelters", "--columns", "full", "--format", "json").output)
    assert data["suppliers"] == 4
    shared = [s for s in data["smelters"] if s["smelter"] == filled["Tin"][1]]
    assert shared[0]["supplier_names"] == [ALPHA, BETA] and shared[0]["suppliers_count"] == 2
    assert data["unidentified"][0]["supplier_names"] == [HOSTILE]
    assert "latest readable, verified file" in data["generated_from"]

    env.run("report", "smelters", "--format", "xlsx", code=2)  # needs --out
    path = env.tmp / "full.xlsx"
    env.run("report", "smelters", "--columns", "full", "--format", "xlsx", "--out", str(path))
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Smelters", "Unidentified"]
    gold = next(r for r in book["Smelters"].iter_rows(min_row=2) if r[0].value == "Gold")
    assert (gold[10].value, gold[10].data_type) == (HOSTILE, "s")  # never a formula


def test_campaign_limits_the_files_to_its_members_and_family(
    env: Env, filled: dict[str, list[str]]
) -> None:
    store = env.store()
    ids = {s.name: s.id for s in store.suppliers()}
    store.create_campaign(spec("Tin 2026"), [ids[ALPHA], ids[GAMMA]], dt.date(2026, 1, 5))
    out = env.run("report", "smelters", "--campaign", "Tin 2026", "--format", "json").output
    data = json.loads(out)
    # Gamma's file is an EMRT: not of the campaign's family. The files predate the campaign
    # only within the same second (whole-second timestamps), so they count.
    assert [s["smelter"] for s in data["smelters"]] == filled["Tin"][:2]
    assert data["suppliers"] == 1 and "campaign Tin 2026" in data["generated_from"]
    missing = env.run("report", "smelters", "--campaign", "Nope", code=1)
    assert "no campaign named 'Nope'" in missing.output


def test_rmap_counts(env: Env, filled: dict[str, list[str]]) -> None:
    tin = filled["Tin"]
    rmap(env.store(), "2026-04-01", dt.date(2026, 4, 1), {tin[0]: "Conformant", tin[1]: "Active"})
    text = env.run("report", "rmap-counts").output
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["Metal", "Smelters", "Conformant"]
    assert lines[2].split() == ["Tin", "3", "1", "1", "1", "0", "33.3%", "2026-04-01"]
    assert lines[4].split()[:7] == ["Total", "7", "1", "1", "1", "4", "14.3%"]
    rows = _csv(env.run("report", "rmap-counts", "--format", "csv").output)
    assert rows[2] == ["Tin", "3", "1", "1", "1", "0", "33.3", "2026-04-01"]
    data = json.loads(env.run("report", "rmap-counts", "--format", "json").output)
    assert [m["metal"] for m in data["metals"]] == ["Gold", "Tin", "Cobalt"]
    assert data["metals"][1]["share_conformant"] == pytest.approx(0.3333)
    path = env.tmp / "counts.xlsx"
    env.run("report", "rmap-counts", "--format", "xlsx", "--out", str(path))
    sheet = openpyxl.load_workbook(path)["RMAP counts"]
    assert [c.value for c in sheet[5]][:2] == ["Total", 7]


# -- the published 2023 table, reproduced from synthetic supplier files ---------------------

PUBLISHED = "data/published-sor-list-2023.csv"


def _supplier_file(rel: str, cells_fn, dest, company: str, rows: list[dict[str, str]]):  # type: ignore[no-untyped-def]
    """A blank template filled as a supplier fills it: the company block and answers of the
    clean builders, then each smelter typed by CID in column A (and its metal in B where the
    template's own look-up lacks the CID, as a supplier picks the metal there)."""
    from tests.builders import fill, lookup_entries, template

    src = template(rel)
    cells = cells_fn(src)
    cells["Declaration"][_company_cell(rel)] = company
    known = {e.cid for e in lookup_entries(src)}
    smelters: dict[str, str] = {}
    for i, r in enumerate(rows):
        smelters[f"A{5 + i}"] = r["smelter_id"]
        if r["smelter_id"] not in known:
            smelters[f"B{5 + i}"] = r["metal"]
    cells["Smelter List"] = smelters
    return fill(src, dest, cells)


def _company_cell(rel: str) -> str:
    from plugins.layouts import CMRT, EMRT2

    return (CMRT if "CMRT" in rel else EMRT2).company_cells["company_name"]


@pytest.mark.slow
@pytest.mark.conformance  # RMI's published 2023 list (../shared/data)
def test_reproduces_the_published_2023_table(env: Env) -> None:
    from program.smelter_list import metal_rank
    from tests.builders import cmrt_cells, emrt2_cells, shared_file

    published = shared_file(PUBLISHED)
    with published.open(newline="", encoding="utf-8") as f:
        wanted = list(csv.DictReader(f))
    assert len(wanted) == 261
    three_tg = [r for r in wanted if r["metal"] != "Cobalt"]
    cobalt = [r for r in wanted if r["metal"] == "Cobalt"]
    names = [f"Synthetic Supplier {c} Ltd" for c in "ABCDEF"]
    files = []
    # Four CMRTs: every 3TG smelter listed by two suppliers (i and the next one).
    for i in range(4):
        mine = [r for k, r in enumerate(three_tg) if k % 4 in (i, (i + 1) % 4)]
        files.append(
            _supplier_file(
                "cmrt/RMI_CMRT_6.5_zh-ui.xlsx",
                cmrt_cells,
                env.tmp / f"cmrt-{i}.xlsx",
                names[i],
                mine,
            )
        )
    # Two EMRTs: Cobalt split between them, the first ten listed by both.
    for i in range(2):
        mine = [r for k, r in enumerate(cobalt) if k < 10 or k % 2 == i]
        files.append(
            _supplier_file(
                "emrt/RMI_EMRT_2.1.xlsx",
                emrt2_cells,
                env.tmp / f"emrt-{i}.xlsx",
                names[4 + i],
                mine,
            )
        )
    registry = env.tmp / "suppliers.csv"
    registry.write_text(
        "name,emails,templates\n"
        + "".join(
            f"{n},survey@s{k}.example.test,{'CMRT' if k < 4 else 'EMRT'}\n"
            for k, n in enumerate(names)
        ),
        "utf-8",
    )
    env.run("suppliers", "import", str(registry))
    env.run("screen", *map(str, files))

    out = env.run("report", "smelters").output
    got = _csv(out)
    # The published file lists a few Tin rows after Tungsten (appended late); the report
    # sorts by metal, then CID, as its header promises.
    expected = sorted(
        ([r["metal"], r["smelter_id"], r["country"]] for r in wanted),
        key=lambda r: (metal_rank(r[0]), r[1]),
    )
    assert got == [["Metal", "Smelter", "Country"], *expected]
    full = json.loads(env.run("report", "smelters", "--columns", "full", "--format", "json").output)
    assert full["suppliers"] == 6
    assert {s["suppliers_count"] for s in full["smelters"] if s["metal"] != "Cobalt"} == {2}
