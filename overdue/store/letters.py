"""Letters: the PDFs letter stages render, and the mailroom's marks on them.

A letter is a contact like an SMS: its ledger row (channel `notify`, kind `letter`) is written
first, and the letter is stored inside the pre-send check's transaction, under the account's
lock (`contact_gate.clear_to_send(then=...)`), unique by the contact's idempotency key: a
retried activity finds it and stores nothing more. Its ledger row then reads `queued` (in the
mailroom) and `sent` once the mailroom marks it posted.

The PDF carries the customer's name and postal address: it is sealed with the account's data
key (the token of its base64) and opened only to be downloaded by staff, which is audited.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

from overdue.store import audit
from overdue.store.contact_ledger import LedgerRow, Settled, settle
from overdue.store.sealed_texts import open_text, seal_text
from overdue.store.transactions import Db, transaction

LetterStatus = Literal["to_print", "printed", "sent"]
STATUSES: tuple[LetterStatus, ...] = ("to_print", "printed", "sent")
MailroomMark = Literal["printed", "sent"]
_FROM: dict[MailroomMark, LetterStatus] = {"printed": "to_print", "sent": "printed"}

_COLUMNS = """
    id, idempotency_key, account_id, stage_id, locale, sha256, size_bytes, pages, has_address,
    status, created_at, printed_at, printed_by, sent_at, sent_by
"""


def reference(idempotency_key: str) -> str:
    """The reference printed on a letter and shown in the mailroom: short, stable per
    contact, and naming no one."""
    return "L-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:10].upper()


@dataclass(frozen=True)
class LetterRecipient:
    """Personal data: never logged, never sent to Temporal."""

    full_name: str
    postal_address: tuple[str, ...]  # lines; empty: the backend sent none
    locale: str


@dataclass(frozen=True)
class RenderedLetter:
    """A letter as rendered, ready to store."""

    locale: str
    pdf: bytes
    sha256: bytes
    pages: int
    has_address: bool


@dataclass(frozen=True)
class Letter:
    """A letter as the mailroom lists it (no personal data: the PDF is read apart)."""

    id: int
    idempotency_key: str
    account_id: str
    stage_id: str
    locale: str
    sha256: bytes
    size_bytes: int
    pages: int
    has_address: bool
    status: LetterStatus
    created_at: datetime
    printed_at: datetime | None
    printed_by: str | None
    sent_at: datetime | None
    sent_by: str | None

    @property
    def sha256_hex(self) -> str:
        return self.sha256.hex()

    @property
    def ref(self) -> str:
        return reference(self.idempotency_key)


def _letter(row: asyncpg.Record) -> Letter:
    return Letter(**{name: row[name] for name in Letter.__dataclass_fields__})


async def recipient(db: Db, account_id: str) -> LetterRecipient | None:
    """The customer's name, postal address and locale as last reported; None: none known."""
    row = await db.fetchrow(
        "SELECT full_name, postal_address, locale FROM customer_contacts WHERE account_id = $1",
        account_id,
    )
    if row is None:
        return None
    name = await open_text(db, row["full_name"])
    address = await open_text(db, row["postal_address"])
    return LetterRecipient(
        full_name=name or "",
        postal_address=tuple(line for line in (address or "").split("\n") if line.strip()),
        locale=row["locale"],
    )


async def store(conn: asyncpg.Connection, row: LedgerRow, letter: RenderedLetter) -> bool:
    """The letter of the contact `row`, stored if new and its ledger row moved to `queued`
    (in the mailroom), audited `letter.rendered`; True when this call stored it. Call in the
    pre-send check's transaction (`contact_gate.clear_to_send`)."""
    sealed = await seal_text(conn, row.account_id, base64.b64encode(letter.pdf).decode())
    letter_id = await conn.fetchval(
        """
        INSERT INTO letters (idempotency_key, account_id, stage_id, locale, pdf, sha256,
                             size_bytes, pages, has_address)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (idempotency_key) DO NOTHING RETURNING id
        """,
        row.idempotency_key,
        row.account_id,
        row.stage_id,
        letter.locale,
        sealed,
        letter.sha256,
        len(letter.pdf),
        letter.pages,
        letter.has_address,
    )
    await settle(
        conn,
        row,
        Settled(
            status="queued",
            provider="mailroom",
            audit_kind="letter.rendered" if letter_id is not None else None,
            audit_details={
                "idempotency_key": row.idempotency_key,
                "stage_id": row.stage_id,
                "letter_id": letter_id,
                "sha256": letter.sha256.hex(),
                "pages": letter.pages,
                "locale": letter.locale,
            },
        ),
    )
    return letter_id is not None


async def by_key(db: Db, idempotency_key: str) -> Letter | None:
    row = await db.fetchrow(
        f"SELECT {_COLUMNS} FROM letters WHERE idempotency_key = $1", idempotency_key
    )
    return None if row is None else _letter(row)


async def by_id(db: Db, letter_id: int) -> Letter | None:
    row = await db.fetchrow(f"SELECT {_COLUMNS} FROM letters WHERE id = $1", letter_id)
    return None if row is None else _letter(row)


