"""An account's timeline: its audit events and its contact attempts, merged, newest first.

Contact rows show what was sent and how it went; never the text or the number (personal).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from overdue.store.transactions import Db

_TIMELINE_SQL = """
SELECT at, source, id, kind, actor, details FROM (
    SELECT occurred_at AS at, 'audit' AS source, id, kind, actor, details
      FROM audit_events WHERE account_id = $1
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
    items = [
        TimelineItem(
            at=row["at"],
            source=row["source"],
            id=row["id"],
            kind=row["kind"],
            actor=row["actor"],
            details=json.loads(row["details"]),
        )
        for row in rows[:limit]
    ]
    return items, len(rows) > limit
