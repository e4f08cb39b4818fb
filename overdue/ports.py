"""Local TCP ports: is one free, and which are (the metrics endpoint, the dev stack, tests).

A port chosen now is bound later, by another process. If it came from the kernel's ephemeral
range (what binding port 0 hands out), any process that binds port 0 or opens a connection in
between can take it: the Temporal dev server alone binds half a dozen such ports for its
internal services, and once one of them landed on the API's port (EADDRINUSE, CI of stop 28).
So ports are chosen below that range, where the kernel never hands one out by itself; only
another chooser like this one could collide, and each draws at random from thousands.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
DEFAULT_EPHEMERAL_START = 32768  # Linux's default when the file cannot be read
LOWEST = 20000  # above the well-known and most registered service ports


def ephemeral_start(range_file: Path = EPHEMERAL_RANGE_FILE) -> int:
    """The first port of the kernel's ephemeral range."""
    try:
        return int(range_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return DEFAULT_EPHEMERAL_START


def candidate_ports(range_file: Path = EPHEMERAL_RANGE_FILE) -> range:
    """Where free ports are drawn from: below the ephemeral range (from 10000 if it starts low)."""
    start = ephemeral_start(range_file)
    lowest = LOWEST if start > LOWEST + 1000 else 10000
    return range(lowest, max(start, lowest + 1000))


def free_tcp_ports(count: int = 1, host: str = "127.0.0.1") -> list[int]:
    """Distinct ports free right now, outside the ephemeral range (all held until all are bound)."""
    candidates = candidate_ports()
    sockets: list[socket.socket] = []
    try:
        # Random draws keep two choosers in one run (tests, bench) from walking the same ports.
        for port in random.sample(candidates, len(candidates)):
            if len(sockets) == count:
                break
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind((host, port))
            except OSError:
                sock.close()
                continue
            sockets.append(sock)
        if len(sockets) < count:
            raise OSError(f"fewer than {count} free TCP ports in {candidates} on {host}")
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on host:port (TIME_WAIT counts as free, as it does for servers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
