"""What request handlers share: the pool, the Temporal client, the policy for new accounts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import asyncpg
from fastapi import Depends, Request
from temporalio.client import Client

from api.policy_versions_seen import PolicyVersionsSeen
from overdue.settings import Settings
from workflows.policy import Policy


@dataclass(frozen=True)
class Services:
    settings: Settings
    pool: asyncpg.Pool
    temporal: Client
    policy: Policy
    policy_versions_seen: PolicyVersionsSeen = field(default_factory=PolicyVersionsSeen)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
