"""The task page's customer forms over HTTP: an agent marks vulnerability and records the
customer's inconvenient times and refused channels; what the workflow refuses is answered
precisely and leaves no trace; what it accepts is audited (who, when, category) and shown."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from overdue.store.sealed_texts import open_text
from tests.integration.conftest import Stack
from tests.integration.console.conftest import User, csrf_of, logged_in
from tests.integration.support import decoded_history

pytestmark = pytest.mark.integration


async def _audit(stack: Stack, account: str, kind: str) -> list[Any]:
    return list(
        await stack.pool.fetch(
            "SELECT actor, details, occurred_at FROM audit_events"
            " WHERE account_id = $1 AND kind = $2",
            account,
            kind,
        )
    )


async def _post(browser: httpx.AsyncClient, task_id: int, **form: str) -> httpx.Response:
    page = await browser.get(f"/console/tasks/{task_id}")
    return await browser.post(
        f"/console/tasks/{task_id}/outcome", data={"csrf_token": csrf_of(page), **form}
    )


async def test_an_agent_marks_and_clears_vulnerability_with_a_category(
    stack: Stack, agent: User, specialist_task: tuple[str, int]
) -> None:
    account, task_id = specialist_task  # flagged vulnerable by the backend at start
    async with logged_in(stack, agent) as browser:
        await browser.post(
            "/console/tasks/next", data={"csrf_token": csrf_of(await browser.get("/console"))}
        )
        page = await browser.get(f"/console/tasks/{task_id}")
        assert 'data-testid="form-vulnerability"' in page.text
        assert 'data-testid="vulnerability">flagged by the backend' in page.text
        bad = await _post(browser, task_id, action="vulnerability", change="mark", category="sad")
        assert bad.status_code == 422
        assert "category must be one of elderly, disability, illness" in bad.text
        none = await _post(browser, task_id, action="vulnerability", change="mark")
        assert none.status_code == 422 and "category must be one of" in none.text
        marked = await _post(
            browser,
            task_id,
            action="vulnerability",
            change="mark",
            category="bereavement",
            note="lost her husband last month",
        )
        assert marked.status_code == 200, marked.text
        assert 'data-testid="vulnerability">bereavement · ' + agent.username in marked.text
        again = await _post(
            browser, task_id, action="vulnerability", change="mark", category="bereavement"
        )
        assert again.status_code == 422
        assert "already marked vulnerable (bereavement)" in again.text
        cleared = await _post(browser, task_id, action="vulnerability", change="clear")
        assert cleared.status_code == 200 and 'data-testid="vulnerability"' not in cleared.text
        twice = await _post(browser, task_id, action="vulnerability", change="clear")
        assert twice.status_code == 422 and "not marked vulnerable" in twice.text

    [mark] = await _audit(stack, account, "vulnerability.marked")
    assert mark["actor"] == agent.username and mark["occurred_at"] is not None
    details = stack_json(mark["details"])
    assert (details["category"], details["task_id"]) == ("bereavement", task_id)
    note = await stack.pool.fetchval(
        "SELECT text FROM free_texts WHERE id = $1", details["text_id"]
    )
    assert await open_text(stack.pool, note) == "lost her husband last month"
    assert len(await _audit(stack, account, "vulnerability.cleared")) == 1
    history = await decoded_history(stack, account)
    assert '"category":"bereavement"' in history  # payloads are read, decoded
    assert "husband" not in history


async def test_an_agent_records_inconvenient_times_and_refused_channels(
    stack: Stack, agent: User, specialist_task: tuple[str, int]
) -> None:
    account, task_id = specialist_task
    async with logged_in(stack, agent) as browser:
        await browser.post(
            "/console/tasks/next", data={"csrf_token": csrf_of(await browser.get("/console"))}
        )
        refusals = {
            "weekdays 12:00-14:00\nwed 13:00-15:00": "overlap on Wed: merge them",
            "mon 12:00-12:00": "is empty: its end must be after its start",
            "\n".join(f"mon {h:02}:00-{h:02}:30" for h in range(9)): "at most 8 inconvenient",
            "someday 12:00-13:00": "write mon..sun",
            "mon 25:00-26:00": "is not a time of day",
            "daily 00:00-24:00": "cover the whole contact window",
        }
        for typed, reason in refusals.items():
            answer = await _post(browser, task_id, action="preferences", inconvenient_times=typed)
            assert answer.status_code == 422, (typed, answer.status_code)
            assert reason in answer.text, (typed, answer.text)
        assert await _audit(stack, account, "contact_preferences.set") == []

        saved = await _post(
            browser,
            task_id,
            action="preferences",
            inconvenient_times="weekdays 12:00-14:00\nsat,sun 20:00-24:00",
            refuse_sms="on",
        )
        assert saved.status_code == 200, saved.text
        # The refused channel reads as a word ("SMS"), not its id.
        shown = "Mon,Tue,Wed,Thu,Fri 12:00-14:00; Sat,Sun 20:00-24:00 · refused: SMS"
        assert shown in saved.text
        # The form shows what is recorded, to edit it.
        assert "mon,tue,wed,thu,fri 12:00-14:00\nsat,sun 20:00-24:00</textarea>" in saved.text

    [row] = await _audit(stack, account, "contact_preferences.set")
    assert row["actor"] == agent.username
    assert stack_json(row["details"])["refused_channels"] == ["sms"]
    status = (await stack.api.get(f"/v1/accounts/{account}")).json()
    assert status["preferences"]["refused_channels"] == ["sms"]
    assert len(status["preferences"]["inconvenient_times"]) == 2


def stack_json(value: Any) -> dict[str, Any]:
    """asyncpg hands jsonb over as text unless a codec is set."""
    return value if isinstance(value, dict) else dict(json.loads(value))
