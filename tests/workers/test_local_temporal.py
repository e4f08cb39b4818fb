"""The Temporal dev server: starts on free ports, registers the search attributes, stops cleanly."""

from __future__ import annotations

from pathlib import Path

import httpx
import psutil
import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey

from overdue.ports import free_tcp_ports
from workers.devstack import local_temporal
from workers.devstack.local_temporal import (
    TemporalDevServer,
    TemporalStartError,
    register_search_attributes,
)
from workflows.search_attributes import ALL

pytestmark = pytest.mark.integration


async def _custom_attributes(server: TemporalDevServer) -> dict[str, int]:
    client = await Client.connect(server.address, namespace=server.namespace)
    response = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=server.namespace)
    )
    return dict(response.custom_attributes)


def _expected() -> dict[str, int]:
    return {key.name: IndexedValueType.ValueType(key.indexed_value_type) for key in ALL}


async def test_in_memory_server_registers_search_attributes_and_stops() -> None:
    server = TemporalDevServer.on_free_ports()
    async with server:
        assert server.pid is not None
        pid = server.pid
        custom = await _custom_attributes(server)
        assert {name: custom.get(name) for name in _expected()} == _expected()
        async with httpx.AsyncClient() as http:
            assert (await http.get(server.ui_url)).status_code == 200
        # Registering again is a no-op, as on every `overdue dev` start.
        await register_search_attributes(server.address, server.namespace)
        # The same name with another type is an error worth seeing.
        with pytest.raises(TemporalStartError, match="OverdueState"):
            await register_search_attributes(
                server.address, server.namespace, [SearchAttributeKey.for_int("OverdueState")]
            )
    assert not psutil.pid_exists(pid)


async def test_db_file_keeps_search_attributes_across_restarts(tmp_path: Path) -> None:
    db_file = tmp_path / "temporal.sqlite"
    extra = SearchAttributeKey.for_keyword("AddedLater")
    async with TemporalDevServer.on_free_ports(db_file=db_file) as server:
        assert db_file.exists()
    restarted = TemporalDevServer.on_free_ports(db_file=db_file)
    restarted.search_attributes = (*ALL, extra)  # as if a release added one
    async with restarted:
        custom = await _custom_attributes(restarted)
    assert set(_expected()) | {"AddedLater"} <= set(custom)
    assert server.pid != restarted.pid


async def test_a_taken_port_fails_fast() -> None:
    async with TemporalDevServer.on_free_ports() as server:
        clash = TemporalDevServer(port=server.port, ui_port=server.ui_port + 1)
        with pytest.raises(TemporalStartError, match=f"port {server.port} .* already in use"):
            await clash.start()
        assert clash.pid is None


async def test_start_failure_reports_the_server_output() -> None:
    port, ui_port = free_tcp_ports(2)
    server = TemporalDevServer(port=port, ui_port=ui_port, log_level="nonsense")
    with pytest.raises(TemporalStartError, match=r"(?s)exited during start-up.*nonsense"):
        await server.start()
    assert server.pid is not None
    assert not psutil.pid_exists(server.pid)


async def test_a_dropped_connection_is_asked_again_and_a_refusal_is_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server that has just started may reset the CLI's first connection ("EOF"): the
    idempotent create is asked again. A refusal (another type) is final at once."""
    answers = [(1, "Error: unable to add search attributes: error reading from server: EOF")]
    answers += [(0, "Search attributes have been added")]
    calls: list[list[str]] = []

    async def run_cli(argv: list[str], name: str, seconds: float) -> tuple[int, str]:
        calls.append(argv)
        return answers.pop(0)

    monkeypatch.setattr(local_temporal, "_run_cli", run_cli)
    monkeypatch.setattr(local_temporal, "RETRY_SECONDS", 0.0)
    await local_temporal._create_search_attribute("a:1", "default", "X", "Keyword", 1.0)
    assert len(calls) == 2 and not answers

    calls.clear()
    answers[:] = [(1, "Error: search attribute X already exists and has different type")] * 3
    with pytest.raises(TemporalStartError, match="different type"):
        await local_temporal._create_search_attribute("a:1", "default", "X", "Keyword", 1.0)
    assert len(calls) == 1

    calls.clear()
    answers[:] = [(1, "Error: error reading from server: EOF")] * 3
    with pytest.raises(TemporalStartError, match="EOF"):
        await local_temporal._create_search_attribute("a:1", "default", "X", "Keyword", 1.0)
    assert len(calls) == local_temporal.ATTEMPTS
