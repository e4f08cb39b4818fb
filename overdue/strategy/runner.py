"""A portfolio through the engine: accounts grouped by profile, profiles shared out among
worker processes, their tallies merged (integers: the same figures whatever the sharing)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from overdue.strategy.behaviour import BehaviourModel
from overdue.strategy.compliance import ContactAudit
from overdue.strategy.draws import account_key
from overdue.strategy.engine import Paths, profile_key, walk
from overdue.strategy.portfolio import PortfolioAccount
from overdue.strategy.tally import Counting, Group, Tally
from overdue.strategy.timeline import Path
from workflows.policy import Policy

CHUNKS_PER_WORKER = 24  # enough for a smooth progress bar and an even load


@dataclass(frozen=True)
class Setup:
    policy: Policy
    model: BehaviourModel
    start: datetime
    days: int
    seed: int

    @property
    def until(self) -> datetime:
        return self.start + timedelta(days=self.days)


Profile = list[PortfolioAccount]


def profiles(setup: Setup, accounts: Sequence[PortfolioAccount]) -> list[Profile]:
    """The accounts by profile, in a stable order."""
    grouped: dict[tuple[Any, ...], Profile] = {}
    for account in accounts:
        grouped.setdefault(profile_key(account, setup.policy), []).append(account)
    return [grouped[key] for key in sorted(grouped, key=repr)]


def simulate_profiles(setup: Setup, chunk: Sequence[Profile]) -> Tally:
    """One worker's share: each profile's accounts walked, their paths counted."""
    tally = Tally(setup.start, setup.days)
    audit = ContactAudit(setup.policy)
    for accounts in chunk:
        paths = Paths(setup.policy, setup.model, accounts[0], setup.start, setup.until)
        counting = Counting(tally, setup.policy, setup.model.agent_time_zone, paths.stand_in)
        walked: dict[int, tuple[Path, list[int]]] = {}
        for account in accounts:
            path = walk(paths, account_key(setup.seed, account.account_id))
            entry = walked.setdefault(id(path), (path, [0, 0]))
            entry[1][0] += 1
            entry[1][1] += account.amount_minor
        first = accounts[0]
        for path, (count, balance) in walked.values():
            group = Group(count, balance, first.currency, first.due_date, first.locale)
            counting.add(path, group, audit.violations(path, first))
    return tally


def simulate(
    setup: Setup,
    accounts: Sequence[PortfolioAccount],
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Tally:
    """The portfolio's tally; `progress` hears how many more accounts are done."""
    groups = profiles(setup, accounts)
    chunks = _chunks(groups, max(1, workers) * CHUNKS_PER_WORKER)
    total = Tally(setup.start, setup.days)
    if workers <= 1:
        for chunk in chunks:
            total.merge(simulate_profiles(setup, chunk))
            if progress:
                progress(sum(len(p) for p in chunk))
        return total
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(simulate_profiles, setup, chunk): chunk for chunk in chunks}
        for future in as_completed(futures):
            total.merge(future.result())
            if progress:
                progress(sum(len(p) for p in futures[future]))
    return total


def _chunks(groups: list[Profile], count: int) -> list[list[Profile]]:
    """Profiles dealt into about `count` chunks of similar size, biggest profiles first."""
    ordered = sorted(groups, key=len, reverse=True)
    chunks: list[list[Profile]] = [[] for _ in range(min(count, len(ordered)) or 1)]
    sizes = [0] * len(chunks)
    for group in ordered:
        smallest = sizes.index(min(sizes))
        chunks[smallest].append(group)
        sizes[smallest] += len(group)
    return [c for c in chunks if c]


def check_paths(setup: Setup, accounts: Sequence[PortfolioAccount]) -> list[str]:
    """Each account's walked path against `workflows.simulation.run` on the account's own
    input and full timeline, from scratch: a line per account whose run differs."""
    problems = []
    for group in profiles(setup, accounts):
        paths = Paths(setup.policy, setup.model, group[0], setup.start, setup.until)
        for account in group:
            path = walk(paths, account_key(setup.seed, account.account_id))
            again = paths.run_for(account, path.timeline)
            if again != path:
                problems.append(f"{account.account_id}: {_difference(path, again)}")
    return problems


def _difference(walked: Path, run: Path) -> str:
    names = ("contacts", "tasks", "states", "cancellations", "answers", "finished_at")
    for name in (*names, "activities", "closed_at"):
        if getattr(walked, name) != getattr(run, name):
            return f"{name}: walked {getattr(walked, name)!r}, run {getattr(run, name)!r}"
    return "timelines differ"
