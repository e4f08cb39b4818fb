"""Personal text at rest: every body and typed text is sealed with its subject's data key
(`overdue.privacy_keys`) before it is written, and opened here when it is read.

The one module that reads and writes `data_keys`. A subject's key is made the first time a
text is sealed for it; erasing the subject destroys it (the row stays as a tombstone, so the
erasure is known and a text can never again be sealed for that subject). A token whose key is
destroyed reads as `ERASED`; a value that is not a token (a text sealed by no one: an ops
reason from before the migration that sealed them) reads as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from overdue.privacy_keys import (
    SHARED_SUBJECT,
    Unreadable,
    is_sealed,
    keyring,
    open_token,
    seal,
    subject_of,
)
from overdue.store.transactions import Db, transaction

ERASED = "[erased]"  # what readers show where an erased account's text was


class SubjectErased(Exception):
    """The subject's data key was destroyed (its account erased): nothing more is sealed."""

    def __init__(self, subject: str) -> None:
        super().__init__(f"account {subject!r} was erased: its texts can no longer be kept")
        self.subject = subject


async def _data_key(db: Db, subject: str) -> bytes | None:
    """The subject's data key, made on first use; None when it was destroyed."""
    known = await _existing_keys(db, [subject])
    if subject in known:
        return known[subject]
    ring = keyring()
    await db.execute(
        """
        INSERT INTO data_keys (subject, wrapped_key, master_key_id) VALUES ($1, $2, $3)
        ON CONFLICT (subject) DO NOTHING
        """,
        subject,
        ring.wrap(subject, ring.new_data_key()),
        ring.master_key_id,
    )
    return (await _existing_keys(db, [subject]))[subject]  # a concurrent writer's may win


async def _existing_keys(db: Db, subjects: Iterable[str]) -> dict[str, bytes | None]:
    """The subjects' data keys as stored (None: destroyed); subjects with none are absent."""
    ring = keyring()
    rows = await db.fetch(
        "SELECT subject, wrapped_key FROM data_keys WHERE subject = ANY($1::text[])",
        sorted(set(subjects)),
    )
    return {
        r["subject"]: (
            None if r["wrapped_key"] is None else ring.unwrap(r["subject"], r["wrapped_key"])
        )
        for r in rows
    }


async def data_key_of(db: Db, subject: str) -> bytes | None:
    """The subject's data key (made on first use) for a sibling that seals bytes
    (`overdue.store.sealed_files`); None when it was destroyed."""
    return await _data_key(db, subject)


async def seal_text(db: Db, subject: str | None, text: str) -> str:
    """The token to store for `text`, sealed for the account (`None`: the shared subject)."""
    subject = subject or SHARED_SUBJECT
    data_key = await _data_key(db, subject)
    if data_key is None:
        raise SubjectErased(subject)
    return seal(data_key, subject, text)


async def open_texts(
    db: Db, values: Iterable[str | None], *, erased: str | None = ERASED
) -> list[str | None]:
    """The stored values opened, in order: a token whose key is gone reads as `erased`."""
    stored = list(values)
    tokens = [v for v in stored if v is not None and is_sealed(v)]
    keys = await _existing_keys(db, (subject_of(t) for t in tokens)) if tokens else {}
    opened: list[str | None] = []
    for value in stored:
        if value is None or not is_sealed(value):
            opened.append(value)
            continue
        data_key = keys.get(subject_of(value))
        opened.append(erased if data_key is None else open_token(data_key, value))
    return opened


async def open_text(db: Db, value: str | None, *, erased: str | None = ERASED) -> str | None:
    return (await open_texts(db, [value], erased=erased))[0]


async def is_erased(db: Db, subject: str) -> bool:
    """Whether the subject's data key was destroyed."""
    return bool(
        await db.fetchval(
            "SELECT destroyed_at IS NOT NULL FROM data_keys WHERE subject = $1", subject
        )
    )


async def destroy_key(db: Db, subject: str) -> bool:
    """Destroy the subject's data key (a tombstone if it had none); False when it was gone."""
    destroyed: bool | None = await db.fetchval(
        """
        INSERT INTO data_keys (subject, wrapped_key, master_key_id, destroyed_at)
        VALUES ($1, NULL, NULL, now())
        ON CONFLICT (subject) DO UPDATE
           SET wrapped_key = NULL, master_key_id = NULL, destroyed_at = now()
         WHERE data_keys.destroyed_at IS NULL
        RETURNING true
        """,
        subject,
    )
    return bool(destroyed)


@dataclass(frozen=True)
class Rewrapped:
    """One batch of `rewrap`: how many data keys moved to the current master key, how many
    open with none of the configured keys (left as they are), and where to go on from."""

    moved: int
    unreadable: int
    last_subject: str | None  # None: no row after the cursor


async def rewrap(db: Db, *, after: str = "", limit: int = 500) -> Rewrapped:
    """Wrap again, under the current master key, the next `limit` live data keys (by subject,
    after `after`) that another key wrapped: the step of a master-key rotation. The data keys
    themselves do not change, so every sealed text still opens. Idempotent."""
    ring = keyring()
    async with transaction(db) as conn:
        rows = await conn.fetch(
            """
            SELECT subject, wrapped_key FROM data_keys
             WHERE subject > $1 AND wrapped_key IS NOT NULL
               AND master_key_id IS DISTINCT FROM $2
             ORDER BY subject LIMIT $3 FOR UPDATE SKIP LOCKED
            """,
            after,
            ring.master_key_id,
            limit,
        )
        moved = unreadable = 0
        for row in rows:
            try:
                data_key = ring.unwrap(row["subject"], row["wrapped_key"])
            except Unreadable:
                unreadable += 1
                continue
            await conn.execute(
                "UPDATE data_keys SET wrapped_key = $2, master_key_id = $3 WHERE subject = $1",
                row["subject"],
                ring.wrap(row["subject"], data_key),
                ring.master_key_id,
            )
            moved += 1
    return Rewrapped(moved, unreadable, rows[-1]["subject"] if rows else None)


async def wrapped_by_other_keys(db: Db) -> dict[str | None, int]:
    """Live data keys not under the current master key, by the id of the key that wrapped
    them (not secret)."""
    rows = await db.fetch(
        """
        SELECT master_key_id, count(*) AS n FROM data_keys
         WHERE wrapped_key IS NOT NULL AND master_key_id IS DISTINCT FROM $1
         GROUP BY master_key_id ORDER BY master_key_id
        """,
        keyring().master_key_id,
    )
    return {r["master_key_id"]: r["n"] for r in rows}


async def open_details(db: Db, details: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Audit details with the text joined back (`timeline.AUDIT_DETAILS`) opened."""
    texts = await open_texts(
        db, (d.get("text") if _is_token(d.get("text")) else None for d in details)
    )
    return [d if t is None else {**d, "text": t} for d, t in zip(details, texts, strict=True)]


def _is_token(value: object) -> bool:
    return isinstance(value, str) and is_sealed(value)
