"""`overdue erase ACCOUNT`: the same use case as the API's, as an operator runs it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

from overdue.store.accounts import contact_details
from tests.integration.conftest import Stack
from tests.integration.side_effects.test_erasure_scan import pay_in_full
from tests.integration.support import new_account, start_account

pytestmark = pytest.mark.integration


async def overdue(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": stack.settings.require_database_url(),
        "OVERDUE_TEMPORAL_HOST": stack.settings.temporal_host,
        "OVERDUE_TEMPORAL_PORT": str(stack.settings.temporal_port),
    }
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "workers.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


async def _customer(stack: Stack, account: str) -> tuple[str, str]:
    details = await contact_details(stack.pool, account)
    assert details is not None
    return details.full_name, details.phone_e164


async def test_erase_refuses_what_it_must_and_erases_once(stack: Stack) -> None:
    bad = await overdue(stack, "erase", "no spaces allowed")
    assert bad.returncode == 2 and "not an account id" in bad.stderr

    unknown = await overdue(stack, "erase", new_account())
    assert unknown.returncode == 1 and "unknown account" in unknown.stderr

    account = await start_account(stack)
    kept = await _customer(stack, account)
    running = await overdue(stack, "erase", account, "--actor", "ops:dpo")
    assert running.returncode == 1 and "still running" in running.stderr
    assert "Traceback" not in running.stderr
    assert await _customer(stack, account) == kept  # a refused request changes nothing

    await pay_in_full(stack, account, amount_minor=50_000)
    erased = await overdue(stack, "erase", account, "--actor", "ops:dpo", "--json")
    assert erased.returncode == 0, erased.stderr
    summary = json.loads(erased.stdout)
    assert (summary["account_id"], summary["erased_by"]) == (account, "ops:dpo")
    assert summary["already_erased"] is False and summary["counts"]["customer_details"] == 1
    assert await _customer(stack, account) == ("[erased]", "")

    again = await overdue(stack, "erase", account)
    assert again.returncode == 0, again.stderr
    assert f"{account} was erased at {summary['erased_at']} by ops:dpo" in again.stdout
