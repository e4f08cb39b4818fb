"""`overdue list --query '...'`: accounts from Temporal's visibility store.

The query is Temporal's list filter over the custom search attributes (`OverdueState`,
`OverdueStage`, `DaysPastDue`, `AmountDueMinor`, `NextActionAt`, `Product`) and the built-in
ones (`ExecutionStatus`, `StartTime`, ...), always limited to OverdueAccountWorkflow. Rows are
the API's account summaries (`GET /v1/accounts`), printed as they arrive.
"""

from __future__ import annotations

from typing import TextIO

from temporalio.client import Client
from temporalio.service import RPCError

from api.account_list import summary
from api.schemas import AccountSummary
from workers.ops.common import query_error, scoped_query
from workers.ops.progress import Progress

PAGE_SIZE = 500
# Below this many the listing is over before a progress bar would tell anything.
PROGRESS_FROM = 2 * PAGE_SIZE

_COLUMNS = (
    ("ACCOUNT", 22),
    ("STATUS", 10),
    ("STATE", 16),
    ("STAGE", 20),
    ("DPD", 5),
    ("AMOUNT_MINOR", 13),
    ("PRODUCT", 14),
    ("NEXT_ACTION_AT", 0),
)


def header() -> str:
    return " ".join(name.ljust(width) for name, width in _COLUMNS).rstrip()


def row(account: AccountSummary) -> str:
    next_at = account.next_action_at
    values = (
        account.account_id,
        account.execution_status,
        account.state or "-",
        account.stage or "-",
        "-" if account.days_past_due is None else str(account.days_past_due),
        "-" if account.amount_due_minor is None else str(account.amount_due_minor),
        account.product or "-",
        next_at.strftime("%Y-%m-%dT%H:%MZ") if next_at else "-",
    )
    # A long value pushes the rest right rather than being cut: ids must stay whole.
    return " ".join(v.ljust(width) for v, (_, width) in zip(values, _COLUMNS, strict=True)).rstrip()


async def count(client: Client, query: str | None, *, running_only: bool = False) -> int:
    """How many accounts match; also how a bad query is caught before anything is done."""
    try:
        return (await client.count_workflows(scoped_query(query, running_only=running_only))).count
    except RPCError as err:
        raise query_error(err, query) from None


async def print_accounts(
    client: Client,
    query: str | None,
    limit: int | None,
    *,
    as_json: bool,
    out: TextIO,
    err: TextIO,
) -> int:
    """Print matching accounts (at most `limit`; None for all); returns how many."""
    matching = await count(client, query)  # also checks the query before any output
    wanted = matching if limit is None else min(limit, matching)
    progress = Progress("listing", wanted, err) if wanted >= PROGRESS_FROM else None
    if not as_json:
        out.write(header() + "\n")
    shown = 0
    try:
        async for execution in client.list_workflows(
            scoped_query(query), page_size=PAGE_SIZE, limit=limit
        ):
            account = summary(execution)
            out.write((account.model_dump_json() if as_json else row(account)) + "\n")
            shown += 1
            if progress:
                progress.update(shown)
    except RPCError as error:
        raise query_error(error, query) from None
    finally:
        if progress:
            progress.finish()
    if not as_json:
        more = f" of {matching} matching; --limit 0 shows all" if shown < matching else ""
        err.write(f"{shown} accounts{more}\n")
    return shown
