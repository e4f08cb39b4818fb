"""Events from backends about an account: payments, hardship, disputes, cease contact.

Each is a durable signal to the account's running process, deduplicated there by its id, and
recorded once per id (`reported_events`, with its line in the audit trail). The signal is sent
inside that transaction, so a request Temporal refuses leaves no trace.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from pydantic import BaseModel

from api.accounts import AccountId
from api.auth import ApiClient, WriteAccounts, WritePayments
from api.dependencies import Services, ServicesDep
from api.problems import invalid_field, problem_responses
from api.schemas import (
    CeaseContactReport,
    DisputeClosing,
    DisputeReport,
    EventAccepted,
    HardshipReport,
    PaymentAccepted,
    PaymentReport,
)
from api.workflow_calls import (
    AccountHandle,
    ProcessNotRunning,
    account_handle,
    not_running_problem,
    to_running,
    unknown_account_problem,
)
from overdue.store.accounts import lock_account
from overdue.store.reported_events import record_once
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.types import (
    ContactCeased,
    DisputeClosed,
    DisputeOpened,
    HardshipReported,
    PaymentReported,
)

router = APIRouter(prefix="/v1/accounts", tags=["account events"])
EVENT_ERRORS = problem_responses(400, 401, 403, 404, 409, 413, 422)
DisputeId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")]
Send = Callable[[AccountHandle], Awaitable[None]]


async def _account_currency(services: Services, account_id: str) -> str:
    currency: str | None = await services.pool.fetchval(
        "SELECT currency FROM accounts WHERE account_id = $1", account_id
    )
    if currency is None:
        raise unknown_account_problem(account_id)
    return currency


async def _deliver(
    services: Services,
    account_id: str,
    client: ApiClient,
    *,
    kind: str,
    id_field: str,
    details: dict[str, Any],
    send: Send,
) -> None:
    """Record the event (unless this id was recorded before), then signal; all or nothing.

    The caller has checked that the account exists.
    """
    handle = account_handle(services.temporal, account_id)
    async with services.pool.acquire() as conn, conn.transaction():
        # Held until commit: a contact activity checking for new payments waits for this one.
        await lock_account(conn, account_id)
        await record_once(
            conn,
            account_id=account_id,
            kind=kind,
            event_id=str(details[id_field]),
            actor=client.actor,
            details=details,
        )
        try:
            await to_running(lambda: send(handle))
        except ProcessNotRunning as err:
            raise not_running_problem(account_id) from err


def _details(model: BaseModel, **more: Any) -> dict[str, Any]:
    return {**model.model_dump(mode="json"), **more}


@router.post(
    "/{account_id}/payments",
    response_model=PaymentAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses=EVENT_ERRORS,
)
async def report_payment(
    account_id: AccountId, body: PaymentReport, services: ServicesDep, client: WritePayments
) -> PaymentAccepted:
    """Report a payment. Replaying the same payment_id changes nothing."""
    currency = await _account_currency(services, account_id)
    if body.currency != currency:
        raise invalid_field("currency", f"must be {currency}, the account's currency")
    payment = PaymentReported(
        payment_id=body.payment_id,
        amount_minor=body.amount_minor,
        currency=body.currency,
        paid_at=body.paid_at,
    )
    await _deliver(
        services,
        account_id,
        client,
        kind="payment.reported",
        id_field="payment_id",
        details=_details(body),
        send=lambda h: h.signal(OverdueAccountWorkflow.report_payment, payment),
    )
    return PaymentAccepted(account_id=account_id, payment_id=body.payment_id)


@router.post(
    "/{account_id}/hardship",
    response_model=EventAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses=EVENT_ERRORS,
)
async def report_hardship(
    account_id: AccountId, body: HardshipReport, services: ServicesDep, client: WriteAccounts
) -> EventAccepted:
    """The customer reports hardship: reminders stop while it is reviewed. Idempotent by id."""
    await _account_currency(services, account_id)
    report = HardshipReported(
        report_id=body.report_id,
        reason=body.reason,
        reported_at=body.reported_at or datetime.now(UTC),
    )
    await _deliver(
        services,
        account_id,
        client,
        kind="hardship.reported",
        id_field="report_id",
        details=report.model_dump(mode="json"),
        send=lambda h: h.signal(OverdueAccountWorkflow.report_hardship, report),
    )
    return EventAccepted(account_id=account_id, event="hardship", event_id=body.report_id)


@router.post(
    "/{account_id}/disputes",
    response_model=EventAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses=EVENT_ERRORS,
)
async def open_dispute(
    account_id: AccountId, body: DisputeReport, services: ServicesDep, client: WriteAccounts
) -> EventAccepted:
    """The customer disputes the debt: collection stops until it is closed. Idempotent by id."""
    await _account_currency(services, account_id)
    dispute = DisputeOpened(dispute_id=body.dispute_id, reason=body.reason)
    await _deliver(
        services,
        account_id,
        client,
        kind="dispute.opened",
        id_field="dispute_id",
        details=_details(body),
        send=lambda h: h.signal(OverdueAccountWorkflow.open_dispute, dispute),
    )
    return EventAccepted(account_id=account_id, event="dispute_opened", event_id=body.dispute_id)


@router.post(
    "/{account_id}/disputes/{dispute_id}/close",
    response_model=EventAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses=EVENT_ERRORS,
)
async def close_dispute(
    account_id: AccountId,
    dispute_id: DisputeId,
    body: DisputeClosing,
    services: ServicesDep,
    client: WriteAccounts,
) -> EventAccepted:
    """A dispute is settled: collection resumes when no other dispute is open."""
    await _account_currency(services, account_id)
    closed = DisputeClosed(dispute_id=dispute_id, resolution=body.resolution)
    await _deliver(
        services,
        account_id,
        client,
        kind="dispute.closed",
        id_field="dispute_id",
        details=closed.model_dump(mode="json"),
        send=lambda h: h.signal(OverdueAccountWorkflow.close_dispute, closed),
    )
    return EventAccepted(account_id=account_id, event="dispute_closed", event_id=dispute_id)


@router.post(
    "/{account_id}/cease-contact",
    response_model=EventAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses=EVENT_ERRORS,
)
async def cease_contact(
    account_id: AccountId, body: CeaseContactReport, services: ServicesDep, client: WriteAccounts
) -> EventAccepted:
    """The customer asked us to stop contacting them. Idempotent by request_id."""
    await _account_currency(services, account_id)
    ceased = ContactCeased(request_id=body.request_id, reason=body.reason)
    await _deliver(
        services,
        account_id,
        client,
        kind="contact.ceased",
        id_field="request_id",
        details=_details(body),
        send=lambda h: h.signal(OverdueAccountWorkflow.cease_contact, ceased),
    )
    return EventAccepted(account_id=account_id, event="cease_contact", event_id=body.request_id)
