"""Rendering screening results for the command line: text a person can act on, and JSON."""

from __future__ import annotations

import re
from typing import Any

from plugins.models import COMPANY_FIELDS, SEVERITIES, Declaration, Finding

from .app import FileResult

#: C0/C1 controls, bidi embeddings/overrides/isolates and marks, zero-width and line/paragraph
#: separators, BOM.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


_BREAKS = re.compile("[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]")


def one_line(text: str, limit: int, keep_end: bool = False) -> str:
    """``text`` as one line of at most ``limit`` characters, without controls or bidi marks
    (``keep_end``: cut from the start, for a path whose file name matters most)."""
    text = " ".join(_UNSAFE.sub("", _BREAKS.sub(" ", text[: limit * 8])).split())
    if len(text) <= limit:
        return text
    return "…" + text[-(limit - 1) :] if keep_end else text[: limit - 1] + "…"


def _t(text: object) -> str:
    """Text from a workbook or a file name, safe on a terminal: one line, no controls or bidi
    marks (an ANSI escape in a company name would otherwise recolour or retitle it)."""
    return one_line(str(text), 2000)


DECLARATION_KEYS = tuple(
    k for k in COMPANY_FIELDS if k != "effective_date"
)  # the date is ISO or null


def declaration_json(decl: Declaration | None) -> dict[str, Any] | None:
    if decl is None:
        return None
    out: dict[str, Any] = {k: decl.company.get(k, "") for k in DECLARATION_KEYS}
    out["effective_date"] = decl.effective_date.isoformat() if decl.effective_date else None
    out["language"] = decl.meta.language
    out["minerals"] = list(decl.minerals)
    out["answers"] = [
        {
            "question": a.question,
            "mineral": a.mineral,
            "answer": a.value,
            "cell": a.cell,
            "comment": a.comment,
        }
        for a in decl.answers
    ]
    out["company_answers"] = [
        {
            "question": a.question,
            "mineral": a.mineral,
            "answer": a.value,
            "cell": a.cell,
            "comment": a.comment,
        }
        for a in decl.company_answers
    ]
    out["products"] = [{"row": p.row, "number": p.number, "name": p.name} for p in decl.products]
    out["mines"] = [
        {
            "row": m.row,
            "metal": m.metal,
            "name": m.name,
            "mine_id": m.mine_id,
            "country": m.country,
            "smelter": m.smelter,
        }
        for m in decl.mines
    ]
    return out


def result_json(fr: FileResult) -> dict[str, Any]:
    res = fr.result
    decl = res.declaration
    return {
        "file": fr.file,
        "sha256": fr.sha256,
        "readable": res.readable,
        "template": {
            "type": decl.meta.type,
            "version": decl.meta.version,
            "layout": decl.meta.layout,
            "known_version": decl.meta.known_version,
        }
        if decl
        else None,
        "declaration": declaration_json(decl),
        "smelters": [
            {
                "row": r.row,
                "metal": r.metal,
                "smelter_id": r.smelter_id,
                "name": r.display_name,
                "country": r.country,
                "lookup": r.lookup,
                "id_source": r.id_source,
                "mine_countries": r.mine_countries,
            }
            for r in (decl.smelters if decl else ())
        ],
        "findings": [_finding_json(f) for f in res.findings],
        "summary": res.summary,
        "risk_level": res.risk_level,
        "reference_versions": res.reference_versions,
        "notices": list(res.notices),
    }


def _finding_json(f: Finding) -> dict[str, str]:
    return {
        "code": f.code,
        "severity": f.severity,
        "message": f.message,
        "sheet": f.sheet,
        "cell": f.cell,
        "mineral": f.mineral,
        "smelter_id": f.smelter_id,
        "field": f.field,
        "check": f.check,
    }


def result_text(fr: FileResult) -> str:
    res = fr.result
    decl = res.declaration
    s = res.summary
    head = _t(fr.file)
    if decl:
        company = _t(decl.company.get("company_name") or "(no company name)")
        head += f"\n  {_t(decl.meta.type)} {_t(decl.meta.version)}, {company}, {len(decl.smelters)} smelter row(s)"
    counts = ", ".join(f"{s[k]} {k}" for k in SEVERITIES)
    lines = [head, f"  risk level: {res.risk_level.upper()}  ({counts})"]
    if not res.readable:
        lines.append("  NOT SCREENED: the file could not be read.")
    for sev in SEVERITIES:
        group = [f for f in res.findings if f.severity == sev]
        if not group:
            continue
        lines.append(f"  {sev.upper()} ({len(group)})")
        for f in group:
            where = _t(f"{f.sheet}!{f.cell}" if f.cell else (f.sheet or "file"))
            lines.append(f"    {where:<22} {f.code:<30} {_t(f.message)}")
    for notice in res.notices:
        lines.append(f"  REFERENCE WARNING: {_t(notice)}")
    refs = res.reference_versions
    lines.append(
        f"  reference: smelters {refs.get('smelters', '')}; RMAP {refs.get('rmap') or 'none loaded'}; CAHRA {refs.get('cahra', '')}"
    )
    return "\n".join(lines)
