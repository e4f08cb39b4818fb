"""Local TCP ports: free ones, and whether one is."""

from __future__ import annotations

import socket
from pathlib import Path

from overdue.ports import (
    DEFAULT_EPHEMERAL_START,
    candidate_ports,
    ephemeral_start,
    free_tcp_ports,
    port_is_free,
)


def test_free_tcp_ports_are_distinct_and_free() -> None:
    ports = free_tcp_ports(3)
    assert len(set(ports)) == 3
    assert all(port_is_free(port) for port in ports)


def test_port_is_free_sees_a_listener() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert not port_is_free(listener.getsockname()[1])


def test_free_ports_come_from_below_the_kernels_ephemeral_range() -> None:
    # Binding port 0 (the Temporal dev server's internal services) never hands these out.
    start = ephemeral_start()
    assert all(port < start for port in free_tcp_ports(5))


def test_the_ephemeral_range_is_read_from_the_kernel_or_defaults(tmp_path: Path) -> None:
    range_file = tmp_path / "ip_local_port_range"
    range_file.write_text("40000\t60999\n")
    assert ephemeral_start(range_file) == 40000
    assert candidate_ports(range_file) == range(20000, 40000)
    range_file.write_text("garbage\n")
    assert ephemeral_start(range_file) == DEFAULT_EPHEMERAL_START
    assert ephemeral_start(tmp_path / "missing") == DEFAULT_EPHEMERAL_START
    # A range that starts low still leaves a thousand ports to draw from.
    range_file.write_text("15000 60999\n")
    assert candidate_ports(range_file) == range(10000, 15000)
