"""The dev stack's supervision (workers/devstack/supervision.py) on real child processes: a
killed child is started again and the log says so; one that keeps dying at start is given up
on (exit 1); a stop request ends supervision with 0."""

from __future__ import annotations

import asyncio
import signal
import sys

import pytest

from workers.devstack import supervision
from workers.devstack.processes import ChildProcess
from workers.devstack.supervision import Slot, supervise


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervision, "FIRST_DELAY_SECONDS", 0.01)


async def spawn(code: str, started: list[ChildProcess]) -> ChildProcess:
    child = await ChildProcess.spawn("t", [sys.executable, "-c", code], on_line=lambda _: None)
    started.append(child)
    return child


async def test_a_killed_child_is_started_again_until_stop() -> None:
    started: list[ChildProcess] = []
    lines: list[str] = []
    code = "import time; time.sleep(60)"
    slot = Slot("sleeper", lambda: spawn(code, started), await spawn(code, started))
    stop = asyncio.Event()
    supervising = asyncio.create_task(supervise([slot], stop, lines.append))
    started[0].process.send_signal(signal.SIGKILL)
    async with asyncio.timeout(10):
        while not lines[1:]:  # the restart line comes once the slot holds the new child
            assert not supervising.done()
            await asyncio.sleep(0.01)
    assert slot.child is started[1] and slot.restarts == 1
    assert lines[0] == "sleeper exited unexpectedly (killed by SIGKILL); restarting in 0.01 s"
    assert lines[1].startswith(f"restarted sleeper (pid {started[1].pid}, restart 1)")
    stop.set()
    assert await supervising == 0
    await slot.child.stop(1)  # the stack's exit stack does this for the slot's current child


async def test_a_child_that_keeps_dying_at_start_is_given_up_on() -> None:
    started: list[ChildProcess] = []
    lines: list[str] = []
    code = "raise SystemExit(3)"
    slot = Slot("crasher", lambda: spawn(code, started), await spawn(code, started))
    assert await supervise([slot], asyncio.Event(), lines.append) == 1
    assert len(started) == 1 + supervision.MAX_QUICK_DEATHS
    assert lines[-1] == (
        f"crasher died {supervision.MAX_QUICK_DEATHS} times in a row right after starting; stopping"
    )
