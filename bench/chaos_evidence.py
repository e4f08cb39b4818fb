"""After the chaos: wait until every workflow has settled, then gather the evidence the checker
(bench/chaos_check.py) reads: every history, the ledger, the call tasks, the provider's messages
and the webhooks received. `reparse_histories` reads a kept run's histories again."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

import workflows.policy_shelf as shelf
from bench.chaos_check import Evidence
from bench.chaos_history import parse_history
from bench.chaos_load import Account, Timeline
from bench.chaos_stack import POLICY_FILE, NotifyReceiver, Stack
from overdue.policy_files import load_policy
from overdue.store import policy_versions
from workers.devstack.local_temporal import TemporalDevServer
from workers.fakes.twilio import FakeTwilio
from workflows import search_attributes as sa
from workflows.names import workflow_id
from workflows.overdue_account import OverdueAccountWorkflow


@dataclass
class Settled:
    """The accounts whose start was accepted, how they ended up, and the evidence."""

    started: list[Account]
    still_busy: int
    parked: int
    evidence: Evidence


async def settle_and_gather(
    stack: Stack, accounts: list[Account], timeline: Timeline, wait_seconds: float
) -> Settled:
    client = await Client.connect(stack.temporal.address, data_converter=pydantic_data_converter)
    started = [a for a in accounts if a.started_at is not None]
    left, parked = await wait_until_settled(
        client, [workflow_id(a.account_id) for a in started], timeline, wait_seconds
    )
    # The fake's status callbacks still scheduled update the ledger: let them arrive first.
    with contextlib.suppress(TimeoutError):
        await stack.fake.settle(30)
    timeline.log("gathering evidence", still_busy=left, parked=parked)
    # A new pool: Postgres was restarted during the run.
    pool = await asyncpg.create_pool(stack.postgres.url, min_size=1, max_size=4)
    assert pool is not None
    try:
        evidence = await gather_evidence(client, pool, stack.fake, stack.receiver, started)
    finally:
        await pool.close()
    return Settled(started, left, parked, evidence)


async def _parked(client: Client, wid: str, description: Any, horizon: datetime) -> bool:
    """Running, but only waiting for a time past the horizon (e.g. its contact window) with
    nothing in flight: settled for this run. The next action's time from the status query:
    processes started on cost-2026-12 or later keep no `NextActionAt` search attribute."""
    if description.raw_description.pending_activities:
        return False
    at = description.typed_search_attributes.get(sa.NEXT_ACTION_AT)
    if at is None:
        try:
            status = await client.get_workflow_handle(wid).query(OverdueAccountWorkflow.status)
        except RPCError:  # its task is being retried (a worker killed): not settled yet
            return False
        at = status.next_action.at if status.next_action else None
    return at is not None and at > horizon


async def wait_until_settled(
    client: Client, ids: list[str], timeline: Timeline, wait_seconds: float
) -> tuple[int, int]:
    """Poll until every workflow has closed or is parked until after the run.

    Returns (still busy at the deadline, parked).
    """
    busy = list(ids)
    parked: set[str] = set()
    give_up = time.monotonic() + wait_seconds
    while busy and time.monotonic() < give_up:
        horizon = datetime.now(UTC) + timedelta(minutes=15)
        still: list[str] = []
        for chunk in range(0, len(busy), 50):
            batch = busy[chunk : chunk + 50]
            descriptions = await asyncio.gather(
                *(client.get_workflow_handle(wid).describe() for wid in batch),
                return_exceptions=True,
            )
            for wid, d in zip(batch, descriptions, strict=True):
                if isinstance(d, BaseException):
                    still.append(wid)
                elif d.status == WorkflowExecutionStatus.RUNNING:
                    if await _parked(client, wid, d, horizon):
                        parked.add(wid)
                    else:
                        still.append(wid)
                        parked.discard(wid)
        busy = still
        if busy:
            timeline.log("waiting for workflows to settle", busy=len(busy), parked=len(parked))
            await asyncio.sleep(10)
    return len(busy), len(parked)


async def gather_evidence(
    client: Client,
    pool: asyncpg.Pool,
    fake: FakeTwilio,
    receiver: NotifyReceiver,
    accounts: list[Account],
) -> Evidence:
    # Start inputs name their policy by digest: put the stored versions on this shelf first.
    await policy_versions.shelve_stored(pool)
    histories = {}
    skipped: dict[str, set[str]] = {}
    suppressed: dict[str, set[str]] = {}
    semaphore = asyncio.Semaphore(16)

    async def one(account: Account) -> None:
        async with semaphore:
            wid = workflow_id(account.account_id)
            handle = client.get_workflow_handle(wid)
            try:
                description = await handle.describe()
            except Exception:
                return  # never started (its start request gave up): nothing to check
            first_run = await _first_run_id(client, wid, description.run_id)
            events = await _chain_events(client, wid, first_run)
            histories[account.account_id] = parse_history(wid, first_run, events)
            status = await handle.query(OverdueAccountWorkflow.status)
            skipped[account.account_id] = set(status.stages_skipped)
            suppressed[account.account_id] = set(status.stages_suppressed)

    await asyncio.gather(*(one(a) for a in accounts))
    ledger = [
        dict(r)
        for r in await pool.fetch(
            "SELECT idempotency_key, account_id, channel, stage_id, status, provider_id,"
            " created_at, cleared_at FROM contact_ledger"
        )
    ]
    call_tasks = [
        dict(r)
        for r in await pool.fetch(
            "SELECT idempotency_key, account_id, stage_id, status, created_at FROM call_tasks"
        )
    ]
    messages = [
        {"sid": m.sid, "to": m.to, "body": m.body, "created_at": m.date_created}
        for m in fake.messages.values()
    ]
    return Evidence(
        accounts=histories,
        skipped=skipped,
        suppressed=suppressed,
        phones={a.phone: a.account_id for a in accounts},
        provider_messages=messages,
        ledger=ledger,
        call_tasks=call_tasks,
        notices=list(receiver.deliveries),
        until=datetime.now(UTC),
    )


async def _chain_events(client: Client, wid: str, first_run: str) -> list[HistoryEvent]:
    """Every event of a continue-as-new chain, runs in order."""
    events: list[HistoryEvent] = []
    run_id: str | None = first_run
    for _ in range(100):
        if run_id is None:
            break
        history = await client.get_workflow_handle(wid, run_id=run_id).fetch_history()
        events.extend(history.events)
        last = history.events[-1]
        run_id = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id or None
        )
    return events


POLICY_VERSIONS_FILE = "policy_versions.json"


def shelve_kept_versions(file: Path) -> None:
    if not file.exists():
        shelf.shelve(load_policy(POLICY_FILE))
        return
    for digest, body in json.loads(file.read_text()).items():
        shelf.shelve_body(digest, body)


async def reparse_histories(folder: Path, evidence: Evidence) -> None:
    """Parse a kept run's histories again (from its Temporal file), so a re-check sees what
    today's parser reads; the rest of the evidence is as gathered. Their inputs name policies
    by digest: the versions kept with the run go onto the shelf first (a folder kept before
    they were: the chaos policy file as it is now, which matches if it did not change)."""
    shelve_kept_versions(folder / POLICY_VERSIONS_FILE)
    async with TemporalDevServer.on_free_ports(db_file=folder / "temporal.sqlite") as server:
        client = await Client.connect(server.address, data_converter=pydantic_data_converter)
        semaphore = asyncio.Semaphore(16)

        async def one(account_id: str, old: Any) -> None:
            async with semaphore:
                events = await _chain_events(client, old.workflow_id, old.first_run_id)
                evidence.accounts[account_id] = parse_history(
                    old.workflow_id, old.first_run_id, events
                )

        await asyncio.gather(*(one(a, h) for a, h in list(evidence.accounts.items())))


async def _first_run_id(client: Client, wid: str, latest_run: str | None) -> str:
    """The chain's first run (continue-as-new keeps first_execution_run_id in the input)."""
    history = await client.get_workflow_handle(wid, run_id=latest_run).fetch_history()
    attrs = history.events[0].workflow_execution_started_event_attributes
    return attrs.first_execution_run_id or latest_run or ""
