"""The ceiling's workflow: one no-op activity, nothing else (importable, for the sandbox).

It returns the wall-clock time at which its activity ran, so the ceiling's start-to-activity
latency is measured the same way as ours (wall clock of this machine, against the start call).
"""

from __future__ import annotations

import time
from datetime import timedelta

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from workflows.acting import new_record
    from workflows.types import OverdueAccountInput

NOOP_TASK_QUEUE = "bench-noop"


@activity.defn(name="bench_noop")
async def noop_activity(tag: str) -> float:
    return time.time()


@workflow.defn(name="BenchNoopWorkflow")
class NoopWorkflow:
    @workflow.run
    async def run(self, tag: str) -> float:
        ran_at: float = await workflow.execute_activity(
            noop_activity, tag, start_to_close_timeout=timedelta(seconds=30)
        )
        return ran_at


ECHO_TASK_QUEUE = "bench-echo"


@workflow.defn(name="BenchEchoWorkflow")
class EchoWorkflow:
    """Waits for one signal, then completes: the bare signal round trip."""

    def __init__(self) -> None:
        self._done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._done)

    @workflow.signal
    def done(self) -> None:
        self._done = True


HOLDER_WORKFLOW = "BenchHolderWorkflow"


@workflow.defn(name=HOLDER_WORKFLOW)
class HolderWorkflow:
    """The memory baseline (bench.memory): a trivial workflow that keeps what the account
    workflow keeps at rest, its input and the record built from it, and sleeps, nothing else:
    what a cached account workflow costs beyond the data it must hold is the difference."""

    @workflow.run
    async def run(self, input: OverdueAccountInput) -> None:
        info = workflow.info()
        self._input = input
        self._record = new_record(input, info.first_execution_run_id, info.start_time)
        await workflow.sleep(timedelta(days=30))
