"""Side effects: ledger status history and events, SMS metadata, opt-outs, inbound SMS,
call-task claims, and the append-only audit trail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from overdue.migrate import execute_script

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(r"""
    -- The order a contact's status may move in. Provider callbacks arrive late, twice or out of
    -- order; an update only ever raises the rank. NULL marks an unknown status.
    CREATE FUNCTION contact_status_rank(status text) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT CASE status
            WHEN 'pending'      THEN 0  -- row written, provider outcome not known yet
            WHEN 'queued'       THEN 1
            WHEN 'accepted'     THEN 1  -- queued, through a Messaging Service
            WHEN 'scheduled'    THEN 1
            WHEN 'task_created' THEN 1  -- call tasks
            WHEN 'sending'      THEN 2
            WHEN 'sent'         THEN 3
            WHEN 'delivered'    THEN 4
            WHEN 'undelivered'  THEN 4
            WHEN 'failed'       THEN 4
            WHEN 'canceled'     THEN 4
            WHEN 'rejected'     THEN 4  -- the provider refused the request (error_code says why)
            WHEN 'blocked'      THEN 4  -- not sent: the recipient opted out in our records
            WHEN 'read'         THEN 5
        END
    $$;

    ALTER TABLE contact_ledger
        -- Where the message went, fixed at the first attempt so retries reconcile against the
        -- same number. Personal data: never logged.
        ADD COLUMN recipient      text,
        ADD COLUMN segments       integer CHECK (segments >= 0),
        ADD COLUMN encoding       text CHECK (encoding IN ('GSM-7', 'UCS-2')),
        ADD COLUMN error_message  text,
        ADD COLUMN response_code  integer,
        ADD COLUMN attempts       integer NOT NULL DEFAULT 0,
        -- Set when an attempt may have reached the provider; the next attempt reconciles first.
        ADD COLUMN attempted_at   timestamptz,
        ADD COLUMN status_source  text NOT NULL DEFAULT 'activity',
        ADD CONSTRAINT contact_ledger_known_status CHECK (contact_status_rank(status) IS NOT NULL);

    -- Rows written before this migration went to the number on file now.
    UPDATE contact_ledger l SET recipient = c.phone_e164
      FROM customer_contacts c WHERE l.account_id = c.account_id AND l.channel = 'sms';

    -- A provider message belongs to at most one ledger row: reconciliation claims it here.
    CREATE UNIQUE INDEX contact_ledger_provider_message
        ON contact_ledger (provider, provider_id) WHERE provider_id IS NOT NULL;

    -- What happened to each contact: every status change (written by the trigger below) and
    -- every provider failure (written by the activities). Never edited.
    CREATE TABLE contact_events (
        id           bigserial PRIMARY KEY,
        ledger_id    bigint NOT NULL REFERENCES contact_ledger (id),
        kind         text NOT NULL CHECK (kind IN
                         ('status', 'provider_error', 'outcome_unknown', 'reconcile_failed')),
        status       text NOT NULL,
        source       text NOT NULL,
        error_code   text,
        detail       text,
        occurred_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX contact_events_ledger ON contact_events (ledger_id, id);

    INSERT INTO contact_events (ledger_id, kind, status, source, error_code, occurred_at)
    SELECT id, 'status', status, 'migration', error_code, updated_at FROM contact_ledger;

    CREATE FUNCTION contact_ledger_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF contact_status_rank(NEW.status) < contact_status_rank(OLD.status) THEN
            RAISE EXCEPTION 'contact_ledger row %: status may not move back from % to %',
                OLD.id, OLD.status, NEW.status USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END
    $$;
    CREATE TRIGGER contact_ledger_forward_only BEFORE UPDATE OF status ON contact_ledger
        FOR EACH ROW EXECUTE FUNCTION contact_ledger_forward_only();

    CREATE FUNCTION contact_ledger_status_event() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
            INSERT INTO contact_events (ledger_id, kind, status, source, error_code)
            VALUES (NEW.id, 'status', NEW.status, NEW.status_source, NEW.error_code);
        END IF;
        RETURN NULL;
    END
    $$;
    CREATE TRIGGER contact_ledger_status_event AFTER INSERT OR UPDATE OF status
        ON contact_ledger FOR EACH ROW EXECUTE FUNCTION contact_ledger_status_event();

    -- Inbound webhooks find a phone's accounts.
    CREATE INDEX customer_contacts_phone ON customer_contacts (phone_e164);

    -- SMS consent per phone number (STOP from a phone covers every account it belongs to).
    -- The current state only; each change is in audit_events.
    CREATE TABLE sms_opt_outs (
        phone_e164  text PRIMARY KEY,
        opted_out   boolean NOT NULL,
        source      text NOT NULL,
        changed_at  timestamptz NOT NULL DEFAULT now()
    );

    -- Inbound SMS, once per provider message (webhook retries are deduplicated here).
    CREATE TABLE inbound_messages (
        id           bigserial PRIMARY KEY,
        message_sid  text NOT NULL UNIQUE,
        from_e164    text NOT NULL,
        body         text NOT NULL,
        kind         text NOT NULL CHECK (kind IN ('opt_out', 'opt_in', 'help', 'reply')),
        received_at  timestamptz NOT NULL DEFAULT now()
    );

    UPDATE call_tasks SET claimed_by = coalesce(claimed_by, 'unknown') WHERE status = 'claimed';
    ALTER TABLE call_tasks
        ADD COLUMN claimed_at          timestamptz,
        ADD COLUMN outcome_at          timestamptz,
        -- A free-text SMS reply the task asks an agent to answer.
        ADD COLUMN inbound_message_id  bigint REFERENCES inbound_messages (id);
    UPDATE call_tasks SET claimed_at = updated_at WHERE status = 'claimed';
    ALTER TABLE call_tasks ADD CONSTRAINT call_tasks_claim_recorded
        CHECK (status <> 'claimed' OR (claimed_by IS NOT NULL AND claimed_at IS NOT NULL));
    -- "Next task" for a queue: open tasks, highest priority first, then the earliest due.
    CREATE INDEX call_tasks_claimable ON call_tasks (queue, priority DESC, due_at, id)
        WHERE status = 'open';

    -- The collection record: every event and contact, who did it and when. Append-only.
    CREATE TABLE audit_events (
        id           bigserial PRIMARY KEY,
        account_id   text,
        actor        text NOT NULL CHECK (actor <> ''),
        kind         text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.]*$'),
        details      jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(details) = 'object'),
        occurred_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX audit_events_account ON audit_events (account_id, occurred_at);

    CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$;
    CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
    """)


def downgrade() -> None:
    execute_script("""
    DROP TABLE audit_events;
    DROP FUNCTION audit_events_append_only();
    DROP INDEX call_tasks_claimable;
    ALTER TABLE call_tasks DROP CONSTRAINT call_tasks_claim_recorded,
        DROP COLUMN inbound_message_id, DROP COLUMN outcome_at, DROP COLUMN claimed_at;
    DROP TABLE inbound_messages, sms_opt_outs;
    DROP INDEX customer_contacts_phone;
    DROP TRIGGER contact_ledger_status_event ON contact_ledger;
    DROP TRIGGER contact_ledger_forward_only ON contact_ledger;
    DROP FUNCTION contact_ledger_status_event(), contact_ledger_forward_only();
    DROP TABLE contact_events;
    DROP INDEX contact_ledger_provider_message;
    ALTER TABLE contact_ledger DROP CONSTRAINT contact_ledger_known_status,
        DROP COLUMN status_source, DROP COLUMN attempted_at, DROP COLUMN attempts,
        DROP COLUMN response_code, DROP COLUMN error_message, DROP COLUMN encoding,
        DROP COLUMN segments, DROP COLUMN recipient;
    DROP FUNCTION contact_status_rank(text);
    """)
