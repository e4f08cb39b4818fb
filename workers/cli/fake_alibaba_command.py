"""`overdue fake-alibaba`: a local fake of Alibaba Cloud SMS (docs/sms-providers.md)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable

from overdue.settings import Settings


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> dict[str, Callable[[Settings, argparse.Namespace], int]]:
    """Add the `fake-alibaba` command; returns its handler by name."""
    text = (
        "Run a local fake of Alibaba Cloud SMS (SendSms, QuerySendDetails, signed with "
        "ACS3-HMAC-SHA256; receipts pushed to the API; fault injection)."
    )
    fake = commands.add_parser("fake-alibaba", help=text, description=text)
    fake.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    fake.add_argument(
        "--port", type=int, default=None, help="port (default: OVERDUE_FAKE_ALIBABA_PORT, 8012)"
    )
    fake.add_argument(
        "--fault-rate", type=float, default=0.0, help="share of API calls that fail (0 to 1)"
    )
    fake.add_argument(
        "--receipt-loss", type=float, default=0.0, help="share of receipt pushes lost (0 to 1)"
    )
    fake.add_argument("--seed", type=int, default=None, help="seed for random faults")
    fake.add_argument(
        "--receipt-delay", type=float, default=0.5, help="seconds before a receipt is pushed"
    )
    return {"fake-alibaba": run_fake_alibaba}


def run_fake_alibaba(settings: Settings, args: argparse.Namespace) -> int:
    from workers.fakes.alibaba.run import serve

    asyncio.run(
        serve(
            settings,
            host=args.host,
            port=args.port,
            fault_rate=args.fault_rate,
            receipt_loss=args.receipt_loss,
            seed=args.seed,
            receipt_delay=args.receipt_delay,
        )
    )
    return 0
