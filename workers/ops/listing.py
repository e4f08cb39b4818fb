"""`overdue list --query '...'`: accounts from Temporal's visibility store.

The query is Temporal's list filter over the custom search attributes (`OverdueState`,
`OverdueStage`, `DueDate`, `AmountDueMinor`, `Product`; `DaysPastDue` and `NextActionAt` on
processes from before release cost-2026-12) and the built-in
ones (`ExecutionStatus`, `StartTime`, ...), always limited to OverdueAccountWorkflow. Rows are
the API's account summaries (`GET /v1/accounts`): JSON lines printed as they arrive, or a table
(rich) printed a page at a time.
"""

from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text
from temporalio.client import Client
from temporalio.service import RPCError

from api.account_list import summary
from api.schemas import AccountSummary
from workers.ops.common import query_error, scoped_query
from workers.ops.output import console_for, show
from workers.ops.progress import Progress

PAGE_SIZE = 500
# Below this many the listing is over before a progress bar would tell anything.
PROGRESS_FROM = 2 * PAGE_SIZE

# Each column's least width in plain output, so that the pages of a long listing (one table
# each) line up. A longer value widens its column rather than being cut: ids must stay whole.
_COLUMNS = (
    ("ACCOUNT", 22),
    ("STATUS", 10),
    ("STATE", 16),
    ("STAGE", 20),
    ("DPD", 5),
    ("AMOUNT_MINOR", 13),
    ("PRODUCT", 14),
    ("NEXT_ACTION_AT", None),
)


def table(console: Console, *, header: bool = True) -> Table:
    """An empty accounts table: fitted to the screen on a terminal (values folded, never cut),
    fixed least widths in plain output."""
    plain = not console.is_terminal
    accounts = Table(box=None, pad_edge=False, padding=(0, 1, 0, 0), show_header=header)
    for name, width in _COLUMNS:
        accounts.add_column(name, min_width=width if plain else None, overflow="fold")
    return accounts


def cells(account: AccountSummary) -> tuple[str, ...]:
    next_at = account.next_action_at
    return (
        account.account_id,
        account.execution_status,
        account.state or "-",
        account.stage or "-",
        "-" if account.days_past_due is None else str(account.days_past_due),
        "-" if account.amount_due_minor is None else str(account.amount_due_minor),
        account.product or "-",
        next_at.strftime("%Y-%m-%dT%H:%MZ") if next_at else "-",
    )


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
    """Print matching accounts (at most `limit`; None for all); returns how many. JSON lines go
    out as they arrive, a table one page (PAGE_SIZE rows) at a time."""
    matching = await count(client, query)  # also checks the query before any output
    wanted = matching if limit is None else min(limit, matching)
    progress = Progress("listing", wanted, err) if wanted >= PROGRESS_FROM else None
    console = console_for(out)
    page = table(console)
    shown = 0
    try:
        async for execution in client.list_workflows(
            scoped_query(query), page_size=PAGE_SIZE, limit=limit
        ):
            account = summary(execution)
            if as_json:
                out.write(account.model_dump_json() + "\n")
            else:
                page.add_row(*map(Text, cells(account)))
                if page.row_count == PAGE_SIZE:
                    show(console, page)
                    page = table(console, header=False)
            shown += 1
            if progress:
                progress.update(shown)
    except RPCError as error:
        raise query_error(error, query) from None
    finally:
        if progress:
            progress.finish()
        if not as_json and (page.row_count or shown == 0):  # nothing listed: the header
            show(console, page)
    if not as_json:
        more = f" of {matching} matching; --limit 0 shows all" if shown < matching else ""
        err.write(f"{shown} accounts{more}\n")
    return shown
