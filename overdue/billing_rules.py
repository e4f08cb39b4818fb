"""Temporal Cloud's billable actions (DOMAIN.md): what bench/billing.py counts in real
histories and what `overdue simulate` estimates for simulated processes."""

from __future__ import annotations

CATEGORIES = (
    "start",
    "timer",
    "activity",
    "activity_retry",
    # A local activity leaves a marker, not a scheduled activity; counted as one action each,
    # as the activity it replaces was (Temporal Cloud bills the local activities of one workflow
    # task together; the account workflow runs at most one per task).
    "local_activity",
    "signal",
    "update",
    "query",
    "upsert",
    "heartbeat",
    "child_start",
    "signal_external",
)
PRICE_PER_MILLION_ACTIONS_USD = 50.0
