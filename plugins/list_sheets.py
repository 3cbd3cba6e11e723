"""Reading the Smelter List, Product List and Mine List sheets.

Smelter rows are resolved the way the template's own formulas would: CID from column F,
else the ID typed in A, else the workbook's Smelter Look-up by metal + look-up name.
When a file was saved by a tool that does not compute formulas (openpyxl, many ERP
exports), F, B, C, E and R read empty even though the supplier filled A or C; the
workbook's own Look-up sheet then stands in for Excel and the row is resolved anyway.
"""

from __future__ import annotations

from plugins.layouts import Layout
from plugins.lookup_cache import LookupRow, LookupTable, lookup_key
from plugins.models import MineRow, ProductRow, SmelterRow
from plugins.normalize import clean_cid, clean_text, is_cid
from plugins.workbook import Workbook

SENTINELS = ("smelter not listed", "smelter not yet identified")
LOOKUP_SHEET = "Smelter Look-up"

__all__ = [
    "LOOKUP_SHEET",
    "LookupRow",
    "WorkbookLookup",
    "read_mines",
    "read_products",
    "read_smelters",
]


class WorkbookLookup:
    """The workbook's own ``Smelter Look-up`` sheet, read only when a row needs it.

    Through the workbook's :class:`~plugins.lookup_cache.LookupCache` when it has one: a
    table parsed before from the same sheet bytes is used, and one parsed here is left in
    ``workbook.learned_lookup`` for the caller to keep.
    """

    def __init__(self, workbook: Workbook) -> None:
        self._workbook = workbook
        self._table: LookupTable | None = None
        self._key_of: list[str | None] = []  # memo: the key, once computed

    def _load(self) -> LookupTable:
        if self._table is None:
            self._table = self._cached() or self._parse()
        return self._table

    def _key(self) -> str | None:
        if self._workbook.lookup_cache is None:
            return None
        if not self._key_of:
            xml = self._workbook.part_xml(LOOKUP_SHEET)
            limit = self._workbook.limits.max_rows
            self._key_of.append(lookup_key(xml, limit) if xml is not None else None)
        return self._key_of[0]

    def _cached(self) -> LookupTable | None:
        cache = self._workbook.lookup_cache
        if cache is None or not self._workbook.has(LOOKUP_SHEET):
            return None
        key = self._key()
        table = cache.get(key) if key else None
        self._workbook.lookup_hit = key if table is not None and key else ""
        return table

    def _parse(self) -> LookupTable:
        if not self._workbook.has(LOOKUP_SHEET):
            return LookupTable(())
        sheet = self._workbook.sheet(LOOKUP_SHEET)
        table, text_only = LookupTable.from_cells(v for _row, v in sheet.iter_rows(5))
        cut = any(t.sheet == LOOKUP_SHEET for t in self._workbook.truncations)
        if text_only and not cut:
            key = self._key()
            if key:
                self._workbook.learned_lookup = (key, table)
        return table

    def by_cid(self, cid: str) -> LookupRow | None:
        return self._load().by_cid.get(cid)

    def by_alias(self, metal: str, alias: str) -> LookupRow | None:
        return self._load().by_alias.get((metal.casefold(), alias.casefold()))


def _cell(values: list[object], col: int | None) -> object:
    if col is None or col >= len(values):
        return None
    return values[col]


