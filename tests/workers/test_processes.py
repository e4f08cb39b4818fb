"""Child-process helpers: children that never outlive the launcher."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import psutil

# A launcher that starts a child through ChildProcess, prints its pid, then is SIGKILLed.
_LAUNCHER = textwrap.dedent("""
    import asyncio, os, signal, sys
    from workers.devstack.processes import ChildProcess

    async def main():
        child = await ChildProcess.spawn("sleeper", ["sleep", "60"], on_line=print)
        print(child.pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    asyncio.run(main())
""")


def test_child_dies_when_the_launcher_is_killed() -> None:
    if not sys.platform.startswith("linux"):
        return  # the parent-death signal is Linux-only
    launcher = subprocess.run(
        [sys.executable, "-c", _LAUNCHER], capture_output=True, text=True, timeout=30
    )
    assert launcher.returncode == -9, launcher.stderr
    child_pid = int(launcher.stdout.split()[0])
    deadline = time.monotonic() + 5
    while _is_alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _is_alive(child_pid)


def _is_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
