"""Reporting an event about an account: the use case behind the account-event endpoints.

A payment, a hardship report, a dispute opened or closed, a request to cease contact: each is
recorded once per id (`reported_events`, with its line in the audit trail) and signalled to
the account's running process, which deduplicates it again by the same id. The signal is sent
inside that transaction, under the account's lock, so a request Temporal refuses leaves no
trace, and a contact's last check before it leaves (`overdue.store.contact_gate`) sees a
payment either not at all or committed.

Each event goes to the workflow's signal that `workflows.handlers` lists for its type, the
table the simulator shares. Errors are domain errors; the router turns them into problems.
"""

from __future__ import annotations

from api.dependencies import Services
from api.workflow_calls import account_handle, to_running
from overdue.store import free_texts
from overdue.store.accounts import account_currency, lock_account
from overdue.store.reported_events import record_once
from workflows.event_audit import KINDS
from workflows.handlers import signal_of
from workflows.types import (
    ContactCeased,
    DisputeClosed,
    DisputeOpened,
    HardshipReported,
    PaymentReported,
)

ReportedEvent = PaymentReported | HardshipReported | DisputeOpened | DisputeClosed | ContactCeased


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
    """Record `event` (unless its id was recorded before) and signal it; all or nothing.

    `text` is what the backend's caller typed (a reason, a resolution), which `event` refers
    to by its `text_id`: it is kept in Postgres with the event, never signalled.

    Raises UnknownAccount, WrongCurrency (payments), or ProcessNotRunning when the account's
    process has ended (then nothing is recorded).
    """
    currency = await account_currency(services.pool, account_id)
    if currency is None:
        raise UnknownAccount(account_id)
    if isinstance(event, PaymentReported) and event.currency != currency:
        raise WrongCurrency(currency)
    kind = KINDS[type(event)]
    message = signal_of(event)
    handle = account_handle(services.temporal, account_id)
    async with services.pool.acquire() as conn, conn.transaction():
        # Held until commit: a contact activity checking for new payments waits for this one.
        await lock_account(conn, account_id)
        recorded = await record_once(
            conn,
            account_id=account_id,
            kind=kind.audit_kind,
            event_id=str(getattr(event, kind.id_field)),
            actor=actor,
            details=event.model_dump(mode="json", exclude_defaults=True),
        )
        if recorded and text is not None:
            await free_texts.keep(conn, account_id, text)
        await to_running(lambda: handle.signal(message.handler.name, message.payload))
