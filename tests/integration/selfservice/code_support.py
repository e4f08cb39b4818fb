"""The one-time code on the real stack: a linked account without `id_last4`, its code as the
recording provider got it, and the check page's forms."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.integration.conftest import Stack
from tests.integration.selfservice.support import Linked, fields, linked_account

CODE = re.compile(r"(?<![0-9])([0-9]{6})(?![0-9])")


async def code_account(stack: Stack, **start: Any) -> Linked:
    """A new account whose backend supplied no `id_last4`: its link asks for a code."""
    return await linked_account(stack, id_last4=None, **start)


def code_messages(stack: Stack, account: str) -> list[str]:
    """The bodies of the account's code SMS the provider got, in order."""
    return [
        message.body
        for message, _ in list(stack.sender.sent.values())
        if message.idempotency_key.startswith(f"{account}/")
        and "/selfservice_code/" in message.idempotency_key
    ]


def code_in(body: str) -> str:
    found = CODE.search(body)
    assert found, body
    return found.group(1)


async def ask_for_code(
    borrower: httpx.AsyncClient, link: Linked, page: httpx.Response | None = None
) -> tuple[httpx.Response, dict[str, str]]:
    """Press "send me a code" on the page (the link's check page unless given); the answer
    and the form sent."""
    page = page or await borrower.get(link.path)
    assert page.status_code in (200, 422), page.text
    form = fields(page, f"{link.path}/code/send")
    return await borrower.post(f"{link.path}/code/send", data=form), form


async def enter_code(
    borrower: httpx.AsyncClient, link: Linked, code: str, page: httpx.Response | None = None
) -> httpx.Response:
    page = page or await borrower.get(f"{link.path}/code")
    form = fields(page, f"{link.path}/code")
    return await borrower.post(f"{link.path}/code", data={"code": code, **form})
