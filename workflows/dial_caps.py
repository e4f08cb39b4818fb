"""Call caps at the point of contact: may an agent dial this number now, and if not, when?

The workflow's caps (`contact_rules.cap_free_at`) count the call TASKS it creates. An agent may
dial several times for one task, so the caps are checked again, per dial attempt, when a task
is claimed and when a dial is recorded. Pure functions over a number's recorded attempts:

- unanswered attempts in the customer's local day < `calls_per_day` (CBA 2026: at most 6
  unanswered attempts a day to one number);
- attempts of any outcome in the rolling 7 days < `calls_per_7_days` (Reg F §1006.14(b));
- no conversation within `call_quiet_days_after_conversation` days (Reg F §1006.14(b));
- and inside the contact window for the number's country, on the customer's local day: with
  the policy's rest-day calendar for calls (`workflows.calendars`), a rest day keeps the
  calls' rest-day hours, or none.

Days are the customer's local calendar days; "the rolling 7 days" before an instant `t` are
the attempts in `(t - 7 days, t]`. The store (`overdue.store.dial_attempts`) reads the history
and the console (`api.console.calling_hours`) picks the window; the arithmetic lives here so the
claim, the dial and the tests share one implementation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workflows.calendars import ChannelCalendar, rest_day
from workflows.contact_rules import WEEK, at_local, in_window, local_date, window_open_at
from workflows.customer_state import InconvenientTime
from workflows.policy import Caps, ContactWindow
from workflows.preferences import earliest_convenient, inconvenient_at


class DialOutcome(StrEnum):
    """What one dial attempt came to: a closed set, the agent picks one per attempt."""

    NO_ANSWER = "no_answer"  # rang out
    BUSY = "busy"  # line busy or call rejected before it was answered
    VOICEMAIL = "voicemail"  # a machine answered; nobody was spoken to
    REACHED = "reached"  # right-party conversation
    REFUSED = "refused"  # the right party answered and would not talk: still a conversation
    WRONG_PARTY = "wrong_party"  # someone else answered (a relative, a colleague)
    WRONG_NUMBER = "wrong_number"  # the number is not the customer's


# Not answered by a person: what the CBA's daily cap counts.
UNANSWERED = frozenset({DialOutcome.NO_ANSWER, DialOutcome.BUSY, DialOutcome.VOICEMAIL})
# The customer was spoken to: starts the quiet period (Reg F's "telephone conversation").
CONVERSATIONS = frozenset({DialOutcome.REACHED, DialOutcome.REFUSED})


class DialRefusal(StrEnum):
    """Why a dial is not allowed now (the console says it in words: api/console/dials.py)."""

    UNKNOWN_TIME_ZONE = "unknown_time_zone"  # the local hour cannot be known
    NO_CALLS = "no_calls"  # the policy allows no calls at all (a cap of 0)
    QUIET_PERIOD = "quiet_period"
    DAILY_CAP = "daily_cap"
    WEEKLY_CAP = "weekly_cap"
    OUTSIDE_WINDOW = "outside_window"
    CALLS_REFUSED = "calls_refused"  # the customer said: no calls (their preferences)
    INCONVENIENT_TIME = "inconvenient_time"  # a time the customer said is inconvenient


@dataclass(frozen=True)
class DialAttempt:
    """A recorded attempt, as far as caps are concerned."""

    at: datetime
    unanswered: bool
    conversation: bool

    @classmethod
    def of(cls, at: datetime, outcome: DialOutcome) -> DialAttempt:
        return cls(at, outcome in UNANSWERED, outcome in CONVERSATIONS)


# The shape of `DialCheck.as_json`, stored with each attempt: bump it when a field changes.
FACTS_VERSION = 1


@dataclass(frozen=True)
class DialCheck:
    """The facts checked for one dial at one instant: stored with the attempt (`checked`), so
    a compliance receipt can be written from them in the same transaction."""

    at: datetime  # the instant checked (UTC)
    time_zone: str | None
    local_at: datetime | None  # `at` in the customer's zone; None: zone unknown
    window_start: time  # the regular window for the number's country
    window_end: time
    rest_day: bool  # the local day is a rest day in the calendar for calls
    day_hours: tuple[time, time] | None  # hours kept that local day; None: no calls that day
    in_window: bool
    unanswered_today: int  # before this dial, in the customer's local day
    attempts_7_days: int  # before this dial, in (at - 7 days, at]
    last_conversation_at: datetime | None
    quiet_until: datetime | None  # None: no quiet period running at `at`
    calls_per_day: int
    calls_per_7_days: int
    quiet_days: int
    refusal: DialRefusal | None  # None: allowed
    workable_from: datetime | None  # earliest allowed instant (UTC); None: never
    # The customer's stated preferences (Reg F §1006.6(b)(1)(i)), when the caller knew them.
    calls_refused: bool = False
    inconvenient_time: bool = False  # `at` falls in a time the customer said is inconvenient
    # Who asked, for a receipt: the country whose window applied and the policy (the console
    # sets them; the pure check knows only the window and the caps it was given).
    jurisdiction: str | None = None
    policy_id: str | None = None
    policy_version: int | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None

    def as_json(self) -> dict[str, Any]:
        def iso(value: datetime | time | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "at": iso(self.at),
            "time_zone": self.time_zone,
            "local_at": iso(self.local_at),
            "window": {"start": iso(self.window_start), "end": iso(self.window_end)},
            "rest_day": self.rest_day,
            "day_hours": None
            if self.day_hours is None
            else {"start": iso(self.day_hours[0]), "end": iso(self.day_hours[1])},
            "in_window": self.in_window,
            "unanswered_today": self.unanswered_today,
            "attempts_7_days": self.attempts_7_days,
            "last_conversation_at": iso(self.last_conversation_at),
            "quiet_until": iso(self.quiet_until),
            "caps": {
                "calls_per_day": self.calls_per_day,
                "calls_per_7_days": self.calls_per_7_days,
                "call_quiet_days_after_conversation": self.quiet_days,
            },
            "refusal": None if self.refusal is None else self.refusal.value,
            "workable_from": iso(self.workable_from),
            "calls_refused": self.calls_refused,
            "inconvenient_time": self.inconvenient_time,
            "jurisdiction": self.jurisdiction,
            "policy": {"id": self.policy_id, "version": self.policy_version},
            "version": FACTS_VERSION,
        }

    @classmethod
    def from_json(cls, facts: Mapping[str, Any]) -> DialCheck:
        """The facts as `as_json` stored them (a receipt reads them back); local times come
        back in the customer's zone."""
        if facts.get("version") != FACTS_VERSION:
            raise ValueError(f"dial facts version {facts.get('version')!r} is not {FACTS_VERSION}")
        zone = zone_or_none(facts["time_zone"])

        def moment(key: str) -> datetime | None:
            value = facts[key]
            return None if value is None else datetime.fromisoformat(value)

        local_at = moment("local_at")
        hours = facts["day_hours"]
        refusal = facts["refusal"]
        at = moment("at")
        assert at is not None
        return cls(
            at=at,
            time_zone=facts["time_zone"],
            local_at=local_at if local_at is None or zone is None else local_at.astimezone(zone),
            window_start=time.fromisoformat(facts["window"]["start"]),
            window_end=time.fromisoformat(facts["window"]["end"]),
            rest_day=facts["rest_day"],
            day_hours=None
            if hours is None
            else (time.fromisoformat(hours["start"]), time.fromisoformat(hours["end"])),
            in_window=facts["in_window"],
            unanswered_today=facts["unanswered_today"],
            attempts_7_days=facts["attempts_7_days"],
            last_conversation_at=moment("last_conversation_at"),
            quiet_until=moment("quiet_until"),
            calls_per_day=facts["caps"]["calls_per_day"],
            calls_per_7_days=facts["caps"]["calls_per_7_days"],
            quiet_days=facts["caps"]["call_quiet_days_after_conversation"],
            refusal=None if refusal is None else DialRefusal(refusal),
            workable_from=moment("workable_from"),
            calls_refused=facts["calls_refused"],
            inconvenient_time=facts["inconvenient_time"],
            jurisdiction=facts["jurisdiction"],
            policy_id=facts["policy"]["id"],
            policy_version=facts["policy"]["version"],
        )


