"""Replaying recorded histories against today's workflow code catches non-determinism.

Record new ones with `RECORD_HISTORIES=1 make test PYTEST_ARGS=tests/workflows`; keep old ones:
they are what running workflows look like after a deploy. Change logic with workflow.patched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

import workflows.policy_shelf as policy_shelf
from workers.main import WORKFLOWS
from workers.sandbox import workflow_runner
from workflows.names import workflow_id

HISTORIES = sorted((Path(__file__).resolve().parents[1] / "histories").glob("*.json"))
# The policies histories name by digest (workflows/policy_shelf.py), as the worker's shelf
# has them from Postgres.
POLICIES = sorted((Path(__file__).resolve().parents[1] / "histories" / "policies").glob("*.json"))


def test_histories_are_recorded() -> None:
    assert len(HISTORIES) >= 8, "tests/histories lost its recorded histories"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_replay(path: Path) -> None:
    for body in POLICIES:
        policy_shelf.shelve_body(body.stem, json.loads(body.read_text()))
    history = WorkflowHistory.from_json(workflow_id(path.stem), path.read_text())
    replayer = Replayer(
        workflows=list(WORKFLOWS),
        workflow_runner=workflow_runner(),
        data_converter=pydantic_data_converter,
    )
    await replayer.replay_workflow(history)
