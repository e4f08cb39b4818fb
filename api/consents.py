"""Consent endpoints: record a grant or a withdrawal of consent on a channel, and read the
account's consent history.

`POST` appends the change to the history and signals it to the account's process
(api/consent_changes.py); the same `change_id` again is recognised (200, `recorded: false`),
and a different change under a used id is refused (409) without changing anything. Current
consent per channel is in the account's status (`consents`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.accounts import AccountId
from api.auth import AuthenticatedRoute, ReadAccounts, WriteAccounts
from api.consent_changes import ChangeIdReused, deliver, record
from api.consent_schemas import (
    ConsentChangeReport,
    ConsentEntry,
    ConsentHistory,
    ConsentRecorded,
)
from api.dependencies import ServicesDep
from api.problems import Problem, problem_responses
from api.workflow_calls import unknown_account_problem
from overdue.store import consents
from overdue.store.accounts import account_exists, lock_account
from overdue.store.consents import ConsentEvent

router = APIRouter(prefix="/v1/accounts", tags=["consent"], route_class=AuthenticatedRoute)


@router.post(
    "/{account_id}/consents",
    response_model=ConsentRecorded,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": ConsentRecorded, "description": "This change_id was recorded before."},
        **problem_responses(400, 401, 403, 404, 409, 413, 422),
    },
)
async def record_consent(
    account_id: AccountId,
    body: ConsentChangeReport,
    services: ServicesDep,
    client: WriteAccounts,
    response: Response,
) -> ConsentRecorded:
    """Record that the customer gave (`grant`) or withdrew (`withdraw`) consent on a channel.
    Channels the policy lists in `consent_required` are used only while consent is granted;
    a contact decided before a withdrawal is withheld at its pre-send check."""
    if not await account_exists(services.pool, account_id):
        raise unknown_account_problem(account_id)
    event = ConsentEvent(
        account_id=account_id,
        change_id=body.change_id,
        channel=body.channel.value,
        granted=body.action == "grant",
        source=body.source.value,
        at=body.at,
        actor=client.actor,
    )
    try:
        async with services.pool.acquire() as conn, conn.transaction():
            await lock_account(conn, account_id)  # the pre-send check waits, then sees it
            recorded = await record(conn, event)
    except ChangeIdReused as err:
        raise Problem(
            409,
            "Change id already used",
            f"change_id {err} was recorded for a different change; use a new id",
        ) from err
    delivered = await deliver(services.pool, services.temporal, recorded)
    if recorded.pending is None:
        response.status_code = status.HTTP_200_OK
    return ConsentRecorded(
        account_id=account_id,
        change_id=recorded.event.change_id,
        channel=recorded.event.channel,
        granted=recorded.event.granted,
        recorded=recorded.pending is not None,
        delivered=delivered,
    )


@router.get(
    "/{account_id}/consents",
    response_model=ConsentHistory,
    responses=problem_responses(401, 403, 404, 422),
)
async def consent_history(
    account_id: AccountId,
    services: ServicesDep,
    _client: ReadAccounts,
    limit: Annotated[int, Query(ge=1, le=500)] = 500,
) -> ConsentHistory:
    """Every consent change of the account, in the order they happened."""
    if not await account_exists(services.pool, account_id):
        raise unknown_account_problem(account_id)
    rows = await consents.history(services.pool, account_id, limit=limit)
    return ConsentHistory(
        account_id=account_id,
        changes=[
            ConsentEntry(
                change_id=r.change_id,
                channel=r.channel,
                granted=r.granted,
                source=r.source,
                at=r.at,
                recorded_at=r.recorded_at or r.at,
                actor=r.actor,
            )
            for r in rows
        ],
    )
