"""Temporal Cloud's billable actions (DOMAIN.md): what bench/billing.py counts in real
histories and what `overdue simulate` estimates for simulated processes."""

from __future__ import annotations

CATEGORIES = (
    "start",
    "timer",
    "activity",
    "activity_retry",
    "signal",
    "update",
    "query",
    "upsert",
    "heartbeat",
    "child_start",
    "signal_external",
)
PRICE_PER_MILLION_ACTIONS_USD = 50.0
