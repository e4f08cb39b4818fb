"""Consent events: every grant and withdrawal of consent to be contacted on a channel.

One row per change, never edited: the account, the channel (the policy's names: sms, call,
app_notice, email, letter), granted or withdrawn, where it came from, when the customer gave
or withdrew it (`at`), when we recorded it and who did. The current consent of a channel is
its latest row by `at`. `change_id` is the caller's id of the change (a repeated request is
recognised). The pre-send check reads the latest row (overdue/store/contact_gate.py).

Compliance receipts gain the consent a contact relied on (NULL: its channel needed none).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from overdue.migrate import execute_script

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
    CREATE TABLE consent_events (
        id           bigserial PRIMARY KEY,
        account_id   text NOT NULL,
        change_id    text NOT NULL CHECK (change_id <> ''),
        channel      text NOT NULL
                     CHECK (channel IN ('sms', 'call', 'app_notice', 'email', 'letter')),
        granted      boolean NOT NULL,
        source       text NOT NULL CHECK (source IN ('contract', 'app_settings',
                         'agent_recorded', 'backend')),
        at           timestamptz NOT NULL,
        recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
        actor        text NOT NULL CHECK (actor <> ''),
        UNIQUE (account_id, change_id)
    );
    CREATE INDEX consent_events_current ON consent_events (account_id, channel, at DESC, id DESC);

    -- History: never edited, never deleted (like audit_events).
    CREATE FUNCTION consent_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'consent_events is append-only: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$;
    CREATE TRIGGER consent_events_no_change BEFORE UPDATE OR DELETE ON consent_events
        FOR EACH ROW EXECUTE FUNCTION consent_events_append_only();

    ALTER TABLE compliance_receipts
        ADD COLUMN consent_channel  text,
        ADD COLUMN consent_source   text,
        ADD COLUMN consent_given_at timestamptz;
    """)


def downgrade() -> None:
    execute_script("""
    ALTER TABLE compliance_receipts
        DROP COLUMN consent_channel,
        DROP COLUMN consent_source,
        DROP COLUMN consent_given_at;
    DROP TABLE consent_events;
    DROP FUNCTION consent_events_append_only();
    """)
