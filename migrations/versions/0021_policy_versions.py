"""Policy versions by content digest (issue 19): what a start input's `policy_ref` names.

- `policy_versions`: one row per distinct policy (the SHA-256 of its canonical JSON,
  workflows/policy_shelf.py), written before the first process that names it starts. Workers
  read it onto their shelf; the API reads it to re-send a stored start. Rows never change and
  are never deleted: a history names its policy by digest for as long as it may be replayed.
  No personal data (a policy is configuration).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""

from overdue.migrate import execute_script

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
    CREATE TABLE policy_versions (
        digest text PRIMARY KEY CHECK (digest ~ '^[0-9a-f]{64}$'),
        policy_id text NOT NULL,
        version integer NOT NULL,
        body jsonb NOT NULL,
        stored_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE FUNCTION policy_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'policy_versions rows never change: histories name them by digest';
    END $$;
    CREATE TRIGGER policy_versions_immutable BEFORE UPDATE OR DELETE ON policy_versions
        FOR EACH ROW EXECUTE FUNCTION policy_versions_immutable();
    """)


def downgrade() -> None:
    execute_script("""
    DROP TABLE policy_versions;
    DROP FUNCTION policy_versions_immutable();
    """)
