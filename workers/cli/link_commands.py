"""`overdue link revoke`: end self-service links before they expire (docs/self-service.md).

One link (`--token`, the URL's last segment, or the whole `--url`) or every link of an account
(`--account`); their sessions end with them. Recorded in the audit trail (counts only). Exit 0
with the number revoked (0: none was live), 2 on bad arguments.
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
    link = commands.add_parser(
        "link", help="Self-service links.", description="Self-service links (the SMS {link})."
    )
    actions = link.add_subparsers(dest="action", required=True, metavar="ACTION")
    revoke = actions.add_parser(
        "revoke",
        help="Revoke one link, or every link of an account.",
        description="Revoke one self-service link (by token or URL) or all of an account's; "
        "their sessions end at once.",
    )
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--token", help="the link's token (the URL's last path segment)")
    which.add_argument("--url", help="the whole link as sent")
    which.add_argument("--account", help="every link of this account id")
    return {"link": run_link_revoke}


def run_link_revoke(settings: Settings, args: argparse.Namespace) -> int:
    token = args.token or (args.url.rstrip("/").rsplit("/", 1)[-1] if args.url else None)
    return asyncio.run(
        revoke_links(settings.require_database_url(), token, args.account, out=sys.stdout)
    )


async def revoke_links(
    database_url: str, token: str | None, account_id: str | None, *, out: TextIO
) -> int:
    import asyncpg

    from overdue.store import selfservice_links
    from overdue.store.audit import record_event
    from overdue.store.selfservice_links import token_hash

    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            hashed = token_hash(token) if token else None
            link = await selfservice_links.find_link(conn, hashed) if hashed else None
            count = await selfservice_links.revoke(
                conn, token_hash=hashed, account_id=account_id, actor=ACTOR
            )
            subject = account_id or (link.account_id if link else None)
            if count:
                await record_event(
                    conn,
                    account_id=subject,
                    actor=ACTOR,
                    kind="selfservice.links_revoked",
                    details={"count": count},
                )
    finally:
        await conn.close()
    out.write(f"revoked {count} link(s)\n")
    return 0
