"""The audit trail's hash chain: check that no row was edited, removed or slipped in.

Each audit row carries `prev_hash` and `row_hash` = SHA-256(prev_hash || canonical content),
written by a trigger as the row is inserted (migrations/versions/0011_retention.py). The
chain starts from 32 zero bytes, or, once the retention purge has removed its beginning, from
the latest anchor (the last removed row's hash). The hash is recomputed by the same SQL
function that wrote it, so the text hashed is byte for byte the one the trigger hashed.
"""

from __future__ import annotations

from dataclasses import dataclass

from overdue.store.transactions import Db

GENESIS = bytes(32)
PAGE = 5000


@dataclass(frozen=True)
class ChainBreak:
    """The first link that does not hold: the row (its id and place) and what is wrong."""

    event_id: int | None  # None when rows are missing from the chain's end
    chain_seq: int
    reason: str


@dataclass(frozen=True)
class ChainReport:
    checked: int  # rows checked
    first_seq: int  # where the check started (after the latest anchor)
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None


async def _start(db: Db) -> tuple[int, bytes]:
    """The last seq before the chain's first row, and the hash it must link to."""
    anchor = await db.fetchrow(
        "SELECT through_seq, hash FROM audit_chain_anchors ORDER BY through_seq DESC LIMIT 1"
    )
    if anchor is None:
        return 0, GENESIS
    return int(anchor["through_seq"]), bytes(anchor["hash"])


async def verify_chain(db: Db, *, page: int = PAGE) -> ChainReport:
    """Walk the chain in order, a page at a time; the first broken link, or none.

    Run it in one repeatable-read transaction (as `overdue audit verify` does) so rows
    appended meanwhile do not move the end under it."""
    seq, expected = await _start(db)
    first = seq + 1
    checked = 0
    while True:
        rows = await db.fetch(
            """
            SELECT id, chain_seq, prev_hash, row_hash,
                   audit_event_hash(prev_hash, id, account_id, actor, kind, details,
                                    occurred_at) AS recomputed
              FROM audit_events WHERE chain_seq > $1 ORDER BY chain_seq LIMIT $2
            """,
            seq,
            page,
        )
        for row in rows:
            seq += 1
            if row["chain_seq"] != seq:
                reason = f"rows {seq}..{row['chain_seq'] - 1} of the chain are missing"
                return ChainReport(checked, first, ChainBreak(row["id"], row["chain_seq"], reason))
            if bytes(row["prev_hash"]) != expected:
                reason = "does not link to the row before it (a row was removed or inserted)"
                return ChainReport(checked, first, ChainBreak(row["id"], seq, reason))
            if bytes(row["recomputed"]) != bytes(row["row_hash"]):
                reason = "its content does not match its hash (the row was altered)"
                return ChainReport(checked, first, ChainBreak(row["id"], seq, reason))
            expected = bytes(row["row_hash"])
            checked += 1
        if len(rows) < page:
            break
    head = await db.fetchrow("SELECT seq, hash FROM audit_chain_head")
    if head is not None and (head["seq"] != seq or bytes(head["hash"]) != expected):
        reason = f"the chain ends at {seq} but its head says {head['seq']}: rows were removed"
        return ChainReport(checked, first, ChainBreak(None, int(head["seq"]), reason))
    return ChainReport(checked, first, None)
