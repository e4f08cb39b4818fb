"""Rotating the privacy master key (docs/operations.md, rotating keys), on a database of its
own and through the real `overdue master-key` commands (a subprocess with the keys in its
environment, as ops run it): data keys wrapped by the old key are wrapped again by the new one,
the data keys themselves and so every sealed text unchanged; then the old key can go. A data
key that no configured key opens is reported and left alone.

This process's own keyring is never swapped: the suite's worker and API run beside the test."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
import uuid

import asyncpg
import pytest

from overdue.migrate import upgrade_async
from overdue.privacy_keys import Keyring, key_id, open_token, seal
from overdue.settings import Settings

pytestmark = pytest.mark.integration


def _ring(master: bytes) -> Keyring:
    return Keyring(master_key=master, number_key=b"n" * 32)


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


async def _overdue(
    database_url: str, *args: str, master: bytes, previous: str = ""
) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {
        "OVERDUE_DATABASE_URL": database_url,
        "OVERDUE_PRIVACY_MASTER_KEY": _b64(master),
        "OVERDUE_PRIVACY_PREVIOUS_MASTER_KEYS": previous,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "workers.cli.main", "master-key", *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def _keep(
    db: asyncpg.Connection, master: bytes, subject: str, text: str
) -> tuple[bytes, str]:
    """A data key wrapped by `master` and a text sealed with it, as the product stores them."""
    ring = _ring(master)
    data_key = ring.new_data_key()
    await db.execute(
        "INSERT INTO data_keys (subject, wrapped_key, master_key_id) VALUES ($1, $2, $3)",
        subject,
        ring.wrap(subject, data_key),
        ring.master_key_id,
    )
    return data_key, seal(data_key, subject, text)


async def _unwrapped(db: asyncpg.Connection, master: bytes, subject: str) -> bytes:
    row = await db.fetchrow(
        "SELECT wrapped_key, master_key_id FROM data_keys WHERE subject = $1", subject
    )
    assert row is not None and row["master_key_id"] == key_id(master)
    return _ring(master).unwrap(subject, row["wrapped_key"])


async def test_a_rotation_rewraps_every_data_key_and_every_text_still_opens(
    scratch_database: str,
) -> None:
    old, new = os.urandom(32), os.urandom(32)
    await upgrade_async(scratch_database, "head")
    db = await asyncpg.connect(scratch_database)
    try:
        subjects = [f"acct-{uuid.uuid4().hex[:8]}" for _ in range(6)]
        kept = {s: await _keep(db, old, s, f"text of {s}") for s in subjects}
        await db.execute(  # an erased account: a tombstone, nothing to wrap
            "INSERT INTO data_keys (subject, destroyed_at) VALUES ('acct-erased', now())"
        )

        code, said = await _overdue(scratch_database, "status", master=new, previous=_b64(old))
        assert code == 1 and f"6 data key(s) wrapped by {key_id(old)}" in said, said
        code, said = await _overdue(
            scratch_database, "rewrap", "--batch", "4", master=new, previous=_b64(old)
        )
        assert code == 0 and f"6 data key(s) wrapped again by master key {key_id(new)}" in said
        code, said = await _overdue(scratch_database, "rewrap", master=new, previous=_b64(old))
        assert code == 0 and "0 data key(s) wrapped again" in said  # idempotent

        # The old key can go: each data key opens with the new one alone, and is the same key.
        code, said = await _overdue(scratch_database, "status", master=new)
        assert code == 0 and "every live data key is wrapped by it" in said, said
        for subject, (data_key, token) in kept.items():
            assert await _unwrapped(db, new, subject) == data_key
            assert open_token(data_key, token) == f"text of {subject}"
        assert (
            await db.fetchval("SELECT wrapped_key FROM data_keys WHERE subject = 'acct-erased'")
            is None
        )
        audited = await db.fetchval(
            "SELECT details::text FROM audit_events WHERE kind = 'privacy.master_key_rewrapped'"
            " ORDER BY id LIMIT 1"
        )
        assert key_id(old) in audited and '"moved": 6' in audited
        assert _b64(old) not in audited and _b64(new) not in audited  # ids, never keys
    finally:
        await db.close()


async def test_a_data_key_no_configured_key_opens_is_reported_and_left(
    scratch_database: str,
) -> None:
    lost, new = os.urandom(32), os.urandom(32)
    await upgrade_async(scratch_database, "head")
    db = await asyncpg.connect(scratch_database)
    try:
        data_key, _ = await _keep(db, lost, "acct-orphan", "sealed under a lost key")
        await _keep(db, new, "acct-fine", "sealed under the new key")
        code, said = await _overdue(scratch_database, "rewrap", master=new)
        assert code == 1 and f"1 left, wrapped by {key_id(lost)}" in said, said
        assert await _unwrapped(db, lost, "acct-orphan") == data_key  # untouched
    finally:
        await db.close()


def test_a_previous_key_that_is_not_a_key_is_refused() -> None:
    with pytest.raises(ValueError, match="key 2: must decode to 32 bytes"):
        Settings(privacy_previous_master_keys=f"{_b64(os.urandom(32))},abcd")
    good = [os.urandom(32), os.urandom(32)]
    listed = ", ".join(_b64(k) for k in good)
    assert Settings(privacy_previous_master_keys=listed).privacy_previous_keys == tuple(good)


def test_a_previous_key_unwraps_but_never_wraps() -> None:
    old, new = os.urandom(32), os.urandom(32)
    wrapped = _ring(old).wrap("acct-1", b"k" * 32)
    rotating = Keyring(master_key=new, number_key=b"n" * 32, previous_keys=(old,))
    assert rotating.unwrap("acct-1", wrapped) == b"k" * 32
    assert _ring(new).unwrap("acct-1", rotating.wrap("acct-1", b"k" * 32)) == b"k" * 32
