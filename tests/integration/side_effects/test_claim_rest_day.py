"""The console's claim on a rest day: `claim_next` with the console's filter skips a customer
whose calendar rests today (the task stays open) and takes it on a swapped working day.

The filter is built for fixed instants (`workable_now(policy, at)`), as the console builds it
for now, so the test holds whatever the wall clock reads; Postgres is real.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from api.console.calling_hours import workable_now
from overdue.store import call_tasks as store
from overdue.store.accounts import CustomerReport, store_customer
from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.support import add_customer
from workflows.calendars import Calendar
from workflows.policy import Policy

pytestmark = pytest.mark.integration

POLICY = Policy.model_validate(
    {
        "id": "claim-calendar",
        "version": 1,
        "contact_windows": {"default": {"start": "08:00", "end": "21:00"}},
        # CN around National Day 2025, as the loader expands chinese_calendar (tests/overdue).
        "calendars": {
            "CN": Calendar(
                source="chinese_calendar",
                rest_days=tuple(date(2025, 10, d) for d in (1, 2, 3, 6, 7, 8)),
                working_days=(date(2025, 10, 11),),
                on_rest_days={"call": "none"},
            )
        },
        "stages": [{"id": "d2_call", "offset": "2d", "channel": "call_task", "queue": "general"}],
    }
)
HOLIDAY_NOON = datetime(2025, 10, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, a Thursday
WORKING_SATURDAY_NOON = datetime(2025, 10, 11, 4, 0, tzinfo=UTC)


async def test_next_task_skips_a_customer_on_a_rest_day(twilio_stack: TwilioStack) -> None:
    pool, queue = twilio_stack.pool, f"q-{uuid.uuid4().hex[:8]}"
    customer = await add_customer(pool, phone="+8613912345678")
    async with pool.acquire() as conn:
        await store_customer(
            conn,
            customer.account_id,
            CustomerReport(
                full_name=customer.name,
                phone_e164=customer.phone,
                time_zone="Asia/Shanghai",
                locale="zh-CN",
            ),
        )
        task, _ = await store.create_task(
            conn,
            idempotency_key=f"{customer.account_id}/e/d2_call/1",
            account_id=customer.account_id,
            stage_id="d2_call",
            queue=queue,
            priority=50,
            due_at=datetime.now(UTC),
        )

    on_holiday = await store.claim_next(pool, queue, "agent-1", workable_now(POLICY, HOLIDAY_NOON))
    assert on_holiday is None
    still_open = await store.get(pool, task.id)
    assert still_open is not None and (still_open.status, still_open.claimed_by) == ("open", None)

    workable = workable_now(POLICY, WORKING_SATURDAY_NOON)
    claimed = await store.claim_next(pool, queue, "agent-1", workable)
    assert claimed is not None and claimed.id == task.id and claimed.claimed_by == "agent-1"
