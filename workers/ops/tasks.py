"""`overdue tasks`: open call tasks by queue (overdue.store.call_tasks.queue_counts, which the
worker's metrics export too)."""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.table import Table
from rich.text import Text

from overdue.store.call_tasks import QueueCounts


def render(counts: list[QueueCounts], now: datetime) -> Table:
    """A table of the queues, with totals: what `overdue tasks` prints."""
    queues = Table(box=None, pad_edge=False, padding=(0, 2, 0, 0))
    queues.add_column("QUEUE")
    for name in ("OPEN", "DUE NOW", "CLAIMED"):
        queues.add_column(name, justify="right")
    queues.add_column("OLDEST DUE")
    for q in counts:
        oldest = "-" if q.oldest_due_at is None else f"{_age(now - q.oldest_due_at)} ago"
        queues.add_row(Text(q.queue), str(q.open), str(q.due_now), str(q.claimed), oldest)
    queues.add_row(
        "total",
        str(sum(q.open for q in counts)),
        str(sum(q.due_now for q in counts)),
        str(sum(q.claimed for q in counts)),
        "",
        style="bold",
    )
    return queues


def _age(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds()) // 60, 0)
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    return f"{hours}h {minutes % 60}m" if hours < 48 else f"{hours // 24}d {hours % 24}h"
