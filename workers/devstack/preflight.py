"""What `overdue dev` checks and prepares before it starts anything: free ports, one stack per
state folder, the dev API key, the children's environment."""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from overdue.ports import port_is_free
from overdue.settings import Settings

DEV_API_KEY_FILE = "dev-api-key"
FAKE_TWILIO_TOKEN_FILE = "fake-twilio-token"  # noqa: S105  # a file name, not a token


class StartupError(Exception):
    """The stack cannot start; the message tells the user what to change."""


@dataclass(frozen=True)
class _PortSetting:
    label: str
    env_var: str
    host: str
    port: int


def check_ports(settings: Settings) -> str | None:
    """A precise message about the first port that is taken or configured twice, else None."""
    ports = [
        _PortSetting("Temporal gRPC", "OVERDUE_TEMPORAL_PORT", settings.temporal_host,
                     settings.temporal_port),
        _PortSetting("Temporal UI", "OVERDUE_TEMPORAL_UI_PORT", settings.temporal_host,
                     settings.temporal_ui_port),
        _PortSetting("API", "OVERDUE_API_PORT", settings.api_host, settings.api_port),
    ]  # fmt: skip
    if settings.dev_fake_twilio:
        ports.append(_PortSetting("fake Twilio", "OVERDUE_FAKE_TWILIO_PORT", "127.0.0.1",
                                  settings.fake_twilio_port))  # fmt: skip
    if settings.dev_fake_alibaba:
        ports.append(_PortSetting("fake Alibaba", "OVERDUE_FAKE_ALIBABA_PORT", "127.0.0.1",
                                  settings.fake_alibaba_port))  # fmt: skip
    for index, first in enumerate(ports):
        for second in ports[index + 1 :]:
            if first.port == second.port:
                return (
                    f"{first.env_var} and {second.env_var} are both {first.port}; "
                    "give each a different port"
                )
    for setting in ports:
        if not port_is_free(setting.port, setting.host):
            return (
                f"port {setting.port} ({setting.label}) on {setting.host} is already in use. "
                f"Set {setting.env_var} to a free port, or stop what is using it "
                "(another `overdue dev`?)"
            )
    return None


@contextlib.contextmanager
def state_dir_lock(state_dir: Path) -> Iterator[None]:
    """One `overdue dev` per state dir: two would share a SQLite file and a Postgres."""
    with (state_dir / "dev.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StartupError(f"another `overdue dev` is already using {state_dir}") from None
        yield


def dev_api_key(settings: Settings) -> str:
    """The dev stack's API key: the setting if given, else one kept in the state folder, so
    the key a developer exported survives restarts. Never used outside `overdue dev`."""
    return _kept_secret(settings, DEV_API_KEY_FILE, settings.dev_api_key)


def fake_twilio_token(settings: Settings) -> str:
    """The control token of the dev stack's fake Twilio, kept like the dev API key."""
    return _kept_secret(settings, FAKE_TWILIO_TOKEN_FILE, settings.fake_twilio_token)


def _kept_secret(settings: Settings, file_name: str, setting: SecretStr | None) -> str:
    path = settings.state_dir / file_name
    if setting is not None:
        key = setting.get_secret_value()
    elif path.exists():
        key = path.read_text(encoding="utf-8").strip()
    else:
        key = secrets.token_urlsafe(32)
    path.touch(mode=0o600)
    path.write_text(key + "\n", encoding="utf-8")  # the README's curl lines read it here
    return key


def child_environment(settings: Settings, database_url: str) -> dict[str, str]:
    """The worker's and API's environment: ours, plus every effective setting spelled out."""
    env = dict(os.environ)
    env.pop("OVERDUE_DATABASE_URL", None)  # DATABASE_URL below is the one that counts
    for name, value in settings.model_dump(exclude={"database_url"}).items():
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value is not None:
            env[f"OVERDUE_{name.upper()}"] = str(value)
    env["DATABASE_URL"] = database_url
    env["PYTHONUNBUFFERED"] = "1"  # their lines must reach us as they are written
    return env
