"""What the borrower's page shows, from the workflow's status and the stores: what is owed,
the forms' limits from the policy, what they said before. No personal value is shown but the
account's own amounts and dates (the borrower passed the identity check).

`itemization(...)`: principal, interest, fees and what was paid, as the backend reports them
(start and bill requests' itemization; `_itemization.html`); None without one, and the page
shows the balance alone. The template includes `_forbearance.html` when it exists (`ignore
missing`): the borrower's forbearance requests (settlement, freeze, holiday), not built yet.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from api.dependencies import Services
from api.selfservice import access, forms
from api.selfservice.access import Visit
from overdue.store.bills import bills_total
from workflows.letter_input import balance_items
from workflows.selfservice_requests import instalment_choices
from workflows.types import AccountStatus


def itemization(services: Services, status: AccountStatus) -> list[tuple[str, int]] | None:
    """(kind, minor units) lines of what makes up the balance, as the backend reported it, with
    the payments since (`_itemization.html` words the kinds); None: not reported, and the page
    shows the balance alone."""
    lines = balance_items(status.itemization, status.balance_minor)
    return None if lines is None else [(i.kind, i.amount_minor) for i in lines]


async def paid_so_far(services: Services, status: AccountStatus) -> int:
    """What the account's bills came to, less what is still owed (payments reported)."""
    billed = await bills_total(services.pool, status.account_id, besides="")
    return max(billed - status.balance_minor, 0)


def _preferences(status: AccountStatus) -> dict[str, Any]:
    prefs = status.preferences
    refused = set(prefs.refused_channels) if prefs else set()
    first = prefs.inconvenient_times[0] if prefs and prefs.inconvenient_times else None
    return {
        "refuse_sms": "sms" in refused,
        "refuse_call": "call" in refused,
        "start": f"{first.start:%H:%M}" if first else "",
        "end": f"{first.end:%H:%M}" if first else "",
    }


async def home_values(services: Services, v: Visit, status: AccountStatus) -> dict[str, Any]:
    policy = services.policy
    today = datetime.now(UTC).astimezone(ZoneInfo(status.time_zone)).date()
    first = forms.plan_first_day(today)
    rules = policy.hardship
    assert v.session is not None
    return {
        "path": v.path,
        "status": status,
        "state": status.state.value,
        "paid": await paid_so_far(services, status),
        "itemization": itemization(services, status),
        "csrf_token": v.session.csrf_token,
        "keys": {
            name: access.new_form_key()
            for name in ("promise", "hardship", "dispute", "contact", "forbearance")
        },
        "promise_min": math.ceil(status.balance_minor * policy.promise.min_percent / 100),
        "promise_latest": (today + timedelta(days=policy.promise.max_days)).isoformat(),
        "today": today.isoformat(),
        "plan_choices": instalment_choices(
            rules.max_instalments, rules.max_days, status.balance_minor, first, today
        ),
        "hardship_categories": forms.HARDSHIP_CATEGORIES,
        "dispute_categories": forms.DISPUTE_CATEGORIES,
        "forbearance_kinds": forms.FORBEARANCE_KINDS,
        # Asked for only where the policy lets agents grant it (its `forbearance` section).
        "forbearance_offered": policy.forbearance is not None,
        "day_choices": forms.DAY_CHOICES,
        "prefs": _preferences(status),
        "max_files": services.settings.selfservice_max_files,
        "max_mb": f"{services.settings.selfservice_max_file_bytes / 1_048_576:g}",
    }