def zone_or_none(time_zone: str | None) -> ZoneInfo | None:
    """The IANA zone, or None for none or a name the zone database does not know."""
    if not time_zone:
        return None
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def unanswered_on_local_day(history: Sequence[DialAttempt], time_zone: str, t: datetime) -> int:
    day = local_date(t, time_zone)
    return sum(
        1 for a in history if a.unanswered and a.at <= t and local_date(a.at, time_zone) == day
    )


def attempts_in_week(history: Sequence[DialAttempt], t: datetime) -> int:
    return sum(1 for a in history if t - WEEK < a.at <= t)


def quiet_until(caps: Caps, history: Sequence[DialAttempt], t: datetime) -> datetime | None:
    """End of the quiet period running at `t` after the latest conversation; None if none."""
    talks = [a.at for a in history if a.conversation and a.at <= t]
    if not talks or caps.call_quiet_days_after_conversation == 0:
        return None
    until = max(talks) + timedelta(days=caps.call_quiet_days_after_conversation)
    return until if t < until else None


def refusal_at(
    window: ContactWindow,
    caps: Caps,
    time_zone: str,
    history: Sequence[DialAttempt],
    t: datetime,
    calendar: ChannelCalendar | None = None,
) -> DialRefusal | None:
    """The first rule a dial at `t` would break, in a fixed order; None: allowed."""
    if caps.calls_per_day == 0 or caps.calls_per_7_days == 0:
        return DialRefusal.NO_CALLS
    if quiet_until(caps, history, t) is not None:
        return DialRefusal.QUIET_PERIOD
    if unanswered_on_local_day(history, time_zone, t) >= caps.calls_per_day:
        return DialRefusal.DAILY_CAP
    if attempts_in_week(history, t) >= caps.calls_per_7_days:
        return DialRefusal.WEEKLY_CAP
    if not in_window(window, time_zone, t, calendar):
        return DialRefusal.OUTSIDE_WINDOW
    return None


