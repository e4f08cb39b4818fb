"""`overdue export-personal-data ACCOUNT [--output FILE] [--actor WHO]`: everything held about
an account, as JSON, for its customer's right of access and portability (PIPL art. 45, GDPR
arts. 15 and 20); the same use case as `GET /v1/accounts/{id}/personal-data`
(`overdue.subject_access`). Every export is audited (`privacy.accessed`).

Exit codes, as `overdue erase`: 0 exported, 1 an unknown account or a failure on the way,
2 a refused argument or setting (an --output whose directory is missing or not writable is
refused before anything is read).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from overdue.settings import Settings

COMMAND = "export-personal-data"


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    account_id: Callable[[str], str],
) -> dict[str, Callable[[Settings, argparse.Namespace], int]]:
    """Add `export-personal-data`; returns its handler by name."""
    export = commands.add_parser(
        COMMAND,
        help="Export everything held about an account as JSON (right of access).",
        description="Print (or write to FILE) everything held about an account, decrypted: "
        "contact details, SMS sent and received, typed texts, consent history, opt-outs, "
        "call tasks and dials, audit events, compliance receipts, retention periods. An "
        "erased account gives what is left of it. The export is audited. See docs/privacy.md.",
    )
    export.add_argument("account", type=account_id, metavar="ACCOUNT", help="the account id")
    export.add_argument(
        "--output", type=Path, default=None, metavar="FILE", help="write the JSON here (0600)"
    )
    export.add_argument("--actor", default=None, help="recorded in the audit trail (ops:<login>)")
    return {COMMAND: run_export}


def run_export(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(export(settings, args, sys.stdout, sys.stderr))


def _refused_output(output: Path | None) -> str | None:
    if output is None:
        return None
    folder = output.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK) or output.is_dir():
        return f"cannot write {str(output)!r}: its directory is missing or not writable"
    return None


async def export(settings: Settings, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from overdue.subject_access import UnknownAccount, export_personal_data
    from workers.cli.ops_commands import open_pool
    from workers.ops.common import check_actor, default_actor
    from workers.ops.errors import OpsError

    if refused := _refused_output(args.output):
        print(f"overdue {COMMAND}: {refused}", file=err)
        return 2
    try:
        actor = check_actor(args.actor or default_actor())
        pool = await open_pool(settings)
    except OpsError as error:
        print(f"overdue {COMMAND}: {error}", file=err)
        return error.exit_code
    try:
        data = await export_personal_data(pool, args.account, actor, settings.retention_periods())
    except UnknownAccount:
        print(f"overdue {COMMAND}: unknown account {args.account!r}", file=err)
        return 1
    finally:
        await pool.close()
    text = data.model_dump_json(indent=2) + "\n"
    if args.output is None:
        out.write(text)
        return 0
    # Personal data: readable by its owner only, from the first byte.
    fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
    counts = ", ".join(f"{k}={v}" for k, v in data.counts().items())
    print(f"{args.account}: personal data written to {args.output} ({counts})", file=out)
    return 0
