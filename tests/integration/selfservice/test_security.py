"""Self-service refusals on the real stack: each is refused with nothing changed (the
workflow's status and every row self-service writes, `support.footprint`)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from activities.selfservice_link import TOKEN_BYTES
from overdue.store.selfservice_links import token_hash
from tests.integration.conftest import Stack
from tests.integration.selfservice.support import (
    PDF,
    PNG,
    Linked,
    fields,
    footprint,
    linked_account,
    passed_check,
)
from tests.integration.support import customer_today
from workers.cli.link_commands import revoke_links

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def _promise(link: Linked, hidden: dict[str, str]) -> tuple[str, dict[str, str]]:
    day = (customer_today() + timedelta(days=3)).isoformat()
    return f"{link.path}/promise", {"amount": "100", "promised_date": day, **hidden}


def _forms(link: Linked, home: httpx.Response) -> list[tuple[str, dict[str, str]]]:
    """Every form on the home page, filled validly, with the page's hidden fields."""
    p = link.path
    return [
        _promise(link, fields(home, f"{p}/promise")),
        (f"{p}/hardship", {"category": "illness", **fields(home, f"{p}/hardship")}),
        (f"{p}/dispute", {"category": "fees", **fields(home, f"{p}/dispute")}),
        (f"{p}/contact", {"refuse_sms": "on", **fields(home, f"{p}/contact")}),
        (f"{p}/forbearance", {"kind": "holiday", **fields(home, f"{p}/forbearance")}),
        (f"{p}/plan", {"instalments": "3", "form_key": "a" * 32, **_csrf(home, p)}),
    ]


def _csrf(home: httpx.Response, path: str) -> dict[str, str]:
    return {"csrf_token": fields(home, f"{path}/promise")["csrf_token"]}


async def test_every_form_refuses_a_missing_or_wrong_csrf_token(stack: Stack) -> None:
    link = await linked_account(stack)
    async with passed_check(stack, link) as borrower:
        home = await borrower.get(link.path)
        before = await footprint(stack, link.account)
        for action, data in _forms(link, home):
            for token in (None, "wrong-" + data["csrf_token"][6:]):
                sent = {k: v for k, v in data.items() if k != "csrf_token"}
                if token is not None:
                    sent["csrf_token"] = token
                answer = await borrower.post(action, data=sent)
                assert answer.status_code == 403, (action, answer.text)
        assert await footprint(stack, link.account) == before
        # The identity check's own form too: without its token, even the right value fails.
    fresh = httpx.AsyncClient(base_url=stack.settings.api_url)
    async with fresh:
        await fresh.get(link.path)
        answer = await fresh.post(f"{link.path}/check", data={"id_last4": "123X"})
        assert answer.status_code == 403
        assert (await fresh.get(link.path)).text.count('name="id_last4"') == 1


async def test_a_session_on_one_link_opens_nothing_on_another_accounts(stack: Stack) -> None:
    mine, theirs = await linked_account(stack), await linked_account(stack)
    async with passed_check(stack, mine) as borrower:
        home = await borrower.get(mine.path)
        before = await footprint(stack, theirs.account)
        other_page = await borrower.get(theirs.path)  # the identity check, not their account
        assert 'name="id_last4"' in other_page.text and "500.00" not in other_page.text
        action, data = _promise(mine, fields(home, f"{mine.path}/promise"))
        answer = await borrower.post(action.replace(mine.path, theirs.path), data=data)
        assert answer.status_code == 403
        # The session cookie is scoped to its link's path; sent by hand it opens nothing.
        cookie = borrower.cookies.get("overdue_selfservice")
        assert cookie
        forced = await borrower.post(
            action.replace(mine.path, theirs.path),
            data=data,
            headers={"Cookie": f"overdue_selfservice={cookie}"},
        )
        assert forced.status_code == 403
        assert await footprint(stack, theirs.account) == before


async def test_an_expired_link_is_refused_and_its_session_with_it(stack: Stack) -> None:
    link = await linked_account(stack)
    async with passed_check(stack, link) as borrower:
        home = await borrower.get(link.path)
        before = await footprint(stack, link.account)
        token = link.path.rsplit("/", 1)[-1]
        await stack.pool.execute(
            "UPDATE selfservice_links SET expires_at = now() - interval '1 second' "
            "WHERE token_hash = $1",
            token_hash(token),
        )
        assert (await borrower.get(link.path)).status_code == 410
        action, data = _promise(link, fields(home, f"{link.path}/promise"))
        assert (await borrower.post(action, data=data)).status_code == 410
        assert await footprint(stack, link.account) == before


async def test_a_revoked_link_is_refused_and_its_session_with_it(stack: Stack) -> None:
    link = await linked_account(stack)
    async with passed_check(stack, link) as borrower:
        home = await borrower.get(link.path)
        before = await footprint(stack, link.account)
        url = f"http://example.invalid{link.path}"
        out = _Out()
        assert (
            await revoke_links(
                stack.settings.require_database_url(), url.rsplit("/", 1)[-1], None, out=out
            )
            == 0
        )
        assert out.text == "revoked 1 link(s)\n"
        assert (await borrower.get(link.path)).status_code == 410
        action, data = _promise(link, fields(home, f"{link.path}/promise"))
        assert (await borrower.post(action, data=data)).status_code == 410
        after = await footprint(stack, link.account)
        assert after[:4] == before[:4] and after[4][:3] == before[4][:3]  # + the revoke's audit


