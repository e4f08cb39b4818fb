"""Erasing an account's personal data on request (PIPL art. 47): `POST .../erasure`.

The use case is `overdue.erasure` (shared with `overdue erase`); this is its HTTP boundary.
It needs the `privacy:erase` scope, given to no key by default.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.accounts import AccountId
from api.auth import AuthenticatedRoute, ErasePersonalData
from api.dependencies import ServicesDep
from api.problems import Problem, problem_responses
from api.workflow_calls import unknown_account_problem
from overdue.erasure import NotErasableYet, UnknownAccount, erase_account

router = APIRouter(prefix="/v1/accounts", tags=["privacy"], route_class=AuthenticatedRoute)


class ErasureDone(BaseModel):
    """What was erased (counts per data class, no personal value) and when."""

    account_id: str
    erased_at: datetime
    erased_by: str
    already_erased: bool = Field(
        description="True when the account was erased before: this request changed nothing."
    )
    counts: dict[str, int]


@router.post(
    "/{account_id}/erasure",
    response_model=ErasureDone,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def erase(
    account_id: AccountId, services: ServicesDep, client: ErasePersonalData
) -> ErasureDone:
    """Erase the account's personal data (name, number, message bodies, typed texts) and keep
    its collection record (audit trail, receipts, contacts without text). Refused with 409 while
    its overdue process runs; repeating it answers the first erasure again."""
    try:
        done = await erase_account(services.pool, services.temporal, account_id, client.actor)
    except UnknownAccount:
        raise unknown_account_problem(account_id) from None
    except NotErasableYet as refused:
        raise Problem(409, "Not erasable yet", refused.reason) from None
    return ErasureDone(
        account_id=done.account_id,
        erased_at=done.erased_at,
        erased_by=done.actor,
        already_erased=done.already_erased,
        counts=done.counts,
    )
