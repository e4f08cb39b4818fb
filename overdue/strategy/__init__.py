"""The strategy lab: simulating a policy on a portfolio (`overdue simulate`, docs/strategy.md).

`behaviour` (the payment-behaviour model), `portfolio` (accounts and the synthetic generator),
`engine` (the pure walk over the workflow's own decision code), `tally` (per-day figures),
`compliance` (the audit's rules on simulated contacts) and `report` (JSON and HTML).
"""
