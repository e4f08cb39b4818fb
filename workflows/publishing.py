"""What a workflow shows ops in the Temporal UI: its search attributes, upserted only when
their value changed, since every upsert is a billed action. Runs inside the workflow.

Which attributes depends on the release that started the process (`OverdueAccountInput.release`,
workflows/patches.py), so a running workflow keeps what its history was recorded with and
needs no `workflow.patched` id:

- release 0 (inputs from before cost-2026-12): every attribute below, `DaysPastDue` and
  `NextActionAt` included: they change at nearly every wake, so nearly every wait upserts.
- cost-2026-12 and later: only what changes on a transition: `OverdueState`, `OverdueStage`
  (once a stage acted), `AmountDueMinor`, `Product`; `DueDate` is set at the start
  (`start_attributes`) and days past due is derived from it at query time. The next action's
  label and time go to the workflow's current details (`next_action_details`): shown in the
  UI, not billed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from workflows import search_attributes as sa
from workflows.patches import COST_2026_12
from workflows.stage_times import days_past_due
from workflows.steps import WaitForEvents, WaitUntil
from workflows.types import AccountRecord, AccountState, NextAction, OverdueAccountInput

INT64 = range(-(2**63), 2**63)  # what an Int search attribute holds


class Published:
    """The values last upserted, so that only changes are sent."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}

    def seed(self, started_with: TypedSearchAttributes) -> None:
        """What the start request set counts as published: upserting it again buys nothing."""
        for pair in started_with:
            self._values[pair.key.name] = pair.value

    def upsert(self, wanted: dict[str, Any]) -> None:
        changed = {k: v for k, v in wanted.items() if self._values.get(k, ...) != v}
        if not changed:
            return
        out_of_range = [k for k, v in changed.items() if isinstance(v, int) and v not in INT64]
        if out_of_range:  # the server would refuse the upsert, and fail the task for ever
            raise OverflowError(f"search attribute beyond int64: {', '.join(out_of_range)}")
        updates = [
            key.value_unset() if changed[key.name] is None else key.value_set(changed[key.name])
            for key in sa.ALL
            if key.name in changed
        ]
        workflow.upsert_search_attributes(updates)
        self._values.update(changed)


def account_attributes(
    record: AccountRecord, next_at: datetime | None, now: datetime
) -> dict[str, Any]:
    """Release 0: the values ops filter and sort on; none is personal data."""
    return {
        sa.OVERDUE_STATE.name: record.state.value,
        sa.OVERDUE_STAGE.name: record.last_stage or "",
        sa.DAYS_PAST_DUE.name: days_past_due(record.due_date, record.time_zone, now),
        sa.AMOUNT_DUE_MINOR.name: record.balance_minor,
        sa.NEXT_ACTION_AT.name: next_at,
        sa.PRODUCT.name: record.product,
    }


def transition_attributes(record: AccountRecord) -> dict[str, Any]:
    """Cost-2026-12: only values that change on a transition (plus the start's, unchanged).
    No stage yet leaves `OverdueStage` as the start left it (unset) rather than upsert ''."""
    wanted: dict[str, Any] = {
        sa.OVERDUE_STATE.name: record.state.value,
        sa.AMOUNT_DUE_MINOR.name: record.balance_minor,
        sa.PRODUCT.name: record.product,
        sa.DUE_DATE.name: due_instant(record.due_date, record.time_zone),
    }
    if record.last_stage:
        wanted[sa.OVERDUE_STAGE.name] = record.last_stage
    return wanted


def due_instant(due_date: date, time_zone: str) -> datetime:
    """Local midnight of the due date: days past due >= N exactly when this is at least N
    local days before now (give or take a daylight-saving hour)."""
    return datetime.combine(due_date, datetime.min.time(), tzinfo=ZoneInfo(time_zone))


def start_attributes(input: OverdueAccountInput) -> TypedSearchAttributes:
    """What a starter sets with the start request (part of the start, not a billed upsert)."""
    policy = input.policy
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(sa.OVERDUE_STATE, AccountState.ACTIVE.value),
        SearchAttributePair(sa.PRODUCT, input.product),
        SearchAttributePair(sa.AMOUNT_DUE_MINOR, input.amount_due_minor),
        SearchAttributePair(sa.POLICY_ID, sa.policy_id_value(policy.id, policy.version)),
    ]
    if input.release >= COST_2026_12:
        pairs.append(SearchAttributePair(sa.DUE_DATE, due_instant(input.due_date, input.time_zone)))
    return TypedSearchAttributes(pairs)


def next_action_details(next_action: NextAction | None, waiting_for: str = "") -> str:
    """The workflow's current details while it waits (the UI shows them; not billed): what
    `NextActionAt` showed on release 0, with the label too. No personal data in either."""
    if next_action is None:
        return f"Waiting for events: {waiting_for}" if waiting_for else ""
    return f"Next action: {next_action.label} at {next_action.at.isoformat()}"


def publish_transitions(
    published: Published,
    record: AccountRecord,
    next_action: NextAction | None,
    step: WaitUntil | WaitForEvents | None,
) -> None:
    """Cost-2026-12: upsert what a transition changed; the next action as current details."""
    published.upsert(transition_attributes(record))
    waiting_for = step.reason if isinstance(step, WaitForEvents) else ""
    workflow.set_current_details(next_action_details(next_action, waiting_for))
