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
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from temporalio.service import RPCError

from api.deliveries import deliver_bill, deliver_event
from api.dependencies import Services
from api.problems import DATABASE_DOWN, temporal_unavailable
from api.workflow_calls import ProcessNotRunning
from overdue.store import relay_refusals
from overdue.store.audit import record_event
from overdue.store.bills import PendingBill, undelivered_bills
from overdue.store.relay_refusals import RELAY_MAX_ATTEMPTS
from overdue.store.reported_events import Undelivered, undelivered

logger = logging.getLogger(__name__)

# Younger rows are most likely still being delivered by the request that wrote them.
RELAY_AFTER = timedelta(seconds=3)
RELAY_EVERY_SECONDS = 2.0
# Deliveries in flight at once: each is one or two short RPCs, mostly waiting on the server.
RELAY_CONCURRENCY = 16


@dataclass(frozen=True)
class _Row:
    """One outbox row to deliver, and how to note that it was refused (True: given up)."""

    account_id: str
    outbox: str  # "bill" or "event"
    kind: str  # "bill", or the event's kind
    row_id: str
    deliver: Callable[[], Awaitable[object]]
    refused: Callable[[str], Awaitable[bool]]


def _rows(services: Services, bills: list[PendingBill], events: list[Undelivered]) -> list[_Row]:
    pool, temporal = services.pool, services.temporal
    return [
        _Row(
            b.bill.account_id,
            "bill",
            "bill",
            b.bill.bill_id,
            partial(deliver_bill, pool, temporal, b),
            partial(relay_refusals.bill_refused, pool, b.bill.account_id, b.bill.bill_id),
        )
        for b in bills
    ] + [
        _Row(
            e.account_id,
            "event",
            e.kind,
            e.event_id,
            partial(deliver_event, pool, temporal, e),
            partial(relay_refusals.event_refused, pool, e.account_id, e.kind, e.event_id),
        )
        for e in events
    ]


async def relay_once(services: Services, *, older_than: timedelta = RELAY_AFTER) -> int:
    """Deliver what is pending, RELAY_CONCURRENCY rows at a time; returns how many rows were
    delivered (or forgotten as refused).

    Stops at the first sign that Temporal is down or overloaded: the next round retries. A row
    that fails otherwise waits longer before each next try and is given up after
    RELAY_MAX_ATTEMPTS (overdue/store/relay_refusals.py), so it never holds up the others."""
    bills = await undelivered_bills(services.pool, older_than=older_than)
    events = await undelivered(services.pool, older_than=older_than)
    done = 0
    slots = asyncio.Semaphore(RELAY_CONCURRENCY)

    async def one(row: _Row) -> None:
        nonlocal done
        async with slots:
            if await _attempt(services, row):
                done += 1

    try:
        async with asyncio.TaskGroup() as group:
            for row in _rows(services, bills, events):
                group.create_task(one(row))
    except* _TemporalDown as errors:
        logger.warning("relay: Temporal unavailable (%s); retrying", errors.exceptions[0])
    if done:
        logger.info("relay: delivered %d pending report(s)", done)
    return done


class _TemporalDown(Exception):
    pass


async def _attempt(services: Services, row: _Row) -> bool:
    """One row: True when delivered (or forgotten as refused); a row that fails for another
    reason than an outage is noted as refused (and given up after RELAY_MAX_ATTEMPTS), without
    stopping this round."""
    try:
        await row.deliver()
    except ProcessNotRunning:
        logger.info(
            "relay: refused, no running process (forgotten)", extra={"account_id": row.account_id}
        )
    except RPCError as err:
        if temporal_unavailable(err.status):
            raise _TemporalDown(err.status.name) from None
        await _refused(services, row, err.status.name)
        return False
    except DATABASE_DOWN:
        raise  # the round stops; run_relay retries it
    except Exception as err:  # a stored input that no longer validates, a missing policy, ...
        await _refused(services, row, type(err).__name__)
        return False
    return True


async def _refused(services: Services, row: _Row, error: str) -> None:
    """Only the error's kind is kept and logged: a message could quote the payload."""
    if not await row.refused(error):
        logger.warning(
            "relay: delivery refused (%s); tried again later",
            error,
            extra={"account_id": row.account_id},
        )
        return
    logger.error(
        "relay: gave up delivering a %s after %d refusals (%s); `overdue relay list`",
        row.kind,
        RELAY_MAX_ATTEMPTS,
        error,
        extra={"account_id": row.account_id},
    )
    await record_event(
        services.pool,
        account_id=row.account_id,
        actor="relay",
        kind="relay.given_up",
        details={"outbox": row.outbox, "kind": row.kind, "id": row.row_id, "error": error},
    )


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
