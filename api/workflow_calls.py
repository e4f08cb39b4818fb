"""Talking to an account's workflow: its handle, deadlines, and Temporal's errors in the API's
terms.

Every Temporal call the API makes has a short deadline (`with_deadlines`): a stopped or
overloaded Temporal answers the caller 503 with Retry-After within seconds, instead of holding
the request (and whatever it holds) for the SDK's retries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.problems import Problem
from workflows.names import workflow_id
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.types import AccountOutcome, AccountStatus

T = TypeVar("T")
AccountHandle = WorkflowHandle[OverdueAccountWorkflow, AccountOutcome]

# Starts, signals, describes and lists answer in milliseconds when Temporal is up;
# 1.5 s leaves room for a loaded server and still answers 503 within 3 s when it is down
# (bench/outage.py: about 2.1 s with the slack below).
CALL_DEADLINE = timedelta(seconds=1.5)
# Queries and updates are answered by a worker, which may first replay the workflow (one not
# in its cache): they get longer, and still answer 503 within seconds when Temporal is down.
WORKER_DEADLINE = timedelta(seconds=5)
# The SDK's own retries can outlast the gRPC deadline: the whole call is bounded too.
_SLACK_SECONDS = 0.5
_CONNECT_FAILED = "Failed client connect"
_WORKER_CALLS = frozenset(
    {"query_workflow", "start_workflow_update", "start_update_with_start_workflow"}
)
# Calls that return an awaitable; `list_workflows` returns an iterator whose pages carry the
# deadline through its input.
_BOUNDED_CALLS = (
    "start_workflow",
    "signal_workflow",
    "query_workflow",
    "describe_workflow",
    "count_workflows",
    "cancel_workflow",
    "terminate_workflow",
    "fetch_workflow_history_events",
    "start_workflow_update",
    "start_update_with_start_workflow",
)


class _HasRpcTimeout(Protocol):
    rpc_timeout: timedelta | None


def _deadline_of(call: str, input: _HasRpcTimeout) -> timedelta:
    if input.rpc_timeout is None:
        input.rpc_timeout = WORKER_DEADLINE if call in _WORKER_CALLS else CALL_DEADLINE
    return input.rpc_timeout


class _DeadlineOutbound(OutboundInterceptor):
    def __getattribute__(self, name: str) -> Any:
        if name in _BOUNDED_CALLS:
            forward = getattr(object.__getattribute__(self, "next"), name)

            async def bounded(input: _HasRpcTimeout) -> Any:
                deadline = _deadline_of(name, input).total_seconds() + _SLACK_SECONDS
                try:
                    async with asyncio.timeout(deadline):
                        return await forward(input)
                except TimeoutError:
                    raise RPCError(
                        f"{name} did not answer within {deadline:g} s",
                        RPCStatusCode.DEADLINE_EXCEEDED,
                        b"",
                    ) from None
                except RuntimeError as err:
                    # A lazy client that cannot (re)connect says so with a plain RuntimeError.
                    if not str(err).startswith(_CONNECT_FAILED):
                        raise
                    raise RPCError(str(err), RPCStatusCode.UNAVAILABLE, b"") from None

            return bounded
        if name == "list_workflows":
            forward_list = getattr(object.__getattribute__(self, "next"), name)

            def listing(input: _HasRpcTimeout) -> Any:
                _deadline_of(name, input)
                return forward_list(input)

            return listing
        return object.__getattribute__(self, name)


class DeadlineInterceptor(Interceptor):
    """Gives every client call without an `rpc_timeout` the API's deadline."""

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _DeadlineOutbound(next)


def with_deadlines(client: Client) -> Client:
    """The same connection and settings, every call bounded (the API's client)."""
    config = client.config()
    config["interceptors"] = [*config["interceptors"], DeadlineInterceptor()]
    return Client(**config)


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
