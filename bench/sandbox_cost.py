"""Sandbox cost: worker CPU per new account workflow instance, against the same instance with
nothing imported again.

The sandbox runs each new workflow instance on a fresh import of the module that defines the
workflow; what that module imports outside the passthrough is imported again with it. This
replays one recorded history (tests/histories) N times, each replay a new instance, with:

- ours: the product's runner (workers/sandbox.py), as every worker runs it;
- floor: the same runner with the product's packages passed through whole, so nothing of ours
  is imported again per instance (not what production should run: passed-through code escapes
  the sandbox's checks; it is the floor the figure is measured against).

Both run in one process, alternating in rounds, so the machine's load hits both alike.

    .venv/bin/python -m bench.sandbox_cost [--n 200] [--rounds 3] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path
from statistics import median

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from bench.common import ROOT, fmt, print_table, publish_result, ratio
from workers.sandbox import workflow_runner
from workflows.names import workflow_id
from workflows.overdue_account import OverdueAccountWorkflow

HISTORY = ROOT / "tests" / "histories" / "pays_in_full_on_day_three.json"
OUR_PACKAGES = ("workflows", "activities", "overdue")


def floor_runner() -> SandboxedWorkflowRunner:
    ours = workflow_runner()
    restrictions = ours.restrictions.with_passthrough_modules(*OUR_PACKAGES)
    return dataclasses.replace(ours, restrictions=restrictions)


async def cpu_ms_per_instance(runner: SandboxedWorkflowRunner, n: int) -> float:
    history = WorkflowHistory.from_json(workflow_id(HISTORY.stem), HISTORY.read_text())
    replayer = Replayer(
        workflows=[OverdueAccountWorkflow],
        workflow_runner=runner,
        data_converter=pydantic_data_converter,
    )
    await replayer.replay_workflow(history)  # imports made once per process are not counted

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for _ in range(n):
            yield history

    started = time.process_time()
    async with replayer.workflow_replay_iterator(histories()) as results:
        async for result in results:
            if result.replay_failure is not None:
                raise result.replay_failure
    return (time.process_time() - started) * 1000 / n


async def run(n: int, rounds: int) -> tuple[float, float]:
    """Median CPU ms per new instance over the rounds: (ours, floor)."""
    ours: list[float] = []
    floor: list[float] = []
    for _ in range(rounds):
        ours.append(await cpu_ms_per_instance(workflow_runner(), n))
        floor.append(await cpu_ms_per_instance(floor_runner(), n))
    return median(ours), median(floor)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="replays per round and runner")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    ours, floor = asyncio.run(run(args.n, args.rounds))
    print_table(
        [
            ["ours (the product's runner)", fmt(ours)],
            ["floor (nothing imported again)", fmt(floor)],
            ["ours / floor", fmt(ratio(ours, floor), 2)],
        ],
        ["CPU per new instance", "ms"],
    )
    data = {
        "instances_per_round": args.n,
        "rounds": args.rounds,
        "ours_cpu_ms_per_instance": round(ours, 1),
        "floor_cpu_ms_per_instance": round(floor, 1),
        "ours_over_floor": ratio(ours, floor),
    }
    publish_result("sandbox_cost", data, args.out)


if __name__ == "__main__":
    main()
