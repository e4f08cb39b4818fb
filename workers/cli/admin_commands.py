"""`overdue api-keys ...` and `overdue users ...`: credentials for backends and console users.

Secrets never travel through argv (visible in `ps` and shell history): an API key is generated
and printed once; a password is read from a prompt or, when stdin is not a terminal, its first
line.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO, TypeVar

import asyncpg

from overdue.settings import Settings
from overdue.store import api_keys, console_users, login_failures
from overdue.store.audit import record_event
from workflows.policy import CallQueue

T = TypeVar("T")
ACTOR = "ops-cli"


class AdminError(Exception):
    """A refused admin command; the message says why (exit code 1)."""


def _with_connection(settings: Settings, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    async def main() -> T:
        conn = await asyncpg.connect(settings.require_database_url())
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(main())


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> dict[str, Callable[[Settings, argparse.Namespace], int]]:
    """Add the `api-keys` and `users` command groups; returns their handlers by name."""
    keys = commands.add_parser(
        "api-keys", help="Manage API keys for backend systems.", description="Manage API keys."
    )
    key_commands = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = key_commands.add_parser("add", help="Create a key and print it once.")
    add.add_argument("--name", required=True, help="who uses it, e.g. billing-backend")
    add.add_argument(
        "--scope",
        action="append",
        required=True,
        choices=[s.value for s in api_keys.Scope],
        help="repeat for several scopes",
    )
    key_commands.add_parser("list", help="List keys (names, scopes, dates; never the key).")
    revoke = key_commands.add_parser("revoke", help="Revoke the active key with this name.")
    revoke.add_argument("--name", required=True)

    users = commands.add_parser(
        "users", help="Manage agent console users.", description="Manage agent console users."
    )
    user_commands = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    add_user = user_commands.add_parser(
        "add",
        help="Create a user; the password is prompted for, or read from stdin's first line.",
    )
    add_user.add_argument("--username", required=True)
    add_user.add_argument("--role", required=True, choices=[r.value for r in console_users.Role])
    add_user.add_argument(
        "--queue", default=CallQueue.GENERAL.value, choices=[q.value for q in CallQueue]
    )
    user_commands.add_parser("list", help="List users (name, role, queue, created, disabled).")
    for action, help_ in (
        ("disable", "Disable a user (someone who left): their login and sessions stop at once."),
        ("enable", "Let a disabled user log in again."),
        ("set-password", "Set a new password (prompted, or stdin's first line); sessions end."),
    ):
        user_commands.add_parser(action, help=help_, description=help_).add_argument(
            "--username", required=True
        )
    return {"api-keys": run_api_keys, "users": run_users}


def run_api_keys(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "add":
        scopes = [api_keys.Scope(s) for s in args.scope]

        async def add(conn: asyncpg.Connection) -> tuple[api_keys.ApiKey, str]:
            return await api_keys.add_key(conn, args.name, scopes)

        try:
            record, key = _with_connection(settings, add)
        except ValueError as err:  # includes ApiKeyExists
            return _fail(str(err))
        print(f"API key {record.name!r} with scopes {', '.join(sorted(record.scopes))}.")
        print("Store it now; it is not shown again:", file=sys.stderr)
        print(key)
        return 0
    if args.action == "list":
        for item in _with_connection(settings, api_keys.list_keys):
            state = f"revoked {item.revoked_at:%Y-%m-%d}" if item.revoked_at else "active"
            print(
                f"{item.name}\t{','.join(sorted(item.scopes))}\t{item.created_at:%Y-%m-%d}\t{state}"
            )
        return 0

    async def revoke(conn: asyncpg.Connection) -> bool:
        return await api_keys.revoke_key(conn, args.name)

    if not _with_connection(settings, revoke):
        return _fail(f"no active key named {args.name!r}")
    print(f"API key {args.name!r} revoked")
    return 0


def read_password(stdin: TextIO | None = None) -> str:
    stream = stdin or sys.stdin
    if stream.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise AdminError("the passwords differ")
        return first
    return stream.readline().rstrip("\r\n")


def run_users(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "list":
        for u in _with_connection(settings, console_users.list_users):
            state = f"disabled {u.disabled_at:%Y-%m-%d}" if u.disabled_at else "active"
            print(f"{u.username}\t{u.role}\t{u.queue}\t{u.created_at:%Y-%m-%d}\t{state}")
        return 0
    if args.action in ("disable", "enable"):
        return _set_disabled(settings, args.username, disabled=args.action == "disable")
    try:
        console_users.check_username(args.username)
        password = read_password()
        console_users.check_password(password)
    except (ValueError, AdminError) as err:
        return _fail(str(err))
    if args.action == "set-password":
        return _set_password(settings, args.username, password)
    role = console_users.Role(args.role)
    queue = CallQueue(args.queue)

    async def add(conn: asyncpg.Connection) -> console_users.ConsoleUser:
        return await console_users.add_user(conn, args.username, password, role, queue)

    try:
        user = _with_connection(settings, add)
    except console_users.UserExists as err:
        return _fail(str(err))
    print(f"user {user.username!r} added: {user.role.value}, queue {user.queue.value}")
    return 0


def _set_disabled(settings: Settings, username: str, *, disabled: bool) -> int:
    kind = "console.user_disabled" if disabled else "console.user_enabled"

    async def change(conn: asyncpg.Connection) -> bool:
        async with conn.transaction():
            user_id = await console_users.set_disabled(conn, username, disabled=disabled)
            if user_id is not None:
                await record_event(
                    conn, account_id=None, actor=ACTOR, kind=kind, details={"user_id": user_id}
                )
        return user_id is not None

    if not _with_connection(settings, change):
        state = "disabled" if disabled else "active"
        return _fail(f"no user {username!r}, or it is {state} already")
    print(f"user {username!r} {'disabled: its sessions ended' if disabled else 'enabled'}")
    return 0


def _set_password(settings: Settings, username: str, password: str) -> int:
    async def change(conn: asyncpg.Connection) -> bool:
        async with conn.transaction():
            user_id = await console_users.set_password(conn, username, password)
            if user_id is not None:
                await login_failures.forget(conn, login_failures.user_key(username))
                await record_event(
                    conn,
                    account_id=None,
                    actor=ACTOR,
                    kind="console.password_set",
                    details={"user_id": user_id},
                )
        return user_id is not None

    if not _with_connection(settings, change):
        return _fail(f"no user {username!r}")
    print(f"user {username!r}: new password set, its sessions ended")
    return 0


def _fail(message: str) -> int:
    print(f"overdue: {message}", file=sys.stderr)
    return 1
