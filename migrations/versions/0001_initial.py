"""Accounts, customer contacts, contact ledger, call tasks.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from overdue.migrate import execute_script

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Personal data lives here and only here; workflows carry the account id and money.
    execute_script("""
    -- The backend's overdue accounts: what the API checks events against without asking Temporal.
    CREATE TABLE accounts (
        account_id   text PRIMARY KEY,
        product      text NOT NULL,
        currency     char(3) NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE customer_contacts (
        account_id   text PRIMARY KEY,
        full_name    text NOT NULL,
        phone_e164   text NOT NULL,
        time_zone    text NOT NULL,
        locale       text NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now()
    );

    -- One row per contact attempt. The UNIQUE key is written before the provider is called,
    -- so a retried activity finds it and never sends twice.
    CREATE TABLE contact_ledger (
        id               bigserial PRIMARY KEY,
        idempotency_key  text NOT NULL UNIQUE,
        account_id       text NOT NULL,
        workflow_run_id  text,
        channel          text NOT NULL CHECK (channel IN ('sms', 'call_task', 'notify')),
        stage_id         text NOT NULL,
        template_id      text,
        body             text,
        status           text NOT NULL,
        provider         text,
        provider_id      text,
        error_code       text,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX contact_ledger_account ON contact_ledger (account_id, created_at DESC);

    CREATE TABLE call_tasks (
        id               bigserial PRIMARY KEY,
        idempotency_key  text NOT NULL UNIQUE,
        account_id       text NOT NULL,
        stage_id         text NOT NULL,
        queue            text NOT NULL,
        priority         integer NOT NULL DEFAULT 0,
        due_at           timestamptz NOT NULL,
        status           text NOT NULL DEFAULT 'open'
                         CHECK (status IN ('open', 'claimed', 'done', 'cancelled')),
        claimed_by       text,
        outcome          text,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX call_tasks_next ON call_tasks (queue, status, priority DESC, due_at);
    CREATE INDEX call_tasks_account ON call_tasks (account_id) WHERE status IN ('open', 'claimed');
    """)


def downgrade() -> None:
    execute_script("DROP TABLE call_tasks, contact_ledger, customer_contacts, accounts;")
