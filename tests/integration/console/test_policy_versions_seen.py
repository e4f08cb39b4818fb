"""The API shelves policy versions other processes stored (api/policy_versions_seen.py), so a
console page names a stage of any version a process was started with; at most once a minute."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

import workflows.policy_shelf as shelf
from api.policy_versions_seen import REFRESH_EVERY, PolicyVersionsSeen
from overdue.policy_files import load_policy
from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


async def test_versions_stored_elsewhere_are_shelved_at_most_once_a_minute(stack: Stack) -> None:
    seen = PolicyVersionsSeen()
    assert await seen.refresh(stack.pool, now=1000.0)  # the first page looks
    # Stored by another API process: in Postgres, not on this process's shelf.
    policy = load_policy(ROOT / "policies" / "default.yaml").model_copy(
        update={"id": f"seen-{uuid.uuid4().hex[:8]}"}
    )
    body = shelf.canonical(policy)
    digest = hashlib.sha256(body).hexdigest()
    await stack.pool.execute(
        "INSERT INTO policy_versions (digest, policy_id, version, body) VALUES ($1, $2, $3, $4)",
        digest,
        policy.id,
        policy.version,
        body.decode(),
    )
    assert shelf.take(digest) is None

    assert not await seen.refresh(stack.pool, now=1000.0 + REFRESH_EVERY - 1)
    assert shelf.take(digest) is None
    assert await seen.refresh(stack.pool, now=1000.0 + REFRESH_EVERY)
    assert shelf.take(digest) == policy
    assert policy in shelf.shelved_policies()
