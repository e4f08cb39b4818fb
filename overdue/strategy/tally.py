"""Per-day figures of a simulated portfolio, added up path by path.

Everything is counted in integers (accounts, contacts, segments, minor units, actions), so the
tallies of two processes merge in any order to the same figures. A path stands for every
account that walked it: `add` weighs it by their number and their balances.

Temporal billable actions are estimated from what the process did, by the rules bench/billing.py
counts histories with (overdue/billing_rules.py): one start; per contact an activity, and a timer
per distinct instant the process woke to act; a signal or an accepted update per event; an
activity per call task asked for and per cancellation of open tasks; a search-attribute upsert
at the start, on each change of state and at each instant it acted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from overdue.strategy.timeline import Path
from overdue.template_lint import worst_case_cost
from workflows import handlers
from workflows.policy import Policy

DAY = timedelta(days=1)
OPEN_BUCKETS = (
    ("not due", -10_000, 0),
    ("1-7", 1, 7),
    ("8-30", 8, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91+", 91, 10_000),
)
ENDED = frozenset({"resolved", "closed"})
SIGNAL_NAMES = frozenset(s.name for s in handlers.SIGNALS)


@dataclass
class Group:
    """The accounts that walked one path."""

    count: int
    balance_minor: int  # their balances' sum
    currency: str
    due_date: date
    locale: str


@dataclass
class Tally:
    start: datetime
    days: int
    accounts: int = 0
    paths: int = 0  # distinct (path, group) pairs added
    contacts: Counter[tuple[int, str, str]] = field(default_factory=Counter)  # day, channel, stage
    sms_segments: Counter[int] = field(default_factory=Counter)
    call_tasks: Counter[tuple[int, str]] = field(default_factory=Counter)  # day, queue
    calls_by_hour: Counter[tuple[int, int]] = field(default_factory=Counter)  # day, agents' hour
    actions: Counter[tuple[int, str]] = field(default_factory=Counter)
    state_moves: Counter[tuple[int, str]] = field(default_factory=Counter)  # +n in, -n out
    bucket_moves: Counter[tuple[int, str]] = field(default_factory=Counter)
    recovered: Counter[tuple[int, str]] = field(default_factory=Counter)  # day, currency
    violations: Counter[str] = field(default_factory=Counter)
    contacts_checked: int = 0

    def merge(self, other: Tally) -> None:
        self.accounts += other.accounts
        self.paths += other.paths
        self.contacts_checked += other.contacts_checked
        for name in (
            "contacts",
            "sms_segments",
            "call_tasks",
            "calls_by_hour",
            "actions",
            "state_moves",
            "bucket_moves",
            "recovered",
            "violations",
        ):
            getattr(self, name).update(getattr(other, name))

    def day(self, at: datetime) -> int:
        return min(self.days - 1, max(0, (at - self.start) // DAY))


class Counting:
    """Adds paths to a tally; knows the policy's texts and the agents' zone."""

    def __init__(self, tally: Tally, policy: Policy, agent_zone: str, stand_in: int) -> None:
        self.tally, self.policy, self.stand_in = tally, policy, stand_in
        self.agents = ZoneInfo(agent_zone)
        self._segments: dict[tuple[str, str], int] = {}

    def add(self, path: Path, group: Group, violations: Counter[str] | None = None) -> None:
        t, n = self.tally, group.count
        t.accounts += n
        t.paths += 1
        for c in path.contacts:
            d = t.day(c.at)
            t.contacts[(d, c.channel, c.stage_id)] += n
            if c.channel == "sms":
                t.sms_segments[d] += n * self.segments(c.stage_id, group.locale)
            elif c.channel == "call_task" and c.queue:
                self._call(d, c.queue, c.at, n)
        for task in path.tasks:
            self._call(t.day(task.at), task.queue, task.at, n)
        self._actions(path, n)
        self._states(path, group)
        for ev in path.timeline:
            if ev.kind == "pay" and (path.finished_at is None or ev.at <= path.finished_at):
                t.recovered[(t.day(ev.at), group.currency)] += (
                    group.balance_minor * ev.amount // self.stand_in
                )
        if violations is not None:
            t.violations.update({k: v * n for k, v in violations.items()})
            t.contacts_checked += n * (len(path.contacts) + len(path.tasks))

    def _call(self, day: int, queue: str, at: datetime, n: int) -> None:
        self.tally.call_tasks[(day, queue)] += n
        self.tally.calls_by_hour[(day, at.astimezone(self.agents).hour)] += n

    def segments(self, stage_id: str, locale: str) -> int:
        """Segments of the stage's text in `locale`, rendered with worst-case values."""
        key = (stage_id, locale)
        if key not in self._segments:
            self._segments[key] = _segments(self.policy, stage_id, locale)
        return self._segments[key]

    def _actions(self, path: Path, n: int) -> None:
        t = self.tally
        acts = t.actions
        acts[(0, "start")] += n  # its search attributes ride on the start (cost-2026-12)
        for at in {c.at for c in path.contacts}:
            acts[(t.day(at), "timer")] += n
            acts[(t.day(at), "upsert")] += n
        for c in path.contacts:
            acts[(t.day(c.at), "activity")] += n
        for task in path.tasks:
            acts[(t.day(task.at), "activity")] += n
        for at, _ in path.activities:  # events' audit, cancels, notices
            acts[(t.day(at), "activity")] += n
        if path.closed_at is not None:
            acts[(t.day(path.closed_at), "local_activity")] += n
        for ev, (handler, rejected) in zip(path.timeline, path.answers, strict=False):
            if handler in SIGNAL_NAMES:
                acts[(t.day(ev.at), "signal")] += n
            elif rejected is None:
                acts[(t.day(ev.at), "update")] += n
        for at, _ in path.states[1:]:
            acts[(t.day(at), "upsert")] += n

    def _states(self, path: Path, group: Group) -> None:
        t, n = self.tally, group.count
        previous = None
        closed_day = t.days
        for at, state in path.states:
            d = 0 if previous is None else t.day(at)
            t.state_moves[(d, state)] += n
            if previous is not None:
                t.state_moves[(d, previous)] -= n
            if state in ENDED and closed_day == t.days:
                closed_day = d
            previous = state
        first = t.start.date()
        for name, low, high in OPEN_BUCKETS:
            begin = max(0, (group.due_date - first).days + low)
            end = min(closed_day, (group.due_date - first).days + high + 1)
            if begin < end:
                t.bucket_moves[(begin, name)] += n
                if end < t.days:
                    t.bucket_moves[(end, name)] -= n


def _segments(policy: Policy, stage_id: str, locale: str) -> int:
    template = next((s.template for s in policy.stages if s.id == stage_id), None)
    if template is None:  # an instalment reminder (plan_instalment_1, ...)
        template = policy.hardship.reminder_template
    texts = policy.templates.get(template or "", {})
    text = texts.get(locale) or texts.get(policy.default_locale) or next(iter(texts.values()), "")
    counted = worst_case_cost(locale, text) if text else None
    return counted.segments if counted else 1
