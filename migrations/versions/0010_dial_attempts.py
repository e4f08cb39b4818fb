"""Dial attempts: each call an agent places, with its outcome, counted against the call caps.

The workflow's caps count the call tasks it creates; an agent may dial several times for one
task. Each attempt is recorded here, and the caps (unanswered attempts per local day, attempts
per rolling 7 days, the quiet period after a conversation) are checked against these rows when
a task is claimed and when a dial is recorded (`workflows/dial_caps.py`).

The number dialled is held as `number_ref`, a SHA-256 digest of its E.164 form (see
`overdue.store.dial_attempts.number_ref`), not in clear: the clear number stays in
`customer_contacts`, and the attempts of one number (across accounts, across a change of the
account's number) can still be counted. `checked` holds the facts checked at that instant, for
a compliance receipt. Rows are never changed after the fact.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from overdue.migrate import execute_script

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
    CREATE TABLE dial_attempts (
        id            bigserial PRIMARY KEY,
        task_id       bigint NOT NULL REFERENCES call_tasks (id),
        account_id    text NOT NULL,
        number_ref    bytea NOT NULL CHECK (length(number_ref) = 32),
        agent_id      text NOT NULL CHECK (agent_id <> ''),
        dialled_at    timestamptz NOT NULL,
        time_zone     text NOT NULL,
        local_at      timestamp NOT NULL,  -- dialled_at in time_zone, as the customer saw it
        outcome       text NOT NULL CHECK (outcome IN ('no_answer', 'busy', 'voicemail',
                          'reached', 'refused', 'wrong_party', 'wrong_number')),
        unanswered    boolean NOT NULL,
        conversation  boolean NOT NULL,
        checked       jsonb NOT NULL CHECK (jsonb_typeof(checked) = 'object'),
        created_at    timestamptz NOT NULL DEFAULT now(),
        CHECK (NOT (unanswered AND conversation))
    );
    CREATE INDEX dial_attempts_number ON dial_attempts (number_ref, dialled_at DESC);
    CREATE INDEX dial_attempts_conversation ON dial_attempts (number_ref, dialled_at DESC)
        WHERE conversation;
    CREATE INDEX dial_attempts_task ON dial_attempts (task_id, dialled_at);

    CREATE FUNCTION dial_attempts_unchanged() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'dial_attempts are never changed: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$;
    CREATE TRIGGER dial_attempts_no_update BEFORE UPDATE ON dial_attempts
        FOR EACH ROW EXECUTE FUNCTION dial_attempts_unchanged();
    """)


def downgrade() -> None:
    execute_script("""
    DROP TABLE dial_attempts;
    DROP FUNCTION dial_attempts_unchanged();
    """)
