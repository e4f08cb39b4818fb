"""What the audit hash chain costs: audit inserts with the chain (head) against the same
inserts without it (the schema at 0012), on one embedded Postgres, in the same run.

    .venv/bin/python -m bench.audit_chain_cost [--events 2000] [--writers 8]

Rounds alternate between the two databases so drift in the machine's load hits both. Prints
the time per insert and the ratio, sequential (one connection, each insert its own
transaction) and concurrent (`--writers` connections at once, where the chain's head row lock
serializes them).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import asyncpg

from overdue.migrate import upgrade_async
from overdue.store.audit import record_event
from workers.devstack.local_postgres import start_local_postgres_async

ROUNDS = 3


async def _insert(pool: asyncpg.Pool, writers: int, events: int) -> float:
    async def writer(w: int) -> None:
        for i in range(events // writers):
            await record_event(
                pool, account_id=f"acct-{w}", actor="bench", kind="bench.event", details={"i": i}
            )

    started = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(writers)))
    return (time.perf_counter() - started) / (events // writers * writers)


async def _database(admin_url: str, name: str, revision: str) -> asyncpg.Pool:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    url = admin_url.replace("/postgres?", f"/{name}?")
    await upgrade_async(url, revision)
    pool = await asyncpg.create_pool(url, min_size=1, max_size=16)
    assert pool is not None
    return pool


async def main(events: int, writers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = await start_local_postgres_async(Path(tmp) / "data", database="bench")
        try:
            plain = await _database(server.admin_url, "plain", "0012")
            chained = await _database(server.admin_url, "chained", "head")
            for label, n in (("sequential", 1), ("concurrent", writers)):
                times: dict[str, list[float]] = {"plain": [], "chained": []}
                for _ in range(ROUNDS):
                    times["plain"].append(await _insert(plain, n, events))
                    times["chained"].append(await _insert(chained, n, events))
                best = {k: min(v) for k, v in times.items()}
                print(
                    f"{label} ({n} writer(s), {events} events, best of {ROUNDS}): "
                    f"without chain {best['plain'] * 1e6:.0f} us/insert, "
                    f"with chain {best['chained'] * 1e6:.0f} us/insert, "
                    f"ratio {best['chained'] / best['plain']:.2f}"
                )
            await plain.close()
            await chained.close()
        finally:
            await server.stop_async()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--writers", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.writers))
