"""The one-time code by SMS (docs/self-service.md "The one-time code") on the real stack: the
dev server, Postgres, the workers and the recording provider."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from overdue.compliance_audit import Auditor, load_policies
from overdue.store import compliance_reads, contact_ledger, sms_consent
from overdue.store.selfservice_links import token_hash
from tests.integration.conftest import Stack
from tests.integration.selfservice.code_support import (
    ask_for_code,
    code_account,
    code_in,
    code_messages,
    enter_code,
)
from tests.integration.selfservice.support import Linked, fields, linked_account
from tests.integration.support import decoded_history, eventually

ROOT = Path(__file__).resolve().parents[3]
pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def _hash(link: Linked) -> bytes:
    return token_hash(link.path.rsplit("/", 1)[-1])


async def _rows(stack: Stack, link: Linked) -> int:
    count: int = await stack.pool.fetchval(
        "SELECT count(*) FROM selfservice_codes WHERE token_hash = $1", _hash(link)
    )
    return count


async def _back_in_time(stack: Stack, link: Linked, seconds: int) -> None:
    """As if the link's code requests (and codes) were made `seconds` earlier."""
    await stack.pool.execute(
        "UPDATE selfservice_codes SET requested_at = requested_at - make_interval(secs => $2), "
        "code_at = code_at - make_interval(secs => $2) WHERE token_hash = $1",
        _hash(link),
        seconds,
    )


async def _audited_clean(stack: Stack, link: Linked, since: datetime) -> None:
    """The compliance audit takes the code's SMS as asked for (basis `requested`): no window,
    no cap, and it does not count on the reminders' SMS cap."""
    policies, problems = load_policies([ROOT / "tests" / "policies" / "fast.yaml"])
    assert not problems
    async with stack.pool.acquire() as conn:
        page = await compliance_reads.receipts_page(conn, after=(since, 0), limit=1000)
    audited = [r for r in page if r.account_id == link.account]
    assert sorted((r.stage_id, r.basis) for r in audited) == [
        ("selfservice_code", "requested"),
        ("t1s_sms", "stage"),
    ]
    assert [v for r in audited for v in Auditor(policies).check(r)] == []
    code_receipt = next(r for r in audited if r.basis == "requested")
    assert (code_receipt.window_start, code_receipt.window_end) == (None, None)


