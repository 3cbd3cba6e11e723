"""Synthetic filled templates, built by writing into blank template-shaped workbooks.

Everything written here is invented: companies, people (``example.test`` addresses,
555-01xx phone numbers) and answers. :func:`template` is a *synthetic* blank built from the
project's own cell maps (:mod:`tests.synthetic_templates`), the same on every machine, so no
ordinary test needs RMI's files; :func:`real_template` is RMI's real blank, for the tests
marked ``conformance`` only (``ASSAY_TEMPLATES``, default ``../shared/templates``).

Smelter rows use real CIDs from the template's own Smelter Look-up, as a supplier would pick
them. openpyxl drops cached formula values on save, so these files also exercise the
reader's "no cached values" path (CIDs typed in column A resolved through the workbook's own
Look-up).

The synthetic blanks are built once into a cache directory named after a hash of what they
are made from (this module's builder, the cell maps, the embedded reference), so a run, and
every xdist worker of it, builds each at most once; a changed cell map builds afresh.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from plugins.countries import COVERED_COUNTRIES, country_code

ROOT = Path(__file__).resolve().parents[1]
#: RMI's real blank templates (conformance tests only).
TEMPLATES = Path(os.environ.get("ASSAY_TEMPLATES") or ROOT.parent / "shared" / "templates")
#: The folder holding them, with RMI's published lists under ``data/`` (conformance only).
SHARED = TEMPLATES.parent
AS_OF = dt.date(2026, 6, 30)
EFFECTIVE = dt.datetime(2026, 5, 2)

# Countries avoided for "clean" smelters: covered countries and the embedded CAHRA list.
_AVOID = COVERED_COUNTRIES | {
    "MX",
    "CO",
    "VE",
    "UA",
    "YE",
    "BF",
    "CM",
    "TD",
    "EG",
    "ER",
    "LY",
    "ML",
    "MZ",
    "NE",
    "NG",
    "SO",
    "SD",
    "ZW",
    "AF",
    "IN",
    "MM",
    "PK",
    "PH",
}
_SOURCES = (
    "tests/synthetic_templates.py",
    "plugins/layouts.py",
    "plugins/versions.py",
    "plugins/data/countries.json",
    "storage/data/smelters.json",
)


@cache
def _cache_dir() -> Path:
    digest = hashlib.sha256(openpyxl.__version__.encode())
    for rel in _SOURCES:
        digest.update((ROOT / rel).read_bytes())
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"assay-synthetic-{uid}-{digest.hexdigest()[:16]}"


def template(rel: str) -> Path:
    """The synthetic blank for ``rel`` (``cmrt/RMI_CMRT_6.5_zh-ui.xlsx``), built on first use."""
    from tests.synthetic_templates import build_template

    dest = _cache_dir() / rel
    if not dest.exists():
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        build_template(rel, tmp)
        os.replace(tmp, dest)  # atomic: xdist workers may build the same one at once
    return dest


def real_template(rel: str = "") -> Path:
    """RMI's real blank ``rel`` under ``ASSAY_TEMPLATES`` (the folder itself for ``""``).

    Only for tests marked ``conformance``, which the conftest deselects (or, under
    ``CI=true``, fails the run) where the folder is missing; a missing file is a failure.
    """
    path = TEMPLATES / rel
    if not path.exists():
        pytest.fail(f"{path} not found (ASSAY_TEMPLATES={TEMPLATES})")
    return path


def shared_file(rel: str) -> Path:
    """A file of RMI's beside the templates (``data/...``); conformance tests only."""
    path = SHARED / rel
    if not path.exists():
        pytest.fail(f"{path} not found (beside ASSAY_TEMPLATES={TEMPLATES})")
    return path


def fill(src: Path, dest: Path, cells: dict[str, dict[str, Any]]) -> Path:
    """Copy of ``src`` with ``cells`` ({sheet: {address: value}}) written in."""
    wb = openpyxl.load_workbook(src)
    for sheet, values in cells.items():
        ws = wb[sheet]
        for addr, value in values.items():
            ws[addr] = value
    wb.save(dest)
    return dest


@dataclass(frozen=True)
class LookupEntry:
    metal: str
    alias: str
    name: str
    country: str
    cid: str


def lookup_entries(src: Path) -> list[LookupEntry]:
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(str(src))
    if "Smelter Look-up" not in book.sheet_names:
        return []
    rows = book.get_sheet_by_name("Smelter Look-up").to_python(skip_empty_area=False)
    out = []
    for r in rows[4:]:
        if len(r) > 4 and isinstance(r[4], str) and r[4].startswith("CID"):
            out.append(LookupEntry(str(r[0]), str(r[1]), str(r[2]), str(r[3]), r[4]))
    return out


