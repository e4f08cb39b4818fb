"""Reporting an event about an account: the use case behind the account-event endpoints.

A payment, a hardship report, a dispute opened or closed, a request to cease contact: each is
recorded once per id (`reported_events`) with the signal it becomes, committed, and then
signalled to the account's running process, which deduplicates it again by the same id
(`api.deliveries`). No transaction or lock is held across the Temporal call. A request
Temporal refuses (no running process) is forgotten, leaving no trace; one Temporal did not
answer stays recorded and the relay (`api.relay`) delivers it. A contact's last check before
it leaves (`overdue.store.contact_gate`) sees a payment committed before it is signalled.

Each event goes to the workflow's signal that `workflows.handlers` lists for its type, the
table the simulator shares. Errors are domain errors; the router turns them into problems.
"""

from __future__ import annotations

from api.deliveries import deliver_event
from api.dependencies import Services
from api.workflow_calls import ProcessNotRunning
from overdue.store import free_texts
from overdue.store.accounts import account_currency, lock_account
from overdue.store.reported_events import Intent, Undelivered, record_once
from overdue.store.sealed_texts import is_erased
from workflows.event_audit import KINDS
from workflows.forbearance_types import ForbearanceRequested
from workflows.handlers import signal_of
from workflows.types import (
    ContactCeased,
    DisputeClosed,
    DisputeOpened,
    HardshipReported,
    PaymentReported,
)

ReportedEvent = (
    PaymentReported
    | HardshipReported
    | DisputeOpened
    | DisputeClosed
    | ContactCeased
    | ForbearanceRequested
)


class UnknownAccount(Exception):
    """No backend ever reported this account overdue."""


class WrongCurrency(Exception):
    """A payment in another currency than the account's; `currency` is the account's."""

    def __init__(self, currency: str) -> None:
        super().__init__(f"must be {currency}, the account's currency")
        self.currency = currency


async def report_event(
    services: Services,
    account_id: str,
    event: ReportedEvent,
    actor: str,
    text: free_texts.FreeText | None = None,
) -> None:
    """Record `event` (unless its id was recorded before), commit, then signal it.

    `text` is what the backend's caller typed (a reason, a resolution), which `event` refers
    to by its `text_id`: it is kept in Postgres with the event, never signalled.

    Raises UnknownAccount, WrongCurrency (payments), or ProcessNotRunning when the account's
    process has ended (then nothing stays recorded). When Temporal does not answer, the RPC
    error propagates (503) and the recorded event is delivered by the relay.
    """
    kind = KINDS[type(event)]
    message = signal_of(event)
    pending = Undelivered(
        account_id=account_id,
        kind=kind.audit_kind,
        event_id=str(getattr(event, kind.id_field)),
        intent=Intent(message.handler.name, message.payload.model_dump(mode="json")),
    )
    async with services.pool.acquire() as conn, conn.transaction():
        # Held until commit, and no longer: a contact's last check waits for this payment and
        # then sees it committed, before the workflow has even been signalled.
        await lock_account(conn, account_id)
        # Checked on the transaction's connection: one pool checkout per report, not two. A
        # refusal raised here rolls back, so it still leaves nothing behind.
        currency = await account_currency(conn, account_id)
        if currency is None:
            raise UnknownAccount(account_id)
        if isinstance(event, PaymentReported) and event.currency != currency:
            raise WrongCurrency(currency)
        if await is_erased(conn, account_id):  # its process has ended; nothing is recorded
            raise ProcessNotRunning(account_id)
        recorded = await record_once(
            conn,
            account_id=account_id,
            kind=pending.kind,
            event_id=pending.event_id,
            actor=actor,
            details=event.model_dump(mode="json", exclude_defaults=True),
            intent=pending.intent,
        )
        if recorded and text is not None:
            await free_texts.keep(conn, account_id, text)
    # After the commit: a repeated report re-sends too (the workflow deduplicates by id), so
    # a client retrying after a 503 finishes its own delivery.
    await deliver_event(services.pool, services.temporal, pending)
