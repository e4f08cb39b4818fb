"""The right of access and portability (PIPL art. 45, GDPR arts. 15 and 20):
`GET .../personal-data`.

The use case is `overdue.subject_access` (shared with `overdue export-personal-data`); this is
its HTTP boundary. It needs the `privacy:access` scope, given to no key by default: the answer
holds the customer's name, number and every text about them.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.accounts import AccountId
from api.auth import AccessPersonalData, AuthenticatedRoute
from api.dependencies import ServicesDep
from api.problems import problem_responses
from api.workflow_calls import unknown_account_problem
from overdue.subject_access import PersonalData, UnknownAccount, export_personal_data

router = APIRouter(prefix="/v1/accounts", tags=["privacy"], route_class=AuthenticatedRoute)


@router.get(
    "/{account_id}/personal-data",
    response_model=PersonalData,
    responses=problem_responses(401, 403, 404, 422),
)
async def personal_data(
    account_id: AccountId, services: ServicesDep, client: AccessPersonalData
) -> PersonalData:
    """Everything held about the account, decrypted, as JSON: contact details, SMS sent and
    received, typed texts, consent history, opt-outs, call tasks and dials, audit events,
    compliance receipts, and how long each class is kept. An erased account answers what is
    left of it, with `[erased]` where a text was. Every access is audited."""
    try:
        return await export_personal_data(
            services.pool,
            account_id,
            client.actor,
            services.settings.retention_periods(),
        )
    except UnknownAccount:
        raise unknown_account_problem(account_id) from None
