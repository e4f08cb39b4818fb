"""Inbound SMS may be a free-text request to stop texting (`revocation_request`).

Such a reply (api/sms_keywords.classify_message) stops SMS for the number's accounts at once and
asks an agent to confirm it; it is stored with its own kind so reports can tell it from other
replies.

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
    """)


def downgrade() -> None:
    execute_script("""
    UPDATE inbound_messages SET kind = 'reply' WHERE kind = 'revocation_request';
    ALTER TABLE inbound_messages DROP CONSTRAINT inbound_messages_kind_check;
    ALTER TABLE inbound_messages ADD CONSTRAINT inbound_messages_kind_check
        CHECK (kind IN ('opt_out', 'opt_in', 'help', 'reply'));
    """)
