"""What `overdue compliance audit` reads: receipts with the Postgres record around them, and
ledger rows without a receipt; a page at a time in time order (keyset pagination), so memory
stays bounded however long the period.

For each receipt, the record is read from the tables that made or recorded things, not from
the receipt: the contact's own row, the account's SMS and calls in the ledger in the 7 days up
to the instant, the last consent change in the audit trail, the channel's consent in
`consent_events`, and the cease-contact requests and disputes reported by then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

import asyncpg

from overdue.store.receipts import NOT_MADE


@dataclass(frozen=True)
class AuditedReceipt:
    """A receipt and the Postgres record at its instant."""

    id: int
    contact_key: str
    account_id: str
    channel: str
    stage_id: str
    basis: str
    notify_kind: str | None
    at: datetime
    time_zone: str
    local_time: datetime  # naive: the wall clock in time_zone
    jurisdiction: str | None
    window_start: time | None
    window_end: time | None
    calendar_rule: str | None
    sms_per_day: int | None
    sms_per_week: int | None
    calls_per_day: int | None
    calls_per_7_days: int | None
    sms_consent: str
    policy_id: str | None
    policy_version: int | None
    ledger_status: str | None  # the contact's ledger row (None: a dial, or no row)
    ledger_at: datetime | None
    task_at: datetime | None  # the call task's creation
    sent_at: datetime | None  # an SMS: its first status past pending (at the provider)
    sms_made: list[datetime]  # the account's SMS in the ledger, 7 days up to `at`
    calls_made: list[datetime]  # its call tasks the caps count, 7 days up to `at`
    dial_at: datetime | None  # a dial receipt: its attempt's instant (None: no such row)
    dials_made: list[datetime]  # the number's dial attempts, 7 days up to the dial
    dials_unanswered: list[datetime]  # those unanswered (no answer, busy, voicemail)
    last_conversation: datetime | None  # the number's last conversation before the dial
    opted_out_then: bool | None  # the audit trail's last consent change by `at`
    ceased_then: bool
    disputes_then: int
    # The contact's channel's consent in `consent_events` by `at`: True granted, False
    # withdrawn, None nothing recorded.
    consent_then: bool | None = None


@dataclass(frozen=True)
class Unreceipted:
    """A ledger row that made a contact and has no receipt."""

    id: int
    account_id: str
    idempotency_key: str
    channel: str
    status: str
    created_at: datetime


async def receipts_page(
    conn: asyncpg.Connection, *, after: tuple[datetime, int], limit: int
) -> list[AuditedReceipt]:
    """The next `limit` receipts after `after` (instant, id), in that order."""
    rows = await conn.fetch(
        """
        SELECT r.id, r.contact_key, r.account_id, r.channel, r.stage_id, r.basis, r.notify_kind,
               r.at, r.time_zone, r.local_time, r.jurisdiction, r.window_start, r.window_end,
               r.calendar_rule, r.sms_per_day, r.sms_per_week, r.calls_per_day,
               r.calls_per_7_days, r.sms_consent, r.policy_id, r.policy_version,
               l.status AS ledger_status, l.created_at AS ledger_at, t.created_at AS task_at,
               (SELECT min(ev.occurred_at) FROM contact_events ev
                 WHERE ev.ledger_id = l.id AND l.channel = 'sms' AND ev.kind = 'status'
                   AND ev.status <> 'pending' AND ev.status <> ALL($4::text[])) AS sent_at,
               ARRAY(
                   SELECT m.created_at FROM contact_ledger m
                     LEFT JOIN compliance_receipts mr ON mr.contact_key = m.idempotency_key
                    WHERE m.account_id = r.account_id AND m.channel = 'sms'
                      AND m.status <> ALL($4::text[])
                      AND coalesce(mr.basis, 'stage') <> 'requested'
                      AND m.created_at > r.at - interval '7 days' AND m.created_at <= r.at
                    ORDER BY m.created_at
               ) AS sms_made,
               ARRAY(
                   SELECT m.created_at FROM contact_ledger m
                     LEFT JOIN compliance_receipts mr ON mr.contact_key = m.idempotency_key
                    WHERE m.account_id = r.account_id AND m.channel = 'call_task'
                      AND m.status <> ALL($4::text[]) AND m.status <> 'pending'
                      AND coalesce(mr.basis, 'stage') <> 'requested'
                      AND m.created_at > r.at - interval '7 days' AND m.created_at <= r.at
                    ORDER BY m.created_at
               ) AS calls_made,
               d.dialled_at AS dial_at,
               ARRAY(
                   SELECT x.dialled_at FROM dial_attempts x
                    WHERE x.number_ref = d.number_ref
                      AND x.dialled_at > d.dialled_at - interval '7 days'
                      AND x.dialled_at <= d.dialled_at
                    ORDER BY x.dialled_at
               ) AS dials_made,
               ARRAY(
                   SELECT x.dialled_at FROM dial_attempts x
                    WHERE x.number_ref = d.number_ref AND x.unanswered
                      AND x.dialled_at > d.dialled_at - interval '2 days'
                      AND x.dialled_at <= d.dialled_at
                    ORDER BY x.dialled_at
               ) AS dials_unanswered,
               (SELECT max(x.dialled_at) FROM dial_attempts x
                 WHERE x.number_ref = d.number_ref AND x.conversation
                   AND x.dialled_at < d.dialled_at) AS last_conversation,
               (SELECT (a.details ->> 'opted_out')::boolean FROM audit_events a
                 WHERE a.account_id = r.account_id AND a.kind = 'sms.consent_changed'
                   AND a.occurred_at <= r.at
                 ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1) AS opted_out_then,
               EXISTS (
                   SELECT 1 FROM reported_events e
                    WHERE e.account_id = r.account_id AND e.kind = 'contact.ceased'
                      AND e.reported_at <= r.at
               ) AS ceased_then,
               (SELECT count(*) FROM reported_events o
                 WHERE o.account_id = r.account_id AND o.kind = 'dispute.opened'
                   AND o.reported_at <= r.at
                   AND NOT EXISTS (
                       SELECT 1 FROM reported_events c
                        WHERE c.account_id = o.account_id AND c.kind = 'dispute.closed'
                          AND c.event_id = o.event_id AND c.reported_at <= r.at
                   )) AS disputes_then,
               (SELECT ce.granted FROM consent_events ce
                 WHERE ce.account_id = r.account_id AND ce.recorded_at <= r.at
                   AND ce.channel = CASE r.channel WHEN 'sms' THEN 'sms'
                                                   WHEN 'notify' THEN r.notify_kind
                                                   ELSE 'call' END
                 ORDER BY ce.at DESC, ce.id DESC LIMIT 1) AS consent_then
          FROM compliance_receipts r
          LEFT JOIN contact_ledger l ON l.idempotency_key = r.contact_key
          LEFT JOIN call_tasks t ON t.idempotency_key = r.contact_key
          LEFT JOIN dial_attempts d ON r.channel = 'dial' AND r.contact_key = 'dial/' || d.id
         WHERE (r.at, r.id) > ($1, $2)
         ORDER BY r.at, r.id
         LIMIT $3
        """,
        after[0],
        after[1],
        limit,
        list(NOT_MADE),
    )
    return [
        AuditedReceipt(
            **{
                **dict(row),
                "sms_made": list(row["sms_made"]),
                "calls_made": list(row["calls_made"]),
                "dials_made": list(row["dials_made"]),
                "dials_unanswered": list(row["dials_unanswered"]),
            }
        )
        for row in rows
    ]


async def unreceipted_page(
    conn: asyncpg.Connection, *, after: tuple[datetime, int], limit: int
) -> tuple[list[Unreceipted], int, tuple[datetime, int] | None]:
    """Ledger rows after `after` (created, id) that made a contact and have no receipt, from
    the next `limit` rows; how many rows were read; and where the following page starts
    (None: none left). A call
    task's row makes its contact when the task is created (not while pending or withheld)."""
    rows = await conn.fetch(
        """
        SELECT l.id, l.account_id, l.idempotency_key, l.channel, l.status, l.created_at,
               r.id IS NOT NULL AS receipted
          FROM contact_ledger l
          LEFT JOIN compliance_receipts r ON r.contact_key = l.idempotency_key
         WHERE (l.created_at, l.id) > ($1, $2)
         ORDER BY l.created_at, l.id
         LIMIT $3
        """,
        after[0],
        after[1],
        limit,
    )
    missing = [
        Unreceipted(
            id=row["id"],
            account_id=row["account_id"],
            idempotency_key=row["idempotency_key"],
            channel=row["channel"],
            status=row["status"],
            created_at=row["created_at"],
        )
        for row in rows
        if not row["receipted"]
        and not (row["channel"] == "call_task" and row["status"] in ("pending", "withheld"))
    ]
    following = (rows[-1]["created_at"], rows[-1]["id"]) if len(rows) == limit else None
    return missing, len(rows), following
