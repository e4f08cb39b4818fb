"""Rest days in a running OverdueAccountWorkflow, on the time-skipping server.

The scenario starts at 09:15 on a Wednesday in Asia/Shanghai (tests/workflows/harness.py). The
policy's CN calendar is written with explicit dates relative to that day, as the loader
expands a source into them: the workflow reads only dates, whatever the year.
"""

from __future__ import annotations

from datetime import date, time, timedelta

from tests.workflows.harness import Recorder, Scenario, account_of, at
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.policy import Policy

DAY = timedelta(days=1)


def calendar_policy(due: date) -> Policy:
    assert due.weekday() == 2  # a Wednesday
    return Policy.model_validate(
        {
            "id": "wf-calendar",
            "version": 1,
            "contact_windows": {"default": {"start": "08:00", "end": "21:00"}},
            "calendars": {
                "CN": {
                    "source": "chinese_calendar",
                    "rest_days": [due + DAY],  # Thursday: a statutory holiday
                    "working_days": [due + 3 * DAY],  # Saturday: a swapped working day (调休)
                    "on_rest_days": {"sms": "none", "call": "none"},
                }
            },
            "stages": [
                {
                    "id": "d1_sms",
                    "offset": "1d",
                    "channel": "sms",
                    "template": "t",
                    "send_at": "10:00",
                },
                {
                    "id": "d3_call",
                    "offset": "3d",
                    "channel": "call_task",
                    "queue": "general",
                    "send_at": "09:00",
                },
                {
                    "id": "d4_call",
                    "offset": "4d",
                    "channel": "call_task",
                    "queue": "general",
                    "send_at": "09:00",
                },
            ],
            "templates": {"t": {"en": "Hi {name}. Reply STOP to opt out."}},
        }
    )


async def test_a_stage_due_on_a_holiday_waits_for_the_next_working_days_window(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(calendar_policy(due), due)
    account = account_of(handle)

    # Thursday, the holiday: the D+1 SMS (due 10:00) waits, and the status says why.
    await scenario.sleep_until(due + DAY, time(12))
    assert recorder.sms_stages(account) == []
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.next_action is not None and status.next_action.stage_id == "d1_sms"
    assert f"rest day {due + DAY} in CN, sms on rest days: none" in status.next_action.label
    assert at(status.next_action.at, scenario.local(due + 2 * DAY, time(8)))

    await scenario.sleep_until(due + 6 * DAY)
    # Friday at the window's opening, never on the holiday; never dropped.
    (sms_at,) = [t for i, t in recorder.sms if i.account_id == account]
    assert at(sms_at, scenario.local(due + 2 * DAY, time(8)))
    # The working Saturday keeps its 09:00 call; Sunday's waits for Monday's window.
    calls = [(i.stage_id, t) for i, t in recorder.calls if i.account_id == account]
    assert [stage for stage, _ in calls] == ["d3_call", "d4_call"]
    assert at(calls[0][1], scenario.local(due + 3 * DAY, time(9)))
    assert at(calls[1][1], scenario.local(due + 5 * DAY, time(8)))
    await handle.terminate("test over")
