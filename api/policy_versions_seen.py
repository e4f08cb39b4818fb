"""Stage names for every policy version a process was started with, not only the current file's.

A call task, a contact or a report row names its stage by id; the words for it come from the
policy that has it (api/console/words.stage_words). Versions are stored by digest when their
first process starts (overdue/store/policy_versions.py), by whichever API process started it,
so signed-in pages put the stored ones onto this process's shelf now and then.
"""

from __future__ import annotations

import time

import asyncpg

from overdue.store import policy_versions

REFRESH_EVERY = 60.0  # seconds: a version stored since then reads as its stage id until then


class PolicyVersionsSeen:
    """When this process last shelved the stored versions (one per app)."""

    def __init__(self) -> None:
        self.refreshed_at: float | None = None

    async def refresh(self, pool: asyncpg.Pool, *, now: float | None = None) -> bool:
        """Shelve versions stored since the last refresh, at most every REFRESH_EVERY seconds;
        whether it looked."""
        moment = time.monotonic() if now is None else now
        if self.refreshed_at is not None and moment - self.refreshed_at < REFRESH_EVERY:
            return False
        self.refreshed_at = moment
        await policy_versions.shelve_stored(pool)
        return True