def read_smelters(workbook: Workbook, layout: Layout) -> tuple[tuple[SmelterRow, ...], bool]:
    """Non-blank Smelter List rows, and whether uncached formulas had to be resolved."""
    if not workbook.has("Smelter List"):
        return (), False
    cols = layout.smelter_columns
    lookup = WorkbookLookup(workbook)
    uncached = False
    rows: list[SmelterRow] = []
    text_fields = [f for f in cols if f not in ("id_input", "id_column", "country_code")]
    text_cols = [(f, cols[f]) for f in text_fields]
    input_cols = [
        cols[f]
        for f in (
            "id_input",
            "metal",
            "lookup",
            "name",
            "country",
            "id_column",
            "mine_names",
            "mine_countries",
            "comments",
        )
        if f in cols
    ]
    for row_no, values in workbook.sheet("Smelter List").iter_rows(layout.smelter_first_row):
        # Rows can be deleted or padded; a row counts when any input column holds something.
        # Fast path first: most of the 2,500 rows are entirely "" (falsy), as are 0 artefacts.
        raw = [values[c] for c in input_cols if c < len(values)]
        if not any(raw) or not any(clean_text(v) for v in raw):
            continue
        n = len(values)
        data = {f: clean_text(values[c]) if c < n else "" for f, c in text_cols}
        id_input = clean_cid(_cell(values, cols.get("id_input")))
        id_column = clean_cid(_cell(values, cols.get("id_column")))
        metal, look = data.get("metal", ""), data.get("lookup", "")
        ref: LookupRow | None = None
        smelter_id, id_source = "", ""
        if is_cid(id_column):
            smelter_id, id_source = id_column, "F"
        elif is_cid(id_input):
            smelter_id, id_source = id_input, "A"
            ref = lookup.by_cid(id_input) if layout.has_lookup else None
            if ref and not metal:
                uncached = True  # B/C are formulas of A: Excel would have filled them
        if layout.has_lookup and look and look.casefold() not in SENTINELS and metal:
            by_alias = (
                lookup.by_alias(metal, look)
                if (not smelter_id or not data.get("country"))
                else None
            )
            if by_alias is not None:
                ref = ref or by_alias
                if not smelter_id and is_cid(by_alias.cid):
                    smelter_id, id_source = by_alias.cid, "lookup"
                    uncached = True  # F is a formula of B+C
        if ref is not None:
            data["metal"] = metal or ref.metal
            data["lookup"] = look or ref.alias
            if not data.get("country"):
                data["country"] = ref.country
            if not data.get("standard_name"):
                data["standard_name"] = ref.name
            if not data.get("source"):
                data["source"] = ref.source
        if not data.get("standard_name"):
            data["standard_name"] = data.get("name", "")
        data.pop("country_code", None)
        rows.append(
            SmelterRow(
                row=row_no,
                id_input=id_input,
                id_column=id_column,
                smelter_id=smelter_id,
                id_source=id_source,
                **data,
            )
        )
    return tuple(rows), uncached


def read_products(workbook: Workbook, layout: Layout) -> tuple[ProductRow, ...]:
    if not workbook.has("Product List"):
        return ()
    out: list[ProductRow] = []
    sheet = workbook.sheet("Product List")
    # 2.1-style lists (EMRT 2.1, AMRT 1.3) add requester columns D-E and move comments to F.
    comments_col = 5 if sheet.get(layout.product_first_row - 1, 5) is not None else 3
    for row_no, values in sheet.iter_rows(layout.product_first_row):
        number = clean_text(_cell(values, layout.product_number_col))
        name = clean_text(_cell(values, layout.product_name_col))
        if not number and not name:
            continue
        if number.startswith("©") or name.startswith("©"):
            continue  # the copyright line under the table
        comments = clean_text(_cell(values, comments_col))
        out.append(ProductRow(row=row_no, number=number, name=name, comments=comments))
    return tuple(out)


def read_mines(workbook: Workbook, layout: Layout) -> tuple[MineRow, ...]:
    if not (layout.has_mine_list and workbook.has("Mine List")):
        return ()
    out: list[MineRow] = []
    for row_no, values in workbook.sheet("Mine List").iter_rows(5):
        fields = [clean_text(_cell(values, i)) for i in range(6)]
        if not any(fields[:4]) and not fields[5]:
            continue
        if fields[0].startswith("©"):
            continue
        out.append(
            MineRow(
                row=row_no,
                metal=fields[0],
                smelter=fields[1],
                name=fields[2],
                mine_id=fields[3],
                country=fields[5],
            )
        )
    return tuple(out)
