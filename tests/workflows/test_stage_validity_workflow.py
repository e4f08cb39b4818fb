"""Stage validity on the time-skipping server: a late start never sends a "due soon" SMS after
the due date and never calls before the written notice; a pause that ends after a stage's end
passes the stage over. The default start is 09:15 local (tests/workflows/harness.py)."""

from __future__ import annotations

import base64
import json
from datetime import time, timedelta

import pytest

from overdue.policy_files import load_policy
from tests.workflows.conftest import hour_guard
from tests.workflows.harness import ROOT, Handle, Recorder, Scenario, StartAt, account_of, at
from workflows.contact_types import SmsFailure
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.patches import COMPLIANCE_2026_12
from workflows.policy import Policy
from workflows.types import PauseRequest, ResumeRequest

DAY = timedelta(days=1)
DEFAULT = load_policy(ROOT / "policies" / "default.yaml")
AT_14_39 = StartAt("14:39", time(14, 39))


async def patch_markers(handle: Handle) -> list[str]:
    history = await handle.fetch_history()
    ids = []
    for event in history.events:
        if not event.HasField("marker_recorded_event_attributes"):
            continue
        marker = event.marker_recorded_event_attributes
        if marker.marker_name == "core_patch":
            [payload] = marker.details["patch-data"].payloads
            ids.append(json.loads(payload.data)["id"])
    return ids


async def test_due_yesterday_at_09_15_no_due_soon_sms_the_day_one_stages_at_ten(
    scenario: Scenario, recorder: Recorder
) -> None:
    today = await scenario.today()
    due = today - DAY
    # A process from before cost-2026-12, which asks the patch (the recorded history's kind);
    # one started on it takes the id as given and asks nothing (test_transition_attributes.py).
    handle = await scenario.start(DEFAULT, due, release=0)
    account = account_of(handle)
    await scenario.sleep_until(today, time(10, 30))

    assert recorder.sms_stages(account) == ["d1_sms"]
    assert recorder.notice_stages(account) == ["d1_app_notice"]
    [(_, sent_at)] = [(i, t) for i, t in recorder.sms if i.account_id == account]
    assert at(sent_at, scenario.local(today, time(10)))
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.stages_skipped == ["d_minus_3_sms"]
    assert "d_minus_3_sms expired" in status.notes
    # The new rules decided differently from the old at the start: asked once, first (the
    # others are the contact attempts' own patches).
    markers = await patch_markers(handle)
    assert markers[0] == COMPLIANCE_2026_12 and markers.count(COMPLIANCE_2026_12) == 1
    await scenario.keep_history(handle, "late_start_day_after_due")
    await handle.terminate("test over")


@pytest.mark.parametrize("start_at", [AT_14_39], ids=["start_at=14:39"], indirect=True)
async def test_two_days_late_at_14_39_the_written_notice_goes_before_the_call(
    scenario: Scenario, recorder: Recorder
) -> None:
    today = await scenario.today()
    handle = await scenario.start(DEFAULT, today - 2 * DAY)
    account = account_of(handle)
    await scenario.sleep_until(today, time(16))

    assert recorder.sms_stages(account) == ["d1_sms"]
    assert recorder.call_stages(account) == ["d2_call"]
    [(_, sms_at)] = [(i, t) for i, t in recorder.sms if i.account_id == account]
    [(_, call_at)] = [(i, t) for i, t in recorder.calls if i.account_id == account]
    assert sms_at <= call_at and at(sms_at, scenario.local(today, time(14, 39)))
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.stages_skipped == ["d_minus_3_sms", "d1_app_notice"]
    await handle.terminate("test over")


@hour_guard
async def test_a_late_start_at_any_hour_sends_the_written_notice_before_any_call(
    scenario: Scenario, recorder: Recorder
) -> None:
    today = await scenario.today()
    handle = await scenario.start(DEFAULT, today - 2 * DAY)
    account = account_of(handle)
    await scenario.sleep_until(today + 2 * DAY)

    sms = [(i.stage_id, t) for i, t in recorder.sms if i.account_id == account]
    calls = [(i.stage_id, t) for i, t in recorder.calls if i.account_id == account]
    assert [s for s, _ in sms][:1] == ["d1_sms"]
    assert "d_minus_3_sms" not in [s for s, _ in sms]
    assert [c for c, _ in calls] == ["d2_call"]
    assert sms[0][1] <= calls[0][1]
    for _, t in [*sms, *calls]:
        assert time(8) <= scenario.local_time(t) < time(22)
    await handle.terminate("test over")


