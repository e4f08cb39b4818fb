"""`overdue dev` end to end: ready banner, clean Ctrl-C, and data that survives a restart."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from overdue.ports import free_tcp_ports
from tests.clock import zone_where_it_is
from workers.devstack.local_temporal import find_temporal_binary
from workers.devstack.stack import READY_BANNER
from workflows.search_attributes import ALL

pytestmark = pytest.mark.integration

READY_WITHIN = 90.0
PROBE_WORKFLOW_ID = "devstack-probe"

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class DevRun:
    """One `overdue dev` process and everything it printed so far."""

    process: asyncio.subprocess.Process
    started_at: float
    lines: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def read_output(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    async def wait_for(self, text: str, within: float) -> float:
        """Seconds from start until a line containing `text` appeared."""
        deadline = time.monotonic() + within
        while not any(text in line for line in self.lines):
            if self.process.returncode is not None or time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} from `overdue dev`; output:\n{self.output}")
            await asyncio.sleep(0.1)
        return time.monotonic() - self.started_at

    def banner_value(self, label: str) -> str:
        """The value of a `[dev]   Label   value` line of the ready banner."""
        for line in self.lines:
            rest = line.removeprefix("[dev]").strip()
            if line.startswith("[dev]") and rest.startswith(f"{label}  "):
                return rest[len(label) :].strip()
        raise AssertionError(f"no {label} line in the banner:\n{self.output}")

    def started_pids(self) -> set[int]:
        """The launcher, its descendants, and the (daemonized) postmaster and its backends."""
        launcher = psutil.Process(self.process.pid)
        pids = {launcher.pid} | {child.pid for child in launcher.children(recursive=True)}
        postmaster_pid = int(self.postmaster_pid_file().read_text().split("\n", 1)[0])
        postmaster = psutil.Process(postmaster_pid)
        return pids | {postmaster.pid} | {p.pid for p in postmaster.children(recursive=True)}

    def postmaster_pid_file(self) -> Path:
        return Path(self.banner_value("State")) / "postgres" / "postmaster.pid"


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.add(pid)
    return alive


@pytest.fixture
def dev_env(tmp_path: Path) -> dict[str, str]:
    temporal_port, ui_port, api_port, fake_twilio_port = free_tcp_ports(4)
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "NO_COLOR"}}
    env.pop("OVERDUE_DATABASE_URL", None)
    env |= {
        "OVERDUE_STATE_DIR": str(tmp_path / "state"),
        "OVERDUE_TEMPORAL_PORT": str(temporal_port),
        "OVERDUE_TEMPORAL_UI_PORT": str(ui_port),
        "OVERDUE_API_PORT": str(api_port),
        "OVERDUE_FAKE_TWILIO_PORT": str(fake_twilio_port),
    }
    return env


@contextlib.asynccontextmanager
async def overdue_dev(env: dict[str, str], cwd: Path) -> AsyncIterator[DevRun]:
    """Run `overdue dev` until ready; on the way out, make sure nothing it started survives."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "workers.cli.main",
        "dev",
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # like a terminal's job: SIGINT goes to the launcher only
    )
    run = DevRun(process=process, started_at=time.monotonic())
    run.reader = asyncio.create_task(run.read_output())
    pids: set[int] = set()
    try:
        await run.wait_for(READY_BANNER, READY_WITHIN)
        # The banner arrives line by line: read on only once its last line is in.
        await run.wait_for("Ctrl-C stops everything.", 10)
        pids = run.started_pids()
        yield run
    finally:
        if process.returncode is None:  # the test failed midway: do not leave a stack behind
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
        for pid in _alive(pids):
            with contextlib.suppress(psutil.NoSuchProcess):
                psutil.Process(pid).kill()
        await run.reader


async def stop_with_ctrl_c(run: DevRun) -> None:
    pids = run.started_pids()
    assert len(pids) >= 5, run.output  # launcher, temporal, worker, api, postmaster
    run.process.send_signal(signal.SIGINT)
    returncode = await asyncio.wait_for(run.process.wait(), 60)
    assert run.reader is not None
    await run.reader
    assert returncode == 0, run.output
    for _ in range(50):  # stopped processes may take a moment to disappear
        if not _alive(pids):
            break
        await asyncio.sleep(0.1)
    assert not _alive(pids), f"left running: {_alive(pids)}\n{run.output}"


async def registered_search_attributes(address: str) -> set[str]:
    cli = await asyncio.create_subprocess_exec(
        find_temporal_binary(),
        *("operator", "search-attribute", "list", "--address", address, "-o", "json"),
        stdout=asyncio.subprocess.PIPE,
    )
    output, _ = await cli.communicate()
    assert cli.returncode == 0
    return set(json.loads(output)["customAttributes"])


