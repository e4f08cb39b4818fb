"""Forbearance through the backend API: a borrower's request and an agent's decision.

- `POST /v1/accounts/{id}/forbearance-requests` (scope accounts:write): the borrower asks for
  a settlement, a freeze of interest and fees, or a payment holiday (the self-service page or
  a backend). Recorded once per `request_id` and signalled (`request_forbearance`), like the
  other account events (`api.event_reports`); the workflow asks the policy's review queue.
- `POST /v1/accounts/{id}/forbearance` (scope accounts:write): an agent or a backend grants
  one within the policy's limits, or turns a request down: the workflow's validated
  `decide_forbearance` update. Refused: 409 with the workflow's precise reason, nothing
  changed. Accepted: audited `forbearance.granted` / `forbearance.refused`.

`ask` and `decide` are the use cases, callable without HTTP (the self-service page calls
`ask`). Free text (a reason, a note) stays in Postgres; the workflow gets its `text_id`.
"""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, Field, ValidationError

from api.accounts import AccountId
from api.auth import AuthenticatedRoute, WriteAccounts
from api.console.outcomes import Action, _ref, _update, perform
from api.dependencies import Services, ServicesDep
from api.event_reports import UnknownAccount, report_event
from api.problems import Problem, invalid_field, problem_responses
from api.schemas import EventAccepted, EventId, Reason, _Body
from api.workflow_calls import (
    ProcessNotRunning,
    UpdateRejected,
    account_handle,
    not_running_problem,
    unknown_account_problem,
)
from overdue.inputs import AmountMinor, RecentDate, Text
from overdue.store.accounts import account_exists
from overdue.store.free_texts import FreeText, new_text
from workflows.forbearance_types import (
    ForbearanceDecision,
    ForbearanceKind,
    ForbearanceRequested,
    ForbearanceState,
)
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.types import AccountStatus

router = APIRouter(prefix="/v1/accounts", tags=["forbearance"], route_class=AuthenticatedRoute)
ERRORS = problem_responses(400, 401, 403, 404, 409, 413, 422)


class _Terms(_Body):
    kind: ForbearanceKind
    amount_minor: AmountMinor | None = Field(default=None, description="settlement: to pay.")
    pay_by: RecentDate | None = Field(default=None, description="settlement: to pay by.")
    until: RecentDate | None = Field(default=None, description="freeze, holiday: the last day.")


class ForbearanceRequestBody(_Terms):
    """The borrower's request; terms are what they propose (optional)."""

    request_id: EventId
    reason: Reason | None = None


class ForbearanceDecisionBody(_Terms):
    """Grant (approve, the default) within the policy's limits, or turn `request_id` down."""

    approve: bool = True
    request_id: EventId | None = None
    note: Text | None = Field(default=None, max_length=1000, description="Kept in Postgres.")


class ForbearanceDecided(BaseModel):
    account_id: str
    kind: ForbearanceKind
    approve: bool
    forbearance: ForbearanceState | None = Field(description="As the workflow now keeps it.")


def _message(
    model: type[ForbearanceDecision] | type[ForbearanceRequested], **fields: object
) -> ForbearanceDecision | ForbearanceRequested:
    """The workflow's message, or a 422 naming what the kind lacks or must not have."""
    try:
        return model.model_validate(fields)
    except ValidationError as err:
        error = err.errors()[0]
        where = ".".join(str(p) for p in error.get("loc", ())) or "kind"
        raise invalid_field(where, str(error.get("msg", "invalid"))) from None


async def ask(
    services: Services,
    account_id: str,
    request: ForbearanceRequested,
    actor: str,
    text: FreeText | None = None,
) -> None:
    """Record the borrower's request once per id and signal it. Raises UnknownAccount,
    ProcessNotRunning (see `api.event_reports.report_event`)."""
    await report_event(services, account_id, request, actor, text)


async def decide(
    services: Services,
    account_id: str,
    decision: ForbearanceDecision,
    actor: str,
    note: FreeText | None = None,
) -> AccountStatus | None:
    """Send the decision, audited once accepted. Raises UpdateRejected (the reason),
    ProcessNotRunning."""
    details = decision.model_dump(mode="json", exclude_none=True, exclude={"actor", "text_id"})
    action = Action(
        "forbearance",
        "forbearance.granted" if decision.approve else "forbearance.refused",
        _update(OverdueAccountWorkflow.decide_forbearance, decision),
        _ref(details, note),
        note,
    )
    handle = account_handle(services.temporal, account_id)
    return await perform(services.pool, handle, account_id, actor, action)


@router.post(
    "/{account_id}/forbearance-requests",
    response_model=EventAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses=ERRORS,
)
async def request_forbearance(
    account_id: AccountId,
    body: ForbearanceRequestBody,
    services: ServicesDep,
    client: WriteAccounts,
) -> EventAccepted:
    """The borrower asks for a settlement, a freeze or a payment holiday: a specialist reviews
    it (the policy's `forbearance.review_queue`). Idempotent by request_id."""
    text = new_text("forbearance.reason", body.reason) if body.reason else None
    fields = body.model_dump(exclude={"reason"}, exclude_none=True)
    request = _message(ForbearanceRequested, **fields, text_id=text.id if text else None)
    assert isinstance(request, ForbearanceRequested)
    try:
        await ask(services, account_id, request, client.actor, text)
    except UnknownAccount as err:
        raise unknown_account_problem(account_id) from err
    except ProcessNotRunning as err:
        raise not_running_problem(account_id) from err
    return EventAccepted(
        account_id=account_id, event="forbearance_requested", event_id=body.request_id
    )


@router.post("/{account_id}/forbearance", response_model=ForbearanceDecided, responses=ERRORS)
async def decide_forbearance(
    account_id: AccountId,
    body: ForbearanceDecisionBody,
    services: ServicesDep,
    client: WriteAccounts,
) -> ForbearanceDecided:
    """Grant a settlement (less than the balance, paid by a date), a freeze of interest and
    fees, or a payment holiday, within the policy's `forbearance` limits; or turn a borrower's
    request down (`approve: false`, `request_id`). 409 with the reason when the workflow
    refuses it; nothing changes then."""
    note = new_text("forbearance.note", body.note) if body.note else None
    fields = body.model_dump(exclude={"note"}, exclude_none=True)
    decision = _message(
        ForbearanceDecision, **fields, actor=client.actor, text_id=note.id if note else None
    )
    assert isinstance(decision, ForbearanceDecision)
    try:
        answer = await decide(services, account_id, decision, client.actor, note)
    except UpdateRejected as err:
        raise Problem(409, "Request refused", err.reason) from err
    except ProcessNotRunning as err:
        if await account_exists(services.pool, account_id):
            raise not_running_problem(account_id) from err
        raise unknown_account_problem(account_id) from err
    return ForbearanceDecided(
        account_id=account_id,
        kind=body.kind,
        approve=body.approve,
        forbearance=answer.forbearance if answer else None,
    )
