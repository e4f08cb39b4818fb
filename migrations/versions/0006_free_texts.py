"""Free text people type (reasons, resolutions, call notes) kept in Postgres, not in Temporal.

Workflows receive a `text_id` that refers to a row here; the audit trail's details carry the
same id, and its readers (timeline, console) join the text back. The table is separate from the
append-only audit trail so that a text can be erased on request (PIPL art. 47) while the audit
row that refers to it stays.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from overdue.migrate import execute_script

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
    CREATE TABLE free_texts (
        id          text PRIMARY KEY CHECK (id ~ '^txt-[0-9a-f]{32}$'),
        -- NULL for a text about many accounts (an ops batch pause or resume).
        account_id  text,
        kind        text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.]*$'),
        text        text NOT NULL CHECK (length(text) <= 2000),
        created_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX free_texts_account ON free_texts (account_id, created_at);
    """)


def downgrade() -> None:
    execute_script("DROP TABLE free_texts;")
