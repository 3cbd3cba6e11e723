"""One supplier's history (``assay suppliers show``): every file it sent with its findings,
its grade over time, what campaigns sent it, and its remediations. Internal output."""

from __future__ import annotations

from typing import Any

from storage.models import Supplier
from storage.store import Store


def supplier_history(store: Store, supplier: Supplier) -> dict[str, Any]:
    files = []
    for a in store.attempts_since("", [supplier.id]).get(supplier.id, []):
        sub = store.submission(a.sha256)
        files.append(
            {
                "received": a.received_at,
                "filename": a.filename,
                "sha256": a.sha256,
                "template": f"{a.template_type} {a.template_version}".strip() or "unreadable",
                "readable": a.readable,
                "risk_level": sub.risk_level if sub else "",
                "errors": a.errors,
                "risks": a.risks,
                "warnings": a.warnings,
                "findings": [
                    {"code": f.code, "severity": f.severity, "cell": f.cell, "message": f.message}
                    for f in store.findings(a.sha256)
                ],
            }
        )
    return {
        "name": supplier.name,
        "owner": supplier.owner,
        "metals": list(supplier.metals),
        "templates": list(supplier.expected),
        "files": files,
        "grades": [
            {
                "date": g.on_date,
                "campaign": g.campaign,
                "grade": g.level,
                "reasons": list(g.reasons),
            }
            for g in store.grade_history(supplier.id)
        ],
        "campaigns": [c.name for c in store.campaigns_of(supplier.id)],
        "sent": [
            {"campaign": name, "what": kind, "offset": offset, "date": on}
            for name, kind, offset, on in store.campaign_events(supplier.id)
        ],
        "remediations": [
            {
                "id": r.id,
                "opened": r.opened_at,
                "smelters": list(r.cids),
                "closed": r.closed_at or None,
                "reason": r.close_reason or None,
            }
            for r in store.remediations(open_only=False, supplier_id=supplier.id)
        ],
    }


def _sent_label(kind: str, offset: int) -> str:
    if kind == "reminder":
        return f"reminder ({abs(offset)} day(s) {'before' if offset < 0 else 'after'} the deadline)"
    return kind


def supplier_history_text(h: dict[str, Any]) -> str:
    lines = [
        f"{h['name']}  owner: {h['owner'] or '-'}  metals: {', '.join(h['metals']) or 'all'}",
        f"campaigns: {', '.join(h['campaigns']) or '-'}",
        "",
        f"files ({len(h['files'])}):",
    ]
    for f in h["files"]:
        lines.append(
            f"  {f['received'][:10]}  {f['filename'][:60]}  {f['template']}  "
            f"{(f['risk_level'] or '').upper()}  {f['errors']} error, {f['risks']} risk, {f['warnings']} warning"
        )
        for x in f["findings"]:
            if x["severity"] in ("error", "risk"):
                lines.append(
                    f"      {x['severity']:<7} {x['code']}  {x['cell']}  {x['message'][:120]}"
                )
    lines += ["", "grade over time:"]
    for g in h["grades"] or [{"date": "-", "grade": "not graded yet", "reasons": []}]:
        where = f"  ({g['campaign']})" if g.get("campaign") else ""
        lines.append(f"  {g['date']}  {g['grade']}{where}")
        lines += [f"      - {r}" for r in g["reasons"]]
    lines += ["", "sent:"]
    for s in h["sent"]:
        if s["what"] in ("request", "reminder", "escalation", "non-responsive"):
            lines.append(f"  {s['date']}  {s['campaign']}: {_sent_label(s['what'], s['offset'])}")
    lines += ["", "remediations:"]
    for r in h["remediations"]:
        state = f"closed {str(r['closed'])[:10]} ({r['reason']})" if r["closed"] else "open"
        lines.append(f"  #{r['id']} opened {r['opened'][:10]}: {', '.join(r['smelters'])}  {state}")
    return "\n".join(lines)