@pytest.mark.parametrize("start_at", [AT_14_39], ids=["start_at=14:39"], indirect=True)
@pytest.mark.parametrize("failure", [SmsFailure.UNREACHABLE_NUMBER, SmsFailure.RECIPIENT_OPTED_OUT])
async def test_a_written_notice_that_cannot_go_holds_back_every_call(
    scenario: Scenario, recorder: Recorder, failure: SmsFailure
) -> None:
    """The notice SMS refused (a number that cannot take SMS, an opt-out at the provider): no
    fallback call task, and the call stages are suppressed, not made without the notice."""
    recorder.sms_failures["d1_sms"] = failure
    today = await scenario.today()
    handle = await scenario.start(DEFAULT, today - 2 * DAY)
    account = account_of(handle)
    await scenario.sleep_until(today + 14 * DAY)

    assert recorder.sms_stages(account) == ["d1_sms"]
    assert recorder.call_stages(account) == []
    status = await handle.query(OverdueAccountWorkflow.status)
    assert {"d2_call", "d15_collections_call"} <= set(status.stages_suppressed)
    why = "sms_unreachable" if failure is SmsFailure.UNREACHABLE_NUMBER else "sms_opted_out"
    assert f"d15_collections_call suppressed: no_written_notice: {why}" in status.notes
    await handle.terminate("test over")


ENDING = Policy.model_validate(
    {
        "id": "wf-ends",
        "version": 1,
        "contact_windows": {"default": {"start": "08:00", "end": "21:00"}},
        "written_notice": "d1_sms",
        "stages": [
            {"id": "d1_sms", "offset": "1d", "channel": "sms", "template": "t", "send_at": "10:00"},
            {
                "id": "d3_sms",
                "offset": "3d",
                "channel": "sms",
                "template": "t",
                "send_at": "10:00",
                "until": "5d",
            },
            {"id": "d9_call", "offset": "9d", "channel": "call_task", "queue": "general"},
        ],
        "templates": {"t": {"en": "Hi. Reply STOP to opt out."}},
    }
)


async def test_a_pause_that_ends_after_a_stages_end_passes_the_stage_over(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(ENDING, due)
    account = account_of(handle)
    await scenario.sleep_until(due + 2 * DAY)
    await handle.execute_update(
        OverdueAccountWorkflow.pause, PauseRequest(actor="sup-1", reason="review")
    )
    await scenario.sleep_until(due + 6 * DAY)  # d3_sms ended at D+5 00:00
    await handle.execute_update(
        OverdueAccountWorkflow.resume, ResumeRequest(actor="sup-1", reason="done")
    )
    await scenario.sleep_until(due + 10 * DAY)

    assert recorder.sms_stages(account) == ["d1_sms"]
    assert recorder.call_stages(account) == ["d9_call"]
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.stages_skipped == ["d3_sms"]
    assert "d3_sms expired" in status.notes
    await handle.terminate("test over")


def recorded(name: str) -> tuple[set[str], list[str]]:
    """A recorded history's patch ids, and the stages its SMS activities were scheduled for."""
    path = ROOT / "tests" / "histories" / f"{name}.json"
    ids, sms = set(), []
    for event in json.loads(path.read_text())["events"]:
        marker = event.get("markerRecordedEventAttributes")
        if marker and marker.get("markerName") == "core_patch":
            [payload] = marker["details"]["patch-data"]["payloads"]
            ids.add(json.loads(base64.b64decode(payload["data"]))["id"])
        scheduled = event.get("activityTaskScheduledEventAttributes")
        if scheduled and scheduled["activityType"]["name"] == "send_sms":
            [payload] = scheduled["input"]["payloads"]
            sms.append(json.loads(base64.b64decode(payload["data"]))["stage_id"])
    return ids, sms


def test_the_recorded_histories_of_both_rules() -> None:
    """`late_start_day_after_due` was recorded with the marker; the same start recorded by the
    code before this release sent the "due soon" SMS after the due date, and carries no marker.
    The replay test replays both: the second on the old rules (the gate's patch answers false
    where they disagree), which send the same commands."""
    ids, sms = recorded("late_start_day_after_due")
    assert COMPLIANCE_2026_12 in ids and sms == ["d1_sms"]
    ids, sms = recorded("late_start_day_after_due_before_compliance")
    assert COMPLIANCE_2026_12 not in ids and sms == ["d_minus_3_sms", "d1_sms"]
