"""Generate the embedded reference data from the bundled RMI templates.

    python scripts/build_refdata.py [--templates ../shared/templates]

Writes ``plugins/data/countries.json`` (the template country list) and
``storage/data/smelters.json`` (every CID of every Smelter Look-up sheet: metal, standard
name, country, aliases; the newest template wins on names). Sheets are read with
:func:`storage.smelter_import.lookup_records`, the reader ``assay`` uses for a look-up an
operator imports, and names garbled in RMI's files ("Pe?oles") are repaired from the
smelter's other names, or the alias dropped. Run it again when a new template revision is
added; the output is committed so an installed Assay needs no download and no ``../shared``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from plugins.identify import identify  # noqa: E402
from plugins.normalize import clean_text  # noqa: E402
from plugins.versions import version_key  # noqa: E402
from plugins.workbook import open_workbook  # noqa: E402
from storage.smelter_import import LOOKUP_SHEET, SmelterTable, lookup_records  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--templates", type=Path, default=ROOT.parent / "shared" / "templates")
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT,
        help="project root to write into (tests use a temporary one)",
    )
    args = parser.parse_args()
    books = []
    for path in sorted(args.templates.glob("*/*.xlsx")):
        if "legacy" in path.parts:
            continue
        wb = open_workbook(path.read_bytes()).workbook
        ident = identify(wb)
        if ident is None:
            continue
        books.append(((ident.family, version_key(ident.version)), path, wb))
    books.sort(key=lambda b: b[0])
    newest = {fam: f"{ver[0]}.{ver[1]:02d}".rstrip("0").rstrip(".") for (fam, ver), _p, _w in books}
    table = SmelterTable()
    sources: list[str] = []
    for (_family, _ver), path, wb in books:
        sources.append(path.name)
        if not wb.has(LOOKUP_SHEET):
            continue
        rows = [list(v) for _row, v in wb.sheet(LOOKUP_SHEET).iter_rows(1)]
        for cid, metal, alias, name, country in lookup_records(rows):
            table.add(cid, metal, name, country, [alias])  # newer templates overwrite
    smelters = table.finish()
    out = {
        "version": "embedded:rmi-look-ups:"
        + "+".join(f"{fam}-{ver}" for fam, ver in sorted(newest.items())),
        "generated_from": sources,
        "smelters": [
            {
                "cid": ref.cid,
                "metal": ref.metal,
                "name": ref.name,
                "country": ref.country,
                "aliases": list(ref.aliases),
            }
            for ref in smelters.values()
        ],
    }
    (args.out / "storage" / "data").mkdir(parents=True, exist_ok=True)
    (args.out / "storage" / "data" / "smelters.json").write_text(
        json.dumps(out, ensure_ascii=False, indent=0) + "\n", "utf-8"
    )
    # Country list: the hidden C sheet of the newest CMRT.
    cmrt = [b for b in books if b[0][0] == "CMRT"][-1][2]
    countries = {}
    for _row, v in cmrt.sheet("C").iter_rows(2):
        code, name = clean_text(v[0]), clean_text(v[1])
        if len(code) == 2 and name:
            countries[code] = name
    (args.out / "plugins" / "data").mkdir(parents=True, exist_ok=True)
    (args.out / "plugins" / "data" / "countries.json").write_text(
        json.dumps(countries, ensure_ascii=False, indent=0, sort_keys=True) + "\n", "utf-8"
    )
    print(f"{len(smelters)} smelters from {len(books)} templates; {len(countries)} countries")


if __name__ == "__main__":
    main()
