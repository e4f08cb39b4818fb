"""`overdue tasks`: open call tasks by queue (overdue.store.call_tasks.queue_counts, which the
worker's metrics export too)."""

from __future__ import annotations

from datetime import datetime, timedelta

from overdue.store.call_tasks import QueueCounts


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
