"""Free text people type (reasons, resolutions, call notes): kept here, never in Temporal.

A workflow signal or update carries the text's id (`text_id`, see `workflows.types`); the audit
row of the same action carries it in its details, and readers (the timeline, the console)
join the text back. A text is written in the transaction that sends its signal or update, so a
refused request leaves none behind. The table is apart from the append-only audit trail so a
text can be erased on request while the audit row that refers to it stays.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from overdue.store.sealed_texts import open_texts, seal_text
from overdue.store.transactions import Db


@dataclass(frozen=True)
class FreeText:
    """A text to keep: its id is chosen before it is stored, so the message that refers to it
    can be built (and validated) first."""

    id: str
    kind: str  # what it is, dotted lower-case: `dispute.reason`, `call.note`, ...
    text: str


def new_text(kind: str, text: str) -> FreeText:
    return FreeText(id=f"txt-{uuid.uuid4().hex}", kind=kind, text=text)


async def keep(db: Db, account_id: str | None, text: FreeText) -> None:
    """Store the text (once: its id is unique); `account_id` None for a text about many
    accounts (an ops batch job's reason). Sealed with the account's data key (the shared one
    without an account): erasing the account makes it unreadable."""
    sealed = await seal_text(db, account_id, text.text)
    await db.execute(
        """
        INSERT INTO free_texts (id, account_id, kind, text) VALUES ($1, $2, $3, $4)
        ON CONFLICT (id) DO NOTHING
        """,
        text.id,
        account_id,
        text.kind,
        sealed,
    )


async def forget(db: Db, text_id: str) -> None:
    """Drop a text whose request was refused: as if it had never been typed here."""
    await db.execute("DELETE FROM free_texts WHERE id = $1", text_id)


async def texts_by_id(db: Db, ids: Iterable[str | None]) -> dict[str, str]:
    """The texts with these ids (missing ones are absent, an erased account's read
    `sealed_texts.ERASED`)."""
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    rows = await db.fetch("SELECT id, text FROM free_texts WHERE id = ANY($1::text[])", wanted)
    opened = await open_texts(db, (row["text"] for row in rows))
    return {row["id"]: text for row, text in zip(rows, opened, strict=True) if text is not None}
