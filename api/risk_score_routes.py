"""`GET /v1/accounts/{id}/score`: the account's latest risk score with its model version and
reasons (PIPL art. 24: an automated decision is explained to whom it concerns)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.accounts import AccountId
from api.auth import AuthenticatedRoute, ReadAccounts
from api.dependencies import ServicesDep
from api.problems import Problem, problem_responses
from api.workflow_calls import unknown_account_problem
from overdue.store.accounts import account_exists
from overdue.store.risk_scores import latest_score

router = APIRouter(prefix="/v1/accounts", tags=["accounts"], route_class=AuthenticatedRoute)


class ScoreReason(BaseModel):
    feature: str = Field(description="A feature's name (docs/strategy.md#risk-scoring).")
    value: float = Field(description="This account's value of it.")
    contribution: float = Field(description="Its effect on the log-odds of paying.")
    direction: Literal["raises", "lowers"] = Field(description="Its effect on propensity.")


class AccountScore(BaseModel):
    account_id: str
    bill_id: str | None = Field(description="The bill scored.")
    trigger: str = Field(
        description="report: scored when the bill was reported; command: `overdue score`."
    )
    model_version: str
    propensity_to_pay: float = Field(
        description="Probability the bill is paid within the model's outcome window."
    )
    risk_segment: str = Field(description="high, medium or low, by the model's cut points.")
    reasons: list[ScoreReason] = Field(description="The features weighing most, largest first.")
    scored_at: datetime


@router.get(
    "/{account_id}/score",
    response_model=AccountScore,
    responses=problem_responses(401, 403, 404, 422),
)
async def account_score(
    account_id: AccountId, services: ServicesDep, _client: ReadAccounts
) -> AccountScore:
    """The account's latest risk score and the reasons for it."""
    if not await account_exists(services.pool, account_id):
        raise unknown_account_problem(account_id)
    stored = await latest_score(services.pool, account_id)
    if stored is None:
        raise Problem(
            404,
            "Not scored",
            f"account {account_id!r} has no risk score: no model was active when it was "
            "reported; `overdue score ACCOUNT` scores it now",
        )
    return AccountScore(
        account_id=stored.account_id,
        bill_id=stored.bill_id,
        trigger=stored.trigger,
        model_version=stored.model_version,
        propensity_to_pay=stored.propensity,
        risk_segment=stored.risk_segment,
        reasons=[ScoreReason.model_validate(r) for r in stored.reasons],
        scored_at=stored.scored_at,
    )
