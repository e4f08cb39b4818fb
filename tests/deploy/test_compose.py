"""docker-compose.yml, checked without a Docker engine: it must converge on `up` and agree with
the code (settings, commands, ports, search attributes, the dev stack's registration)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from overdue.settings import Settings
from workers.cli.main import build_parser
from workers.devstack.local_temporal import CLI_TYPE_NAMES
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
APP_SERVICES = {name for name, service in SERVICES.items() if "build" in service}
INIT_SCRIPT = (ROOT / "deploy" / "temporal" / "init.sh").read_text()
# Variables the app's processes read that are not settings: uvicorn's proxy allow-list.
NOT_SETTINGS = {"FORWARDED_ALLOW_IPS"}
# Columns Temporal's SQL (postgres12) visibility store has for custom attributes, per type.
SQL_VISIBILITY_SLOTS = {"Keyword": 10, "Int": 3, "Datetime": 3, "Double": 3, "Bool": 3, "Text": 3}
_DEFAULTED = re.compile(r"\$\{(\w+):-([^}]*)\}")


def defaults(value: str) -> str:
    """A compose value as `docker compose up` sees it with nothing exported."""
    return _DEFAULTED.sub(lambda m: m.group(2), value)


def environment(service: str) -> dict[str, str]:
    env = SERVICES[service].get("environment", {})
    assert isinstance(env, dict), f"{service}: environment as a mapping, please"
    return {key: defaults(str(value)) for key, value in env.items()}


def setting_variables() -> set[str]:
    return {
        "DATABASE_URL" if name == "database_url" else f"OVERDUE_{name.upper()}"
        for name in Settings.model_fields
    }


def settings_of(service: str) -> Settings:
    """The settings the service's process would read (validated like the real thing)."""
    env = environment(service)
    fields = {
        name: env[variable]
        for name in Settings.model_fields
        if (variable := "DATABASE_URL" if name == "database_url" else f"OVERDUE_{name.upper()}")
        in env
    }
    return Settings.model_validate(fields)


def test_the_stack_has_every_part() -> None:
    assert set(SERVICES) == {
        "temporal-db", "temporal-schema", "temporal", "temporal-init", "temporal-ui",
        "app-db", "migrate", "worker", "api", "prometheus",
    }  # fmt: skip
    assert APP_SERVICES == {"migrate", "worker", "api"}


def test_images_are_pinned_and_current() -> None:
    images = {name: s["image"] for name, s in SERVICES.items() if name not in APP_SERVICES}
    for name, image in images.items():
        repository, _, tag = image.partition(":")
        assert tag and tag != "latest", f"{name}: pin {repository} to a version"
        # auto-setup is deprecated: the schema comes from admin-tools, the server is plain.
        assert "auto-setup" not in repository, f"{name} uses the deprecated {repository}"
    assert images["temporal"].startswith("temporalio/server:")
    assert images["temporal-schema"] == images["temporal-init"]
    assert images["temporal-schema"].startswith("temporalio/admin-tools:")
    # Schema tools and server from the same release, so the schema is the one it expects.
    assert images["temporal"].split(":")[1] == images["temporal-schema"].split(":")[1]


