"""The API shelves policy versions other processes stored (api/policy_versions_seen.py), so a
console page names a stage of any version a process was started with; at most once a minute."""

from __future__ import annotations

import hashlib
import json
import logging
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


async def test_a_stored_version_that_is_no_policy_today_is_skipped_not_a_failed_page(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    """A model change can leave a stored body that no longer validates: the page goes on, the
    version is logged once and skipped, and the others are still shelved."""
    bad = {"id": f"gone-{uuid.uuid4().hex[:8]}", "promise": {"grace_days": 1}}
    bad_digest = hashlib.sha256(json.dumps(bad).encode()).hexdigest()
    good = load_policy(ROOT / "policies" / "default.yaml").model_copy(
        update={"id": f"kept-{uuid.uuid4().hex[:8]}"}
    )
    good_body = shelf.canonical(good)
    good_digest = hashlib.sha256(good_body).hexdigest()
    for digest, policy_id, body in (
        (bad_digest, bad["id"], json.dumps(bad)),
        (good_digest, good.id, good_body.decode()),
    ):
        await stack.pool.execute(
            "INSERT INTO policy_versions (digest, policy_id, version, body) VALUES ($1, $2, 1, $3)",
            digest,
            policy_id,
            body,
        )
    seen = PolicyVersionsSeen()
    with caplog.at_level(logging.WARNING, logger="api.policy_versions_seen"):
        assert await seen.refresh(stack.pool, now=0.0)
        assert await seen.refresh(stack.pool, now=REFRESH_EVERY)  # looks again, logs no more
    assert bad_digest in seen.unreadable and shelf.take(bad_digest) is None
    assert shelf.take(good_digest) == good
    said = [r.getMessage() for r in caplog.records if bad_digest in r.getMessage()]
    assert len(said) == 1 and "is not a policy today (ValidationError)" in said[0]
