"""A console role for the mailroom: a clerk who prints and posts letters sees the mailroom and
nothing else (before, such a clerk needed a supervisor's login, which shows every account).

Downgrading fails while a `mailroom` user exists: disable or delete them first.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04
"""

from overdue.migrate import execute_script

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
    ALTER TABLE console_users
        DROP CONSTRAINT console_users_role_check,
        ADD CONSTRAINT console_users_role_check
            CHECK (role IN ('agent', 'supervisor', 'mailroom'));
    """)


def downgrade() -> None:
    execute_script("""
    ALTER TABLE console_users
        DROP CONSTRAINT console_users_role_check,
        ADD CONSTRAINT console_users_role_check CHECK (role IN ('agent', 'supervisor'));
    """)