# Each step moves past one blocking rule; they line up within a few steps (a week's attempts
# age out, a day ends, a window opens), so this bound is never reached in practice.
_MAX_STEPS = 64


def dial_free_at(
    window: ContactWindow,
    caps: Caps,
    time_zone: str,
    history: Sequence[DialAttempt],
    t: datetime,
    calendar: ChannelCalendar | None = None,
) -> datetime | None:
    """The earliest instant at or after `t` at which a dial is allowed; None: never."""
    candidate = t
    for _ in range(_MAX_STEPS):
        refusal = refusal_at(window, caps, time_zone, history, candidate, calendar)
        if refusal is None:
            return candidate
        if refusal is DialRefusal.NO_CALLS:
            return None
        if refusal is DialRefusal.QUIET_PERIOD:
            until = quiet_until(caps, history, candidate)
            assert until is not None
            candidate = until
        elif refusal is DialRefusal.DAILY_CAP:
            tomorrow = local_date(candidate, time_zone) + timedelta(days=1)
            candidate = at_local(tomorrow, time.min, time_zone)
        elif refusal is DialRefusal.WEEKLY_CAP:
            # Free once enough of the oldest attempts of the rolling week have aged out.
            week = sorted(a.at for a in history if candidate - WEEK < a.at <= candidate)
            candidate = week[len(week) - caps.calls_per_7_days] + WEEK
        else:
            candidate = window_open_at(window, time_zone, candidate, calendar)
    return None


def _day_hours(
    window: ContactWindow, calendar: ChannelCalendar | None, local_at: datetime
) -> tuple[bool, tuple[time, time] | None]:
    """Whether the local day is a rest day for calls, and the hours it keeps."""
    if calendar is None:
        return False, (window.start, window.end)
    day = local_at.date()
    return rest_day(calendar.calendar, day), calendar.hours_on(day, window.start, window.end)


def check_dial(
    *,
    window: ContactWindow,
    caps: Caps,
    time_zone: str | None,
    history: Sequence[DialAttempt],
    now: datetime,
    calendar: ChannelCalendar | None = None,
    inconvenient: Sequence[InconvenientTime] = (),
    calls_refused: bool = False,
) -> DialCheck:
    """Whether one more dial to this number is allowed at `now`, with the facts checked.
    `calendar`: the policy's rest-day calendar for calls to the number's country (None: every
    day keeps the window); `inconvenient`, `calls_refused`: what the customer said (their
    preferences; none when the caller does not know them)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone = zone_or_none(time_zone)
    facts: dict[str, Any] = {
        "at": now,
        "time_zone": time_zone,
        "window_start": window.start,
        "window_end": window.end,
        "calls_per_day": caps.calls_per_day,
        "calls_per_7_days": caps.calls_per_7_days,
        "quiet_days": caps.call_quiet_days_after_conversation,
        "attempts_7_days": attempts_in_week(history, now),
        "last_conversation_at": max(
            (a.at for a in history if a.conversation and a.at <= now), default=None
        ),
        "quiet_until": quiet_until(caps, history, now),
        "calls_refused": calls_refused,
    }
    if zone is None or time_zone is None:
        return DialCheck(
            **facts,
            local_at=None,
            rest_day=False,
            day_hours=None,
            in_window=False,
            unanswered_today=0,
            refusal=DialRefusal.UNKNOWN_TIME_ZONE,
            workable_from=None,
        )
    local_at = now.astimezone(zone)
    resting, hours = _day_hours(window, calendar, local_at)
    refusal, free_at = _customer_said(
        window, caps, time_zone, history, now, calendar, inconvenient, calls_refused
    )
    return DialCheck(
        **facts,
        local_at=local_at,
        rest_day=resting,
        day_hours=hours,
        in_window=in_window(window, time_zone, now, calendar),
        unanswered_today=unanswered_on_local_day(history, time_zone, now),
        refusal=refusal,
        workable_from=free_at,
        inconvenient_time=inconvenient_at(inconvenient, time_zone, now) is not None,
    )


def _customer_said(
    window: ContactWindow,
    caps: Caps,
    time_zone: str,
    history: Sequence[DialAttempt],
    now: datetime,
    calendar: ChannelCalendar | None,
    inconvenient: Sequence[InconvenientTime],
    calls_refused: bool,
) -> tuple[DialRefusal | None, datetime | None]:
    """The refusal and the earliest allowed instant, the customer's preferences on top of the
    policy's rules: no calls at all if they refused calls; none in a time they said is
    inconvenient (deferred past it, composed with the window, calendar and caps)."""
    refusal = refusal_at(window, caps, time_zone, history, now, calendar)
    if calls_refused and refusal is not DialRefusal.NO_CALLS:
        return DialRefusal.CALLS_REFUSED, None
    if refusal is None and inconvenient_at(inconvenient, time_zone, now) is not None:
        refusal = DialRefusal.INCONVENIENT_TIME

    def free_at(t: datetime) -> datetime | None:
        return dial_free_at(window, caps, time_zone, history, t, calendar)

    return refusal, earliest_convenient(free_at, inconvenient, time_zone, now)
