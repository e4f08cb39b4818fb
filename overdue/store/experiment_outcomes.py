"""Each assigned account's outcome since its assignment, as `overdue.experiment_analysis`
takes it: one query over what the product records anyway.

- bills: `account_bills` stored since the assignment (the first is stored with it);
- payments: `payment.reported` audit rows since the assignment (amount and `paid_at`); the
  account is cured at the payment that brings the payments to its bills' total, and its days
  to cure count from the assignment to that payment's `paid_at`;
- contacts: `contact_ledger` rows that left us (queued, accepted, scheduled, a call task
  created, sending, sent, delivered, read), not those blocked, withheld, refused or failed;
- complaints: a call outcome `complaint` (the console's `call.outcome` or a task completed
  with that outcome);
- opt-outs: an SMS opt-out (`sms.consent_changed` with `opted_out`), a cease-contact
  request, or a consent withdrawn (`consent_events.granted = false`);
- disputes: a `dispute.opened` report.
"""

from __future__ import annotations

from overdue.experiment_analysis import Outcome
from overdue.store.transactions import Db

_CONTACTED = (
    "queued",
    "accepted",
    "scheduled",
    "task_created",
    "sending",
    "sent",
    "delivered",
    "read",
)

_OUTCOMES = """
WITH a AS (
    SELECT account_id, arm, vulnerable, assigned_at FROM experiment_assignments
     WHERE experiment_id = $1
),
bills AS (
    SELECT b.account_id, sum(b.amount_minor) AS due, min(b.currency) AS currency
      FROM account_bills b JOIN a USING (account_id)
     WHERE b.created_at >= a.assigned_at
     GROUP BY b.account_id
),
payments AS (
    SELECT e.account_id,
           greatest(coalesce((e.details ->> 'paid_at')::timestamptz, e.occurred_at),
                    a.assigned_at) AS paid_at,
           sum((e.details ->> 'amount_minor')::bigint) OVER (
               PARTITION BY e.account_id ORDER BY e.occurred_at, e.id) AS paid_so_far
      FROM audit_events e JOIN a USING (account_id)
     WHERE e.kind = 'payment.reported' AND e.occurred_at >= a.assigned_at
),
cures AS (
    SELECT p.account_id, min(p.paid_at) AS cured_at
      FROM payments p JOIN bills b USING (account_id)
     WHERE p.paid_so_far >= b.due
     GROUP BY p.account_id
)
SELECT a.account_id, a.arm, a.vulnerable,
       coalesce(b.currency, '') AS currency,
       c.cured_at IS NOT NULL AS cured,
       extract(epoch FROM c.cured_at - a.assigned_at) / 86400.0 AS days_to_cure,
       coalesce((SELECT max(p.paid_so_far) FROM payments p
                  WHERE p.account_id = a.account_id), 0) AS recovered_minor,
       (SELECT count(*) FROM contact_ledger l
         WHERE l.account_id = a.account_id AND l.created_at >= a.assigned_at
           AND l.status = ANY($2::text[])) AS contacts,
       EXISTS (SELECT 1 FROM audit_events e
                WHERE e.account_id = a.account_id AND e.occurred_at >= a.assigned_at
                  AND e.kind IN ('call.outcome', 'call_task.completed')
                  AND e.details ->> 'outcome' = 'complaint') AS complained,
       (EXISTS (SELECT 1 FROM audit_events e
                 WHERE e.account_id = a.account_id AND e.occurred_at >= a.assigned_at
                   AND e.kind = 'sms.consent_changed'
                   AND (e.details ->> 'opted_out')::boolean)
        OR EXISTS (SELECT 1 FROM reported_events r
                    WHERE r.account_id = a.account_id AND r.kind = 'contact.ceased'
                      AND r.reported_at >= a.assigned_at)
        OR EXISTS (SELECT 1 FROM consent_events ce
                    WHERE ce.account_id = a.account_id AND NOT ce.granted
                      AND ce.recorded_at >= a.assigned_at)) AS opted_out,
       EXISTS (SELECT 1 FROM reported_events r
                WHERE r.account_id = a.account_id AND r.kind = 'dispute.opened'
                  AND r.reported_at >= a.assigned_at) AS disputed
  FROM a
  LEFT JOIN bills b USING (account_id)
  LEFT JOIN cures c USING (account_id)
 ORDER BY a.account_id
"""


async def outcome_rows(db: Db, experiment_id: str) -> list[Outcome]:
    """One row per account assigned in the experiment, in account order."""
    rows = await db.fetch(_OUTCOMES, experiment_id, list(_CONTACTED))
    return [
        Outcome(
            arm=row["arm"],
            vulnerable=row["vulnerable"],
            cured=row["cured"],
            days_to_cure=float(row["days_to_cure"]) if row["days_to_cure"] is not None else None,
            recovered_minor=int(row["recovered_minor"]),
            currency=row["currency"],
            contacts=int(row["contacts"]),
            complained=row["complained"],
            opted_out=row["opted_out"],
            disputed=row["disputed"],
        )
        for row in rows
    ]
