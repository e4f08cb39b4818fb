"""Stage names for every policy version a process was started with, not only the current file's.

A call task, a contact or a report row names its stage by id; the words for it come from the
policy that has it (api/console/words.stage_words). Versions are stored by digest when their
first process starts (overdue/store/policy_versions.py), by whichever API process started it,
so signed-in pages put the stored ones onto this process's shelf now and then.
"""

from __future__ import annotations

import logging
import time

import asyncpg

import workflows.policy_shelf as shelf
from overdue.store import policy_versions

logger = logging.getLogger(__name__)

REFRESH_EVERY = 60.0  # seconds: a version stored since then reads as its stage id until then


class PolicyVersionsSeen:
    """When this process last shelved the stored versions (one per app), and the versions it
    could not read (skipped from then on)."""

    def __init__(self) -> None:
        self.refreshed_at: float | None = None
        self.unreadable: set[str] = set()

    async def refresh(self, pool: asyncpg.Pool, *, now: float | None = None) -> bool:
        """Shelve versions stored since the last refresh, at most every REFRESH_EVERY seconds;
        whether it looked. Never fails a page: stage words are a courtesy, so a version that
        no longer reads as a policy (a model changed since it was stored) is logged once and
        skipped, and an error reading them is logged and tried again at the next refresh."""
        moment = time.monotonic() if now is None else now
        if self.refreshed_at is not None and moment - self.refreshed_at < REFRESH_EVERY:
            return False
        self.refreshed_at = moment
        try:
            missing = (
                await policy_versions.stored_digests(pool) - shelf.on_shelf() - self.unreadable
            )
            bodies = await policy_versions.stored_bodies(pool, missing) if missing else {}
        except Exception:
            logger.warning("stored policy versions not read; stages may read as ids", exc_info=True)
            return True
        for digest, body in bodies.items():
            try:
                shelf.shelve_body(digest, body)
            except ValueError as err:  # pydantic's ValidationError is one
                self.unreadable.add(digest)
                logger.warning(
                    "stored policy version %s is not a policy today (%s); its stages read as ids",
                    digest,
                    type(err).__name__,
                )
        return True
