"""`overdue dev` (`make run`): the whole stack in one terminal.

Starts, in order: embedded Postgres (unless DATABASE_URL is set) and its migrations, the
Temporal dev server (SQLite file in the state dir, search attributes registered), the worker
and the API. Every line of output is prefixed with its source. Ctrl-C or SIGTERM stops
everything in reverse order. A child that dies (Temporal, the worker, the API, the fake
Twilio, the embedded Postgres) is started again with backoff, and the log says so
(`workers.devstack.supervision`); one that keeps dying right after each start stops the whole
stack with exit code 1. Whatever runs at exit is stopped, restarted ones included. An
external Postgres (DATABASE_URL) is not ours to restart.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import psutil

from overdue.settings import Settings
from workers.devstack.console import Console, console_logging
from workers.devstack.fake_alibaba import FAKE_ALIBABA_ARGV, fake_alibaba_lines, use_fake_alibaba
from workers.devstack.local_postgres import LocalPostgres, start_local_postgres_async
from workers.devstack.local_temporal import TemporalDevServer, TemporalStartError
from workers.devstack.preflight import (
    DEV_API_KEY_FILE,
    FAKE_TWILIO_TOKEN_FILE,
    StartupError,
    check_ports,
    child_environment,
    dev_api_key,
    fake_twilio_token,
    state_dir_lock,
)
from workers.devstack.processes import ChildProcess, describe_exit
from workers.devstack.supervision import Postmaster, Slot, Supervisable, supervise

WORKER_ARGV = (sys.executable, "-m", "workers.cli.main", "worker")
API_ARGV = (sys.executable, "-m", "workers.cli.main", "api")

READY_WITHIN_SECONDS = 60.0
STOP_GRACE_SECONDS = 10.0
READY_BANNER = "overdue dev stack is ready"

FAKE_TWILIO_ARGV = (sys.executable, "-m", "workers.cli.main", "fake-twilio")
# Credentials the dev stack's fake accepts; shaped like Twilio's, worthless anywhere else.
DEV_TWILIO = {
    "OVERDUE_SMS_SENDER": "twilio",
    "OVERDUE_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "OVERDUE_TWILIO_AUTH_TOKEN": "dev-fake-twilio-token",
    "OVERDUE_TWILIO_FROM": "+15005550006",
}


class _StopRequested(Exception):
    """Ctrl-C or SIGTERM arrived while starting up."""


def run_dev_stack(settings: Settings) -> int:
    """Run the stack until Ctrl-C/SIGTERM (exit 0) or until a child keeps dying (exit 1)."""
    console = Console()
    problem = check_ports(settings)
    if problem is not None:
        console.line("dev", f"error: {problem}")
        return 2
    with console_logging(console, settings.log_level):
        return asyncio.run(DevStack(settings, console).run())


class DevStack:
    """One run of the stack: start in order, supervise, stop in reverse order."""

    def __init__(self, settings: Settings, console: Console) -> None:
        self._settings = settings
        self._console = console
        # From process start, imports included: that is what the person at the terminal waits.
        self._started_at: float = psutil.Process().create_time()
        self._stop_requested = asyncio.Event()
        self._postgres_shown = "DATABASE_URL (external)"  # never echo its password
        self._api_key = ""
        self._fake_twilio_url = ""
        self._postgres: LocalPostgres | None = None  # the embedded server running now

    async def run(self) -> int:
        self._install_signal_handlers()
        async with AsyncExitStack() as stack:
            try:
                slots = await self._start(stack)
            except _StopRequested:
                return 0
            except (StartupError, TemporalStartError) as err:
                self._say(f"error: {err}")
                return 1
            except Exception:
                logging.getLogger(__name__).exception("start-up failed")
                return 1
            return await self._supervise(slots)

    # --- start-up -----------------------------------------------------------------------------

    async def _start(self, stack: AsyncExitStack) -> list[Slot]:
        state_dir = self._settings.state_dir
        state_dir.mkdir(parents=True, exist_ok=True)
        stack.enter_context(state_dir_lock(state_dir))
        stack.callback(self._say, "stopped")
        database_url = await self._start_postgres(stack)
        slots = [self._postgres_slot()] if self._postgres is not None else []
        self._raise_if_stopping()
        temporal = self._temporal_server()
        stack.push_async_callback(self._stop_temporal, temporal)
        # Side by side: migrations (mostly imports) and the server start take a few s each.
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._migrate(database_url))
                group.create_task(self._start_temporal(temporal))
        except ExceptionGroup as errors:
            raise errors.exceptions[0] from None
        self._raise_if_stopping()
        env = child_environment(self._settings, database_url)
        env["OVERDUE_DEV_API_KEY"] = self._api_key = dev_api_key(self._settings)
        extra: list[Slot] = []
        if self._settings.dev_fake_twilio:
            extra.append(await self._start_fake_twilio(stack, env))
        if self._settings.dev_fake_alibaba:  # CN SMS: routed to it (workers.devstack.fake_alibaba)
            use_fake_alibaba(self._settings, env)
            extra.append(await self._start_child(stack, "alibaba", FAKE_ALIBABA_ARGV, env))
        worker = await self._start_child(stack, "worker", WORKER_ARGV, env)
        api = await self._start_child(stack, "api", API_ARGV, env)
        return [*slots, self._temporal_slot(temporal), *extra, worker, api]

    def _postgres_slot(self) -> Slot:
        assert self._postgres is not None

        async def start() -> Supervisable:
            assert self._postgres is not None
            await self._postgres.stop_async()  # forgets the dead server's handle
            data_dir = self._settings.postgres_data_dir
            self._postgres = await start_local_postgres_async(
                data_dir, self._settings.database_name
            )
            return Postmaster(self._postgres)

        return Slot("postgres", start, Postmaster(self._postgres))

    def _temporal_slot(self, server: TemporalDevServer) -> Slot:
        async def start() -> ChildProcess:
            await server.start()  # same SQLite file: its workflows and timers carry on
            self._say("search attributes registered", "temporal")
            return server.child

        return Slot("temporal", start, server.child)

    async def _start_fake_twilio(self, stack: AsyncExitStack, env: dict[str, str]) -> Slot:
        """The fake, and the settings that send the worker's SMS through it; status callbacks
        go to this stack's API, whose webhooks check the fake's signatures."""
        # A fixed port and a kept token: tools pointed at the fake survive a restart.
        self._fake_twilio_url = f"http://127.0.0.1:{self._settings.fake_twilio_port}"
        env.update(DEV_TWILIO)
        env["OVERDUE_TWILIO_API_BASE"] = self._fake_twilio_url
        env["OVERDUE_FAKE_TWILIO_TOKEN"] = fake_twilio_token(self._settings)
        env.setdefault("OVERDUE_PUBLIC_BASE_URL", self._settings.api_url)
        return await self._start_child(stack, "twilio", FAKE_TWILIO_ARGV, env)

    async def _start_postgres(self, stack: AsyncExitStack) -> str:
        if self._settings.database_url:
            self._say("using DATABASE_URL; the embedded server is not started", "postgres")
            return self._settings.database_url
        data_dir = self._settings.postgres_data_dir
        reused = (data_dir / "PG_VERSION").exists()
        postgres = await start_local_postgres_async(data_dir, self._settings.database_name)
        self._postgres = postgres
        # The server running at exit, which may be a restarted one.
        stack.push_async_callback(self._stop_postgres)
        self._postgres_shown = postgres.url
        self._say(f"running (pid {postgres.pid}), data {_state(data_dir, reused)}", "postgres")
        return postgres.url

    async def _migrate(self, database_url: str) -> None:
        # Imported here: alembic logs at import time, and our log routing is in place by now.
        from overdue.migrate import upgrade_async

        await upgrade_async(database_url)
        self._say("migrations applied", "postgres")

    def _temporal_server(self) -> TemporalDevServer:
        settings = self._settings
        return TemporalDevServer(
            host=settings.temporal_host,
            port=settings.temporal_port,
            ui_port=settings.temporal_ui_port,
            namespace=settings.temporal_namespace,
            db_file=settings.temporal_db_file,
            on_output=self._console.sink("temporal"),
        )

    async def _start_temporal(self, server: TemporalDevServer) -> None:
        assert server.db_file is not None
        reused = server.db_file.exists()
        await server.start()
        self._say(f"running (pid {server.pid}), state {_state(server.db_file, reused)}", "temporal")
        self._say("search attributes registered", "temporal")

    async def _start_child(
        self, stack: AsyncExitStack, name: str, argv: tuple[str, ...], env: dict[str, str]
    ) -> Slot:
        async def start() -> ChildProcess:
            return await ChildProcess.spawn(name, argv, on_line=self._console.sink(name), env=env)

        slot = Slot(name, start, await start())
        # The slot, not the first process: a restarted child is the one to stop.
        stack.push_async_callback(self._stop_slot, slot)
        self._say(f"started {name} (pid {slot.child.pid})")
        return slot

    def _raise_if_stopping(self) -> None:
        if self._stop_requested.is_set():
            raise _StopRequested

    # --- running ------------------------------------------------------------------------------

    async def _supervise(self, slots: list[Slot]) -> int:
        """Keep the children running until a stop request; announce readiness meanwhile."""
        ready = asyncio.create_task(self._announce_when_ready())
        try:
            return await supervise(slots, self._stop_requested, self._say)
        finally:
            ready.cancel()

    async def _announce_when_ready(self) -> None:
        settings = self._settings
        api_url = _local_url(settings.api_host, settings.api_port)
        ui_url = _local_url(settings.temporal_host, settings.temporal_ui_port)
        deadline = time.monotonic() + READY_WITHIN_SECONDS
        async with httpx.AsyncClient(timeout=2.0) as http:
            while time.monotonic() < deadline:
                if await _api_is_up(http, api_url) and await _answers(http, ui_url):
                    self._print_banner(api_url, ui_url)
                    return
                await asyncio.sleep(0.2)
        self._say(f"not ready after {READY_WITHIN_SECONDS:g} s: see the output above")

    def _print_banner(self, api_url: str, ui_url: str) -> None:
        settings = self._settings
        elapsed = time.time() - self._started_at
        namespace = settings.temporal_namespace
        key_file = _shown_path(settings.state_dir / DEV_API_KEY_FILE)
        lines = [
            f"{READY_BANNER} ({elapsed:.1f} s)",
            f"  API          {api_url}",
            f"  API docs     {api_url}/docs",
            f"  Temporal UI  {ui_url}/namespaces/{namespace}/workflows",
            f"  Temporal     {settings.temporal_address} (namespace {namespace})",
            f"  Postgres     {self._postgres_shown}",
            *self._fake_twilio_lines(),
            *fake_alibaba_lines(settings, _shown_path(settings.state_dir)),
            f"  State        {settings.state_dir.resolve()}",
            f"  API key      {self._api_key}  (dev only)",
            f'  Try          curl -s -H "Authorization: Bearer $(cat {key_file})" '
            f"{api_url}/v1/accounts",
            "  Ctrl-C stops everything.",
        ]
        rule = "-" * 64
        for text in [rule, *lines, rule]:
            self._say(text)

    def _fake_twilio_lines(self) -> list[str]:
        if not self._fake_twilio_url:
            return []
        token_file = _shown_path(self._settings.state_dir / FAKE_TWILIO_TOKEN_FILE)
        return [
            f"  Fake Twilio  {self._fake_twilio_url}  (control token in {token_file})",
            f'  SMS sent     curl -s -H "Authorization: Bearer $(cat {token_file})" '
            f"{self._fake_twilio_url}/_fake/messages",
        ]

    # --- stopping -----------------------------------------------------------------------------

    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._request_stop, sig)

    def _request_stop(self, sig: signal.Signals) -> None:
        if self._stop_requested.is_set():
            self._say(f"{sig.name}: already stopping (each process has {STOP_GRACE_SECONDS:g} s)")
            return
        self._say(f"{sig.name}: stopping api, worker, temporal, postgres")
        self._stop_requested.set()

    async def _stop_slot(self, slot: Slot) -> None:
        assert isinstance(slot.child, ChildProcess)
        returncode = await slot.child.stop(STOP_GRACE_SECONDS)
        self._say(f"{slot.name} stopped ({describe_exit(returncode)})")

    async def _stop_temporal(self, server: TemporalDevServer) -> None:
        await server.stop(STOP_GRACE_SECONDS)
        self._say("stopped", "temporal")

    async def _stop_postgres(self) -> None:
        if self._postgres is not None:
            await self._postgres.stop_async()
        self._say("stopped", "postgres")

    def _say(self, text: str, name: str = "dev") -> None:
        self._console.line(name, text)


async def _api_is_up(http: httpx.AsyncClient, api_url: str) -> bool:
    # 404: the API answers but has no /healthz route (yet); that still means it is serving.
    try:
        response = await http.get(f"{api_url}/healthz")
    except httpx.HTTPError:
        return False
    return response.status_code in (200, 404)


async def _answers(http: httpx.AsyncClient, url: str) -> bool:
    try:
        await http.get(url)
    except httpx.HTTPError:
        return False
    return True


def _shown_path(path: Path) -> str:
    """Relative to the working directory when inside it: shorter to copy."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path.resolve())


def _local_url(host: str, port: int) -> str:
    """A URL this machine can open, also when the server binds all interfaces."""
    if host in {"0.0.0.0", "::", ""}:  # noqa: S104 - only to build a client URL
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def _state(path: Path, reused: bool) -> str:
    return f"{path} ({'reused' if reused else 'new'})"
