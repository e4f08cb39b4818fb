"""The `{link}` placeholder: a signed self-service link, minted when an SMS is rendered.

The token is 16 random bytes (`secrets.token_urlsafe`, 22 characters); Postgres keeps only its
SHA-256 (`overdue.store.selfservice_links`), scoped to the account and the episode the contact
attempt belongs to, expiring after `OVERDUE_SELFSERVICE_LINK_DAYS`. The URL carries nothing
else: no account id, no name, no number.

Exactly once per contact attempt: the body is rendered once, when the attempt's ledger row is
written, and every retry sends the body the row keeps, so the same attempt always carries the
same link. A render whose row loses a race to a concurrent writer leaves a link row nobody was
sent; it expires unused.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from overdue.settings import Settings
from overdue.store import selfservice_links
from overdue.store.selfservice_links import LINK_PATH, token_hash
from overdue.store.transactions import Db
from workflows.contact_types import SendSmsInput
from workflows.policy import template_placeholders

LINK_FIELD = "link"
TOKEN_BYTES = 16


@dataclass(frozen=True)
class LinkConfig:
    public_url: str  # scheme and host the borrower's phone reaches, no trailing slash
    lifetime: timedelta


_config: LinkConfig | None = None


def link_config_from(settings: Settings) -> LinkConfig:
    return LinkConfig(
        public_url=settings.public_url.rstrip("/"),
        lifetime=timedelta(days=settings.selfservice_link_days),
    )


def use_link_config(config: LinkConfig | None) -> None:
    """Set by the worker at start (None: read the settings when first needed)."""
    global _config
    _config = config


def link_config() -> LinkConfig:
    global _config
    if _config is None:
        _config = link_config_from(Settings())
    return _config


def episode_of(input: SendSmsInput) -> str:
    """The episode in the attempt's key (`account/episode/stage/attempt`)."""
    head = input.idempotency_key.removeprefix(f"{input.account_id}/")
    return head.split("/", 1)[0]


def wants_link(text: str) -> bool:
    return LINK_FIELD in template_placeholders(text)


async def mint_link(db: Db, input: SendSmsInput) -> str:
    """A new link for the attempt, stored (hashed) before the body that carries it."""
    config = link_config()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    await selfservice_links.store_link(
        db,
        token_hash(token),
        account_id=input.account_id,
        episode_id=episode_of(input),
        attempt_key=input.idempotency_key,
        lifetime=config.lifetime,
    )
    return f"{config.public_url}{LINK_PATH}{token}"
