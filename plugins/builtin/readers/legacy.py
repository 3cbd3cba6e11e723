"""Templates we recognise but do not screen: pre-6 CMRTs (EICC-GeSI 2.x/3.x) and ``.xls``.

Declared ``trylast`` so that a plugin able to read them would win. The answer is a
finding telling the supplier exactly which file to send instead, named from the configured
current versions (``[screening.current_versions]``).
"""

from __future__ import annotations

from collections.abc import Mapping

from plugins.checks import revision
from plugins.hookspecs import hookimpl
from plugins.identify import identify
from plugins.models import Declaration
from plugins.workbook import FileProblem, Workbook

CODE = "unsupported-template-version"


@hookimpl(trylast=True)
def assay_read_template(
    workbook: Workbook, container: str, current_versions: Mapping[str, str]
) -> Declaration | None:
    ident = identify(workbook)
    if container == "xls":
        what = f"{ident.family} {ident.version}, saved" if ident else "a workbook saved"
        family = ident.family if ident else "CMRT"
        raise FileProblem(
            CODE,
            f"This file is {what} in the old Excel 97-2003 .xls format, which RMI templates have not used for years. "
            f"Please download the current {revision(current_versions, family)} (or "
            f"{revision(current_versions, 'EMRT')}) from responsibleminerals.org, fill it in and "
            "send it as .xlsx.",
        )
    if ident and ident.family == "CMRT" and 0 < ident.major < 6:
        raise FileProblem(
            CODE,
            f"This is a legacy EICC-GeSI/CFSI CMRT (Revision {ident.version}). Declarations must "
            f"use CMRT 6.x; please fill in the current {revision(current_versions, 'CMRT')} from "
            "responsibleminerals.org and send it as .xlsx.",
        )
    return None
