"""Recording consent changes: the use case behind `POST /v1/accounts/{id}/consents` and the
consents a start request carries (`api.overdue_reports`).

Each change is appended to the consent history (`consent_events`) and recorded in the outbox
(`reported_events`, kind `consent.granted` / `consent.withdrawn`) with the `consent_changed`
signal it becomes, in the caller's transaction, under the account's lock: the pre-send check
sees a withdrawal as soon as it is committed. After the commit the signal is delivered
(`api.deliveries`, the relay re-sends what an outage left), which writes the change's audit
row. A change to an account whose process has ended stays in the history, audited now: consent
is a fact about the customer, not about one process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

import asyncpg
from temporalio.client import Client

from api.deliveries import deliver_event
from api.workflow_calls import ProcessNotRunning
from overdue.store import audit, consents, reported_events
from overdue.store.consents import ConsentEvent
from overdue.store.reported_events import Intent, Undelivered
from overdue.store.transactions import Db, transaction
from workflows.consent import ConsentChanged, ConsentGiven
from workflows.handlers import CONSENT_CHANGED

GRANTED = "consent.granted"
WITHDRAWN = "consent.withdrawn"


class ChangeIdReused(Exception):
    """The change id was recorded before for a different change."""


@dataclass(frozen=True)
class Recorded:
    event: ConsentEvent
    pending: Undelivered | None  # None: recorded before (a repeated request)


def start_change_id(given: ConsentGiven) -> str:
    """The change id of a consent a start request carries: the same consent reported again
    (every report of the account repeats it) is recognised."""
    instant = given.given_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"start:{given.channel.value}:{given.source.value}:{instant}"


def _details(event: ConsentEvent) -> dict[str, str]:
    return {
        "change_id": event.change_id,
        "channel": event.channel,
        "source": event.source,
        "at": event.at.isoformat(),
    }


def _pending(event: ConsentEvent) -> Undelivered:
    change = ConsentChanged.model_validate(
        {
            "channel": event.channel,
            "granted": event.granted,
            "source": event.source,
            "at": event.at,
            "actor": event.actor,
        }
    )
    return Undelivered(
        account_id=event.account_id,
        kind=GRANTED if event.granted else WITHDRAWN,
        event_id=event.change_id,
        intent=Intent(CONSENT_CHANGED.name, change.model_dump(mode="json")),
    )


def _same(a: ConsentEvent, b: ConsentEvent) -> bool:
    return (a.channel, a.granted, a.source, a.at) == (b.channel, b.granted, b.source, b.at)


async def record(conn: asyncpg.Connection, event: ConsentEvent) -> Recorded:
    """Append `event` and its outbox row in the caller's transaction (which holds the
    account's lock). A change id recorded before: the stored change, nothing written; raises
    ChangeIdReused when it differs from `event`."""
    inserted = await consents.record_change(conn, event)
    if inserted is None:
        stored = await consents.change_by_id(conn, event.account_id, event.change_id)
        assert stored is not None
        if not _same(stored, event):
            raise ChangeIdReused(event.change_id)
        return Recorded(stored, None)
    pending = _pending(inserted)
    await reported_events.record_once(
        conn,
        account_id=inserted.account_id,
        kind=pending.kind,
        event_id=pending.event_id,
        actor=inserted.actor,
        details=_details(inserted),
        intent=pending.intent,
    )
    return Recorded(inserted, pending)


async def deliver(db: Db, temporal: Client, recorded: Recorded, *, signal: bool = True) -> bool:
    """After the commit: signal the change to the running process (which writes its audit
    row); True when the process has it. `signal` False: the process started with it in its
    input, so the outbox row is only marked delivered (and audited). A repeated request
    re-sends a change not yet delivered. No process running: the change stays in the
    history, audited now; False."""
    event = recorded.event
    pending = recorded.pending or _pending(event)
    if not signal:
        async with transaction(db) as conn:
            await reported_events.mark_delivered(
                conn, account_id=event.account_id, kind=pending.kind, event_id=pending.event_id
            )
        return True
    try:
        await deliver_event(db, temporal, pending)
    except ProcessNotRunning:
        if recorded.pending is not None:  # audited once, by the request that recorded it
            await audit.record_event(
                db,
                account_id=event.account_id,
                actor=event.actor,
                kind=pending.kind,
                details={**_details(event), "delivered": False},
            )
        return False
    return True


def start_event(account_id: str, given: ConsentGiven, actor: str) -> ConsentEvent:
    return ConsentEvent(
        account_id=account_id,
        change_id=start_change_id(given),
        channel=given.channel.value,
        granted=True,
        source=given.source.value,
        at=given.given_at,
        actor=actor,
    )
