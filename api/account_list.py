"""Listing accounts through Temporal's visibility store (custom search attributes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from temporalio.client import Client, WorkflowExecution
from temporalio.common import TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from api import cursors
from api.auth import AuthenticatedRoute, ReadAccounts
from api.dependencies import ServicesDep
from api.problems import invalid_field, problem_responses
from api.schemas import AccountPage, AccountSummary
from workflows import search_attributes as sa
from workflows.names import WORKFLOW_TYPE_CLAUSE, account_id_of
from workflows.types import AccountState

router = APIRouter(prefix="/v1/accounts", tags=["accounts"], route_class=AuthenticatedRoute)

STAGE_PATTERN = r"^[a-z0-9][a-z0-9_]{0,62}$"  # as policy stage ids


def visibility_query(
    state: AccountState | None,
    stage: str | None,
    min_days_past_due: int | None,
    now: datetime | None = None,
) -> str:
    """A visibility list filter from validated values only (enum, id pattern, integer)."""
    clauses = [WORKFLOW_TYPE_CLAUSE]
    if state is not None:
        clauses.append(f"{sa.OVERDUE_STATE.name} = '{AccountState(state).value}'")
    if stage is not None:
        clauses.append(f"{sa.OVERDUE_STAGE.name} = '{stage}'")
    if min_days_past_due is not None:
        clauses.append(days_past_due_clause(int(min_days_past_due), now or datetime.now(UTC)))
    return " AND ".join(clauses)


def days_past_due_clause(days: int, now: datetime) -> str:
    """At least `days` past due at `now`. A process started on cost-2026-12 or later carries
    `DueDate` (local midnight of the due date, set once): `days` local days have passed when it
    is at least `days` x 24 h before now (a daylight-saving change can move that by an hour).
    One started before carries `DaysPastDue` as of its last transition instead."""
    cutoff = (now.astimezone(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"({sa.DUE_DATE.name} <= '{cutoff}' OR {sa.DAYS_PAST_DUE.name} >= {days})"


def days_past_due(attributes: TypedSearchAttributes, now: datetime) -> int | None:
    """From `DueDate` where the process carries it (whole days since its local midnight),
    else `DaysPastDue` as of the last transition (processes from before cost-2026-12)."""
    due = attributes.get(sa.DUE_DATE)
    if due is None:
        return attributes.get(sa.DAYS_PAST_DUE)
    return max(0, (now - due) // timedelta(days=1))


def summary(execution: WorkflowExecution, now: datetime | None = None) -> AccountSummary:
    attributes = execution.typed_search_attributes
    return AccountSummary(
        # Every listed workflow is of the product's type; one started under another id (by
        # hand) shows that id whole.
        account_id=account_id_of(execution.id) or execution.id,
        workflow_id=execution.id,
        run_id=execution.run_id,
        execution_status=execution.status.name.lower() if execution.status else "unknown",
        state=attributes.get(sa.OVERDUE_STATE),
        stage=attributes.get(sa.OVERDUE_STAGE) or None,
        days_past_due=days_past_due(attributes, now or datetime.now(UTC)),
        amount_due_minor=attributes.get(sa.AMOUNT_DUE_MINOR),
        product=attributes.get(sa.PRODUCT),
        next_action_at=attributes.get(sa.NEXT_ACTION_AT),
        started_at=execution.start_time,
        closed_at=execution.close_time,
    )


async def list_accounts(
    temporal: Client, query: str, page_size: int, cursor: str | None, scope: str | None = None
) -> AccountPage:
    """`scope`: what a cursor is valid for (default: the query itself); a filter on days past
    due names a cutoff instant that moves between pages, so its scope names the days."""
    scope = scope or query
    # A cursor is checked against this very filter before Temporal sees its token.
    token = cursors.unwrap_token(scope, cursor) if cursor else None
    page = temporal.list_workflows(query, page_size=page_size, next_page_token=token)
    try:
        await page.fetch_next_page()
    except RPCError as err:
        if err.status == RPCStatusCode.INVALID_ARGUMENT and token:
            raise invalid_field("cursor", "not a cursor this API handed out", "query") from err
        raise
    next_token = page.next_page_token
    return AccountPage(
        accounts=[summary(execution) for execution in page.current_page or ()],
        next_cursor=cursors.wrap_token(scope, next_token) if next_token else None,
    )


@router.get("", response_model=AccountPage, responses=problem_responses(401, 403, 422))
async def accounts(
    services: ServicesDep,
    _client: ReadAccounts,
    state: AccountState | None = None,
    stage: Annotated[str | None, Query(pattern=STAGE_PATTERN, max_length=63)] = None,
    min_days_past_due: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    page_size: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> AccountPage:
    """Accounts whose process matches, from Temporal's visibility store.

    Values come from search attributes, which the workflow updates on transitions: a list can
    lag a just-made change by a moment. `days_past_due` is counted now from the due date (for
    processes started before cost-2026-12: as of their last transition)."""
    query = visibility_query(state, stage, min_days_past_due, datetime.now(UTC))
    scope = None
    if min_days_past_due is not None:
        scope = f"{visibility_query(state, stage, None)} AND days past due >= {min_days_past_due}"
    return await list_accounts(services.temporal, query, page_size, cursor, scope)
