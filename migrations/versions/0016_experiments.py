"""Champion / challenger experiments: the experiments, each account's arm, and the arms a
guardrail stopped (docs/strategy.md#champion--challenger).

`experiments` keeps the validated experiment file and a snapshot of each arm's policy, so an
account assigned next month still starts on the exact version the experiment named. At most
one experiment runs at a time (a partial unique index). `experiment_assignments` is written
in the transaction that stores the account's first bill, under the account's lock: its primary
key keeps an account's arm for every later start. No personal data: the account id, its
product, risk segment and jurisdiction (a country code), and the vulnerable flag.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from overdue.migrate import execute_script

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
    CREATE TABLE experiments (
        experiment_id          text PRIMARY KEY,
        definition             jsonb NOT NULL,
        policies               jsonb NOT NULL,  -- arm name -> the policy snapshot it starts
        status                 text NOT NULL CHECK (status IN ('running', 'stopped')),
        created_by             text NOT NULL CHECK (created_by <> ''),
        created_at             timestamptz NOT NULL DEFAULT now(),
        stopped_by             text,
        stopped_at             timestamptz,
        guardrails_checked_at  timestamptz,
        CHECK ((status = 'stopped') = (stopped_at IS NOT NULL))
    );
    CREATE UNIQUE INDEX experiments_one_running ON experiments ((true))
        WHERE status = 'running';

    CREATE TABLE experiment_assignments (
        experiment_id   text NOT NULL REFERENCES experiments,
        account_id      text NOT NULL,
        arm             text NOT NULL,   -- the arm whose policy the account started on
        hashed_arm      text NOT NULL,   -- the hash's arm; differs when a guardrail stopped it
        segment         text,            -- the segment rule that gave the weights, if any
        policy_id       text NOT NULL,
        policy_version  integer NOT NULL,
        product         text NOT NULL,
        risk_segment    text,
        jurisdiction    text NOT NULL,
        vulnerable      boolean NOT NULL,
        assigned_at     timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (experiment_id, account_id)
    );
    CREATE INDEX experiment_assignments_arm ON experiment_assignments (experiment_id, arm);

    -- A challenger a guardrail stopped: new accounts it would get start on the champion.
    CREATE TABLE experiment_arm_stops (
        experiment_id  text NOT NULL REFERENCES experiments,
        arm            text NOT NULL,
        metric         text NOT NULL,
        details        jsonb NOT NULL,
        stopped_at     timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (experiment_id, arm)
    );
    """)


def downgrade() -> None:
    execute_script("DROP TABLE experiment_arm_stops, experiment_assignments, experiments;")
