"""`overdue policy check FILE`, second part: the policy's calendars as loading expands them.

One row per jurisdiction (its source, the years expanded, how many weekday holidays and
working weekend days it gave, the blackout days, each channel's rule on rest days), then
each warning as `path: reason`. Warnings do not refuse the policy: a CN year `chinese_calendar`
has no data for yet takes the statutory holidays by rule (overdue/calendar_sources.py).
"""

from __future__ import annotations

from datetime import date

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from overdue.calendar_sources import calendar_notes, calendar_rows
from workflows.policy import Policy


def render_calendars(file: str, policy: Policy, today: date) -> RenderableType | None:
    """None when the policy has no calendar (every day keeps the contact windows)."""
    if not policy.calendars:
        return None
    table = Table(box=None, pad_edge=False, padding=(0, 2, 0, 0))
    table.add_column("CALENDAR")
    table.add_column("SOURCE")
    table.add_column("YEARS")
    table.add_column("WEEKDAY HOLIDAYS", justify="right")
    table.add_column("WORKING WEEKEND DAYS", justify="right")
    table.add_column("BLACKOUT DAYS", justify="right")
    table.add_column("ON REST DAYS")
    for row in calendar_rows(policy):
        table.add_row(
            Text(row.jurisdiction),
            Text(row.source),
            row.years,
            str(row.rest_days),
            str(row.working_days),
            str(row.blackout_days),
            Text(row.rules),
        )
    notes = calendar_notes(policy, today)
    lines: list[RenderableType] = [Text(""), table, Text("")]
    for note in notes:
        lines.append(Text.assemble((note.path, "bold"), ": ", note.reason))
    count = len(notes)
    verdict = (
        f"{file}: {count} calendar warning{'' if count == 1 else 's'}; the policy still loads"
        if count
        else f"{file}: calendars cover {today.year} and {today.year + 1}, no warnings"
    )
    lines.append(Text(verdict, style="yellow" if count else "green"))
    return Group(*lines)