@dataclass(frozen=True)
class LetterFilter:
    """The mailroom's filters: a status, an account, a stage; newest `limit` first."""

    status: LetterStatus | None = None
    account_id: str | None = None
    stage_id: str | None = None
    limit: int = 100


async def listed(db: Db, where: LetterFilter) -> list[Letter]:
    rows = await db.fetch(
        f"""
        SELECT {_COLUMNS} FROM letters
         WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR account_id = $2)
           AND ($3::text IS NULL OR stage_id = $3)
         ORDER BY created_at, id LIMIT $4
        """,
        where.status,
        where.account_id,
        where.stage_id,
        where.limit,
    )
    return [_letter(r) for r in rows]


async def counts(db: Db) -> dict[str, int]:
    """Letters per status (every status present, 0 when none)."""
    rows = await db.fetch("SELECT status, count(*) AS n FROM letters GROUP BY status")
    found = {r["status"]: int(r["n"]) for r in rows}
    return {status: found.get(status, 0) for status in STATUSES}


class MarkRefused(Exception):
    """The letter is not where the mark applies (already marked, or not printed yet)."""

    def __init__(self, letter: Letter, mark: MailroomMark) -> None:
        super().__init__(f"letter {letter.id} is {letter.status}: cannot mark it {mark}")
        self.letter = letter


async def mark(pool: asyncpg.Pool, letter_id: int, to: MailroomMark, actor: str) -> Letter | None:
    """Mark a letter printed (from `to_print`) or sent (from `printed`), audited
    `letter.<mark>` with who; a sent letter's ledger row becomes `sent`. None: no such
    letter; MarkRefused (nothing written) when the letter is elsewhere."""
    async with transaction(pool) as conn:
        found = await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM letters WHERE id = $1 FOR UPDATE", letter_id
        )
        if found is None:
            return None
        letter = _letter(found)
        if letter.status != _FROM[to]:
            raise MarkRefused(letter, to)
        updated = await conn.fetchrow(
            f"""
            UPDATE letters SET status = $2,
                   printed_at = CASE WHEN $2 = 'printed' THEN now() ELSE printed_at END,
                   printed_by = CASE WHEN $2 = 'printed' THEN $3 ELSE printed_by END,
                   sent_at = CASE WHEN $2 = 'sent' THEN now() ELSE sent_at END,
                   sent_by = CASE WHEN $2 = 'sent' THEN $3 ELSE sent_by END
             WHERE id = $1 RETURNING {_COLUMNS}
            """,
            letter_id,
            to,
            actor,
        )
        if to == "sent":
            await conn.execute(
                """
                UPDATE contact_ledger SET status = 'sent', status_source = 'mailroom',
                       updated_at = now()
                 WHERE idempotency_key = $1
                   AND contact_status_rank(status) < contact_status_rank('sent')
                """,
                letter.idempotency_key,
            )
        await audit.record_event(
            conn,
            account_id=letter.account_id,
            actor=actor,
            kind=f"letter.{to}",
            details={"letter_id": letter.id, "idempotency_key": letter.idempotency_key},
        )
    assert updated is not None
    return _letter(updated)


async def pdf_for_download(pool: asyncpg.Pool, letter: Letter, actor: str) -> bytes | None:
    """The letter's PDF for a member of staff, audited `letter.downloaded` with who (in the
    same transaction, so no download goes unrecorded); None once the account is erased."""
    async with transaction(pool) as conn:
        sealed: str | None = await conn.fetchval("SELECT pdf FROM letters WHERE id = $1", letter.id)
        opened = await open_text(conn, sealed, erased=None)
        if opened is None:
            return None
        await audit.record_event(
            conn,
            account_id=letter.account_id,
            actor=actor,
            kind="letter.downloaded",
            details={"letter_id": letter.id, "sha256": letter.sha256_hex},
        )
    return base64.b64decode(opened)


async def erase(conn: asyncpg.Connection, account_id: str) -> int:
    """Drop the account's PDFs (erasure): their hashes and mailroom marks stay."""
    result: str = await conn.execute(
        "UPDATE letters SET pdf = NULL WHERE account_id = $1 AND pdf IS NOT NULL", account_id
    )
    return int(result.split()[-1])


async def blank_expired(conn: asyncpg.Connection, cutoff: datetime, limit: int) -> int:
    """Drop the PDFs of letters made before `cutoff` (the retention purge's message bodies:
    a letter is a message); the row, its hash and its marks stay."""
    blanked = await conn.fetchval(
        """
        WITH expired AS (
            SELECT id FROM letters
             WHERE pdf IS NOT NULL AND created_at < $1 ORDER BY created_at, id LIMIT $2)
        , blanked AS (
            UPDATE letters l SET pdf = NULL FROM expired WHERE l.id = expired.id RETURNING 1)
        SELECT count(*) FROM blanked
        """,
        cutoff,
        limit,
    )
    return int(blanked)
