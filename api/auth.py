"""Bearer API keys with scopes for the backend API.

`Authorization: Bearer <key>`. No key, or a key we do not know: 401 with
`WWW-Authenticate: Bearer`. A known key without the operation's scope: 403. Keys are looked up
by their SHA-256 (see overdue.store.api_keys). `OVERDUE_DEV_API_KEY`, when set, is accepted with
every scope, for the dev stack only.

Authentication comes first: routers of authenticated operations use `AuthenticatedRoute`, which
checks the key and its scopes before FastAPI reads, parses or validates anything else of the
request, so a caller without a key learns nothing from 422s about the bodies we accept.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response, Security
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes

from api.dependencies import ServicesDep, get_services
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


async def authenticate(
    request: Request, credentials: HTTPAuthorizationCredentials | None, scopes: Sequence[str]
) -> ApiClient:
    """The caller, or a 401 (no or unknown key) or 403 (a scope missing) problem."""
    if credentials is None:
        raise _unauthorized("send an API key as `Authorization: Bearer <key>`")
    services = get_services(request)
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
    missing = sorted(set(scopes) - client.scopes)
    if missing:
        challenge = f'Bearer error="insufficient_scope", scope="{" ".join(missing)}"'
        raise Problem(
            403,
            "Forbidden",
            f"the API key {client.key_name!r} lacks the scope {', '.join(missing)}",
            headers={"WWW-Authenticate": challenge},
        )
    return client


async def api_client(
    request: Request,
    security_scopes: SecurityScopes,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    _services: ServicesDep,
) -> ApiClient:
    # AuthenticatedRoute has already checked this request (with these scopes).
    checked: ApiClient | None = getattr(request.state, "api_client", None)
    if checked is not None and set(security_scopes.scopes) <= checked.scopes:
        return checked
    return await authenticate(request, credentials, security_scopes.scopes)


def required_scopes(dependant: Dependant) -> list[str] | None:
    """The scopes an operation's `api_client` dependency asks for; None: no API key needed."""
    for sub in dependant.dependencies:
        if sub.call is api_client:
            return [*(sub.parent_oauth_scopes or []), *(sub.own_oauth_scopes or [])]
        found = required_scopes(sub)
        if found is not None:
            return found
    return None


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class AuthenticatedRoute(APIRoute):
    """A route that authenticates (401/403) before its body is read, parsed or validated:
    FastAPI parses JSON before it solves dependencies, so a dependency alone answers a
    malformed body from a stranger with a 422."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        scopes = required_scopes(self.dependant)
        if scopes is None:
            return handler

        async def authenticated_first(request: Request) -> Response:
            request.state.api_client = await authenticate(request, await bearer(request), scopes)
            return await handler(request)

        return authenticated_first


ReadAccounts = Annotated[ApiClient, Security(api_client, scopes=[Scope.ACCOUNTS_READ])]
WriteAccounts = Annotated[ApiClient, Security(api_client, scopes=[Scope.ACCOUNTS_WRITE])]
WritePayments = Annotated[ApiClient, Security(api_client, scopes=[Scope.PAYMENTS_WRITE])]
ErasePersonalData = Annotated[ApiClient, Security(api_client, scopes=[Scope.PRIVACY_ERASE])]
AccessPersonalData = Annotated[ApiClient, Security(api_client, scopes=[Scope.PRIVACY_ACCESS])]
