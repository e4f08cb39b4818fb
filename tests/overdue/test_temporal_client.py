"""The Temporal client's credentials: plain for the dev server, TLS, mTLS and API keys for a
locked-down cluster or Temporal Cloud, with errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from temporalio.service import TLSConfig

from overdue.settings import ConfigurationError, Settings
from overdue.temporal_client import tls_config


def test_the_dev_server_is_plain() -> None:
    assert tls_config(Settings()) is False


@pytest.mark.parametrize(
    "setting",
    [
        {"temporal_tls": True},
        {"temporal_api_key": "cloud-key"},  # Temporal Cloud: system CAs and a key
    ],
)
def test_tls_with_system_roots(setting: dict[str, object]) -> None:
    assert tls_config(Settings.model_validate(setting)) is True


def test_mtls_reads_the_files_at_start(tmp_path: Path) -> None:
    files = {name: tmp_path / f"{name}.pem" for name in ("ca", "cert", "key")}
    for name, path in files.items():
        path.write_bytes(f"-----{name}-----".encode())
    settings = Settings(
        temporal_tls_server_ca_file=files["ca"],
        temporal_tls_client_cert_file=files["cert"],
        temporal_tls_client_key_file=files["key"],
        temporal_tls_server_name="temporal.internal",
    )
    assert tls_config(settings) == TLSConfig(
        server_root_ca_cert=b"-----ca-----",
        client_cert=b"-----cert-----",
        client_private_key=b"-----key-----",
        domain="temporal.internal",
    )
    assert "cloud" not in repr(Settings(temporal_api_key="cloud-key"))  # a secret


def test_a_missing_file_names_its_variable(tmp_path: Path) -> None:
    settings = Settings(temporal_tls_server_ca_file=tmp_path / "absent.pem")
    with pytest.raises(ConfigurationError, match="OVERDUE_TEMPORAL_TLS_SERVER_CA_FILE"):
        tls_config(settings)


def test_a_client_certificate_needs_its_key(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="OVERDUE_TEMPORAL_TLS_CLIENT_KEY_FILE"):
        Settings(temporal_tls_client_cert_file=tmp_path / "cert.pem")
