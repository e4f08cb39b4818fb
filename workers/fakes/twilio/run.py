"""`overdue fake-twilio`: the fake as a process, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import signal

from overdue.settings import ConfigurationError, Settings
from workers.fakes.twilio.faults import FaultPlan
from workers.fakes.twilio.server import FakeTwilio


async def serve(
    settings: Settings,
    *,
    host: str,
    port: int | None = None,
    fault_rate: float = 0.0,
    seed: int | None = None,
    callback_delay: float = 0.5,
) -> None:
    """Serve with the configured Twilio credentials on OVERDUE_FAKE_TWILIO_PORT (or `port`);
    point OVERDUE_TWILIO_API_BASE here. The control API needs OVERDUE_FAKE_TWILIO_TOKEN."""
    if settings.twilio_account_sid is None or settings.twilio_auth_token is None:
        raise ConfigurationError(
            "the fake accepts the configured credentials: set OVERDUE_TWILIO_ACCOUNT_SID and "
            "OVERDUE_TWILIO_AUTH_TOKEN (any AC + 32 hex digits and any token will do)"
        )
    if settings.fake_twilio_token is None:
        raise ConfigurationError(
            "the fake's control API (/_fake/*, every message sent) needs a token: set "
            "OVERDUE_FAKE_TWILIO_TOKEN (at least 16 characters)"
        )
    if not 0.0 <= fault_rate <= 1.0:
        raise ConfigurationError(f"--fault-rate must be between 0 and 1, got {fault_rate}")
    fake = FakeTwilio(
        settings.twilio_account_sid,
        settings.twilio_auth_token.get_secret_value(),
        faults=FaultPlan(rate=fault_rate, seed=seed),
        callback_delay=callback_delay,
        control_token=settings.fake_twilio_token.get_secret_value(),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await fake.start(host, settings.fake_twilio_port if port is None else port)
    print(f"fake twilio ready at {fake.url} (set OVERDUE_TWILIO_API_BASE={fake.url})", flush=True)
    try:
        await stop.wait()
    finally:
        await fake.stop()
