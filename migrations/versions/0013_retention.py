"""The audit chain and retention: a SHA-256 hash chain over audit_events, and the controlled path
by which the retention purge removes expired collection records and audit events.

Every audit row gets `chain_seq` (its place in the chain), `prev_hash` and `row_hash` =
SHA-256(prev_hash || canonical content), computed by a BEFORE INSERT trigger while it holds the
one-row `audit_chain_head` locked, so concurrent inserts serialize and the chain follows commit
order. Editing a row, removing one from the middle or from the end breaks the chain
(`overdue audit verify`, overdue/store/audit_chain.py).

Expired audit events leave only from the start of the chain, and only after the purge records an
anchor (`audit_chain_anchors`: the last removed row's seq and hash) from which verification
starts; the append-only trigger lets a DELETE through for rows at or before the latest anchor
and for nothing else. Compliance receipts, append-only too, may be deleted only when older than
the collection-record horizon the purge recorded first (`retention_horizons`).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from overdue.migrate import execute_script

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(r"""
    -- The canonical content of an audit row, hashed after its predecessor's hash. jsonb prints
    -- its keys in one fixed order, and the instant is whole microseconds since the epoch, so the
    -- text is the same whenever and wherever it is recomputed.
    CREATE FUNCTION audit_event_hash(prev bytea, id bigint, account_id text, actor text,
                                     kind text, details jsonb, occurred_at timestamptz)
    RETURNS bytea LANGUAGE sql STABLE AS $$
        SELECT sha256(prev || convert_to(jsonb_build_array(
            id, account_id, actor, kind, details,
            (extract(epoch FROM occurred_at) * 1000000)::bigint)::text, 'UTF8'))
    $$;

    -- The chain's end: its last seq and hash. One row; its row lock serializes the inserts.
    CREATE TABLE audit_chain_head (
        one   boolean PRIMARY KEY DEFAULT true CHECK (one),
        seq   bigint NOT NULL,
        hash  bytea NOT NULL CHECK (length(hash) = 32)
    );

    -- Where verification starts once the chain's beginning is purged: the last removed row.
    CREATE TABLE audit_chain_anchors (
        id           bigserial PRIMARY KEY,
        through_seq  bigint NOT NULL,
        hash         bytea NOT NULL CHECK (length(hash) = 32),
        purged       integer NOT NULL CHECK (purged > 0),
        recorded_at  timestamptz NOT NULL DEFAULT now()
    );

    ALTER TABLE audit_events
        ADD COLUMN chain_seq  bigint,
        ADD COLUMN prev_hash  bytea,
        ADD COLUMN row_hash   bytea;

    -- Chain the rows already there, in id order (they committed before this migration).
    ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change;
    DO $$
    DECLARE
        r record;
        prev bytea := '\x0000000000000000000000000000000000000000000000000000000000000000';
        n bigint := 0;
    BEGIN
        FOR r IN SELECT * FROM audit_events ORDER BY id LOOP
            n := n + 1;
            UPDATE audit_events SET chain_seq = n, prev_hash = prev,
                row_hash = audit_event_hash(prev, r.id, r.account_id, r.actor, r.kind,
                                            r.details, r.occurred_at)
             WHERE id = r.id RETURNING row_hash INTO prev;
        END LOOP;
        INSERT INTO audit_chain_head (seq, hash) VALUES (n, prev);
    END
    $$;
    ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change;
    ALTER TABLE audit_events
        ALTER COLUMN chain_seq SET NOT NULL,
        ALTER COLUMN prev_hash SET NOT NULL,
        ALTER COLUMN row_hash SET NOT NULL,
        ADD CONSTRAINT audit_events_chain_seq UNIQUE (chain_seq);

    CREATE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        head audit_chain_head%ROWTYPE;
    BEGIN
        -- Held until the transaction ends: the next insert chains after this one's commit.
        SELECT * INTO STRICT head FROM audit_chain_head FOR UPDATE;
        NEW.chain_seq := head.seq + 1;
        NEW.prev_hash := head.hash;
        NEW.row_hash := audit_event_hash(head.hash, NEW.id, NEW.account_id, NEW.actor,
                                         NEW.kind, NEW.details, NEW.occurred_at);
        UPDATE audit_chain_head SET seq = NEW.chain_seq, hash = NEW.row_hash;
        RETURN NEW;
    END
    $$;
    CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_chain();

    -- Append-only, except the chain's beginning up to the latest anchor (the retention purge).
    CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND OLD.chain_seq <=
               (SELECT coalesce(max(through_seq), 0) FROM audit_chain_anchors) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$;

    CREATE FUNCTION audit_chain_anchors_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_chain_anchors is append-only: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$;
    CREATE TRIGGER audit_chain_anchors_no_change BEFORE UPDATE OR DELETE ON audit_chain_anchors
        FOR EACH ROW EXECUTE FUNCTION audit_chain_anchors_append_only();

    -- Remove up to max_rows audit events from the chain's beginning, all older than cutoff and
    -- none after the first row that is not: anchor first, then delete. Returns the count.
    CREATE FUNCTION audit_events_purge(cutoff timestamptz, max_rows integer)
    RETURNS integer LANGUAGE plpgsql AS $$
    DECLARE
        last_seq bigint;
        last_hash bytea;
        n integer;
    BEGIN
        -- Only the first max_rows rows are looked at: the purge stops at the first of them
        -- that has not expired, so it never reads the rest of the table.
        WITH head AS (
            SELECT chain_seq, row_hash, occurred_at FROM audit_events
             ORDER BY chain_seq LIMIT max_rows)
        SELECT chain_seq, row_hash INTO last_seq, last_hash FROM head
         WHERE chain_seq < coalesce((SELECT min(chain_seq) FROM head WHERE occurred_at >= cutoff),
                                    9223372036854775807)
         ORDER BY chain_seq DESC LIMIT 1;
        IF last_seq IS NULL THEN
            RETURN 0;
        END IF;
        SELECT count(*) INTO n FROM audit_events WHERE chain_seq <= last_seq;
        INSERT INTO audit_chain_anchors (through_seq, hash, purged) VALUES (last_seq, last_hash, n);
        DELETE FROM audit_events WHERE chain_seq <= last_seq;
        RETURN n;
    END
    $$;

    -- The collection-record horizon each purge declared before deleting: receipts older than
    -- the latest one may go, no others.
    CREATE TABLE retention_horizons (
        id           bigserial PRIMARY KEY,
        data_class   text NOT NULL,
        cutoff       timestamptz NOT NULL,
        recorded_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX retention_horizons_class ON retention_horizons (data_class, cutoff DESC);

    CREATE OR REPLACE FUNCTION compliance_receipts_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND OLD.at < (SELECT max(cutoff) FROM retention_horizons
                                            WHERE data_class = 'collection_records') THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'compliance_receipts is append-only: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$;

    -- The purge finds expired rows by age.
    CREATE INDEX free_texts_created ON free_texts (created_at);
    CREATE INDEX dial_attempts_dialled ON dial_attempts (dialled_at, id);
    CREATE INDEX call_tasks_updated ON call_tasks (updated_at, id);
    CREATE INDEX contact_ledger_updated ON contact_ledger (updated_at, id);
    CREATE INDEX contact_ledger_body_created ON contact_ledger (created_at, id)
        WHERE body IS NOT NULL;
    CREATE INDEX inbound_messages_kept ON inbound_messages (received_at, id)
        WHERE body <> '' OR from_e164 <> '';
    """)


def downgrade() -> None:
    execute_script("""
    DROP INDEX call_tasks_updated, dial_attempts_dialled, free_texts_created,
        contact_ledger_updated, contact_ledger_body_created, inbound_messages_kept;
    CREATE OR REPLACE FUNCTION compliance_receipts_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'compliance_receipts is append-only: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$;
    DROP TABLE retention_horizons;
    DROP FUNCTION audit_events_purge(timestamptz, integer);
    CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$;
    DROP TRIGGER audit_events_chain ON audit_events;
    DROP FUNCTION audit_events_chain();
    ALTER TABLE audit_events DROP COLUMN row_hash, DROP COLUMN prev_hash, DROP COLUMN chain_seq;
    DROP TABLE audit_chain_anchors;
    DROP FUNCTION audit_chain_anchors_append_only();
    DROP TABLE audit_chain_head;
    DROP FUNCTION audit_event_hash(bytea, bigint, text, text, text, jsonb, timestamptz);
    """)
