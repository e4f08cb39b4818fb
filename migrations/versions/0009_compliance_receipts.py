"""Compliance receipts: one per contact, written in the transaction that makes the contact.

What a regulator asks of a contact, as it stood at that instant: the customer's local time,
the window and calendar rule applied, the cap counts (counted from the ledger in the same
transaction) and the caps in force, SMS consent from Postgres, the dispute / cease / opt-out /
vulnerability state the workflow decided on, the policy id and version. No names, numbers or
free text. `overdue compliance audit` re-checks every receipt (docs/compliance.md).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from overdue.migrate import execute_script

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
    CREATE TABLE compliance_receipts (
        id               bigserial PRIMARY KEY,
        -- The contact's business idempotency key (the ledger's, the call task's, a dial's).
        contact_key      text NOT NULL UNIQUE,
        account_id       text NOT NULL,
        channel          text NOT NULL CHECK (channel IN ('sms', 'call_task', 'notify', 'dial')),
        stage_id         text NOT NULL,
        -- Why: a policy stage, an instalment reminder, the call task standing in for an SMS the
        -- number cannot receive, a task an event asked for, an agent's own dial.
        basis            text NOT NULL
                         CHECK (basis IN ('stage', 'instalment', 'fallback', 'requested', 'agent')),
        notify_kind      text,
        -- The instant, the transaction's: the contact's own row carries the same.
        at               timestamptz NOT NULL,
        time_zone        text NOT NULL,
        local_time       timestamp NOT NULL,  -- wall clock in time_zone at `at`
        jurisdiction     text,
        window_start     time,
        window_end       time,
        calendar_rule    text,
        -- Made before and including this one, counted from the ledger in the transaction.
        sms_today        integer NOT NULL CHECK (sms_today >= 0),
        sms_7_days       integer NOT NULL CHECK (sms_7_days >= 0),
        calls_today      integer NOT NULL CHECK (calls_today >= 0),
        calls_7_days     integer NOT NULL CHECK (calls_7_days >= 0),
        sms_per_day      integer,
        sms_per_week     integer,
        calls_per_day    integer,
        calls_per_7_days integer,
        -- The number's SMS consent in Postgres: opted_in, opted_out or never_changed.
        sms_consent      text NOT NULL
                         CHECK (sms_consent IN ('opted_in', 'opted_out', 'never_changed')),
        sms_consent_version bigint,
        -- As the workflow saw them when it decided (NULL: not known, an input from before).
        sms_opted_out    boolean,
        contact_ceased   boolean,
        open_disputes    integer,
        vulnerable       boolean,
        policy_id        text,
        policy_version   integer,
        recorded_at      timestamptz NOT NULL DEFAULT clock_timestamp()
    );
    -- The audit reads receipts in time order, a page at a time.
    CREATE INDEX compliance_receipts_at ON compliance_receipts (at, id);
    CREATE INDEX compliance_receipts_account ON compliance_receipts (account_id, at);

    -- Receipts are evidence: never edited, never deleted (like audit_events).
    CREATE FUNCTION compliance_receipts_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'compliance_receipts is append-only: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$;
    CREATE TRIGGER compliance_receipts_no_change BEFORE UPDATE OR DELETE ON compliance_receipts
        FOR EACH ROW EXECUTE FUNCTION compliance_receipts_append_only();

    -- The audit looks up each ledger row's receipt and the ledger's rows since an instant.
    CREATE INDEX contact_ledger_created ON contact_ledger (created_at, id);
    """)


def downgrade() -> None:
    execute_script("""
    DROP INDEX contact_ledger_created;
    DROP TABLE compliance_receipts;
    DROP FUNCTION compliance_receipts_append_only();
    """)