async def sms_is_delivered_through_the_fake(
    http: httpx.AsyncClient, api_url: str, key: str
) -> None:
    auth = {"Authorization": f"Bearer {key}"}
    body = {
        "customer": {
            "name": "Wang Fang",
            "phone": "+8613800138002",
            "time_zone": zone_where_it_is(12),  # inside the contact window at any hour
        },
        "product": "credit_line",
        "amount_due": {"amount_minor": 5_000, "currency": "CNY"},
        "due_date": "2026-11-20",
    }
    started = await http.put(f"{api_url}/v1/accounts/DEV-1/overdue", json=body, headers=auth)
    assert started.status_code == 201, started.text
    for _ in range(100):
        ledger = await http.get(f"{api_url}/v1/accounts/DEV-1/contacts", headers=auth)
        sms = [c for c in ledger.json()["contacts"] if c["channel"] == "sms"]
        if sms and sms[0]["status"] == "delivered":  # the fake's signed callback arrived
            assert sms[0]["provider"] == "twilio"
            assert sms[0]["provider_id"].startswith("SM")
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"no delivered SMS in the ledger: {ledger.text}")


async def test_dev_stack_starts_stops_cleanly_and_keeps_its_data(
    dev_env: dict[str, str], tmp_path: Path
) -> None:
    temporal_address = f"127.0.0.1:{dev_env['OVERDUE_TEMPORAL_PORT']}"
    ui_url = f"http://127.0.0.1:{dev_env['OVERDUE_TEMPORAL_UI_PORT']}"
    sqlite_file = tmp_path / "state" / "temporal.sqlite"
    expected_attributes = {key.name for key in ALL}
    # SMS through the fake Twilio, on a policy whose first SMS is due a second after the start.
    dev_env |= {
        "OVERDUE_DEV_FAKE_TWILIO": "1",
        "OVERDUE_POLICY_FILE": str(ROOT / "tests" / "policies" / "fast.yaml"),
    }

    async with overdue_dev(dev_env, tmp_path) as first:
        ready_after = await first.wait_for(READY_BANNER, 0)
        print(f"`overdue dev` ready after {ready_after:.1f} s (fresh state)")
        assert ready_after < 60, first.output
        api_url = f"http://127.0.0.1:{dev_env['OVERDUE_API_PORT']}"
        key = (tmp_path / "state" / "dev-api-key").read_text().strip()
        assert first.banner_value("API key").startswith(key)
        async with httpx.AsyncClient() as http:
            assert (await http.get(ui_url)).status_code == 200
            accounts = f"{api_url}/v1/accounts"
            assert (await http.get(accounts)).status_code == 401
            authorized = await http.get(accounts, headers={"Authorization": f"Bearer {key}"})
            assert authorized.status_code == 200, authorized.text
            fake_url = f"http://127.0.0.1:{dev_env['OVERDUE_FAKE_TWILIO_PORT']}"
            assert first.banner_value("Fake Twilio").startswith(fake_url)
            await sms_is_delivered_through_the_fake(http, api_url, key)
            # Its control API lists every SMS (names): only with the token the stack keeps.
            fake_token = (tmp_path / "state" / "fake-twilio-token").read_text().strip()
            assert (await http.get(f"{fake_url}/_fake/messages")).status_code == 401
            listed = await http.get(
                f"{fake_url}/_fake/messages", headers={"Authorization": f"Bearer {fake_token}"}
            )
            assert listed.status_code == 200 and listed.json(), listed.text
        assert expected_attributes <= await registered_search_attributes(temporal_address)

        database_url = first.banner_value("Postgres")
        connection = await asyncpg.connect(database_url)
        try:
            assert await connection.fetchval("SELECT count(*) FROM alembic_version") == 1
            await connection.execute("CREATE TABLE devstack_probe (note text)")
            await connection.execute("INSERT INTO devstack_probe VALUES ('kept')")
        finally:
            await connection.close()
        # A workflow no worker polls for: it just sits in Temporal's SQLite file.
        client = await Client.connect(temporal_address)
        await client.start_workflow(
            "DevstackProbe", id=PROBE_WORKFLOW_ID, task_queue="devstack-probe"
        )
        sqlite_inode = sqlite_file.stat().st_ino
        await stop_with_ctrl_c(first)
    assert "[dev]      stopped" in first.lines[-1], first.output

    async with overdue_dev(dev_env, tmp_path) as second:
        ready_after = await second.wait_for(READY_BANNER, 0)
        print(f"`overdue dev` ready after {ready_after:.1f} s (existing state)")
        assert "temporal.sqlite (reused)" in second.output
        assert "postgres (reused)" in second.output
        assert sqlite_file.stat().st_ino == sqlite_inode
        assert second.banner_value("Postgres") == database_url
        assert second.banner_value("API key").startswith(key)  # the exported key still works

        connection = await asyncpg.connect(database_url)
        try:
            assert await connection.fetchval("SELECT note FROM devstack_probe") == "kept"
        finally:
            await connection.close()
        client = await Client.connect(temporal_address)
        probe = client.get_workflow_handle(PROBE_WORKFLOW_ID)
        assert (await probe.describe()).status == WorkflowExecutionStatus.RUNNING
        await probe.terminate("test over")
        assert expected_attributes <= await registered_search_attributes(temporal_address)
        await stop_with_ctrl_c(second)


async def test_a_taken_port_fails_fast_naming_the_setting(
    dev_env: dict[str, str], tmp_path: Path
) -> None:
    api_port = int(dev_env["OVERDUE_API_PORT"])
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", api_port)
    async with server:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "workers.cli.main", "dev"),
            env=dev_env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    text = output.decode()
    assert process.returncode == 2, text
    assert f"port {api_port} (API)" in text
    assert "OVERDUE_API_PORT" in text
    assert not (tmp_path / "state").exists()  # nothing was started
