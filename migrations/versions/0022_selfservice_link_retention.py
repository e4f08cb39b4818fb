"""Self-service links expire into the retention purge (class `selfservice_links`).

- `selfservice_links_expiry`: the purge deletes links by `expires_at`, a batch at a time,
  oldest first; without the index each batch would read the whole table (one row per SMS
  that carried a link). Sessions and one-time codes go with their link (ON DELETE CASCADE,
  migrations 0018 and 0020).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04
"""

from overdue.migrate import execute_script

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
    CREATE INDEX selfservice_links_expiry ON selfservice_links (expires_at);
    """)


def downgrade() -> None:
    execute_script("""
    DROP INDEX selfservice_links_expiry;
    """)
