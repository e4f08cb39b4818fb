"""The Temporal client every process uses: one place for the address, the credentials (TLS,
mTLS, an API key, so a locked-down cluster or Temporal Cloud works) and the data converter."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import PayloadCodec
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from overdue.metrics import SignalStampingInterceptor
from overdue.settings import ConfigurationError, Settings


def _pem(path: Path | None, variable: str) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as err:
        raise ConfigurationError(f"{variable}: cannot read {path}: {err.strerror}") from err


def tls_config(settings: Settings) -> TLSConfig | bool:
    """What `Client.connect(tls=...)` gets: False (plain, the dev server), True (system CAs,
    e.g. Temporal Cloud with an API key) or the files for a private CA and mTLS. Files are read
    here, at start, so a wrong path stops the process with the variable's name."""
    if not settings.temporal_uses_tls:
        return False
    config = TLSConfig(
        server_root_ca_cert=_pem(
            settings.temporal_tls_server_ca_file, "OVERDUE_TEMPORAL_TLS_SERVER_CA_FILE"
        ),
        client_cert=_pem(
            settings.temporal_tls_client_cert_file, "OVERDUE_TEMPORAL_TLS_CLIENT_CERT_FILE"
        ),
        client_private_key=_pem(
            settings.temporal_tls_client_key_file, "OVERDUE_TEMPORAL_TLS_CLIENT_KEY_FILE"
        ),
        domain=settings.temporal_tls_server_name,
    )
    return True if config == TLSConfig() else config


async def connect(
    settings: Settings,
    runtime: Runtime | None = None,
    *,
    lazy: bool = False,
    payload_codec: PayloadCodec | None = None,
) -> Client:
    """A client for the configured namespace. Its signals carry their send time, for the
    workers' signal-to-effect latency metric; `runtime` is the worker's metrics runtime.
    `lazy` connects on the first call instead (a process that must start while Temporal is
    down: the API). `payload_codec`: the worker's (workers/policy_codec.py)."""
    api_key = settings.temporal_api_key
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        api_key=api_key.get_secret_value() if api_key is not None else None,
        tls=tls_config(settings),
        data_converter=dataclasses.replace(pydantic_data_converter, payload_codec=payload_codec),
        interceptors=[SignalStampingInterceptor()],
        runtime=runtime,
        lazy=lazy,
    )
