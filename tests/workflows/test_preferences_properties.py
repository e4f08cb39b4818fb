"""Property: for any inconvenient times and refused channels a customer may state, no contact
the decision core makes falls inside an inconvenient time or goes on a refused channel."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from tests.workflows.records import make_record
from workflows import handlers
from workflows.customer_state import (
    MAX_INCONVENIENT_TIMES,
    UNTIL_MIDNIGHT,
    ContactPreferences,
    InconvenientTime,
    overlap_problem,
)
from workflows.handlers import Message
from workflows.policy import Policy
from workflows.preferences import convenient_weekdays, inconvenient_at, next_convenient
from workflows.simulation import run

ZONES = ("Asia/Shanghai", "America/New_York", "Europe/London")
REFUSABLE = {"sms": "sms", "call_task": "call"}
POLICY = Policy.model_validate(
    {
        "id": "prefs",
        "version": 1,
        "contact_windows": {"default": {"start": "08:00", "end": "21:00"}},
        "caps": {"sms_per_day": 2, "sms_per_week": 6},
        "stages": [
            {"id": "d0_sms", "offset": "0d", "channel": "sms", "template": "t", "send_at": "12:30"},
            {"id": "d1_call", "offset": "1d", "channel": "call_task", "queue": "general"},
            {"id": "d2_notice", "offset": "2d", "channel": "notify", "kind": "app_notice"},
            {"id": "d3_sms", "offset": "3d", "channel": "sms", "template": "t", "send_at": "09:00"},
            {"id": "d5_email", "offset": "5d", "channel": "notify", "kind": "email"},
            {"id": "d6_call", "offset": "6d", "channel": "call_task", "queue": "general"},
            {"id": "d9_sms", "offset": "9d", "channel": "sms", "template": "t", "send_at": "20:00"},
            {"id": "d12_call", "offset": "12d", "channel": "call_task", "queue": "general"},
        ],
        "templates": {"t": {"en": "Hi. Reply STOP to opt out."}},
        "vulnerable": {"min_days_between_contacts": 1},
    }
)


@st.composite
def inconvenient_times(draw: st.DrawFn) -> InconvenientTime:
    days = draw(st.sets(st.integers(0, 6), min_size=1, max_size=7))
    start = draw(st.integers(0, 95)) * 15  # minutes since midnight
    length = draw(st.integers(1, 48)) * 15
    end = start + length
    return InconvenientTime(
        weekdays=tuple(days),
        start=time(start // 60, start % 60),
        end=UNTIL_MIDNIGHT if end >= 24 * 60 else time(end // 60, end % 60),
    )


@st.composite
def stated(draw: st.DrawFn) -> tuple[tuple[InconvenientTime, ...], tuple[str, ...]]:
    """A set of ranges the validators accept (no overlap, time left in the window)."""
    times = tuple(draw(st.lists(inconvenient_times(), max_size=MAX_INCONVENIENT_TIMES)))
    assume(overlap_problem(times) is None)
    assume(not times or convenient_weekdays(times, time(8), time(21)))
    refused = tuple(draw(st.sets(st.sampled_from(["sms", "call"]), max_size=2)))
    return times, refused


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
PROPERTY = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@PROPERTY
@given(stated=stated(), zone=st.sampled_from(ZONES), t=instants)
def test_the_next_convenient_instant_is_never_inconvenient_nor_early(
    stated: tuple[tuple[InconvenientTime, ...], tuple[str, ...]], zone: str, t: datetime
) -> None:
    times, _ = stated
    got = next_convenient(times, zone, t)
    assert got is not None and got >= t
    assert inconvenient_at(times, zone, got) is None
    # Nothing convenient was passed over: the minute before is t or still inconvenient.
    before = got - timedelta(minutes=1)
    assert before < t or inconvenient_at(times, zone, before) is not None


@PROPERTY
@given(
    stated=stated(),
    zone=st.sampled_from(ZONES),
    due=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 1)),
    late_days=st.integers(0, 3),
    vulnerable=st.booleans(),
)
def test_no_contact_falls_in_an_inconvenient_time_or_on_a_refused_channel(
    stated: tuple[tuple[InconvenientTime, ...], tuple[str, ...]],
    zone: str,
    due: date,
    late_days: int,
    vulnerable: bool,
) -> None:
    times, refused = stated
    record = make_record(POLICY, due_date=due, time_zone=zone, vulnerable=vulnerable)
    start = record.anchor_at - timedelta(hours=12) + timedelta(days=late_days)
    prefs = ContactPreferences(actor="a1", inconvenient_times=times, refused_channels=refused)
    events = [(start, Message(handlers.SET_CONTACT_PREFERENCES, prefs))]
    sim = run(record, events, start, start + timedelta(days=30))
    assert [d.receipt.rejected for d in sim.delivered] == [None]
    violations = [
        c
        for c in sim.contacts
        if REFUSABLE.get(c.channel) in refused or inconvenient_at(times, zone, c.at) is not None
    ]
    assert violations == []
    suppressed = [n for n in sim.record.history if "suppressed: customer_refused" in n]
    event(f"contacts made: {min(len(sim.contacts), 5)}+, suppressed: {bool(suppressed)}")
