"""Which stage rules a running workflow decides with: the stage-validity rules of release
compliance-2026-12 (workflows/stage_validity.py), or the rules before them where its history
followed those. The patch is asked only where the two disagree (both are pure and
deterministic), so a workflow that never meets a difference carries no marker and pays no
billed `TemporalChangeVersion` upsert. Once it answered true, it holds for the rest of the run.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    # `decisions.next_step` by attribute, not by name: a test replaces it (test_parking.py).
    from workflows import decisions, patches
    from workflows.decisions import Step
    from workflows.types import AccountRecord


class ValidityGate:
    def __init__(self) -> None:
        self._validity = False  # STAGE_VALIDITY answered true in this run

    def next_step(self, record: AccountRecord, now: datetime) -> Step:
        step = decisions.next_step(record, now)
        if self._validity:
            return step
        before = decisions.next_step_before_compliance(record, now)
        if step == before:
            return step
        self._validity = patches.patched(patches.STAGE_VALIDITY)
        return step if self._validity else before
