"""Property tests on the pure core: for random policies, event sequences and time zones, no
contact is ever made outside a window, over a cap, after resolution, during a pause or dispute,
or on an opted-out channel."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.budget import examples
from tests.workflows.records import make_record
from workflows.calendars import Calendar, ChannelCalendar, RestDayChannel
from workflows.contact_rules import Contact, earliest_allowed, local_date
from workflows.decisions import stage_time
from workflows.policy import Caps, ContactWindow, Policy
from workflows.simulation import Event, SimulatedContact, simulate
from workflows.types import (
    ContactCeased,
    DisputeClosed,
    DisputeOpened,
    PauseRequest,
    PaymentReported,
    ResumeRequest,
    SmsConsentChanged,
)

ZONES = [
    "Asia/Shanghai",
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Pacific/Chatham",
]
START = datetime(2026, 3, 1, tzinfo=UTC)
UNTIL = START + timedelta(days=90)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    n = draw(st.integers(1, 7))
    offsets = sorted(draw(st.lists(st.integers(-3, 60), min_size=n, max_size=n)))
    stages = []
    for index, offset in enumerate(offsets):
        channel = draw(st.sampled_from(["sms", "call_task", "notify"]))
        stage: dict[str, object] = {"id": f"s{index}", "offset": f"{offset}d", "channel": channel}
        if channel == "sms":
            stage["template"] = "t"
        elif channel == "call_task":
            stage["queue"] = "general"
        else:
            stage["kind"] = "app_notice"
        if draw(st.booleans()):
            stage["send_at"] = (
                f"{draw(st.integers(0, 23)):02d}:{draw(st.sampled_from([0, 30])):02d}"
            )
        stages.append(stage)
    start = draw(st.integers(6, 10))
    end = draw(st.integers(17, 22))
    # Grace 0 (only the latest due stage acts) or up to three days (earlier ones act too).
    grace_minutes = draw(
        st.sampled_from([0, 0, 30, 6 * 60, 24 * 60, 3 * 24 * 60]) | st.integers(0, 3 * 24 * 60)
    )
    return Policy.model_validate(
        {
            "id": "random",
            "version": 1,
            "catch_up_grace": f"{grace_minutes}m",
            "contact_windows": {"default": {"start": f"{start:02d}:00", "end": f"{end:02d}:00"}},
            "caps": {
                "sms_per_day": draw(st.integers(1, 2)),
                "sms_per_week": draw(st.integers(1, 4)),
                "calls_per_day": draw(st.integers(1, 3)),
                "calls_per_7_days": draw(st.integers(1, 4)),
                "call_quiet_days_after_conversation": 0,
            },
            "stages": stages,
            "templates": {"t": {"en": "Hi. Reply STOP to opt out."}},
        }
    )


@st.composite
def event_sequences(draw: st.DrawFn) -> list[tuple[datetime, Event]]:
    events: list[tuple[datetime, Event]] = []
    for n in range(draw(st.integers(0, 8))):
        at = START + timedelta(minutes=draw(st.integers(0, 90 * 24 * 60)))
        kind = draw(
            st.sampled_from(["pay", "dispute", "close", "pause", "resume", "out", "in", "cease"])
        )
        event: Event
        if kind == "pay":
            amount = draw(st.integers(1, 120_000))
            event = PaymentReported(
                payment_id=f"p{n}", amount_minor=amount, currency="CNY", paid_at=at
            )
        elif kind == "dispute":
            event = DisputeOpened(dispute_id="d", reason="r")
        elif kind == "close":
            event = DisputeClosed(dispute_id="d", resolution="r")
        elif kind == "pause":
            event = PauseRequest(actor="ops", reason="r")
        elif kind == "resume":
            event = ResumeRequest(actor="ops", reason="r")
        elif kind == "cease":
            event = ContactCeased(request_id=f"c{n}", reason="r")
        else:
            event = SmsConsentChanged(opted_out=kind == "out", source="test")
        events.append((at, event))
    return sorted(events, key=lambda pair: pair[0])


def intervals(
    events: list[tuple[datetime, Event]], opens: type, closes: type | None
) -> list[tuple[datetime, datetime]]:
    """[from, to) spans in which a condition held, replaying events in order."""
    spans: list[tuple[datetime, datetime]] = []
    since: datetime | None = None
    for at, event in events:
        if isinstance(event, opens) and since is None:
            since = at
        elif closes is not None and isinstance(event, closes) and since is not None:
            spans.append((since, at))
            since = None
    if since is not None:
        spans.append((since, UNTIL + timedelta(days=1)))
    return spans


@settings(
    max_examples=examples(150, 60), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    policy=policies(),
    events=event_sequences(),
    zone=st.sampled_from(ZONES),
    due_day=st.integers(0, 20),
)
def test_no_contact_ever_breaks_a_rule(
    policy: Policy, events: list[tuple[datetime, Event]], zone: str, due_day: int
) -> None:
    record = make_record(
        policy, due_date=date(2026, 3, 1) + timedelta(days=due_day), time_zone=zone
    )
    record.jurisdiction = "XX"
    contacts = simulate(record, events, START, UNTIL)
    window = policy.window_for("XX")
    caps = policy.caps
    customer = [c for c in contacts if c.channel in ("sms", "call_task", "notify")]

    for contact in customer:
        local = contact.at.astimezone(ZoneInfo(zone)).time()
        assert window.start <= local < window.end, (contact, local)

    _assert_caps(contacts, "sms", caps.sms_per_day, caps.sms_per_week, zone)
    _assert_caps(contacts, "call_task", caps.calls_per_day, caps.calls_per_7_days, zone)

    paid, resolved_at = 0, None
    for at, event in events:
        if isinstance(event, PaymentReported):
            paid += event.amount_minor
            if paid >= 100_000 and resolved_at is None:
                resolved_at = at
    if resolved_at is not None:
        assert all(c.at < resolved_at for c in contacts), "contact after resolution"

    quiet = intervals(events, PauseRequest, ResumeRequest) + intervals(
        events, DisputeOpened, DisputeClosed
    )
    for start, end in quiet:
        assert not [c for c in contacts if start <= c.at < end], "contact during a pause or dispute"

    opted_out_from = _first_opt_out(events)
    if opted_out_from is not None:
        opted_in = _opt_in_after(events, opted_out_from)
        sms = [c for c in contacts if c.channel == "sms" and opted_out_from <= c.at < opted_in]
        assert not sms, "sms to an opted-out customer"

    ceased = next((at for at, e in events if isinstance(e, ContactCeased)), None)
    if ceased is not None:
        assert not [
            c for c in contacts if c.at >= ceased and c.channel in ("sms", "call_task", "notify")
        ]

    # Each stage acts at most once, and in the order of its due time (ties in list order):
    # catch-up may skip an earlier stage, never act on it after a later one.
    index = {stage.id: n for n, stage in enumerate(policy.stages)}
    order = [
        (
            stage_time(policy.stages[index[c.stage_id]], record.anchor_at, zone, policy),
            index[c.stage_id],
        )
        for c in customer
        if c.stage_id in index
    ]
    assert order == sorted(set(order)), "a stage acted twice or out of order"
    assert not set(record.skipped) & {c.stage_id for c in customer}, "skipped, yet acted"


@settings(
    max_examples=examples(150, 60), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    policy=policies(),
    zone=st.sampled_from(ZONES),
    pick=st.integers(0, 6),
    after_minutes=st.integers(0, 5 * 24 * 60),
    grace_pick=st.integers(0, 6),
    grace_jitter=st.sampled_from([-1, 0, 1]) | st.integers(-3 * 24 * 60, 3 * 24 * 60),
)
def test_a_late_start_skips_exactly_the_stages_due_longer_ago_than_the_grace(
    policy: Policy, zone: str, pick: int, after_minutes: int, grace_pick: int, grace_jitter: int
) -> None:
    """Open all day, no caps in the way: what is due at a late start (`after_minutes` past a
    stage's time) acts at once, the oldest first, except the earlier stages that came due more
    than the grace before it. The grace is drawn around the age of a stage at the start."""
    anchor = make_record(policy, due_date=date(2026, 3, 1), time_zone=zone).anchor_at
    times = {s.id: stage_time(s, anchor, zone, policy) for s in policy.stages}
    ordered = sorted(times.values())
    start = ordered[pick % len(ordered)] + timedelta(minutes=after_minutes)
    age = start - ordered[grace_pick % len(ordered)]
    grace = max(timedelta(0), age + timedelta(minutes=grace_jitter))
    policy = Policy.model_validate(
        policy.model_dump()
        | {
            "contact_windows": {"default": {"start": "00:00", "end": "23:59:59"}},
            "caps": {
                "sms_per_day": 100,
                "sms_per_week": 100,
                "calls_per_day": 100,
                "calls_per_7_days": 100,
                "call_quiet_days_after_conversation": 0,
            },
            "catch_up_grace": grace,
        }
    )
    record = make_record(policy, due_date=date(2026, 3, 1), time_zone=zone)
    contacts = simulate(record, [], start, UNTIL)

    due = [s for s in policy.stages if times[s.id] <= start]
    latest = max((times[s.id] for s in due), default=start)
    skipped = [s.id for s in due if times[s.id] < latest and start - times[s.id] > grace]
    assert record.skipped[: len(skipped)] == skipped  # at the start, in list order
    index = {stage.id: n for n, stage in enumerate(policy.stages)}
    acting = sorted((s.id for s in due if s.id not in skipped), key=lambda i: (times[i], index[i]))
    assert [c.stage_id for c in contacts if c.at == start] == acting


def _first_opt_out(events: list[tuple[datetime, Event]]) -> datetime | None:
    return next((at for at, e in events if isinstance(e, SmsConsentChanged) and e.opted_out), None)


def _opt_in_after(events: list[tuple[datetime, Event]], since: datetime) -> datetime:
    return next(
        (
            at
            for at, e in events
            if isinstance(e, SmsConsentChanged) and not e.opted_out and at > since
        ),
        UNTIL + timedelta(days=1),
    )


def _assert_caps(
    contacts: list[SimulatedContact], channel: str, per_day: int, per_week: int, zone: str
) -> None:
    times = sorted(c.at for c in contacts if c.channel == channel)
    per_local_day = Counter(local_date(t, zone) for t in times)
    assert max(per_local_day.values(), default=0) <= per_day
    for t in times:
        in_week = [x for x in times if t - timedelta(days=7) < x <= t]
        assert len(in_week) <= per_week


def test_simulation_of_the_default_shape_sends_each_stage_once() -> None:
    policy = Policy.model_validate(
        {
            "id": "p",
            "version": 1,
            "stages": [
                {"id": "a", "offset": "1d", "channel": "sms", "template": "t", "send_at": "10:00"},
                {
                    "id": "b",
                    "offset": "2d",
                    "channel": "call_task",
                    "queue": "general",
                    "send_at": "09:00",
                },
            ],
            "templates": {"t": {"en": "Hi. Reply STOP to opt out."}},
        }
    )
    record = make_record(policy, due_date=date(2026, 3, 2))
    contacts = simulate(record, [], START, UNTIL)
    assert [(c.stage_id, c.at.astimezone(ZoneInfo("Asia/Shanghai")).time()) for c in contacts] == [
        ("a", time(10)),
        ("b", time(9)),
    ]


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    """A calendar over March-May 2026: random weekday holidays, working weekend days and
    blackout days, and per channel 'none' or random rest-day hours."""
    days = [date(2026, 3, 1) + timedelta(days=n) for n in range(92)]
    weekdays = [d for d in days if d.weekday() < 5]
    weekends = [d for d in days if d.weekday() >= 5]
    rest = draw(st.lists(st.sampled_from(weekdays), max_size=25, unique=True))
    working = draw(st.lists(st.sampled_from(weekends), max_size=10, unique=True))
    blackout = draw(st.lists(st.sampled_from(days), max_size=10, unique=True))
    rules: dict[str, object] = {}
    for channel in ("sms", "call", "notify"):
        if draw(st.booleans()):
            start = draw(st.integers(0, 22))
            end = draw(st.integers(start + 1, 23))
            rules[channel] = {"start": f"{start:02d}:00", "end": f"{end:02d}:30"}
        else:
            rules[channel] = "none"
    return Calendar.model_validate(
        {
            "source": "none",
            "rest_days": sorted(rest),
            "working_days": sorted(working),
            "blackout_days": sorted(blackout),
            "on_rest_days": rules,
        }
    )


@settings(
    max_examples=examples(400, 100), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    calendar=calendars(),
    channel=st.sampled_from(["sms", "call", "notify"]),
    zone=st.sampled_from([*ZONES, "America/New_York"]),
    start_hour=st.integers(0, 12),
    end_hour=st.integers(13, 23),
    minutes=st.integers(0, 92 * 24 * 60),
    earlier=st.lists(st.integers(0, 92 * 24 * 60), max_size=6),
)
def test_earliest_allowed_never_lands_on_a_closed_rest_day_or_outside_its_hours(
    calendar: Calendar,
    channel: RestDayChannel,
    zone: str,
    start_hour: int,
    end_hour: int,
    minutes: int,
    earlier: list[int],
) -> None:
    window = ContactWindow(start=time(start_hour), end=time(end_hour))
    t = START + timedelta(minutes=minutes)
    kind = {"sms": "sms", "call": "call", "notify": None}[channel]
    history = [Contact(kind=kind or "sms", at=START + timedelta(minutes=m)) for m in earlier]
    caps = Caps(sms_per_day=1, sms_per_week=3, calls_per_day=1, calls_per_7_days=3)
    on = ChannelCalendar(calendar, channel)
    at = earliest_allowed(
        window=window, caps=caps, kind=kind, history=history, time_zone=zone, t=t, calendar=on
    )
    assert at is not None and at >= t
    local = at.astimezone(ZoneInfo(zone))
    hours = on.hours_on(local.date(), window.start, window.end)
    assert hours is not None, f"{local} is a rest day whose rule for {channel} is none"
    assert hours[0] <= local.time() < hours[1], (local, hours)
    # Without caps (a notice) it is the first allowed instant: t itself whenever t is allowed.
    if kind is None:
        t_local = t.astimezone(ZoneInfo(zone))
        t_hours = on.hours_on(t_local.date(), window.start, window.end)
        t_allowed = t_hours is not None and t_hours[0] <= t_local.time() < t_hours[1]
        assert (at == t) == t_allowed


@settings(
    max_examples=examples(150, 60), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    policy=policies(),
    calendar=calendars(),
    zone=st.sampled_from(ZONES),
    due_day=st.integers(0, 20),
)
def test_no_simulated_contact_happens_outside_its_rest_day_rule(
    policy: Policy, calendar: Calendar, zone: str, due_day: int
) -> None:
    """The whole core on random calendars: every SMS, call task and customer-facing notice
    lands inside its local day's hours (a rest day's rule for its channel)."""
    policy = Policy.model_validate(policy.model_dump() | {"calendars": {"XX": calendar}})
    record = make_record(
        policy, due_date=date(2026, 3, 1) + timedelta(days=due_day), time_zone=zone
    )
    record.jurisdiction = "XX"
    contacts = simulate(record, [], START, UNTIL)
    window = policy.window_for("XX")
    channels: dict[str, RestDayChannel] = {"sms": "sms", "call_task": "call", "notify": "notify"}
    for contact in contacts:
        if contact.channel not in channels:
            continue
        local = contact.at.astimezone(ZoneInfo(zone))
        on = ChannelCalendar(calendar, channels[contact.channel])
        hours = on.hours_on(local.date(), window.start, window.end)
        assert hours is not None, f"{contact} on a rest day closed to {on.channel}"
        assert hours[0] <= local.time() < hours[1], (contact, local, hours)
