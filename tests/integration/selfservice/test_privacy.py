"""Self-service's personal data at rest: evidence files and the ID's last 4 are sealed with the
account's data key, erasure removes both (and the link then shows nothing), the retention
purge's store function removes expired files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from overdue.store import sealed_files
from overdue.store.erasure import erase
from tests.integration.conftest import Stack
from tests.integration.selfservice.support import (
    ID_LAST4,
    PNG,
    fields,
    linked_account,
    passed_check,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


async def test_files_and_identity_are_sealed_and_erased(stack: Stack) -> None:
    link = await linked_account(stack)
    async with passed_check(stack, link) as borrower:
        home = await borrower.get(link.path)
        answer = await borrower.post(
            f"{link.path}/dispute",
            data={"category": "fees", **fields(home, f"{link.path}/dispute")},
            files={"evidence": ("receipt.png", PNG, "image/png")},
        )
        assert answer.status_code == 303, answer.text
    stored = await stack.pool.fetchrow(
        "SELECT sealed, size_bytes FROM selfservice_evidence WHERE account_id = $1",
        link.account,
    )
    assert stored["size_bytes"] == len(PNG) and PNG[:8] not in stored["sealed"]
    identity = await stack.pool.fetchval(
        "SELECT id_last4 FROM selfservice_identity WHERE account_id = $1", link.account
    )
    assert identity.startswith("sealed:v1:") and ID_LAST4 not in identity

    async with stack.pool.acquire() as conn, conn.transaction():
        done = await erase(conn, link.account, "test")
    assert (done.counts["evidence_files"], done.counts["identity_values"]) == (1, 1)
    assert await sealed_files.files_of(stack.pool, link.account) == []
    # The link now shows nothing: no identity check can pass (nothing to compare with).
    async with httpx.AsyncClient(base_url=stack.settings.api_url) as fresh:
        page = await fresh.get(link.path)
    assert page.status_code == 200 and 'name="id_last4"' not in page.text
    assert "call us" in page.text


async def test_the_retention_purge_removes_expired_files(stack: Stack) -> None:
    link = await linked_account(stack)
    await sealed_files.keep_file(
        stack.pool,
        account_id=link.account,
        form_key="e" * 32,
        content_type="image/png",
        content=PNG,
    )
    async with stack.pool.acquire() as conn:
        kept = await sealed_files.delete_expired_files(
            conn, datetime.now(UTC) - timedelta(days=1), 100
        )
        assert kept == 0 or await sealed_files.files_of(conn, link.account)
        removed = await sealed_files.delete_expired_files(
            conn, datetime.now(UTC) + timedelta(seconds=1), 10_000
        )
    assert removed >= 1
    assert await sealed_files.files_of(stack.pool, link.account) == []


async def test_subject_access_lists_what_self_service_holds(stack: Stack) -> None:
    link = await linked_account(stack)
    await sealed_files.keep_file(
        stack.pool,
        account_id=link.account,
        form_key="d" * 32,
        content_type="image/png",
        content=PNG,
    )
    answer = await stack.api.get(f"/v1/accounts/{link.account}/personal-data")
    assert answer.status_code == 200, answer.text
    held = answer.json()["self_service"]
    assert held["id_last4"] == ID_LAST4
    [listed] = held["evidence_files"]
    assert (listed["content_type"], listed["size_bytes"]) == ("image/png", len(PNG))
