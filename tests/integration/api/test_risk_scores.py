"""Risk scoring on the real stack (issue 18, docs/strategy.md#risk-scoring).

A start the backend gave no segment gets the active model's segment in the workflow's input,
so the default policy's `when: risk_segments: [high]` stage applies to a high-risk account; the
score is kept with its reasons and shown by `GET /v1/accounts/{id}/score`. The model trains
from closed bills in Postgres with `overdue score train`, and `overdue score ACCOUNT` scores.

Each test activates a model for itself and leaves none active: the other tests' starts stay
unscored.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from api.risk_scoring import NotScorable, rescore
from overdue.policy_files import load_policy
from overdue.scoring import synthetic
from overdue.scoring.csv_rows import read_examples
from overdue.scoring.model import RiskModel
from overdue.scoring.training import fit
from overdue.store.api_keys import Scope
from overdue.store.risk_scores import activate_model, save_model
from tests.integration.conftest import Stack
from tests.integration.support import (
    NAME,
    PHONE,
    assert_problem,
    client,
    customer_today,
    key_with,
    new_account,
    overdue_body,
)
from tests.integration.test_cli import overdue
from workflows.names import workflow_id

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def trained() -> RiskModel:
    examples = read_examples(synthetic.SHIPPED_CSV)
    return fit(
        examples, source="csv", outcome_days=60, now=datetime.now(UTC).replace(microsecond=0)
    )


@pytest.fixture
async def active(stack: Stack, trained: RiskModel) -> AsyncIterator[RiskModel]:
    async with stack.pool.acquire() as conn:
        try:
            await save_model(conn, trained.model_dump(mode="json"), activate=True)
        except asyncpg.UniqueViolationError:
            assert await activate_model(conn, trained.version)
    try:
        yield trained
    finally:
        async with stack.pool.acquire() as conn:
            await activate_model(conn, None)


def high_risk_body(**changes: object) -> dict[str, object]:
    """Long past due and a large amount: the shipped model's propensity is near 0."""
    return overdue_body(
        due_date=(customer_today() - timedelta(days=3000)).isoformat(),
        amount_due={"amount_minor": 900_000_000, "currency": "CNY"},
        **changes,
    )


async def start_input(stack: Stack, account: str) -> dict[str, object]:
    history = await stack.temporal.get_workflow_handle(workflow_id(account)).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    payload: dict[str, object] = json.loads(started.input.payloads[0].data)
    return payload


async def test_a_start_gets_the_scores_segment_and_the_high_risk_stage_applies(
    stack: Stack, active: RiskModel
) -> None:
    account = new_account()
    answer = await stack.api.put(f"/v1/accounts/{account}/overdue", json=high_risk_body())
    assert answer.status_code == 201, answer.text

    scored = await stack.api.get(f"/v1/accounts/{account}/score")
    assert scored.status_code == 200, scored.text
    score = scored.json()
    assert score["risk_segment"] == "high" and score["model_version"] == active.version
    assert score["trigger"] == "report" and score["propensity_to_pay"] < active.cut_points[0]
    reasons = score["reasons"]
    assert reasons[0] == {
        "feature": "days_past_due",
        "value": 3000.0,
        "contribution": reasons[0]["contribution"],
        "direction": "lowers",
    }
    assert {r["feature"] for r in reasons} <= set(active.columns) and len(reasons) == 3
    assert NAME not in scored.text and PHONE not in scored.text

    given = await start_input(stack, account)
    assert given["risk_segment"] == "high"
    policy = load_policy(ROOT / "policies" / "default.yaml")
    (restriction,) = [s for s in policy.stages if s.when and s.when.risk_segments == ("high",)]
    assert restriction.applies_to(
        balance_minor=900_000_000, product="credit_line", risk_segment=given["risk_segment"]
    )


async def test_a_segment_the_backend_sends_is_kept_and_a_repeat_keeps_one_score(
    stack: Stack, active: RiskModel
) -> None:
    account = new_account()
    body = high_risk_body(risk_segment="low")
    for status in (201, 200):
        answer = await stack.api.put(f"/v1/accounts/{account}/overdue", json=body)
        assert answer.status_code == status, answer.text
    assert (await start_input(stack, account))["risk_segment"] == "low"
    kept = await stack.pool.fetchval(
        "SELECT count(*) FROM risk_scores WHERE account_id = $1", account
    )
    assert kept == 1
    scored = await stack.api.get(f"/v1/accounts/{account}/score")
    assert scored.json()["risk_segment"] == "high"  # the model's view, shown as it was


