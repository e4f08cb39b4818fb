"""Ending a payment holiday or a freeze early through the backend API.

`POST /v1/accounts/{id}/forbearance/end` (scope accounts:write): an agent or a backend ends the
running holiday (contact resumes from the next decision) or freeze of interest and fees (the
backend is told: a notice of kind `interest_freeze_ended`) now: the workflow's validated
`end_forbearance` update (`workflows.forbearance_end`). Refused: 409 with the workflow's reason
(none running, the account finished), nothing changed. Accepted: audited `forbearance.ended`.

`end` is the use case, callable without HTTP; the console's task page sends the same action
(`api.console.forbearance_end_form.end_action`).
The note, free text, stays in Postgres; the workflow gets its `text_id`.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.accounts import AccountId
from api.auth import AuthenticatedRoute, WriteAccounts
from api.console.forbearance_end_form import NOTE_KIND, end_action
from api.console.outcomes import perform
from api.dependencies import Services, ServicesDep
from api.problems import Problem, problem_responses
from api.schemas import _Body
from api.workflow_calls import (
    ProcessNotRunning,
    UpdateRejected,
    account_handle,
    not_running_problem,
    unknown_account_problem,
)
from overdue.inputs import Text
from overdue.store.accounts import account_exists
from overdue.store.free_texts import FreeText, new_text
from workflows.forbearance_types import (
    EndReason,
    ForbearanceEnd,
    ForbearanceKind,
    ForbearanceState,
)
from workflows.types import AccountStatus

router = APIRouter(prefix="/v1/accounts", tags=["forbearance"], route_class=AuthenticatedRoute)
ERRORS = problem_responses(400, 401, 403, 404, 409, 413, 422)


class ForbearanceEndBody(_Body):
    """Which running period ends now, why (a code), and an optional note."""

    kind: Literal["holiday", "freeze"] = Field(description="The running period to end.")
    reason: EndReason
    note: Text | None = Field(default=None, max_length=1000, description="Kept in Postgres.")


class ForbearanceEnded(BaseModel):
    account_id: str
    kind: ForbearanceKind
    forbearance: ForbearanceState | None = Field(description="As the workflow now keeps it.")


async def end(
    services: Services, account_id: str, end: ForbearanceEnd, note: FreeText | None = None
) -> AccountStatus | None:
    """Send the end, audited once accepted. Raises UpdateRejected (the reason),
    ProcessNotRunning."""
    handle = account_handle(services.temporal, account_id)
    return await perform(services.pool, handle, account_id, end.actor, end_action(end, note))


@router.post("/{account_id}/forbearance/end", response_model=ForbearanceEnded, responses=ERRORS)
async def end_forbearance(
    account_id: AccountId,
    body: ForbearanceEndBody,
    services: ServicesDep,
    client: WriteAccounts,
) -> ForbearanceEnded:
    """End the running payment holiday (contact resumes as the policy says) or freeze of
    interest and fees (reported to the backend, `interest_freeze_ended`) now, before its
    `until`: the borrower asks to resume, or it was granted by mistake. 409 with the reason
    when none is running; nothing changes then."""
    note = new_text(NOTE_KIND, body.note) if body.note else None
    request = ForbearanceEnd(
        actor=client.actor,
        kind=ForbearanceKind(body.kind),
        reason=body.reason,
        text_id=note.id if note else None,
    )
    try:
        answer = await end(services, account_id, request, note)
    except UpdateRejected as err:
        raise Problem(409, "Request refused", err.reason) from err
    except ProcessNotRunning as err:
        if await account_exists(services.pool, account_id):
            raise not_running_problem(account_id) from err
        raise unknown_account_problem(account_id) from err
    return ForbearanceEnded(
        account_id=account_id,
        kind=request.kind,
        forbearance=answer.forbearance if answer else None,
    )
