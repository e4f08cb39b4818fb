"""`overdue compliance audit [--since ISO] [--json] [--policy FILE ...]`: re-check every
compliance receipt against the rules (overdue/compliance_audit.py, docs/compliance.md).

Prints each violation (account, contact key, rule, details) as it is found, then a summary.
Exit codes: 0 no violation, 1 violations, 2 a refused argument or setting.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from overdue.settings import Settings


def _instant(text: str) -> datetime:
    """An ISO 8601 instant; one without an offset is UTC."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 date or time: {text!r} (e.g. 2026-12-01 or 2026-12-01T08:00Z)"
        ) from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> dict[str, Callable[[Settings, argparse.Namespace], int]]:
    """Add the `compliance` command group; returns its handler by name."""
    group = commands.add_parser(
        "compliance",
        help="Prove contacts were lawful: re-check their compliance receipts.",
        description="Prove contacts were lawful: re-check their compliance receipts.",
    )
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    audit = actions.add_parser(
        "audit",
        help="Re-check every receipt against the rules; print each violation.",
        description="Re-check every contact's compliance receipt against the policy's rules, "
        "independently of the code that made the contact, and check that every contact in "
        "the ledger has one (docs/compliance.md). Exit 0: no violation; 1: violations.",
    )
    audit.add_argument(
        "--since", type=_instant, default=None, help="only contacts at or after this instant"
    )
    audit.add_argument("--json", action="store_true", help="JSON lines: each violation, a summary")
    audit.add_argument(
        "--policy",
        type=Path,
        action="append",
        default=None,
        metavar="FILE",
        help="a policy file whose (id, version) receipts may name; repeatable (default: "
        "OVERDUE_POLICY_FILE and every .yaml beside it)",
    )
    return {"compliance": run_compliance}


def policy_files(settings: Settings, given: list[Path] | None) -> list[Path]:
    if given:
        return given
    beside = sorted(settings.policy_file.parent.glob("*.yaml"))
    return [settings.policy_file, *(f for f in beside if f != settings.policy_file)]


def run_compliance(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(
        run_audit(
            settings.require_database_url(),
            policy_files(settings, args.policy),
            since=args.since,
            as_json=args.json,
            out=sys.stdout,
            err=sys.stderr,
        )
    )


async def run_audit(
    database_url: str,
    files: list[Path],
    *,
    since: datetime | None,
    as_json: bool,
    out: TextIO,
    err: TextIO,
) -> int:
    """Run the audit, printing as it goes; returns the exit code."""
    import asyncpg

    from overdue.compliance_audit import Summary, audit, load_policies

    policies, problems = load_policies(files)
    for problem in problems:
        err.write(f"overdue: skipped {problem}\n")
    summary = Summary()
    conn = await asyncpg.connect(database_url)
    try:
        # One snapshot for the whole audit, read-only: pages agree with each other.
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            async for v in audit(conn, policies, since=since, summary=summary):
                if as_json:
                    line = {"account_id": v.account_id, "contact_key": v.contact_key}
                    out.write(json.dumps({**line, "rule": v.rule, "details": v.details}) + "\n")
                else:
                    out.write(f"{v.account_id}  {v.contact_key}  {v.rule}: {v.details}\n")
    finally:
        await conn.close()
    total = sum(summary.violations.values())
    if as_json:
        by_rule = dict(sorted(summary.violations.items()))
        out.write(
            json.dumps(
                {
                    "summary": {
                        "receipts": summary.receipts,
                        "ledger_rows": summary.ledger_rows,
                        "violations": total,
                        "by_rule": by_rule,
                        "policies": sorted(f"{i}@{v}" for i, v in policies),
                    }
                }
            )
            + "\n"
        )
    else:
        rules = ", ".join(f"{rule} {n}" for rule, n in sorted(summary.violations.items()))
        out.write(
            f"checked {summary.receipts} receipts and {summary.ledger_rows} ledger rows "
            f"against {len(policies)} policies: {total} violations"
            + (f" ({rules})" if rules else "")
            + "\n"
        )
    return 1 if total else 0
