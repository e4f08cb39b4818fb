"""`overdue policy move FILE [--query Q] [--apply]`: the command around workers/ops/policy_move.

Results go to stdout (the preview table, then a summary line), progress and problems to
stderr. Exit codes: 0 previewed or every account moved, 1 some account refused or failed the
move, 2 bad input (a policy file that is not valid, a bad query, a bad horizon).
"""

from __future__ import annotations

import argparse
from typing import TextIO

from overdue.settings import Settings
from workers.ops.errors import OpsError


async def move_policy_command(
    settings: Settings, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    from overdue.policy_files import PolicyFileError, load_policy
    from workers.cli.ops_commands import confirm, open_pool
    from workers.ops import policy_move
    from workers.ops.common import check_actor, connect_temporal, default_actor
    from workers.ops.output import console_for, show

    horizon = policy_move.check_horizon(args.horizon_days)
    actor = check_actor(args.actor or default_actor())
    try:
        policy = load_policy(args.file, sms_senders=settings.sms_route_map().values())
    except PolicyFileError as error:
        raise OpsError(str(error), exit_code=2) from None
    client = await connect_temporal(settings)
    accounts = await policy_move.running_accounts(client, args.query)
    shown = await policy_move.previews(client, accounts, policy, horizon)
    console = console_for(out)
    if not args.apply:
        show(console, policy_move.table(shown))
        out.write(policy_move.summary(shown, None) + "\n")
        return 0
    if not args.yes:
        confirm(f"Move {len(shown)} running accounts to {policy.id} v{policy.version}?")
    pool = await open_pool(settings)
    try:
        moved = await policy_move.apply(client, pool, shown, policy, actor)
    finally:
        await pool.close()
    show(console, policy_move.table(shown, {m.account_id: m.outcome for m in moved}))
    out.write(policy_move.summary(shown, moved) + "\n")
    return 0 if all(m.outcome == "moved" for m in moved) else 1
