"""The retention purge's activity: one batch of every data class, in one transaction, audited.

Cutoffs are the workflow's `now` minus each class's period (overdue/settings_retention.py), so
a test passes its own clock. Contact details are removed only for accounts whose workflow is
closed (asked of Temporal) and that have been idle for the whole period.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import asyncpg
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from overdue.settings_retention import RetentionPeriods
from overdue.store import consent_retention, retention, sealed_files, selfservice_links
from overdue.store.audit import record_event
from workflows.names import workflow_id
from workflows.retention_types import DATA_CLASSES, PurgeBatchInput, PurgeBatchResult

logger = logging.getLogger(__name__)

PURGE_ACTOR = "retention-purge"
WorkflowOpen = Callable[[str], Awaitable[bool]]


def workflow_open_in(client: Client) -> WorkflowOpen:
    """Whether the account's workflow is running, asked of Temporal."""

    async def is_open(account_id: str) -> bool:
        try:
            described = await client.get_workflow_handle(workflow_id(account_id)).describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return False  # never started, or its history is past the namespace retention
            raise
        return described.status == WorkflowExecutionStatus.RUNNING

    return is_open


class RetentionActivities:
    def __init__(
        self, pool: asyncpg.Pool, periods: RetentionPeriods, workflow_open: WorkflowOpen
    ) -> None:
        self._pool = pool
        self._periods = periods
        self._workflow_open = workflow_open

    def _cutoff(self, now: datetime, days: int) -> datetime:
        return now - timedelta(days=days)

    async def _closed_idle_accounts(
        self, now: datetime, after: str, limit: int
    ) -> tuple[list[str], str]:
        """Idle accounts whose workflow is closed, and the id to go on after next batch."""
        cutoff = self._cutoff(now, self._periods.contact_details)
        candidates = await retention.idle_contact_accounts(self._pool, cutoff, after, limit)
        closed = [a for a in candidates if not await self._workflow_open(a)]
        return closed, candidates[-1] if len(candidates) == limit else ""

    async def _closed_consent_accounts(self, now: datetime, limit: int) -> list[str]:
        """Up to `limit` accounts whose consent history may go: idle past the collection-record
        period and their workflow closed. Those whose workflow runs are skipped, page after
        page, so they never hold back the ones after them (no cursor crosses batches: a
        running account idle for the whole period is rare, and asking again is only a cost)."""
        cutoff = self._cutoff(now, self._periods.consent_events)
        closed: list[str] = []
        after = ""
        while len(closed) < limit:
            candidates = await consent_retention.idle_consent_accounts(
                self._pool, cutoff, after, limit
            )
            closed += [a for a in candidates if not await self._workflow_open(a)]
            if len(candidates) < limit:
                break
            after = candidates[-1]
        return closed[:limit]

    @activity.defn
    async def purge_batch(self, input: PurgeBatchInput) -> PurgeBatchResult:
        """Remove at most `batch_size` rows of each class that expired before `now`, and
        record what was removed (counts only) in the audit trail, all in one transaction."""
        now, limit, periods = input.now, input.batch_size, self._periods
        closed, contacts_after = await self._closed_idle_accounts(now, input.contacts_after, limit)
        consents_closed = await self._closed_consent_accounts(now, limit)
        counts = dict.fromkeys(DATA_CLASSES, 0)
        async with self._pool.acquire() as conn, conn.transaction():
            counts["message_bodies"] = await retention.blank_message_bodies(
                conn, self._cutoff(now, periods.message_bodies), limit
            )
            counts["free_texts"] = await retention.delete_free_texts(
                conn, self._cutoff(now, periods.free_texts), limit
            )
            counts["contact_details"] = await retention.erase_contact_details(
                conn, self._cutoff(now, periods.contact_details), closed
            )
            counts["evidence_files"] = await sealed_files.delete_expired_files(
                conn, self._cutoff(now, periods.evidence_files), limit
            )
            counts["collection_records"] = await retention.delete_collection_records(
                conn, self._cutoff(now, periods.collection_records), limit
            )
            counts["consent_events"] = await consent_retention.delete_consent_histories(
                conn, self._cutoff(now, periods.consent_events), consents_closed
            )
            counts["audit_events"] = await retention.purge_audit_events(
                conn, self._cutoff(now, periods.audit_events), limit
            )
            counts["selfservice_links"] = await selfservice_links.delete_expired_links(
                conn, self._cutoff(now, periods.selfservice_links), limit
            )
            await record_event(
                conn,
                account_id=None,
                actor=PURGE_ACTOR,
                kind="retention.purged",
                details={"counts": counts, "now": now.isoformat(), "periods_days": _days(periods)},
            )
        # Full batches mean more may be waiting; contact details go on after the last candidate.
        done = max(counts.values()) < limit and not contacts_after
        logger.info("retention purge batch: %s", counts)
        return PurgeBatchResult(counts=counts, contacts_after=contacts_after, done=done)


def _days(periods: RetentionPeriods) -> dict[str, int]:
    return {name: getattr(periods, name) for name in DATA_CLASSES}
