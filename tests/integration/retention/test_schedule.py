"""On the dev-server stack: `overdue worker` creates the retention purge's schedule at start
(again at a restart, without a duplicate), and a triggered run purges and records it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import (
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleHandle,
)
from temporalio.service import RPCError

from tests.integration.conftest import Stack
from tests.integration.retention import support as rows
from workers.schedules import RETENTION_PURGE_SCHEDULE_ID, ensure_schedules
from workflows.retention_purge import RetentionPurgeWorkflow
from workflows.retention_types import RetentionPurgeResult

pytestmark = pytest.mark.integration


def start_worker(stack: Stack, state_dir: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DATABASE_URL": stack.settings.require_database_url(),
        "OVERDUE_TEMPORAL_HOST": stack.settings.temporal_host,
        "OVERDUE_TEMPORAL_PORT": str(stack.settings.temporal_port),
        "OVERDUE_WORKER_METRICS_ADDRESS": "",
        "OVERDUE_STATE_DIR": str(state_dir),
    }
    # Logs to a file, not a pipe nobody reads (a full pipe would block the worker).
    with (state_dir / "worker.log").open("w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "workers.cli.main", "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )


async def _scheduled(stack: Stack, worker: subprocess.Popen[str], log: Path) -> ScheduleHandle:
    handle = stack.temporal.get_schedule_handle(RETENTION_PURGE_SCHEDULE_ID)
    for _ in range(300):
        assert worker.poll() is None, log.read_text()
        try:
            await handle.describe()
            return handle
        except RPCError:
            await asyncio.sleep(0.1)
    pytest.fail("the worker did not create the retention purge's schedule")


async def test_the_worker_creates_the_schedule_and_a_triggered_run_purges(
    stack: Stack, tmp_path: Path
) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=3 * 365)
    async with stack.pool.acquire() as conn:
        old_text = await rows.free_text(conn, f"acct-{uuid.uuid4().hex[:8]}", long_ago)
        old_sms = await rows.ledger_row(conn, f"acct-{uuid.uuid4().hex[:8]}", long_ago)
    worker = start_worker(stack, tmp_path)
    try:
        handle = await _scheduled(stack, worker, tmp_path / "worker.log")
        action = (await handle.describe()).schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert action.workflow == RetentionPurgeWorkflow.__name__
        await ensure_schedules(stack.temporal, purge_interval=timedelta(hours=24))  # idempotent
        await handle.trigger()
        for _ in range(300):
            actions = (await handle.describe()).info.recent_actions
            if actions:
                break
            await asyncio.sleep(0.1)
        started = actions[0].action
        assert isinstance(started, ScheduleActionExecutionStartWorkflow)
        result = await stack.temporal.get_workflow_handle(
            started.workflow_id, result_type=RetentionPurgeResult
        ).result()
        assert result.done
        assert result.counts["free_texts"] >= 1 and result.counts["message_bodies"] >= 1
        assert (
            await stack.pool.fetchval("SELECT count(*) FROM free_texts WHERE id = $1", old_text)
            == 0
        )
        assert (
            await stack.pool.fetchval("SELECT body FROM contact_ledger WHERE id = $1", old_sms)
            is None
        )
        assert (
            await stack.pool.fetchval(
                "SELECT count(*) FROM audit_events WHERE kind = 'retention.purged'"
            )
            >= 1
        )
        # An operator's pause (a legal hold) survives the next worker start's ensure.
        await handle.pause(note="legal hold")
        await ensure_schedules(stack.temporal, purge_interval=timedelta(hours=12))
        after = await handle.describe()
        assert after.schedule.state.paused
        assert after.schedule.spec.intervals[0].every == timedelta(hours=12)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        await stack.temporal.get_schedule_handle(RETENTION_PURGE_SCHEDULE_ID).delete()
