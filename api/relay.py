"""The relay: delivers what the API recorded and Temporal did not take (issue 13).

A report is committed before its signal or start is sent (`api.deliveries`); when Temporal is
down, or the API process dies between the commit and the call, the row stays undelivered. This
loop, run by every API process, re-sends such rows once they are a few seconds old. Sending
twice is safe: the workflow deduplicates signals by event and bill id, and a start that finds
the process running signals the bill instead. Several API processes may relay the same row at
once, with the same result.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial

from temporalio.service import RPCError

from api.deliveries import deliver_bill, deliver_event
from api.dependencies import Services
from api.problems import DATABASE_DOWN, temporal_unavailable
from api.workflow_calls import ProcessNotRunning
from overdue.store.bills import undelivered_bills
from overdue.store.reported_events import undelivered

logger = logging.getLogger(__name__)

# Younger rows are most likely still being delivered by the request that wrote them.
RELAY_AFTER = timedelta(seconds=3)
RELAY_EVERY_SECONDS = 2.0
# Deliveries in flight at once: each is one or two short RPCs, mostly waiting on the server.
RELAY_CONCURRENCY = 16


async def relay_once(services: Services, *, older_than: timedelta = RELAY_AFTER) -> int:
    """Deliver what is pending, RELAY_CONCURRENCY rows at a time; returns how many rows were
    delivered (or forgotten as refused).

    Stops at the first sign that Temporal is down or overloaded: the next round retries."""
    bills = await undelivered_bills(services.pool, older_than=older_than)
    events = await undelivered(services.pool, older_than=older_than)
    deliveries: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        (b.bill.account_id, partial(deliver_bill, services.pool, services.temporal, b))
        for b in bills
    ] + [
        (e.account_id, partial(deliver_event, services.pool, services.temporal, e)) for e in events
    ]
    done = 0
    slots = asyncio.Semaphore(RELAY_CONCURRENCY)

    async def one(account_id: str, delivery: Callable[[], Awaitable[object]]) -> None:
        nonlocal done
        async with slots:
            if await _attempt(delivery(), account_id):
                done += 1

    try:
        async with asyncio.TaskGroup() as group:
            for account_id, delivery in deliveries:
                group.create_task(one(account_id, delivery))
    except* _TemporalDown as errors:
        logger.warning("relay: Temporal unavailable (%s); retrying", errors.exceptions[0])
    if done:
        logger.info("relay: delivered %d pending report(s)", done)
    return done


class _TemporalDown(Exception):
    pass


async def _attempt(delivery: Awaitable[object], account_id: str) -> bool:
    """One row: True when delivered (or forgotten as refused); a row Temporal rejects for
    another reason is logged and left for the next round, without stopping this one."""
    try:
        await delivery
    except ProcessNotRunning:
        logger.info(
            "relay: refused, no running process (forgotten)", extra={"account_id": account_id}
        )
    except RPCError as err:
        if temporal_unavailable(err.status):
            raise _TemporalDown(err.status.name) from None
        logger.warning(
            "relay: delivery refused (%s)", err.status.name, extra={"account_id": account_id}
        )
        return False
    return True


async def run_relay(services: Services, every: float = RELAY_EVERY_SECONDS) -> None:
    """Relay forever (until cancelled), surviving Postgres and Temporal outages."""
    while True:
        try:
            await relay_once(services)
        except DATABASE_DOWN as err:
            logger.warning("relay: database unavailable (%s); retrying", type(err).__name__)
        except Exception:  # never let the relay die: log it and go on
            logger.exception("relay round failed")
        await asyncio.sleep(every)
