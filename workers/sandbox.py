"""The workflow sandbox configuration shared by workers, tests and the replayer."""

from __future__ import annotations

import dataclasses

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

# The product's workflow code, passed through whole: loaded once per worker, not once per
# workflow instance. The sandbox checks only code it imports afresh, and the account workflow's
# loop and decision core were passed through already (their modules are imported inside
# `imports_passed_through()`), so what re-importing still bought was re-running
# `workflow.defn` on the declaration for every new instance, 13% of the worker's CPU
# (docs/benchmarks.md, "The sandbox's imports"). What keeps this code deterministic is
# workflows/ruff.toml (no clock, randomness, I/O or threads) and the replay of recorded
# histories (docs/workflow.md, "Determinism").
PASSED_THROUGH = ("workflows",)


def workflow_runner() -> SandboxedWorkflowRunner:
    # zoneinfo.ZoneInfo behind the sandbox's proxy is rejected by datetime; it is deterministic
    # (tzdata is pinned), so let workflows use the real class.
    restrictions = dataclasses.replace(
        SandboxRestrictions.default,
        invalid_module_members=SandboxRestrictions.invalid_module_members_default.with_child_unrestricted(
            "zoneinfo", "ZoneInfo"
        ),
    ).with_passthrough_modules(*PASSED_THROUGH)
    return SandboxedWorkflowRunner(restrictions=restrictions)
