"""Reading the blank template the company declaration is written into.

The blank is read with the same reader as a supplier's file (so its family, revision and,
for EMRT 2.x, its six selected minerals are found the same way), then refused if it is not
a template we have a cell map for or if someone already filled it in: writing over another
declaration would mix two companies' answers. Its own Smelter Look-up and country list are
read so the writer can fill the Smelter List as the template's formulas would.
"""

from __future__ import annotations

import io
import zipfile

import pluggy

from plugins.layouts import LAYOUTS
from plugins.limits import FileProblem, Limits
from plugins.list_sheets import LookupRow
from plugins.models import Declaration
from plugins.normalize import clean_cid, clean_text, is_cid
from plugins.pipeline import read_workbook
from plugins.workbook import Workbook, open_workbook

from .company_template import CompanyTemplateError, TemplateInfo

FAMILIES = ("CMRT", "EMRT", "CRT", "AMRT")


def read_blank(
    pm: pluggy.PluginManager, blank: bytes, limits: Limits | None = None
) -> tuple[Declaration, TemplateInfo]:
    """The blank's declaration (as read) and what the writer needs; raises
    :class:`CompanyTemplateError` with one sentence for a file that is no blank template."""
    limits = limits or Limits()
    try:
        decl = read_workbook(pm, blank, limits)
        opened = open_workbook(blank, limits)
    except FileProblem as problem:
        # The message is written for a supplier ("please send..."): keep its first sentence.
        first = problem.message.split(". ")[0].rstrip(".")
        raise CompanyTemplateError(f"not a blank template Assay can read: {first}") from problem
    meta = decl.meta
    layout = next((lay for lay in LAYOUTS if lay.id == meta.layout), None)
    if layout is None or opened.container != "xlsx":
        raise CompanyTemplateError(
            f"{meta.type or 'this file'} {meta.version} is not a template Assay can fill "
            "(an .xlsx CMRT, EMRT, CRT or AMRT is needed)"
        )
    if macro_enabled(blank):
        raise CompanyTemplateError(
            "the template carries macros (a VBA project): RMI's templates are macro-free "
            ".xlsx files, and a company declaration must not pass a macro on to customers"
        )
    if filled(decl):
        raise CompanyTemplateError(
            "the template is already filled in (company name, answers or smelters): "
            "download a blank copy from RMI"
        )
    wb = opened.workbook
    return decl, TemplateInfo(
        layout=layout,
        version=meta.version,
        minerals=tuple(decl.minerals),
        lookup=lookup_rows(wb),
        country_codes=country_codes(wb),
    )


def macro_enabled(blank: bytes) -> bool:
    """A VBA project part, or a macro-enabled workbook content type (an .xlsm)."""
    with zipfile.ZipFile(io.BytesIO(blank)) as z:
        if any(n.lower().endswith("vbaproject.bin") for n in z.namelist()):
            return True
        try:
            info = z.getinfo("[Content_Types].xml")
        except KeyError:
            return False
        return info.file_size < (1 << 20) and b"macroEnabled" in z.read(info)


def filled(decl: Declaration) -> bool:
    """Whether a declaration has anything a blank does not (the scope dropdown aside)."""
    company = {k: v for k, v in decl.company.items() if k != "declaration_scope" and v}
    answered = any(a.value for a in decl.answers) or any(a.value for a in decl.company_answers)
    return bool(company) or answered or bool(decl.smelters)


def lookup_rows(wb: Workbook) -> dict[str, LookupRow]:
    """CID -> the first row of the template's own Smelter Look-up that carries it."""
    out: dict[str, LookupRow] = {}
    if not wb.has("Smelter Look-up"):
        return out
    for _row, v in wb.sheet("Smelter Look-up").iter_rows(5):
        if len(v) < 6:
            continue
        metal, alias, name, country = (clean_text(x) for x in v[:4])
        cid = clean_cid(v[4])
        if metal and is_cid(cid) and cid not in out:
            out[cid] = LookupRow(metal, alias, name, country, cid, clean_text(v[5]))
    return out


def country_codes(wb: Workbook) -> dict[str, str]:
    """Upper-case country name -> code, from the template's hidden country sheet "C"
    (column A the code, column B the name, from row 2)."""
    out: dict[str, str] = {}
    if not wb.has("C"):
        return out
    for _row, v in wb.sheet("C").iter_rows(2):
        if len(v) >= 2:
            code, name = clean_text(v[0]), clean_text(v[1])
            if code and name:
                out.setdefault(name.upper(), code)
    return out
