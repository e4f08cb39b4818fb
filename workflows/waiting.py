"""The account workflow's wait for its next action's time or the next event.

Every timer started is a billed action. On release 0 (`OverdueAccountInput.release`, inputs
from before cost-2026-12) each wait starts its own timer, so an event that arrives while
one runs (a payment, a promise) cancels it and the next wait starts another, usually for the
same instant; their recorded histories hold those commands, so they keep them. From cost-2026-12
the timer outlives the wait it was started for: a wait for the same instant keeps it; only a
different instant (or none) cancels it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

from workflows.steps import WaitForEvents, WaitUntil


class NextActionTimer:
    def __init__(self, keep_across_events: bool) -> None:
        self._keep = keep_across_events
        self._at: datetime | None = None
        self._timer: asyncio.Task[None] | None = None

    async def wait(self, step: WaitUntil | WaitForEvents, woken: Callable[[], bool]) -> None:
        """Until the step's time (none for WaitForEvents) or until `woken()`."""
        if not self._keep:
            await self._wait_with_own_timer(step, woken)
            return
        at = step.at if isinstance(step, WaitUntil) else None
        if at != self._at or self._timer is None:
            self.stop()
            if isinstance(step, WaitUntil):
                delay = max(step.at - workflow.now(), timedelta(0))
                self._timer = asyncio.create_task(workflow.sleep(delay, summary=step.label))
                self._at = step.at
        timer = self._timer
        await workflow.wait_condition(lambda: woken() or (timer is not None and timer.done()))
        if timer is not None and timer.done():
            self._timer, self._at = None, None  # fired: the next wait starts its own

    def stop(self) -> None:
        """Cancel the running timer, if any (a cancelled timer is free)."""
        if self._timer is not None and not self._timer.done():
            self._timer.cancel()
        self._timer, self._at = None, None

    @staticmethod
    async def _wait_with_own_timer(
        step: WaitUntil | WaitForEvents, woken: Callable[[], bool]
    ) -> None:
        """Release 0's commands, unchanged: one timer per wait, cancelled by an event."""
        timeout: timedelta | None = None
        if isinstance(step, WaitUntil):
            timeout = max(step.at - workflow.now(), timedelta(0))
        try:
            await workflow.wait_condition(
                woken,
                timeout=timeout,
                timeout_summary=step.label if isinstance(step, WaitUntil) else None,
            )
        except TimeoutError:
            pass  # the time has come; the loop re-evaluates
