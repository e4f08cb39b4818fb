"""Backend endpoints for one account: report it overdue, report payments, read its status."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from temporalio.client import WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.dependencies import Services, ServicesDep
from api.problems import Problem
from api.schemas import (
    ContactAttempt,
    ContactLedger,
    OverdueReport,
    OverdueStarted,
    PaymentAccepted,
    PaymentReport,
)
from workflows import search_attributes as sa
from workflows.currencies import format_minor
from workflows.decisions import days_past_due
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.task_queues import OVERDUE_TASK_QUEUE
from workflows.types import (
    ACCOUNT_ID_PATTERN,
    AccountOutcome,
    AccountState,
    AccountStatus,
    OverdueAccountInput,
    PaymentReported,
)

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/accounts", tags=["accounts"])

AccountId = Annotated[
    str,
    Path(pattern=ACCOUNT_ID_PATTERN, description="The backend's account id (no personal data)."),
]


def workflow_id(account_id: str) -> str:
    return f"overdue-{account_id}"


def _handle(
    services: Services, account_id: str
) -> WorkflowHandle[OverdueAccountWorkflow, AccountOutcome]:
    return services.temporal.get_workflow_handle_for(
        OverdueAccountWorkflow.run, workflow_id(account_id)
    )


@router.put(
    "/{account_id}/overdue",
    response_model=OverdueStarted,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": OverdueStarted, "description": "The process was already running."}},
)
async def report_overdue(
    account_id: AccountId, body: OverdueReport, services: ServicesDep, response: Response
) -> OverdueStarted:
    """Start the account's overdue process. Idempotent: a repeat returns the running process."""
    await _store_account(services, account_id, body)
    input = OverdueAccountInput(
        account_id=account_id,
        product=body.product,
        amount_due_minor=body.amount_due.amount_minor,
        currency=body.amount_due.currency,
        due_date=body.due_date,
        time_zone=body.customer.time_zone,
        policy=services.policy,
    )
    id_ = workflow_id(account_id)
    try:
        handle = await services.temporal.start_workflow(
            OverdueAccountWorkflow.run,
            input,
            id=id_,
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
    except WorkflowAlreadyStartedError as err:
        response.status_code = status.HTTP_200_OK
        return OverdueStarted(
            account_id=account_id,
            workflow_id=id_,
            run_id=err.run_id,
            created=False,
            status_url=f"/v1/accounts/{account_id}",
        )
    logger.info("overdue process started", extra={"account_id": account_id})
    return OverdueStarted(
        account_id=account_id,
        workflow_id=id_,
        run_id=handle.result_run_id,
        created=True,
        status_url=f"/v1/accounts/{account_id}",
    )


async def _store_account(services: Services, account_id: str, body: OverdueReport) -> None:
    async with services.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """
            INSERT INTO accounts (account_id, product, currency) VALUES ($1, $2, $3)
            ON CONFLICT (account_id) DO UPDATE
               SET product = EXCLUDED.product, currency = EXCLUDED.currency, updated_at = now()
            """,
            account_id,
            body.product,
            body.amount_due.currency,
        )
        # Activities read contacts at send time, so an updated phone number takes effect.
        await conn.execute(
            """
            INSERT INTO customer_contacts (account_id, full_name, phone_e164, time_zone, locale)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (account_id) DO UPDATE
               SET full_name = EXCLUDED.full_name, phone_e164 = EXCLUDED.phone_e164,
                   time_zone = EXCLUDED.time_zone, locale = EXCLUDED.locale, updated_at = now()
            """,
            account_id,
            body.customer.name,
            body.customer.phone,
            body.customer.time_zone,
            body.customer.locale,
        )


@router.post(
    "/{account_id}/payments",
    response_model=PaymentAccepted,
    status_code=status.HTTP_202_ACCEPTED,
)
async def report_payment(
    account_id: AccountId, body: PaymentReport, services: ServicesDep
) -> PaymentAccepted:
    """Report a payment. Replaying the same payment_id changes nothing."""
    currency = await services.pool.fetchval(
        "SELECT currency FROM accounts WHERE account_id = $1", account_id
    )
    if currency is None:
        raise _unknown_account(account_id)
    if body.currency != currency:
        raise Problem(
            422,
            "Invalid request",
            f"currency: the account is billed in {currency}, not {body.currency}",
            errors=[{"field": "currency", "in": "body", "reason": f"must be {currency}"}],
        )
    try:
        await _handle(services, account_id).signal(
            OverdueAccountWorkflow.report_payment,
            PaymentReported(
                payment_id=body.payment_id,
                amount_minor=body.amount_minor,
                currency=body.currency,
                paid_at=body.paid_at,
            ),
        )
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise Problem(
                409,
                "No open overdue process",
                f"account {account_id!r} has no running overdue process (it may be resolved)",
            ) from err
        raise
    return PaymentAccepted(account_id=account_id, payment_id=body.payment_id)


@router.get("/{account_id}", response_model=AccountStatus)
async def account_status(account_id: AccountId, services: ServicesDep) -> AccountStatus:
    """The account's current status, answered by its workflow."""
    try:
        status = await _handle(services, account_id).query(OverdueAccountWorkflow.status)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise _unknown_account(account_id) from err
        raise
    # A query sees the workflow's clock at its last event; days past due is asked about today.
    now = datetime.now(UTC)
    return status.model_copy(
        update={
            "days_past_due": days_past_due(status.due_date, status.time_zone, now),
            "as_of": now,
        }
    )


@router.get("/{account_id}/contacts", response_model=ContactLedger)
async def contact_ledger(
    account_id: AccountId,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ContactLedger:
    """The account's contact ledger: every message and call task, newest first."""
    rows = await services.pool.fetch(
        """
        SELECT idempotency_key, channel, stage_id, status, template_id, body, provider,
               provider_id, error_code, created_at, updated_at
          FROM contact_ledger WHERE account_id = $1
         ORDER BY created_at DESC, id DESC LIMIT $2
        """,
        account_id,
        limit,
    )
    if not rows and not await services.pool.fetchval(
        "SELECT 1 FROM accounts WHERE account_id = $1", account_id
    ):
        raise _unknown_account(account_id)
    return ContactLedger(
        account_id=account_id, contacts=[ContactAttempt(**dict(row)) for row in rows]
    )


def _unknown_account(account_id: str) -> Problem:
    return Problem(
        404,
        "Unknown account",
        f"no overdue process for account {account_id!r}; start one with "
        f"PUT /v1/accounts/{account_id}/overdue",
    )
