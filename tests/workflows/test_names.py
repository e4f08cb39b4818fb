"""The names in workflows.names are the ones the workflow and its callers actually use."""

from __future__ import annotations

from temporalio import workflow

from workflows.names import WORKFLOW_TYPE, WORKFLOW_TYPE_CLAUSE, account_id_of, workflow_id
from workflows.overdue_account import OverdueAccountWorkflow


def test_the_workflow_type_is_the_workflows_registered_name() -> None:
    definition = workflow._Definition.must_from_class(OverdueAccountWorkflow)
    assert definition.name == WORKFLOW_TYPE
    assert WORKFLOW_TYPE_CLAUSE == "WorkflowType = 'OverdueAccountWorkflow'"


def test_an_account_id_goes_to_its_workflow_id_and_back() -> None:
    assert workflow_id("A-1:x.y") == "overdue-A-1:x.y"
    assert account_id_of(workflow_id("A-1:x.y")) == "A-1:x.y"
    assert account_id_of("overdue-pause-3f2a") == "pause-3f2a"  # any id with the prefix
    assert account_id_of("bench-noop-1") is None
