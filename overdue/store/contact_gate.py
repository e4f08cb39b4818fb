"""The last check before a contact leaves: has a payment arrived since the workflow decided it?

The workflow decides a contact from what it knows; the activity may run seconds or minutes
later (a provider outage, a retry, a worker restart). The API writes every payment to the audit
trail in the transaction that signals the workflow, so a payment the decision did not know of
is visible here before the workflow has acted on it. Such a contact is withheld: nothing is
sent and the workflow decides again, with the payment, from its current state.
"""

from __future__ import annotations

import logging

import asyncpg
from temporalio.exceptions import ApplicationError

from overdue.store import audit
from overdue.store.contact_ledger import Source, advance
from workflows.contact_types import CONTACT_WITHHELD, DecisionBasis

logger = logging.getLogger(__name__)

ACCOUNT_LOCK = "account:{account_id}"  # the API's per-account advisory lock (api/account_events)


async def unseen_payments(
    conn: asyncpg.Connection | asyncpg.Pool, account_id: str, basis: DecisionBasis | None
) -> int:
    """How many payments were reported for the account since the run began that the decision
    did not know of. 0 when there is no basis to check (inputs from before the check)."""
    if basis is None:
        return 0
    count: int = await conn.fetchval(
        """
        SELECT count(DISTINCT details ->> 'payment_id') FROM audit_events
         WHERE account_id = $1 AND kind = 'payment.reported' AND occurred_at >= $2
           AND NOT (details ->> 'payment_id' = ANY($3::text[]))
        """,
        account_id,
        basis.since,
        basis.payments_known,
    )
    return count


async def lock_account(conn: asyncpg.Connection, account_id: str) -> None:
    """Serialize with the API's payment path for the rest of this transaction: a check made
    under the lock cannot miss a payment being reported at the same moment."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1))", ACCOUNT_LOCK.format(account_id=account_id)
    )


async def mark_withheld(
    pool: asyncpg.Pool,
    *,
    ledger_id: int,
    channel: str,
    account_id: str,
    idempotency_key: str,
    stage_id: str,
    unseen: int,
) -> None:
    """The ledger row becomes `withheld` (never sent; its claim is cleared) and is audited."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("UPDATE contact_ledger SET attempted_at = NULL WHERE id = $1", ledger_id)
        await advance(conn, ledger_id, "withheld", source=Source.ACTIVITY)
        await audit.record_event(
            conn,
            account_id=account_id,
            actor="system",
            kind=f"{channel}.withheld",
            details={
                "idempotency_key": idempotency_key,
                "stage_id": stage_id,
                "unseen_payments": unseen,
            },
        )
    logger.info(
        "%s withheld: a payment arrived after the decision",
        channel,
        extra={"idempotency_key": idempotency_key, "stage_id": stage_id},
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
