"""A campaign's status as text and tables: the terminal view, and the rows of the CSV and
XLSX that ``assay campaign status`` writes (figures from :mod:`reports.campaign_status`).
"""

from __future__ import annotations

from typing import Any

from .campaign_status import CampaignStatus


def status_text(s: CampaignStatus) -> str:
    """The status for a terminal: the figures, then one line per supplier."""
    c, f = s.campaign, s.figures
    lines = [
        f"Campaign {c.name} ({c.family}{' ' + c.min_version + '+' if c.min_version else ''}), "
        f"deadline {c.deadline.isoformat()}, final {c.final_deadline.isoformat()}, as of {s.as_of.isoformat()}",
        f"{f.responded} of {f.suppliers} answered ({f.response_rate:.1%}, {f.response_category}); "
        f"{f.accepted} accepted; {len(s.overdue)} overdue; {s.count('resubmit')} to resubmit; "
        f"{s.count('escalated')} escalated",
    ]
    for metal, x in s.by_metal.items():
        lines.append(
            f"  {metal}: {x.responded} of {x.suppliers} ({x.response_rate:.1%}, {x.response_category})"
        )
    lines.append("")
    for r in s.rows:
        last = f"last file {r.last_file_date}" if r.last_file_date else "no file"
        lines.append(
            f"{r.name[:40]:<40} {r.status:<14} {r.grade:<6} {r.attempts} attempt(s), {last}, "
            f"{r.reminders_sent} reminder(s)"
        )
        for reason in r.grade_reasons:
            lines.append(f"{'':<41}- {reason}")
    return "\n".join(lines)


HEADER = (
    "Supplier",
    "Status",
    "Grade",
    "Grade reasons",
    "Attempts",
    "Last file",
    "Reminders sent",
    "Owner",
    "Metals",
    "Still missing",
)


def table_rows(s: CampaignStatus) -> list[list[Any]]:
    return [
        [
            r.name,
            r.status,
            r.grade,
            "; ".join(r.grade_reasons),
            r.attempts,
            r.last_file_date,
            r.reminders_sent,
            r.owner,
            ", ".join(r.metals),
            "; ".join(r.missing),
        ]
        for r in s.rows
    ]


def summary_rows(s: CampaignStatus) -> list[list[Any]]:
    f = s.figures
    rows: list[list[Any]] = [
        ["(all)", f.suppliers, f.responded, f.accepted, f.response_rate, f.response_category]
    ]
    for metal, x in s.by_metal.items():
        rows.append(
            [metal, x.suppliers, x.responded, x.accepted, x.response_rate, x.response_category]
        )
    return rows


SUMMARY_HEADER = (
    "Metal",
    "Suppliers",
    "Responded",
    "Accepted",
    "Response rate",
    "Response category",
)