async def test_without_an_active_model_starts_are_unscored(stack: Stack) -> None:
    account = new_account()
    answer = await stack.api.put(f"/v1/accounts/{account}/overdue", json=high_risk_body())
    assert answer.status_code == 201, answer.text
    assert (await start_input(stack, account))["risk_segment"] is None
    body = assert_problem(await stack.api.get(f"/v1/accounts/{account}/score"), 404)
    assert "no risk score" in body["detail"]


async def test_the_score_needs_the_read_scope_and_a_known_account(stack: Stack) -> None:
    key = await key_with(stack, Scope.PAYMENTS_WRITE)
    async with client(stack, key) as other:
        assert_problem(await other.get(f"/v1/accounts/{new_account()}/score"), 403)
    async with client(stack) as nobody:
        assert_problem(await nobody.get(f"/v1/accounts/{new_account()}/score"), 401)
    assert_problem(await stack.api.get(f"/v1/accounts/{new_account()}/score"), 404)
    assert_problem(await stack.api.get("/v1/accounts/bad%20id/score"), 422)


async def _closed_history(pool: asyncpg.Pool, prefix: str, accounts: int) -> None:
    """`accounts` accounts with two bills long closed: the first half paid both (within
    days), the second half paid neither. Delivered, so the relay leaves them alone."""
    now = datetime.now(UTC)
    for n in range(accounts):
        account, payer = f"{prefix}-{n}", n < accounts // 2
        await pool.execute(
            "INSERT INTO accounts (account_id, product, currency) VALUES ($1, 'card', 'CNY')",
            account,
        )
        for bill, age in (("b1", 300), ("b2", 150)):
            reported = now - timedelta(days=age)
            await pool.execute(
                """
                INSERT INTO account_bills (account_id, bill_id, amount_minor, currency,
                                           due_date, created_at, delivered_at)
                VALUES ($1, $2, 10000, 'CNY', $3, $4, $4)
                """,
                account,
                bill,
                (reported - timedelta(days=1 + n % 7)).date(),
                reported,
            )
            if payer:
                await pool.execute(
                    """
                    INSERT INTO reported_events (account_id, kind, event_id, reported_at,
                                                 actor, details, delivered_at)
                    VALUES ($1, 'payment.reported', $2, $3, 'test', $4::jsonb, $3)
                    """,
                    account,
                    f"pay-{bill}",
                    reported + timedelta(days=3),
                    json.dumps({"payment_id": f"pay-{bill}", "amount_minor": 10000}),
                )


@pytest.mark.timeout(180)  # four `overdue` processes, each importing the whole package
async def test_train_from_closed_bills_then_score_an_account(stack: Stack, tmp_path: Path) -> None:
    prefix = f"closed-{uuid.uuid4().hex[:6]}"
    await _closed_history(stack.pool, prefix, 60)
    env = {
        "DATABASE_URL": stack.settings.require_database_url(),
        "OVERDUE_SCORE_MODEL_DIR": str(tmp_path),
    }
    trained = overdue("score", "train", "--no-activate", **env)
    assert trained.returncode == 0, trained.stderr
    assert "from postgres" in trained.stdout and "AUC held-out: " in trained.stdout
    (written,) = tmp_path.glob("risk-*.json")
    model = RiskModel.model_validate_json(written.read_text())
    assert model.metrics.rows >= 120
    weight = dict(zip(model.columns, model.coefficients, strict=True))
    assert weight["earlier_paid_share"] > 0  # earlier bills paid: this one paid too

    with pytest.raises(NotScorable, match="no risk model is active"):
        await rescore(stack.pool, f"{prefix}-0")
    refused = overdue("score", "activate", "risk-nope", **env)
    assert refused.returncode == 1 and "no stored model 'risk-nope'" in refused.stderr
    async with stack.pool.acquire() as conn:
        assert await activate_model(conn, model.version)
    try:
        scored = overdue("score", f"{prefix}-0", **env)
        assert scored.returncode == 0, scored.stderr
        shown = json.loads(scored.stdout)
        assert shown["model_version"] == model.version
        assert shown["risk_segment"] in {"high", "medium", "low"}
        assert any(r["feature"] == "earlier_paid_share" for r in shown["reasons"])
        unknown = overdue("score", "--account", "train", **env)
        assert unknown.returncode == 1 and "has no reported bill" in unknown.stderr
        answer = await stack.api.get(f"/v1/accounts/{prefix}-0/score")
        assert answer.json()["trigger"] == "command"
    finally:
        async with stack.pool.acquire() as conn:
            await activate_model(conn, None)
