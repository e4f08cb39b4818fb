"""What `overdue status`, `list` and `tasks` print, without servers: plain text into a file or a
pipe, styled by rich on a terminal."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

from rich.console import RenderableType

from api.schemas import AccountSummary
from overdue.store.call_tasks import QueueCounts
from workers.ops import listing, tasks
from workers.ops.output import console_for, show
from workers.ops.status import StatusReport, render
from workflows.names import workflow_id
from workflows.types import AccountState, AccountStatus, ContactEntry, NextAction, PauseState

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
REASON = "billing incident [INC-42] :smile: " + "x" * 400  # no markup, no emoji, not wrapped


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def printed(renderable: RenderableType, stream: io.StringIO | None = None) -> str:
    stream = stream if stream is not None else io.StringIO()
    show(console_for(stream), renderable)
    return stream.getvalue()


def execution(account_id: str = "acct-1", **fields: object) -> AccountSummary:
    values: dict[str, object] = {
        "account_id": account_id,
        "workflow_id": workflow_id(account_id),
        "run_id": "run-1",
        "execution_status": "running",
        "state": "active",
        "stage": "d1_sms",
        "days_past_due": 2,
        "amount_due_minor": 50_000,
        "product": "credit_line",
        "next_action_at": NOW,
        "started_at": NOW,
        "closed_at": None,
    }
    return AccountSummary.model_validate(values | fields)


def status() -> AccountStatus:
    return AccountStatus(
        account_id="acct-1",
        state=AccountState.ACTIVE,
        stage="d1_sms",
        balance_minor=50_000,
        currency="CNY",
        due_date=date(2026, 11, 30),
        time_zone="Asia/Shanghai",
        days_past_due=2,
        as_of=NOW,
        next_action=NextAction(stage_id="d3_call", label="D+3 call", at=NOW + 30 * HOUR),
        stages_done=["t1s_sms", "d1_sms"],
        stages_skipped=[],
        pause=PauseState(actor="ops:li", reason=REASON, since=NOW - timedelta(minutes=5)),
        escalated=True,
        recent_contacts=[
            ContactEntry(channel="sms", stage_id="d1_sms", at=NOW, outcome="sent"),
            ContactEntry(channel="call", stage_id="d3_call_callback", at=NOW, outcome="no_answer"),
        ],
        notes=["a [bold]note[/bold]"],
        policy_id="default",
        policy_version=4,
    )


def test_status_in_plain_text_one_field_a_line() -> None:
    out = printed(render(StatusReport(execution(), status(), None), NOW))
    assert out.splitlines() == [
        "Account      acct-1",
        "Workflow     overdue-acct-1 (run run-1, running)",
        "State        active",
        "Stage        d1_sms",
        "Balance      500.00 CNY, due 2026-11-30 (Asia/Shanghai), 2 days past due",
        "Policy       default v4",
        "Next         D+3 call at 2026-12-03 18:00 UTC (in 1d 6h)",
        f"Paused       since 2026-12-02 11:55 UTC (0h 5m ago) by ops:li: {REASON}",
        "Flags        escalated",
        "Stages done  t1s_sms, d1_sms",
        "Recent contacts (newest first)",
        "  2026-12-02 12:00 UTC  sms    d1_sms               sent",
        "  2026-12-02 12:00 UTC  call   d3_call_callback     no_answer",
        "Notes (newest first)",
        "  a [bold]note[/bold]",
    ]


def test_status_unanswered_shows_the_search_attributes() -> None:
    out = printed(render(StatusReport(execution(days_past_due=None), None, "no worker"), NOW))
    assert out.splitlines()[2:] == [
        "State        active (search attributes; status query unanswered)",
        "Stage        d1_sms",
        "Days due     ?",
    ]


def test_status_on_a_terminal_is_styled_and_fits_the_screen() -> None:
    out = printed(render(StatusReport(execution(), status(), None), NOW), Terminal())
    assert "\x1b[1mAccount" in out  # bold labels
    assert max(len(line) for line in out.splitlines()) < 200  # the long reason wrapped
    assert "x" * 40 in out and "[INC-42] :smile:" in out


def test_list_pages_line_up_and_ids_stay_whole() -> None:
    console = console_for(io.StringIO())
    page = listing.table(console)
    page.add_row(*listing.cells(execution("acct-1")))
    page.add_row(*listing.cells(execution("a" * 40, state=None, next_action_at=None)))
    lines = printed(page).splitlines()
    assert lines[0].split() == [
        "ACCOUNT", "STATUS", "STATE", "STAGE", "DPD", "AMOUNT_MINOR", "PRODUCT", "NEXT_ACTION_AT"
    ]  # fmt: skip
    assert lines[1].split() == [
        "acct-1", "running", "active", "d1_sms", "2", "50000", "credit_line", "2026-12-02T12:00Z"
    ]  # fmt: skip
    assert lines[2].split()[0] == "a" * 40 and lines[2].split()[2] == "-"
    next_page = listing.table(console, header=False)
    next_page.add_row(*listing.cells(execution("acct-2")))
    (row,) = printed(next_page).splitlines()
    # Least widths as before: a later page lines up with a first one of short ids.
    assert row.index("running") == 23 and row.index("credit_line") == 23 + 11 + 17 + 21 + 6 + 14


def test_tasks_table_with_totals() -> None:
    counts = [
        QueueCounts(queue="general", open=12, claimed=3, due_now=5, oldest_due_at=NOW - 2 * HOUR),
        QueueCounts(queue="specialist", open=0, claimed=0, due_now=0, oldest_due_at=None),
    ]
    assert printed(tasks.render(counts, NOW)).splitlines() == [
        "QUEUE       OPEN  DUE NOW  CLAIMED  OLDEST DUE",
        "general       12        5        3  2h 0m ago",
        "specialist     0        0        0  -",
        "total         12        5        3",
    ]
    assert "\x1b[1mtotal" in printed(tasks.render(counts, NOW), Terminal())
