"""The local dev stack (`overdue dev`): embedded Postgres, Temporal's dev server, and the
supervised worker and API processes."""
