"""Champion / challenger on the real stack: `overdue experiment create` with two policies,
accounts started through the API land in their hashed arm (recorded in Postgres, `PolicyId`
on the workflow), keep it when started again, and `report` / `show` / `stop` run; a guardrail
breach stops an arm and its next accounts start on the champion."""

from __future__ import annotations

import argparse
import io
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from api import experiment_assignment
from api.dependencies import Services
from overdue.experiments import Experiment, SegmentFacts, arm_for, load_experiment
from overdue.policy_files import load_policy
from overdue.settings import Settings
from overdue.store import experiments as store
from overdue.store.audit import record_event
from tests.integration.conftest import ROOT, Stack
from tests.integration.support import eventually, new_account, overdue_body, start_account
from workers.cli.experiment_commands import experiment as run_experiment
from workers.cli.main import build_parser
from workflows import search_attributes as sa
from workflows.names import workflow_id

pytestmark = pytest.mark.integration
FACTS_JURISDICTION = "CN"  # support.PHONE is a +86 number


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


async def cli(settings: Settings, *argv: str) -> Ran:
    args: argparse.Namespace = build_parser().parse_args(["experiment", *argv])
    out, err = io.StringIO(), io.StringIO()
    code = await run_experiment(settings, args, out, err)
    return Ran(code, out.getvalue(), err.getvalue())


@dataclass(frozen=True)
class Setup:
    settings: Settings
    experiment: Experiment
    product: str
    known_before: str  # started before the experiment was created


@pytest.fixture
async def setup(stack: Stack, tmp_path: Path) -> AsyncIterator[Setup]:
    """Two arms, `a` on the stack's policy (fast@1) and `b` on a copy named fast-b; the
    experiment is stopped afterwards, whatever the test did, so other tests start as before."""
    fast = yaml.safe_load((ROOT / "tests" / "policies" / "fast.yaml").read_text("utf-8"))
    (tmp_path / "fast.yaml").write_text(yaml.safe_dump(fast), "utf-8")
    (tmp_path / "fast_b.yaml").write_text(yaml.safe_dump({**fast, "id": "fast-b"}), "utf-8")
    experiment_id = f"exp-{uuid.uuid4().hex[:8]}"
    (tmp_path / "exp.yaml").write_text(
        yaml.safe_dump(
            {
                "id": experiment_id,
                "champion": "a",
                "arms": [
                    {"name": "a", "policy": {"id": "fast", "version": 1}, "weight": 1},
                    {"name": "b", "policy": {"id": "fast-b", "version": 1}, "weight": 1},
                ],
                "guardrails": {"min_accounts": 2, "complaint_rate_increase": 0.0},
            }
        ),
        "utf-8",
    )
    known_before = await start_account(stack)
    settings = stack.settings.model_copy(
        update={"experiment_policy_dir": tmp_path, "experiment_guardrail_check_seconds": 0.0}
    )
    created = await cli(settings, "create", str(tmp_path / "exp.yaml"), "--actor", "ops:test")
    assert created.code == 0, created.err
    assert f"experiment {experiment_id} running" in created.out
    try:
        yield Setup(
            settings,
            load_experiment(tmp_path / "exp.yaml"),
            f"p_{uuid.uuid4().hex[:8]}",
            known_before,
        )
    finally:
        await store.stop_experiment(stack.pool, experiment_id, "ops:test")


def accounts_in(setup: Setup, arm: str, count: int) -> list[str]:
    """New account ids whose hash puts them in `arm`."""
    facts = SegmentFacts(product=setup.product, risk_segment=None, jurisdiction="CN")
    found: list[str] = []
    while len(found) < count:
        account = new_account()
        if arm_for(setup.experiment, account, facts) == arm:
            found.append(account)
    return found


async def start(stack: Stack, setup: Setup, account: str, **changes: Any) -> dict[str, Any]:
    body = overdue_body(product=setup.product, **changes)
    answer = await stack.api.put(f"/v1/accounts/{account}/overdue", json=body)
    assert answer.status_code in (200, 201), answer.text
    result: dict[str, Any] = answer.json()
    return result


async def policy_attribute(stack: Stack, account: str) -> str | None:
    description = await stack.temporal.get_workflow_handle(workflow_id(account)).describe()
    return description.typed_search_attributes.get(sa.POLICY_ID)


async def arms_of(stack: Stack, setup: Setup) -> dict[str, str]:
    return {a.account_id: a.arm for a in await store.assignments(stack.pool, setup.experiment.id)}


