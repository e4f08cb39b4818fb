"""Shared fixtures. Servers come from pinned PyPI packages; nothing is downloaded at run time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.servers import start_time_skipping

INTEGRATION_DIR = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/integration starts real servers: out of `make test-fast`."""
    for item in items:
        if INTEGRATION_DIR in item.path.parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server, one per test: months of timers in seconds.

    One per test because the server keeps a single clock that every sleep moves forward, and
    a test that fails mid-way can leave time skipping locked; a fresh server (about 0.15 s)
    makes both impossible. Its clock starts at the wall clock: tests that care about the local
    hour move it on first (tests/workflows/harness.py, `Scenario`)."""
    env = await start_time_skipping()
    try:
        yield env
    finally:
        await env.shutdown()
