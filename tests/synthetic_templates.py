"""Template-shaped workbooks built from the project's own cell maps, so tests need no RMI file.

RMI's blank templates are not ours to ship, and a clone without ``../shared`` beside it
must still run every test. :func:`build_template` writes, with openpyxl, a workbook with the
shape the readers rely on, taken from :mod:`plugins.layouts` (never from a real file):

- the sheet names of the revision (Revision, Declaration, Smelter List, Product List, Smelter
  Look-up, the hidden L and C sheets...; Mine List and Minerals Scope where the layout has
  them), Revision!B3 the family's title, Declaration!J3 "Revision x.y", D3 the UI language;
- every mapped Declaration cell with its English label in column B and in the hidden sheet L
  (key ``DeclarationB8`` in column A, English in column D, as RMI's label table);
- the Smelter List header (row 4), the revision in Q3, the metal drop-down of rows 5 to 2504,
  and the look-up formulas (B, C, E-J, R, S and the helper V) of its first rows, written
  *without* cached values: exactly what a real blank becomes once openpyxl has saved it, so
  the reader resolves rows through the workbook's own Look-up as it does for real files;
- a Smelter Look-up of the embedded reference's smelters for the family's metals (a row per
  standard name and per alias, sorted by metal and look-up name, then RMI's two sentinel
  rows per metal), so covered-country and CAHRA-country smelters are there for the builders;
- the hidden country sheet C (code, name) from the project's own country table;
- data validations (scope, date, metal) and sheet protection on the Declaration and the Smelter
  List, which a writer of company declarations must keep.

Labels are plain values, not RMI's translated formulas: nothing reads them but tests. The
conformance tests (``tests/plugins/test_conformance.py``) check, wherever RMI's real blanks
are found, that this shape agrees with them.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from plugins.countries import country_table
from plugins.layouts import AMRT12, CMRT, EMRT2, Layout
from plugins.versions import select_layout
from storage.refdata import load_embedded_smelters

LAST_SMELTER_ROW = 2504  # the end of the Smelter List's validations in a CMRT
# RMI's formulas run to row 2504; ours stop earlier. A row without them reads exactly like a
# row whose formulas have no cached value, and openpyxl loads a fifth of the cells (fills
# take about a second instead of four).
FORMULA_ROWS = 500
NOT_LISTED = "Smelter not listed"
NOT_YET = "Smelter not yet identified"


@dataclass(frozen=True)
class Revision:
    """What a template file is: its family, its revision as its cells say it, its UI language."""

    family: str
    version: str
    language: str = "English"
    legacy: bool = False  # a pre-6 EICC-GeSI CMRT (recognised, not screened)


# The file names tests ask for. A name not listed is parsed (RMI_<FAMILY>_<version>[_ui]).
REVISIONS: dict[str, Revision] = {
    "crt/RMI_CRT_2.21.xlsx": Revision("CRT", "2.2", "中文 Chinese"),  # its cells say 2.2
    "legacy/EICC_CMRT_2.03a_blank.xlsx": Revision("CMRT", "2.03a", legacy=True),
}
_NAME = re.compile(r"RMI_(CMRT|EMRT|CRT|AMRT)_([0-9]+\.[0-9]+)(?:_([a-z-]+))?\.xlsx$")


def revision_of(rel: str) -> Revision:
    if rel in REVISIONS:
        return REVISIONS[rel]
    m = _NAME.search(rel)
    if m is None:
        raise ValueError(f"no synthetic template for {rel!r}")
    ui = m.group(3) or ""
    return Revision(m.group(1), m.group(2), "English" if ui in ("", "en") else "中文 Chinese")


TITLES = {
    "CMRT": "Conflict Minerals Reporting Template",
    "EMRT": "Extended Mineral Reporting Template",
    "CRT": "Cobalt Reporting Template",
    "AMRT": "Additional Minerals Reporting Template",
}
COMPANY_LABELS = {
    "company_name": "Company Name (*):",
    "declaration_scope": "Declaration Scope or Class (*):",
    "scope_description": "Description of Scope:",
    "company_unique_id": "Company Unique ID:",
    "company_unique_id_authority": "Company Unique ID Authority:",
    "address": "Address:",
    "contact_name": "Contact Name (*):",
    "contact_email": "Email – Contact (*):",
    "contact_phone": "Phone – Contact (*):",
    "authorizer": "Authorizer (*):",
    "authorizer_title": "Title - Authorizer:",
    "authorizer_email": "Email - Authorizer (*):",
    "authorizer_phone": "Phone - Authorizer:",
    "effective_date": "Effective Date (*):",
}
# Metals of each family's look-up and Smelter List drop-down.
_EMRT2_METALS = ("Cobalt", "Copper", "Graphite", "Lithium", "Mica", "Nickel")
_NOT_AMRT = {"Tantalum", "Tin", "Gold", "Tungsten", *_EMRT2_METALS}
# The selection a blank comes with (EMRT 2.x: all six; AMRT 1.2: seven, as RMI ships them).
_DEFAULT_SELECTION = {
    EMRT2.id: dict(zip(EMRT2.selection_cells, _EMRT2_METALS, strict=True)),
    AMRT12.id: {
        "D12": "Aluminum",
        "E12": "Chromium",
        "G12": "Copper",
        "H12": "Lithium",
        "I12": "Nickel",
        "D13": "Silver",
        "E13": "Zinc",
    },
}
SMELTER_HEADERS = {
    "id_input": "Smelter Identification Number Input Column",
    "metal": "Metal (*)",
    "lookup": "Smelter Look-up (*)",
    "name": "Smelter Name (1)",
    "country": "Smelter Country (*)",
    "id_column": "Smelter Identification",
    "source": "Source of Smelter Identification Number",
    "street": "Smelter Street",
    "city": "Smelter City",
    "state": "Smelter Facility Location: State / Province",
    "contact_name": "Smelter Contact Name",
    "contact_email": "Smelter Contact Email",
    "next_steps": "Proposed next steps",
    "mine_names": 'Name of Mine(s) or if recycled or scrap sourced, enter "recycled" or "scrap"',
    "mine_countries": 'Location (Country) of Mine(s) or if recycled or scrap sourced, enter "recycled" or "scrap"',
    "recycled": "Does 100% of the smelter’s feedstock originate from recycled or scrap sources?",
    "comments": "Comments",
    "standard_name": "Standard Smelter Name",
    "country_code": "Country Code",
}
SCOPES = ("A. Company", "B. Product (or List of Products)", "C. User defined")
_LU = "'Smelter Look-up'"
# The Smelter List's look-up formulas (row 5; "{r}" is the row), as RMI's CMRT writes them.
SMELTER_FORMULAS = {
    "B": f'=IF(LEN(A{{r}})=0,"",INDEX({_LU}!$A:$A,MATCH($A{{r}},{_LU}!$E:$E,0)))',
    "C": f'=IF(LEN(A{{r}})=0,"",INDEX({_LU}!$C:$C,MATCH($A{{r}},{_LU}!$E:$E,0)))',
    "E": f'=IF(ISERROR($V{{r}}),"",OFFSET({_LU}!$D$4,$V{{r}}-4,0)&"")',
    "F": f'=IF(ISERROR($V{{r}}),"",OFFSET({_LU}!$E$4,$V{{r}}-4,0))',
    "G": f'=IF(C{{r}}="{NOT_LISTED}",IF(ISERROR($V{{r}}),"Enter smelter details","RMI"),'
    f'IF(ISERROR($V{{r}}),"",OFFSET({_LU}!$F$4,$V{{r}}-4,0)))',
    "H": f'=IF(ISERROR($V{{r}}),"",OFFSET({_LU}!$G$4,$V{{r}}-4,0))',
    "I": f'=IF(ISERROR($V{{r}}),"",OFFSET({_LU}!$H$4,$V{{r}}-4,0))',
    "J": f'=IF(ISERROR($V{{r}}),"",OFFSET({_LU}!$I$4,$V{{r}}-4,0))',
    "R": f'=IF(ISERROR($V{{r}}),"",OFFSET({_LU}!$C$4,$V{{r}}-4,0)&"")',
    "S": '=IF(B{r}="","",IFERROR(INDEX(C!$A:$A,MATCH($E{r},C!$B:$B,0)),"Unknown"))',
    "V": f'=IF(C{{r}}="",NA(),IF(OR(C{{r}}="{NOT_LISTED}",C{{r}}="{NOT_YET}"),'
    f"MATCH($B{{r}}&$D{{r}},{_LU}!$J:$J,0),MATCH($B{{r}}&$C{{r}},{_LU}!$J:$J,0)))",
}


def layout_of(rev: Revision) -> Layout:
    if rev.legacy:
        return CMRT
    layout, _known = select_layout(rev.family, rev.version)
    if layout is None:
        raise ValueError(f"no cell map for {rev.family} {rev.version}")
    return layout


def lookup_metals(layout: Layout) -> tuple[str, ...]:
    if layout.id == EMRT2.id:
        return _EMRT2_METALS
    if layout.family == "AMRT":
        _version, smelters = load_embedded_smelters()
        return tuple(sorted({s.metal for s in smelters.values()} - _NOT_AMRT))
    return layout.minerals


def lookup_rows(metals: tuple[str, ...]) -> list[list[str]]:
    """Look-up rows (metal, look-up name, standard name, country, CID, source, street, city,
    state, METAL+Alias x2) from the embedded reference: one per name and alias."""
    _version, smelters = load_embedded_smelters()
    rows: list[list[str]] = []
    for metal in sorted(metals):
        mine = []
        for s in smelters.values():
            if s.metal != metal:
                continue
            for alias in dict.fromkeys((s.name, *s.aliases)):
                mine.append([metal, alias, s.name, s.country, s.cid, "RMI", "", "", ""])
        mine.sort(key=lambda r: (r[1].casefold(), r[4]))
        mine.append([metal, NOT_LISTED, "", "", "", "", "", "", ""])
        mine.append([metal, NOT_YET, "Unknown", "Unknown", "", "", "", "", ""])
        rows.extend(r + [r[0] + r[1]] * 2 for r in mine)
    return rows


def _label(ws: Worksheet, labels: list[tuple[str, str, str]], sheet: str, cell: str, text: str):  # type: ignore[no-untyped-def]
    ws[cell] = text
    labels.append((sheet, cell, text))


def _declaration(ws: Worksheet, rev: Revision, layout: Layout) -> list[tuple[str, str, str]]:
    labels: list[tuple[str, str, str]] = []
    ws["B3"] = "Select Language Preference Here:"
    ws["D3"] = rev.language
    ws["J3"] = f"Revision {rev.version}"
    _label(ws, labels, "Declaration", "B7", "Company Information")
    for field, addr in layout.company_cells.items():
        _label(ws, labels, "Declaration", f"B{addr[1:]}", COMPANY_LABELS[field])
    date_cell = layout.company_cells["effective_date"]
    ws[date_cell].number_format = "d-mmm-yyyy"
    # What the writer of a company declaration must keep: validations and sheet protection.
    scope = DataValidation(type="list", formula1=f'"{",".join(SCOPES)}"', allow_blank=True)
    scope.add(layout.company_cells["declaration_scope"])
    date = DataValidation(type="date", operator="greaterThan", formula1="39082")
    date.add(date_cell)
    ws.add_data_validation(scope)
    ws.add_data_validation(date)
    ws.protection.sheet = True
    if layout.selection_cells:
        first = layout.selection_cells[0][1:]
        _label(ws, labels, "Declaration", f"B{first}", "Select Minerals/Metals in Scope (*):")
        for addr, metal in _DEFAULT_SELECTION.get(layout.id, {}).items():
            ws[addr] = metal
    for q in layout.questions:
        rows = [r for r in q.rows if r]
        _label(ws, labels, "Declaration", f"B{min(rows) - 1}", f"{q.id[1:]}) {q.text} (*)")
        for slot, row in enumerate(q.rows):
            if row is None:
                continue
            if layout.minerals:
                ws[f"B{row}"] = layout.minerals[slot]
            else:  # the chosen minerals, sorted by the template's formulas (no cached value)
                ws[f"B{row}"] = f'=IFERROR(INDEX($D$12:$I$13,{slot + 1})&"(*)","")'
    for cq in layout.company_questions:
        text = f"{cq.id}. {cq.text} (*)"
        if cq.mineral:  # EMRT 1.x: one header (row 73) over a cobalt and a mica row
            if cq.mineral == "Cobalt":
                _label(ws, labels, "Declaration", "B73", f"{cq.id}. {cq.text} (*)")
            ws[f"B{cq.row}"] = cq.mineral
        elif cq.per_mineral_rows:
            _label(ws, labels, "Declaration", f"B{cq.per_mineral_rows[0] - 1}", text)
        else:
            _label(ws, labels, "Declaration", f"B{cq.row}", text)
    return labels


def _smelter_list(ws: Worksheet, rev: Revision, layout: Layout, metals: tuple[str, ...]) -> None:
    cols = layout.smelter_columns
    ws["A3"] = "Smelter List (synthetic template)"
    ws["O3" if layout.id == AMRT12.id else "Q3"] = f"Revision {rev.version}"
    header = 4
    for field, col in cols.items():
        ws.cell(row=header, column=col + 1, value=SMELTER_HEADERS[field])
    if layout.has_lookup:
        ws["X4"] = NOT_LISTED
        first = layout.smelter_first_row
        for row in range(first, first + FORMULA_ROWS):
            for col, formula in SMELTER_FORMULAS.items():
                ws[f"{col}{row}"] = formula.format(r=row)
    metal_col = openpyxl.utils.get_column_letter(cols["metal"] + 1)
    first = layout.smelter_first_row
    dv = DataValidation(type="list", formula1='"' + ",".join(metals) + '"', allow_blank=True)
    dv.add(f"{metal_col}{first}:{metal_col}{LAST_SMELTER_ROW}")
    ws.add_data_validation(dv)
    ws.protection.sheet = True


def _product_list(ws: Worksheet, rev: Revision, layout: Layout) -> None:
    ws["B1"] = "Product List"
    header = layout.product_first_row - 1
    requester = (rev.family, rev.version) in (("EMRT", "2.1"), ("AMRT", "1.3"))
    titles = ["Product Number (*)", "Product Name"]
    titles += (
        ["Requester Product Number", "Requester Product Name", "Comments"]
        if requester
        else ["Comments"]
    )
    for i, title in enumerate(titles):
        ws.cell(row=header, column=layout.product_number_col + 1 + i, value=title)


def _mine_list(ws: Worksheet) -> None:
    titles = ("Metal", "Smelter Name", "Mine Name", "Mine Identification", "Source of Mine ID")
    for i, title in enumerate((*titles, "Mine Country", "Mine Street", "Mine City")):
        ws.cell(row=4, column=i + 1, value=title)


def sheet_names(rev: Revision, layout: Layout) -> list[str]:
    """The sheets of a revision, in the order RMI's newer blanks have them."""
    if rev.legacy:
        return [
            "Revision",
            "Instructions",
            "Definitions",
            "Declaration",
            "Smelter List",
            "Standard Smelter Names",
            "Checker",
            "Product List",
            "L",
            "K",
            "C",
        ]
    names = ["Revision", "Instructions", "Definitions", "Declaration"]
    names += ["Minerals Scope"] if layout.family == "AMRT" else []
    names += ["Smelter List", "Checker"]
    names += ["Mine List"] if layout.has_mine_list else []
    names += ["Product List"]
    names += ["Smelter Look-up"] if layout.has_lookup else []
    return [*names, "L", "C", "SorP"]


