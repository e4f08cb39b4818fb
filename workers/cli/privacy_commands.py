"""`overdue erase ACCOUNT [--actor WHO] [--json]`: erase an account's personal data on request
(PIPL art. 47), the same use case as `POST /v1/accounts/{id}/erasure` (`overdue.erasure`).

Exit codes: 0 erased (now or before: repeating it changes nothing), 1 refused (an unknown
account, or one whose process still runs: the reason is printed) or a failure on the way,
2 a refused argument or setting.

`overdue export-personal-data ACCOUNT [--output FILE] [--actor WHO]`: everything held about
the account as JSON (PIPL art. 45, GDPR arts. 15 and 20), the same use case as
`GET /v1/accounts/{id}/personal-data` (`overdue.subject_access`); exit codes as `erase`
(workers/cli/access_command.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from collections.abc import Callable
from typing import TextIO

from overdue.settings import Settings
from workers.cli import access_command
from workflows.types import ACCOUNT_ID_PATTERN


def _account_id(text: str) -> str:
    if not re.fullmatch(ACCOUNT_ID_PATTERN, text):
        raise argparse.ArgumentTypeError(
            f"not an account id: {text!r} (letters, digits and _.:- , at most 64)"
        )
    return text


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> dict[str, Callable[[Settings, argparse.Namespace], int]]:
    """Add `erase`; returns its handler by name."""
    erase = commands.add_parser(
        "erase",
        help="Erase an account's personal data; its collection record stays.",
        description="Erase an account's personal data (name, number, message bodies, typed "
        "texts: its data key is destroyed) and keep its collection record (audit trail, "
        "receipts, contacts without text). Refused while its overdue process runs. See "
        "docs/privacy.md.",
    )
    erase.add_argument("account", type=_account_id, metavar="ACCOUNT", help="the account id")
    erase.add_argument("--actor", default=None, help="recorded in the audit trail (ops:<login>)")
    erase.add_argument("--json", action="store_true", help="print the summary as JSON")
    return {"erase": run_erase, **access_command.add_parser(commands, _account_id)}


def run_erase(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(erase(settings, args, sys.stdout, sys.stderr))


async def erase(settings: Settings, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from overdue.erasure import NotErasableYet, UnknownAccount, erase_account
    from workers.cli.ops_commands import open_pool
    from workers.ops.common import check_actor, connect_temporal, default_actor
    from workers.ops.errors import OpsError

    try:
        actor = check_actor(args.actor or default_actor())
        client = await connect_temporal(settings)
        pool = await open_pool(settings)
    except OpsError as error:
        print(f"overdue erase: {error}", file=err)
        return error.exit_code
    try:
        done = await erase_account(pool, client, args.account, actor)
    except UnknownAccount:
        print(f"overdue erase: unknown account {args.account!r}", file=err)
        return 1
    except NotErasableYet as refused:
        print(f"overdue erase: not erased: {refused.reason}", file=err)
        return 1
    finally:
        await pool.close()
    summary = {
        "account_id": done.account_id,
        "erased_at": done.erased_at.isoformat(),
        "erased_by": done.actor,
        "already_erased": done.already_erased,
        "counts": done.counts,
    }
    if args.json:
        print(json.dumps(summary, sort_keys=True), file=out)
    else:
        when = "was erased" if done.already_erased else "erased"
        counts = ", ".join(f"{k}={v}" for k, v in sorted(done.counts.items()))
        print(
            f"{done.account_id} {when} at {summary['erased_at']} by {done.actor} ({counts})",
            file=out,
        )
    return 0
