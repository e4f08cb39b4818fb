"""The ops command line's work (`overdue status`, `list`, `bulk-start`, `pause`, `resume`,
`tasks`); overdue/ops_cli.py wires it into argparse."""
