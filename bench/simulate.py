"""`overdue simulate`'s speed: a synthetic portfolio (100,000 accounts, 120 days by default) with
the default policy and behaviour model, on all the machine's cores; target at most 60 s on 2.

Baseline, measured in the same run: `workflows.simulation.run` itself on a sample of the same
accounts, one plain run each over the whole span with no events (what simulating every
account from scratch would cost at the least, before any behaviour), projected to the whole
portfolio on the same number of processes. The ratio is the simulator's seconds over that.
The machine is shared: the load average before and after is printed and recorded.

    .venv/bin/python -m bench.simulate [--accounts N] [--days D] [--workers W] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import ROOT, fmt, publish_result, ratio, stopwatch
from overdue.policy_files import read_policy
from overdue.strategy.behaviour import load_model
from overdue.strategy.portfolio import synthetic
from overdue.strategy.runner import Setup, simulate
from workflows.acting import new_record
from workflows.simulation import run

START = datetime(2026, 12, 1, tzinfo=UTC)
SAMPLE = 300


def baseline_seconds_per_account(setup: Setup, accounts: list[Any]) -> tuple[float, float]:
    """Wall and CPU seconds of one plain run per account, on a sample."""
    sample = accounts[:: max(1, len(accounts) // SAMPLE)][:SAMPLE]
    records = [new_record(a.process_input(setup.policy), "sim", setup.start) for a in sample]
    started, cpu = time.perf_counter(), time.process_time()
    for record in records:
        run(record, [], setup.start, setup.until)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return wall / len(records), cpu / len(records)


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)  # counted once they have exited
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    policy = read_policy(ROOT / "policies/default.yaml", START.date())
    model = load_model(ROOT / "strategy/behaviour.yaml")
    setup = Setup(policy, model, START, args.days, args.seed)
    accounts = synthetic(args.accounts, args.seed, START.date())
    load_before = os.getloadavg()
    per_account, cpu_per_account = baseline_seconds_per_account(setup, accounts)
    cpu_before = _cpu_seconds()
    with stopwatch() as took:
        tally = simulate(setup, accounts, args.workers)
    cpu = _cpu_seconds() - cpu_before
    load_after = os.getloadavg()
    seconds = took[0]
    projected = per_account * len(accounts) / args.workers
    result = {
        "accounts": len(accounts),
        "days": args.days,
        "workers": args.workers,
        "simulate_seconds": round(seconds, 2),
        # CPU time of this process and its workers: what the run costs whatever else the
        # shared machine runs; on idle cores the wall time is about this over the workers.
        "simulate_cpu_seconds": round(cpu, 2),
        "idle_machine_estimate_seconds": round(cpu / args.workers, 2),
        "target_seconds": 60,
        "distinct_paths": tally.paths,
        "baseline_run_ms_per_account": round(per_account * 1000, 3),
        "baseline_projected_seconds": round(projected, 2),
        "ratio_to_baseline": ratio(seconds, projected),
        # The same in CPU time, which the other work on a shared machine hardly changes.
        "baseline_run_cpu_ms_per_account": round(cpu_per_account * 1000, 3),
        "baseline_projected_cpu_seconds": round(cpu_per_account * len(accounts), 2),
        "cpu_ratio_to_baseline": ratio(cpu, cpu_per_account * len(accounts)),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "window_end": (START + timedelta(days=args.days)).isoformat(),
    }
    print(
        f"simulate: {len(accounts):,} accounts x {args.days} days on {args.workers} processes: "
        f"{fmt(seconds)} s (target 60 s), {fmt(cpu)} CPU s (idle-machine estimate "
        f"{fmt(cpu / args.workers)} s); baseline (one plain run per account, projected): "
        f"{fmt(projected)} s, ratio {result['ratio_to_baseline']}; in CPU time "
        f"{fmt(cpu_per_account * len(accounts))} s, ratio {result['cpu_ratio_to_baseline']}; "
        "load before "
        f"{result['load_average_before']}, after {result['load_average_after']}"
    )
    publish_result("simulate", result, None if args.out is None else ROOT / args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
