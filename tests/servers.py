"""Temporal's time-skipping test server, started the one way tests and bench/cost.py need it."""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from bench.common import venv_binary
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES


async def start_time_skipping() -> WorkflowEnvironment:
    """A new server (about 0.15 s), from the pinned package: nothing is downloaded. It knows
    no custom search attributes until they are registered, so they are registered here."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=venv_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={
                key.name: IndexedValueType.ValueType(key.indexed_value_type)
                for key in SEARCH_ATTRIBUTES
            },
        )
    )
    return env
