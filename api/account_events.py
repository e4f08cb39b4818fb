"""Events from backends about an account: payments, hardship, disputes, cease contact.

Thin routes: each builds its event and hands it to `api.event_reports.report_event`, which
records it once per id and signals the running process; its errors become problems here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, status

from api import workflow_messages as messages
from api.accounts import AccountId
from api.auth import ApiClient, AuthenticatedRoute, WriteAccounts, WritePayments
from api.dependencies import Services, ServicesDep
from api.event_reports import ReportedEvent, UnknownAccount, WrongCurrency, report_event
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
    ProcessNotRunning,
    not_running_problem,
    unknown_account_problem,
)
from overdue.store.free_texts import FreeText, new_text

router = APIRouter(prefix="/v1/accounts", tags=["account events"], route_class=AuthenticatedRoute)
EVENT_ERRORS = problem_responses(400, 401, 403, 404, 409, 413, 422)
DisputeId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")]


async def _report(
    services: Services,
    account_id: str,
    event: ReportedEvent,
    client: ApiClient,
    text: FreeText | None = None,
) -> None:
    try:
        await report_event(services, account_id, event, client.actor, text)
    except UnknownAccount as err:
        raise unknown_account_problem(account_id) from err
    except WrongCurrency as err:
        raise invalid_field("currency", str(err)) from err
    except ProcessNotRunning as err:
        raise not_running_problem(account_id) from err


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
    await _report(services, account_id, messages.payment(body), client)
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
    text = new_text("hardship.reason", body.reason)
    report = messages.hardship(body, text.id, datetime.now(UTC))
    await _report(services, account_id, report, client, text)
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
    text = new_text("dispute.reason", body.reason)
    await _report(services, account_id, messages.dispute_opened(body, text.id), client, text)
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
    text = new_text("dispute.resolution", body.resolution)
    closed = messages.dispute_closed(dispute_id, text.id)
    await _report(services, account_id, closed, client, text)
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
    text = new_text("cease.reason", body.reason)
    await _report(services, account_id, messages.contact_ceased(body, text.id), client, text)
    return EventAccepted(account_id=account_id, event="cease_contact", event_id=body.request_id)
