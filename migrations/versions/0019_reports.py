"""Supervisor reports: summary tables and the indexes their refresh reads by time.

The figures (docs/reports.md) are derived from what Postgres already records: the contact ledger,
dial attempts, call tasks, the audit trail (call outcomes, promises, hardship decisions,
escalations, payments), reported events (disputes) and bills. Nothing new is written by the
workflows. `overdue/store/report_refresh.py` recomputes whole days into `report_daily` (one row
per day, dimension, value, metric, detail and currency) and keeps `report_accounts` (one row per
account: its dimensions, first due date and the day it was cured); a report sums the days of its
range, so its cost follows the number of days and groups, not the number of accounts.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

from overdue.migrate import execute_script

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
    -- The days-past-due bucket of `dpd` for lower bounds such as {1,31,61,91}: 'current' below
    -- the first, '1-30', ..., '91+' from the last. One expression, not STRICT: the planner
    -- inlines it, so a scan of a million accounts pays no function call per row.
    CREATE FUNCTION report_bucket(dpd integer, bounds integer[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE
            WHEN width_bucket(dpd, bounds) = 0 THEN 'current'
            WHEN width_bucket(dpd, bounds) = cardinality(bounds)
                THEN bounds[cardinality(bounds)] || '+'
            ELSE bounds[width_bucket(dpd, bounds)] || '-'
                 || (bounds[width_bucket(dpd, bounds) + 1] - 1)
        END
    $$;

    -- One row per account, no personal data: what a figure is grouped by, and when it was cured.
    CREATE TABLE report_accounts (
        account_id     text PRIMARY KEY,
        product        text NOT NULL,
        policy_id      text NOT NULL,
        currency       char(3) NOT NULL,
        due_date       date NOT NULL,            -- the first bill's due date
        queue          text NOT NULL,            -- of the latest call task ('' without one)
        agent          text NOT NULL,            -- who claimed it ('' unclaimed)
        promise_grace  integer NOT NULL,         -- the policy's days after a promised date
        plan_grace     integer NOT NULL,         -- ... and after an instalment's date
        cured_on       date,                     -- payments reached the bills on this day
        refreshed_at   timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX report_accounts_due ON report_accounts (due_date) INCLUDE (cured_on);

    -- Counts and amounts per day and group. `dimension` is one of all, queue, agent, product,
    -- policy, bucket; `detail` the channel/stage, outcome or deadline state ('' for none).
    CREATE TABLE report_daily (
        day           date NOT NULL,
        dimension     text NOT NULL,
        dim_value     text NOT NULL,
        metric        text NOT NULL,
        detail        text NOT NULL DEFAULT '',
        currency      text NOT NULL DEFAULT '',
        n             bigint NOT NULL,
        amount_minor  bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (dimension, day, dim_value, metric, detail, currency)
    );

    -- Which days were recomputed, and when: a day refreshed after it ended is final.
    CREATE TABLE report_refreshed_days (
        day           date PRIMARY KEY,
        time_zone     text NOT NULL,
        refreshed_at  timestamptz NOT NULL
    );

    -- The refresh reads each source by time.
    CREATE INDEX audit_events_kind_time ON audit_events (kind, occurred_at);
    CREATE INDEX reported_events_kind_time ON reported_events (kind, reported_at);
    CREATE INDEX account_bills_created ON account_bills (created_at);
    CREATE INDEX call_tasks_account_created ON call_tasks (account_id, created_at DESC);
    """)


def downgrade() -> None:
    execute_script("""
    DROP INDEX call_tasks_account_created;
    DROP INDEX account_bills_created;
    DROP INDEX reported_events_kind_time;
    DROP INDEX audit_events_kind_time;
    DROP TABLE report_refreshed_days, report_daily, report_accounts;
    DROP FUNCTION report_bucket(integer, integer[]);
    """)