class _Out:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)


async def test_wrong_identity_values_lock_the_link_after_five(stack: Stack) -> None:
    link = await linked_account(stack)
    async with httpx.AsyncClient(base_url=stack.settings.api_url) as borrower:
        for attempt in range(1, 6):
            page = await borrower.get(link.path)
            hidden = fields(page, f"{link.path}/check")
            answer = await borrower.post(f"{link.path}/check", data={"id_last4": "9999", **hidden})
            assert answer.status_code == (422 if attempt < 5 else 429), answer.text
            assert "500.00" not in answer.text
        locked = await borrower.get(link.path)
        assert locked.status_code == 429 and 'name="id_last4"' not in locked.text
        # The right value no longer opens it: the count is the link's, in Postgres.
        answer = await borrower.post(f"{link.path}/check", data={"id_last4": "123X", **hidden})
        assert answer.status_code == 429 and "overdue_selfservice=" not in str(answer.headers)
    failed = await stack.pool.fetchval(
        "SELECT failed_checks FROM selfservice_links WHERE token_hash = $1",
        token_hash(link.path.rsplit("/", 1)[-1]),
    )
    assert failed == 5


async def test_an_unknown_or_malformed_token_is_not_found(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.settings.api_url) as borrower:
        import secrets

        for token in (secrets.token_urlsafe(TOKEN_BYTES), "short", "a" * 65):
            assert (await borrower.get(f"/s/{token}")).status_code in (404, 422)


@pytest.mark.parametrize(
    ("name", "mime", "content"),
    [
        ("scan.pdf", "application/pdf", PNG),  # a PNG named .pdf
        ("notes.pdf", "application/pdf", b"just some text, not a PDF at all\n"),
        ("photo.png", "image/png", PDF),  # a PDF named .png
        ("receipt.pdf", "image/png", PDF),  # the declared type disagrees with the content
        ("big.pdf", "application/pdf", PDF + b"0" * 2_097_152),  # over 2 MiB
        ("empty.png", "image/png", b""),
    ],
)
async def test_evidence_files_are_judged_by_content_and_size(
    stack: Stack, name: str, mime: str, content: bytes
) -> None:
    link = await linked_account(stack)
    async with passed_check(stack, link) as borrower:
        home = await borrower.get(link.path)
        before = await footprint(stack, link.account)
        answer = await borrower.post(
            f"{link.path}/dispute",
            data={
                "category": "fees",
                "explanation": "see file",
                **fields(home, f"{link.path}/dispute"),
            },
            files={"evidence": (name, content, mime)},
        )
        assert answer.status_code == 422, answer.text
        assert await footprint(stack, link.account) == before


async def test_a_body_over_the_upload_limit_is_refused_before_it_is_read(stack: Stack) -> None:
    link = await linked_account(stack)
    async with passed_check(stack, link) as borrower:
        home = await borrower.get(link.path)
        before = await footprint(stack, link.account)
        huge = PDF + b"0" * (stack.settings.selfservice_max_body_bytes + 1)
        answer = await borrower.post(
            f"{link.path}/hardship",
            data={"category": "illness", **fields(home, f"{link.path}/hardship")},
            files={"evidence": ("big.pdf", huge, "application/pdf")},
        )
        assert answer.status_code == 413
        assert await footprint(stack, link.account) == before


async def test_a_form_sent_twice_is_one_event(stack: Stack) -> None:
    link = await linked_account(stack)
    async with passed_check(stack, link) as borrower:
        home = await borrower.get(link.path)
        data = {"category": "illness", **fields(home, f"{link.path}/hardship")}
        first = await borrower.post(f"{link.path}/hardship", data=data)
        assert first.status_code == 303 and first.headers["location"].endswith("done=hardship")
        again = await borrower.post(f"{link.path}/hardship", data=data)
        assert again.status_code == 303 and again.headers["location"].endswith("done=again")
        count = await stack.pool.fetchval(
            "SELECT count(*) FROM selfservice_submissions WHERE account_id = $1", link.account
        )
        assert count == 1


async def test_a_refused_promise_changes_nothing(stack: Stack) -> None:
    """The workflow's own validator (the promise is beyond the policy's 14 days)."""
    link = await linked_account(stack)
    async with passed_check(stack, link) as borrower:
        home = await borrower.get(link.path)
        before = await footprint(stack, link.account)
        action, data = _promise(link, fields(home, f"{link.path}/promise"))
        data["promised_date"] = (customer_today() + timedelta(days=60)).isoformat()
        answer = await borrower.post(action, data=data)
        assert answer.status_code == 422 and "Not accepted" in answer.text
        assert await footprint(stack, link.account) == before


async def test_a_link_opened_too_often_is_rate_limited(stack: Stack) -> None:
    link = await linked_account(stack)
    hashed = token_hash(link.path.rsplit("/", 1)[-1])
    await stack.pool.execute(
        "UPDATE selfservice_links SET opens = $2, opens_since = now() WHERE token_hash = $1",
        hashed,
        stack.settings.selfservice_opens_per_hour,
    )
    async with httpx.AsyncClient(base_url=stack.settings.api_url) as borrower:
        assert (await borrower.get(link.path)).status_code == 429
        # A new window once the hour is over.
        await stack.pool.execute(
            "UPDATE selfservice_links SET opens_since = now() - interval '61 minutes' "
            "WHERE token_hash = $1",
            hashed,
        )
        assert (await borrower.get(link.path)).status_code == 200
