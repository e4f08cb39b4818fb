"""Borrower self-service (issue 16): signed links, their sessions, the identity check value,
the borrower's submissions and their evidence files.

- `selfservice_links`: one row per link sent in an SMS, keyed by the SHA-256 of its token (the
  token itself is never stored); scoped to one account and episode, expiring, revocable; it
  counts wrong identity-check values and page opens (rate limit) in Postgres, so every API
  process sees the same counts.
- `selfservice_sessions`: a passed identity check, keyed by the SHA-256 of the cookie's value,
  with the CSRF token its forms carry.
- `selfservice_identity`: the last 4 digits of the customer's ID number, sealed with the
  account's data key (erasure makes it unreadable, and deletes the row).
- `selfservice_submissions`: what the borrower sent, one row per form render (its idempotency
  key); no personal value (typed text is in `free_texts`, referred to by id).
- `selfservice_evidence`: uploaded files, sealed with the account's data key (bytea).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from overdue.migrate import execute_script

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
    CREATE TABLE selfservice_links (
        token_hash bytea PRIMARY KEY,
        account_id text NOT NULL,
        episode_id text NOT NULL,
        attempt_key text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoked_by text,
        failed_checks integer NOT NULL DEFAULT 0,
        opens_since timestamptz NOT NULL DEFAULT now(),
        opens integer NOT NULL DEFAULT 0
    );
    CREATE INDEX selfservice_links_account ON selfservice_links (account_id, created_at);
    CREATE TABLE selfservice_sessions (
        session_hash bytea PRIMARY KEY,
        token_hash bytea NOT NULL REFERENCES selfservice_links (token_hash) ON DELETE CASCADE,
        account_id text NOT NULL,
        csrf_token text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
    );
    CREATE INDEX selfservice_sessions_link ON selfservice_sessions (token_hash);
    CREATE TABLE selfservice_identity (
        account_id text PRIMARY KEY,
        id_last4 text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE selfservice_submissions (
        id bigserial PRIMARY KEY,
        form_key text NOT NULL UNIQUE,
        account_id text NOT NULL,
        kind text NOT NULL,
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        text_id text,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX selfservice_submissions_account ON selfservice_submissions (account_id, id);
    CREATE TABLE selfservice_evidence (
        id text PRIMARY KEY,
        account_id text NOT NULL,
        form_key text NOT NULL,
        content_type text NOT NULL,
        size_bytes integer NOT NULL,
        sealed bytea,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX selfservice_evidence_form ON selfservice_evidence (form_key);
    CREATE INDEX selfservice_evidence_created ON selfservice_evidence (created_at, id);
    """)


def downgrade() -> None:
    execute_script("""
    DROP TABLE selfservice_evidence;
    DROP TABLE selfservice_submissions;
    DROP TABLE selfservice_identity;
    DROP TABLE selfservice_sessions;
    DROP TABLE selfservice_links;
    """)
