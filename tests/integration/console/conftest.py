"""Console users and call tasks on the real stack."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from overdue.store.console_users import Role, add_user
from tests.integration.conftest import Stack
from tests.integration.support import eventually, start_account
from workflows.policy import CallQueue

PASSWORD = "a long enough test password"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    queue: CallQueue


async def make_user(stack: Stack, role: Role, queue: CallQueue = CallQueue.SPECIALIST) -> User:
    username = f"{role.value[:3]}{uuid.uuid4().hex[:8]}"
    async with stack.pool.acquire() as conn:
        await add_user(conn, username, PASSWORD, role, queue)
    return User(username, role, queue)


@pytest.fixture
async def agent(stack: Stack) -> User:
    return await make_user(stack, Role.AGENT)


@pytest.fixture
async def supervisor(stack: Stack) -> User:
    return await make_user(stack, Role.SUPERVISOR)


async def only_specialist_task(stack: Stack, **start: Any) -> tuple[str, int]:
    """A vulnerable customer's account (`start`: more for `start_account`), whose call task
    lands in the specialist queue; the only open task there, so "next task" claims it."""
    account = await start_account(stack, vulnerable=True, **start)
    task_id: int = await eventually(
        lambda: stack.pool.fetchval(
            "SELECT id FROM call_tasks WHERE account_id = $1 AND queue = 'specialist'", account
        )
    )
    await stack.pool.execute(
        """
        UPDATE call_tasks SET status = 'cancelled', updated_at = now()
         WHERE queue = 'specialist' AND status = 'open' AND id <> $1
        """,
        task_id,
    )
    return account, task_id


@pytest.fixture
async def specialist_task(stack: Stack) -> tuple[str, int]:
    return await only_specialist_task(stack)


def csrf_of(page: httpx.Response) -> str:
    found = _CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


def anonymous(stack: Stack, **headers: str) -> httpx.AsyncClient:
    """A cookie-keeping client without a session, like a fresh browser."""
    return httpx.AsyncClient(base_url=stack.settings.api_url, timeout=30, headers=headers)


@asynccontextmanager
async def logged_in(stack: Stack, user: User, **headers: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client with a console session for `user`."""
    async with anonymous(stack, **headers) as browser:
        form = await browser.get("/console/login")
        answer = await browser.post(
            "/console/login",
            data={"username": user.username, "password": PASSWORD, "csrf_token": csrf_of(form)},
        )
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/console"
        yield browser