async def test_accounts_start_on_their_hashed_arm_and_keep_it(stack: Stack, setup: Setup) -> None:
    a_accounts, b_accounts = accounts_in(setup, "a", 3), accounts_in(setup, "b", 3)
    for account in a_accounts + b_accounts:
        assert (await start(stack, setup, account))["created"]
    # An account known before the experiment: its new bill enrolls it in no arm.
    await start(stack, setup, setup.known_before, bill_id="second-bill")
    arms = await arms_of(stack, setup)
    assert arms == {**dict.fromkeys(a_accounts, "a"), **dict.fromkeys(b_accounts, "b")}
    for account in a_accounts:
        assert await policy_attribute(stack, account) == "fast@1"
    for account in b_accounts:
        assert await policy_attribute(stack, account) == "fast-b@1"

    async def listed() -> set[str] | None:
        query = f"PolicyId = 'fast-b@1' AND Product = '{setup.product}'"
        ids = {w.id async for w in stack.temporal.list_workflows(query)}
        return ids if ids == {workflow_id(a) for a in b_accounts} else None

    await eventually(listed)

    # Started again (its process ended, a new bill): the same arm, the same policy.
    again = b_accounts[0]
    await stack.temporal.get_workflow_handle(workflow_id(again)).terminate("test: start again")
    restarted = await start(stack, setup, again, bill_id="next-bill")
    assert restarted["created"]
    assert (await arms_of(stack, setup))[again] == "b"
    assert await policy_attribute(stack, again) == "fast-b@1"

    # A fresh API process (new Services, new policy object) gives the same answer.
    policy = load_policy(stack.settings.policy_file)
    services = Services(setup.settings, stack.pool, stack.temporal, policy)
    running = await experiment_assignment.running_experiment(services)
    assert running is not None and set(running.policies) == {"a", "b"}
    async with stack.pool.acquire() as conn:
        assignment = await store.assignment_of(conn, setup.experiment.id, again)
    assert assignment is not None and assignment.policy_id == "fast-b"

    report = await cli(setup.settings, "report", setup.experiment.id, "--format", "json")
    assert report.code == 0, report.err
    summary = {arm["arm"]: arm["accounts"] for arm in json.loads(report.out)["arms"]}
    assert summary == {"a": 3, "b": 3}
    text = await cli(setup.settings, "report", setup.experiment.id)
    assert "challenger minus champion" in text.out and "cure rate" in text.out
    csv = await cli(setup.settings, "report", setup.experiment.id, "--format", "csv")
    assert csv.out.splitlines()[0].startswith("arm,metric,champion_value")

    stopped = await cli(setup.settings, "stop", setup.experiment.id, "--actor", "ops:test")
    assert "stopped" in stopped.out
    after = new_account()
    await start(stack, setup, after)
    assert after not in await arms_of(stack, setup)
    assert await policy_attribute(stack, after) == "fast@1"


async def test_a_guardrail_breach_stops_the_arm(stack: Stack, setup: Setup) -> None:
    b_accounts = accounts_in(setup, "b", 2)
    for account in accounts_in(setup, "a", 2) + b_accounts:
        await start(stack, setup, account)
    for account in b_accounts:  # as the console records an agent's call outcome
        await record_event(
            stack.pool,
            account_id=account,
            actor="agent-1",
            kind="call.outcome",
            details={"task_id": 1, "outcome": "complaint"},
        )
    policy = load_policy(stack.settings.policy_file)
    services = Services(setup.settings, stack.pool, stack.temporal, policy)
    running = await experiment_assignment.running_experiment(services)
    assert running is not None and set(running.stopped_arms) == {"b"}

    (redirected,) = accounts_in(setup, "b", 1)
    await start(stack, setup, redirected)
    async with stack.pool.acquire() as conn:
        assignment = await store.assignment_of(conn, setup.experiment.id, redirected)
    assert assignment is not None
    assert (assignment.arm, assignment.hashed_arm) == ("a", "b")
    assert await policy_attribute(stack, redirected) == "fast@1"

    report = await cli(setup.settings, "report", setup.experiment.id)
    assert report.code == 1
    assert "GUARDRAIL: arm b stopped receiving new accounts" in report.out
    assert "complaint rate 100.00% vs champion 0.00%" in report.out
    shown = await cli(setup.settings, "show", setup.experiment.id)
    assert "STOPPED: complaint_rate" in shown.out
    stops = await stack.pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE kind = 'experiment.arm_stopped' "
        "AND details ->> 'experiment_id' = $1",
        setup.experiment.id,
    )
    assert stops == 1
    audited = await stack.pool.fetchrow(
        "SELECT actor, details FROM audit_events WHERE kind = 'experiment.assigned' "
        "AND account_id = $1",
        redirected,
    )
    assert audited is not None and audited["actor"].startswith("api:")
    assert json.loads(audited["details"]) == {
        "experiment_id": setup.experiment.id,
        "arm": "a",
        "hashed_arm": "b",
        "policy": "fast@1",
        "guardrail": True,
    }


async def test_refusals_change_nothing_and_say_why(
    stack: Stack, setup: Setup, tmp_path: Path
) -> None:
    second = tmp_path / "second.yaml"
    second.write_text(
        yaml.safe_dump(
            {
                **setup.experiment.model_dump(mode="json"),
                "id": f"exp-{uuid.uuid4().hex[:8]}",
            }
        ),
        "utf-8",
    )
    conflict = await cli(setup.settings, "create", str(second))
    assert conflict.code == 2
    assert f"experiment {setup.experiment.id!r} is running: stop it first" in conflict.err

    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nchampion: a\narms: []\n", "utf-8")
    refused = await cli(setup.settings, "create", str(bad))
    assert refused.code == 2
    assert "arms: List should have at least 2 items" in refused.err

    unknown = await cli(setup.settings, "show", "no-such-experiment")
    assert (unknown.code, unknown.err.strip()) == (2, "overdue: no experiment 'no-such-experiment'")
    shown = await cli(setup.settings, "show", setup.experiment.id, "--json")
    assert json.loads(shown.out)["status"] == "running"
