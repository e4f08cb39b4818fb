"""Self-service one-time codes by SMS (issue 16): the identity check of a link whose account
has no `id_last4`.

- `selfservice_codes`: one row per "send me a code" form (its idempotency key), scoped to the
  link it was asked on. The caps (codes per link per day, one per interval) count these rows.
  The code is kept as SHA-256 over the link's token hash and the code (`code_hash`), checked
  once (`used_at`); `code_sealed` holds it sealed with the account's data key only until the
  provider accepted the SMS (a retry must send the same code), then it is cleared. No
  personal data is left in a row once its SMS went; rows are deleted two days after they
  were asked (the caps look back one day), and with their link.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""

from overdue.migrate import execute_script

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
    CREATE TABLE selfservice_codes (
        request_key text PRIMARY KEY,
        token_hash bytea NOT NULL REFERENCES selfservice_links (token_hash) ON DELETE CASCADE,
        account_id text NOT NULL,
        requested_at timestamptz NOT NULL DEFAULT now(),
        lifetime interval NOT NULL,
        code_hash bytea,
        code_sealed text,
        code_at timestamptz,
        used_at timestamptz
    );
    CREATE INDEX selfservice_codes_link ON selfservice_codes (token_hash, requested_at);
    CREATE INDEX selfservice_codes_requested ON selfservice_codes (requested_at);
    """)


def downgrade() -> None:
    execute_script("DROP TABLE selfservice_codes;")