def clean_smelters(src: Path, metal: str, n: int) -> list[LookupEntry]:
    """``n`` distinct smelters of ``metal`` from the template's look-up, outside risk countries."""
    seen: dict[str, LookupEntry] = {}
    for e in lookup_entries(src):
        if (
            e.metal == metal
            and e.cid not in seen
            and e.alias == e.name
            and country_code(e.country) not in _AVOID
            and country_code(e.country)
        ):
            seen[e.cid] = e
    return list(seen.values())[:n]


COMPANY = {
    "company_name": "Synthetic Components Ltd.",
    "declaration_scope": "A. Company",
    "company_unique_id": "SYN-0001",
    "company_unique_id_authority": "Synthetic Registry",
    "address": "1 Example Way, Testville",
    "contact_name": "Alex Example",
    "contact_email": "alex.example@example.test",
    "contact_phone": "+1 555 0100",
    "authorizer": "Sam Sample",
    "authorizer_title": "Compliance Officer",
    "authorizer_email": "sam.sample@example.test",
    "authorizer_phone": "+1 555 0101",
}


def company_cells(
    company_map: dict[str, str], company: dict[str, Any] | None = None, effective: Any = EFFECTIVE
) -> dict[str, Any]:
    values = dict(COMPANY if company is None else company)
    cells = {company_map[k]: v for k, v in values.items() if k in company_map}
    cells[company_map["effective_date"]] = effective
    return cells


def smelter_rows(
    entries: Iterable[LookupEntry], first_row: int = 5, via_id: bool = True, amrt12: bool = False
) -> dict[str, Any]:
    """Smelter List cells: alternately by typed CID (column A) and by metal + look-up (B, C)."""
    cells: dict[str, Any] = {}
    for i, e in enumerate(entries):
        row = first_row + i
        if amrt12:
            cells.update(
                {f"A{row}": e.metal, f"B{row}": e.name, f"C{row}": e.country, f"D{row}": e.cid}
            )
        elif via_id and i % 2 == 0:
            cells[f"A{row}"] = e.cid
        else:
            cells.update({f"B{row}": e.metal, f"C{row}": e.alias})
    return cells


# -- clean declarations, one per family ------------------------------------------------

CMRT_METALS = ("Tantalum", "Tin", "Gold", "Tungsten")


def cmrt_cells(src: Path, n_per_metal: int = 3) -> dict[str, dict[str, Any]]:
    from plugins.layouts import CMRT

    decl = company_cells(CMRT.company_cells)
    answers = {
        "Q1": "Yes",
        "Q2": "Yes",
        "Q3": "No",
        "Q4": "No",
        "Q5": "No",
        "Q6": "100%",
        "Q7": "Yes",
        "Q8": "Yes",
    }
    for q in CMRT.questions:
        for row in q.rows:
            decl[f"D{row}"] = answers[q.id]
    for cq in CMRT.company_questions:
        decl[f"D{cq.row}"] = cq.allowed[0] if cq.id != "H" else "No"
    decl["G77"] = "https://example.test/responsible-minerals-policy"
    entries = [e for m in CMRT_METALS for e in clean_smelters(src, m, n_per_metal)]
    return {"Declaration": decl, "Smelter List": smelter_rows(entries)}


def emrt1_cells(src: Path) -> dict[str, dict[str, Any]]:
    from plugins.layouts import EMRT1

    decl = company_cells(EMRT1.company_cells)
    answers = {
        "Q1": "Yes",
        "Q2": "Yes",
        "Q3": "No",
        "Q4": "No",
        "Q5": "100%",
        "Q6": "Yes",
        "Q7": "Yes",
    }
    for q in EMRT1.questions:
        for row in q.rows:
            if row:
                decl[f"D{row}"] = answers[q.id]
    for cq in EMRT1.company_questions:
        decl[f"D{cq.row}"] = cq.allowed[0]
    decl["G71"] = "https://example.test/policy"
    entries = clean_smelters(src, "Cobalt", 3) + clean_smelters(src, "Mica", 2)
    return {"Declaration": decl, "Smelter List": smelter_rows(entries)}


def emrt2_cells(src: Path) -> dict[str, dict[str, Any]]:
    """Cobalt and Mica selected; the four other minerals deleted from the form."""
    from plugins.layouts import EMRT2

    decl = company_cells(EMRT2.company_cells)
    for addr, mineral in zip(
        EMRT2.selection_cells,
        ("Cobalt", "Copper", "Graphite", "Lithium", "Mica", "Nickel"),
        strict=True,
    ):
        decl[addr] = mineral if mineral in ("Cobalt", "Mica") else f"(Delete {mineral})"
    answers = {
        "Q1": "Yes",
        "Q2": "Yes",
        "Q3": "No",
        "Q4": "No",
        "Q5": "100%",
        "Q6": "Yes",
        "Q7": "Yes",
    }
    for q in EMRT2.questions:
        for row in q.rows[:2]:
            decl[f"D{row}"] = answers[q.id]
    for cq in EMRT2.company_questions:
        if cq.per_mineral_rows:
            for row in cq.per_mineral_rows[:2]:
                decl[f"D{row}"] = "Yes"
        else:
            decl[f"D{cq.row}"] = cq.allowed[0]
    decl["G117"] = "https://example.test/policy"
    entries = clean_smelters(src, "Cobalt", 3) + clean_smelters(src, "Mica", 2)
    return {"Declaration": decl, "Smelter List": smelter_rows(entries)}


