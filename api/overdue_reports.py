"""Reporting an account's bill overdue: the use case behind `PUT /v1/accounts/{id}/overdue`
and `overdue bulk-start`.

It raises BillRefused, not an HTTP answer: the router turns it into its 422 problem+json, the
CLI into a rejected row.
"""

from __future__ import annotations

import logging

import asyncpg
from temporalio.client import WorkflowExecutionStatus
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api import workflow_messages as messages
from api.dependencies import Services
from api.schemas import OverdueReport, OverdueStarted
from api.workflow_calls import account_handle
from overdue.inputs import MAX_MINOR
from overdue.store.accounts import (
    CustomerReport,
    account_currency,
    lock_account,
    store_account,
    store_customer,
)
from overdue.store.audit import record_event
from overdue.store.bills import Bill, add_bill, bills_total
from workflows import search_attributes as sa
from workflows.currencies import format_minor
from workflows.names import OVERDUE_TASK_QUEUE, workflow_id
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.types import AccountState, OverdueAmountReported

logger = logging.getLogger(__name__)


class BillRefused(Exception):
    """The report contradicts what is stored (and nothing was changed): `field` is the body's
    field at fault, `reason` why; `str()` is "field: reason"."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


async def report_bill(
    services: Services, account_id: str, body: OverdueReport, actor: str
) -> OverdueStarted:
    """What `PUT .../overdue` does, for any caller (the API, `overdue bulk-start`): store the
    report, then start the process or signal the new bill to it; audited as `actor`.

    Raises BillRefused when the bill's currency differs from the running process's, or when
    it would take the account's total of bills past MAX_MINOR.
    """
    bill_id = body.effective_bill_id()
    await _check_total(services, account_id, bill_id, body)
    async with services.pool.acquire() as conn, conn.transaction():
        # One report per account at a time: the bill check and the start/signal stay together.
        await lock_account(conn, account_id)
        await _check_currency(services, conn, account_id, body)
        new_bill = await _store_report(conn, account_id, bill_id, body)
        if not new_bill:
            run_id = await _current_run_id(services, account_id)
            if run_id is not None:
                return _answer(account_id, run_id, bill_id, created=False, bill_added=False)
        try:
            run_id = await _start(services, account_id, body)
        except WorkflowAlreadyStartedError as err:
            await account_handle(services.temporal, account_id).signal(
                OverdueAccountWorkflow.report_overdue_amount,
                OverdueAmountReported(
                    bill_id=bill_id,
                    amount_minor=body.amount_due.amount_minor,
                    currency=body.amount_due.currency,
                    due_date=body.due_date,
                ),
            )
            await _audit_bill(conn, account_id, actor, bill_id, body, started=False)
            return _answer(account_id, err.run_id, bill_id, created=False, bill_added=True)
        await _audit_bill(conn, account_id, actor, bill_id, body, started=True)
    logger.info("overdue process started", extra={"account_id": account_id})
    return _answer(account_id, run_id, bill_id, created=True, bill_added=False)


def _answer(
    account_id: str, run_id: str | None, bill_id: str, *, created: bool, bill_added: bool
) -> OverdueStarted:
    return OverdueStarted(
        account_id=account_id,
        workflow_id=workflow_id(account_id),
        run_id=run_id,
        created=created,
        bill_id=bill_id,
        bill_added=bill_added,
        status_url=f"/v1/accounts/{account_id}",
    )


async def _check_total(
    services: Services, account_id: str, bill_id: str, body: OverdueReport
) -> None:
    """The account's bills, this one included, stay below 2^53 in total: the workflow's balance
    and its `AmountDueMinor` search attribute are sums of them. Checked before the report's
    transaction; two reports racing past it still stay below 2^54, which int64 holds."""
    total = await bills_total(services.pool, account_id, besides=bill_id)
    if total + body.amount_due.amount_minor > MAX_MINOR:
        raise BillRefused(
            "amount_due.amount_minor",
            f"the account's bills would total more than {MAX_MINOR} minor units",
        )


async def _check_currency(
    services: Services, conn: asyncpg.Connection, account_id: str, body: OverdueReport
) -> None:
    """A running process keeps its currency: a bill in another one is refused."""
    currency = await account_currency(conn, account_id)
    if currency is None or currency == body.amount_due.currency:
        return
    try:
        description = await account_handle(services.temporal, account_id).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return
        raise
    if description.status == WorkflowExecutionStatus.RUNNING:
        raise BillRefused(
            "amount_due.currency",
            f"the account's running process is in {currency}, not {body.amount_due.currency}",
        )


async def _store_report(
    conn: asyncpg.Connection, account_id: str, bill_id: str, body: OverdueReport
) -> bool:
    """Store the account, its contact details and the bill; True when the bill is new."""
    await store_account(conn, account_id, product=body.product, currency=body.amount_due.currency)
    customer = body.customer
    await store_customer(
        conn,
        account_id,
        CustomerReport(
            full_name=customer.name,
            phone_e164=customer.phone,
            time_zone=customer.time_zone,
            locale=customer.locale,
        ),
    )
    return await add_bill(
        conn,
        Bill(
            account_id=account_id,
            bill_id=bill_id,
            amount_minor=body.amount_due.amount_minor,
            currency=body.amount_due.currency,
            due_date=body.due_date,
        ),
    )


async def _current_run_id(services: Services, account_id: str) -> str | None:
    try:
        description = await account_handle(services.temporal, account_id).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    return description.run_id


async def _start(services: Services, account_id: str, body: OverdueReport) -> str | None:
    input = messages.process_input(account_id, body, services.policy)
    handle = await services.temporal.start_workflow(
        OverdueAccountWorkflow.run,
        input,
        id=workflow_id(account_id),
        task_queue=OVERDUE_TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.OVERDUE_STATE, AccountState.ACTIVE.value),
                SearchAttributePair(sa.PRODUCT, body.product),
                SearchAttributePair(sa.AMOUNT_DUE_MINOR, body.amount_due.amount_minor),
            ]
        ),
        static_summary=(
            f"Overdue {body.product}: {format_minor(input.amount_due_minor, input.currency)} "
            f"{input.currency} due {input.due_date.isoformat()}; policy "
            f"{services.policy.id} v{services.policy.version}"
        ),
    )
    return handle.result_run_id


async def _audit_bill(
    conn: asyncpg.Connection,
    account_id: str,
    actor: str,
    bill_id: str,
    body: OverdueReport,
    *,
    started: bool,
) -> None:
    await record_event(
        conn,
        account_id=account_id,
        actor=actor,
        kind="process.started" if started else "bill.added",
        details={
            "bill_id": bill_id,
            "amount_minor": body.amount_due.amount_minor,
            "currency": body.amount_due.currency,
            "due_date": body.due_date.isoformat(),
        },
    )
