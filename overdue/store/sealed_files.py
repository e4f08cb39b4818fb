"""Evidence files the borrower uploads (table `selfservice_evidence`): sealed with the
account's data key before they are written, like texts (`overdue.store.sealed_texts`), so an
erasure (which destroys the key) makes them unreadable, and deleted by erasure and retention.

The bytes are AES-GCM sealed (nonce + ciphertext) with the account id as associated data. Never
served without a borrower session for the account or an agent's console session (audited).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from overdue.store.sealed_texts import SubjectErased, data_key_of
from overdue.store.transactions import Db

_NONCE = 12


def _aad(account_id: str) -> bytes:
    return f"overdue evidence file for {account_id}".encode()


@dataclass(frozen=True)
class EvidenceFile:
    id: str
    account_id: str
    form_key: str
    content_type: str
    size_bytes: int
    created_at: datetime


async def keep_file(
    db: Db, *, account_id: str, form_key: str, content_type: str, content: bytes
) -> str:
    """Seal and store one file; its id."""
    data_key = await data_key_of(db, account_id)
    if data_key is None:
        raise SubjectErased(account_id)
    nonce = os.urandom(_NONCE)
    sealed = nonce + AESGCM(data_key).encrypt(nonce, content, _aad(account_id))
    file_id = f"ev-{uuid.uuid4().hex}"
    await db.execute(
        """
        INSERT INTO selfservice_evidence (id, account_id, form_key, content_type, size_bytes,
                                          sealed)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        file_id,
        account_id,
        form_key,
        content_type,
        len(content),
        sealed,
    )
    return file_id


async def files_of(db: Db, account_id: str) -> list[EvidenceFile]:
    rows = await db.fetch(
        """
        SELECT id, account_id, form_key, content_type, size_bytes, created_at
          FROM selfservice_evidence WHERE account_id = $1 AND sealed IS NOT NULL
         ORDER BY created_at, id
        """,
        account_id,
    )
    return [EvidenceFile(**dict(r)) for r in rows]


async def open_file(db: Db, account_id: str, file_id: str) -> tuple[str, bytes] | None:
    """The file's content type and bytes; None when absent, of another account, or erased."""
    row = await db.fetchrow(
        """
        SELECT content_type, sealed FROM selfservice_evidence
         WHERE id = $1 AND account_id = $2 AND sealed IS NOT NULL
        """,
        file_id,
        account_id,
    )
    if row is None:
        return None
    data_key = await data_key_of(db, account_id)
    if data_key is None:
        return None
    sealed: bytes = row["sealed"]
    plain = AESGCM(data_key).decrypt(sealed[:_NONCE], sealed[_NONCE:], _aad(account_id))
    return str(row["content_type"]), plain


async def erase_files(db: Db, account_id: str) -> int:
    """Erasure: the account's files go (their key is destroyed in the same transaction)."""
    deleted = await db.fetchval(
        """
        WITH d AS (DELETE FROM selfservice_evidence WHERE account_id = $1 RETURNING 1)
        SELECT count(*) FROM d
        """,
        account_id,
    )
    return int(deleted)


async def delete_expired_files(db: Db, cutoff: datetime, limit: int) -> int:
    """Retention: files uploaded before `cutoff`, at most `limit` of them."""
    deleted = await db.fetchval(
        """
        WITH expired AS (
            SELECT id FROM selfservice_evidence WHERE created_at < $1
             ORDER BY created_at, id LIMIT $2)
        , deleted AS (
            DELETE FROM selfservice_evidence e USING expired WHERE e.id = expired.id RETURNING 1)
        SELECT count(*) FROM deleted
        """,
        cutoff,
        limit,
    )
    return int(deleted)


async def forget_form_files(db: Db, form_key: str) -> None:
    """Drop the files of a form the workflow refused: as if they were never sent."""
    await db.execute("DELETE FROM selfservice_evidence WHERE form_key = $1", form_key)
