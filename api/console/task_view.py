"""How the console shows what it reads (`overdue.store.agent_desk`): the phone, masked; the
borrower's self-service submissions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import phonenumbers

from overdue.store import sealed_files, selfservice_records
from overdue.store.free_texts import texts_by_id
from overdue.store.sealed_files import EvidenceFile


def mask_phone(e164: str | None) -> str:
    """'+8613800138000' -> '+86 *******8000': the country code and the last four digits."""
    if not e164:
        return "—"
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return "****"
    national = str(number.national_number)
    return f"+{number.country_code} {'*' * max(len(national) - 4, 0)}{national[-4:]}"


@dataclass(frozen=True)
class SubmissionView:
    """One thing the borrower sent from the self-service page, for the task page."""

    kind: str
    created_at: datetime
    details: dict[str, Any]
    text: str | None
    files: list[EvidenceFile]


async def submissions_view(pool: asyncpg.Pool, account_id: str) -> list[SubmissionView]:
    """The borrower's self-service submissions (docs/self-service.md), newest first, with what
    they typed and their evidence files (opening a file is audited: `evidence_pages`)."""
    rows = await selfservice_records.submissions_of(pool, account_id)
    if not rows:
        return []
    texts = await texts_by_id(pool, (r.text_id for r in rows))
    files = await sealed_files.files_of(pool, account_id)
    return [
        SubmissionView(
            kind=r.kind,
            created_at=r.created_at,
            details=r.details,
            text=texts.get(r.text_id) if r.text_id else None,
            files=[f for f in files if f.form_key == r.form_key],
        )
        for r in rows
    ]
