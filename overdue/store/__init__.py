"""The Postgres stores, every SQL statement outside migrations by subject: accounts (the
per-account lock, customers' contact details), API keys, the audit trail, call tasks, console
users, the contact ledger (+ the SMS channel's claims, the pre-send gate), reported events
(payments and other events, once per id), SMS consent."""
