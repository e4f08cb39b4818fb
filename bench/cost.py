"""Cost: billable Temporal actions and history events per account lifecycle (default policy).

Each scenario runs OverdueAccountWorkflow on Temporal's time-skipping test server with stand-in
activities (tests/workflows/harness.py), then counts its real history by the Temporal Cloud
rules (bench/billing.py). Two baselines from the same run:

- floor: 1 start + (1 timer + 1 activity) per contact actually made + the events received;
- naive: a design that wakes daily to poll: 1 start + (1 timer + 1 poll activity) per day of
  the lifecycle + 1 activity per contact + the events received (no search attributes at all).

    .venv/bin/python -m bench.cost [--scenario NAME ...] [--policy FILE] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from bench.billing import HistoryCost, workflow_cost
from bench.common import ROOT, fmt, print_table, publish_result, ratio, stopwatch
from bench.stack import account_input
from overdue.policy_files import load_policy
from tests.clock import next_local_instant
from tests.servers import start_time_skipping
from tests.workflows.harness import TZ, Handle, Recorder, payment, running_worker, start
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.policy import Policy
from workflows.policy_shelf import shelve
from workflows.types import HardshipDecision, HardshipReported, Instalment, PromiseToPay

DAY = timedelta(days=1)
AMOUNT = 150_000
START_DAYS_BEFORE_DUE = 5  # backends start the process before the D-3 reminder
LIFECYCLE_LIMIT = timedelta(days=400)  # bounded: every scenario must finish well before this
PAYLOAD_TARGET = 2_048  # issue 19: bytes of a start request's input
# Issue 19's target: every default-policy lifecycle at most this many times the floor.
TARGET_RATIO = 1.15


@dataclass
class Driver:
    """Drives one account through a scenario and counts the billable calls it makes."""

    env: WorkflowEnvironment
    handle: Handle
    due: Any  # date
    signals: int = 0
    updates: int = 0
    queries: int = 0

    def local(self, days_from_due: int, clock: time = time(12)) -> datetime:
        day = self.due + days_from_due * DAY
        return datetime.combine(day, clock, tzinfo=ZoneInfo(TZ)).astimezone(UTC)

    async def sleep_until(self, when: datetime) -> None:
        now = await self.env.get_current_time()
        if when > now:
            await self.env.sleep(when - now)

    async def pay(self, payment_id: str, amount: int) -> None:
        await self.handle.signal(OverdueAccountWorkflow.report_payment, payment(payment_id, amount))
        self.signals += 1

    async def signal(self, name: Any, arg: Any) -> None:
        await self.handle.signal(name, arg)
        self.signals += 1

    async def update(self, name: Any, arg: Any) -> Any:
        self.updates += 1
        return await self.handle.execute_update(name, arg)

    @property
    def events(self) -> int:
        return self.signals + self.updates + self.queries


async def never_pays(d: Driver) -> None:
    """No payment for 120 days (the default policy hands over on D+60 and closes)."""
    await d.sleep_until(d.local(120))


async def pays_on_day_1(d: Driver) -> None:
    """Pays in full at noon on D+1, after the day-one SMS and app notice, before any call."""
    await d.sleep_until(d.local(1))
    await d.pay("p-1", AMOUNT)


async def pays_on_day_9(d: Driver) -> None:
    await d.sleep_until(d.local(9))
    await d.pay("p-9", AMOUNT)


async def promise_kept(d: Driver) -> None:
    """D+3 an agent records a promise to pay in full by D+8; the customer pays on D+6."""
    await d.sleep_until(d.local(3))
    await d.update(
        OverdueAccountWorkflow.promise_to_pay,
        PromiseToPay(actor="agent-1", amount_minor=AMOUNT, promised_date=d.due + 8 * DAY),
    )
    await d.sleep_until(d.local(6))
    await d.pay("p-promise", AMOUNT)


async def hardship_plan(d: Driver) -> None:
    """D+3 hardship reported; D+5 a plan of 3 monthly instalments approved; each paid on time."""
    await d.sleep_until(d.local(3))
    await d.signal(
        OverdueAccountWorkflow.report_hardship,
        HardshipReported(report_id="h-1", reason="job loss", reported_at=d.local(3)),
    )
    await d.sleep_until(d.local(5))
    dues = [d.due + (15 + 30 * n) * DAY for n in range(3)]
    await d.update(
        OverdueAccountWorkflow.decide_hardship,
        HardshipDecision(
            actor="spec-1",
            approve=True,
            plan=[Instalment(due_date=day, amount_minor=AMOUNT // 3) for day in dues],
        ),
    )
    for n, day in enumerate(dues):
        await d.sleep_until(datetime.combine(day, time(12), tzinfo=ZoneInfo(TZ)).astimezone(UTC))
        await d.pay(f"i-{n + 1}", AMOUNT // 3)


SCENARIOS: dict[str, Callable[[Driver], Awaitable[None]]] = {
    "never_pays_120_days": never_pays,
    "pays_on_day_1": pays_on_day_1,
    "pays_on_day_9": pays_on_day_9,
    "promise_kept": promise_kept,
    "hardship_plan": hardship_plan,
}


def floor_actions(cost: HistoryCost, events: int) -> int:
    return 1 + 2 * cost.contacts + events


def naive_actions(cost: HistoryCost, events: int) -> tuple[int, int]:
    """(actions, days): one timer and one poll activity per day, plus contacts and events."""
    days = max(1, math.ceil(cost.lifetime_seconds / 86_400))
    return 1 + 2 * days + cost.contacts + events, days


async def start_env() -> WorkflowEnvironment:
    return await start_time_skipping()


async def run_scenario(env: WorkflowEnvironment, policy: Policy, name: str) -> dict[str, Any]:
    # Each scenario starts at the same local instant (a Wednesday, 09:15), whatever the wall
    # clock and the scenarios before it did to the server's clock: figures comparable run to run.
    now = await env.get_current_time()
    begin = next_local_instant(now, time(9, 15), TZ)
    await env.sleep(begin - now)
    due = begin.astimezone(ZoneInfo(TZ)).date() + START_DAYS_BEFORE_DUE * DAY
    handle = await start(env, policy, due, amount=AMOUNT)
    driver = Driver(env=env, handle=handle, due=due)
    await SCENARIOS[name](driver)
    outcome = await asyncio.wait_for(handle.result(), timeout=120)  # time skips meanwhile
    cost = await workflow_cost(env.client, handle.id, handle.first_execution_run_id or "")
    cost.add_client_calls(queries=driver.queries)
    events = driver.events
    floor = floor_actions(cost, events)
    naive, naive_days = naive_actions(cost, events)
    return {
        "scenario": name,
        "outcome": outcome.state.value,
        "stages_done": outcome.stages_done,
        "events_sent": {
            "signals": driver.signals,
            "updates": driver.updates,
            "queries": driver.queries,
        },
        **cost.as_dict(),
        "floor_actions": floor,
        "naive_actions": naive,
        "naive_days": naive_days,
        "over_floor": {  # where our actions beyond the floor go
            "upserts": cost.actions.get("upsert", 0),
            "of_which_patch_markers": cost.markers,  # each id met: one TemporalChangeVersion upsert
            "timers_beyond_one_per_contact": cost.actions.get("timer", 0) - cost.contacts,
            # A local activity (release local-close-2026-12's close) is billed as one too.
            "non_contact_activities": cost.actions.get("activity", 0)
            + cost.actions.get("local_activity", 0)
            - cost.contacts,
            "activity_retries": cost.actions.get("activity_retry", 0),
        },
        "ratio_to_floor": ratio(cost.total, floor),
        "target_ratio_to_floor": TARGET_RATIO,
        "target_met": cost.total <= TARGET_RATIO * floor,
        "ratio_to_naive": ratio(cost.total, naive),
    }


async def run(policy_file: Path, names: list[str]) -> dict[str, Any]:
    policy = load_policy(policy_file)
    env = await start_env()
    results = []
    try:
        async with running_worker(env, Recorder()):
            for name in names:
                with stopwatch() as took:
                    result = await run_scenario(env, policy, name)
                result["wall_seconds"] = round(took[0], 2)
                results.append(result)
    finally:
        await env.shutdown()
    payload = start_payload_bytes(policy)
    return {
        "policy": str(
            policy_file.relative_to(ROOT) if policy_file.is_relative_to(ROOT) else policy_file
        ),
        "rules": "Temporal Cloud actions per DOMAIN.md; $50 per million",
        "scenarios": results,
        "start_payload_bytes": payload,
        "start_payload_target_bytes": PAYLOAD_TARGET,
        "start_payload_target_met": payload < PAYLOAD_TARGET,
    }


def start_payload_bytes(policy: Policy) -> int:
    """The start request's input as the client encodes it (the product's data converter)."""
    input = account_input("bench-payload-000001", date(2026, 12, 1), policy, shelve(policy))
    [payload] = pydantic_data_converter.payload_converter.to_payloads([input])
    return len(payload.data)


def report(data: dict[str, Any]) -> None:
    rows = []
    for r in data["scenarios"]:
        a = r["actions"]
        rows.append(
            [
                r["scenario"],
                r["outcome"],
                r["lifetime_days"],
                r["actions_total"],
                a.get("timer", 0),
                a.get("activity", 0) + a.get("local_activity", 0),
                a.get("upsert", 0),
                a.get("signal", 0) + a.get("update", 0),
                r["contacts"],
                r["history_events"],
                r["floor_actions"],
                fmt(r["ratio_to_floor"], 2),
                f"<= {TARGET_RATIO:.2f}: {'met' if r['target_met'] else 'NOT met'}",
                r["naive_actions"],
                fmt(r["ratio_to_naive"], 2),
            ]
        )
    print(f"policy {data['policy']}: billable actions per account lifecycle")
    print_table(
        rows,
        [
            "scenario",
            "outcome",
            "days",
            "actions",
            "timers",
            "activities",
            "upserts",
            "events",
            "contacts",
            "hist.events",
            "floor",
            "ours/floor",
            "target",
            "naive",
            "ours/naive",
        ],
    )
    total = sum(r["actions_total"] for r in data["scenarios"])
    print(
        f"cost at $50/M actions: {fmt(total / len(data['scenarios']) * 50 / 1e6 * 1e6, 0)}"
        " USD per million accounts (mean over the scenarios)"
    )
    met = "met" if data["start_payload_target_met"] else "NOT met"
    print(
        f"start payload: {data['start_payload_bytes']:,} bytes, the policy by digest "
        f"(target < {data['start_payload_target_bytes']:,}: {met})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scenario",
        action="append",
        choices=sorted(SCENARIOS),
        help="run only these (repeatable); default: all",
    )
    parser.add_argument("--policy", type=Path, default=ROOT / "policies" / "default.yaml")
    parser.add_argument("--out", type=Path, default=None, help="JSON result file")
    args = parser.parse_args(argv)
    names = args.scenario or list(SCENARIOS)
    data = asyncio.run(run(args.policy, names))
    report(data)
    publish_result("cost", data, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
