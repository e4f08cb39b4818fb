"""`overdue master-key status` / `overdue master-key rewrap`: rotating the privacy master key.

The master key (OVERDUE_PRIVACY_MASTER_KEY) wraps each account's data key; the texts are
sealed with the data keys, so a rotation wraps the data keys again and never touches a text
(docs/operations.md, "Rotating keys"). While it runs, the old key stays in
OVERDUE_PRIVACY_PREVIOUS_MASTER_KEYS, which unwraps but never wraps.

`status`: how many live data keys each other key still wraps (by key id; exit 0 when none,
1 otherwise). `rewrap`: moves them to the current key in batches; exit 0 when none is left,
1 when some open with none of the configured keys (their ids are printed), 2 on bad settings.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import TextIO

from overdue.settings import Settings

ACTOR = "ops-cli"


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> dict[str, Callable[[Settings, argparse.Namespace], int]]:
    group = commands.add_parser(
        "master-key",
        help="Rotate the privacy master key (data keys wrapped again).",
        description="Rotate the privacy master key: see docs/operations.md, rotating keys.",
    )
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser(
        "status",
        help="Data keys still wrapped by another key than the current one, by key id.",
        description="Count the live data keys not wrapped by OVERDUE_PRIVACY_MASTER_KEY, by the "
        "id of the key that wrapped them. Exit 0 when there are none.",
    )
    rewrap = actions.add_parser(
        "rewrap",
        help="Wrap every data key again under the current master key.",
        description="Wrap again, under OVERDUE_PRIVACY_MASTER_KEY, every live data key another "
        "key wrapped (it must be in OVERDUE_PRIVACY_PREVIOUS_MASTER_KEYS). Idempotent; safe "
        "while the product runs. Recorded in the audit trail (counts and key ids).",
    )
    rewrap.add_argument("--batch", type=int, default=500, help="data keys per transaction")
    return {"master-key": run_master_key}


def run_master_key(settings: Settings, args: argparse.Namespace) -> int:
    from overdue.privacy_keys import keyring_from, use_keyring

    use_keyring(keyring_from(settings))
    url = settings.require_database_url()
    if args.action == "status":
        return asyncio.run(status(url, out=sys.stdout))
    if args.batch < 1:
        print("overdue: --batch must be at least 1", file=sys.stderr)
        return 2
    return asyncio.run(rewrap_all(url, batch=args.batch, out=sys.stdout))


async def status(database_url: str, *, out: TextIO) -> int:
    import asyncpg

    from overdue.privacy_keys import keyring
    from overdue.store.sealed_texts import wrapped_by_other_keys

    conn = await asyncpg.connect(database_url)
    try:
        others = await wrapped_by_other_keys(conn)
    finally:
        await conn.close()
    out.write(f"current master key {keyring().master_key_id}\n")
    for key, count in others.items():
        out.write(f"{count} data key(s) wrapped by {key or 'an unrecorded key'}\n")
    if not others:
        out.write("every live data key is wrapped by it\n")
    return 1 if others else 0


async def rewrap_all(database_url: str, *, batch: int, out: TextIO) -> int:
    import asyncpg

    from overdue.privacy_keys import keyring
    from overdue.store.audit import record_event
    from overdue.store.sealed_texts import rewrap, wrapped_by_other_keys

    conn = await asyncpg.connect(database_url)
    try:
        before = await wrapped_by_other_keys(conn)
        moved = unreadable = 0
        cursor: str | None = ""
        while cursor is not None:
            step = await rewrap(conn, after=cursor, limit=batch)
            moved, unreadable, cursor = (
                moved + step.moved,
                unreadable + step.unreadable,
                step.last_subject,
            )
        left = await wrapped_by_other_keys(conn)
        await record_event(
            conn,
            account_id=None,
            actor=ACTOR,
            kind="privacy.master_key_rewrapped",
            details={
                "master_key_id": keyring().master_key_id,
                "moved": moved,
                "from_key_ids": sorted(k or "" for k in before),
                "left": sum(left.values()),
            },
        )
    finally:
        await conn.close()
    out.write(f"{moved} data key(s) wrapped again by master key {keyring().master_key_id}\n")
    for key, count in left.items():
        out.write(
            f"{count} left, wrapped by {key or 'an unrecorded key'}: it is not in "
            "OVERDUE_PRIVACY_PREVIOUS_MASTER_KEYS (or they were locked: run again)\n"
        )
    return 1 if left else 0
