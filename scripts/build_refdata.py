"""Generate the embedded reference data from the bundled RMI templates.

    python scripts/build_refdata.py [--templates ../shared/templates]

Writes ``plugins/data/countries.json`` (the template country list) and
``storage/data/smelters.json`` (every CID of every Smelter Look-up sheet: metal, standard
name, country, aliases; the newest template wins on names). Run it again when a new
template revision is added; the output is committed so an installed Assay needs no
download and no ``../shared``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from plugins.builtin.readers.identify import identify  # noqa: E402
from plugins.layouts import version_key  # noqa: E402
from plugins.normalize import clean_cid, clean_text, is_cid  # noqa: E402
from plugins.workbook import open_workbook  # noqa: E402


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
    smelters: dict[str, dict[str, object]] = {}
    sources: list[str] = []
    for (_family, _ver), path, wb in books:
        sources.append(path.name)
        if not wb.has("Smelter Look-up"):
            continue
        for _row, v in wb.sheet("Smelter Look-up").iter_rows(5):
            if len(v) < 5:
                continue
            metal, alias, name, country = (clean_text(x) for x in v[:4])
            cid = clean_cid(v[4])
            if not is_cid(cid) or not metal:
                continue
            entry = smelters.setdefault(
                cid, {"cid": cid, "metal": metal, "name": name, "country": country, "aliases": []}
            )
            if name:
                entry["name"] = name  # newer templates overwrite: books are sorted oldest first
            if country:
                entry["country"] = country
            entry["metal"] = metal
            aliases = entry["aliases"]
            assert isinstance(aliases, list)
            if alias and alias != entry["name"] and alias not in aliases:
                aliases.append(alias)
    for entry in smelters.values():
        aliases = entry["aliases"]
        assert isinstance(aliases, list)
        entry["aliases"] = sorted(a for a in aliases if a != entry["name"])
    out = {
        "version": "embedded:rmi-look-ups:"
        + "+".join(f"{fam}-{ver}" for fam, ver in sorted(newest.items())),
        "generated_from": sources,
        "smelters": [smelters[k] for k in sorted(smelters)],
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