def crt_cells(src: Path) -> dict[str, dict[str, Any]]:
    from plugins.layouts import CRT

    decl = company_cells(CRT.company_cells)
    answers = {"Q1": "Yes", "Q2": "No", "Q3": "No", "Q4": 1, "Q5": "Yes", "Q6": "Yes"}
    for q in CRT.questions:
        decl[f"D{q.rows[0]}"] = answers[q.id]
    for cq in CRT.company_questions:
        decl[f"D{cq.row}"] = cq.allowed[0]
    decl["G63"] = "www.example.test/cobalt-policy"
    return {"Declaration": decl, "Smelter List": smelter_rows(clean_smelters(src, "Cobalt", 3))}


def amrt12_cells(src: Path) -> dict[str, dict[str, Any]]:
    from plugins.layouts import AMRT12

    decl = company_cells(AMRT12.company_cells)
    for addr in AMRT12.selection_cells:
        decl[addr] = None
    decl["D12"], decl["E12"] = "Aluminum", "Silver"
    for row in AMRT12.questions[0].rows[:2]:
        decl[f"D{row}"] = "Yes"
    for row in AMRT12.questions[1].rows[:2]:
        decl[f"D{row}"] = "100%"
    # AMRT 1.2 has no look-up sheet: rows give metal, name, country and CID directly.
    lookup = lookup_entries(template("amrt/RMI_AMRT_1.3.xlsx"))
    entries = [
        e
        for e in lookup
        if e.metal == "Aluminum" and e.alias == e.name and country_code(e.country) not in _AVOID
    ][:2]
    entries += [
        e
        for e in lookup
        if e.metal == "Silver" and e.alias == e.name and country_code(e.country) not in _AVOID
    ][:2]
    return {"Declaration": decl, "Smelter List": smelter_rows(entries, amrt12=True)}


def amrt13_cells(src: Path) -> dict[str, dict[str, Any]]:
    from plugins.layouts import AMRT13

    decl = company_cells(AMRT13.company_cells)
    decl["D12"], decl["E12"] = "Aluminum", "Silver"
    for row in AMRT13.questions[0].rows[:2]:
        decl[f"D{row}"] = "Yes"
    for row in AMRT13.questions[1].rows[:2]:
        decl[f"D{row}"] = "Greater than 90%"
    entries = clean_smelters(src, "Aluminum", 2) + clean_smelters(src, "Silver", 2)
    return {"Declaration": decl, "Smelter List": smelter_rows(entries)}


FAMILIES: dict[str, tuple[str, Any]] = {
    "CMRT-6.4": ("cmrt/RMI_CMRT_6.4_en.xlsx", cmrt_cells),
    "CMRT-6.5": ("cmrt/RMI_CMRT_6.5_zh-ui.xlsx", cmrt_cells),
    "CMRT-6.01": ("cmrt/RMI_CMRT_6.01_zh-ui.xlsx", cmrt_cells),
    "EMRT-1.3": ("emrt/RMI_EMRT_1.3.xlsx", emrt1_cells),
    "EMRT-2.1": ("emrt/RMI_EMRT_2.1.xlsx", emrt2_cells),
    "CRT-2.2": ("crt/RMI_CRT_2.2.xlsx", crt_cells),
    "AMRT-1.2": ("amrt/RMI_AMRT_1.2.xlsx", amrt12_cells),
    "AMRT-1.3": ("amrt/RMI_AMRT_1.3.xlsx", amrt13_cells),
}


def build_family(
    name: str,
    dest_dir: Path,
    extra: dict[str, dict[str, Any]] | None = None,
    src: Path | None = None,
    cells: dict[str, dict[str, Any]] | None = None,
) -> tuple[Path, dict[str, dict[str, Any]]]:
    """The clean declaration of family ``name`` (with ``extra`` cells), written into ``src``
    (default: the synthetic blank); ``cells`` replaces the family's own choice of cells."""
    rel, cells_fn = FAMILIES[name]
    src = src or template(rel)
    cells = cells_fn(src) if cells is None else {k: dict(v) for k, v in cells.items()}
    for sheet, values in (extra or {}).items():
        cells.setdefault(sheet, {}).update(values)
    dest = dest_dir / f"{name}.xlsx"
    return fill(src, dest, cells), cells
