"""`overdue tasks` (open call tasks by queue, from Postgres), and commands as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from overdue.store.call_tasks import create_task
from tests.integration.conftest import Stack
from tests.integration.ops.support import ops
from workflows.names import workflow_id

pytestmark = pytest.mark.integration


async def test_tasks_counts_open_due_and_claimed_by_queue(stack: Stack) -> None:
    queue = f"q_{uuid.uuid4().hex[:8]}"  # a queue of its own: other tests' tasks stay out
    now = datetime.now(UTC)
    async with stack.pool.acquire() as conn:
        for key, due in (("a", now - timedelta(hours=2)), ("b", now - timedelta(minutes=5)),
                         ("c", now + timedelta(days=1))):  # fmt: skip
            await create_task(
                conn, idempotency_key=f"{queue}/{key}", account_id=f"acct-{queue}",
                stage_id="d3_call", queue=queue, priority=50, due_at=due,
            )  # fmt: skip
        await conn.execute(
            "UPDATE call_tasks SET status = 'claimed', claimed_by = 'li.na', claimed_at = now() "
            "WHERE idempotency_key = $1",
            f"{queue}/b",
        )

    ran = await ops(stack.settings, "tasks")
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0].split() == ["QUEUE", "OPEN", "DUE", "NOW", "CLAIMED", "OLDEST", "DUE"]
    assert [line.split()[0] for line in lines[1:4]] == ["general", "specialist", "supervisor"]
    mine = next(line for line in lines if line.startswith(queue)).split()
    assert mine[1:] == ["2", "1", "1", "2h", "0m", "ago"]
    assert lines[-1].startswith("total")

    counts = {c["queue"]: c for c in json.loads((await ops(stack.settings, "tasks", "--json")).out)}
    assert (counts[queue]["open"], counts[queue]["due_now"], counts[queue]["claimed"]) == (2, 1, 1)


def test_ops_commands_as_a_user_runs_them(stack: Stack) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": stack.settings.require_database_url(),
        "OVERDUE_TEMPORAL_PORT": str(stack.settings.temporal_port),
    }
    tasks = subprocess.run(
        [sys.executable, "-m", "workers.cli.main", "tasks"],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip
    assert tasks.returncode == 0, tasks.stderr
    assert tasks.stdout.startswith("QUEUE")
    unknown = subprocess.run(
        [sys.executable, "-m", "workers.cli.main", "status", "never-started"],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == (
        "overdue: no overdue process for account 'never-started' "
        f"(no workflow {workflow_id('never-started')!r} in this namespace)"
    )
    assert "Traceback" not in unknown.stderr


def test_unreachable_temporal_is_a_clear_failure() -> None:
    env = {**os.environ, "OVERDUE_TEMPORAL_PORT": "1"}
    ran = subprocess.run(
        [sys.executable, "-m", "workers.cli.main", "list"],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip
    assert ran.returncode == 1
    assert ran.stderr.startswith(
        "overdue: cannot reach Temporal at 127.0.0.1:1 (namespace default)"
    )
    assert "OVERDUE_TEMPORAL_HOST and OVERDUE_TEMPORAL_PORT" in ran.stderr
