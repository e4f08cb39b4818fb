"""The dev stack's fake Alibaba Cloud SMS (`OVERDUE_DEV_FAKE_ALIBABA=1`): CN messages are
routed to it (OVERDUE_SMS_ROUTES=CN=alibaba) with the real SDK, and its receipts reach this
stack's API. Other jurisdictions keep OVERDUE_SMS_SENDER (the fake Twilio, or recording)."""

from __future__ import annotations

import sys

from overdue.settings import Settings
from workers.devstack.preflight import _kept_secret

FAKE_ALIBABA_ARGV = (sys.executable, "-m", "workers.cli.main", "fake-alibaba")
FAKE_ALIBABA_TOKEN_FILE = "fake-alibaba-token"  # noqa: S105  # a file name, not a token
RECEIPT_TOKEN_FILE = "alibaba-receipt-token"  # noqa: S105  # a file name, not a token
# Credentials the dev stack's fake accepts; worthless anywhere else.
DEV_ALIBABA = {
    "OVERDUE_SMS_ROUTES": "CN=alibaba",
    "OVERDUE_ALIBABA_ACCESS_KEY_ID": "LTAI5tDevFakeAccessKey",
    "OVERDUE_ALIBABA_ACCESS_KEY_SECRET": "dev-fake-alibaba-secret",
}


def fake_alibaba_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.fake_alibaba_port}"


def use_fake_alibaba(settings: Settings, env: dict[str, str]) -> None:
    """The settings that route the worker's CN SMS to the fake, for every child process."""
    env.update(DEV_ALIBABA)
    env["OVERDUE_ALIBABA_API_BASE"] = fake_alibaba_url(settings)
    env["OVERDUE_FAKE_ALIBABA_TOKEN"] = _kept_secret(
        settings, FAKE_ALIBABA_TOKEN_FILE, settings.fake_alibaba_token
    )
    env["OVERDUE_ALIBABA_RECEIPT_TOKEN"] = _kept_secret(
        settings, RECEIPT_TOKEN_FILE, settings.alibaba_receipt_token
    )
    env.setdefault("OVERDUE_PUBLIC_BASE_URL", settings.api_url)


def fake_alibaba_lines(settings: Settings, shown_state_dir: str) -> list[str]:
    if not settings.dev_fake_alibaba:
        return []
    url = fake_alibaba_url(settings)
    token_file = f"{shown_state_dir}/{FAKE_ALIBABA_TOKEN_FILE}"
    return [
        f"  Fake Alibaba  {url}  (CN SMS; control token in {token_file})",
        f'  CN SMS sent  curl -s -H "Authorization: Bearer $(cat {token_file})" '
        f"{url}/_fake/messages",
    ]
