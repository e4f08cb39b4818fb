"""The portfolio simulator's engine: each account walks the workflow's own decision loop.

Pure (no I/O). An account's process is `workflows.simulation.run` (the workflow's handlers,
`next_step` and `acting`, nothing of its own) fed with the events its customer's behaviour
makes: payments, call outcomes, promises, hardship reports and plans, STOP texts. The events
depend on the contacts (a text lifts tomorrow's payment hazard, a call task gets an outcome),
so they are drawn as the process goes: from what the process does when nothing more happens,
the earliest event the behaviour makes is added to the account's timeline and the process is
run again with it, until no event comes before the end.

Two accounts of the same profile (everything the process reads: product, currency, due date,
zone, jurisdiction, segment, vulnerable) and the same timeline so far make the same decisions,
so each distinct timeline is run once (`Paths`) and shared. Amounts are run on a stand-in
balance (`STAND_IN_MINOR`) and scaled back per account, since the process reads a balance only
to resolve it at zero, unless the policy has a `min_balance_minor` condition: then the real
balance is part of the profile.

Draws are a hash of the seed, the account id and what is drawn (splitmix64), not a stream:
the same account makes the same draws whatever the order, the process or the other accounts,
and two policies compared on one portfolio meet the same customers.
"""

from __future__ import annotations

import copy
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from overdue.strategy.behaviour import BehaviourModel, Segment
from overdue.strategy.draws import account_key, draw
from overdue.strategy.portfolio import PortfolioAccount
from overdue.strategy.timeline import Ev, Path, messages
from workflows.acting import new_record
from workflows.policy import Policy
from workflows.simulation import run
from workflows.types import AccountRecord, CallOutcomeKind

STAND_IN_MINOR = 1_000_000
MAX_EVENTS = 60  # an account's walk is bounded (each step adds at least one event)
OPT_OUT_AFTER = timedelta(minutes=20)
AFTER_CALL = timedelta(minutes=1)  # a promise or hardship report recorded after the call
DECISION_TIME = time(11, 0, 13)
# What a draw is for (the hash's second input).
PAYMENT, OPT_OUT, REACHED, ANSWER, KEEPS, INSTALMENT = range(1, 7)


def profile_key(account: PortfolioAccount, policy: Policy) -> tuple[Any, ...]:
    """What the process reads of an account (and the SMS locale, for the tally)."""
    amount = account.amount_minor if _reads_balance(policy) else 0
    # The process reads the product only in stages' conditions (`when: products`).
    product = account.product if _reads_product(policy) else ""
    return (
        product,
        account.currency,
        account.due_date,
        account.time_zone,
        account.jurisdiction,
        account.risk_segment,
        account.vulnerable,
        account.locale,
        amount,
    )


def _reads_product(policy: Policy) -> bool:
    return any(stage.when.products is not None for stage in policy.stages)


def _reads_balance(policy: Policy) -> bool:
    return any(stage.when.min_balance_minor is not None for stage in policy.stages)


@dataclass
class Node:
    """One timeline's run, and what the behaviour needs of it."""

    timeline: tuple[Ev, ...]
    path: Path
    finished_at: datetime | None
    paid: int
    pay_times: list[datetime] = field(default_factory=list)
    pay_odds: list[float] = field(default_factory=list)  # P(paid by pay_times[i]), rising
    texts: list[datetime] = field(default_factory=list)  # SMS after the last event
    calls: list[tuple[datetime, int]] = field(default_factory=list)  # call tasks after it
    # The record as the process left it once everything up to the last event was done: a
    # longer timeline's run goes on from a copy of it. Made when first needed (most paths
    # are never extended), again from the parent's, with the new events.
    snapshot: AccountRecord | None = None
    parent: Node | None = None
    events: tuple[Ev, ...] = ()


