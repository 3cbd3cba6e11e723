"""Rendering screening results for the command line: text a person can act on, and JSON."""

from __future__ import annotations

from typing import Any

from plugins.models import COMPANY_FIELDS, SEVERITIES, Declaration, Finding

from .app import FileResult

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
    head = fr.file
    if decl:
        company = decl.company.get("company_name") or "(no company name)"
        head += f"\n  {decl.meta.type} {decl.meta.version}, {company}, {len(decl.smelters)} smelter row(s)"
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
            where = f"{f.sheet}!{f.cell}" if f.cell else (f.sheet or "file")
            lines.append(f"    {where:<22} {f.code:<30} {f.message}")
    for notice in res.notices:
        lines.append(f"  REFERENCE WARNING: {notice}")
    refs = res.reference_versions
    lines.append(
        f"  reference: smelters {refs.get('smelters', '')}; RMAP {refs.get('rmap') or 'none loaded'}; CAHRA {refs.get('cahra', '')}"
    )
    return "\n".join(lines)
