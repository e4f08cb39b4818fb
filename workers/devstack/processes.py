"""Child processes of the dev stack and the integration tests.

Each child runs in its own session, so a Ctrl-C in the terminal reaches only the launcher, which
then stops the children in order. On Linux each child also gets a parent-death signal, so it
goes away even if the launcher is SIGKILLed. Output is merged and handed over line by line.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

LineSink = Callable[[str], None]

_PR_SET_PDEATHSIG = 1
# A generous line limit: Go servers log long JSON-ish lines.
_STREAM_LIMIT = 1 << 20
_TAIL_LINES = 60


def _parent_death_preexec() -> Callable[[], None] | None:
    """A preexec function that makes the child die with the thread that forked it (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)  # loaded before fork: keep the child's work minimal
    parent = os.getpid()

    def preexec() -> None:
        # SIGKILL: with the launcher gone, a graceful shutdown can hang (a worker draining
        # against a server that is going down too); SQLite in WAL mode survives a kill.
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the launcher died before prctl took effect
            os._exit(1)

    return preexec


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-returncode).name}"
    return f"exit code {returncode}"


class ChildProcess:
    """A started child: its output pump, a tail of recent output, and an ordered stop."""

    def __init__(self, name: str, process: asyncio.subprocess.Process, on_line: LineSink) -> None:
        self.name = name
        self.process = process
        self.tail: deque[str] = deque(maxlen=_TAIL_LINES)
        self._on_line = on_line
        self._pump = asyncio.create_task(self._pump_output(), name=f"{name}-output")

    @classmethod
    async def spawn(
        cls,
        name: str,
        argv: Sequence[str],
        *,
        on_line: LineSink,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> ChildProcess:
        """Start argv in its own session; stdout and stderr go, merged, to on_line.

        Call from the thread that runs the event loop for the child's whole life: the
        parent-death signal fires when the forking thread exits.
        """
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_parent_death_preexec(),
            limit=_STREAM_LIMIT,
        )
        return cls(name, process, on_line)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    async def wait(self) -> int:
        """Wait for exit and for its last output lines to be delivered."""
        returncode = await self.process.wait()
        # Shielded: a cancelled waiter must not cancel the pump and lose the last lines.
        await asyncio.shield(self._pump)
        return returncode

    async def stop(self, grace: float = 10.0, sig: signal.Signals = signal.SIGINT) -> int:
        """Signal the child's process group, wait up to `grace` seconds, then kill what is left.

        SIGINT by default: Python children (asyncio.run, uvicorn) and the Temporal server all
        treat it as "shut down cleanly", whereas SIGTERM kills a plain Python process outright.
        """
        if self.process.returncode is None:
            self._signal_group(sig)
            try:
                await asyncio.wait_for(self.process.wait(), grace)
            except TimeoutError:
                self._on_line(f"did not stop within {grace:g} s; killing it")
                self._signal_group(signal.SIGKILL)
        returncode = await self.wait()
        # Anything the child left behind in its group is an orphan by now.
        self._signal_group(signal.SIGKILL)
        return returncode

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    async def _pump_output(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            try:
                raw = await stream.readline()
            except ValueError:  # a line longer than the limit: pass on what is buffered
                raw = await stream.read(_STREAM_LIMIT)
            if not raw:
                return
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            self.tail.append(line)
            self._on_line(line)
