"""Chaos: N accounts on a demo-like policy with random payments while the worker is SIGKILLed
several times, the dev server (persistent SQLite file) and Postgres are restarted once each,
and the fake Twilio fails 20% of API calls; then bench.chaos_check proves from the ledger, the
provider and the histories that nothing was missed, duplicated, sent after resolution, outside
a window or over a cap. It prints each count; all must be 0.

The stack, on loopback in a temporary folder: the Temporal dev server with a SQLite file, an
embedded Postgres, the fake Twilio (workers.fakes.twilio, in this process), a receiver for the
`notify` webhooks (this process), the API (uvicorn, this process; accounts and payments go
through it, retried like a backend would), and the worker as `python -m workers.cli.main worker`
(a subprocess, so it can be SIGKILLed), with the Twilio sender pointed at the fake.

The parts: bench.chaos_load (the accounts and their API traffic), bench.chaos_stack (the stack
and the disruptions), bench.chaos_evidence (waiting for the workflows to settle, gathering
what the checker reads), bench.chaos_history (reading a workflow's history), bench.chaos_check
(the checks) and this module (the run, its result and its report).

    .venv/bin/python -m bench.chaos [--n 1000] [--seed 7] [--keep] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import pickle
import random
import shutil
import time
from pathlib import Path
from typing import Any

import httpx

from bench.chaos_check import check
from bench.chaos_evidence import (
    POLICY_VERSIONS_FILE,
    Settled,
    reparse_histories,
    settle_and_gather,
)
from bench.chaos_load import Account, Timeline, drive_accounts, make_accounts
from bench.chaos_stack import POLICY_FILE, Stack, disrupt, start_stack, stop_stack
from bench.common import api_server, mint_api_key, publish_result
from bench.stack import temporary_folder
from workers.fakes.twilio import FakeTwilio


async def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)  # noqa: S311 - a reproducible benchmark, not security
    accounts = make_accounts(args.n, rng)
    folder = temporary_folder("bench-chaos-")
    # The API, the fake and asyncpg log every outage at length: to a file, not the console.
    logging.basicConfig(filename=folder / "driver.log", level=logging.WARNING, force=True)
    stack = await start_stack(folder, args.fault_rate, args.seed)
    result: dict[str, Any] = {
        "n": args.n,
        "seed": args.seed,
        "fault_rate": args.fault_rate,
        "folder": str(folder),
    }
    try:
        key = await mint_api_key(stack.postgres.url, "chaos")
        await stack.worker.start()
        async with (
            api_server(stack.settings),
            httpx.AsyncClient(
                base_url=stack.settings.api_url,
                timeout=30,
                headers={"Authorization": f"Bearer {key}"},
            ) as api,
        ):
            timeline = Timeline()
            await drive_under_chaos(stack, api, accounts, timeline, args.start_seconds)
            settled = await settle_and_gather(stack, accounts, timeline, args.timeout)
        # Kept beside the logs: `--recheck FOLDER` runs the checker again without a new run
        # (the policy versions too: histories name them by digest, read from Postgres).
        (folder / "evidence.pickle").write_bytes(pickle.dumps(settled.evidence))
        await keep_policy_versions(stack.postgres.url, folder / POLICY_VERSIONS_FILE)
        result.update(run_figures(accounts, settled, stack.fake, timeline))
        result.update(check(settled.evidence))
        return with_audit(result, await compliance_audit(stack.postgres.url))
    finally:
        await stop_stack(stack)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


async def keep_policy_versions(database_url: str, file: Path) -> None:
    import asyncpg

    from overdue.store.policy_versions import stored_bodies

    conn = await asyncpg.connect(database_url)
    try:
        bodies = await stored_bodies(conn)
    finally:
        await conn.close()
    await asyncio.to_thread(file.write_text, json.dumps(bodies))


async def compliance_audit(database_url: str) -> dict[str, Any]:
    """`overdue compliance audit` over the run's data: every receipt re-checked against the
    chaos policy, every contact in the ledger with its receipt (docs/compliance.md)."""
    import asyncpg

    from overdue.compliance_audit import Summary, audit, load_policies

    policies, _ = load_policies([POLICY_FILE])
    summary = Summary()
    examples: list[str] = []
    conn = await asyncpg.connect(database_url)
    try:
        async for v in audit(conn, policies, summary=summary):
            if len(examples) < 5:
                examples.append(f"{v.account_id} {v.contact_key} {v.rule}: {v.details}")
    finally:
        await conn.close()
    return {
        "receipts": summary.receipts,
        "ledger_rows": summary.ledger_rows,
        "violations": sum(summary.violations.values()),
        "by_rule": dict(summary.violations),
        "examples": examples,
    }


def with_audit(result: dict[str, Any], audited: dict[str, Any]) -> dict[str, Any]:
    """The checker's verdict with the compliance audit's: all zero only if both are."""
    return {
        **result,
        "compliance_audit": audited,
        "all_zero": result["all_zero"] and audited["violations"] == 0,
    }


async def drive_under_chaos(
    stack: Stack,
    api: httpx.AsyncClient,
    accounts: list[Account],
    timeline: Timeline,
    start_seconds: float,
) -> None:
    """Start the accounts and their payments while the disruptions run, until both are done."""
    timeline.log("starting accounts", n=len(accounts), over_seconds=start_seconds)
    disruptions = asyncio.create_task(disrupt(stack, timeline, start_seconds))
    drivers = asyncio.ensure_future(drive_accounts(api, accounts, start_seconds, timeline))
    # A disruption that fails (say the worker does not come back) ends the run at once.
    both: set[asyncio.Future[Any]] = {drivers, disruptions}
    await asyncio.wait(both, return_when=asyncio.FIRST_EXCEPTION)
    if disruptions.done() and disruptions.exception() is not None:
        drivers.cancel()
        await asyncio.gather(drivers, return_exceptions=True)
    await disruptions
    await drivers
    timeline.log("every start and payment accepted; chaos over")


def run_figures(
    accounts: list[Account], settled: Settled, fake: FakeTwilio, timeline: Timeline
) -> dict[str, Any]:
    """The run's figures beside the checker's verdict."""
    started = settled.started
    return {
        "accounts_started": len(started),
        "accounts_inside_window": sum(1 for a in started if a.inside_window),
        "payments_accepted": sum(1 for a in accounts if a.payment_status == 202),
        "payments_after_closure": sum(1 for a in accounts if a.payment_status == 409),
        "still_busy_at_check": settled.still_busy,
        "parked_until_their_window": settled.parked,
        "faults_injected": len(fake.injected),
        "fault_kinds": dict(_count(f.kind.value for f in fake.injected)),
        "provider_api_calls": len(fake.api_calls),
        "timeline": timeline.events,
        "seconds": round(time.monotonic() - timeline.t0, 1),
    }


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def report(data: dict[str, Any]) -> None:
    print(
        f"chaos: {data['accounts_started']:,} accounts ({data['accounts_inside_window']:,} "
        f"inside their window), {data['payments_accepted']:,} payments, "
        f"{data['faults_injected']:,} provider faults injected "
        f"of {data['provider_api_calls']:,} calls, {data['seconds']} s"
    )
    for event in data["timeline"]:
        if any(w in event["event"] for w in ("SIGKILL", "restarted", "stopped")):
            print(f"  t={event['t']:6.1f}s {event['event']}")
    print("checked:", ", ".join(f"{k} {v:,}" for k, v in data["checked"].items()))
    print("must be 0:")
    for name, count in data["counts"].items():
        print(f"  {name:28} {count}")
    print("info (not failures):")
    for name, count in sorted(data["info"].items()):
        print(f"  {name:28} {count}")
    audited = data["compliance_audit"]
    print(
        f"compliance audit: {audited['receipts']:,} receipts, {audited['ledger_rows']:,} ledger "
        f"rows, {audited['violations']} violations {audited['by_rule'] or ''}"
    )
    for example in audited["examples"]:
        print(f"  {example}")
    print("ALL ZERO" if data["all_zero"] else "FAILED: see examples in the JSON result")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument(
        "--start-seconds",
        type=float,
        default=120,
        help="spread the starts over this long; the chaos scales with it",
    )
    parser.add_argument("--timeout", type=float, default=900, help="wait for closure at most")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--recheck",
        type=Path,
        default=None,
        help="check a kept run's folder again (its evidence.pickle)",
    )
    args = parser.parse_args(argv)
    if args.recheck is not None:
        evidence = pickle.loads((args.recheck / "evidence.pickle").read_bytes())  # noqa: S301 - our own file
        if (args.recheck / "temporal.sqlite").exists():
            asyncio.run(reparse_histories(args.recheck, evidence))
        verdict = check(evidence)
        print(json.dumps(verdict, indent=2, default=str))
        return 0 if verdict["all_zero"] else 1
    data = asyncio.run(run(args))
    report(data)
    publish_result("chaos", data, args.out)
    return 0 if data["all_zero"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
