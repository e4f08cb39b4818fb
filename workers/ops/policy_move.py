"""`overdue policy move`: move running accounts to another policy (version), previewed first.

Without `--apply` (a dry run) each running account the query matches is asked, by the
workflow's `preview_policy` query, what it would do next under its current policy and under
the new one; nothing changes. With `--apply` each account whose preview the workflow would
accept is sent the `adopt_policy` update, validated by the workflow itself (a newer version of
the same policy, or another policy, with the same anchor), and each move is written to the
audit trail. The update's id is the move's (policy id and version), so running the command
again does not move an account twice: the workflow answers that it is already on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import asyncpg
from rich.table import Table
from rich.text import Text
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from overdue.store import policy_versions
from overdue.store.audit import record_event
from workers.ops.common import query_error, scoped_query
from workers.ops.errors import OpsError
from workflows.names import account_id_of
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.policy import Policy
from workflows.policy_change import PolicyChange, policy_label
from workflows.policy_preview import PolicyPreview, PolicyPreviewRequest
from workflows.types import NextAction

CONCURRENCY = 8  # queries and updates in flight: each is one workflow task on a worker
T = TypeVar("T")


@dataclass(frozen=True)
class Preview:
    account_id: str
    workflow_id: str
    preview: PolicyPreview | None
    problem: str | None = None  # the query failed (the process is stuck or gone)


@dataclass(frozen=True)
class Moved:
    account_id: str
    outcome: str  # moved, refused: <why>, failed: <why>


def change_id(policy: Policy) -> str:
    return f"policy-move-{policy.id}-v{policy.version}"


async def _bounded(items: list[T], work: Callable[[T], Awaitable[object]]) -> list[object]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(item: T) -> object:
        async with gate:
            return await work(item)

    return list(await asyncio.gather(*(one(i) for i in items)))


async def running_accounts(client: Client, query: str | None) -> list[tuple[str, str]]:
    """(account id, workflow id) of every running account the query matches."""
    found: list[tuple[str, str]] = []
    try:
        async for execution in client.list_workflows(scoped_query(query, running_only=True)):
            account = account_id_of(execution.id)
            if account is not None:
                found.append((account, execution.id))
    except RPCError as err:
        raise query_error(err, query) from None
    return found


async def previews(
    client: Client, accounts: list[tuple[str, str]], policy: Policy, horizon_days: int
) -> list[Preview]:
    request = PolicyPreviewRequest(policy=policy, horizon_days=horizon_days)

    async def ask(pair: tuple[str, str]) -> Preview:
        account, wf_id = pair
        handle = client.get_workflow_handle(wf_id)
        try:
            shown = await handle.query(OverdueAccountWorkflow.preview_policy, request)
        except RPCError as err:
            return Preview(account, wf_id, None, f"query failed: {err.message}")
        return Preview(account, wf_id, shown)

    return [p for p in await _bounded(accounts, ask) if isinstance(p, Preview)]


async def apply(
    client: Client, pool: asyncpg.Pool, shown: list[Preview], policy: Policy, actor: str
) -> list[Moved]:
    """Send the update to each account the preview says would accept it; audit each move."""
    # Stored first: the moved processes then carry the version by digest across runs.
    ref = await policy_versions.keep(pool, policy)
    change = PolicyChange(policy=policy, policy_ref=ref, actor=actor, change_id=change_id(policy))

    async def move(item: Preview) -> Moved:
        if item.preview is None or item.preview.rejected is not None:
            why = item.problem if item.preview is None else item.preview.rejected
            return Moved(item.account_id, f"refused: {why}")
        handle = client.get_workflow_handle(item.workflow_id)
        try:
            await handle.execute_update(
                OverdueAccountWorkflow.adopt_policy, change, id=change.change_id
            )
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            why = cause.message if isinstance(cause, ApplicationError) else str(cause)
            return Moved(item.account_id, f"refused: {why}")
        except RPCError as err:
            return Moved(item.account_id, f"failed: {err.message}")
        await record_event(
            pool,
            account_id=item.account_id,
            actor=actor,
            kind="policy.moved",
            details={"from": item.preview.current_policy, "to": policy_label(policy)},
        )
        return Moved(item.account_id, "moved")

    return [m for m in await _bounded(shown, move) if isinstance(m, Moved)]


def _next(contacts_first: str | None, waiting: NextAction | None) -> str:
    if contacts_first is not None:
        return contacts_first
    return f"waits: {waiting.label} {_when(waiting.at)}" if waiting else "nothing due"


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%MZ")


def _first(preview: PolicyPreview, proposed: bool) -> str:
    contacts = preview.proposed if proposed else preview.current
    shown = ", ".join(f"{c.stage_id} {_when(c.at)}" for c in contacts) or None
    return _next(shown, preview.proposed_next if proposed else preview.current_next)


def table(shown: list[Preview], moved: dict[str, str] | None = None) -> Table:
    """One row per account: its next contacts now, after the move, and what becomes of it."""
    grid = Table("account", "policy", "next contacts now", "after the move", "result")
    for item in shown:
        if item.preview is None:
            row = (item.account_id, "-", "-", "-", item.problem or "")
        else:
            p = item.preview
            result = p.rejected and f"refused: {p.rejected}"
            result = result or ("changes" if p.changes else "no change")
            if moved is not None:
                result = moved.get(item.account_id, result)
            row = (item.account_id, p.current_policy, _first(p, False), _first(p, True), result)
        grid.add_row(*map(Text, row))
    return grid


def summary(shown: list[Preview], moved: list[Moved] | None) -> str:
    if moved is None:
        movable = [s.preview for s in shown if s.preview and not s.preview.rejected]
        differing = sum(1 for p in movable if p.changes)
        return (
            f"dry run: {len(movable)} of {len(shown)} running accounts would move, {differing} "
            "with different next contacts; nothing changed"
        )
    done = sum(1 for m in moved if m.outcome == "moved")
    return f"{done} of {len(shown)} running accounts moved"


def check_horizon(value: int) -> int:
    if not 1 <= value <= 366:
        raise OpsError(f"--horizon-days must be from 1 to 366, got {value}", exit_code=2)
    return value
