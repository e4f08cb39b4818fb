"""What a workflow shows ops in the Temporal UI: its search attributes, upserted only when
their value changed, since every upsert is a billed action. Runs inside the workflow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow

from workflows import search_attributes as sa
from workflows.decisions import days_past_due
from workflows.types import AccountRecord

INT64 = range(-(2**63), 2**63)  # what an Int search attribute holds


class Published:
    """The values last upserted, so that only changes are sent."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}

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
    """The values ops filter and sort on; none is personal data."""
    return {
        sa.OVERDUE_STATE.name: record.state.value,
        sa.OVERDUE_STAGE.name: record.last_stage or "",
        sa.DAYS_PAST_DUE.name: days_past_due(record.due_date, record.time_zone, now),
        sa.AMOUNT_DUE_MINOR.name: record.balance_minor,
        sa.NEXT_ACTION_AT.name: next_at,
        sa.PRODUCT.name: record.product,
    }
