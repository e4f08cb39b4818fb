"""Console login back-off shared by every API process (`login_failures`).

A run of wrong passwords for one username locks it for 2 s, 4, 8, ... (api/console/
login_throttle.py). Kept in each API process's memory, N processes allowed N times as many
guesses and a restart forgot the lock; here every process reads and writes the same row.

- `user_key`: a hash of the username as typed (casefolded), never the text itself, and for
  names with no account too, so a lock tells nobody whether a username exists.
- `noted`: the lock's first refusal was audited (`console.login_throttled`), by whichever
  process refused first.
- `login_failures_first_failed`: stale runs (an hour old, unlocked) are deleted as new ones
  are written.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04
"""

from overdue.migrate import execute_script

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
    CREATE TABLE login_failures (
        user_key        text PRIMARY KEY CHECK (user_key ~ '^[0-9a-f]{32}$'),
        failures        integer NOT NULL CHECK (failures > 0),
        first_failed_at timestamptz NOT NULL DEFAULT now(),
        locked_until    timestamptz,
        noted           boolean NOT NULL DEFAULT false
    );
    CREATE INDEX login_failures_first_failed ON login_failures (first_failed_at);
    """)


def downgrade() -> None:
    execute_script("""
    DROP TABLE login_failures;
    """)
