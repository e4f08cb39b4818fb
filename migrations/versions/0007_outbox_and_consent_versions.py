"""Intent first, Temporal after: an outbox on reported events and bills; consent versions.

The API used to signal or start the account's workflow inside the transaction that recorded
the event or bill, under the account's advisory lock, so a slow or stopped Temporal held a
pool connection and the lock (issue 13). Now the row is the intent: it is committed with what
to send (`signal_name` + `signal_payload`, or the workflow's `start_input`) and the actor, the
Temporal call happens after the commit, and `delivered_at` is set when it succeeded. A relay
re-sends what is left undelivered (the workflow deduplicates by the same ids).

Consent: each change of a number's SMS consent takes the next value of one sequence, so the
workflow can tell a stale consent signal (a redelivered STOP after START) from a newer one.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-03
"""

from overdue.migrate import execute_script

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
    -- NULL delivered_at: recorded, not yet signalled. Rows from before were signalled in the
    -- transaction that wrote them.
    ALTER TABLE reported_events
        ADD COLUMN signal_name    text,
        ADD COLUMN signal_payload jsonb,
        ADD COLUMN actor          text,
        ADD COLUMN details        jsonb,
        ADD COLUMN delivered_at   timestamptz;
    UPDATE reported_events SET delivered_at = reported_at;
    CREATE INDEX reported_events_undelivered ON reported_events (reported_at)
        WHERE delivered_at IS NULL;

    ALTER TABLE account_bills
        ADD COLUMN start_input  jsonb,
        ADD COLUMN actor        text,
        ADD COLUMN delivered_at timestamptz;
    UPDATE account_bills SET delivered_at = created_at;
    CREATE INDEX account_bills_undelivered ON account_bills (created_at)
        WHERE delivered_at IS NULL;

    CREATE SEQUENCE sms_consent_version;
    ALTER TABLE sms_opt_outs ADD COLUMN version bigint NOT NULL
        DEFAULT nextval('sms_consent_version');
    """)


def downgrade() -> None:
    execute_script("""
    ALTER TABLE sms_opt_outs DROP COLUMN version;
    DROP SEQUENCE sms_consent_version;
    DROP INDEX account_bills_undelivered;
    ALTER TABLE account_bills DROP COLUMN start_input, DROP COLUMN actor,
        DROP COLUMN delivered_at;
    DROP INDEX reported_events_undelivered;
    ALTER TABLE reported_events DROP COLUMN signal_name, DROP COLUMN signal_payload,
        DROP COLUMN actor, DROP COLUMN details, DROP COLUMN delivered_at;
    """)
