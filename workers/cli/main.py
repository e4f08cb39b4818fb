"""`overdue` command line: the dev stack, migrations, and the product's processes."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence

from pydantic import ValidationError

from overdue.logs import configure_logging
from overdue.settings import ConfigurationError, Settings
from workers.cli import (
    compliance_commands,
    experiment_commands,
    fake_alibaba_command,
    link_commands,
    master_key_commands,
    ops_commands,
    policy_commands,
    privacy_commands,
    relay_commands,
    report_commands,
    retention_commands,
    score_commands,
    simulate_command,
)
from workers.cli.admin_commands import add_parsers


def _dev(settings: Settings, _args: argparse.Namespace) -> int:
    from workers.devstack.stack import run_dev_stack

    return run_dev_stack(settings)


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from overdue.migrate import upgrade

    upgrade(settings.require_database_url(), args.revision)
    print(f"migrations applied up to {args.revision}")
    return 0


def _worker(settings: Settings, _args: argparse.Namespace) -> int:
    from workers.main import run_worker

    asyncio.run(run_worker(settings))
    return 0


def _api(settings: Settings, _args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=False,
        server_header=False,  # no `server: uvicorn` telling scanners what to try
    )
    return 0


def _fake_twilio(settings: Settings, args: argparse.Namespace) -> int:
    from workers.fakes.twilio.run import serve

    asyncio.run(
        serve(
            settings,
            host=args.host,
            port=args.port,
            fault_rate=args.fault_rate,
            seed=args.seed,
            callback_delay=args.callback_delay,
        )
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="overdue",
        description="Reminder and early-collections processes for overdue accounts.",
        epilog="Settings come from environment variables (OVERDUE_*, DATABASE_URL); "
        "see docs/settings.md.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    handlers: dict[str, Callable[[Settings, argparse.Namespace], int]] = {}

    def add(
        name: str, handler: Callable[[Settings, argparse.Namespace], int], help_: str
    ) -> argparse.ArgumentParser:
        handlers[name] = handler
        return commands.add_parser(name, help=help_, description=help_)

    add("dev", _dev, "Run the whole stack locally: Temporal, Postgres, migrations, worker, API.")
    migrate = add("migrate", _migrate, "Apply database migrations to DATABASE_URL.")
    migrate.add_argument("--revision", default="head", help="target revision (default: head)")
    add("worker", _worker, "Run a Temporal worker (workflows and activities).")
    add("api", _api, "Run the HTTP API.")
    fake = add(
        "fake-twilio",
        _fake_twilio,
        "Run a local fake of Twilio's Messages API (signed status callbacks, fault injection).",
    )
    fake.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    fake.add_argument(
        "--port", type=int, default=None, help="port (default: OVERDUE_FAKE_TWILIO_PORT, 8011)"
    )
    fake.add_argument(
        "--fault-rate", type=float, default=0.0, help="share of API calls that fail (0 to 1)"
    )
    fake.add_argument("--seed", type=int, default=None, help="seed for random faults")
    fake.add_argument(
        "--callback-delay", type=float, default=0.5, help="seconds between status callbacks"
    )
    handlers.update(add_parsers(commands))
    handlers.update(ops_commands.add_parsers(commands))
    handlers.update(policy_commands.add_parsers(commands))
    handlers.update(compliance_commands.add_parsers(commands))
    handlers.update(fake_alibaba_command.add_parsers(commands))
    handlers.update(privacy_commands.add_parsers(commands))
    handlers.update(retention_commands.add_parsers(commands))
    handlers.update(score_commands.add_parsers(commands))
    handlers.update(experiment_commands.add_parsers(commands))
    handlers.update(simulate_command.add_parsers(commands))
    handlers.update(link_commands.add_parsers(commands))
    handlers.update(report_commands.add_parsers(commands))
    handlers.update(relay_commands.add_parsers(commands))
    handlers.update(master_key_commands.add_parsers(commands))
    parser.set_defaults(_handlers=handlers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as err:
        print(f"overdue: invalid settings:\n{err}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    handler: Callable[[Settings, argparse.Namespace], int] = args._handlers[args.command]
    try:
        return handler(settings, args)
    except ConfigurationError as err:
        print(f"overdue: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
