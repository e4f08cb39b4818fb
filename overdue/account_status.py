"""An account's status as people are shown it: the API, the agent console, `overdue status`.

The workflow answers its status query as of its own clock, which stands still between events;
days past due is asked about today, so each caller recomputes it for the wall clock here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from workflows.decisions import days_past_due
from workflows.types import AccountStatus


def days_past_due_now(status: AccountStatus, now: datetime | None = None) -> int:
    """The account's days past due as of `now` (default: the wall clock)."""
    return days_past_due(status.due_date, status.time_zone, now or datetime.now(UTC))
