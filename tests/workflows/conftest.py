"""Fixtures for workflow tests: each test gets its own time-skipping server (about 0.15 s to
start), its clock moved to a chosen local start, so no test depends on the wall clock or on the
tests that ran before it, and a failed test cannot leave time skipping locked for the next."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.workflows.harness import (
    DEFAULT_START,
    GUARD_STARTS,
    Recorder,
    Scenario,
    StartAt,
    running_worker,
)

# Runs a test once per start of the hour guard (ids such as `start_at=00:30`).
hour_guard = pytest.mark.parametrize(
    "start_at", GUARD_STARTS, ids=[f"start_at={s.label}" for s in GUARD_STARTS], indirect=True
)


@pytest.fixture
def start_at(request: pytest.FixtureRequest) -> StartAt:
    start: StartAt = getattr(request, "param", DEFAULT_START)
    return start


@pytest.fixture
async def scenario(time_skipping_env: WorkflowEnvironment, start_at: StartAt) -> Scenario:
    return await Scenario.begin(time_skipping_env, start_at)


@pytest.fixture
async def recorder(
    time_skipping_env: WorkflowEnvironment, scenario: Scenario
) -> AsyncIterator[Recorder]:
    rec = Recorder()
    async with running_worker(time_skipping_env, rec):
        yield rec
