"""Open call tasks by queue, from Postgres: `overdue tasks` prints them, the worker's metrics
export them (overdue.metrics)."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
from pydantic import BaseModel

from workflows.policy import CallQueue


class QueueCounts(BaseModel):
    queue: str
    open: int
    claimed: int
    due_now: int  # open and due: what "next task" would hand out
    oldest_due_at: datetime | None  # the open task waiting longest past its due time


async def queue_counts(db: asyncpg.Pool | asyncpg.Connection) -> list[QueueCounts]:
    """Every known queue (zeros included, so a gauge drops to 0), then any other in use."""
    rows = await db.fetch(
        """
        SELECT queue,
               count(*) FILTER (WHERE status = 'open') AS open,
               count(*) FILTER (WHERE status = 'claimed') AS claimed,
               count(*) FILTER (WHERE status = 'open' AND due_at <= now()) AS due_now,
               min(due_at) FILTER (WHERE status = 'open' AND due_at <= now()) AS oldest_due_at
          FROM call_tasks
         WHERE status IN ('open', 'claimed')
         GROUP BY queue
        """
    )
    found = {row["queue"]: QueueCounts(**dict(row)) for row in rows}
    known = [q.value for q in CallQueue]
    queues = known + sorted(set(found) - set(known))
    return [
        found.get(q, QueueCounts(queue=q, open=0, claimed=0, due_now=0, oldest_due_at=None))
        for q in queues
    ]


def render(counts: list[QueueCounts], now: datetime) -> str:
    """A table of the queues, with totals: what `overdue tasks` prints."""
    lines = [f"{'QUEUE':<14}{'OPEN':>8}{'DUE NOW':>9}{'CLAIMED':>9}  OLDEST DUE"]
    for q in counts:
        oldest = "-" if q.oldest_due_at is None else f"{_age(now - q.oldest_due_at)} ago"
        lines.append(f"{q.queue:<14}{q.open:>8}{q.due_now:>9}{q.claimed:>9}  {oldest}")
    lines.append(
        f"{'total':<14}{sum(q.open for q in counts):>8}{sum(q.due_now for q in counts):>9}"
        f"{sum(q.claimed for q in counts):>9}"
    )
    return "\n".join(lines) + "\n"


def _age(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds()) // 60, 0)
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    return f"{hours}h {minutes % 60}m" if hours < 48 else f"{hours // 24}d {hours % 24}h"
