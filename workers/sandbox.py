"""The workflow sandbox configuration shared by workers, tests and the replayer."""

from __future__ import annotations

import dataclasses

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions


def workflow_runner() -> SandboxedWorkflowRunner:
    # zoneinfo.ZoneInfo behind the sandbox's proxy is rejected by datetime; it is deterministic
    # (tzdata is pinned), so let workflows use the real class.
    restrictions = dataclasses.replace(
        SandboxRestrictions.default,
        invalid_module_members=SandboxRestrictions.invalid_module_members_default.with_child_unrestricted(
            "zoneinfo", "ZoneInfo"
        ),
    )
    return SandboxedWorkflowRunner(restrictions=restrictions)
