"""The chaos run's load generator: the accounts (80% in a time zone whose contact window is
open, 50% paying in full and 15% half at random times) and their traffic through the API,
retried on 5xx and connection errors like a backend would; and the run's timeline."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import httpx

AMOUNT = 150_000


@dataclass
class Account:
    account_id: str
    phone: str
    time_zone: str
    inside_window: bool
    pay_after: float | None  # seconds after its start
    pay_amount: int
    started_at: float | None = None
    paid_at: float | None = None
    payment_status: int | None = None


@dataclass
class Timeline:
    t0: float = field(default_factory=time.monotonic)
    events: list[dict[str, Any]] = field(default_factory=list)

    def log(self, event: str, **details: Any) -> None:
        entry = {"t": round(time.monotonic() - self.t0, 1), "event": event, **details}
        self.events.append(entry)
        print(f"  t={entry['t']:6.1f}s {event} {details or ''}", flush=True)


def pick_zones(rng: random.Random, now: datetime) -> tuple[list[str], list[str]]:
    """Zones where the 08:00-22:00 window is open for the next hour, and where it stays shut."""
    inside, outside = [], []
    for name in sorted(available_timezones()):
        if not name.count("/") or name.startswith(("Etc/", "SystemV/", "posix/", "right/")):
            continue
        local = now.astimezone(ZoneInfo(name)).time()
        minutes = local.hour * 60 + local.minute
        if 8 * 60 + 30 <= minutes <= 20 * 60 + 30:
            inside.append(name)
        elif 60 <= minutes <= 6 * 60:
            outside.append(name)
    if not inside or not outside:
        raise RuntimeError("no time zones found on both sides of the window")
    return inside, outside


def make_accounts(n: int, rng: random.Random) -> list[Account]:
    inside, outside = pick_zones(rng, datetime.now(UTC))
    accounts = []
    for i in range(n):
        is_inside = rng.random() < 0.8
        roll = rng.random()
        if roll < 0.5:  # pays in full, some time during its lifecycle
            pay_after, amount = rng.uniform(5, 200), AMOUNT
        elif roll < 0.65:  # pays half, never the rest
            pay_after, amount = rng.uniform(5, 150), AMOUNT // 2
        else:
            pay_after, amount = None, 0
        accounts.append(
            Account(
                account_id=f"chaos-{i:05d}",
                phone=f"+86139{i:08d}",  # one number per account: provider messages map back
                time_zone=rng.choice(inside if is_inside else outside),
                inside_window=is_inside,
                pay_after=pay_after,
                pay_amount=amount,
            )
        )
    return accounts


async def with_retries(
    send: Any, final: tuple[int, ...], timeline: Timeline, what: str, deadline: float = 240
) -> int | None:
    """Call like a backend does: retry on 5xx and connection errors until a final answer.

    Returns the final status code (one of `final`), or None when it gave up or was refused.
    """
    give_up = time.monotonic() + deadline
    delay = 0.5
    while time.monotonic() < give_up:
        try:
            response = await send()
            if response.status_code in final:
                return int(response.status_code)
            if response.status_code < 500:
                timeline.log(
                    "request refused",
                    request=what,
                    status=response.status_code,
                    body=response.text[:200],
                )
                return None
        except httpx.HTTPError:
            pass
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5)
    timeline.log("request gave up", request=what)
    return None


async def drive_account(
    api: httpx.AsyncClient, account: Account, start_at: float, timeline: Timeline
) -> None:
    await asyncio.sleep(max(0.0, start_at - (time.monotonic() - timeline.t0)))
    report = {
        "customer": {
            "name": f"Customer {account.account_id[-5:]}",
            "phone": account.phone,
            "time_zone": account.time_zone,
            "locale": "en",
        },
        "product": "credit_line",
        "amount_due": {"amount_minor": AMOUNT, "currency": "CNY"},
        "due_date": date.today().isoformat(),
    }
    url = f"/v1/accounts/{account.account_id}"
    if not await with_retries(
        lambda: api.put(f"{url}/overdue", json=report),
        (200, 201),
        timeline,
        f"start {account.account_id}",
    ):
        return
    account.started_at = time.monotonic() - timeline.t0
    if account.pay_after is None:
        return
    await asyncio.sleep(account.pay_after)
    payment = {
        "payment_id": f"pay-{account.account_id}",
        "amount_minor": account.pay_amount,
        "currency": "CNY",
        "paid_at": datetime.now(UTC).isoformat(),
    }
    # 409: the process has closed (handed over) before the payment came: a final answer too.
    account.payment_status = await with_retries(
        lambda: api.post(f"{url}/payments", json=payment),
        (202, 409),
        timeline,
        f"pay {account.account_id}",
    )
    if account.payment_status == 202:
        account.paid_at = time.monotonic() - timeline.t0


async def drive_accounts(
    api: httpx.AsyncClient, accounts: list[Account], start_seconds: float, timeline: Timeline
) -> None:
    """Every account, its start spread evenly over `start_seconds`."""
    spread = [start_seconds * i / max(1, len(accounts)) for i in range(len(accounts))]
    await asyncio.gather(
        *(drive_account(api, a, at, timeline) for a, at in zip(accounts, spread, strict=True))
    )
