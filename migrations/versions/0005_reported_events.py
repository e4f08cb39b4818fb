"""Events reported about an account, once per id; when the pre-send check cleared a contact.

`reported_events` is what the API's de-duplication and the pre-send payment check read (they
counted `audit_events` rows before); its primary key makes a replayed report a no-op. It is
filled from the audit trail here, with the same rows those reads matched; the audit trail
itself is untouched and stays append-only.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08
"""

from overdue.migrate import execute_script

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
    -- Payments, hardship reports, disputes opened and closed, cease-contact requests: one row
    -- per (account, kind, id), written with the event's audit row in the transaction that
    -- signals the account's workflow. The pre-send check reads an account's payments since a
    -- run started (the key's prefix serves it).
    CREATE TABLE reported_events (
        account_id   text NOT NULL,
        kind         text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.]*$'),
        event_id     text NOT NULL,
        reported_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, kind, event_id)
    );

    -- Each kind's id field, as api/account_events.py records them; the first report counts.
    INSERT INTO reported_events (account_id, kind, event_id, reported_at)
    SELECT account_id, kind, event_id, min(occurred_at)
      FROM (
        SELECT account_id, kind, occurred_at,
               details ->> CASE kind
                   WHEN 'payment.reported'  THEN 'payment_id'
                   WHEN 'hardship.reported' THEN 'report_id'
                   WHEN 'dispute.opened'    THEN 'dispute_id'
                   WHEN 'dispute.closed'    THEN 'dispute_id'
                   WHEN 'contact.ceased'    THEN 'request_id'
               END AS event_id
          FROM audit_events
         WHERE kind IN ('payment.reported', 'hardship.reported', 'dispute.opened',
                        'dispute.closed', 'contact.ceased')
           AND account_id IS NOT NULL
      ) reported
     WHERE event_id IS NOT NULL
     GROUP BY account_id, kind, event_id;

    -- When the pre-send check (under the account's lock) last let the contact go; a payment
    -- reported later finds the row cleared. NULL: never cleared (or cleared before this).
    ALTER TABLE contact_ledger ADD COLUMN cleared_at timestamptz;
    """)


def downgrade() -> None:
    # The audit trail still holds every event: the old reads find them there.
    execute_script("""
    ALTER TABLE contact_ledger DROP COLUMN cleared_at;
    DROP TABLE reported_events;
    """)
