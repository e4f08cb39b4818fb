"""bench.throughput with several worker processes: where the CPU goes in each phase, the
ratios against the ceiling with the same number of processes, and N-process / 1-process.

The machine's CPU is shared by everything in the run (dev server, Postgres, this process that
starts the workflows, the workers), so each phase also records the CPU the others spent: it
says whether adding worker processes can help at all (docs/benchmarks.md, "Throughput").
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psutil

from bench.common import fmt, print_table, ratio

# The figures compared against the ceiling, and how they are labelled in the tables.
FIGURES = (
    ("starts_per_second", "starts/s"),
    ("completion_rate", "first-contact rate"),
    ("contacts_per_second", "first contacts/s"),
    ("latency_p50_s", "p50 start->contact s"),
    ("latency_p99_s", "p99 start->contact s"),
    ("worker_cpu_ms_per_contact", "worker CPU ms/contact"),
)
# Issue 19's targets, as ours / the ceiling's: (at least, at most).
TARGETS: dict[str, tuple[float | None, float | None]] = {
    "contacts_per_second": (0.9, None),
    "worker_cpu_ms_per_contact": (None, 1.5),
}


def target_text(key: str, value: float | None) -> str:
    """`>= 0.9: met` beside a figure with a target, else nothing."""
    if key not in TARGETS:
        return ""
    low, high = TARGETS[key]
    met = value is not None and (low is None or value >= low) and (high is None or value <= high)
    bound = f">= {low}" if low is not None else f"<= {high}"
    return f"{bound}: {'met' if met else 'NOT met'}"


# The figures whose N-process / 1-process ratio says what scaled.
SCALED = ("starts_per_second", "contacts_per_second", "latency_p50_s", "latency_p99_s")


def tree_cpu_seconds(pid: int | None) -> float:
    """User + system CPU of a process, its reaped children and its live children."""
    if pid is None:
        return 0.0
    try:
        root = psutil.Process(pid)
        times = root.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in root.children(recursive=True):
            try:
                child_times = child.cpu_times()
                total += child_times.user + child_times.system
            except psutil.NoSuchProcess:
                pass
    except psutil.NoSuchProcess:
        return 0.0
    return total


@contextmanager
def others_cpu(server_pid: int | None, postgres_pid: int | None) -> Iterator[dict[str, Any]]:
    """CPU seconds the dev server, Postgres and this process spent in the block (filled after)."""
    spent: dict[str, Any] = {}
    pids = {"server": server_pid, "postgres": postgres_pid}
    before = {k: tree_cpu_seconds(p) for k, p in pids.items()}
    mine = time.process_time()
    began = time.monotonic()
    try:
        yield spent
    finally:
        for key, pid in pids.items():
            spent[f"{key}_cpu_seconds"] = round(tree_cpu_seconds(pid) - before[key], 1)
        spent["bench_process_cpu_seconds"] = round(time.process_time() - mine, 1)
        spent["wall_seconds"] = round(time.monotonic() - began, 1)


def add_others(result: dict[str, Any], spent: dict[str, Any]) -> None:
    """The other processes' CPU into a phase's result, with the machine's busy share."""
    result.update(spent)
    done = result.get("first_contacts") or 0
    if done:
        result["server_cpu_ms_per_contact"] = round(spent["server_cpu_seconds"] * 1000 / done, 1)
    busy = (
        result["worker_cpu_seconds"]
        + result["worker_start_up_cpu_seconds"]
        + spent["server_cpu_seconds"]
        + spent["postgres_cpu_seconds"]
        + spent["bench_process_cpu_seconds"]
    )
    cores = os.cpu_count() or 1
    wall = spent["wall_seconds"]
    result["cores_busy_of_machine"] = round(busy / wall / cores, 2) if wall else None


def against_ceiling(mine: dict[str, Any], base: dict[str, Any]) -> dict[str, float | None]:
    return {key: ratio(mine.get(key), base.get(key)) for key, _ in FIGURES}


def scaling(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each run's figures over the 1-process run's (or the fewest processes measured)."""
    if not runs:
        return {}
    first = min(runs, key=lambda r: r["processes"])
    return {
        str(run["processes"]): {
            phase: {key: ratio(run[phase].get(key), first[phase].get(key)) for key in SCALED}
            for phase in ("ceiling", "ours")
        }
        | {"over_processes": first["processes"]}
        for run in runs
    }


def report_run(run: dict[str, Any], n: int) -> None:
    base, mine = run["ceiling"], run["ours"]
    print(
        f"\nthroughput, N={n:,}, {run['processes']} worker process(es) "
        f"(dev server, in memory; ceiling = no-op workflow + activity, same processes; "
        f"1-min load at start {run['load_average_1min_at_start']})"
    )
    over = run["ours_over_ceiling"]
    rows = [
        [
            label,
            fmt(mine.get(k), 3),
            fmt(base.get(k), 3),
            fmt(over[k], 2),
            target_text(k, over[k]),
        ]
        for k, label in FIGURES
    ]
    for key, label in (
        ("server_cpu_ms_per_contact", "dev server CPU ms/contact"),
        ("cores_busy_of_machine", "machine busy (share of all cores)"),
    ):
        rows.append([label, fmt(mine.get(key), 2), fmt(base.get(key), 2), "", ""])
    print_table(rows, ["figure", "ours", "ceiling", "ours/ceiling", "target (ours/ceiling)"])


def report_scaling(data: dict[str, Any]) -> None:
    if len(data["runs"]) < 2:
        return
    print("\nscaling: each figure with N processes / with the fewest processes measured")
    labels = dict(FIGURES)
    rows = [
        [phase, processes, *[fmt(figures[phase][key], 2) for key in SCALED]]
        for phase in ("ours", "ceiling")
        for processes, figures in data["scaling"].items()
    ]
    print_table(rows, ["phase", "processes", *[labels[key] for key in SCALED]])