def build_template(rel: str, dest: Path) -> Path:
    """A blank template-shaped workbook for ``rel`` (a path under RMI's templates folder, such
    as ``cmrt/RMI_CMRT_6.5_zh-ui.xlsx``) written to ``dest``."""
    rev = revision_of(rel)
    layout = layout_of(rev)
    metals = lookup_metals(layout) if not rev.legacy else layout.minerals
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    sheets = {name: wb.create_sheet(name) for name in sheet_names(rev, layout)}
    sheets["Revision"]["B3"] = TITLES[rev.family]
    sheets["Revision"]["B5"] = f"Revision {rev.version}"
    labels = _declaration(sheets["Declaration"], rev, layout)
    _smelter_list(sheets["Smelter List"], rev, layout, metals)
    _product_list(sheets["Product List"], rev, layout)
    if "Mine List" in sheets:
        _mine_list(sheets["Mine List"])
    if "Smelter Look-up" in sheets:
        lu = sheets["Smelter Look-up"]
        lu["A1"] = "Synthetic Smelter Look-up: smelters of Assay's embedded reference list."
        lu.append([])
        lu.append([])
        lu.append(
            [
                "Metal",
                "Smelter Look-up (*)",
                "Standard Smelter Name",
                "Smelter Facility Location: Country",
                "Smelter ID",
                "Source of Smelter Identification Number",
                "Smelter Street",
                "Smelter City",
                "Smelter Facility Location: State / Province",
                "METAL+Alias",
                "METAL+Alias",
            ]
        )
        for row in lookup_rows(metals):
            lu.append(row)
    table = sheets["L"]
    table.append([None, "Sheets", "Cells", "English"])
    for sheet, cell, text in labels:
        table.append([f"{sheet}{cell}", sheet, cell, text])
    countries = sheets["C"]
    countries.append(["COUNTRY CODE LIST", "FULL NAME"])
    for code, name in sorted(country_table().items(), key=lambda kv: kv[1]):
        countries.append([code, name])
    for name in ("L", "C", "SorP"):
        if name in sheets:
            sheets[name].sheet_state = "hidden"
    sheets["Declaration"].print_area = "A1:J140"  # sheet-scoped names, as RMI's blanks have
    sheets["Smelter List"].print_area = f"A1:Q{LAST_SMELTER_ROW}"
    wb.defined_names["CL"] = DefinedName("CL", attr_text=f"C!$B$2:$B${len(country_table()) + 1}")
    buf = io.BytesIO()
    wb.save(buf)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(as_excel_writes(buf.getvalue()))
    return dest


def as_excel_writes(data: bytes) -> bytes:
    """openpyxl's package with two of its habits changed to Excel's: workbook relationships
    relative to ``xl/`` (openpyxl writes absolute ``/xl/...``), and no ``fullCalcOnLoad`` on
    ``<calcPr/>`` (a blank from Excel has none; the company template writer sets it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/_rels/workbook.xml.rels":
                body = body.replace(b'Target="/xl/', b'Target="')
            elif info.filename == "xl/workbook.xml":
                body = re.sub(rb"<calcPr([^>]*?) ?/>", rb"<calcPr\1/>", body)
                body = body.replace(b' fullCalcOnLoad="1"', b"")
            dst.writestr(info, body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()
