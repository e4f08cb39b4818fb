"""Inbound SMS may be a free-text request to stop texting (`revocation_request`).

Such a reply (api/sms_keywords.classify_message) stops SMS for the number's accounts at once and
asks an agent to confirm it; it is stored with its own kind so reports can tell it from other
replies.

`sms_revocation_requests`: one row per such message, undecided until an agent confirms or
rejects it for the number. The SMS activity refuses to send to a number with an undecided
request newer than its last consent change (a second fence behind the workflow, for an SMS
already in flight or retrying when the request came).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from overdue.migrate import execute_script

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
    ALTER TABLE inbound_messages DROP CONSTRAINT inbound_messages_kind_check;
    ALTER TABLE inbound_messages ADD CONSTRAINT inbound_messages_kind_check
        CHECK (kind IN ('opt_out', 'opt_in', 'help', 'reply', 'revocation_request'));

    CREATE TABLE sms_revocation_requests (
        message_sid  text PRIMARY KEY,
        phone_e164   text NOT NULL,
        received_at  timestamptz NOT NULL DEFAULT now(),
        decided_at   timestamptz,
        decision     text CHECK (decision IN ('confirmed', 'rejected')),
        decided_by   text
    );
    CREATE INDEX sms_revocation_requests_undecided ON sms_revocation_requests (phone_e164)
        WHERE decided_at IS NULL;
    """)


def downgrade() -> None:
    execute_script("""
    DROP TABLE sms_revocation_requests;
    UPDATE inbound_messages SET kind = 'reply' WHERE kind = 'revocation_request';
    ALTER TABLE inbound_messages DROP CONSTRAINT inbound_messages_kind_check;
    ALTER TABLE inbound_messages ADD CONSTRAINT inbound_messages_kind_check
        CHECK (kind IN ('opt_out', 'opt_in', 'help', 'reply'));
    """)
