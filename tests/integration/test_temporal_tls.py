"""The product's Temporal client over TLS and mTLS, end to end: a TLS front (the way a locked-down
cluster's frontend or a load balancer terminates it) that requires a client certificate from
our test CA, in front of the real dev server. The client connects only with the settings."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme

from overdue.settings import Settings
from overdue.temporal_client import connect
from workers.devstack.local_temporal import TemporalDevServer

pytestmark = pytest.mark.integration

SERVER_NAME = "temporal.internal"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, ssl.SSLError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(ConnectionError, ssl.SSLError, OSError):
        writer.close()


@contextlib.asynccontextmanager
async def tls_front(ca: trustme.CA, temporal: TemporalDevServer) -> AsyncIterator[int]:
    """A port that speaks TLS (HTTP/2, client certificate required) and forwards to Temporal."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(SERVER_NAME).configure_cert(context)
    ca.configure_trust(context)
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])
    tasks: set[asyncio.Task[None]] = set()

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(
            temporal.host, temporal.port
        )
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))

    def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(forward(reader, writer))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _files(ca: trustme.CA, tmp_path: Path) -> dict[str, Path]:
    client = ca.issue_cert("overdue-worker")
    files = {"ca": tmp_path / "ca.pem", "cert": tmp_path / "client.pem", "key": tmp_path / "key"}
    ca.cert_pem.write_to_path(str(files["ca"]))
    client.cert_chain_pems[0].write_to_path(str(files["cert"]))
    client.private_key_pem.write_to_path(str(files["key"]))
    return files


async def test_mtls_with_the_settings_only(
    temporal_dev_server: TemporalDevServer, tmp_path: Path
) -> None:
    ca = trustme.CA()
    files = _files(ca, tmp_path)
    async with tls_front(ca, temporal_dev_server) as port:
        base = {
            "temporal_host": "127.0.0.1",
            "temporal_port": port,
            "temporal_namespace": temporal_dev_server.namespace,
            "temporal_tls_server_ca_file": files["ca"],
            "temporal_tls_server_name": SERVER_NAME,
        }
        client_cert = {
            "temporal_tls_client_cert_file": files["cert"],
            "temporal_tls_client_key_file": files["key"],
        }
        client = await connect(Settings.model_validate(base | client_cert))
        assert await client.count_workflows() is not None  # a real call through TLS

        # Without a client certificate the front refuses the handshake.
        with pytest.raises(RuntimeError):
            await asyncio.wait_for(connect(Settings.model_validate(base)), 30)
        # A server certificate from a CA we do not trust is refused by the client.
        (tmp_path / "other").mkdir()
        other = _files(trustme.CA(), tmp_path / "other")
        untrusted = base | client_cert | {"temporal_tls_server_ca_file": other["ca"]}
        with pytest.raises(RuntimeError):
            await asyncio.wait_for(connect(Settings.model_validate(untrusted)), 30)
