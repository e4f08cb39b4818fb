"""The supervisors' overdue reviews: the open tasks a dispute's review deadline created
(`workflows.review_deadlines`, stage ids `review_overdue_<n>`, due at the deadline), for the
console's escalation list with their age against the deadline."""

from __future__ import annotations

from datetime import datetime

import asyncpg
from pydantic import BaseModel, ConfigDict

STAGE_PREFIX = "review_overdue_"


class OverdueReview(BaseModel):
    model_config = ConfigDict(frozen=True)

    task_id: int
    account_id: str
    queue: str
    deadline: datetime  # the task's due_at: the review deadline it missed
    status: str  # open, claimed
    claimed_by: str | None


async def overdue_reviews(
    db: asyncpg.Pool | asyncpg.Connection, limit: int = 100
) -> list[OverdueReview]:
    """Open or claimed overdue-review tasks, the longest overdue first."""
    rows = await db.fetch(
        """
        SELECT id, account_id, queue, due_at, status, claimed_by FROM call_tasks
         WHERE stage_id LIKE $1 || '%' AND status IN ('open', 'claimed')
         ORDER BY due_at, id LIMIT $2
        """,
        STAGE_PREFIX,
        limit,
    )
    return [
        OverdueReview(
            task_id=r["id"],
            account_id=r["account_id"],
            queue=r["queue"],
            deadline=r["due_at"],
            status=r["status"],
            claimed_by=r["claimed_by"],
        )
        for r in rows
    ]
