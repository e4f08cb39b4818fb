"""Local TCP ports: free ones, and whether one is."""

from __future__ import annotations

import socket

from overdue.ports import free_tcp_ports, port_is_free


def test_free_tcp_ports_are_distinct_and_free() -> None:
    ports = free_tcp_ports(3)
    assert len(set(ports)) == 3
    assert all(port_is_free(port) for port in ports)


def test_port_is_free_sees_a_listener() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert not port_is_free(listener.getsockname()[1])
