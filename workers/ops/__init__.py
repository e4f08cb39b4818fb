"""The ops command line's work (`overdue status`, `list`, `bulk-start`, `pause`, `resume`,
`tasks`); workers/cli/ops_commands.py wires it into argparse."""