class Paths:
    """The runs of one profile's accounts, each distinct timeline once."""

    def __init__(
        self,
        policy: Policy,
        model: BehaviourModel,
        account: PortfolioAccount,
        start: datetime,
        until: datetime,
    ) -> None:
        self.policy, self.model, self.start, self.until = policy, model, start, until
        self.account = account
        self.zone = ZoneInfo(account.time_zone)
        self.segment: Segment = model.segment(account.risk_segment)
        self.stand_in = account.amount_minor if _reads_balance(policy) else STAND_IN_MINOR
        self.nodes: dict[tuple[Ev, ...], Node] = {}
        # Each run starts from a copy of one fresh record (the policy, frozen, shared): building
        # the input again would validate the whole policy again.
        self.fresh = new_record(account.process_input(policy, self.stand_in), "sim", start)
        self.days = self._days()
        self.paid_off: dict[tuple[tuple[Ev, ...], datetime], Path] = {}

    def local(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=self.zone).astimezone(UTC)

    def root(self) -> Node:
        found = self.nodes.get(())
        if found is None:
            path = Path.of(run(self._copy(self.fresh), [], self.start, self.until), ())
            at_start = self._copy(self.fresh)
            run(at_start, [], self.start, self.start)  # what is due at the start, done
            found = self.nodes[()] = self._node((), path, at_start)
        return found

    def child(self, parent: Node, events: tuple[Ev, ...]) -> Node:
        timeline = parent.timeline + events
        found = self.nodes.get(timeline)
        if found is None:
            found = self.nodes[timeline] = self._resume(parent, events)
        return found

    def _copy(self, record: AccountRecord) -> AccountRecord:
        return copy.deepcopy(record, {id(self.policy): self.policy})

    def _resume(self, parent: Node, events: tuple[Ev, ...]) -> Node:
        """The parent's process given more events: `run` from a copy of the parent's record
        at its last event, through the new events to the end. `check_paths` and the tests
        compare this with a run from the start."""
        timeline = parent.timeline + events
        since, last = _last(parent.timeline, self.start), events[-1].at
        if parent.path.finished_at is not None and parent.path.finished_at <= since:
            path = replace(parent.path, timeline=timeline)
            return self._node(timeline, path, self.snapshot(parent))
        record = self._copy(self.snapshot(parent))
        upto = run(record, self._said(parent, events), since, last)
        rest = run(record, [], last, self.until) if upto.finished_at is None else None
        node = self._node(timeline, parent.path.continued(since, timeline, upto, rest), None)
        node.parent, node.events = parent, events
        return node

    def snapshot(self, node: Node) -> AccountRecord:
        """The node's record once everything up to its last event was done."""
        if node.snapshot is None:
            assert node.parent is not None
            record = self._copy(self.snapshot(node.parent))
            since = _last(node.parent.timeline, self.start)
            run(record, self._said(node.parent, node.events), since, node.events[-1].at)
            node.snapshot = record
        return node.snapshot

    def _said(self, parent: Node, events: tuple[Ev, ...]) -> list[tuple[datetime, Any]]:
        return messages(events, self.account.currency, len(parent.timeline))

    def run_for(self, account: PortfolioAccount, timeline: tuple[Ev, ...]) -> Path:
        """The process of `account` itself (its own product, balance) on `timeline`, from its own
        input as the API builds it: what `check` compares a walked path with."""
        record = new_record(account.process_input(self.policy, self.stand_in), "sim", self.start)
        sim = run(record, messages(timeline, account.currency), self.start, self.until)
        return Path.of(sim, timeline)

    def _days(self) -> list[tuple[datetime, float]]:
        """Each local day's payment instant in the simulated span, and its base hazard."""
        days = []
        day = self.start.astimezone(self.zone).date()
        while (at := self.local(day, self.model.payment_time)) <= self.until:
            if at > self.start:
                days.append((at, self.segment.hazard((day - self.account.due_date).days)))
            day += timedelta(days=1)
        return days

    def paid_in_full(self, node: Node, payment: Ev) -> Path:
        key = (node.timeline, payment.at)
        found = self.paid_off.get(key)
        if found is None:
            found = self.paid_off[key] = node.path.paid_off(payment)
        return found

    def _node(self, timeline: tuple[Ev, ...], path: Path, snapshot: AccountRecord | None) -> Node:
        paid = sum(ev.amount for ev in timeline if ev.kind == "pay")
        node = Node(timeline, path, path.finished_at, paid, snapshot=snapshot)
        last = _last(timeline, self.start)
        node.texts = [c.at for c in path.contacts if c.channel == "sms" and c.at > last]
        calls = [c.at for c in path.contacts if c.channel == "call_task"]
        node.calls = [(at, n) for n, at in enumerate(calls, 1) if at > last]
        if paid < self.stand_in:
            self._payment_odds(node, max([last, *(_hold(ev, self) for ev in timeline)]))
        return node

    def _payment_odds(self, node: Node, after: datetime) -> None:
        """Days on which the customer may pay, with the odds of having paid by each."""
        end = min(self.until, node.finished_at or self.until)
        lifted = self._lifts(node)
        unpaid = 1.0
        first = bisect_right(self.days, after, key=lambda day: day[0])
        for at, base in self.days[first:]:
            if at > end:
                break
            hazard = base * lifted.get(at.astimezone(self.zone).date(), 1.0) if lifted else base
            unpaid *= 1.0 - min(1.0, hazard)
            node.pay_times.append(at)
            node.pay_odds.append(1.0 - unpaid)

    def _lifts(self, node: Node) -> dict[date, float]:
        """The day after each contact: the payment hazard's factor."""
        uplift = self.model.channel_uplift
        lifts: dict[date, float] = {}
        touched = {(c.at.astimezone(self.zone).date(), c.channel) for c in node.path.contacts}
        touched |= {
            (ev.at.astimezone(self.zone).date(), "call")
            for ev in node.timeline
            if ev.kind == "outcome" and ev.detail == CallOutcomeKind.REACHED.value
        }
        for day, channel in touched:
            factor = 1.0 + uplift.get("call" if channel == "call" else channel, 0.0)
            if channel != "call_task":  # a task is not a conversation: its outcome says
                following = day + timedelta(days=1)
                lifts[following] = lifts.get(following, 1.0) * factor
        return lifts


