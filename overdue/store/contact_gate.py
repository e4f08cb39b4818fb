"""The last check before a contact leaves: has a payment arrived since the workflow decided it?

The workflow decides a contact from what it knows; the activity may run seconds or minutes
later (a provider outage, a retry, a worker restart). The API records every payment
(`reported_events`) in the transaction that signals the workflow, under the account's lock, so
a payment the decision did not know of is visible here before the workflow has acted on it.
Such a contact is withheld: nothing is sent and the workflow decides again, with the payment,
from its current state.

Every contact activity (SMS, notify, call tasks) calls `clear_to_send` the same way, after its
ledger row exists and just before the provider is called. The check is one short transaction
under the account's lock: a payment being reported at that moment is waited for and seen; one
reported after it finds the ledger row cleared (`cleared_at`). The provider is called after
the commit, never under the lock, so an account's payments never wait for a provider.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import asyncpg
from temporalio.exceptions import ApplicationError

from overdue.store import reported_events
from overdue.store.accounts import lock_account
from overdue.store.contact_ledger import LedgerRow, Settled, lock_row, mark_cleared, settle
from workflows.contact_types import CONTACT_WITHHELD, DecisionBasis

logger = logging.getLogger(__name__)

# Work done under the lock, in the check's transaction, once the contact is cleared: only a
# contact that is itself a local write (a call task) passes one.
LocalSend = Callable[[asyncpg.Connection, LedgerRow], Awaitable[None]]


async def unseen_payments(
    conn: asyncpg.Connection | asyncpg.Pool, account_id: str, basis: DecisionBasis | None
) -> int:
    """How many payments were reported for the account since the run began that the decision
    did not know of. 0 when there is no basis to check (inputs from before the check)."""
    if basis is None:
        return 0
    return await reported_events.unseen_payments(
        conn, account_id, since=basis.since, known=basis.payments_known
    )


async def clear_to_send(
    pool: asyncpg.Pool,
    row: LedgerRow,
    basis: DecisionBasis | None,
    *,
    then: LocalSend | None = None,
) -> LedgerRow:
    """Check the contact of `row` against payments reported since its decision, under the
    account's lock, in one short transaction; returns the row as it is then.

    - a payment the decision did not know of: the row becomes `withheld` (claim released),
      audited `<channel>.withheld`, and `ContactWithheld` is raised after the commit;
    - the row already withheld (an earlier attempt): `ContactWithheld`, nothing written;
    - the row no longer pending (an earlier attempt or a provider callback finished it):
      returned as it is, nothing written; the caller answers from it;
    - otherwise the row is stamped `cleared_at`, `then` (if given) runs in the same
      transaction, and the row is returned: the caller may call the provider now.

    Call it with no transaction open and nothing else held; never call a provider inside it.
    """
    unseen = 0
    async with pool.acquire() as conn:
        async with conn.transaction():
            if basis is not None:
                await lock_account(conn, row.account_id)
            current = await lock_row(conn, row.id)
            if current.status == "withheld":
                raise withheld()
            if current.status != "pending":
                return current
            unseen = await unseen_payments(conn, row.account_id, basis)
            if unseen:
                await _withhold(conn, current, unseen)
            else:
                await mark_cleared(conn, row.id)
                if then is not None:
                    await then(conn, current)
                current = await lock_row(conn, row.id)
    if unseen:
        logger.info(
            "%s withheld: a payment arrived after the decision",
            row.channel,
            extra={"idempotency_key": row.idempotency_key, "stage_id": row.stage_id},
        )
        raise withheld(unseen)  # after the commit: the row and its audit stay
    return current


async def _withhold(conn: asyncpg.Connection, row: LedgerRow, unseen: int) -> None:
    await settle(
        conn,
        row,
        Settled(
            status="withheld",
            audit_kind=f"{row.channel}.withheld",
            audit_details={
                "idempotency_key": row.idempotency_key,
                "stage_id": row.stage_id,
                "unseen_payments": unseen,
            },
        ),
    )


def withheld(unseen: int | None = None) -> ApplicationError:
    """The error a withheld contact raises; `unseen` None when an earlier attempt withheld it."""
    found = "a payment was" if unseen is None else f"{unseen} payment(s) were"
    return ApplicationError(
        f"withheld: {found} reported after this contact was decided; the workflow decides again",
        {"unseen_payments": unseen},
        type=CONTACT_WITHHELD,
        non_retryable=True,
    )
