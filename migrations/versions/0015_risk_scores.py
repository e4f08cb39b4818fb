"""Risk scoring (issue 18): trained models and the scores given to accounts.

`risk_models` keeps every model `overdue score train` fitted, as JSON (coefficients, feature
means and scales, segment cut points, training metrics; never a pickle), so the API, the
workers and the CLI all score with the one version marked active. `risk_scores` keeps each
score given with its model version and its reasons (PIPL art. 24: an automated decision is
explainable): feature names and values only, never a name, a number or typed text. A report's
score is kept once per bill, so a repeated report adds nothing.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from overdue.migrate import execute_script

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
    CREATE TABLE risk_models (
        version      text PRIMARY KEY CHECK (version ~ '^[A-Za-z0-9_.:-]{1,64}$'),
        trained_at   timestamptz NOT NULL,
        model        jsonb NOT NULL CHECK (jsonb_typeof(model) = 'object'),
        active       boolean NOT NULL DEFAULT false,
        created_at   timestamptz NOT NULL DEFAULT now()
    );
    -- At most one model scores at a time.
    CREATE UNIQUE INDEX risk_models_one_active ON risk_models (active) WHERE active;

    CREATE TABLE risk_scores (
        id             bigserial PRIMARY KEY,
        account_id     text NOT NULL,
        bill_id        text,
        trigger        text NOT NULL CHECK (trigger IN ('report', 'command')),
        model_version  text NOT NULL REFERENCES risk_models (version),
        propensity     double precision NOT NULL CHECK (propensity >= 0 AND propensity <= 1),
        risk_segment   text NOT NULL,
        reasons        jsonb NOT NULL CHECK (jsonb_typeof(reasons) = 'array'),
        features       jsonb NOT NULL CHECK (jsonb_typeof(features) = 'object'),
        scored_at      timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX risk_scores_account ON risk_scores (account_id, scored_at DESC, id DESC);
    CREATE UNIQUE INDEX risk_scores_report_once ON risk_scores (account_id, bill_id)
        WHERE trigger = 'report';
    -- The score's history features count an account's dial attempts.
    CREATE INDEX risk_dial_attempts_account ON dial_attempts (account_id, dialled_at);
    """)


def downgrade() -> None:
    execute_script("DROP INDEX risk_dial_attempts_account; DROP TABLE risk_scores, risk_models;")
