"""Who gets in, without servers: authentication before validation on every API-key route,
the headers every answer carries, /docs without a CDN, no `server:` header."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from api.app import create_app
from api.auth import AuthenticatedRoute, required_scopes
from overdue.settings import Settings
from workers.cli import main as cli


def _app(**settings: Any) -> FastAPI:
    # No lifespan runs under ASGITransport: nothing here may need the pool or Temporal.
    return create_app(Settings(**settings))


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


def _flat(routes: Sequence[BaseRoute]) -> Iterator[BaseRoute]:
    for route in routes:
        # FastAPI keeps an included router whole (its routes carry the router's prefix).
        included = getattr(route, "original_router", None)
        yield from _flat(included.routes) if included is not None else (route,)


def _keyed_routes(app: FastAPI) -> list[APIRoute]:
    return [
        route
        for route in _flat(app.routes)
        if isinstance(route, APIRoute) and required_scopes(route.dependant) is not None
    ]


def test_every_api_key_route_authenticates_first() -> None:
    routes = _keyed_routes(_app())
    assert len(routes) >= 10, "the account routes should all need a key"
    for route in routes:
        assert isinstance(route, AuthenticatedRoute), f"{route.path}: use AuthenticatedRoute"


async def test_a_stranger_with_a_malformed_body_gets_401_not_422() -> None:
    app = _app()
    async with _client(app) as http:
        for route in _keyed_routes(app):
            path = re.sub(r"\{[^}]+\}", "acc-1", route.path)
            for method in route.methods or ():
                answer = await http.request(
                    method,
                    path + "?limit=not-a-number",
                    content=b'{"not json',
                    headers={"Content-Type": "application/json"},
                )
                assert answer.status_code == 401, f"{method} {path}: {answer.text}"
                assert answer.headers["WWW-Authenticate"] == "Bearer"
                assert answer.headers["Content-Type"] == "application/problem+json"


async def test_answers_are_not_cached_or_sniffed_and_hsts_follows_the_public_url() -> None:
    async with _client(_app()) as http:
        answer = await http.get("/openapi.json")
        refused = await http.get("/v1/accounts")
    for each in (answer, refused):
        assert each.headers["Cache-Control"] == "no-store"
        assert each.headers["X-Content-Type-Options"] == "nosniff"
        assert "Strict-Transport-Security" not in each.headers
    async with _client(_app(public_base_url="https://overdue.example.com")) as http:
        answer = await http.get("/openapi.json")
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"
    async with _client(
        _app(public_base_url="https://overdue.example.com", hsts_max_age_seconds=0)
    ) as http:
        assert "Strict-Transport-Security" not in (await http.get("/healthz")).headers


async def test_docs_load_every_asset_from_the_api_itself() -> None:
    async with _client(_app()) as http:
        assert (await http.get("/redoc")).status_code == 404  # its bundle calls a CDN
        for page in ("/docs",):
            html = (await http.get(page)).text
            assets = re.findall(r'(?:src|href)=["\']([^"\']+)', html)
            assert assets, html
            for asset in assets:
                assert asset.startswith("/"), f"{page} loads {asset} from elsewhere"
                loaded = await http.get(asset)
                assert loaded.status_code == 200, asset
                assert "no-store" not in loaded.headers.get("Cache-Control", "")
            assert "cdn" not in html.lower()


def test_overdue_api_sends_no_server_header(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **options: seen.update(options))
    assert cli.main(["api"]) == 0
    assert seen["server_header"] is False
