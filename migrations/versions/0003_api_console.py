"""API keys, console users and sessions, bills reported through the API.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from overdue.migrate import execute_script

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
    -- Backend systems' keys: only a SHA-256 of the key is stored; names are unique among
    -- active keys, so a key can be rotated (add a new name, revoke the old one).
    CREATE TABLE api_keys (
        id          bigserial PRIMARY KEY,
        name        text NOT NULL,
        key_hash    bytea NOT NULL UNIQUE,
        scopes      text[] NOT NULL CHECK (cardinality(scopes) > 0),
        created_at  timestamptz NOT NULL DEFAULT now(),
        revoked_at  timestamptz
    );
    CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;

    -- Agents and supervisors of the console; passwords as argon2id hashes.
    CREATE TABLE console_users (
        id             bigserial PRIMARY KEY,
        username       text NOT NULL UNIQUE,
        password_hash  text NOT NULL,
        role           text NOT NULL CHECK (role IN ('agent', 'supervisor')),
        queue          text NOT NULL,
        created_at     timestamptz NOT NULL DEFAULT now(),
        updated_at     timestamptz NOT NULL DEFAULT now(),
        disabled_at    timestamptz
    );

    -- Server-side sessions: the cookie holds a random token, the table its SHA-256.
    CREATE TABLE console_sessions (
        token_hash  bytea PRIMARY KEY,
        user_id     bigint NOT NULL REFERENCES console_users (id) ON DELETE CASCADE,
        csrf_token  text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        expires_at  timestamptz NOT NULL
    );
    CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

    -- Every bill reported with PUT .../overdue, so a replayed report is recognised and
    -- adds nothing: the first starts the process, later new ones are signalled to it.
    CREATE TABLE account_bills (
        account_id    text NOT NULL,
        bill_id       text NOT NULL,
        amount_minor  bigint NOT NULL CHECK (amount_minor > 0),
        currency      char(3) NOT NULL,
        due_date      date NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, bill_id)
    );
    """)


def downgrade() -> None:
    execute_script("DROP TABLE account_bills, console_sessions, console_users, api_keys;")
