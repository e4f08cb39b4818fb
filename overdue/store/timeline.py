"""An account's timeline: its audit events and its contact attempts, merged, newest first.

Contact rows show what was sent and how it went; never the text or the number (personal).
An audit row that refers to a text someone typed (`text_id`, see `overdue.store.free_texts`)
shows it as `text`, read back from `free_texts` and opened (`sealed_texts`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from overdue.store.sealed_texts import open_details
from overdue.store.transactions import Db

# An audit row's details, with the text it refers to (if any) joined back as `text`.
AUDIT_DETAILS = (
    "CASE WHEN ft.text IS NULL THEN a.details "
    "ELSE a.details || jsonb_build_object('text', ft.text) END"
)
TEXT_JOIN = "LEFT JOIN free_texts ft ON ft.id = a.details ->> 'text_id'"

_TIMELINE_SQL = f"""
SELECT at, source, id, kind, actor, details FROM (
    SELECT a.occurred_at AS at, 'audit' AS source, a.id, a.kind, a.actor,
           {AUDIT_DETAILS} AS details
      FROM audit_events a {TEXT_JOIN} WHERE a.account_id = $1
    UNION ALL
    SELECT created_at, 'contact', id, 'contact.' || channel, 'system',
           jsonb_strip_nulls(jsonb_build_object(
               'channel', channel, 'stage_id', stage_id, 'status', status,
               'template_id', template_id, 'provider', provider, 'error_code', error_code,
               'updated_at', updated_at))
      FROM contact_ledger WHERE account_id = $1
) entries
WHERE $2::timestamptz IS NULL OR (at, source, id) < ($2::timestamptz, $3::text, $4::bigint)
ORDER BY at DESC, source DESC, id DESC
LIMIT $5
"""

Position = tuple[datetime, str, int]  # (at, source, id): where a page ends


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    source: str  # "audit" or "contact"
    id: int
    kind: str
    actor: str
    details: dict[str, Any]

    @property
    def position(self) -> Position:
        return (self.at, self.source, self.id)


async def timeline_items(
    db: Db, account_id: str, limit: int, after: Position | None
) -> tuple[list[TimelineItem], bool]:
    """Up to `limit` entries older than `after`, newest first, and whether more follow."""
    at, source, id_ = after if after else (None, None, None)
    rows = await db.fetch(_TIMELINE_SQL, account_id, at, source, id_, limit + 1)
    details = await open_details(db, [json.loads(row["details"]) for row in rows[:limit]])
    items = [
        TimelineItem(
            at=row["at"],
            source=row["source"],
            id=row["id"],
            kind=row["kind"],
            actor=row["actor"],
            details=shown,
        )
        for row, shown in zip(rows[:limit], details, strict=True)
    ]
    return items, len(rows) > limit
