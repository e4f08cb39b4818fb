"""Names shared outside the workflow: its type, the id of an account's workflow, the task queues.

Starters, visibility queries, logs, the ops commands, benches and tests all spell these; they
take them from here so they cannot drift apart.
"""

from __future__ import annotations

# The workflow's type name, its class name (tests/workflows/test_names.py checks): visibility
# queries and metrics select the product's workflows by it.
WORKFLOW_TYPE = "OverdueAccountWorkflow"
# The visibility-query clause that limits a list or a count to the product's workflows.
WORKFLOW_TYPE_CLAUSE = f"WorkflowType = '{WORKFLOW_TYPE}'"

# One workflow per account, with the id `overdue-{account_id}`.
WORKFLOW_ID_PREFIX = "overdue-"

OVERDUE_TASK_QUEUE = "overdue-accounts"
# SMS activities have their own queue so its workers can be rate limited to the provider's pace.
SMS_TASK_QUEUE = "overdue-sms"


def workflow_id(account_id: str) -> str:
    """The id of the account's workflow."""
    return f"{WORKFLOW_ID_PREFIX}{account_id}"


def account_id_of(workflow_id: str) -> str | None:
    """The account whose workflow has this id; None for an id that is not an account's."""
    if not workflow_id.startswith(WORKFLOW_ID_PREFIX):
        return None
    return workflow_id.removeprefix(WORKFLOW_ID_PREFIX)
