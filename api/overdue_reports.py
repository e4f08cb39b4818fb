"""Reporting an account's bill overdue: the use case behind `PUT /v1/accounts/{id}/overdue`
and `overdue bulk-start`.

It raises BillRefused, not an HTTP answer: the router turns it into its 422 problem+json, the
CLI into a rejected row.
"""

from __future__ import annotations

import logging

import asyncpg
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from api import consent_changes, experiment_assignment, risk_scoring
from api import workflow_messages as messages
from api.deliveries import deliver_bill
from api.dependencies import Services
from api.schemas import OverdueReport, OverdueStarted
from api.workflow_calls import account_handle
from overdue.inputs import MAX_MINOR
from overdue.store import policy_versions
from overdue.store.accounts import (
    CustomerReport,
    account_currency,
    lock_account,
    store_account,
    store_customer,
)
from overdue.store.bills import PendingBill, add_bill, bill_delivered, bills_total
from overdue.store.experiments import StoredExperiment
from overdue.store.sealed_texts import is_erased
from overdue.store.selfservice_records import store_id_last4
from workflows.names import workflow_id

logger = logging.getLogger(__name__)


class BillRefused(Exception):
    """The report contradicts what is stored (and nothing was changed): `field` is the body's
    field at fault, `reason` why; `str()` is "field: reason"."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class AccountErased(BillRefused):
    """The account's personal data was erased (docs/privacy.md): its id is not used again."""

    def __init__(self, account_id: str) -> None:
        super().__init__(
            "account_id",
            f"account {account_id!r} was erased on request; report the customer under a new "
            "account id",
        )


async def report_bill(
    services: Services, account_id: str, body: OverdueReport, actor: str
) -> OverdueStarted:
    """What `PUT .../overdue` does, for any caller (the API, `overdue bulk-start`): store the
    report with the start it asks for and commit, then start the process or signal the new
    bill to it (`api.deliveries`); audited as `actor` once delivered.

    Raises BillRefused when the bill's currency differs from the running process's, or when
    it would take the account's total of bills past MAX_MINOR. When
    Temporal does not answer, the RPC error propagates (503) and the stored bill is delivered
    by the relay, or by the client's retry.
    """
    bill_id = body.effective_bill_id()
    await _check_total(services, account_id, bill_id, body)
    # Before the transaction: a Temporal call never runs under the account's lock.
    await _check_currency(services, services.pool, account_id, body)
    body, scored = await risk_scoring.at_report(
        services.pool, services.settings.score_at_start, account_id, body
    )
    experiment = await experiment_assignment.running_experiment(services)
    async with services.pool.acquire() as conn, conn.transaction():
        # One report per account at a time: the stored account, customer and bill agree.
        await lock_account(conn, account_id)
        if await is_erased(conn, account_id):
            raise AccountErased(account_id)
        pending = await _pending(conn, services, experiment, account_id, body, actor)
        new_bill = await _store_report(conn, pending, body)
        await risk_scoring.keep(conn, scored)
        delivered = not new_bill and await bill_delivered(conn, account_id, bill_id)
        consents = await _record_consents(conn, account_id, body, actor)
    if delivered:
        run_id = await _current_run_id(services, account_id)
        if run_id is not None:
            await _deliver_consents(services, consents, started=False)
            return _answer(account_id, run_id, bill_id, created=False, bill_added=False)
    outcome = await deliver_bill(services.pool, services.temporal, pending)
    await _deliver_consents(services, consents, started=outcome.started)
    if outcome.started:
        logger.info("overdue process started", extra={"account_id": account_id})
    return _answer(
        account_id,
        outcome.run_id,
        bill_id,
        created=outcome.started,
        # A bill stored before (a concurrent or repeated report of it) is already known,
        # whichever report's delivery reached the process.
        bill_added=new_bill and not outcome.started,
    )


async def _pending(
    conn: asyncpg.Connection,
    services: Services,
    experiment: StoredExperiment | None,
    account_id: str,
    body: OverdueReport,
    actor: str,
) -> PendingBill:
    """The bill and the start it asks for, on the policy of the account's experiment arm (or
    the configured one); under the account's lock, in the report's transaction."""
    policy = await experiment_assignment.start_policy(
        conn,
        experiment,
        account_id=account_id,
        bill_id=body.effective_bill_id(),
        body=body,
        default=services.policy,
        actor=actor,
    )
    ref = await policy_versions.keep(conn, policy)  # the start names it by digest
    return PendingBill(
        bill=messages.bill(account_id, body),
        start_input=messages.process_input(account_id, body, policy, ref).model_dump(mode="json"),
        actor=actor,
    )


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
    services: Services,
    conn: asyncpg.Pool | asyncpg.Connection,
    account_id: str,
    body: OverdueReport,
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
    conn: asyncpg.Connection, pending: PendingBill, body: OverdueReport
) -> bool:
    """Store the account, its contact details and the bill; True when the bill is new."""
    account_id = pending.bill.account_id
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
            postal_address=None
            if customer.postal_address is None
            else "\n".join(customer.postal_address),
        ),
    )
    if customer.id_last4 is not None:  # the self-service identity check (sealed)
        await store_id_last4(conn, account_id, customer.id_last4)
    return await add_bill(conn, pending.bill, start_input=pending.start_input, actor=pending.actor)


async def _record_consents(
    conn: asyncpg.Connection, account_id: str, body: OverdueReport, actor: str
) -> list[consent_changes.Recorded]:
    """The report's consents, appended to the consent history (each once: a report repeated
    repeats them); only those new to it are returned, for delivery."""
    recorded = []
    for consent in body.consents:
        event = consent_changes.start_event(account_id, consent.given(), actor)
        change = await consent_changes.record(conn, event)
        if change.pending is not None:
            recorded.append(change)
    return recorded


async def _deliver_consents(
    services: Services, recorded: list[consent_changes.Recorded], *, started: bool
) -> None:
    """A process this report started has its consents in its input: they are only marked
    delivered (and audited). A running one is signalled the consents new to it."""
    for change in recorded:
        await consent_changes.deliver(services.pool, services.temporal, change, signal=not started)


async def _current_run_id(services: Services, account_id: str) -> str | None:
    try:
        description = await account_handle(services.temporal, account_id).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    return description.run_id
