"""The Postgres stores: API keys, the audit trail, call tasks, console users, the contact
ledger and its pre-send gate, SMS consent."""
