"""Free-text requests to stop SMS, per number, until an agent decides (migration 0008).

The workflow blocks SMS while a request is pending; this table is the SMS activity's second
fence, for a message already in flight or retrying when the request came: a number with an
undecided request newer than its last consent change gets no SMS. A STOP after the request
settles it, as in the workflow; a START after that opts the number back in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from overdue.number_refs import number_ref
from overdue.store.transactions import Db

Decision = Literal["confirmed", "rejected"]


async def record_request(db: Db, message_sid: str, phone_e164: str) -> None:
    """Once per message: a redelivery changes nothing."""
    await db.execute(
        """
        INSERT INTO sms_revocation_requests (message_sid, number_ref) VALUES ($1, $2)
        ON CONFLICT (message_sid) DO NOTHING
        """,
        message_sid,
        number_ref(phone_e164),
    )


@dataclass(frozen=True)
class SmsFences:
    """What stops an SMS to a number at the moment of sending, read in one statement."""

    opted_out: bool  # our consent records (`sms_consent`) say it opted out
    revocation_pending: bool  # an undecided request newer than its last consent change


async def sms_fences(db: Db, phone_e164: str) -> SmsFences:
    """The number's opt-out and pending request, together: the SMS activity asks both just
    before every send, and one round trip is cheaper than two."""
    row = await db.fetchrow(
        """
        SELECT coalesce((SELECT opted_out FROM sms_opt_outs WHERE number_ref = $1), false)
                   AS opted_out,
               EXISTS (
                   SELECT 1 FROM sms_revocation_requests r
                     LEFT JOIN sms_opt_outs c ON c.number_ref = r.number_ref
                    WHERE r.number_ref = $1 AND r.decided_at IS NULL
                      AND (c.changed_at IS NULL OR r.received_at > c.changed_at)
               ) AS revocation_pending
        """,
        number_ref(phone_e164),
    )
    assert row is not None
    return SmsFences(opted_out=row["opted_out"], revocation_pending=row["revocation_pending"])


async def is_pending(db: Db, phone_e164: str) -> bool:
    """Whether the number has an undecided request newer than its last consent change."""
    return (await sms_fences(db, phone_e164)).revocation_pending


async def decide(db: Db, phone_e164: str, decision: Decision, actor: str) -> int:
    """An agent decided: every undecided request of the number is settled. How many were."""
    rows = await db.fetch(
        """
        UPDATE sms_revocation_requests
           SET decided_at = now(), decision = $2, decided_by = $3
         WHERE number_ref = $1 AND decided_at IS NULL
        RETURNING message_sid
        """,
        number_ref(phone_e164),
        decision,
        actor,
    )
    return len(rows)