def test_up_converges_without_a_manual_step() -> None:
    one_shots = {"temporal-schema", "temporal-init", "migrate"}
    for name, service in SERVICES.items():
        for target, how in service.get("depends_on", {}).items():
            assert target in SERVICES, f"{name} depends on unknown {target}"
            condition = how["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in SERVICES[target], f"{target} needs a healthcheck"
            else:
                assert condition == "service_completed_successfully", f"{name} -> {target}"
                assert target in one_shots, f"{target} never completes"
    for name in one_shots:
        assert str(SERVICES[name]["restart"]).startswith("on-failure"), name
    wanted = {
        "temporal-schema": {"temporal-db": "service_healthy"},
        "temporal": {"temporal-schema": "service_completed_successfully"},
        "temporal-init": {"temporal": "service_healthy"},
        "migrate": {"app-db": "service_healthy"},
        "worker": {"migrate": "service_completed_successfully",
                   "temporal-init": "service_completed_successfully"},
        "api": {"migrate": "service_completed_successfully",
                "temporal-init": "service_completed_successfully"},
    }  # fmt: skip
    for name, needs in wanted.items():
        got = {t: h["condition"] for t, h in SERVICES[name]["depends_on"].items()}
        assert got == needs, name
    # No cycle: every service starts after finitely many others.
    started: set[str] = set()
    while len(started) < len(SERVICES):
        ready = {
            n
            for n, s in SERVICES.items()
            if n not in started and set(s.get("depends_on", {})) <= started
        }
        assert ready, f"a dependency cycle among {set(SERVICES) - started}"
        started |= ready


def test_app_services_run_overdue_commands_with_real_settings() -> None:
    known = setting_variables()
    for name in APP_SERVICES:
        command = SERVICES[name]["command"]
        build_parser().parse_args(command)  # a real `overdue` subcommand (SystemExit if not)
        unknown = set(environment(name)) - known - NOT_SETTINGS
        assert not unknown, f"{name} sets {unknown}: not settings (docs/settings.md)"
        settings = settings_of(name)  # the values validate as the process would
        assert settings.log_format == "json"
    assert [SERVICES[n]["command"] for n in ("migrate", "worker", "api")] == [
        ["migrate"],
        ["worker"],
        ["api"],
    ]
    example = (ROOT / "deploy" / "overdue.env.example").read_text()
    mentioned = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    assert mentioned and mentioned <= known, mentioned - known


def test_addresses_and_ports_agree() -> None:
    api, worker = settings_of("api"), settings_of("worker")
    for settings in (api, worker, settings_of("migrate")):
        assert settings.temporal_host in SERVICES and settings.temporal_host == "temporal"
        published = f"127.0.0.1:{settings.temporal_port}:{settings.temporal_port}"
        assert published in SERVICES["temporal"]["ports"]
        database = urlsplit(settings.database_url or "")
        db_env = environment("app-db")
        assert database.hostname == "app-db" and database.port == 5432
        assert database.username == db_env["POSTGRES_USER"]
        assert database.password == db_env["POSTGRES_PASSWORD"]
        assert database.path == f"/{db_env['POSTGRES_DB']}"
    assert api.api_host == "0.0.0.0"  # noqa: S104 (inside its container: reachable by the proxy)
    assert f"127.0.0.1:{api.api_port}:{api.api_port}" in SERVICES["api"]["ports"]
    assert f"127.0.0.1:{api.api_port}/readyz" in " ".join(SERVICES["api"]["healthcheck"]["test"])
    assert worker.worker_metrics_address is not None
    metrics_port = worker.worker_metrics_address.rpartition(":")[2]
    assert worker.worker_metrics_address.startswith("0.0.0.0:")
    assert SERVICES["worker"]["expose"] == [metrics_port]
    assert f"127.0.0.1:{metrics_port}/metrics" in " ".join(
        SERVICES["worker"]["healthcheck"]["test"]
    )
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    (job,) = [j for j in scrape["scrape_configs"] if j["job_name"] == "overdue-worker"]
    assert job["dns_sd_configs"] == [{"names": ["worker"], "type": "A", "port": int(metrics_port)}]
    assert "ports" not in SERVICES["worker"]  # replicas would clash on a published port


def test_every_published_port_is_on_loopback_only() -> None:
    """Temporal's frontend and UI and Prometheus have no login; the API wants its TLS proxy.
    A port published as "7233:7233" is open on every interface of the host."""
    published = {
        name: [defaults(str(port)) for port in service.get("ports", [])]
        for name, service in SERVICES.items()
    }
    assert {name for name, ports in published.items() if ports} == {
        "temporal", "temporal-ui", "api", "prometheus",
    }  # fmt: skip
    for name, ports in published.items():
        for port in ports:
            host, _, container = port.rpartition(":")
            assert host.startswith("127.0.0.1:"), f"{name}: publish {port!r} as 127.0.0.1:..."
            assert container.isdigit()
    header = (ROOT / "docker-compose.yml").read_text().split("\nname:", 1)[0]
    assert "loopback" in header


def test_namespace_and_search_attributes_match_the_code_and_the_dev_stack() -> None:
    namespace = settings_of("worker").temporal_namespace
    assert environment("temporal-init")["NAMESPACE"] == namespace
    assert environment("temporal-ui")["TEMPORAL_DEFAULT_NAMESPACE"] == namespace
    registered = re.findall(r"^search_attribute (\w+) (\w+)$", INIT_SCRIPT, re.MULTILINE)
    # What the dev stack registers (workers.devstack.local_temporal), as the CLI spells types.
    expected = [(key.name, CLI_TYPE_NAMES[key.indexed_value_type]) for key in SEARCH_ATTRIBUTES]
    assert registered == expected
    # One `create` per attribute: the CLI registers only the first of several --name flags.
    creates = [line for line in INIT_SCRIPT.splitlines() if "search-attribute create" in line]
    assert len(creates) == 1 and len(re.findall(r"--name\s", creates[0])) == 1
    probe = INIT_SCRIPT[INIT_SCRIPT.index("temporal workflow count") :]
    assert all(key.name in probe for key in SEARCH_ATTRIBUTES)
    for type_name in {t for _, t in expected}:
        used = sum(1 for _, t in expected if t == type_name)
        assert used <= SQL_VISIBILITY_SLOTS[type_name], f"too many {type_name} attributes"


@pytest.mark.parametrize("script", ["setup-schema.sh", "init.sh"])
def test_scripts_are_posix_sh_that_parses(script: str) -> None:
    import subprocess

    path = ROOT / "deploy" / "temporal" / script
    result = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert path.read_text().startswith("#!/bin/sh\n") and "set -eu" in path.read_text()
    mounted = [v for s in SERVICES.values() for v in s.get("volumes", []) if "deploy/temporal" in v]
    assert mounted and all(v == "./deploy/temporal:/deploy:ro" for v in mounted)
    entrypoints = [shlex.join(s["entrypoint"]) for s in SERVICES.values() if "entrypoint" in s]
    assert f"/bin/sh /deploy/{script}" in entrypoints
