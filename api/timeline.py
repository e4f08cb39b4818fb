"""An account's timeline: audit events and contact attempts, merged, newest first."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Query

from api import cursors
from api.accounts import AccountId
from api.auth import ReadAccounts
from api.dependencies import ServicesDep
from api.problems import problem_responses
from api.schemas import TimelineEntry, TimelinePage
from api.workflow_calls import unknown_account_problem

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])

# Contact rows show what was sent and how it went; never the text or the number (personal).
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


async def timeline_page(
    pool: asyncpg.Pool, account_id: str, limit: int, after: tuple[datetime, str, int] | None
) -> tuple[list[TimelineEntry], str | None]:
    """One page of entries after `after` (a position from a cursor), and the next cursor."""
    at, source, id_ = after if after else (None, None, None)
    rows = await pool.fetch(_TIMELINE_SQL, account_id, at, source, id_, limit + 1)
    entries = [
        TimelineEntry(
            at=row["at"],
            source=row["source"],
            id=row["id"],
            kind=row["kind"],
            actor=row["actor"],
            details=json.loads(row["details"]),
        )
        for row in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = entries[-1]
        next_cursor = cursors.encode_position(last.at, last.source, last.id)
    return entries, next_cursor


@router.get(
    "/{account_id}/timeline",
    response_model=TimelinePage,
    responses=problem_responses(401, 403, 404, 422),
)
async def account_timeline(
    account_id: AccountId,
    services: ServicesDep,
    _client: ReadAccounts,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> TimelinePage:
    """Everything that happened to the account, newest first: events (who, what, when) and
    contact attempts. Page with `next_cursor`."""
    after = cursors.decode_position(cursor) if cursor else None
    if not await services.pool.fetchval("SELECT 1 FROM accounts WHERE account_id = $1", account_id):
        raise unknown_account_problem(account_id)
    entries, next_cursor = await timeline_page(services.pool, account_id, limit, after)
    return TimelinePage(account_id=account_id, entries=entries, next_cursor=next_cursor)
