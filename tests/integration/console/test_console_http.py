"""The console over plain HTTP: login, sessions, CSRF, who may do what, audited reveals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from overdue.store.console_users import Role
from overdue.store.sealed_texts import open_text
from tests.integration.conftest import Stack
from tests.integration.console.conftest import (
    PASSWORD,
    User,
    anonymous,
    csrf_of,
    logged_in,
    make_user,
)
from tests.integration.support import customer_today, decoded_history, eventually

pytestmark = pytest.mark.integration


async def test_login_sets_a_locked_down_session_cookie(stack: Stack, agent: User) -> None:
    async with logged_in(stack, agent) as browser:
        cookie = next(c for c in browser.cookies.jar if c.name == "overdue_session")
        assert cookie.path == "/console"
        assert cookie.has_nonstandard_attr("HttpOnly")
        raw = await _raw_login_cookie(stack, agent)
        assert "HttpOnly" in raw and "SameSite=lax" in raw and "Path=/console" in raw
        assert "Secure" not in raw  # plain http here; Secure when served over https
        home = await browser.get("/console")
        assert home.status_code == 200
        assert agent.username in home.text
        assert home.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in home.headers["content-security-policy"]
        # Logging out ends the session on the server, not just in the browser.
        token = cookie.value or ""
        out = await browser.post("/console/logout", data={"csrf_token": csrf_of(home)})
        assert out.status_code == 303
    async with anonymous(stack) as stolen:
        stolen.cookies.set("overdue_session", token, path="/console")
        assert (await stolen.get("/console")).headers["location"] == "/console/login"


async def _raw_login_cookie(stack: Stack, user: User) -> str:
    async with anonymous(stack) as fresh:
        form = await fresh.get("/console/login")
        answer = await fresh.post(
            "/console/login",
            data={"username": user.username, "password": PASSWORD, "csrf_token": csrf_of(form)},
        )
    return next(v for v in answer.headers.get_list("set-cookie") if "overdue_session=" in v)


async def test_wrong_password_and_missing_csrf_are_refused(stack: Stack, agent: User) -> None:
    async with anonymous(stack) as browser:
        form = await browser.get("/console/login")
        wrong = await browser.post(
            "/console/login",
            data={
                "username": agent.username,
                "password": "not the password",
                "csrf_token": csrf_of(form),
            },
        )
        assert wrong.status_code == 401
        assert "overdue_session" not in wrong.headers.get("set-cookie", "")
        forged = await browser.post(
            "/console/login",
            data={"username": agent.username, "password": PASSWORD, "csrf_token": "forged"},
        )
        assert forged.status_code == 403
        assert (await browser.get("/console")).headers["location"] == "/console/login"
    async with logged_in(stack, agent) as browser:
        no_token = await browser.post("/console/tasks/next", data={})
        assert no_token.status_code == 403
        assert "form expired" in no_token.text


async def test_language_follows_the_browser_then_the_switch(stack: Stack, agent: User) -> None:
    async with logged_in(stack, agent, **{"Accept-Language": "zh-CN,zh;q=0.9"}) as browser:
        assert "我的队列" in (await browser.get("/console")).text
        switched = await browser.get("/console/lang", params={"to": "en", "next": "/console"})
        assert switched.status_code == 303
        assert "My queue" in (await browser.get("/console")).text
        away = await browser.get("/console/lang", params={"to": "en", "next": "//evil.example"})
        assert away.headers["location"] == "/console"


async def test_agents_cannot_use_supervisor_pages_or_others_tasks(
    stack: Stack, agent: User, specialist_task: tuple[str, int]
) -> None:
    account, task_id = specialist_task
    other = await make_user(stack, Role.AGENT)
    async with logged_in(stack, agent) as mine, logged_in(stack, other) as theirs:
        claimed = await mine.post(
            "/console/tasks/next", data={"csrf_token": csrf_of(await mine.get("/console"))}
        )
        assert claimed.headers["location"] == f"/console/tasks/{task_id}"
        page = await theirs.get(f"/console/tasks/{task_id}")
        assert page.status_code == 403
        token = csrf_of(await theirs.get("/console"))
        acted = await theirs.post(
            f"/console/tasks/{task_id}/outcome",
            data={"csrf_token": token, "action": "call", "outcome": "no_answer"},
        )
        assert acted.status_code == 403
        assert (await theirs.get("/console/escalations")).status_code == 403
        assert (await theirs.get(f"/console/accounts/{account}")).status_code == 403
    outcomes = await stack.pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE account_id = $1 AND kind = 'call.outcome'",
        account,
    )
    assert outcomes == 0


async def test_phone_is_masked_until_revealed_and_the_reveal_is_audited(
    stack: Stack, agent: User, specialist_task: tuple[str, int]
) -> None:
    account, task_id = specialist_task
    async with logged_in(stack, agent) as browser:
        await browser.post(
            "/console/tasks/next", data={"csrf_token": csrf_of(await browser.get("/console"))}
        )
        page = await browser.get(f"/console/tasks/{task_id}")
        assert "+86 *******5678" in page.text and "+8613912345678" not in page.text
        revealed = await browser.post(
            f"/console/tasks/{task_id}/reveal-phone", data={"csrf_token": csrf_of(page)}
        )
        assert "+8613912345678" in revealed.text
    row = await stack.pool.fetchrow(
        "SELECT actor, details FROM audit_events WHERE account_id = $1 AND kind = $2",
        account,
        "contact.phone_revealed",
    )
    assert row is not None and row["actor"] == agent.username


async def test_a_rejected_promise_shows_the_reason_and_keeps_the_input(
    stack: Stack, agent: User, specialist_task: tuple[str, int]
) -> None:
    account, task_id = specialist_task
    # A valid date whatever today is (a fixed one becomes "in the past" some day).
    promised = (customer_today() + timedelta(days=3)).isoformat()
    async with logged_in(stack, agent) as browser:
        await browser.post(
            "/console/tasks/next", data={"csrf_token": csrf_of(await browser.get("/console"))}
        )
        page = await browser.get(f"/console/tasks/{task_id}")
        too_much = await browser.post(
            f"/console/tasks/{task_id}/outcome",
            data={
                "csrf_token": csrf_of(page),
                "action": "promise",
                "amount": "99999.99",
                "promised_date": promised,
            },
        )
        assert too_much.status_code == 422
        assert "exceeds the balance" in too_much.text
        assert 'value="99999.99"' in too_much.text and f'value="{promised}"' in too_much.text
        garbled = await browser.post(
            f"/console/tasks/{task_id}/outcome",
            data={
                "csrf_token": csrf_of(page),
                "action": "promise",
                "amount": "ten",
                "promised_date": promised,
            },
        )
        assert garbled.status_code == 422 and 'value="ten"' in garbled.text
    assert not await stack.pool.fetchval(
        "SELECT 1 FROM audit_events WHERE account_id = $1 AND kind = 'promise.recorded'", account
    )


async def test_supervisor_pauses_and_resumes_and_sees_the_timeline(
    stack: Stack, supervisor: User, specialist_task: tuple[str, int]
) -> None:
    account, _ = specialist_task
    async with logged_in(stack, supervisor) as browser:
        page = await browser.get(f"/console/accounts/{account}")
        assert page.status_code == 200 and "process.started" in page.text
        paused = await browser.post(
            f"/console/accounts/{account}/actions",
            data={"csrf_token": csrf_of(page), "action": "pause", "reason": "<b>in hospital</b>"},
        )
        assert paused.status_code == 200, paused.text
        assert 'data-state="paused"' in paused.text
        assert "&lt;b&gt;in hospital&lt;/b&gt;" in paused.text  # escaped, never markup
        assert "<b>in hospital" not in paused.text
        again = await browser.post(
            f"/console/accounts/{account}/actions",
            data={"csrf_token": csrf_of(page), "action": "pause", "reason": "twice"},
        )
        assert again.status_code == 422  # the workflow's validator refuses a second pause
        resumed = await browser.post(
            f"/console/accounts/{account}/actions",
            data={"csrf_token": csrf_of(page), "action": "resume", "reason": "discharged"},
        )
        assert 'data-state="paused"' not in resumed.text
        assert (await browser.get("/console/escalations")).status_code == 200
    kinds = [
        r["kind"]
        for r in await stack.pool.fetch(
            "SELECT kind FROM audit_events WHERE account_id = $1 AND actor = $2 ORDER BY id",
            account,
            supervisor.username,
        )
    ]
    assert kinds == ["account.paused", "account.resumed"]


async def test_agent_records_outcomes_escalates_and_finishes_the_task(
    stack: Stack, agent: User, supervisor: User, specialist_task: tuple[str, int]
) -> None:
    account, task_id = specialist_task
    async with logged_in(stack, agent) as browser:
        await browser.post(
            "/console/tasks/next", data={"csrf_token": csrf_of(await browser.get("/console"))}
        )
        token = csrf_of(await browser.get(f"/console/tasks/{task_id}"))
        outcome = f"/console/tasks/{task_id}/outcome"
        no_answer = await browser.post(
            outcome,
            data={
                "csrf_token": token,
                "action": "call",
                "outcome": "no_answer",
                "note": "tried twice, left word",
            },
        )
        assert no_answer.status_code == 200, no_answer.text
        escalated = await browser.post(
            outcome, data={"csrf_token": token, "action": "escalate", "reason": "refuses plans"}
        )
        assert 'data-state="escalated"' in escalated.text
        finished = await browser.post(
            f"/console/tasks/{task_id}/finish", data={"csrf_token": token}
        )
        assert finished.status_code == 303
        closed = await browser.post(
            outcome, data={"csrf_token": token, "action": "call", "outcome": "reached"}
        )
        assert closed.status_code == 409
    task = await stack.pool.fetchrow(
        "SELECT status, outcome FROM call_tasks WHERE id = $1", task_id
    )
    assert (task["status"], task["outcome"]) == ("done", "account.escalated")
    notes = await stack.pool.fetchval(
        """
        SELECT t.text FROM audit_events a JOIN free_texts t ON t.id = a.details ->> 'text_id'
         WHERE a.account_id = $1 AND a.kind = $2
        """,
        account,
        "call.outcome",
    )
    assert (
        await open_text(stack.pool, notes) == "tried twice, left word"
    )  # the note is kept here, not in the workflow's history
    assert "tried twice, left word" not in await decoded_history(stack, account)

    async with logged_in(stack, supervisor) as browser:

        async def listed() -> bool:
            return account in (await browser.get("/console/escalations")).text

        assert await eventually(listed)


async def test_password_guessing_is_throttled_and_audited(stack: Stack, agent: User) -> None:
    """40 wrong passwords as fast as they go: at most 5 reach the password check, the rest are
    429 with Retry-After, and the audit trail records the lockout (never the password)."""
    guess = "guess-that-is-not-the-password"
    before = await stack.pool.fetchval("SELECT coalesce(max(id), 0) FROM audit_events")
    statuses: list[int] = []
    async with anonymous(stack) as browser:
        token = csrf_of(await browser.get("/console/login"))
        for _ in range(40):
            answer = await browser.post(
                "/console/login",
                data={"username": agent.username, "password": guess, "csrf_token": token},
            )
            statuses.append(answer.status_code)
            if answer.status_code == 429:
                assert int(answer.headers["Retry-After"]) >= 1
                assert "Too many attempts" in answer.text or "尝试次数过多" in answer.text
            token = csrf_of(answer)
        # The right password waits too: the lockout is the username's, not the guesser's.
        right = await browser.post(
            "/console/login",
            data={"username": agent.username, "password": PASSWORD, "csrf_token": token},
        )
        assert right.status_code == 429
    assert set(statuses) == {401, 429}
    assert statuses.count(401) <= 5
    rows = await stack.pool.fetch(
        "SELECT actor, details::text AS details FROM audit_events"
        " WHERE id > $1 AND kind = 'console.login_throttled'",
        before,
    )
    assert rows, "a throttled login is audited"
    assert len(rows) < 10, "once per lockout, not once per refused request"
    for row in rows:
        assert guess not in row["details"] and agent.username not in row["details"]
