"""Fill Postgres with N accounts' worth of report sources, set-based (INSERT ... SELECT over
generate_series), for `bench.reports` and docs/reports.md.

Per account (due dates spread over 100 days from 2026-08-15, three products, three policies):
one bill; three contacts (D+1 and D+7 SMS, the D+2 call task's ledger row); for 3 in 5 a call
task in one of four queues claimed by one of 200 agents, with two dial attempts and a call
outcome; promises (1 in 5 of those), payments in full (1 in 4: cures) or in part (1 in 10),
escalations (1 in 40), approved two-instalment plans (1 in 50), disputes (1 in 30, half closed).

Triggers are skipped while loading (`session_replication_role = replica`): the contact ledger's
status events and the audit trail's hash chain are not built for generated rows, which the
reports never read. No names or numbers: there are no customer rows.
"""

from __future__ import annotations

import asyncpg

_STEPS: tuple[tuple[str, str], ...] = (
    (
        "accounts",
        """
INSERT INTO accounts (account_id, product, currency, created_at, updated_at)
SELECT 'acct-' || g, (ARRAY['card', 'loan', 'line'])[1 + g % 3], 'CNY', now(), now()
  FROM generate_series(1, $1) g""",
    ),
    (
        "policy_versions",
        """
INSERT INTO policy_versions (digest, policy_id, version, body)
SELECT encode(sha256(p::bytea), 'hex'), p, 1, jsonb_build_object(
           'id', p, 'promise', jsonb_build_object('grace_days', 2),
           'hardship', jsonb_build_object('grace_days', 3))
  FROM unnest(ARRAY['default', 'gentle', 'strict']) p
 WHERE $1 > 0
ON CONFLICT DO NOTHING""",
    ),
    (
        "account_bills",
        # Started by digest (release policy-by-digest-2026-12): report_refresh joins the version.
        """
INSERT INTO account_bills (account_id, bill_id, amount_minor, currency, due_date, start_input,
                           created_at, delivered_at)
SELECT 'acct-' || g, 'bill-1', 10000 + g % 90000, 'CNY', d.due,
       jsonb_build_object('policy_ref', jsonb_build_object(
           'id', p.id, 'version', 1, 'digest', encode(sha256(p.id::bytea), 'hex'))),
       d.due - 20, d.due - 20
  FROM generate_series(1, $1) g
  CROSS JOIN LATERAL (SELECT date '2026-08-15' + g % 100 AS due) d
  CROSS JOIN LATERAL (SELECT (ARRAY['default', 'gentle', 'strict'])[1 + (g / 3) % 3] AS id) p""",
    ),
    (
        "call_tasks",
        """
INSERT INTO call_tasks (idempotency_key, account_id, stage_id, queue, priority, due_at, status,
                        claimed_by, claimed_at, outcome_at, created_at, updated_at)
SELECT 'acct-' || g || '/e1/d2_call/1', 'acct-' || g, 'd2_call',
       (ARRAY['general', 'collections', 'specialist', 'supervisor'])[1 + (g / 5) % 4], 0,
       t.at, 'done', 'agent-' || (g % 200), t.at, t.at + interval '1 day', t.at,
       t.at + interval '1 day'
  FROM generate_series(1, $1) g
  CROSS JOIN LATERAL (SELECT (date '2026-08-17' + g % 100)::timestamp AT TIME ZONE 'UTC'
                             + interval '9 hours' AS at) t
 WHERE g % 5 < 3""",
    ),
    (
        "dial_attempts",
        """
INSERT INTO dial_attempts (task_id, account_id, number_ref, agent_id, dialled_at, time_zone,
                           local_at, outcome, unanswered, conversation, checked)
SELECT t.id, t.account_id, sha256(t.account_id::bytea), t.claimed_by,
       t.created_at + k * interval '3 hours', 'Asia/Shanghai',
       (t.created_at + k * interval '3 hours') AT TIME ZONE 'Asia/Shanghai', o.outcome,
       o.outcome IN ('no_answer', 'busy', 'voicemail'),
       o.outcome IN ('reached', 'refused', 'wrong_party'), '{}'::jsonb
  FROM call_tasks t
  CROSS JOIN generate_series(0, 1) k
  CROSS JOIN LATERAL (SELECT CASE WHEN k = 0 THEN 'no_answer' ELSE
      (ARRAY['reached', 'reached', 'reached', 'reached', 'no_answer', 'no_answer', 'busy',
             'voicemail', 'refused', 'wrong_party'])[1 + t.id % 10] END AS outcome) o""",
    ),
    (
        "contact_ledger",
        """
INSERT INTO contact_ledger (idempotency_key, account_id, channel, stage_id, status, created_at,
                            updated_at)
SELECT b.account_id || '/e1/' || s.stage || '/1', b.account_id, s.channel, s.stage,
       s.status, b.due_date + s.days + time '08:00', b.due_date + s.days + time '08:00'
  FROM account_bills b
  CROSS JOIN (VALUES ('sms', 'd1_sms', 'delivered', 1), ('call_task', 'd2_call',
                      'task_created', 2), ('sms', 'd7_sms', 'delivered', 7)) s(channel, stage,
                                                                               status, days)""",
    ),
    (
        "audit_events",
        """
WITH head AS (SELECT seq FROM audit_chain_head), rows AS (
    SELECT t.account_id, t.claimed_by AS actor, 'call.outcome' AS kind,
           jsonb_build_object('task_id', t.id, 'outcome', (ARRAY['reached', 'no_answer',
               'refused', 'callback_requested', 'wrong_number', 'reached'])[1 + t.id % 6])
               AS details,
           t.created_at + interval '4 hours' AS at
      FROM call_tasks t
    UNION ALL
    SELECT t.account_id, t.claimed_by, 'call.outcome',
           jsonb_build_object('task_id', t.id, 'outcome', 'complaint'),
           t.created_at + interval '5 hours'
      FROM call_tasks t WHERE t.id % 50 = 0
    UNION ALL
    SELECT t.account_id, t.claimed_by, 'promise.recorded',
           jsonb_build_object('task_id', t.id, 'amount_minor', b.amount_minor / 2,
                              'promised_date', b.due_date + 10),
           t.created_at + interval '4 hours'
      FROM call_tasks t JOIN account_bills b USING (account_id) WHERE t.id % 5 = 0
    UNION ALL
    SELECT b.account_id, 'backend', 'payment.reported',
           jsonb_build_object('payment_id', 'pay-1', 'currency', 'CNY',
               'amount_minor', CASE WHEN h % 4 = 0 THEN b.amount_minor ELSE b.amount_minor / 2 END),
           b.due_date + CASE WHEN h % 4 = 0 THEN 12 ELSE 9 END + time '11:00'
      FROM account_bills b CROSS JOIN LATERAL (SELECT abs(hashtext(b.account_id)) AS h) x
     WHERE h % 4 = 0 OR h % 10 = 1
    UNION ALL
    SELECT t.account_id, t.claimed_by, 'account.escalated', jsonb_build_object('task_id', t.id),
           t.created_at + interval '6 hours'
      FROM call_tasks t WHERE t.id % 40 = 3
    UNION ALL
    SELECT b.account_id, 'supervisor-' || (abs(hashtext(b.account_id)) % 10), 'hardship.decided',
           jsonb_build_object('approve', true, 'instalments', 2, 'plan', jsonb_build_array(
               jsonb_build_object('due_date', b.due_date + 20, 'amount_minor', b.amount_minor / 2),
               jsonb_build_object('due_date', b.due_date + 50,
                                  'amount_minor', b.amount_minor - b.amount_minor / 2))),
           b.due_date + 5 + time '15:00'
      FROM account_bills b WHERE abs(hashtext(b.account_id)) % 50 = 7
)
INSERT INTO audit_events (account_id, actor, kind, details, occurred_at, chain_seq, prev_hash,
                          row_hash)
SELECT account_id, actor, kind, details, at, head.seq + row_number() OVER (),
       '\\x00'::bytea, '\\x00'::bytea
  FROM rows, head""",
    ),
    (
        "audit_chain_head",
        "UPDATE audit_chain_head SET seq = (SELECT max(chain_seq) FROM audit_events)",
    ),
    (
        "reported_events",
        """
INSERT INTO reported_events (account_id, kind, event_id, reported_at, delivered_at)
SELECT b.account_id, k.kind, 'dispute-1', b.due_date + k.days + time '10:00',
       b.due_date + k.days + time '10:00'
  FROM account_bills b
  CROSS JOIN (VALUES ('dispute.opened', 3), ('dispute.closed', 12)) k(kind, days)
 WHERE abs(hashtext(b.account_id)) % 30 = 5
   AND (k.kind = 'dispute.opened' OR abs(hashtext(b.account_id)) % 60 = 5)""",
    ),
)


async def fill(conn: asyncpg.Connection, accounts: int, *, echo: bool = True) -> dict[str, int]:
    """Insert `accounts` accounts' rows; returns each table's row count. Then ANALYZE."""
    counts: dict[str, int] = {}
    await conn.execute("SET session_replication_role = replica")
    try:
        for table, sql in _STEPS:
            status = await conn.execute(sql, *([accounts] if "$1" in sql else []))
            counts[table] = int(status.rsplit(" ", 1)[-1])
            if echo:
                print(f"  {table}: {counts[table]:,} rows", flush=True)
    finally:
        await conn.execute("SET session_replication_role = origin")
    await conn.execute("ANALYZE")
    return counts
