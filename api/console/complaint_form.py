"""A supervisor resolves a complaint from the account page (overdue/store/complaints.py): the
outcome, and a note of what was done, which is kept as a sealed free text."""

from __future__ import annotations

from collections.abc import Mapping

import asyncpg

from api.console.i18n import Translator
from overdue.inputs import control_character_in
from overdue.store import complaints
from overdue.store.free_texts import new_text

MAX_NOTE = 2000


class ComplaintFormInvalid(ValueError):
    """The form cannot be recorded; the message is for the supervisor, in their language."""


async def resolve_from_form(
    pool: asyncpg.Pool,
    t: Translator,
    *,
    account_id: str,
    complaint_id: int,
    form: Mapping[str, str],
    actor: str,
) -> None:
    """Validate, then record (one transaction). ComplaintFormInvalid for a bad form and
    complaints.ComplaintNotOpen when it is not an open complaint of this account; either
    way nothing is written."""
    outcome = form.get("outcome", "")
    note = form.get("note", "").strip()
    if outcome not in complaints.OUTCOMES:
        raise ComplaintFormInvalid(t.gettext("Choose what came of the complaint."))
    if not note:
        raise ComplaintFormInvalid(t.gettext("Write what was done about the complaint."))
    if len(note) > MAX_NOTE or control_character_in(note, lines_allowed=True):
        raise ComplaintFormInvalid(
            t.gettext("The note must be plain text of at most %(n)d characters.", n=MAX_NOTE)
        )
    async with pool.acquire() as conn, conn.transaction():
        await complaints.resolve(
            conn,
            account_id=account_id,
            complaint_id=complaint_id,
            outcome=outcome,
            note=new_text("complaint.resolution", note),
            actor=actor,
        )
