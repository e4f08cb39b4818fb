"""Self-service on the real stack: an account whose SMS carried a link, and a borrower's
client that passed the identity check."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from tests.integration.conftest import Stack
from tests.integration.support import eventually, start_account

ID_LAST4 = "123X"
_LINK = re.compile(r"https?://[^\s/]+(/s/[A-Za-z0-9_-]+)")
_FIELD = re.compile(r'name="(csrf_token|form_key)" value="([^"]+)"')

# The smallest files of each kind (content decides, not the name).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005000201a5c7e2a50000000049454e44ae426082"
)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@dataclass(frozen=True)
class Linked:
    account: str
    path: str  # /s/<token>
    body: str  # the SMS as sent


async def linked_account(stack: Stack, *, locale: str = "en", **start: Any) -> Linked:
    """A new account started with an ID's last 4; its first SMS, and the link in it."""
    customer = {
        "name": "Li Na",
        "phone": start.pop("phone", "+8613912345678"),
        "time_zone": start.pop("time_zone", None) or _zone(),
        "locale": locale,
        "id_last4": start.pop("id_last4", ID_LAST4),
    }
    account = await start_account(stack, customer=customer, **start)

    async def sent() -> str | None:
        for message, _ in list(stack.sender.sent.values()):
            if message.idempotency_key.startswith(f"{account}/"):
                return message.body
        return None

    body = await eventually(sent)
    found = _LINK.search(body)
    assert found, body
    return Linked(account=account, path=found.group(1), body=body)


def _zone() -> str:
    from tests.integration.support import CUSTOMER_ZONE

    return CUSTOMER_ZONE


def fields(page: httpx.Response, action: str) -> dict[str, str]:
    """The hidden fields (CSRF token, idempotency key) of the form posting to `action`."""
    text = page.text
    start = text.index(f'action="{action}"')
    end = text.index("</form>", start)
    return dict(_FIELD.findall(text[start:end]))


@asynccontextmanager
async def passed_check(stack: Stack, link: Linked) -> AsyncIterator[httpx.AsyncClient]:
    """A borrower's client (keeps cookies) that passed the identity check on the link."""
    async with httpx.AsyncClient(base_url=stack.settings.api_url, timeout=30) as borrower:
        page = await borrower.get(link.path)
        assert page.status_code == 200, page.text
        answer = await borrower.post(
            f"{link.path}/check",
            data={"id_last4": ID_LAST4.lower(), **fields(page, f"{link.path}/check")},
        )
        assert answer.status_code == 303, answer.text
        yield borrower


async def status_of(stack: Stack, account: str) -> dict[str, Any]:
    answer = await stack.api.get(f"/v1/accounts/{account}")
    assert answer.status_code == 200, answer.text
    status: dict[str, Any] = answer.json()
    return status


async def footprint(stack: Stack, account: str) -> tuple[Any, ...]:
    """What a refused request must leave unchanged: the workflow's state and what it holds
    from the borrower, and every row self-service writes for the account."""
    status = await status_of(stack, account)
    counts = await stack.pool.fetchrow(
        """
        SELECT (SELECT count(*) FROM selfservice_submissions WHERE account_id = $1) AS submissions,
               (SELECT count(*) FROM selfservice_evidence WHERE account_id = $1) AS files,
               (SELECT count(*) FROM free_texts WHERE account_id = $1) AS texts,
               (SELECT count(*) FROM audit_events WHERE account_id = $1
                   AND kind LIKE 'selfservice.%') AS audits
        """,
        account,
    )
    return (
        status["state"],
        status["promise"],
        status["preferences"],
        status["open_disputes"],
        tuple(counts.values()),
    )
