"""OverdueAccountWorkflow: one long-lived process per overdue account.

The process itself is `workflows.account_process.AccountProcess` (the loop around the pure
core, its signals, updates and queries in mixins); this module only declares it as the
workflow. It stays this small on purpose: the sandbox imports the module that defines a
workflow afresh for every workflow instance, while the modules it imports passed through are
loaded once per worker (docs/benchmarks.md, "Memory" and "The sandbox's imports").
"""

from __future__ import annotations

from temporalio import workflow

# `import workflows.x as x` or `from workflows.x import y`, never `from workflows import x`:
# the sandbox would import such a name again per instance (tests/workflows/test_sandbox_imports).
with workflow.unsafe.imports_passed_through():
    from workflows.account_process import AccountProcess
    from workflows.types import AccountOutcome, OverdueAccountInput


@workflow.defn
class OverdueAccountWorkflow(AccountProcess):
    @workflow.init
    def __init__(self, input: OverdueAccountInput) -> None:
        self._begin(input)

    @workflow.run
    async def run(self, input: OverdueAccountInput) -> AccountOutcome:
        return await self._run_parking(input)
