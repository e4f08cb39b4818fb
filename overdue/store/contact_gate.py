"""The last check before a contact leaves: has the account changed since the workflow decided it?

The workflow decides a contact from what it knows; the activity may run seconds or minutes
later (a provider outage, a retry, a worker restart). The API records every reported event
(`reported_events`) in the transaction that signals the workflow, under the account's lock, so
an event the decision did not know of is visible here before the workflow has acted on it.
The contact is withheld (nothing is sent, the workflow decides again from its current state)
when the decision did not know of:

- a payment (every contact);
- a cease-contact request: SMS, `app_notice` / `email` / `letter` notices, and call tasks
  unless the policy has `calls_after_cease` (the rules of `workflows.decisions.blocked_reason`);
- a dispute opened and not closed since (every contact: a disputed account is not contacted);
- a withdrawal of the consent the contact relied on (`consent_channel`: the policy requires
  consent for its channel), the latest row of `consent_events` for that channel.

A basis recorded before the cease and dispute fields existed (they are None) is checked for
payments only, as it always was.

Every contact activity (SMS, notify, call tasks) calls `clear_to_send` the same way, after its
ledger row exists and just before the provider is called. The check is one short transaction
under the account's lock: an event being reported at that moment is waited for and seen; one
reported after it finds the ledger row cleared (`cleared_at`). The provider is called after
the commit, never under the lock, so an account's events never wait for a provider.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from temporalio.exceptions import ApplicationError

from overdue.store import consents, reported_events
from overdue.store.accounts import lock_account
from overdue.store.contact_ledger import LedgerRow, Settled, lock_row, mark_cleared, settle
from workflows.contact_types import CONTACT_WITHHELD, DecisionBasis

logger = logging.getLogger(__name__)

# Work done under the lock, in the check's transaction, once the contact is cleared: only a
# contact that is itself a local write (a call task) passes one.
LocalSend = Callable[[asyncpg.Connection, LedgerRow], Awaitable[None]]


@dataclass(frozen=True)
class Withholding:
    """Why a contact is withheld: its audit details and the message of its error."""

    details: dict[str, Any]
    found: str  # completes "withheld: ... reported after this contact was decided"


def payments_withholding(unseen: int) -> Withholding:
    return Withholding({"unseen_payments": unseen}, f"{unseen} payment(s) were")


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


def _cease_withholds(row: LedgerRow, basis: DecisionBasis, cease_applies: bool) -> bool:
    """Whether a cease-contact request the decision did not know of withholds this contact."""
    if basis.ceased_known is None or basis.ceased_known or not cease_applies:
        return False
    return not (row.channel == "call_task" and basis.calls_after_cease)


async def withholding(
    conn: asyncpg.Connection, row: LedgerRow, basis: DecisionBasis, cease_applies: bool
) -> Withholding | None:
    """What the decision did not know of that withholds the contact; None: clear to send."""
    unseen = await unseen_payments(conn, row.account_id, basis)
    if unseen:
        return payments_withholding(unseen)
    if _cease_withholds(row, basis, cease_applies) and await reported_events.cease_reported(
        conn, row.account_id, since=basis.since
    ):
        return Withholding({"reason": "contact_ceased"}, "a cease-contact request was")
    if basis.disputes_known is not None:
        disputes = await reported_events.unseen_open_disputes(
            conn, row.account_id, since=basis.since, known=basis.disputes_known
        )
        if disputes:
            return Withholding(
                {"reason": "dispute_opened", "unseen_disputes": disputes},
                f"{disputes} dispute(s) still open were",
            )
    channel = basis.consent_channel
    if channel is not None and await consents.withdrawn(conn, row.account_id, channel):
        return Withholding(
            {"reason": "consent_withdrawn", "channel": channel},
            f"a withdrawal of {channel} consent was",
        )
    return None


async def clear_to_send(
    pool: asyncpg.Pool,
    row: LedgerRow,
    basis: DecisionBasis | None,
    *,
    then: LocalSend | None = None,
    cease_applies: bool = True,
) -> LedgerRow:
    """Check the contact of `row` against events reported since its decision, under the
    account's lock, in one short transaction; returns the row as it is then.

    - an event the decision did not know of (module docstring): the row becomes `withheld`
      (claim released), audited `<channel>.withheld` with the reason, and `ContactWithheld`
      is raised after the commit;
    - the row already withheld (an earlier attempt): `ContactWithheld`, nothing written;
    - the row no longer pending (an earlier attempt or a provider callback finished it):
      returned as it is, nothing written; the caller answers from it;
    - otherwise the row is stamped `cleared_at`, `then` (if given) runs in the same
      transaction, and the row is returned: the caller may call the provider now.

    `cease_applies`: False for a contact a cease-contact request does not stop (a notice of
    another kind than app_notice, email or letter). Call it with no transaction open and
    nothing else held; never call a provider inside it.
    """
    reason: Withholding | None = None
    async with pool.acquire() as conn:
        async with conn.transaction():
            if basis is not None:
                await lock_account(conn, row.account_id)
            current = await lock_row(conn, row.id, opened=row)
            if current.status == "withheld":
                raise withheld()
            if current.status != "pending":
                return current
            if basis is not None:
                reason = await withholding(conn, current, basis, cease_applies)
            if reason is not None:
                await _withhold(conn, current, reason)
            else:
                await mark_cleared(conn, row.id)
                if then is not None:
                    await then(conn, current)
                current = await lock_row(conn, row.id, opened=row)
    if reason is not None:
        logger.info(
            "%s withheld: %s reported after the decision",
            row.channel,
            reason.found,
            extra={"idempotency_key": row.idempotency_key, "stage_id": row.stage_id},
        )
        raise withheld(reason)  # after the commit: the row and its audit stay
    return current


async def _withhold(conn: asyncpg.Connection, row: LedgerRow, reason: Withholding) -> None:
    await settle(
        conn,
        row,
        Settled(
            status="withheld",
            audit_kind=f"{row.channel}.withheld",
            audit_details={
                "idempotency_key": row.idempotency_key,
                "stage_id": row.stage_id,
                **reason.details,
            },
        ),
    )


def withheld(reason: Withholding | int | None = None) -> ApplicationError:
    """The error a withheld contact raises: for `reason`, or a number of unseen payments, or
    None when an earlier attempt withheld it. Its details carry `unseen_payments` (None
    unless payments withheld it) and, for a cease or a dispute, `reason`."""
    if isinstance(reason, int):
        reason = payments_withholding(reason)
    found = "a change was" if reason is None else reason.found
    details = reason.details if reason is not None else {}
    return ApplicationError(
        f"withheld: {found} reported after this contact was decided; the workflow decides again",
        {"unseen_payments": details.get("unseen_payments"), **details},
        type=CONTACT_WITHHELD,
        non_retryable=True,
    )
