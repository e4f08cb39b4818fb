"""API keys: 401 without or with an unknown key, 403 without the scope; nothing changes."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from api.app import create_app
from api.dependencies import Services
from overdue.policy_files import load_policy
from overdue.store.api_keys import Scope, revoke_key
from tests.integration.conftest import Stack
from tests.integration.support import (
    assert_problem,
    client,
    key_with,
    new_account,
    overdue_body,
)

pytestmark = pytest.mark.integration


async def test_no_key_or_an_unknown_key_is_401_with_a_bearer_challenge(stack: Stack) -> None:
    for key in (None, "odk_not-a-key", "not even the format"):
        async with client(stack, key) as anonymous:
            answer = await anonymous.get("/v1/accounts/anything")
        body = assert_problem(answer, 401)
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert "key" in body["detail"]
    async with client(stack) as anonymous:
        basic = await anonymous.get("/v1/accounts", headers={"Authorization": "Basic dTpw"})
    assert_problem(basic, 401)


async def test_a_key_without_the_scope_is_403_and_changes_nothing(stack: Stack) -> None:
    reader = await key_with(stack, Scope.ACCOUNTS_READ)
    account = new_account()
    async with client(stack, reader) as api:
        refused = await api.put(f"/v1/accounts/{account}/overdue", json=overdue_body())
        allowed = await api.get(f"/v1/accounts/{account}")
    body = assert_problem(refused, 403)
    assert "accounts:write" in body["detail"]
    assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
    assert_problem(allowed, 404)  # authorised, and the account does not exist
    assert not await stack.pool.fetchval("SELECT 1 FROM accounts WHERE account_id = $1", account)


async def test_payments_need_their_own_scope(stack: Stack) -> None:
    writer = await key_with(stack, Scope.ACCOUNTS_WRITE)
    payment = {
        "payment_id": "p",
        "amount_minor": 1,
        "currency": "CNY",
        "paid_at": "2026-11-20T10:00:00Z",
    }
    async with client(stack, writer) as api:
        answer = await api.post("/v1/accounts/x/payments", json=payment)
    assert_problem(answer, 403)


async def test_a_revoked_key_is_refused(stack: Stack) -> None:
    key = await key_with(stack, Scope.ACCOUNTS_READ)
    name = await stack.pool.fetchval("SELECT name FROM api_keys ORDER BY id DESC LIMIT 1")
    async with stack.pool.acquire() as conn:
        assert await revoke_key(conn, name)
    async with client(stack, key) as api:
        assert_problem(await api.get("/v1/accounts"), 401)


async def test_health_endpoints_need_no_key(stack: Stack) -> None:
    async with client(stack) as anonymous:
        assert (await anonymous.get("/healthz")).status_code == 200
        assert (await anonymous.get("/readyz")).status_code == 200


async def test_the_dev_key_setting_grants_every_scope_and_only_when_set(stack: Stack) -> None:
    dev_key = "dev-key-for-the-tests-0123456789abcdef"
    settings = stack.settings.model_copy(update={"dev_api_key": SecretStr(dev_key)})
    app = create_app(settings)
    # Share the running stack's services instead of running a second lifespan.
    app.state.services = Services(
        settings=settings,
        pool=stack.pool,
        temporal=stack.temporal,
        policy=load_policy(stack.settings.policy_file),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as api:
        answer = await api.get("/v1/accounts", headers={"Authorization": f"Bearer {dev_key}"})
        assert answer.status_code == 200, answer.text
    async with client(stack, dev_key) as api:  # the stack itself has no dev key
        assert_problem(await api.get("/v1/accounts"), 401)


async def test_a_malformed_body_is_judged_only_after_the_key(stack: Stack) -> None:
    """Authentication first: an unknown key gets 401 and a key without the scope 403, however
    broken the body; only a caller with the scope learns it was malformed (422)."""
    account = new_account()
    broken, as_json = b'{"balance_minor": ', {"Content-Type": "application/json"}
    reader = await key_with(stack, Scope.ACCOUNTS_READ)
    writer = await key_with(stack, Scope.ACCOUNTS_WRITE)
    for key, status in ((None, 401), ("odk_not-a-key", 401), (reader, 403), (writer, 422)):
        async with client(stack, key) as api:
            answer = await api.put(
                f"/v1/accounts/{account}/overdue", content=broken, headers=as_json
            )
        assert_problem(answer, status)
    async with client(stack, reader) as api:
        assert (await api.get(f"/v1/accounts/{account}")).status_code == 404  # nothing made
