"""Declarations and findings built in code for the resubmission tests."""

from __future__ import annotations

from typing import Any

from plugins.models import Answer, Declaration, Finding, MineRow, SmelterRow, TemplateMeta

META = TemplateMeta(type="CMRT", version="6.5", layout="CMRT_6.x")
COMPANY = {"company_name": "Synthetic Alloys Ltd.", "contact_email": ""}
CELLS = {"company_name": "D8", "contact_email": "D16"}


def decl(
    smelters: tuple[SmelterRow, ...] = (),
    company: dict[str, str] | None = None,
    answers: tuple[Answer, ...] = (),
    company_answers: tuple[Answer, ...] = (),
    mines: tuple[MineRow, ...] = (),
) -> Declaration:
    return Declaration(
        meta=META,
        company=dict(COMPANY if company is None else company),
        company_cells=dict(CELLS),
        minerals=("Tantalum", "Tin", "Gold", "Tungsten"),
        answers=answers,
        company_answers=company_answers,
        smelters=smelters,
        mines=mines,
    )


def finding(code: str, severity: Any = "error", **where: str) -> Finding:
    return Finding(code=code, severity=severity, message=f"{code} (quoted {where})", **where)
