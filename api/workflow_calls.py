"""Talking to an account's workflow: its handle, and Temporal's errors in the API's terms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.problems import Problem
from workflows.names import workflow_id
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.types import AccountOutcome, AccountStatus

T = TypeVar("T")
AccountHandle = WorkflowHandle[OverdueAccountWorkflow, AccountOutcome]


def account_handle(client: Client, account_id: str) -> AccountHandle:
    return client.get_workflow_handle_for(OverdueAccountWorkflow.run, workflow_id(account_id))


class ProcessNotRunning(Exception):
    """The account has no running process (never started, or resolved/closed)."""


class UpdateRejected(Exception):
    """The workflow's validator refused the request; `reason` is what to show the person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def rejection_reason(err: WorkflowUpdateFailedError) -> str:
    cause: BaseException | None = err.cause
    # The validator's ApplicationError can arrive wrapped; its own message is the reason.
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__
    if isinstance(cause, ApplicationError) and cause.message:
        return cause.message
    return str(err.cause) or "the request was refused"


async def to_running(call: Callable[[], Awaitable[T]]) -> T:
    """Run a signal/update/query against a running process, translating Temporal's errors."""
    try:
        return await call()
    except WorkflowUpdateFailedError as err:
        raise UpdateRejected(rejection_reason(err)) from err
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise ProcessNotRunning from err
        raise


def not_running_problem(account_id: str) -> Problem:
    return Problem(
        409,
        "No open overdue process",
        f"account {account_id!r} has no running overdue process (it may be resolved)",
    )


def unknown_account_problem(account_id: str) -> Problem:
    return Problem(
        404,
        "Unknown account",
        f"no overdue process for account {account_id!r}; start one with "
        f"PUT /v1/accounts/{account_id}/overdue",
    )


async def current_status(client: Client, account_id: str) -> AccountStatus:
    """The status the account's running process answers; ProcessNotRunning if there is none."""
    return await to_running(
        lambda: account_handle(client, account_id).query(OverdueAccountWorkflow.status)
    )


async def status_if_running(client: Client, account_id: str) -> AccountStatus | None:
    try:
        return await current_status(client, account_id)
    except ProcessNotRunning:
        return None
