"""An account's status as people are shown it: the API, the agent console, `overdue status`.

The workflow answers its status query as of its own clock, which stands still between events;
days past due is asked about today, so each caller recomputes it for the wall clock here.
What people typed (why an account is paused) is not in the workflow: `with_texts` reads it back.
"""

from __future__ import annotations

from datetime import UTC, datetime

from overdue.store.free_texts import texts_by_id
from overdue.store.transactions import Db
from workflows.decisions import days_past_due
from workflows.types import AccountStatus


def days_past_due_now(status: AccountStatus, now: datetime | None = None) -> int:
    """The account's days past due as of `now` (default: the wall clock)."""
    return days_past_due(status.due_date, status.time_zone, now or datetime.now(UTC))


async def with_texts(db: Db, status: AccountStatus) -> AccountStatus:
    """The status with the text its pause refers to (`text_id`) read back from Postgres into
    `pause.reason`, where people are shown it."""
    pause = status.pause
    if pause is None or not pause.text_id:
        return status
    text = (await texts_by_id(db, [pause.text_id])).get(pause.text_id)
    if text is None:  # erased on request
        return status
    return status.model_copy(update={"pause": pause.model_copy(update={"reason": text})})
