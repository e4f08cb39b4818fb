"""Keeping the dev stack's children running: a child that dies is started again, with backoff.

Each supervised child has a `Slot`: how to start it and the process running now. When the
process exits without being asked to, the slot waits (0.5 s, doubling up to 30 s; back to
0.5 s once a run lasted a minute), says so in the stack's log, and starts it again. A child
that keeps dying at once (MAX_QUICK_DEATHS runs in a row shorter than STABLE_AFTER_SECONDS)
is given up on, and the stack stops with exit code 1, as a broken setup should.

The embedded Postgres runs detached (pg_ctl daemonizes it): `Postmaster` watches its pid
instead, so it is supervised the same way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import psutil

from workers.devstack.local_postgres import LocalPostgres
from workers.devstack.processes import describe_exit

FIRST_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 30.0
STABLE_AFTER_SECONDS = 60.0
MAX_QUICK_DEATHS = 5

Say = Callable[[str], None]


class Supervisable(Protocol):
    @property
    def pid(self) -> int: ...

    async def wait(self) -> int | None:
        """Until it exits: its exit code, or None when that is not ours to know."""
        ...


class Postmaster:
    """The embedded Postgres server, watched by pid (it is not our child)."""

    POLL_SECONDS = 0.5

    def __init__(self, server: LocalPostgres) -> None:
        self.server = server

    @property
    def pid(self) -> int:
        return self.server.pid

    async def wait(self) -> int | None:
        while True:
            try:
                if psutil.Process(self.pid).status() == psutil.STATUS_ZOMBIE:
                    return None
            except psutil.NoSuchProcess:
                return None
            await asyncio.sleep(self.POLL_SECONDS)


class GaveUp(Exception):
    """A child kept dying right after each start."""


@dataclass
class Slot:
    """One supervised child: `start` spawns it (and waits until it serves, if it can tell)."""

    name: str
    start: Callable[[], Awaitable[Supervisable]]
    child: Supervisable
    started_at: float = field(default_factory=time.monotonic)
    quick_deaths: int = 0
    restarts: int = 0

    def next_delay(self) -> float:
        """Backoff for the restart about to happen; counts a quick death."""
        if time.monotonic() - self.started_at >= STABLE_AFTER_SECONDS:
            self.quick_deaths = 0
        self.quick_deaths += 1
        if self.quick_deaths > MAX_QUICK_DEATHS:
            raise GaveUp(f"{self.name} died {MAX_QUICK_DEATHS} times in a row right after starting")
        return float(min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2.0 ** (self.quick_deaths - 1)))

    async def restart(self) -> None:
        # Shielded: a stop request arriving mid-start must not lose the new process; the slot
        # holds it, so the stack's exit stops it like any other.
        self.child = await asyncio.shield(self._spawn())
        self.started_at = time.monotonic()
        self.restarts += 1

    async def _spawn(self) -> Supervisable:
        child = await self.start()
        self.child = child
        return child


async def keep_running(slot: Slot, say: Say) -> None:
    """Restart `slot`'s child whenever it exits, until cancelled; raises GaveUp."""
    while True:
        returncode = await slot.child.wait()
        delay = slot.next_delay()
        how = describe_exit(returncode) if returncode is not None else "exit code unknown"
        say(f"{slot.name} exited unexpectedly ({how}); restarting in {delay:g} s")
        await asyncio.sleep(delay)
        try:
            await slot.restart()
        except Exception as err:  # a failed start is one more death: back off and retry
            say(f"{slot.name} did not start again: {err}")
            slot.started_at = time.monotonic()
            continue
        say(f"restarted {slot.name} (pid {slot.child.pid}, restart {slot.restarts})")


async def supervise(slots: list[Slot], stop: asyncio.Event, say: Say) -> int:
    """Keep every slot running until `stop` is set (0), or until one gives up (1)."""
    loops = [asyncio.create_task(keep_running(slot, say), name=slot.name) for slot in slots]
    stopping = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait([*loops, stopping], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in [*loops, stopping]:
            task.cancel()
        await asyncio.gather(*loops, stopping, return_exceptions=True)
    if stopping in done:
        return 0
    for task in done:
        error = task.exception()
        say(f"{error}; stopping" if isinstance(error, GaveUp) else f"supervision failed: {error!r}")
    return 1
