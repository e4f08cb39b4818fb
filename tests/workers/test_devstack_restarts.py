"""`overdue dev` keeps its children running (issue 13): a SIGKILLed worker, API or embedded
Postgres is back within seconds, the log says so, and the stack goes on serving and stops
cleanly, the restarted processes included."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from pathlib import Path

import httpx
import psutil
import pytest

from overdue.ports import free_tcp_ports
from tests.workers.test_devstack import DevRun, overdue_dev, stop_with_ctrl_c

pytestmark = pytest.mark.integration

BACK_WITHIN = 5.0  # the supervisor starts the process again within this
# ...which then imports and connects: seconds on an idle machine, more on a loaded 2-core one.
SERVING_WITHIN = 30.0


def env_for(tmp_path: Path) -> dict[str, str]:
    temporal_port, ui_port, api_port = free_tcp_ports(3)
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "NO_COLOR"}}
    env.pop("OVERDUE_DATABASE_URL", None)
    return env | {
        "OVERDUE_STATE_DIR": str(tmp_path / "state"),
        "OVERDUE_TEMPORAL_PORT": str(temporal_port),
        "OVERDUE_TEMPORAL_UI_PORT": str(ui_port),
        "OVERDUE_API_PORT": str(api_port),
    }


async def wait_for_count(run: DevRun, text: str, count: int, within: float) -> None:
    deadline = time.monotonic() + within
    while sum(text in line for line in run.lines) < count:
        assert time.monotonic() < deadline, f"no {text!r} again:\n{run.output}"
        await asyncio.sleep(0.1)


def pid_of(run: DevRun, name: str) -> int:
    """The pid of `name`'s latest start, from `started NAME (pid N)` / `restarted NAME (pid N`."""
    pattern = re.compile(rf"\b(?:started|restarted) {name} \(pid (\d+)")
    pids = [int(m.group(1)) for line in run.lines if (m := pattern.search(line))]
    assert pids, run.output
    return pids[-1]


async def kill_and_see_it_back(run: DevRun, name: str) -> float:
    before = pid_of(run, name)
    restarts = sum(f"restarted {name} " in line for line in run.lines)
    started = time.monotonic()
    os.kill(before, signal.SIGKILL)
    while sum(f"restarted {name} " in line for line in run.lines) == restarts:
        assert time.monotonic() - started < BACK_WITHIN, run.output
        assert run.process.returncode is None, run.output
        await asyncio.sleep(0.05)
    after = pid_of(run, name)
    assert after != before and psutil.pid_exists(after)
    assert any(f"{name} exited unexpectedly (killed by SIGKILL)" in line for line in run.lines)
    return time.monotonic() - started


async def test_killed_children_are_restarted_and_the_stack_keeps_serving(
    tmp_path: Path,
) -> None:
    env = env_for(tmp_path)
    api_url = f"http://127.0.0.1:{env['OVERDUE_API_PORT']}"
    async with overdue_dev(env, tmp_path) as run, httpx.AsyncClient(timeout=5) as http:
        polling = sum("worker polling task queues" in line for line in run.lines)
        back_after = await kill_and_see_it_back(run, "worker")
        print(f"worker started again after {back_after:.2f} s")
        assert (await http.get(f"{api_url}/healthz")).status_code == 200
        await wait_for_count(run, "worker polling task queues", polling + 1, SERVING_WITHIN)

        back_after = await kill_and_see_it_back(run, "api")
        print(f"api started again after {back_after:.2f} s")
        deadline = time.monotonic() + SERVING_WITHIN
        while True:  # the restarted API binds its port within a few seconds
            try:
                if (await http.get(f"{api_url}/readyz")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, run.output
            await asyncio.sleep(0.1)

        # The embedded Postgres runs detached: the stack watches its pid and starts it again.
        postmaster = int(run.postmaster_pid_file().read_text().split("\n", 1)[0])
        os.kill(postmaster, signal.SIGKILL)
        await wait_for_count(run, "restarted postgres", 1, SERVING_WITHIN)
        assert any("postgres exited unexpectedly" in line for line in run.lines)
        deadline = time.monotonic() + SERVING_WITHIN
        key = (tmp_path / "state" / "dev-api-key").read_text().strip()
        while True:  # the API's pool reconnects to the new server
            answer = await http.get(
                f"{api_url}/v1/accounts", headers={"Authorization": f"Bearer {key}"}
            )
            if answer.status_code == 200:
                break
            assert answer.status_code == 503, answer.text  # never a 500
            assert time.monotonic() < deadline, run.output
            await asyncio.sleep(0.2)
        await stop_with_ctrl_c(run)  # the restarted server is stopped too
