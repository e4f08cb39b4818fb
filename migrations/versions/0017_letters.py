"""Letters: the PDFs letter stages render, their mailroom status, and the customer's postal
address.

One row per letter stage's contact, unique by the contact's idempotency key (its ledger row's),
so a retried or re-run activity finds the letter it made and never makes a second. The PDF
holds the customer's name and address: it is stored sealed with the account's data key
(overdue/store/sealed_texts.py: the token of its base64), so erasing the account leaves it
unreadable; `sha256` is the hash of the PDF's bytes, kept for the compliance record. The
mailroom moves a letter from `to_print` to `printed` to `sent`, forward only, each step with
who and when (and an audit row).

`customer_contacts.postal_address` is sealed like the name; NULL: the backend sent none.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from overdue.migrate import execute_script

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
    ALTER TABLE customer_contacts ADD COLUMN postal_address text;

    CREATE TABLE letters (
        id               bigserial PRIMARY KEY,
        idempotency_key  text NOT NULL UNIQUE,
        account_id       text NOT NULL,
        stage_id         text NOT NULL,
        locale           text NOT NULL,
        pdf              text,            -- sealed; NULL once the account is erased
        sha256           bytea NOT NULL CHECK (length(sha256) = 32),
        size_bytes       integer NOT NULL CHECK (size_bytes > 0),
        pages            integer NOT NULL CHECK (pages > 0),
        has_address      boolean NOT NULL,
        status           text NOT NULL DEFAULT 'to_print'
                         CHECK (status IN ('to_print', 'printed', 'sent')),
        created_at       timestamptz NOT NULL DEFAULT now(),
        printed_at       timestamptz,
        printed_by       text,
        sent_at          timestamptz,
        sent_by          text,
        CHECK ((status = 'to_print') = (printed_at IS NULL)),
        CHECK ((status = 'sent') = (sent_at IS NOT NULL))
    );
    -- The mailroom lists by status, oldest first, and by account.
    CREATE INDEX letters_status ON letters (status, created_at, id);
    CREATE INDEX letters_account ON letters (account_id, created_at);

    CREATE FUNCTION letters_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF array_position(ARRAY['to_print', 'printed', 'sent'], NEW.status)
           < array_position(ARRAY['to_print', 'printed', 'sent'], OLD.status) THEN
            RAISE EXCEPTION 'letter %: status may not move back from % to %',
                OLD.id, OLD.status, NEW.status USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END
    $$;
    CREATE TRIGGER letters_forward_only BEFORE UPDATE OF status ON letters
        FOR EACH ROW EXECUTE FUNCTION letters_forward_only();
    """)


def downgrade() -> None:
    execute_script("""
    DROP TABLE letters;
    DROP FUNCTION letters_forward_only();
    ALTER TABLE customer_contacts DROP COLUMN postal_address;
    """)
