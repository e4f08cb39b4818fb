"""Erasing an account on request (PIPL art. 47), shared by `overdue erase` and
`POST /v1/accounts/{id}/erasure`.

An account is erased once its overdue process has ended (resolved, closed, cancelled): while
it runs, the contract is still being enforced and the data it needs is kept (art. 47 allows
that), so the request is refused with the reason and may be made again later. Erasure
destroys the account's data key and blanks the personal values Postgres holds in clear
(`overdue.store.erasure`); the collection record stays. Erasing an erased account changes
nothing and answers the first erasure again. See docs/privacy.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import asyncpg
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from overdue.store import erasure
from overdue.store.accounts import account_exists, lock_account
from workflows.names import workflow_id


class UnknownAccount(Exception):
    """No backend ever reported this account."""


class NotErasableYet(Exception):
    """The account may not be erased now; `reason` says why (nothing was changed)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ErasureSummary:
    account_id: str
    erased_at: datetime
    actor: str
    already_erased: bool  # this request found the account erased and changed nothing
    counts: dict[str, int] = field(default_factory=dict)


async def erase_account(
    pool: asyncpg.Pool, temporal: Client, account_id: str, actor: str
) -> ErasureSummary:
    """Erase the account's personal data; UnknownAccount, or NotErasableYet while its process
    runs or a report waits to reach it."""
    if not await account_exists(pool, account_id):
        raise UnknownAccount(account_id)
    if (before := await erasure.recorded_erasure(pool, account_id)) is not None:
        return _summary(account_id, before, already_erased=True)
    checked_at = await erasure.database_now(pool)
    await _check_process_ended(temporal, account_id)
    async with pool.acquire() as conn, conn.transaction():
        # Under the lock a report takes too (no Temporal call under it): a report recorded
        # or delivered since the check is seen here, and a later one finds the account erased.
        await lock_account(conn, account_id)
        if waiting := await erasure.reports_since(conn, account_id, checked_at):
            raise NotErasableYet(
                f"{waiting} report(s) for the account wait to reach its process or reached it "
                "just now; erase it once the process has ended"
            )
        before = await erasure.recorded_erasure(conn, account_id)
        done = before or await erasure.erase(conn, account_id, actor)
    return _summary(account_id, done, already_erased=before is not None)


async def _check_process_ended(temporal: Client, account_id: str) -> None:
    try:
        described = await temporal.get_workflow_handle(workflow_id(account_id)).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return  # never started, or its history is gone: nothing runs
        raise
    if described.status == WorkflowExecutionStatus.RUNNING:
        raise NotErasableYet(
            "the account's overdue process is still running: its data is kept while the "
            "contract is enforced (PIPL art. 47); erase it once the account is resolved or "
            "closed"
        )


def _summary(account_id: str, done: erasure.Erasure, *, already_erased: bool) -> ErasureSummary:
    return ErasureSummary(
        account_id=account_id,
        erased_at=done.erased_at,
        actor=done.actor,
        already_erased=already_erased,
        counts=done.counts,
    )
