"""The `overdue` command line (workers/cli/main.py): the product's processes, the dev stack,
migrations, and the admin and ops commands."""
