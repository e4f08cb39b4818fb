"""Schemathesis over /openapi.json against the running API: no 5xx, every answer as documented.

Bounded so the run stays short on two cores: a few positive and a few negative (schema-breaking)
examples per operation. The webhooks are left out: they answer only Twilio-signed requests and
have their own tests.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration

EXAMPLES_PER_MODE = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def fuzz(spec: dict[str, Any], base_url: str, api_key: str) -> tuple[int, list[str]]:
    """Run every operation's cases; return how many calls were made and the failures."""
    schema = schemathesis.openapi.from_dict(spec).exclude(path_regex="^/webhooks/")
    headers = {"Authorization": f"Bearer {api_key}"}
    failures: list[str] = []
    calls: list[int] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()  # the spec itself is valid
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            try:
                _fuzz_operation(result.ok(), mode, base_url, headers, failures, calls)
            except Unsatisfiable:
                # Nothing to break in an operation without inputs (e.g. /healthz).
                if mode is not schemathesis.GenerationMode.NEGATIVE:
                    raise
    return len(calls), failures


def _fuzz_operation(
    operation: schemathesis.APIOperation[Any, Any, Any, Any],
    mode: schemathesis.GenerationMode,
    base_url: str,
    headers: dict[str, str],
    failures: list[str],
    calls: list[int],
) -> None:
    @settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case[Any]) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        calls.append(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as err:  # a failed check, or a group of them
            failures.append(f"{operation.label} ({mode.value}): {err}")

    run()


async def test_every_operation_conforms_to_its_schema(stack: Stack) -> None:
    spec = (await stack.api.get("/openapi.json")).json()
    assert spec["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    # requests is synchronous: run it in a thread so the API keeps serving on this loop.
    calls, failures = await asyncio.to_thread(fuzz, spec, stack.settings.api_url, stack.api_key)
    assert not failures, "\n\n".join(failures[:5])
    assert calls >= 10 * EXAMPLES_PER_MODE  # every operation was really exercised
