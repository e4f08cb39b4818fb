"""Settings: defaults, environment variables, clear errors, and a reference that stays complete."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from overdue.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_are_the_dev_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings()
    assert (settings.temporal_port, settings.temporal_ui_port, settings.api_port) == (
        7233,
        8233,
        8000,
    )
    assert settings.state_dir == ROOT / ".state"
    assert settings.database_url is None
    assert settings.policy_file == ROOT / "policies" / "default.yaml"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db:5432/x")
    monkeypatch.setenv("OVERDUE_API_PORT", "9000")
    monkeypatch.setenv("OVERDUE_STATE_DIR", str(tmp_path))
    settings = Settings()
    assert settings.database_url == "postgresql://u@db:5432/x"
    assert settings.api_url == "http://127.0.0.1:9000"
    assert settings.temporal_db_file == tmp_path / "temporal.sqlite"


def test_bad_values_name_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERDUE_API_PORT", "99999")
    with pytest.raises(ValidationError, match="api_port"):
        Settings()


def test_missing_database_url_explains_what_to_do(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("OVERDUE_STATE_DIR", str(tmp_path))
    with pytest.raises(RuntimeError, match="overdue dev"):
        Settings().require_database_url()


def test_a_running_dev_stack_postgres_is_found_without_database_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("OVERDUE_STATE_DIR", str(tmp_path))
    data = tmp_path / "postgres"
    data.mkdir()
    # postmaster.pid as Postgres writes it: pid, data dir, start time, port, socket dir, ...
    pid_file = f"{os.getpid()}\n{data}\n0\n5432\n/tmp/sock\n\n0 0\nready\n"
    (data / "postmaster.pid").write_text(pid_file)
    assert Settings().require_database_url() == "postgresql://postgres:@/overdue?host=/tmp/sock"


def test_every_setting_is_documented() -> None:
    reference = (ROOT / "docs" / "settings.md").read_text()
    for name in Settings.model_fields:
        variable = "DATABASE_URL" if name == "database_url" else f"OVERDUE_{name.upper()}"
        assert f"`{variable}`" in reference, f"{variable} missing from docs/settings.md"
