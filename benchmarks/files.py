"""The workbooks the benchmarks screen: RMI's real blank templates, filled with invented data.

Files are built once into ``$TMPDIR/assay-bench`` and reused. Each is a blank template from
``ASSAY_TEMPLATES`` (default ``../shared/templates``) filled by openpyxl (tests/builders.py),
then, unless ``cached=False``, given the formula values Excel would have stored
(benchmarks/cached.py): that is what suppliers send, and what Assay's fast path reads. The
openpyxl output without them is the "no cached values" case, benchmarked as its own row.

Without the real templates, :func:`real_files` falls back to the shipped synthetic examples
(examples/*.xlsx, made from the same templates), and says so.
"""

from __future__ import annotations

import functools
import io
import os
import random
import zipfile
from pathlib import Path

from common import CACHE, ROOT

TEMPLATES = Path(os.environ.get("ASSAY_TEMPLATES") or ROOT.parent / "shared" / "templates")
VERSION = "v2"  # bump when the way files are built changes


def have_templates() -> bool:
    return (TEMPLATES / "cmrt").is_dir()


def cmrt_templates() -> list[str]:
    """The CMRT 6.x blanks present, as paths relative to TEMPLATES."""
    return sorted(
        str(p.relative_to(TEMPLATES))
        for p in (TEMPLATES / "cmrt").glob("RMI_CMRT_6.*.xlsx")
        # This blank was saved with a sample row 5 typed in (Tin, Alpha Metals) over the
        # formulas: a CID typed in A5 would resolve to that smelter, as in Excel.
        if p.name != "RMI_CMRT_6.4_zh-ui.xlsx"
    )


def filled(rel: str, rows: int, seed: int = 0, cached: bool = True) -> Path:
    """Blank ``rel`` filled as supplier ``seed`` would fill it, with ``rows`` smelter rows
    (seed 0: the Look-up's first distinct CIDs; else a seeded sample), alternately typed as a
    CID in column A and as metal + look-up name in B and C."""
    from cached import check_cached

    CACHE.mkdir(exist_ok=True)
    stem = f"{Path(rel).stem}-{rows}-s{seed}-{VERSION}"
    src = TEMPLATES / rel
    dest = CACHE / f"{stem}-{'cached' if cached else 'nocache'}.xlsx"
    if dest.exists():
        return dest
    entries = _entries(src)
    picked = entries[:rows] if seed == 0 else random.Random(seed).sample(entries, rows)
    from xmlfill import fill_xml

    from plugins.layouts import CMRT
    from tests.builders import cmrt_cells

    cells = cmrt_cells(src, n_per_metal=1)
    cells["Declaration"][CMRT.company_cells["company_name"]] = f"Synthetic Supplier {seed:04d} Ltd."
    smelters: dict[str, object] = {}
    for i, e in enumerate(picked):
        row = 5 + i
        if i % 2 == 0:
            smelters[f"A{row}"] = e.cid  # type: ignore[attr-defined]
        else:
            smelters[f"B{row}"] = e.metal  # type: ignore[attr-defined]
            smelters[f"C{row}"] = e.alias  # type: ignore[attr-defined]
    cells["Smelter List"] = smelters  # type: ignore[assignment]
    fill_xml(src, dest, cells, cached)  # type: ignore[arg-type]
    if cached and (missing := check_cached(dest, [e.cid for e in picked])):  # type: ignore[attr-defined]
        dest.unlink()
        raise SystemExit(f"{dest.name}: cached CIDs not read back: {missing[:3]}")
    return dest


@functools.lru_cache(maxsize=8)
def _entries(src: Path) -> list[object]:
    """The blank's Look-up entries, one per CID."""
    from tests.builders import lookup_entries

    seen: dict[str, object] = {}
    for e in lookup_entries(src):
        seen.setdefault(e.cid, e)
    return list(seen.values())


def variant(data: bytes, i: int) -> bytes:
    """The same workbook with a different document title: distinct bytes, same content."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info)
            if info.filename == "docProps/core.xml":
                content = content.replace(
                    b"</cp:coreProperties>",
                    f"<dc:title>Synthetic declaration {i}</dc:title></cp:coreProperties>".encode(),
                )
            dst.writestr(info, content)
    return out.getvalue()


def real_files(n: int = 20, cached: bool = True) -> tuple[list[Path], str]:
    """``n`` different filled templates (CMRT 6.x revisions in turn, 1-300 smelter rows drawn
    with a fixed seed, a supplier each), and a line saying what they are."""
    if not have_templates():
        folder = CACHE / f"examples-{n}-{VERSION}"
        folder.mkdir(parents=True, exist_ok=True)
        examples = sorted((ROOT / "examples").glob("*.xlsx"))
        paths = []
        for i in range(n):
            p = folder / f"example-{i:02d}.xlsx"
            if not p.exists():
                p.write_bytes(variant(examples[i % len(examples)].read_bytes(), i))
            paths.append(p)
        return paths, (
            f"{TEMPLATES} not found: {n} copies of examples/*.xlsx (no cached values) stand in "
            "for real files; set ASSAY_TEMPLATES"
        )
    rels = cmrt_templates()
    rng = random.Random(13)
    counts = [rng.randint(1, 300) for _ in range(n)]
    paths = [filled(rels[i % len(rels)], counts[i], seed=i + 1, cached=cached) for i in range(n)]
    return paths, (
        f"{n} files: {len(rels)} CMRT 6.x blanks from {TEMPLATES} in turn, filled with "
        f"{min(counts)}-{max(counts)} smelter rows (median {sorted(counts)[n // 2]})"
        + (", cached values as Excel stores them" if cached else ", no cached values")
    )


def one_file(cached: bool = True) -> tuple[Path, str]:
    """The single-file benchmark's workbook: CMRT 6.4 with 300 smelter rows."""
    if not have_templates():
        return ROOT / "examples" / "northwind-cmrt-6.5.xlsx", (
            f"{TEMPLATES} not found: examples/northwind-cmrt-6.5.xlsx (15 rows, no cached "
            "values) stands in; set ASSAY_TEMPLATES"
        )
    return filled("cmrt/RMI_CMRT_6.4_en.xlsx", 300, cached=cached), ""
