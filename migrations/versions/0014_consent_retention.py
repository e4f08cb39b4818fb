"""Consent history under retention: `consent_events` (append-only since 0012) may lose an
account's rows only through the retention purge, and only all of them at once, once the whole
history is older than the horizon the purge recorded first.

The purge (overdue/store/consent_retention.py) removes an account's consent history only when
the account's whole collection record is past the collection-records period and its workflow
is not running; before deleting it records that period's cutoff in `retention_horizons` under
the class `consent_events`. The trigger lets a DELETE through only when that horizon is at
least the legal floor (730 days) old and no consent event of the same account was given or
recorded at or after it: a consent a contact may still rely on is never removed, and one
account's history never loses its latest change while keeping older ones. UPDATE stays refused.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from overdue.migrate import execute_script

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
    CREATE OR REPLACE FUNCTION consent_events_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        horizon timestamptz;
    BEGIN
        IF TG_OP = 'DELETE' THEN
            SELECT max(cutoff) INTO horizon FROM retention_horizons
             WHERE data_class = 'consent_events';
            IF horizon IS NOT NULL AND horizon <= now() - interval '730 days'
               AND NOT EXISTS (SELECT 1 FROM consent_events e
                                WHERE e.account_id = OLD.account_id
                                  AND greatest(e.at, e.recorded_at) >= horizon) THEN
                RETURN OLD;
            END IF;
        END IF;
        RAISE EXCEPTION 'consent_events is append-only: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$;
    -- The purge finds accounts whose consent history is old, in account order.
    CREATE INDEX consent_events_account ON consent_events (account_id, recorded_at);
    """)


def downgrade() -> None:
    execute_script("""
    DROP INDEX consent_events_account;
    CREATE OR REPLACE FUNCTION consent_events_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'consent_events is append-only: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$;
    """)
