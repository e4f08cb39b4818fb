"""Log lines cannot be forged or carry a path as sent: control characters are escaped in both
formats, tracebacks keep their lines indented, and the access log names the route."""

from __future__ import annotations

import io
import json
import logging
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI, HTTPException

from api.request_id import RequestIdMiddleware
from overdue.logs import TRACEBACK_INDENT, build_handler, escape_controls

FORGED = "x\nPOST /v1/accounts/a-1/payments -> 202 in 1 ms"
PHONE = "+8613800138000"


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain text, 中文", "plain text, 中文"),
        ("a\nb\rc\td", r"a\nb\rc\td"),
        ("\x1b[31mred\x7f\x00", r"\x1b[31mred\x7f\x00"),
        ("next\x85line\u2028sep\u2029para", r"next\x85line\u2028sep\u2029para"),
    ],
)
def test_control_characters_are_escaped(raw: str, escaped: str) -> None:
    assert escape_controls(raw) == escaped


def _logged(fmt: str, message: str, *args: object, exc: BaseException | None = None) -> str:
    stream = io.StringIO()
    logger = logging.getLogger(f"tests.escaping.{fmt}")
    logger.propagate = False
    handler = build_handler(fmt, stream)  # type: ignore[arg-type]
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    try:
        if exc is None:
            logger.info(message, *args)
        else:
            try:
                raise exc
            except type(exc):
                logger.exception(message, *args)
    finally:
        logger.handlers = []
    return stream.getvalue()


def test_a_newline_in_a_value_cannot_start_a_text_line() -> None:
    out = _logged("text", "GET %s -> %d", FORGED, 401)
    assert out.count("\n") == 1  # one record, one line
    assert r"x\nPOST /v1/accounts/a-1/payments -> 202" in out


def test_a_traceback_keeps_its_lines_but_none_reads_as_a_record() -> None:
    out = _logged("text", "failed", exc=ValueError(FORGED))
    first, *rest = out.rstrip("\n").split("\n")
    assert first.endswith("failed") and len(rest) >= 3
    assert all(line.startswith(TRACEBACK_INDENT) for line in rest)
    assert f"\n{TRACEBACK_INDENT}POST /v1/accounts/a-1/payments" in out  # inside the traceback


def test_json_lines_escape_the_message_too() -> None:
    out = _logged("json", "GET %s", FORGED)
    assert out.count("\n") == 1
    assert json.loads(out)["message"] == r"GET x\nPOST /v1/accounts/a-1/payments -> 202 in 1 ms"


def _refuse() -> None:
    raise HTTPException(status_code=401, detail="no key")


def _app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestIdMiddleware)

    @app.get("/v1/accounts/{account_id}")
    async def account(account_id: str, _key: Annotated[None, Depends(_refuse)]) -> str:
        return account_id

    return app


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        (f"/v1/accounts/{PHONE}", "GET /v1/accounts/{account_id} -> 401"),
        (f"/v1/{PHONE}/accounts", "GET /v1/{?}/accounts -> 404"),
        ("/v1/accounts/a-1/x%0aPOST%20%2Fv1%2Fforged%20-%3E%20202", "GET /v1/accounts/{?}/{?}"),
    ],
)
async def test_the_access_log_names_the_route_not_the_path_sent(
    path: str, logged: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="api.access")
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        await client.get(path)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "api.access"]
    assert line.startswith(logged), line
    assert PHONE not in line and "forged" not in line and "\n" not in line
