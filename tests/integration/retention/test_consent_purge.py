"""Consent history under retention: an account's consent events go only all together, once
its whole collection record is past the collection-records period and its workflow is closed.

The same fixed clock as test_purge.py; histories a minute either side of the period.
"""

from __future__ import annotations

import asyncpg
import pytest

from activities.retention import RetentionActivities
from overdue.subject_access import ACCESSED_KIND
from tests.integration.retention import support as rows
from tests.integration.retention.conftest import Database
from tests.integration.retention.test_purge import MINUTE, NOW, PERIODS, inside, outside
from workflows.retention_types import PurgeBatchInput

pytestmark = pytest.mark.integration

DAYS = PERIODS.collection_records  # the period consent history goes with


async def _open_workflows(account_id: str) -> bool:
    return account_id == "c1-running"


async def _seed(conn: asyncpg.Connection) -> None:
    # Ids sort so that the running account comes first: it must not hold back the others.
    await rows.consent(conn, "c1-running", outside(DAYS + 200))  # its workflow still runs
    await rows.consent(conn, "c2-gone", outside(DAYS) - MINUTE)
    await rows.consent(conn, "c2-gone", outside(DAYS), granted=False)
    await rows.consent(conn, "c3-recent", inside(DAYS))
    # An old grant and a withdrawal inside the period: the whole history stays, or the grant
    # would be all that is left and read as the current consent.
    await rows.consent(conn, "c4-mixed", outside(DAYS + 100))
    await rows.consent(conn, "c4-mixed", inside(DAYS), granted=False)
    # Old consent, but the account was contacted inside the period.
    await rows.consent(conn, "c5-contacted", outside(DAYS + 100))
    await rows.ledger_row(conn, "c5-contacted", inside(DAYS))
    # Old consent, but an audit event inside the period (the last activity).
    await rows.consent(conn, "c6-audited", outside(DAYS + 100))
    await rows.audit(conn, "c6-audited", inside(DAYS))


async def _histories(conn: asyncpg.Connection) -> dict[str, int]:
    found = await conn.fetch(
        "SELECT account_id, count(*) FROM consent_events GROUP BY account_id ORDER BY 1"
    )
    return {r[0]: r[1] for r in found}


KEPT = {"c1-running": 1, "c3-recent": 1, "c4-mixed": 2, "c5-contacted": 1, "c6-audited": 1}


@pytest.mark.parametrize("batch_size", [100, 1])
async def test_a_whole_history_goes_once_its_record_expired(db: Database, batch_size: int) -> None:
    async with db.pool.acquire() as conn:
        await _seed(conn)
    purge = RetentionActivities(db.pool, PERIODS, _open_workflows)
    result = await purge.purge_batch(PurgeBatchInput(now=NOW, batch_size=batch_size))
    assert result.counts["consent_events"] == 2
    again = await purge.purge_batch(PurgeBatchInput(now=NOW, batch_size=batch_size))
    assert again.counts["consent_events"] == 0
    async with db.pool.acquire() as conn:
        assert await _histories(conn) == KEPT
        event = await conn.fetchrow(
            "SELECT details FROM audit_events WHERE kind = 'retention.purged' ORDER BY chain_seq"
        )
        assert '"consent_events": 2' in event["details"]
        assert '"consent_events": 730' in event["details"]  # its period, the collection record's


async def test_nothing_goes_a_minute_early(db: Database) -> None:
    async with db.pool.acquire() as conn:
        await _seed(conn)
    purge = RetentionActivities(db.pool, PERIODS, _open_workflows)
    early = NOW - 2 * MINUTE  # c2-gone's last change is then a minute inside the period
    result = await purge.purge_batch(PurgeBatchInput(now=early, batch_size=100))
    assert result.counts["consent_events"] == 0
    async with db.pool.acquire() as conn:
        assert await _histories(conn) == {**KEPT, "c2-gone": 2}


async def test_the_trigger_refuses_every_other_delete(db: Database) -> None:
    """Past the purge's path: nothing without a horizon, nothing of an account with a change
    at or after the horizon, nothing under the legal floor, and never an UPDATE."""
    async with db.pool.acquire() as conn:
        await _seed(conn)
    statement = "DELETE FROM consent_events WHERE account_id = $1"
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await db.pool.execute(statement, "c2-gone")  # no horizon recorded yet
    await RetentionActivities(db.pool, PERIODS, _open_workflows).purge_batch(
        PurgeBatchInput(now=NOW, batch_size=100)
    )
    for account in ("c3-recent", "c4-mixed"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await db.pool.execute(statement, account)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await db.pool.execute("UPDATE consent_events SET granted = NOT granted")
    # A horizon closer than the 2-year floor lets nothing through.
    await db.pool.execute(
        "INSERT INTO retention_horizons (data_class, cutoff) VALUES ('consent_events', now())"
    )
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await db.pool.execute(statement, "c1-running")
    async with db.pool.acquire() as conn:
        assert await _histories(conn) == KEPT


async def test_a_backfilled_change_keeps_the_history(db: Database) -> None:
    """A change given long ago but recorded recently (a late report) counts from when it was
    recorded: the history stays."""
    async with db.pool.acquire() as conn:
        await rows.consent(conn, "c7-late", outside(DAYS + 100))
        await conn.execute(
            "INSERT INTO consent_events (account_id, change_id, channel, granted, source, at, "
            "recorded_at, actor) VALUES ('c7-late', 'late', 'sms', false, 'backend', $1, $2, "
            "'api:backend')",
            outside(DAYS + 50),
            inside(DAYS),
        )
    purge = RetentionActivities(db.pool, PERIODS, _open_workflows)
    result = await purge.purge_batch(PurgeBatchInput(now=NOW, batch_size=100))
    assert result.counts["consent_events"] == 0
    assert (await db.pool.fetchval("SELECT count(*) FROM consent_events")) == 2


async def test_an_access_request_never_extends_retention(db: Database) -> None:
    """The customer asking what we hold (`privacy.accessed`, written by every export) inside
    the period keeps neither their contact details nor their consent history."""
    async with db.pool.acquire() as conn:
        await rows.contact(conn, "c8-asked", outside(DAYS))
        await rows.consent(conn, "c8-asked", outside(DAYS))
        await rows.audit(conn, "c8-asked", NOW - MINUTE, kind=ACCESSED_KIND)
        await rows.audit(conn, "c9-active", NOW - MINUTE)  # any other event is activity
        await rows.contact(conn, "c9-active", outside(DAYS))
        await rows.consent(conn, "c9-active", outside(DAYS))
    purge = RetentionActivities(db.pool, PERIODS, _open_workflows)
    result = await purge.purge_batch(PurgeBatchInput(now=NOW, batch_size=100))
    assert (result.counts["contact_details"], result.counts["consent_events"]) == (1, 1)
    async with db.pool.acquire() as conn:
        assert await _histories(conn) == {"c9-active": 1}
        assert await rows.ids(conn, "customer_contacts", "account_id") == {"c9-active"}
