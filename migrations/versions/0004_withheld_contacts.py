"""Contacts withheld by the activity: a payment arrived after the workflow decided them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from overdue.migrate import execute_script

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_RANKS = """
    CREATE OR REPLACE FUNCTION contact_status_rank(status text) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT CASE status
            WHEN 'pending'      THEN 0  -- row written, provider outcome not known yet
            WHEN 'queued'       THEN 1
            WHEN 'accepted'     THEN 1  -- queued, through a Messaging Service
            WHEN 'scheduled'    THEN 1
            WHEN 'task_created' THEN 1  -- call tasks
            WHEN 'sending'      THEN 2
            WHEN 'sent'         THEN 3
            WHEN 'delivered'    THEN 4
            WHEN 'undelivered'  THEN 4
            WHEN 'failed'       THEN 4
            WHEN 'canceled'     THEN 4
            WHEN 'rejected'     THEN 4  -- the provider refused the request (error_code says why)
            WHEN 'blocked'      THEN 4  -- not sent: the recipient opted out in our records
            {withheld}
            WHEN 'read'         THEN 5
        END
    $$;
"""


def upgrade() -> None:
    execute_script(
        _RANKS.format(
            withheld="WHEN 'withheld'     THEN 4  -- not sent: a payment came after the decision"
        )
        # The gate's look-up: payments reported for one account since a run started.
        + """
        CREATE INDEX audit_events_account_kind ON audit_events (account_id, kind, occurred_at);
        """
    )


def downgrade() -> None:
    # Withheld rows were never sent: 'blocked' (same rank) is the nearest status the old
    # schema knows.
    # The audit trail is append-only, so its index goes; its rows stay.
    execute_script(
        """
        UPDATE contact_ledger SET status = 'blocked' WHERE status = 'withheld';
        DROP INDEX audit_events_account_kind;
        """
        + _RANKS.format(withheld="")
    )
