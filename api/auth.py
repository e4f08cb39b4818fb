"""Bearer API keys with scopes for the backend API.

`Authorization: Bearer <key>`. No key, or a key we do not know: 401 with
`WWW-Authenticate: Bearer`. A known key without the operation's scope: 403. Keys are looked up
by their SHA-256 (see overdue.store.api_keys). `OVERDUE_DEV_API_KEY`, when set, is accepted with
every scope, for the dev stack only.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes

from api.dependencies import ServicesDep
from api.problems import Problem
from overdue.store.api_keys import ALL_SCOPES, Scope, find_active_key

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `overdue api-keys add`, as `Authorization: Bearer <key>`.",
)
DEV_KEY_NAME = "dev"


@dataclass(frozen=True)
class ApiClient:
    """Who is calling: the key's name (recorded as the actor of what it reports)."""

    key_name: str
    scopes: frozenset[Scope]

    @property
    def actor(self) -> str:
        return f"api:{self.key_name}"


def _unauthorized(detail: str, error: str | None = None) -> Problem:
    challenge = "Bearer" if error is None else f'Bearer error="{error}"'
    return Problem(401, "Unauthorized", detail, headers={"WWW-Authenticate": challenge})


async def api_client(
    security_scopes: SecurityScopes,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    services: ServicesDep,
) -> ApiClient:
    if credentials is None:
        raise _unauthorized("send an API key as `Authorization: Bearer <key>`")
    key = credentials.credentials
    client: ApiClient | None = None
    dev_key = services.settings.dev_api_key
    if dev_key is not None and hmac.compare_digest(
        key.encode(), dev_key.get_secret_value().encode()
    ):
        client = ApiClient(key_name=DEV_KEY_NAME, scopes=ALL_SCOPES)
    else:
        found = await find_active_key(services.pool, key)
        if found is not None:
            client = ApiClient(key_name=found.name, scopes=found.scopes)
    if client is None:
        raise _unauthorized("the API key is unknown or revoked", error="invalid_token")
    missing = sorted(set(security_scopes.scopes) - client.scopes)
    if missing:
        challenge = f'Bearer error="insufficient_scope", scope="{" ".join(missing)}"'
        raise Problem(
            403,
            "Forbidden",
            f"the API key {client.key_name!r} lacks the scope {', '.join(missing)}",
            headers={"WWW-Authenticate": challenge},
        )
    return client


ReadAccounts = Annotated[ApiClient, Security(api_client, scopes=[Scope.ACCOUNTS_READ])]
WriteAccounts = Annotated[ApiClient, Security(api_client, scopes=[Scope.ACCOUNTS_WRITE])]
WritePayments = Annotated[ApiClient, Security(api_client, scopes=[Scope.PAYMENTS_WRITE])]
