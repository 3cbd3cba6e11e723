"""``/campaign [NAME]``: a campaign's figures (or every open campaign's), staff workspace only.

The figures are those of ``assay campaign status`` (:mod:`reports.campaign_status`), as of
the service's day; supplier names are outside text and are escaped.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from reports.campaign_status import CampaignStatus, campaign_status

from ..slack_render import context, fallback, name_md, section
from .services import Services, staff_view

COMMAND = "/campaign"
MAX_NAMES = 15


def headline(s: CampaignStatus) -> str:
    """ "212 of 239 answered (88.7%, Greater than 75%); 9 overdue; 4 to resubmit"."""
    f = s.figures
    return (
        f"{f.responded} of {f.suppliers} answered ({f.response_rate:.1%}, {f.response_category}); "
        f"{len(s.overdue)} overdue; {s.count('resubmit')} to resubmit; "
        f"{s.count('escalated')} escalated"
    )


def _names(names: list[str]) -> str:
    shown = ", ".join(name_md(n, 80) for n in names[:MAX_NAMES])
    more = len(names) - MAX_NAMES
    return shown + (f" and {more} more" if more > 0 else "")


def status_blocks(s: CampaignStatus) -> tuple[str, list[dict[str, Any]]]:
    c = s.campaign
    title = f"*Campaign {name_md(c.name, 100)}* ({c.family}, deadline {c.deadline.isoformat()})"
    blocks = [section(f"{title}\n{headline(s)}")]
    if s.by_metal:
        blocks.append(
            section(
                "\n".join(
                    f"{name_md(m, 40)}: {x.responded} of {x.suppliers} "
                    f"({x.response_rate:.1%}, {x.response_category})"
                    for m, x in s.by_metal.items()
                )
            )
        )
    if s.overdue:
        blocks.append(section(f"*Overdue:* {_names(list(s.overdue))}"))
    resubmit = [r.name for r in s.rows if r.status == "resubmit"]
    if resubmit:
        blocks.append(section(f"*To resubmit:* {_names(resubmit)}"))
    high = [r.name for r in s.rows if r.grade == "high"]
    if high:
        blocks.append(section(f"*High risk:* {_names(high)}"))
    blocks.append(context(f"As of {s.as_of.isoformat()} · `assay campaign status` has every row"))
    return fallback(f"{title}: {headline(s)}"), blocks


def campaign_command(
    ack: Ack, command: dict[str, Any], services: Services, respond: Respond
) -> None:
    """Acknowledged at once (a status of 2,000 suppliers can take longer than Slack's three
    seconds); the answer follows through the command's response URL, ephemeral."""
    name = " ".join((command.get("text") or "").split())
    if not staff_view(services.settings, command.get("team_id")):
        ack(text="Campaign figures are only available in the compliance workspace.")
        return
    ack()
    store = services.store()
    today = services.today()
    settings = services.settings
    if not name:
        open_ones = store.campaigns("open")
        if not open_ones:
            respond(text="No open campaign. Create one with `assay campaign create`.")
            return
        lines = []
        for c in open_ones:
            s = campaign_status(
                store,
                c,
                today,
                current_versions=settings.current_versions,
                stale_after_days=settings.stale_after_days,
            )
            lines.append(f"*{name_md(c.name, 100)}* ({c.family}): {headline(s)}")
        text = "\n".join(lines)
        respond(text=fallback(text), blocks=[section(text)])
        return
    found = store.campaign(name)
    if found is None:
        respond(text=f"No campaign named “{name_md(name, 100)}”.")
        return
    text, blocks = status_blocks(
        campaign_status(
            store,
            found,
            today,
            current_versions=settings.current_versions,
            stale_after_days=settings.stale_after_days,
        )
    )
    respond(text=text, blocks=blocks)


def register(app: App, services: Services) -> None:
    @app.command(COMMAND)
    def listener(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        campaign_command(ack, command, services, respond)