async def test_a_code_is_sent_once_and_opens_the_page(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    since = datetime.now(UTC)
    link = await code_account(stack)
    async with httpx.AsyncClient(base_url=stack.settings.api_url, timeout=30) as borrower:
        check = await borrower.get(link.path)
        assert check.status_code == 200 and 'name="id_last4"' not in check.text
        assert "500.00" not in check.text  # nothing personal before the check
        answer, form = await ask_for_code(borrower, link, check)
        assert answer.status_code == 303 and answer.headers["location"].endswith("/code")
        bodies = code_messages(stack, link.account)
        assert len(bodies) == 1
        code = code_in(bodies[0])
        # The same form again (a double click, a retry): nothing more is sent.
        again = await borrower.post(f"{link.path}/code/send", data=form)
        assert again.status_code == 303
        assert code_messages(stack, link.account) == bodies
        assert await _rows(stack, link) == 1
        opened = await enter_code(borrower, link, code)
        assert opened.status_code == 303, opened.text
        home = await borrower.get(link.path)
        assert home.status_code == 200 and 'action="' + link.path + '/promise"' in home.text
        # Single use: the same code on a fresh client opens nothing.
    async with httpx.AsyncClient(base_url=stack.settings.api_url, timeout=30) as other:
        assert (await enter_code(other, link, code)).status_code == 422
    # The ledger keeps the body masked; Temporal and the logs never saw the code.
    ledger = [
        await contact_ledger.find(stack.pool, key, channel="sms", account_id=link.account)
        for (key,) in await stack.pool.fetch(
            "SELECT idempotency_key FROM contact_ledger WHERE account_id = $1 "
            "AND stage_id = 'selfservice_code'",
            link.account,
        )
    ]
    assert [(r.status, r.body) for r in ledger if r] == [
        ("sent", bodies[0].replace(code, "******"))
    ]
    sealed = await stack.pool.fetchval(
        "SELECT code_sealed FROM selfservice_codes WHERE token_hash = $1", _hash(link)
    )
    assert sealed is None
    await _audited_clean(stack, link, since)
    history = await decoded_history(stack, link.account)
    assert "send_selfservice_code" in history and code not in history
    assert all(code not in str(r.__dict__) for r in caplog.records)


async def test_wrong_codes_lock_the_link_after_five(stack: Stack) -> None:
    link = await code_account(stack)
    async with httpx.AsyncClient(base_url=stack.settings.api_url, timeout=30) as borrower:
        await ask_for_code(borrower, link)
        code = code_in(code_messages(stack, link.account)[0])
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for attempt in range(1, 6):
            answer = await enter_code(borrower, link, wrong if attempt % 2 else "12ab")
            assert answer.status_code == (422 if attempt < 5 else 429), answer.text
        # Locked: even the right code is refused, and no more codes are sent.
        page = await borrower.get(f"{link.path}/code")
        assert page.status_code == 429
        locked = await borrower.get(link.path)
        assert locked.status_code == 429 and "/code/send" not in locked.text
    failed = await stack.pool.fetchval(
        "SELECT failed_checks FROM selfservice_links WHERE token_hash = $1", _hash(link)
    )
    assert failed == 5
    assert len(code_messages(stack, link.account)) == 1


async def test_an_expired_code_is_refused(stack: Stack) -> None:
    link = await code_account(stack)
    async with httpx.AsyncClient(base_url=stack.settings.api_url, timeout=30) as borrower:
        await ask_for_code(borrower, link)
        code = code_in(code_messages(stack, link.account)[0])
        await _back_in_time(stack, link, 10 * 60 + 1)
        answer = await enter_code(borrower, link, code)
        assert answer.status_code == 422 and "overdue_selfservice=" not in str(answer.headers)


async def test_codes_are_capped_per_link(stack: Stack) -> None:
    link = await code_account(stack)
    async with httpx.AsyncClient(base_url=stack.settings.api_url, timeout=30) as borrower:
        first, _ = await ask_for_code(borrower, link)
        assert first.status_code == 303
        # One per minute: a new form at once is refused, nothing sent.
        soon, _ = await ask_for_code(borrower, link)
        assert soon.status_code == 429 and int(soon.headers["Retry-After"]) <= 60
        assert len(code_messages(stack, link.account)) == 1
        for _ in range(2):
            await _back_in_time(stack, link, 61)
            answer, _ = await ask_for_code(borrower, link)
            assert answer.status_code == 303
        assert len(code_messages(stack, link.account)) == 3
        # Three a day: the fourth is refused however long after the third.
        await _back_in_time(stack, link, 61)
        over, _ = await ask_for_code(borrower, link)
        assert over.status_code == 429, over.text
        assert int(over.headers["Retry-After"]) > 23 * 3600
        assert len(code_messages(stack, link.account)) == 3
        assert await _rows(stack, link) == 3


async def test_an_opted_out_number_gets_no_code(stack: Stack) -> None:
    phone = "+8613900001111"
    link = await code_account(stack, phone=phone)
    async with httpx.AsyncClient(base_url=stack.settings.api_url, timeout=30) as borrower:
        page = await borrower.get(link.path)  # the form, loaded before the STOP
        async with stack.pool.acquire() as conn:
            await sms_consent.set_consent(conn, phone, opted_out=True, source="test")
        answer, _ = await ask_for_code(borrower, link, page)
        assert answer.status_code == 200 and "call us" in answer.text
        # Opened after it, the page offers no code.
        again = await borrower.get(link.path)
        assert "call us" in again.text and "/code/send" not in again.text
    assert code_messages(stack, link.account) == []
    assert await _rows(stack, link) == 0


async def test_a_code_form_without_its_csrf_token_sends_nothing(stack: Stack) -> None:
    link = await code_account(stack)
    async with httpx.AsyncClient(base_url=stack.settings.api_url, timeout=30) as borrower:
        page = await borrower.get(link.path)
        form = fields(page, f"{link.path}/code/send")
        missing = {k: v for k, v in form.items() if k != "csrf_token"}
        assert (await borrower.post(f"{link.path}/code/send", data=missing)).status_code == 403
        wrong = {**form, "csrf_token": "x" * 43}
        assert (await borrower.post(f"{link.path}/code/send", data=wrong)).status_code == 403
        # And on entering a code.
        entered = await borrower.post(f"{link.path}/code", data={"code": "123456"})
        assert entered.status_code == 403
    async with httpx.AsyncClient(base_url=stack.settings.api_url, timeout=30) as stranger:
        # The form's own token, without the cookie it must match (another browser).
        assert (await stranger.post(f"{link.path}/code/send", data=form)).status_code == 403
    assert code_messages(stack, link.account) == []
    assert await _rows(stack, link) == 0

    async def none_sent() -> bool | None:
        return True if not code_messages(stack, link.account) else None

    assert await eventually(none_sent)


async def test_a_double_click_sends_one_code(stack: Stack) -> None:
    link = await code_account(stack)
    async with httpx.AsyncClient(base_url=stack.settings.api_url, timeout=30) as borrower:
        page = await borrower.get(link.path)
        form = fields(page, f"{link.path}/code/send")
        answers = await asyncio.gather(
            *(borrower.post(f"{link.path}/code/send", data=form) for _ in range(3))
        )
        assert [a.status_code for a in answers] == [303, 303, 303]
    assert len(code_messages(stack, link.account)) == 1
    assert await _rows(stack, link) == 1


async def test_withdrawn_sms_consent_gets_no_code(stack: Stack) -> None:
    link = await code_account(stack)
    async with httpx.AsyncClient(base_url=stack.settings.api_url, timeout=30) as borrower:
        page = await borrower.get(link.path)  # the form, loaded before the withdrawal
        withdraw = {
            "change_id": "chg-code",
            "channel": "sms",
            "action": "withdraw",
            "source": "app_settings",
            "at": datetime.now(UTC).isoformat(),
        }
        answer = await stack.api.post(f"/v1/accounts/{link.account}/consents", json=withdraw)
        assert answer.status_code == 201, answer.text
        asked, _ = await ask_for_code(borrower, link, page)
        assert asked.status_code == 200 and "call us" in asked.text
    assert code_messages(stack, link.account) == []


async def test_a_link_with_id_last4_takes_no_code(stack: Stack) -> None:
    link = await linked_account(stack)  # the backend supplied id_last4: that is the check
    async with httpx.AsyncClient(base_url=stack.settings.api_url, timeout=30) as borrower:
        page = await borrower.get(link.path)
        assert 'name="id_last4"' in page.text and "/code/send" not in page.text
        form = {**fields(page, f"{link.path}/check"), "form_key": "ab" * 16}
        answer = await borrower.post(f"{link.path}/code/send", data=form)
        assert answer.status_code == 303 and answer.headers["location"] == link.path
        assert (await borrower.get(f"{link.path}/code")).status_code == 303
    assert code_messages(stack, link.account) == []
    assert await _rows(stack, link) == 0


async def test_code_rows_go_two_days_after_they_were_asked(stack: Stack) -> None:
    link = await code_account(stack)
    async with httpx.AsyncClient(base_url=stack.settings.api_url, timeout=30) as borrower:
        await ask_for_code(borrower, link)
        await _back_in_time(stack, link, 2 * 24 * 3600 + 60)
        answer, _ = await ask_for_code(borrower, link)
        assert answer.status_code == 303
    assert await _rows(stack, link) == 1  # the new one; the old one (hashes only) deleted
    assert len(code_messages(stack, link.account)) == 2
