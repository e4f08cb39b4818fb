"""`overdue export-personal-data ACCOUNT [--output FILE]`: the same use case as the API's, as an
operator runs it for a data-subject request."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from overdue.subject_access import ACCESSED_KIND
from tests.integration.conftest import Stack
from tests.integration.side_effects.test_erasure_cli import overdue
from tests.integration.support import NAME, PHONE, new_account, start_account

pytestmark = pytest.mark.integration


async def _accesses(stack: Stack, account: str) -> list[str]:
    rows = await stack.pool.fetch(
        "SELECT actor FROM audit_events WHERE account_id = $1 AND kind = $2 ORDER BY chain_seq",
        account,
        ACCESSED_KIND,
    )
    return [r["actor"] for r in rows]


async def test_export_prints_or_writes_the_account_and_refuses_what_it_must(
    stack: Stack, tmp_path: Path
) -> None:
    bad = await overdue(stack, "export-personal-data", "no spaces allowed")
    assert bad.returncode == 2 and "not an account id" in bad.stderr
    unknown = await overdue(stack, "export-personal-data", new_account())
    assert unknown.returncode == 1 and "unknown account" in unknown.stderr
    assert "Traceback" not in unknown.stderr

    account = await start_account(stack)
    nowhere = tmp_path / "missing" / "export.json"
    refused = await overdue(stack, "export-personal-data", account, "--output", str(nowhere))
    assert refused.returncode == 2 and "not writable" in refused.stderr
    assert not nowhere.parent.exists()
    assert await _accesses(stack, account) == []  # refused before anything was read

    printed = await overdue(stack, "export-personal-data", account, "--actor", "ops:dpo")
    assert printed.returncode == 0, printed.stderr
    data = json.loads(printed.stdout)
    assert data["account_id"] == account and data["erased"] is None
    assert (data["contact"]["name"], data["contact"]["phone"]) == (NAME, PHONE)

    target = tmp_path / "export.json"
    written = await overdue(stack, "export-personal-data", account, "--output", str(target))
    assert written.returncode == 0, written.stderr
    assert str(target) in written.stdout and NAME not in written.stdout
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # personal data: its owner only
    assert json.loads(target.read_text())["contact"]["name"] == NAME
    actors = await _accesses(stack, account)
    assert len(actors) == 2 and actors[0] == "ops:dpo" and actors[1].startswith("ops:")
