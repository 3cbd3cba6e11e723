"""Generate the synthetic example declarations in examples/ from the blank templates.

    python scripts/make_examples.py

All data is invented (example.test addresses, 555-01xx phones). The CMRT carries the kind
of problems real files have, so the quick start shows what a screening finds.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from plugins.countries import COVERED_COUNTRIES, country_code  # noqa: E402
from tests.builders import cmrt_cells, emrt2_cells, fill, lookup_entries, template  # noqa: E402


def main() -> None:
    out = ROOT / "examples"
    out.mkdir(exist_ok=True)
    src = template("cmrt/RMI_CMRT_6.5_zh-ui.xlsx")
    cells = cmrt_cells(src)
    decl = cells["Declaration"]
    decl["D8"] = "Northwind Synthetic Metals Ltd.\t\t"  # trailing tabs, as real files have
    decl["D16"] = "pat.doe@example,test"  # a comma instead of a dot
    decl["D18"] = "same"
    decl["D22"] = "02-May-2026"  # a date typed as text
    decl["D57"] = "Greater than 75%"  # Tin: not every supplier answered
    decl["G77"] = None  # policy said to be public, but no URL
    # A tin smelter in a covered country, and a row the supplier could not identify.
    covered = next(
        e
        for e in lookup_entries(src)
        if e.metal == "Tin" and country_code(e.country) in COVERED_COUNTRIES
    )
    rows = cells["Smelter List"]
    rows.update(
        {
            "A20": covered.cid,
            "B21": "Gold",
            "C21": "Smelter not yet identified",
            "B22": "Tin",
            "C22": "Smelter not listed",
            "D22": "Synthetic Tin Works",
            "E22": "BRAZIL",
        }
    )
    fill(src, out / "northwind-cmrt-6.5.xlsx", cells)
    emrt = template("emrt/RMI_EMRT_2.1.xlsx")
    cells = emrt2_cells(emrt)
    cells["Declaration"]["D8"] = "Contoso Synthetic Batteries Inc."
    fill(emrt, out / "contoso-emrt-2.1.xlsx", cells)
    print("\n".join(str(p.relative_to(ROOT)) for p in sorted(out.glob("*.xlsx"))))


if __name__ == "__main__":
    main()
