"""`overdue fake-alibaba`: the fake as a process, until Ctrl-C or SIGTERM.

It accepts the configured AccessKey (OVERDUE_ALIBABA_ACCESS_KEY_ID / _SECRET), knows the
templates the policy file registers (`provider_templates.alibaba`, with their texts), and
pushes receipts to this deployment's webhook with OVERDUE_ALIBABA_RECEIPT_TOKEN.
"""

from __future__ import annotations

import asyncio
import signal

from overdue.policy_files import read_policy
from overdue.settings import ConfigurationError, Settings
from workers.fakes.alibaba.server import FakeAlibaba
from workers.fakes.alibaba.sms_api import registered_text
from workers.fakes.twilio.faults import FaultPlan
from workflows.policy import Policy


def registered_templates(policy: Policy) -> dict[str, str]:
    """Template code -> registered text, for every text the policy maps for Alibaba."""
    return {
        registered.template_code: registered_text(policy.templates[template_id][locale])
        for template_id, locales in policy.provider_templates.get("alibaba", {}).items()
        for locale, registered in locales.items()
    }


async def serve(
    settings: Settings,
    *,
    host: str,
    port: int | None = None,
    fault_rate: float = 0.0,
    receipt_loss: float = 0.0,
    seed: int | None = None,
    receipt_delay: float = 0.5,
) -> None:
    """Serve on OVERDUE_FAKE_ALIBABA_PORT (or `port`); point OVERDUE_ALIBABA_API_BASE here."""
    key_id, secret = settings.alibaba_access_key_id, settings.alibaba_access_key_secret
    if key_id is None or secret is None:
        raise ConfigurationError(
            "the fake accepts the configured AccessKey: set OVERDUE_ALIBABA_ACCESS_KEY_ID and "
            "OVERDUE_ALIBABA_ACCESS_KEY_SECRET (any values will do)"
        )
    if settings.fake_alibaba_token is None:
        raise ConfigurationError(
            "the fake's control API (/_fake/*, every message sent) needs a token: set "
            "OVERDUE_FAKE_ALIBABA_TOKEN (at least 16 characters)"
        )
    for name, rate in (("--fault-rate", fault_rate), ("--receipt-loss", receipt_loss)):
        if not 0.0 <= rate <= 1.0:
            raise ConfigurationError(f"{name} must be between 0 and 1, got {rate}")
    receipt_token = settings.alibaba_receipt_token
    fake = FakeAlibaba(
        key_id,
        secret.get_secret_value(),
        receipt_url=(
            f"{settings.public_url}/webhooks/alibaba/receipts?token="
            f"{receipt_token.get_secret_value()}"
            if receipt_token is not None
            else None
        ),
        templates=registered_templates(read_policy(settings.policy_file)),
        faults=FaultPlan(rate=fault_rate, seed=seed),
        receipt_loss=receipt_loss,
        receipt_delay=receipt_delay,
        control_token=settings.fake_alibaba_token.get_secret_value(),
        seed=seed,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await fake.start(host, settings.fake_alibaba_port if port is None else port)
    print(f"fake alibaba sms ready at {fake.url} (set OVERDUE_ALIBABA_API_BASE)", flush=True)
    try:
        await stop.wait()
    finally:
        await fake.stop()
