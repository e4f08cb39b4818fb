"""An account's timeline: audit events and contact attempts, merged, newest first
(`overdue.store.timeline`), paged by an opaque cursor."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Query

from api import cursors
from api.accounts import AccountId
from api.auth import AuthenticatedRoute, ReadAccounts
from api.dependencies import ServicesDep
from api.problems import problem_responses
from api.schemas import TimelineEntry, TimelinePage
from api.workflow_calls import unknown_account_problem
from overdue.store.accounts import account_exists
from overdue.store.timeline import Position, timeline_items

router = APIRouter(prefix="/v1/accounts", tags=["accounts"], route_class=AuthenticatedRoute)


async def timeline_page(
    pool: asyncpg.Pool, account_id: str, limit: int, after: Position | None
) -> tuple[list[TimelineEntry], str | None]:
    """One page of entries after `after` (a position from a cursor), and the next cursor."""
    items, more = await timeline_items(pool, account_id, limit, after)
    entries = [TimelineEntry(**asdict(item)) for item in items]
    next_cursor = cursors.encode_position(*items[-1].position) if more else None
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
    if not await account_exists(services.pool, account_id):
        raise unknown_account_problem(account_id)
    entries, next_cursor = await timeline_page(services.pool, account_id, limit, after)
    return TimelinePage(account_id=account_id, entries=entries, next_cursor=next_cursor)