def _last(timeline: tuple[Ev, ...], start: datetime) -> datetime:
    return timeline[-1].at if timeline else start


def _hold(ev: Ev, paths: Paths) -> datetime:
    """Until when the customer pays only as an event said (a promise, a plan)."""
    if ev.kind == "promise" and ev.day is not None:
        return paths.local(ev.day + timedelta(days=1), time.min)
    if ev.kind == "decide" and ev.plan:
        return paths.local(ev.plan[-1][0] + timedelta(days=1), time.min)
    return ev.at


def walk(paths: Paths, key: int) -> Path:
    """The account's run: its timeline grown one drawn event at a time."""
    node = paths.root()
    for depth in range(MAX_EVENTS):
        found = _next_events(paths, node, key, depth)
        if not found:
            break
        if (
            len(found) == 1
            and found[0].kind == "pay"
            and found[0].amount + node.paid >= paths.stand_in
        ):
            return paths.paid_in_full(node, found[0])
        node = paths.child(node, found)
    return node.path


def _next_events(paths: Paths, node: Node, key: int, depth: int) -> tuple[Ev, ...]:
    best: tuple[Ev, ...] = ()
    k = bisect_left(node.pay_odds, draw(key, PAYMENT, depth))
    if k < len(node.pay_odds):
        best = (Ev(node.pay_times[k], "pay", paths.stand_in - node.paid),)
    delay = timedelta(minutes=paths.model.call_outcome_after_minutes)
    for at, task in node.calls[:1]:
        when = at + delay
        if when <= paths.until and (not best or when < best[0].at):
            best = _call_events(paths, node, key, when, task)
    for at in node.texts:
        when = at + OPT_OUT_AFTER
        if when > paths.until or (best and when >= best[0].at):
            break
        if draw(key, OPT_OUT, int(at.timestamp())) < paths.model.sms_opt_out:
            best = (Ev(when, "opt_out"),)
            break
    return tuple(ev for ev in best if ev.at <= paths.until)


def _call_events(paths: Paths, node: Node, key: int, when: datetime, task: int) -> tuple[Ev, ...]:
    segment, stamp = paths.segment, int(when.timestamp())
    if draw(key, REACHED, stamp) >= segment.right_party_contact:
        return (Ev(when, "outcome", detail=CallOutcomeKind.NO_ANSWER.value, task=task),)
    reached = Ev(when, "outcome", detail=CallOutcomeKind.REACHED.value, task=task)
    left = paths.stand_in - node.paid
    answer = draw(key, ANSWER, stamp)
    today = when.astimezone(paths.zone).date()
    pay_time = paths.model.payment_time
    if answer < segment.promise:
        promised = today + timedelta(days=paths.model.promise_days)
        made = (reached, Ev(when + AFTER_CALL, "promise", left, day=promised))
        if draw(key, KEEPS, stamp) < segment.promise_keeping:
            return (*made, Ev(paths.local(promised, pay_time), "pay", left))
        return made
    if answer < segment.promise + segment.hardship:
        return (reached, *_plan(paths, key, when, left))
    return (reached,)


def _plan(paths: Paths, key: int, when: datetime, left: int) -> tuple[Ev, ...]:
    model = paths.model
    decided_on = when.astimezone(paths.zone).date() + timedelta(days=model.plan_decision_after_days)
    decided = max(paths.local(decided_on, DECISION_TIME), when + 2 * AFTER_CALL)
    count, every = model.plan_instalments, model.plan_every_days
    amounts = [left // count] * (count - 1) + [left - left // count * (count - 1)]
    first = decided.astimezone(paths.zone).date()
    plan = tuple((first + timedelta(days=every * (i + 1)), a) for i, a in enumerate(amounts))
    events = [Ev(when + AFTER_CALL, "hardship"), Ev(decided, "decide", plan=plan)]
    for i, (due, amount) in enumerate(plan):
        if draw(key, INSTALMENT, int(when.timestamp()) * 32 + i) >= paths.segment.plan_keeping:
            break
        events.append(Ev(paths.local(due, model.payment_time), "pay", amount))
    return tuple(events)


__all__ = ["STAND_IN_MINOR", "Ev", "Path", "Paths", "account_key", "profile_key", "walk"]
