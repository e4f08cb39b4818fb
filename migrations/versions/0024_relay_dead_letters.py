"""The relay keeps a row Temporal keeps refusing apart (api/relay.py, docs/operations.md).

Before, a reported event or a bill whose delivery failed for a reason other than Temporal
being down was retried every round for ever, and a hundred such rows (the relay takes the
oldest hundred) kept every newer one from being delivered. Now each refusal waits longer
before the next try (`relay_after`: 5 s, doubling, at most an hour) and after
RELAY_MAX_ATTEMPTS the row is given up (`relay_given_up_at`): `overdue relay list` shows it,
`overdue relay retry` sends it again.

- `relay_error`: the kind of the last refusal (an exception class or an RPC status name),
  never a message, which could quote the payload.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04
"""

from overdue.migrate import execute_script

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

COLUMNS = """
        ADD COLUMN relay_attempts    integer NOT NULL DEFAULT 0,
        ADD COLUMN relay_after       timestamptz,
        ADD COLUMN relay_error       text,
        ADD COLUMN relay_given_up_at timestamptz
"""


def upgrade() -> None:
    execute_script(f"""
    ALTER TABLE reported_events {COLUMNS};
    ALTER TABLE account_bills {COLUMNS};
    """)


def downgrade() -> None:
    drop = """
        DROP COLUMN relay_attempts,
        DROP COLUMN relay_after,
        DROP COLUMN relay_error,
        DROP COLUMN relay_given_up_at
    """
    execute_script(f"""
    ALTER TABLE reported_events {drop};
    ALTER TABLE account_bills {drop};
    """)
