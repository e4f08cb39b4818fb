"""Backend endpoints for one account: report it overdue (a bill), read its status and contacts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from api.auth import AuthenticatedRoute, ReadAccounts, WriteAccounts
from api.dependencies import ServicesDep
from api.overdue_reports import AccountErased, BillRefused, report_bill
from api.problems import Problem, invalid_field, problem_responses
from api.schemas import ContactAttempt, ContactLedger, OverdueReport, OverdueStarted
from api.workflow_calls import (
    ProcessNotRunning,
    current_status,
    unknown_account_problem,
)
from overdue.account_status import days_past_due_now, with_texts
from overdue.store.accounts import account_exists
from overdue.store.contact_ledger import account_contacts
from workflows.types import ACCOUNT_ID_PATTERN, AccountStatus

router = APIRouter(prefix="/v1/accounts", tags=["accounts"], route_class=AuthenticatedRoute)

AccountId = Annotated[
    str,
    Path(pattern=ACCOUNT_ID_PATTERN, description="The backend's account id (no personal data)."),
]


@router.put(
    "/{account_id}/overdue",
    response_model=OverdueStarted,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": OverdueStarted, "description": "The process was already running."},
        **problem_responses(400, 401, 403, 404, 409, 413, 422),
    },
)
async def report_overdue(
    account_id: AccountId,
    body: OverdueReport,
    services: ServicesDep,
    client: WriteAccounts,
    response: Response,
) -> OverdueStarted:
    """Start the account's overdue process, or add a new bill to the running one.

    Idempotent per bill: a bill already reported (same `bill_id`) changes nothing but the
    customer's contact details, which every report refreshes.
    """
    try:
        started = await report_bill(services, account_id, body, client.actor)
    except AccountErased as erased:
        raise Problem(409, "Account erased", erased.reason) from erased
    except BillRefused as refused:
        raise invalid_field(refused.field, refused.reason) from refused
    if not started.created:
        response.status_code = status.HTTP_200_OK
    return started


@router.get(
    "/{account_id}",
    response_model=AccountStatus,
    responses=problem_responses(401, 403, 404, 422),
)
async def account_status(
    account_id: AccountId, services: ServicesDep, _client: ReadAccounts
) -> AccountStatus:
    """The account's current status, answered by its workflow."""
    try:
        current = await current_status(services.temporal, account_id)
    except ProcessNotRunning as err:
        raise unknown_account_problem(account_id) from err
    # A query sees the workflow's clock at its last event; days past due is asked about today.
    now = datetime.now(UTC)
    current = await with_texts(services.pool, current)  # typed texts live in Postgres
    return current.model_copy(
        update={
            "days_past_due": days_past_due_now(current, now),
            "as_of": now,
        }
    )


@router.get(
    "/{account_id}/contacts",
    response_model=ContactLedger,
    responses=problem_responses(401, 403, 404, 422),
)
async def contact_ledger(
    account_id: AccountId,
    services: ServicesDep,
    _client: ReadAccounts,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ContactLedger:
    """The account's contact ledger: every message and call task, newest first."""
    rows = await account_contacts(services.pool, account_id, limit)
    if not rows and not await account_exists(services.pool, account_id):
        raise unknown_account_problem(account_id)
    return ContactLedger(account_id=account_id, contacts=[ContactAttempt(**row) for row in rows])
